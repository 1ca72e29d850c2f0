//! `/api/v1/tags/{name}` (<https://docs.joinmastodon.org/methods/tags/>):
//! a hashtag, following it (its public posts enter the home timeline) and
//! featuring it on one's profile; and `GET /api/v1/followed_tags`
//! (<https://docs.joinmastodon.org/methods/followed_tags/>).

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::error::Result;
use crate::http::api::{MaybeToken, PageParams, Params, Token, paged};
use crate::mastodon::entities as e;
use crate::service::tags::{self, TagView};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tags/{name}", get(show))
        .route("/api/v1/tags/{name}/follow", post(follow))
        .route("/api/v1/tags/{name}/unfollow", post(unfollow))
        .route("/api/v1/tags/{name}/feature", post(feature))
        .route("/api/v1/tags/{name}/unfeature", post(unfeature))
        .route("/api/v1/followed_tags", get(followed))
}

/// Mastodon's Tag entity.
pub fn entity(state: &AppState, view: &TagView) -> e::Tag {
    e::Tag {
        id: view.id.map(|id| id.to_string()).unwrap_or_default(),
        name: view.name.clone(),
        url: state.urls.tag(&view.tag),
        history: view
            .history
            .iter()
            .map(|d| e::TagHistory {
                day: d.day.timestamp().to_string(),
                uses: d.uses.to_string(),
                accounts: d.accounts.to_string(),
            })
            .collect(),
        following: view.following,
        featuring: view.featuring,
    }
}

/// Public; a signed-in viewer also sees whether it follows and features
/// the hashtag.
async fn show(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(name): Path<String>,
) -> Result<Json<e::Tag>> {
    let viewer = token.0.as_ref().and_then(|t| t.account.as_ref());
    let view = tags::show(&state, viewer.map(|(_, a)| a), &name).await?;
    Ok(Json(entity(&state, &view)))
}

async fn follow(
    State(state): State<AppState>,
    token: Token,
    Path(name): Path<String>,
) -> Result<Json<e::Tag>> {
    let (_, viewer) = token.user("write:follows")?;
    let view = tags::follow(&state, viewer, &name).await?;
    Ok(Json(entity(&state, &view)))
}

async fn unfollow(
    State(state): State<AppState>,
    token: Token,
    Path(name): Path<String>,
) -> Result<Json<e::Tag>> {
    let (_, viewer) = token.user("write:follows")?;
    let view = tags::unfollow(&state, viewer, &name).await?;
    Ok(Json(entity(&state, &view)))
}

async fn feature(
    State(state): State<AppState>,
    token: Token,
    Path(name): Path<String>,
) -> Result<Json<e::Tag>> {
    let (_, viewer) = token.user("write:accounts")?;
    // A path that is no hashtag's name is "not found" before anything.
    tags::show(&state, Some(viewer), &name).await?;
    tags::feature(&state, viewer, &name).await?;
    let view = tags::show(&state, Some(viewer), &name).await?;
    Ok(Json(entity(&state, &view)))
}

async fn unfeature(
    State(state): State<AppState>,
    token: Token,
    Path(name): Path<String>,
) -> Result<Json<e::Tag>> {
    let (_, viewer) = token.user("write:accounts")?;
    tags::unfeature(&state, viewer, &name).await?;
    let view = tags::show(&state, Some(viewer), &name).await?;
    Ok(Json(entity(&state, &view)))
}

/// Newest follow first, 100 by default and at most (Mastodon's
/// `TAGS_LIMIT`), paged by the follows' ids in Link headers.
async fn followed(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:follows")?;
    let (views, bounds) = tags::followed(&state, viewer, page.page(100, 100)).await?;
    let entities: Vec<e::Tag> = views.iter().map(|v| entity(&state, v)).collect();
    Ok(paged(&state, &uri, entities, bounds))
}
