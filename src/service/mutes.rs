//! Mutes: the muted account's posts leave the muter's timelines (and its
//! notifications, unless asked otherwise), for good or for a while. Nothing
//! is sent to other servers: a mute is private.

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
