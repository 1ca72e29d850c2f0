//! Mutes: the muted account's posts leave the muter's timelines (and its
//! notifications, unless asked otherwise), for good or for a while. Nothing
//! is sent to other servers: a mute is private. A thread can be muted too
//! (its notifications stop).

use crate::db::{self, actors::Actor};
use crate::error::{Error, Result};
use crate::state::AppState;

pub async fn mute(
    state: &AppState,
    actor: &Actor,
    target: &Actor,
    notifications: bool,
    duration: Option<chrono::Duration>,
) -> Result<()> {
    if actor.id == target.id {
        return Err(Error::Validation("an account cannot mute itself".into()));
    }
    let now = state.clock.now();
    let expires_at = duration.filter(|d| d.num_seconds() > 0).map(|d| now + d);
    db::mutes::upsert(
        &state.db,
        actor.id,
        target.id,
        notifications,
        expires_at,
        now,
    )
    .await?;
    Ok(())
}

pub async fn unmute(state: &AppState, actor: &Actor, target: &Actor) -> Result<()> {
    db::mutes::delete(&state.db, actor.id, target.id).await?;
    Ok(())
}

/// Mutes the thread of a post the viewer may see: no notifications from
/// it any more (Mastodon's conversation mute).
pub async fn mute_thread(state: &AppState, actor: &Actor, post_id: i64) -> Result<()> {
    db::conversation_mutes::mute(&state.db, actor.id, post_id, state.clock.now()).await?;
    Ok(())
}

pub async fn unmute_thread(state: &AppState, actor: &Actor, post_id: i64) -> Result<()> {
    db::conversation_mutes::unmute(&state.db, actor.id, post_id).await?;
    Ok(())
}
