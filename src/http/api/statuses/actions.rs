//! `POST /api/v1/statuses/{id}/...`: (un)favourite, (un)reblog, (un)bookmark,
//! (un)pin, (un)mute (the thread), and Skein's (un)hide_reply; each answers
//! with the post as it then is.

use axum::Json;
use axum::extract::{Path, State};

use crate::error::{Error, Result};
use crate::http::api::Token;
use crate::mastodon::entities as e;
use crate::service::{compose, interactions, mutes, posts};
use crate::state::AppState;

use super::{present, visible_post};

pub(super) async fn favourite(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:favourites")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    interactions::like(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

/// Hides a reply to one of the caller's posts from the thread (as on
/// Threads): others no longer see it in the post's context; its author
/// still does. A Skein extension.
pub(super) async fn hide_reply(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    crate::service::reply_controls::set_hidden(&state, viewer, &post, true).await?;
    present(&state, viewer, &post).await
}

/// Shows a hidden reply in the thread again.
pub(super) async fn unhide_reply(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    crate::service::reply_controls::set_hidden(&state, viewer, &post, false).await?;
    present(&state, viewer, &post).await
}

pub(super) async fn unfavourite(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:favourites")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    interactions::unlike(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

pub(super) async fn reblog(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    let target = match post.reblog_of_id {
        Some(original) => posts::by_id(&state, original)
            .await?
            .ok_or(Error::NotFound)?,
        None => post,
    };
    let repost = interactions::repost(&state, viewer, &target).await?;
    present(&state, viewer, &repost).await
}

pub(super) async fn unreblog(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:statuses")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    interactions::unrepost(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

pub(super) async fn bookmark(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:bookmarks")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    compose::bookmark(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

pub(super) async fn unbookmark(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:bookmarks")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    compose::unbookmark(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

pub(super) async fn pin(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:accounts")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    posts::pin(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

pub(super) async fn unpin(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:accounts")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    posts::unpin(&state, viewer, &post).await?;
    present(&state, viewer, &post).await
}

/// `POST /api/v1/statuses/{id}/mute`: no more notifications from the
/// post's thread.
pub(super) async fn mute(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:mutes")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    mutes::mute_thread(&state, viewer, post.id).await?;
    present(&state, viewer, &post).await
}

pub(super) async fn unmute(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let (_, viewer) = token.user("write:mutes")?;
    let post = visible_post(&state, Some(viewer), &raw).await?;
    mutes::unmute_thread(&state, viewer, post.id).await?;
    present(&state, viewer, &post).await
}
