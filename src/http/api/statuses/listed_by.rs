//! `GET /api/v1/statuses/{id}/favourited_by` and `/reblogged_by`.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;

use crate::error::Result;
use crate::http::api::accounts::bounds;
use crate::http::api::{MaybeToken, PageParams, Params, paged};
use crate::mastodon::Presenter;
use crate::service::accounts;
use crate::service::types::{Actor, Listing};
use crate::state::AppState;

use super::visible_post;

pub(super) async fn listed_by(
    state: &AppState,
    uri: &axum::http::Uri,
    token: &MaybeToken,
    raw: &str,
    listing: Listing,
    page: &PageParams,
) -> Result<Response> {
    let viewer = token.viewer("read:accounts")?;
    let post = visible_post(state, viewer, raw).await?;
    let rows = accounts::listing(state, listing, post.id, page.page(40, 80)).await?;
    let bounds = bounds(&rows, |r| r.cursor);
    let actors: Vec<Actor> = rows.into_iter().map(|r| r.actor).collect();
    let accounts = Presenter::new(state, viewer).accounts(&actors).await?;
    Ok(paged(state, uri, accounts, bounds))
}

pub(super) async fn favourited_by(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    listed_by(&state, &uri, &token, &raw, Listing::FavouritedBy, &page).await
}

pub(super) async fn reblogged_by(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    listed_by(&state, &uri, &token, &raw, Listing::RebloggedBy, &page).await
}
