//! `/api/v1/statuses/...` (<https://docs.joinmastodon.org/methods/statuses/>), one
//! file per part of the path: `compose` (posting, editing, deleting), `show`
//! (one or several posts, history, source), `context`, `actions` (liking,
//! reposting, bookmarking, pinning, hiding replies, muting the thread), `listed_by`
//! (who liked or reposted), `quotes` (a post's quotes, revoking one, who may
//! quote), `translate`.

use axum::routing::{get, post};
use axum::{Json, Router};

use crate::error::Result;
use crate::http::api::id;
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::posts;
use crate::service::types::{Actor, Post};
use crate::state::AppState;

mod actions;
mod compose;
mod context;
mod listed_by;
mod quotes;
mod show;
mod translate;

use actions::{
    bookmark, favourite, hide_reply, mute, pin, reblog, unbookmark, unfavourite, unhide_reply,
    unmute, unpin, unreblog,
};
use compose::{create, delete, edit};
use context::context;
use listed_by::{favourited_by, reblogged_by};
use show::{history, many, show, source};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/statuses", post(create).get(many))
        .route("/api/v1/statuses/{id}", get(show).delete(delete).put(edit))
        .route("/api/v1/statuses/{id}/context", get(context))
        .route("/api/v1/statuses/{id}/history", get(history))
        .route("/api/v1/statuses/{id}/source", get(source))
        .route(
            "/api/v1/statuses/{id}/translate",
            post(translate::translate),
        )
        .route("/api/v1/statuses/{id}/favourite", post(favourite))
        .route("/api/v1/statuses/{id}/unfavourite", post(unfavourite))
        .route("/api/v1/statuses/{id}/reblog", post(reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(unreblog))
        .route("/api/v1/statuses/{id}/bookmark", post(bookmark))
        .route("/api/v1/statuses/{id}/unbookmark", post(unbookmark))
        .route("/api/v1/statuses/{id}/hide_reply", post(hide_reply))
        .route("/api/v1/statuses/{id}/unhide_reply", post(unhide_reply))
        .route("/api/v1/statuses/{id}/pin", post(pin))
        .route("/api/v1/statuses/{id}/mute", post(mute))
        .route("/api/v1/statuses/{id}/unmute", post(unmute))
        .route("/api/v1/statuses/{id}/unpin", post(unpin))
        .route("/api/v1/statuses/{id}/favourited_by", get(favourited_by))
        .route("/api/v1/statuses/{id}/reblogged_by", get(reblogged_by))
        .route("/api/v1/statuses/{id}/quotes", get(quotes::list))
        .route(
            "/api/v1/statuses/{id}/quotes/{quoting_status_id}/revoke",
            post(quotes::revoke),
        )
        .route(
            "/api/v1/statuses/{id}/interaction_policy",
            axum::routing::put(quotes::interaction_policy),
        )
}

/// A live post the viewer may see; anything else is "not found", as
/// Mastodon answers (so that private posts do not betray themselves).
pub async fn visible_post(state: &AppState, viewer: Option<&Actor>, raw: &str) -> Result<Post> {
    posts::visible(state, viewer, id(raw)?).await
}

pub(super) async fn present(
    state: &AppState,
    viewer: &Actor,
    post: &Post,
) -> Result<Json<e::Status>> {
    let fresh = posts::by_id(state, post.id)
        .await?
        .unwrap_or_else(|| post.clone());
    Ok(Json(
        Presenter::new(state, Some(viewer)).status(&fresh).await?,
    ))
}
