//! Queueing outgoing activities. Services call [`queue`] inside the
//! transaction of the change that causes the activity; the queueing
//! statement announces the new rows (`Change::Queued`), so idle workers of
//! every process wake when, and only when, a transaction that queued
//! something commits.

use serde_json::Value;
use sqlx::PgConnection;

use crate::db::{self, actors::Actor};
use crate::error::Result;
use crate::state::AppState;

/// Queues `activity` from `sender_id` to each inbox (duplicates ignored).
pub async fn queue(
    tx: &mut PgConnection,
    state: &AppState,
    sender_id: i64,
    activity: &Value,
    inboxes: &[String],
) -> Result<u64> {
    let mut inboxes = inboxes.to_vec();
    inboxes.sort();
    inboxes.dedup();
    // Nothing goes to servers the domain policy refuses.
    let inboxes = crate::service::domain_policy::deliverable(&mut *tx, state, inboxes).await?;
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let payload = serde_json::to_string(activity).map_err(|e| anyhow::anyhow!(e))?;
    Ok(db::deliveries::enqueue(tx, &id, &payload, sender_id, &inboxes, state.clock.now()).await?)
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
    .await?;
    Ok(())
}
