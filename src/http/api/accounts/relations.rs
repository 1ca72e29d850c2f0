//! `POST /api/v1/accounts/{id}/...`: follow, unfollow, remove_from_followers,
//! block, unblock, mute, unmute; each answers with the relationship as it then
//! is.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::http::api::{Params, Token, params::lenient};
use crate::mastodon::entities as e;
use crate::service::{blocks, follows, mutes};
use crate::state::AppState;

use super::{account, relationship};

/// Mastodon's follow options.
#[derive(Deserialize, Default)]
pub(super) struct FollowParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    notify: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_list")]
    languages: Option<Vec<String>>,
}

/// `POST /api/v1/accounts/{id}/follow`: follows (or asks to), or changes
/// the options of a follow that exists.
pub(super) async fn follow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<FollowParams>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let target = account(&state, &raw).await?;
    follows::follow(&state, viewer, &target).await?;
    let change = follows::OptionsChange {
        reblogs: p.reblogs,
        notify: p.notify,
        languages: p.languages.map(|l| Some(l).filter(|l| !l.is_empty())),
    };
    follows::set_options(&state, viewer, &target, &change).await?;
    relationship(&state, viewer, &target).await
}

pub(super) async fn unfollow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let target = account(&state, &raw).await?;
    follows::unfollow(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

pub(super) async fn remove_from_followers(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:follows")?;
    let target = account(&state, &raw).await?;
    match follows::reject(&state, viewer, &target).await {
        Ok(()) | Err(Error::NotFound) => {}
        Err(other) => return Err(other),
    }
    relationship(&state, viewer, &target).await
}

pub(super) async fn block(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:blocks")?;
    let target = account(&state, &raw).await?;
    blocks::block(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

pub(super) async fn unblock(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:blocks")?;
    let target = account(&state, &raw).await?;
    blocks::unblock(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

#[derive(Deserialize)]
pub(super) struct MuteParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    notifications: Option<bool>,
    /// Seconds; 0 or none: for good.
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    duration: Option<i64>,
}

pub(super) async fn mute(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<MuteParams>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:mutes")?;
    let target = account(&state, &raw).await?;
    mutes::mute(
        &state,
        viewer,
        &target,
        p.notifications.unwrap_or(true),
        p.duration.map(chrono::Duration::seconds),
    )
    .await?;
    relationship(&state, viewer, &target).await
}

pub(super) async fn unmute(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:mutes")?;
    let target = account(&state, &raw).await?;
    mutes::unmute(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}
