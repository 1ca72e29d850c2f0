//! `/api/v1/announcements` (<https://docs.joinmastodon.org/methods/announcements/>):
//! the instance's published announcements, dismissing them, reacting to
//! them with emoji.

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Result;
use crate::http::api::params::lenient;
use crate::http::api::{Params, Token, id};
use crate::mastodon::entities as e;
use crate::service::announcements::{self, Shown};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/announcements", get(index))
        .route("/api/v1/announcements/{id}/dismiss", post(dismiss))
        .route(
            "/api/v1/announcements/{id}/reactions/{name}",
            put(react).delete(unreact),
        )
}

fn entity(s: &Shown) -> e::Announcement {
    let a = &s.announcement;
    e::Announcement {
        id: a.id.to_string(),
        content: s.content.clone(),
        starts_at: a.starts_at.map(e::time),
        ends_at: a.ends_at.map(e::time),
        all_day: a.all_day,
        published_at: a.published_at.map(e::time),
        updated_at: e::time(a.updated_at),
        read: s.read,
        mentions: s
            .mentions
            .iter()
            .map(|m| e::Mention {
                id: m.id.to_string(),
                username: m.username.clone(),
                url: m.url.clone(),
                acct: m.username.clone(),
            })
            .collect(),
        statuses: Vec::new(),
        tags: s
            .tags
            .iter()
            .map(|(name, url)| json!({"name": name, "url": url}))
            .collect(),
        emojis: Vec::new(),
        reactions: s
            .reactions
            .iter()
            .map(|r| e::Reaction {
                name: r.name.clone(),
                count: r.count,
                me: r.me,
            })
            .collect(),
    }
}

#[derive(Deserialize, Default)]
struct IndexParams {
    #[serde(default, deserialize_with = "lenient::bool")]
    with_dismissed: bool,
}

async fn index(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<IndexParams>,
) -> Result<Json<Vec<e::Announcement>>> {
    let (_, viewer) = token.user("read")?;
    let shown = announcements::for_reader(&state, viewer, p.with_dismissed).await?;
    Ok(Json(shown.iter().map(entity).collect()))
}

async fn dismiss(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:accounts")?;
    announcements::dismiss(&state, viewer, id(&raw)?).await?;
    Ok(Json(json!({})))
}

async fn react(
    State(state): State<AppState>,
    token: Token,
    Path((raw, name)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:favourites")?;
    announcements::react(&state, viewer, id(&raw)?, &name).await?;
    Ok(Json(json!({})))
}

async fn unreact(
    State(state): State<AppState>,
    token: Token,
    Path((raw, name)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:favourites")?;
    announcements::unreact(&state, viewer, id(&raw)?, &name).await?;
    Ok(Json(json!({})))
}
