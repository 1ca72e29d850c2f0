//! `/api/v1/featured_tags` (<https://docs.joinmastodon.org/methods/featured_tags/>):
//! hashtags featured on one's profile, and
//! `GET /api/v1/accounts/{id}/featured_tags`.

use axum::extract::{Path, State};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Result;
use crate::http::api::accounts::profile_account;
use crate::http::api::tags::entity;
use crate::http::api::{MaybeToken, Params, Token, id};
use crate::mastodon::entities as e;
use crate::service::tags;
use crate::service::types::FeaturedTag;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/featured_tags", get(index).post(create))
        .route("/api/v1/featured_tags/suggestions", get(suggestions))
        .route("/api/v1/featured_tags/{id}", delete(destroy))
        .route("/api/v1/accounts/{id}/featured_tags", get(of_account))
}

/// Mastodon's FeaturedTag entity.
fn featured(state: &AppState, f: &FeaturedTag) -> e::FeaturedTag {
    e::FeaturedTag {
        id: f.id.to_string(),
        name: f.name.clone(),
        url: state.urls.tag(&f.tag),
        statuses_count: f.statuses_count.to_string(),
        last_status_at: f
            .last_status_at
            .map(|t| t.date_naive().format("%Y-%m-%d").to_string()),
    }
}

async fn index(State(state): State<AppState>, token: Token) -> Result<Json<Vec<e::FeaturedTag>>> {
    let (_, viewer) = token.user("read:accounts")?;
    let list = tags::featured(&state, viewer).await?;
    Ok(Json(list.iter().map(|f| featured(&state, f)).collect()))
}

#[derive(Deserialize, Default)]
struct Create {
    #[serde(default)]
    name: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<Create>,
) -> Result<Json<e::FeaturedTag>> {
    let (_, viewer) = token.user("write:accounts")?;
    let name = p.name.unwrap_or_default();
    let created = tags::feature(&state, viewer, &name).await?;
    Ok(Json(featured(&state, &created)))
}

async fn destroy(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:accounts")?;
    tags::delete_featured(&state, viewer, id(&raw)?).await?;
    Ok(Json(json!({})))
}

async fn suggestions(State(state): State<AppState>, token: Token) -> Result<Json<Vec<e::Tag>>> {
    let (_, viewer) = token.user("read:accounts")?;
    let views = tags::suggestions(&state, viewer).await?;
    Ok(Json(views.iter().map(|v| entity(&state, v)).collect()))
}

/// Public: the account's featured hashtags, most used first (none for a
/// suspended account, as Mastodon answers).
async fn of_account(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<Vec<e::FeaturedTag>>> {
    let viewer = token.0.as_ref().and_then(|t| t.account.as_ref());
    let account = profile_account(&state, viewer.map(|(_, a)| a), &raw).await?;
    if account.suspended_at.is_some() {
        return Ok(Json(Vec::new()));
    }
    let list = tags::featured(&state, &account).await?;
    Ok(Json(list.iter().map(|f| featured(&state, f)).collect()))
}
