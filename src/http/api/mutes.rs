//! `GET /api/v1/mutes`: the accounts a user mutes
//! (<https://docs.joinmastodon.org/methods/mutes/>).

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::routing::get;

use crate::error::Result;
use crate::http::api::accounts::listing;
use crate::http::api::{PageParams, Params, Token};
use crate::service::types::Listing;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/mutes", get(muted))
}

async fn muted(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:mutes")?;
    listing(&state, &uri, Some(viewer), Listing::Mutes, viewer.id, &page).await
}
