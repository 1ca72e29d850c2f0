//! `reports`: reports of accounts and posts, local and from other servers.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Report {
    pub id: i64,
    pub reporter_id: i64,
    pub target_id: i64,
    pub post_ids: Vec<i64>,
    /// The instance rules the report says were broken.
    pub rule_ids: Vec<i64>,
    pub comment: String,
    pub category: String,
    pub forwarded: bool,
    pub ap_id: Option<String>,
    pub assigned_to_id: Option<i64>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub struct NewReport<'a> {
    pub reporter_id: i64,
    pub target_id: i64,
    pub post_ids: &'a [i64],
    pub rule_ids: &'a [i64],
    pub comment: &'a str,
    pub category: &'a str,
    pub forwarded: bool,
    pub ap_id: Option<&'a str>,
}

/// Stores a report; a Flag already stored (same id) gives None.
pub async fn insert(
    db: impl PgExecutor<'_>,
    new: &NewReport<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(
        "insert into reports (reporter_id, target_id, post_ids, comment, category, forwarded,
                              ap_id, created_at, updated_at, rule_ids)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
         on conflict (ap_id) do nothing
         returning *",
    )
    .bind(new.reporter_id)
    .bind(new.target_id)
    .bind(new.post_ids)
    .bind(new.comment)
    .bind(new.category)
    .bind(new.forwarded)
    .bind(new.ap_id)
    .bind(now)
    .bind(new.rule_ids)
    .fetch_optional(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as("select * from reports where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Reports newest first: open ones, or resolved ones; older than `max_id`.
pub async fn list(
    db: impl PgExecutor<'_>,
    resolved: bool,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Report>, sqlx::Error> {
    sqlx::query_as(
        "select * from reports
         where (resolved_at is not null) = $1 and ($2::bigint is null or id < $2)
         order by id desc limit $3",
    )
    .bind(resolved)
    .bind(max_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Changes a report's category.
pub async fn set_category(
    db: impl PgExecutor<'_>,
    id: i64,
    category: &str,
    now: DateTime<Utc>,
) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as("update reports set category = $2, updated_at = $3 where id = $1 returning *")
        .bind(id)
        .bind(category)
        .bind(now)
        .fetch_optional(db)
        .await
}

/// Resolves (`by` set) or reopens (`by` None) a report.
pub async fn set_resolved(
    db: impl PgExecutor<'_>,
    id: i64,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(
        "update reports set resolved_at = case when $2::bigint is null then null else $3 end,
                            resolved_by_id = $2, updated_at = $3
         where id = $1
         returning *",
    )
    .bind(id)
    .bind(by)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn set_assignee(
    db: impl PgExecutor<'_>,
    id: i64,
    assignee: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<Report>, sqlx::Error> {
    sqlx::query_as(
        "update reports set assigned_to_id = $2, updated_at = $3 where id = $1 returning *",
    )
    .bind(id)
    .bind(assignee)
    .bind(now)
    .fetch_optional(db)
    .await
}
