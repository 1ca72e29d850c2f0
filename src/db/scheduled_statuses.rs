//! `scheduled_statuses`: posts a local account asked to publish later, and
//! the uploads they will carry (`uploads.scheduled_status_id`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use sqlx::types::Json;

use crate::db::timelines::Page;
use crate::db::uploads::Upload;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ScheduledStatus {
    pub id: i64,
    pub account_id: i64,
    pub scheduled_at: DateTime<Utc>,
    pub params: Json<serde_json::Value>,
    pub app_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// Holds the account's scheduling until the transaction ends, so that two
/// requests cannot both pass the limits (`for no key update` on its actor
/// row leaves references to it alone).
pub async fn lock_account(db: impl PgExecutor<'_>, account_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("select 1 from actors where id = $1 for no key update")
        .bind(account_id)
        .execute(db)
        .await
        .map(drop)
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    account_id: i64,
    scheduled_at: DateTime<Utc>,
    params: &serde_json::Value,
    app_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<ScheduledStatus, sqlx::Error> {
    sqlx::query_as(
        "insert into scheduled_statuses (account_id, scheduled_at, params, app_id, created_at)
         values ($1, $2, $3, $4, $5) returning *",
    )
    .bind(account_id)
    .bind(scheduled_at)
    .bind(Json(params))
    .bind(app_id)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Reserves the account's uploads `ids` for a scheduled status; only those
/// no post carries and no other scheduled status holds. Returns how many.
pub async fn reserve_uploads(
    db: impl PgExecutor<'_>,
    account_id: i64,
    scheduled_id: i64,
    ids: &[i64],
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "update uploads set scheduled_status_id = $1
         where id = any($2) and owner_id = $3 and post_id is null
           and scheduled_status_id is null",
    )
    .bind(scheduled_id)
    .bind(ids)
    .bind(account_id)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// The uploads held by these scheduled statuses, in id order.
pub async fn uploads_of(
    db: impl PgExecutor<'_>,
    scheduled_ids: &[i64],
) -> Result<Vec<Upload>, sqlx::Error> {
    sqlx::query_as("select * from uploads where scheduled_status_id = any($1) order by id")
        .bind(scheduled_ids)
        .fetch_all(db)
        .await
}

pub async fn find_owned(
    db: impl PgExecutor<'_>,
    account_id: i64,
    id: i64,
) -> Result<Option<ScheduledStatus>, sqlx::Error> {
    sqlx::query_as("select * from scheduled_statuses where id = $1 and account_id = $2")
        .bind(id)
        .bind(account_id)
        .fetch_optional(db)
        .await
}

/// A page of the account's scheduled statuses by id, newest first.
pub async fn page(
    db: impl PgExecutor<'_>,
    account_id: i64,
    page: Page,
) -> Result<Vec<ScheduledStatus>, sqlx::Error> {
    let order = if page.min_id.is_some() { "asc" } else { "desc" };
    let sql = format!(
        "select * from scheduled_statuses
         where account_id = $1
           and ($2::bigint is null or id < $2)
           and ($3::bigint is null or id > $3)
         order by id {order} limit $4"
    );
    let mut rows: Vec<ScheduledStatus> = sqlx::query_as(&sql)
        .bind(account_id)
        .bind(page.max_id)
        .bind(page.min_id.or(page.since_id))
        .bind(page.limit)
        .fetch_all(db)
        .await?;
    if page.min_id.is_some() {
        rows.reverse();
    }
    Ok(rows)
}

/// How many statuses the account has scheduled, and how many of them fall
/// in `[from, to)`, leaving `except` out.
pub async fn counts(
    db: impl PgExecutor<'_>,
    account_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    except: Option<i64>,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "select count(*),
                count(*) filter (where scheduled_at >= $2 and scheduled_at < $3)
         from scheduled_statuses
         where account_id = $1 and ($4::bigint is null or id <> $4)",
    )
    .bind(account_id)
    .bind(from)
    .bind(to)
    .bind(except)
    .fetch_one(db)
    .await
}

pub async fn reschedule(
    db: impl PgExecutor<'_>,
    account_id: i64,
    id: i64,
    scheduled_at: DateTime<Utc>,
) -> Result<Option<ScheduledStatus>, sqlx::Error> {
    sqlx::query_as(
        "update scheduled_statuses set scheduled_at = $3
         where id = $1 and account_id = $2 returning *",
    )
    .bind(id)
    .bind(account_id)
    .bind(scheduled_at)
    .fetch_optional(db)
    .await
}

/// Deletes one of the account's scheduled statuses (its uploads are freed);
/// false if there was none.
pub async fn delete_owned(
    db: impl PgExecutor<'_>,
    account_id: i64,
    id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from scheduled_statuses where id = $1 and account_id = $2")
        .bind(id)
        .bind(account_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Scheduled statuses due at `now`, earliest first.
pub async fn due(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ScheduledStatus>, sqlx::Error> {
    sqlx::query_as(
        "select * from scheduled_statuses where scheduled_at <= $1
         order by scheduled_at, id limit $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Takes a scheduled status for publishing, in the transaction that stores
/// its post: deletes it (its uploads are freed for the post to take), or
/// false when it is gone (cancelled, or published by another run). The row
/// stays locked until the transaction ends.
pub async fn take(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from scheduled_statuses where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}
