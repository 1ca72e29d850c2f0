//! Blocks by local accounts: the block is recorded, follows between the two
//! accounts end, and a remote account's server is told with a Block (and
//! with Undo(Block) when it is lifted). As Mastodon's `BlockService` does,
//! the follows are ended first with their own activities, Undo(Follow) for
//! the blocker's and Reject(Follow) for the other's, queued before the
//! Block: a server that ignores Block still ends both.

use crate::db::{self, actors::Actor};
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::service::{follows, outbox};
use crate::state::AppState;

pub async fn block(state: &AppState, blocker: &Actor, target: &Actor) -> Result<()> {
    if !blocker.is_local() {
        return Err(Error::Forbidden(
            "only local accounts block from here".into(),
        ));
    }
    if blocker.id == target.id {
        return Err(Error::Validation("an account cannot block itself".into()));
    }
    let id = activities::new_id(&state.urls);
    let activity = activities::block(&id, &blocker.ap_id, &target.ap_id);
    let mut tx = state.db.begin().await?;
    for (follower, followee) in [(blocker, target), (target, blocker)] {
        if let Some(follow) = db::follows::find(&mut *tx, follower.id, followee.id).await? {
            follows::sever(&mut tx, state, blocker, &follow, target).await?;
        }
    }
    db::blocks::insert(&mut *tx, blocker.id, target.id, Some(&id)).await?;
    outbox::queue_for(&mut tx, state, blocker, target, &activity).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unblock(state: &AppState, blocker: &Actor, target: &Actor) -> Result<()> {
    let block_id = db::blocks::find_ap_id(&state.db, blocker.id, target.id)
        .await?
        .unwrap_or_else(|| activities::new_id(&state.urls));
    let activity = activities::undo(
        &activities::new_id(&state.urls),
        &blocker.ap_id,
        serde_json::json!({
            "id": block_id, "type": "Block", "actor": blocker.ap_id, "object": target.ap_id
        }),
    );
    let mut tx = state.db.begin().await?;
    if !db::blocks::delete(&mut *tx, blocker.id, Some(target.id), None).await? {
        return Ok(());
    }
    outbox::queue_for(&mut tx, state, blocker, target, &activity).await?;
    tx.commit().await?;
    Ok(())
}
