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
    sqlx::query(
        "insert into inbox_activities (activity_id, actor_id, kind, payload, received_at)
         values ($1, $2, $3, $4, $5)
         on conflict (activity_id) do nothing",
    )
    .bind(activity_id)
    .bind(actor_id)
    .bind(kind)
    .bind(payload)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}
