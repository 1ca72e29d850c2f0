//! `admin_actions`: the audit log of what staff did. Rows are only added.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AdminAction {
    pub id: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub via: String,
    pub action: String,
    pub target_type: String,
    pub target: String,
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// What one row records; `created_at` comes from the caller's clock.
pub struct NewAction<'a> {
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub via: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target: &'a str,
    pub details: &'a serde_json::Value,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    new: &NewAction<'_>,
    now: DateTime<Utc>,
) -> Result<AdminAction, sqlx::Error> {
    sqlx::query_as(
        "insert into admin_actions
             (actor_id, actor_name, via, action, target_type, target, details, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning *",
    )
    .bind(new.actor_id)
    .bind(new.actor_name)
    .bind(new.via)
    .bind(new.action)
    .bind(new.target_type)
    .bind(new.target)
    .bind(new.details)
    .bind(now)
    .fetch_one(db)
    .await
}

/// The newest actions first, older than `max_id` when given; only those on
/// one target when `target` is given.
pub async fn list(
    db: impl PgExecutor<'_>,
    target: Option<(&str, &str)>,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<AdminAction>, sqlx::Error> {
    sqlx::query_as(
        "select * from admin_actions
         where ($1::bigint is null or id < $1)
           and ($2::text is null or (target_type = $2 and target = $3))
         order by id desc
         limit $4",
    )
    .bind(max_id)
    .bind(target.map(|t| t.0))
    .bind(target.map(|t| t.1))
    .bind(limit)
    .fetch_all(db)
    .await
}
