//! `GET /api/v1/blocks`: the accounts a user blocks
//! (<https://docs.joinmastodon.org/methods/blocks/>).

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
    Router::new().route("/api/v1/blocks", get(blocked))
}

async fn blocked(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:blocks")?;
    listing(
        &state,
        &uri,
        Some(viewer),
        Listing::Blocks,
        viewer.id,
        &page,
    )
    .await
}
