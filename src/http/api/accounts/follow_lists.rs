//! `GET /api/v1/accounts/{id}/followers` and `/following`.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;

use crate::error::Result;
use crate::http::api::{MaybeToken, PageParams, Params};
use crate::service::types::Listing;
use crate::state::AppState;

use super::{account, listing};

pub(super) async fn followers(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:accounts")?;
    let actor = account(&state, &raw).await?;
    listing(&state, &uri, viewer, Listing::Followers, actor.id, &page).await
}

pub(super) async fn following(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:accounts")?;
    let actor = account(&state, &raw).await?;
    listing(&state, &uri, viewer, Listing::Following, actor.id, &page).await
}
