//! `/api/v1/polls/{id}` and `/votes` (<https://docs.joinmastodon.org/methods/polls/>).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::http::api::statuses::visible_post;
use crate::http::api::{MaybeToken, Params, Token, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::polls;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/polls/{id}", get(poll))
        .route("/api/v1/polls/{id}/votes", post(vote))
}

async fn poll(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<e::Poll>> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    let status = Presenter::new(&state, viewer).status(&post).await?;
    status.poll.map(Json).ok_or(Error::NotFound)
}

#[derive(Deserialize)]
struct VoteParams {
    #[serde(default, deserialize_with = "lenient::list")]
    choices: Vec<String>,
}

async fn vote(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<VoteParams>,
) -> Result<Json<e::Poll>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    let choices: Vec<usize> = p
        .choices
        .iter()
        .map(|c| {
            c.parse()
                .map_err(|_| Error::Validation(format!("`{c}` is not a choice")))
        })
        .collect::<Result<_>>()?;
    polls::vote(&state, viewer, &post, &choices).await?;
    let status = Presenter::new(&state, Some(viewer)).status(&post).await?;
    status.poll.map(Json).ok_or(Error::NotFound)
}
