//! Browser sessions (`sessions`), looked up by the SHA-256 digest of the
//! cookie's value.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Session {
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub struct NewSession<'a> {
    pub digest: &'a [u8],
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert(db: impl PgExecutor<'_>, new: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with signed_in as (
             insert into sessions (id_digest, user_id, csrf_token, user_agent, ip, created_at,
                                   last_seen_at, expires_at)
             values ($1, $2, $3, $4, $5, $6, $6, $7)
         ), active_day as (
             insert into user_active_days (user_id, day)
             values ($2, ($6 at time zone 'UTC')::date)
             on conflict do nothing
         )
         insert into user_active_weeks (user_id, week)
         values ($2, date_trunc('week', $6 at time zone 'UTC')::date)
         on conflict do nothing",
    )
    .bind(new.digest)
    .bind(new.user_id)
    .bind(new.csrf_token)
    .bind(new.user_agent)
    .bind(new.ip)
    .bind(new.now)
    .bind(new.expires_at)
    .execute(db)
    .await
    .map(drop)
}

/// A live session, its expiry slid forward to `now + ttl` (at most once a
/// minute, so that reads stay reads).
pub async fn find_live(
    db: impl PgExecutor<'_>,
    digest: &[u8],
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<Option<Session>, sqlx::Error> {
    sqlx::query_as(
        "with found as (
             select id_digest from sessions where id_digest = $1 and expires_at > $2
         ), touched as (
             update sessions s set last_seen_at = $2, expires_at = $2 + $3::interval
             from found
             where s.id_digest = found.id_digest and s.last_seen_at < $2 - interval '1 minute'
             returning s.user_id
         ), active as (
             insert into user_active_weeks (user_id, week)
             select user_id, date_trunc('week', $2 at time zone 'UTC')::date from touched
             on conflict do nothing
         ), active_day as (
             insert into user_active_days (user_id, day)
             select user_id, ($2 at time zone 'UTC')::date from touched
             on conflict do nothing
         )
         select user_id, csrf_token, created_at, last_seen_at, expires_at
         from sessions where id_digest = (select id_digest from found)",
    )
    .bind(digest)
    .bind(now)
    .bind(ttl_interval(ttl))
    .fetch_optional(db)
    .await
}

fn ttl_interval(ttl: chrono::Duration) -> String {
    format!("{} seconds", ttl.num_seconds())
}

pub async fn delete(db: impl PgExecutor<'_>, digest: &[u8]) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from sessions where id_digest = $1")
        .bind(digest)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Ends every session of a user (a changed password, a suspended account).
pub async fn delete_for_user(db: impl PgExecutor<'_>, user_id: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("delete from sessions where user_id = $1")
        .bind(user_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

pub async fn delete_expired(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    sqlx::query("delete from sessions where expires_at <= $1")
        .bind(now)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}
