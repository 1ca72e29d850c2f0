//! `inbox_dead_letters`: inbox activities whose processing failed, counted
//! over retries and kept once the retries are used up.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeadLetter {
    pub id: i64,
    pub activity_id: String,
    pub actor_id: i64,
    pub body: String,
    pub error: String,
    pub attempts: i32,
    pub first_failed_at: DateTime<Utc>,
    pub last_failed_at: DateTime<Utc>,
    pub dead_at: Option<DateTime<Utc>>,
}

/// Counts a failure of `activity_id`; once `max` failures are counted the
/// row is dead (kept for an admin). Returns whether it is dead now.
pub async fn record_failure(
    db: impl PgExecutor<'_>,
    activity_id: &str,
    actor_id: i64,
    body: &str,
    error: &str,
    max: i32,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "insert into inbox_dead_letters as d
             (activity_id, actor_id, body, error, attempts, first_failed_at, last_failed_at,
              dead_at)
         values ($1, $2, $3, $4, 1, $6, $6, case when $5 <= 1 then $6 end)
         on conflict (activity_id) do update set
             body = excluded.body, error = excluded.error, attempts = d.attempts + 1,
             last_failed_at = $6,
             dead_at = coalesce(d.dead_at, case when d.attempts + 1 >= $5 then $6 end)
         returning dead_at is not null",
    )
    .bind(activity_id)
    .bind(actor_id)
    .bind(body)
    .bind(error)
    .bind(max)
    .bind(now)
    .fetch_one(db)
    .await
}

/// The dead ones, newest first.
pub async fn list_dead(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<DeadLetter>, sqlx::Error> {
    sqlx::query_as(
        "select * from inbox_dead_letters where dead_at is not null
         order by dead_at desc, id desc limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<DeadLetter>, sqlx::Error> {
    sqlx::query_as("select * from inbox_dead_letters where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("delete from inbox_dead_letters where id = $1")
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        == 1)
}

/// Records the error of a replay that failed again.
pub async fn replay_failed(
    db: impl PgExecutor<'_>,
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update inbox_dead_letters set error = $2, attempts = attempts + 1, last_failed_at = $3
         where id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets failures that were not used up and have not recurred since
/// `before` (the sender's retry succeeded, or it gave up).
pub async fn prune_passed(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("delete from inbox_dead_letters where dead_at is null and last_failed_at < $1")
            .bind(before)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
