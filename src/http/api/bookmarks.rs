//! `GET /api/v1/bookmarks` and `/api/v1/favourites`: the posts a user saved or
//! liked (<https://docs.joinmastodon.org/methods/bookmarks/>,
//! <https://docs.joinmastodon.org/methods/favourites/>).

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::routing::get;

use crate::error::Result;
use crate::http::api::{PageParams, Params, Token, paged};
use crate::mastodon::Presenter;
use crate::service::types::Actor;
use crate::service::{compose, timelines};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/bookmarks", get(bookmarks))
        .route("/api/v1/favourites", get(favourites))
}

async fn marked(
    state: &AppState,
    uri: &axum::http::Uri,
    viewer: &Actor,
    favourites: bool,
    page: &PageParams,
) -> Result<Response> {
    let (visible, bounds, _) = compose::marked(
        state,
        viewer,
        favourites,
        page.page(timelines::DEFAULT_LIMIT, timelines::MAX_LIMIT),
    )
    .await?;
    let statuses = Presenter::new(state, Some(viewer))
        .statuses(&visible)
        .await?;
    Ok(paged(state, uri, statuses, bounds))
}

async fn bookmarks(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:bookmarks")?;
    marked(&state, &uri, viewer, false, &page).await
}

async fn favourites(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:favourites")?;
    marked(&state, &uri, viewer, true, &page).await
}
