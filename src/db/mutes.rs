//! `mutes`: accounts a local account does not want to see.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Mutes (or re-mutes with new settings).
pub async fn upsert(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    target_id: i64,
    notifications: bool,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into mutes (actor_id, target_id, notifications, expires_at, created_at)
         values ($1, $2, $3, $4, $5)
         on conflict (actor_id, target_id)
         do update set notifications = excluded.notifications, expires_at = excluded.expires_at",
    )
    .bind(actor_id)
    .bind(target_id)
    .bind(notifications)
    .bind(expires_at)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    target_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from mutes where actor_id = $1 and target_id = $2")
        .bind(actor_id)
        .bind(target_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Removes mutes whose time is up.
pub async fn delete_expired(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    sqlx::query("delete from mutes where expires_at is not null and expires_at <= $1")
        .bind(now)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}
