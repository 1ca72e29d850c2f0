//! `/api/v1/conversations` (<https://docs.joinmastodon.org/methods/conversations/>).

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::api::accounts::bounds;
use crate::http::api::{PageParams, Params, Token, id, paged};
use crate::mastodon::{Presenter, entities as e};
use crate::service::conversations::{self, DEFAULT_LIMIT, MAX_LIMIT};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/conversations", get(index))
        .route("/api/v1/conversations/{id}", delete(remove))
        .route("/api/v1/conversations/{id}/read", post(read))
        .route("/api/v1/conversations/{id}/unread", post(unread))
}

/// Paged by each conversation's newest post, as Mastodon pages them.
async fn index(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:statuses")?;
    let rows = conversations::list(&state, viewer, page.page(DEFAULT_LIMIT, MAX_LIMIT)).await?;
    let bounds = bounds(&rows, |c| c.last_post_id);
    let items = Presenter::new(&state, Some(viewer))
        .conversations(&rows)
        .await?;
    Ok(paged(&state, &uri, items, bounds))
}

async fn remove(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:conversations")?;
    conversations::remove(&state, viewer, id(&raw)?).await?;
    Ok(Json(json!({})))
}

async fn read(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Conversation>> {
    let (_, viewer) = token.user("write:conversations")?;
    let row = conversations::mark_read(&state, viewer, id(&raw)?).await?;
    let mut items = Presenter::new(&state, Some(viewer))
        .conversations(std::slice::from_ref(&row))
        .await?;
    items.pop().map(Json).ok_or(Error::NotFound)
}

/// `POST /api/v1/conversations/:id/unread` (Mastodon 4.5).
async fn unread(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Conversation>> {
    let (_, viewer) = token.user("write:conversations")?;
    let row = conversations::mark_unread(&state, viewer, id(&raw)?).await?;
    let mut items = Presenter::new(&state, Some(viewer))
        .conversations(std::slice::from_ref(&row))
        .await?;
    items.pop().map(Json).ok_or(Error::NotFound)
}
