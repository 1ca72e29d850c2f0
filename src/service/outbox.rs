//! Queueing outgoing activities. Services call [`queue`] (or [`queue_to`]
//! with an [`Audience`]) inside the transaction of the change that causes
//! the activity. The activity is stored once (`db::outbound`) with a
//! fan-out job naming its audience; [`expand`], the one routine that turns
//! an audience into delivery rows, runs a first small step inline (so a
//! small audience is queued with the change) and the delivery workers of
//! any process run the rest in batches ([`expand_next`]), each batch in a
//! transaction that also moves the job's cursor. A crash at any point after
//! the change committed leaves the job or its rows in the database: every
//! inbox is still queued, and the deliveries' unique key (activity id,
//! inbox) keeps it at one row however often a batch is repeated.
//!
//! The rules applied when expanding: inboxes of servers the domain policy
//! refuses are left out (with the policy in force at expansion); a sender
//! whose account stopped sharing has its waiting jobs dropped
//! (`cancel_pending_from`); unavailable hosts' rows fail when claimed. Each
//! queueing statement announces the new rows (`Change::Queued`), so idle
//! workers of every process wake when a transaction that queued something
//! commits. One sender's jobs are expanded in the order they were queued,
//! and a new activity is expanded inline only when none of its sender's
//! jobs waits: its deliveries never overtake an earlier activity's.

use serde_json::Value;
use sqlx::PgConnection;

use crate::db::{self, actors::Actor, outbound::Fanout};
use crate::error::Result;
use crate::state::AppState;

/// Named inboxes up to this many are queued inline.
const INLINE_NAMED: usize = 64;
/// Follows expanded inline, in the transaction of the change.
const INLINE_FOLLOWS: i64 = 100;
/// Follows one background batch expands.
const BATCH_FOLLOWS: i64 = 1000;

/// Where an activity goes.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// Inboxes named by the caller.
    pub inboxes: Vec<String>,
    /// Whether the sender's remote followers' inboxes (their shared inboxes
    /// where they have one) are added.
    pub followers: bool,
}

impl Audience {
    /// The sender's followers, and `inboxes`.
    pub fn followers_and(inboxes: Vec<String>) -> Audience {
        Audience {
            inboxes,
            followers: true,
        }
    }
}

/// Queues `activity` from `sender_id` to each inbox (duplicates ignored).
pub async fn queue(
    tx: &mut PgConnection,
    state: &AppState,
    sender_id: i64,
    activity: &Value,
    inboxes: &[String],
) -> Result<()> {
    let audience = Audience {
        inboxes: inboxes.to_vec(),
        followers: false,
    };
    queue_to(tx, state, sender_id, activity, audience).await
}

/// Queues `activity` from `sender_id` to `audience`: stores it, expands a
/// first step inline, and leaves a fan-out job for the rest, if any.
pub async fn queue_to(
    tx: &mut PgConnection,
    state: &AppState,
    sender_id: i64,
    activity: &Value,
    audience: Audience,
) -> Result<()> {
    if audience.inboxes.is_empty() && !audience.followers {
        return Ok(());
    }
    let activity_id = activity
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let payload = serde_json::to_string(activity).map_err(|e| anyhow::anyhow!(e))?;
    let now = state.clock.now();
    let (outbound_id, waiting) =
        db::outbound::store(tx, &activity_id, sender_id, &payload, now).await?;
    let mut job = Fanout {
        id: 0,
        outbound_id,
        sender_id,
        activity_id,
        inboxes: audience.inboxes,
        named_done: false,
        followers: audience.followers,
        follows_before: None,
        created_at: now,
    };
    if !waiting
        && job.inboxes.len() <= INLINE_NAMED
        && expand(tx, state, &mut job, INLINE_FOLLOWS).await?
    {
        return Ok(());
    }
    db::outbound::insert_fanout(tx, &job).await?;
    Ok(())
}

/// Queues `activity` for one recipient: only when the recipient is remote
/// and the sender shares with the fediverse.
pub async fn queue_for(
    tx: &mut PgConnection,
    state: &AppState,
    sender: &Actor,
    recipient: &Actor,
    activity: &Value,
) -> Result<()> {
    if recipient.is_local() || !db::users::is_federating(&mut *tx, sender.id).await? {
        return Ok(());
    }
    queue(
        tx,
        state,
        sender.id,
        activity,
        std::slice::from_ref(&recipient.inbox_url),
    )
    .await
}

/// Expands the next fan-out job that may go (the oldest of a sender with
/// no older one), one batch, in a transaction of its own; whether there was
/// one. Jobs that other transactions are expanding are skipped.
pub async fn expand_next(state: &AppState) -> Result<bool> {
    let mut tx = state.db.begin().await?;
    let Some(mut job) = db::outbound::lock_next_fanout(&mut tx).await? else {
        return Ok(false);
    };
    if expand(&mut tx, state, &mut job, BATCH_FOLLOWS).await? {
        db::outbound::delete_fanout(&mut *tx, job.id).await?;
    } else {
        db::outbound::save_fanout(&mut *tx, &job).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Queues one step of a job: its named inboxes if not done yet, then up to
/// `follows` of the sender's follows after the job's cursor. Moves `job`
/// on; whether it is finished. Inboxes of refused servers are left out.
async fn expand(
    tx: &mut PgConnection,
    state: &AppState,
    job: &mut Fanout,
    follows: i64,
) -> Result<bool> {
    if !job.named_done {
        let inboxes = std::mem::take(&mut job.inboxes);
        enqueue(tx, state, job, inboxes).await?;
        job.named_done = true;
    }
    if !job.followers {
        return Ok(true);
    }
    let page =
        db::outbound::follower_inboxes_page(&mut *tx, job.sender_id, job.follows_before, follows)
            .await?;
    let finished = (page.len() as i64) < follows;
    if let Some((last, _)) = page.last() {
        job.follows_before = Some(*last);
    }
    enqueue(
        tx,
        state,
        job,
        page.into_iter().map(|(_, inbox)| inbox).collect(),
    )
    .await?;
    Ok(finished)
}

async fn enqueue(
    tx: &mut PgConnection,
    state: &AppState,
    job: &Fanout,
    mut inboxes: Vec<String>,
) -> Result<()> {
    inboxes.sort_unstable();
    inboxes.dedup();
    // Nothing goes to servers the domain policy refuses.
    let inboxes = crate::service::domain_policy::deliverable(&mut *tx, state, inboxes).await?;
    db::deliveries::enqueue(
        tx,
        &job.activity_id,
        job.outbound_id,
        job.sender_id,
        &inboxes,
        state.clock.now(),
    )
    .await?;
    Ok(())
}
