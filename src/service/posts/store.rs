//! The one way a post is stored, local or remote: the row, and its side
//! effects in the same transaction: mentions, hashtags, the poll, the
//! parent's reply count, the conversation of a direct post, notifications
//! (mentions, and followers who asked for an account's posts). Timelines
//! and streams follow from the row: `db::posts::insert` announces the new
//! post, and PostgreSQL delivers the announcement when the transaction
//! commits.
//!
//! What differs between the two stays with the callers: a local post is
//! rendered from its text and sent out (`posts::create`); a remote post is
//! checked for relevance, reply controls and media policy
//! (`service::inbox`).

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::notifications::NotificationKind;
use crate::domain::visibility::Visibility;
use crate::error::Result;
use crate::state::AppState;

/// A poll as it is stored.
#[derive(Debug, Clone)]
pub struct NewPoll {
    pub multiple: bool,
    pub options: Vec<db::polls::PollOption>,
    pub expires_at: Option<DateTime<Utc>>,
    pub voters_count: i32,
}

/// A post about to be stored, with what it names.
pub struct NewPost<'a> {
    pub author: &'a Actor,
    pub row: db::posts::NewPost<'a>,
    pub parent: Option<&'a Post>,
    /// Accounts mentioned (local and remote).
    pub mentioned: &'a [Actor],
    pub hashtags: &'a [String],
    pub poll: Option<NewPoll>,
    /// Which followers who asked to hear of the author's posts are told.
    pub follower_notices: FollowerNotices<'a>,
}

/// Which followers who asked to hear of an account's posts are told of a
/// new one: for a local post, those the database names; for a remote one,
/// those the inbox looked up with its other checks, and nobody when it came
/// as a thread's fetched parent rather than for its own sake.
pub enum FollowerNotices<'a> {
    Nobody,
    LookUp,
    These(&'a [i64]),
}

/// Stores a post and its side effects (see the module).
pub async fn store(tx: &mut PgConnection, state: &AppState, new: NewPost<'_>) -> Result<Post> {
    let mentioned_ids: Vec<i64> = new.mentioned.iter().map(|a| a.id).collect();
    let post = db::posts::insert(&mut *tx, &new.row, &mentioned_ids, new.hashtags).await?;
    if let Some(poll) = &new.poll {
        db::polls::insert(
            &mut *tx,
            post.id,
            poll.multiple,
            &poll.options,
            poll.expires_at,
            poll.voters_count,
        )
        .await?;
    }
    if let Some(parent) = new.parent {
        db::posts::add_replies(&mut *tx, parent.id, 1).await?;
    }
    if post.visibility == Visibility::Direct {
        let parent_id = new.parent.map(|p| p.id);
        crate::service::conversations::on_direct_post(
            tx,
            state,
            &post,
            new.author,
            new.mentioned,
            parent_id,
        )
        .await?;
    }
    let now = state.clock.now();
    for local in new.mentioned.iter().filter(|a| a.is_local()) {
        db::notifications::notify(
            tx,
            local.id,
            NotificationKind::Mention,
            new.author.id,
            Some(post.id),
            now,
        )
        .await?;
    }
    let own_thread = new.parent.is_none_or(|p| p.author_id == new.author.id);
    if post.visibility != Visibility::Direct && own_thread {
        let looked_up;
        let followers = match new.follower_notices {
            FollowerNotices::Nobody => &[][..],
            FollowerNotices::These(followers) => followers,
            FollowerNotices::LookUp => {
                looked_up = db::follows::notified_followers(&mut *tx, new.author.id).await?;
                &looked_up[..]
            }
        };
        super::notify_followers(tx, state, &post, new.author.id, followers, new.mentioned).await?;
    }
    crate::service::cards::queue_new(tx, state, &post, new.mentioned).await?;
    Ok(post)
}
