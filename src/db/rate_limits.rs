//! Rate-limit windows (`rate_limit_windows`): fixed windows counted in the
//! database, so that every process of an instance counts the same hits.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A window after counting a hit in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Hits in the window, this one included (never more than `max + 1`).
    pub hits: i32,
    pub ends_at: DateTime<Utc>,
}

/// Counts one hit on `(name, key)` in one statement: a window that ended is
/// replaced by a new one that ends `window` from `now`. Concurrent hits
/// from any number of processes are serialised on the row, so no more than
/// `max` of them are ever counted as allowed.
pub async fn hit(
    db: impl PgExecutor<'_>,
    name: &str,
    key: &str,
    max: i32,
    window: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<Counted, sqlx::Error> {
    let (hits, ends_at): (i32, DateTime<Utc>) = sqlx::query_as(
        "insert into rate_limit_windows as w (name, key, hits, ends_at)
         values ($1, $2, 1, $4)
         on conflict (name, key) do update set
             hits = case when w.ends_at <= $3 then 1 else least(w.hits + 1, $5 + 1) end,
             ends_at = case when w.ends_at <= $3 then $4 else w.ends_at end
         returning hits, ends_at",
    )
    .bind(name)
    .bind(key)
    .bind(now)
    .bind(now + window)
    .bind(max)
    .fetch_one(db)
    .await?;
    Ok(Counted { hits, ends_at })
}

/// The hits counted on `(name, key)` in a window that has not ended.
pub async fn current(
    db: impl PgExecutor<'_>,
    name: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<i32, sqlx::Error> {
    let hits: Option<i32> = sqlx::query_scalar(
        "select hits from rate_limit_windows where name = $1 and key = $2 and ends_at > $3",
    )
    .bind(name)
    .bind(key)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(hits.unwrap_or(0))
}

/// Forgets the window of `(name, key)`.
pub async fn clear(db: impl PgExecutor<'_>, name: &str, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from rate_limit_windows where name = $1 and key = $2")
        .bind(name)
        .bind(key)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes the windows that ended before `now`.
pub async fn prune(db: impl PgExecutor<'_>, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("delete from rate_limit_windows where ends_at <= $1")
            .bind(now)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
