//! The `inbox_activities` table (every activity an inbox accepted, by id,
//! with its JSON) and `early_undos` (Undos that overtook what they undo).

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// How long an Undo that found nothing to undo waits for its activity.
pub const EARLY_UNDO_WINDOW: Duration = Duration::days(1);

/// Records an activity as received; true the first time its id is seen. A
/// repeat (a retry, or an id a server reuses) keeps the latest copy.
pub async fn record(
    db: impl PgExecutor<'_>,
    activity_id: &str,
    actor_id: i64,
    kind: &str,
    object_id: Option<&str>,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    // `xmax = 0` only for a row this statement inserted.
    sqlx::query_scalar(
        "insert into inbox_activities (activity_id, actor_id, kind, payload, received_at, object_id)
         values ($1, $2, $3, $4, $5, $6)
         on conflict (activity_id) do update
             set payload = excluded.payload, received_at = excluded.received_at,
                 kind = excluded.kind, object_id = excluded.object_id
         returning (xmax = 0)",
    )
    .bind(activity_id)
    .bind(actor_id)
    .bind(kind)
    .bind(payload)
    .bind(now)
    .bind(object_id)
    .fetch_one(db)
    .await
}

/// Makes one actor's activities apply one at a time until the transaction
/// ends.
pub async fn lock_actor(db: impl PgExecutor<'_>, actor_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_xact_lock(7, (($1 # ($1 >> 31)) & 2147483647)::int4)")
        .bind(actor_id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Remembers that `actor_id` undid `object_id` before it arrived.
pub async fn remember_early_undo(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    object_id: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into early_undos (actor_id, object_id, received_at) values ($1, $2, $3)
         on conflict (actor_id, object_id) do update set received_at = excluded.received_at",
    )
    .bind(actor_id)
    .bind(object_id)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// Whether `actor_id` undid `activity_id` before it arrived (within
/// [`EARLY_UNDO_WINDOW`]); the record is used up.
pub async fn take_early_undo(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    activity_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "with taken as (
             delete from early_undos where actor_id = $1 and object_id = $2 returning received_at
         )
         select exists (select 1 from taken where received_at > $3)",
    )
    .bind(actor_id)
    .bind(activity_id)
    .bind(now - EARLY_UNDO_WINDOW)
    .fetch_one(db)
    .await
}

/// Forgets early Undos whose activity never came.
pub async fn prune_early_undos(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    sqlx::query("delete from early_undos where received_at <= $1")
        .bind(now - EARLY_UNDO_WINDOW)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}
