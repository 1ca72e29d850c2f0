//! The `inbox_activities` table: every activity an inbox accepted, by id.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// The first key of the advisory locks that put an activity and its Undo
/// one after the other (see [`record`]).
pub const SUBJECT_LOCK_CLASS: i32 = 0x5369; // "Si"

/// Records an activity; false when its id was already recorded (a duplicate
/// delivery, which must have no further effect). Inside a transaction, a
/// concurrent duplicate waits here until the first commits.
///
/// It also takes a transaction lock on the activity's subject: its own id,
/// or for an Undo the id of what it undoes. A Follow (Like, Announce ...)
/// and its Undo arriving at once thus run one after the other, and the
/// second sees what the first did (`was_undone`, or the row to remove);
/// without it, each could miss the other and the follow would stay.
pub async fn record(
    db: impl PgExecutor<'_>,
    activity_id: &str,
    actor_id: i64,
    kind: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let object_id = crate::federation::fetch::id_of(payload.get("object").unwrap_or(&Value::Null));
    let subject = match object_id {
        Some(undone) if kind == "Undo" => undone,
        _ => activity_id,
    };
    sqlx::query(
        "with subject as (select pg_advisory_xact_lock($7, hashtext($8)))
         insert into inbox_activities (activity_id, actor_id, kind, payload, received_at, object_id)
         select $1, $2, $3, $4, $5, $6 from subject
         on conflict (activity_id) do nothing",
    )
    .bind(activity_id)
    .bind(actor_id)
    .bind(kind)
    .bind(payload)
    .bind(now)
    .bind(object_id)
    .bind(SUBJECT_LOCK_CLASS)
    .bind(subject)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Whether `actor_id` already undid the activity `activity_id` (the Undo came
/// first: the activity must then have no effect).
pub async fn was_undone(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    activity_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from inbox_activities
                        where kind = 'Undo' and object_id = $2 and actor_id = $1)",
    )
    .bind(actor_id)
    .bind(activity_id)
    .fetch_one(db)
    .await
}
