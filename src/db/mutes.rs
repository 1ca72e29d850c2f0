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

/// Mutes of `from` extended to `to` (an account that moved), with the same
/// settings; a mute already there is kept.
pub async fn copy(
    db: impl PgExecutor<'_>,
    from: i64,
    to: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "insert into mutes (actor_id, target_id, notifications, expires_at, created_at)
         select actor_id, $2, notifications, expires_at, $3 from mutes
         where target_id = $1 and actor_id <> $2
         on conflict (actor_id, target_id) do nothing",
    )
    .bind(from)
    .bind(to)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// A muted account and whether its notifications are muted too.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Muted {
    #[sqlx(flatten)]
    pub actor: crate::db::actors::Actor,
    pub mute_notifications: bool,
}

/// The accounts an actor mutes, oldest first.
pub async fn muted_by(db: impl PgExecutor<'_>, actor_id: i64) -> Result<Vec<Muted>, sqlx::Error> {
    sqlx::query_as(
        "select a.*, m.notifications as mute_notifications
         from mutes m join actors a on a.id = m.target_id
         where m.actor_id = $1 order by m.id",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}
