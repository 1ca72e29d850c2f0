//! `blocklist_subscriptions`: shared domain block lists the instance
//! subscribes to; the blocks each made are `domain_blocks` rows carrying
//! its id (`db::domain_policy`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub succeeded_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub entries: i32,
    /// How to read the list, as the admin said (`text/csv`,
    /// `application/json`, `text/plain`); none: as the server says.
    pub content_type: Option<String>,
}

/// Unique constraint on the list's URL.
pub const URL_TAKEN: &str = "blocklist_subscriptions_url_key";

pub async fn insert(
    db: impl PgExecutor<'_>,
    url: &str,
    title: &str,
    content_type: Option<&str>,
    created_by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Subscription, sqlx::Error> {
    sqlx::query_as(
        "insert into blocklist_subscriptions (url, title, content_type, created_by, created_at)
         values ($1, $2, $3, $4, $5)
         returning *",
    )
    .bind(url)
    .bind(title)
    .bind(content_type)
    .bind(created_by)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as("select * from blocklist_subscriptions where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Every subscription, oldest first.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<Subscription>, sqlx::Error> {
    sqlx::query_as("select * from blocklist_subscriptions order by created_at, id")
        .fetch_all(db)
        .await
}

pub async fn set_title(
    db: impl PgExecutor<'_>,
    id: i64,
    title: &str,
) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as("update blocklist_subscriptions set title = $2 where id = $1 returning *")
        .bind(id)
        .bind(title)
        .fetch_optional(db)
        .await
}

pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as("delete from blocklist_subscriptions where id = $1 returning *")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// A fetch that was read and applied: `entries` domains.
pub async fn succeeded(
    db: impl PgExecutor<'_>,
    id: i64,
    entries: i32,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update blocklist_subscriptions
         set fetched_at = $2, succeeded_at = $2, last_error = null, entries = $3
         where id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(entries)
    .execute(db)
    .await?;
    Ok(())
}

/// A fetch that failed: what was applied before stays as it is.
pub async fn failed(
    db: impl PgExecutor<'_>,
    id: i64,
    error: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update blocklist_subscriptions set fetched_at = $2, last_error = $3 where id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}
