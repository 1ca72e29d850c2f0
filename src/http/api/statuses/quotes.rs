//! The quotes API of Mastodon 4.5: `GET /api/v1/statuses/{id}/quotes` (the
//! approved quotes of a post), `POST
//! /api/v1/statuses/{id}/quotes/{quoting_status_id}/revoke` (its author
//! takes back an approval) and `PUT /api/v1/statuses/{id}/interaction_policy`
//! (who may quote it).

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use serde::Deserialize;

use crate::error::Result;
use crate::http::api::{MaybeToken, PageParams, Params, Token, id, paged};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::{posts, quotes, timelines};
use crate::state::AppState;

use super::present;

pub(super) async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:statuses")?;
    let (shown, bounds) = quotes::of_post(
        &state,
        viewer,
        id(&raw)?,
        page.page(timelines::DEFAULT_LIMIT, timelines::MAX_LIMIT),
    )
    .await?;
    let statuses = Presenter::new(&state, viewer).statuses(&shown).await?;
    Ok(paged(&state, &uri, statuses, bounds))
}

pub(super) async fn revoke(
    State(state): State<AppState>,
    token: Token,
    Path((raw, quoting)): Path<(String, String)>,
) -> Result<Json<e::Status>> {
    let (_, me) = token.user("write:statuses")?;
    let quoting = quotes::revoke(&state, me, id(&raw)?, id(&quoting)?).await?;
    present(&state, me, &quoting).await
}

#[derive(Deserialize, Default)]
pub(super) struct PolicyParams {
    #[serde(default)]
    quote_approval_policy: Option<String>,
}

pub(super) async fn interaction_policy(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(params): Params<PolicyParams>,
) -> Result<Json<e::Status>> {
    let (_, me) = token.user("write:statuses")?;
    let post = posts::visible(&state, Some(me), id(&raw)?).await?;
    let post =
        quotes::set_policy(&state, me, &post, params.quote_approval_policy.as_deref()).await?;
    present(&state, me, &post).await
}
