//! `/api/v1/follow_requests`: the requests waiting, authorizing and rejecting
//! (<https://docs.joinmastodon.org/methods/follow_requests/>).

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::error::Result;
use crate::http::api::accounts::{account, listing, relationship};
use crate::http::api::{PageParams, Params, Token};
use crate::mastodon::entities as e;
use crate::service::follows;
use crate::service::types::Listing;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/follow_requests", get(follow_requests))
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            post(authorize_follow),
        )
        .route("/api/v1/follow_requests/{id}/reject", post(reject_follow))
}

async fn follow_requests(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:follows")?;
    listing(
        &state,
        &uri,
        Some(viewer),
        Listing::FollowRequests,
        viewer.id,
        &page,
    )
    .await
}

async fn authorize_follow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let requester = account(&state, &raw).await?;
    follows::approve(&state, viewer, &requester).await?;
    relationship(&state, viewer, &requester).await
}

async fn reject_follow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let requester = account(&state, &raw).await?;
    follows::reject(&state, viewer, &requester).await?;
    relationship(&state, viewer, &requester).await
}
