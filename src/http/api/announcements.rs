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
use crate::mastodon::{announcement, entities as e};
use crate::service::announcements;
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
    Ok(Json(shown.iter().map(announcement::entity).collect()))
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
