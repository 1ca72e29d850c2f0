//! Poison activities: an activity whose processing fails inside Skein (a
//! 5xx: a bug, a constraint it trips, a server it needs that is down) is
//! answered with the error, so that its sender retries, and each failure is
//! counted by activity id. After [`KEPT_AFTER`] failures it is kept with
//! its error, answered 202 so that the sender stops, and waits in the admin
//! area to be replayed or discarded; other activities go on meanwhile. A
//! success costs nothing extra: counts that never reached the limit are
//! pruned by the housekeeping once they are a week old.

use chrono::{DateTime, Utc};

use super::{Received, process};
use crate::db::{self, actors::Actor};
use crate::error::{Error, Result};
use crate::federation::inbound::{self, Envelope};
use crate::service::audit::{self, Staff};
use crate::state::AppState;

/// Failures of one activity before it is kept for the admins.
pub const KEPT_AFTER: i32 = 5;
/// How long a count of failures below the limit is remembered.
const FORGET_AFTER: chrono::Duration = chrono::Duration::days(7);

/// Counts the failure `error` of an activity whose signer `actor` was
/// verified; the error goes back to the sender until the activity is kept.
pub(super) async fn failed(
    state: &AppState,
    actor: &Actor,
    envelope: &Envelope,
    body: &[u8],
    error: Error,
) -> Result<Received> {
    let body = String::from_utf8_lossy(body);
    let recorded = db::dead_letters::record_failure(
        &state.db,
        &envelope.id,
        actor.id,
        &body,
        &error.to_string(),
        KEPT_AFTER,
        state.clock.now(),
    )
    .await;
    match recorded {
        Ok(true) => {
            tracing::warn!(error = %error, "an activity kept failing: kept for the admins to replay");
            Ok(Received::Kept)
        }
        Ok(false) => Err(error),
        Err(e) => {
            tracing::warn!(error = %e, "counting an activity's failure failed");
            Err(error)
        }
    }
}

/// A kept activity as the admin area shows it.
#[derive(Debug, Clone)]
pub struct Kept {
    pub id: i64,
    pub activity_id: String,
    pub kind: String,
    pub sender: String,
    pub error: String,
    pub attempts: i32,
    pub kept_at: DateTime<Utc>,
}

/// The kept activities, newest first (staff only).
pub async fn list(state: &AppState, _staff: &Staff) -> Result<Vec<Kept>> {
    let rows = db::dead_letters::list_dead(&state.db, 100).await?;
    let mut kept = Vec::with_capacity(rows.len());
    for row in rows {
        let sender = db::actors::find_by_id(&state.db, row.actor_id)
            .await?
            .map_or_else(|| row.actor_id.to_string(), |a| a.ap_id);
        let kind = inbound::parse_bytes(row.body.as_bytes())
            .map_or_else(|_| "?".to_string(), |e| e.kind.to_string());
        kept.push(Kept {
            id: row.id,
            activity_id: row.activity_id,
            kind,
            sender,
            error: row.error,
            attempts: row.attempts,
            kept_at: row.dead_at.unwrap_or(row.last_failed_at),
        });
    }
    Ok(kept)
}

/// Processes a kept activity again (its signature was checked when it
/// came). Done: it is removed; failed again: the new error is kept.
pub async fn replay(state: &AppState, staff: &Staff, id: i64) -> Result<Received> {
    staff.require_admin()?;
    let row = db::dead_letters::find(&state.db, id)
        .await?
        .filter(|r| r.dead_at.is_some())
        .ok_or(Error::NotFound)?;
    let envelope = inbound::parse_bytes(row.body.as_bytes())
        .map_err(|e| Error::Validation(format!("the kept activity no longer parses: {e}")))?;
    let actor = db::actors::find_by_id(&state.db, row.actor_id)
        .await?
        .ok_or(Error::NotFound)?;
    let outcome = process(state, &actor, &envelope).await;
    let mut tx = state.db.begin().await?;
    match &outcome {
        Ok(_) => {
            db::dead_letters::delete(&mut *tx, id).await?;
        }
        Err(e) => {
            db::dead_letters::replay_failed(&mut *tx, id, &e.to_string(), state.clock.now())
                .await?;
        }
    }
    audit::record(
        &mut tx,
        state.clock.now(),
        staff,
        "replay_activity",
        "activity",
        &row.activity_id,
        serde_json::json!({ "succeeded": outcome.is_ok() }),
    )
    .await?;
    tx.commit().await?;
    outcome
}

/// Drops a kept activity for good.
pub async fn discard(state: &AppState, staff: &Staff, id: i64) -> Result<()> {
    staff.require_admin()?;
    let row = db::dead_letters::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = state.db.begin().await?;
    db::dead_letters::delete(&mut *tx, id).await?;
    audit::record(
        &mut tx,
        state.clock.now(),
        staff,
        "discard_activity",
        "activity",
        &row.activity_id,
        serde_json::json!({ "error": row.error }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Housekeeping: counts of failures that never reached the limit.
pub async fn prune(state: &AppState) -> Result<u64> {
    Ok(db::dead_letters::prune_passed(&state.db, state.clock.now() - FORGET_AFTER).await?)
}
