//! The `inbox_activities` table: every activity an inbox accepted, by id.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// Records an activity; false when its id was already recorded (a duplicate
/// delivery, which must have no further effect). Inside a transaction, a
/// concurrent duplicate waits here until the first commits.
pub async fn record(
    db: impl PgExecutor<'_>,
    activity_id: &str,
    actor_id: i64,
    kind: &str,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let object_id = crate::federation::fetch::id_of(payload.get("object").unwrap_or(&Value::Null));
    sqlx::query(
        "insert into inbox_activities (activity_id, actor_id, kind, payload, received_at, object_id)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (activity_id) do nothing",
    )
    .bind(activity_id)
    .bind(actor_id)
    .bind(kind)
    .bind(payload)
    .bind(now)
    .bind(object_id)
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
