//! `GET /api/v1/endorsements`: the accounts the user features on its
//! profile (<https://docs.joinmastodon.org/methods/endorsements/>).

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
    Router::new().route("/api/v1/endorsements", get(endorsements))
}

async fn endorsements(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:accounts")?;
    listing(
        &state,
        &uri,
        Some(viewer),
        Listing::Endorsements,
        viewer.id,
        &page,
    )
    .await
}
