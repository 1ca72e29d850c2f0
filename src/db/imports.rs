//! The `imports` table: CSV imports waiting, running or done, and what
//! became of them.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use sqlx::types::Json;

use crate::domain::portability::Entry;

/// A row of `imports`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Import {
    pub id: i64,
    pub actor_id: i64,
    pub kind: String,
    pub mode: String,
    pub entries: Json<Vec<Entry>>,
    pub state: String,
    pub applied: i32,
    pub failures: Json<Vec<Failure>>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// An entry that could not be applied, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub target: String,
    pub reason: String,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    kind: &str,
    mode: &str,
    entries: &[Entry],
    now: DateTime<Utc>,
) -> Result<Import, sqlx::Error> {
    sqlx::query_as(
        "insert into imports (actor_id, kind, mode, entries, created_at)
         values ($1, $2, $3, $4, $5)
         returning *",
    )
    .bind(actor_id)
    .bind(kind)
    .bind(mode)
    .bind(Json(entries))
    .bind(now)
    .fetch_one(db)
    .await
}

/// Takes the oldest import waiting, or one left running by a worker that
/// stopped before `stale_before`; it is marked running from `now`.
pub async fn claim(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<Option<Import>, sqlx::Error> {
    sqlx::query_as(
        "update imports set state = 'running', started_at = $1
         where id = (select id from imports
                     where state = 'pending' or (state = 'running' and started_at < $2)
                     order by id limit 1
                     for update skip locked)
         returning *",
    )
    .bind(now)
    .bind(stale_before)
    .fetch_optional(db)
    .await
}

pub async fn finish(
    db: impl PgExecutor<'_>,
    id: i64,
    applied: i32,
    failures: &[Failure],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update imports set state = 'done', applied = $2, failures = $3, finished_at = $4
         where id = $1",
    )
    .bind(id)
    .bind(applied)
    .bind(Json(failures))
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// An account's latest imports, newest first.
pub async fn recent(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    limit: i64,
) -> Result<Vec<Import>, sqlx::Error> {
    sqlx::query_as("select * from imports where actor_id = $1 order by id desc limit $2")
        .bind(actor_id)
        .bind(limit)
        .fetch_all(db)
        .await
}
