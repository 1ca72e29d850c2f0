//! The `inbox_activities` table (every activity an inbox accepted, by id,
//! with its JSON) and `early_undos` (Undos that overtook what they undo).

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// How long an Undo that found nothing to undo waits for its activity.
pub const EARLY_UNDO_WINDOW: Duration = Duration::days(1);

/// An activity as it is recorded.
pub struct Received<'a> {
    pub activity_id: &'a str,
    pub actor_id: i64,
    pub kind: &'a str,
    pub object_id: Option<&'a str>,
    pub payload: &'a Value,
}

/// What recording an activity found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// The first time its id was seen.
    pub first_time: bool,
    /// Its actor undid it before it arrived (within [`EARLY_UNDO_WINDOW`]);
    /// only looked up, and the record used up, with `undoable`.
    pub undone: bool,
}

/// Records an activity as received, in one statement with the lookup of an
/// early Undo when the activity is `undoable`. A repeat (a retry, or an id
/// a server reuses) keeps the latest copy.
pub async fn record(
    db: impl PgExecutor<'_>,
    activity: &Received<'_>,
    undoable: bool,
    now: DateTime<Utc>,
) -> Result<Recorded, sqlx::Error> {
    // `xmax = 0` only for a row this statement inserted.
    let (first_time, undone) = sqlx::query_as(
        "with taken as (
             delete from early_undos
             where $7 and actor_id = $2 and object_id = $1
             returning received_at
         ),
         recorded as (
             insert into inbox_activities (activity_id, actor_id, kind, payload, received_at,
                                           object_id)
             values ($1, $2, $3, $4, $5, $6)
             on conflict (activity_id) do update
                 set payload = excluded.payload, received_at = excluded.received_at,
                     kind = excluded.kind, object_id = excluded.object_id
             returning (xmax = 0) as first_time
         )
         select (select first_time from recorded),
                exists (select 1 from taken where received_at > $8)",
    )
    .bind(activity.activity_id)
    .bind(activity.actor_id)
    .bind(activity.kind)
    .bind(activity.payload)
    .bind(now)
    .bind(activity.object_id)
    .bind(undoable)
    .bind(now - EARLY_UNDO_WINDOW)
    .fetch_one(db)
    .await?;
    Ok(Recorded { first_time, undone })
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
