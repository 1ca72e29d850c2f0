//! Direct conversations (<https://docs.joinmastodon.org/methods/conversations/>):
//! direct posts grouped by thread, with each local participant's view of
//! them (who else is in it, the last post, unread or not).
//!
//! [`on_direct_post`] is the hook that keeps them: `service::posts::store`,
//! the one routine that stores local and remote posts, calls it inside the
//! transaction that stores a direct post. As in Mastodon, a
//! participant's view is keyed by thread and by the other participants, and
//! one's own post marks the view read.

use sqlx::PgConnection;

use crate::db::timelines::Page;
use crate::db::{self, actors::Actor, conversations::AccountConversation, posts::Post};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Mastodon's page sizes for conversations.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 40;

/// Files a newly stored direct post: into its thread's conversation, and
/// into the view of each local participant (its author and the local
/// accounts it mentions).
pub async fn on_direct_post(
    tx: &mut PgConnection,
    state: &AppState,
    post: &Post,
    author: &Actor,
    mentioned: &[Actor],
    parent_id: Option<i64>,
) -> Result<()> {
    let now = state.clock.now();
    let conversation = db::conversations::add_post(&mut *tx, post.id, parent_id, now).await?;
    let mut everyone: Vec<&Actor> = std::iter::once(author).chain(mentioned).collect();
    everyone.sort_by_key(|a| a.id);
    everyone.dedup_by_key(|a| a.id);
    for local in everyone.iter().filter(|a| a.is_local()) {
        let others: Vec<i64> = everyone
            .iter()
            .map(|a| a.id)
            .filter(|id| *id != local.id)
            .collect();
        db::conversations::add_for(
            &mut *tx,
            local.id,
            conversation,
            &others,
            post.id,
            author.id,
            now,
        )
        .await?;
    }
    Ok(())
}

pub async fn list(
    state: &AppState,
    viewer: &Actor,
    page: Page,
) -> Result<Vec<AccountConversation>> {
    Ok(db::conversations::page(&state.db, viewer.id, page).await?)
}

/// Marks one of the viewer's conversations read and returns it.
pub async fn mark_read(state: &AppState, viewer: &Actor, id: i64) -> Result<AccountConversation> {
    if !db::conversations::mark_read(&state.db, viewer.id, id).await? {
        return Err(Error::NotFound);
    }
    db::conversations::find(&state.db, viewer.id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Marks one of the viewer's conversations unread (Mastodon 4.5's
/// `POST /api/v1/conversations/:id/unread`).
pub async fn mark_unread(state: &AppState, viewer: &Actor, id: i64) -> Result<AccountConversation> {
    if !db::conversations::mark_unread(&state.db, viewer.id, id).await? {
        return Err(Error::NotFound);
    }
    db::conversations::find(&state.db, viewer.id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Removes one of the viewer's conversations from its list; the posts
/// stay, and a new post in the thread brings the conversation back.
pub async fn remove(state: &AppState, viewer: &Actor, id: i64) -> Result<()> {
    if db::conversations::delete(&state.db, viewer.id, id).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}
