//! `instance_rules`: the rules of this instance, in the order admins chose.
//! A removed rule keeps its row (`deleted_at`) for the reports that name it.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Rule {
    pub id: i64,
    pub position: i32,
    pub text: String,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The rules in force, in their order.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<Rule>, sqlx::Error> {
    sqlx::query_as("select * from instance_rules where deleted_at is null order by position, id")
        .fetch_all(db)
        .await
}

/// Rules by id, removed ones included (what a report named), in their
/// order.
pub async fn by_ids(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Rule>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as("select * from instance_rules where id = any($1) order by position, id")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// A rule in force.
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Rule>, sqlx::Error> {
    sqlx::query_as("select * from instance_rules where id = $1 and deleted_at is null")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Adds a rule after the others.
pub async fn insert(
    db: impl PgExecutor<'_>,
    text: &str,
    hint: &str,
    now: DateTime<Utc>,
) -> Result<Rule, sqlx::Error> {
    sqlx::query_as(
        "insert into instance_rules (position, text, hint, created_at, updated_at)
         values ((select coalesce(max(position), 0) + 1 from instance_rules
                  where deleted_at is null),
                 $1, $2, $3, $3)
         returning *",
    )
    .bind(text)
    .bind(hint)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Changes a rule's text and hint.
pub async fn update(
    db: impl PgExecutor<'_>,
    id: i64,
    text: &str,
    hint: &str,
    now: DateTime<Utc>,
) -> Result<Option<Rule>, sqlx::Error> {
    sqlx::query_as(
        "update instance_rules set text = $2, hint = $3, updated_at = $4
         where id = $1 and deleted_at is null
         returning *",
    )
    .bind(id)
    .bind(text)
    .bind(hint)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Removes a rule from those in force.
pub async fn delete(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Rule>, sqlx::Error> {
    sqlx::query_as(
        "update instance_rules set deleted_at = $2, updated_at = $2
         where id = $1 and deleted_at is null
         returning *",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The rules in force, in their order, locked until the transaction ends
/// (so that two reorderings do not interleave).
pub async fn list_for_update(db: impl PgExecutor<'_>) -> Result<Vec<Rule>, sqlx::Error> {
    sqlx::query_as(
        "select * from instance_rules where deleted_at is null order by position, id for update",
    )
    .fetch_all(db)
    .await
}

/// Puts the rules `ids` in this order (positions 1, 2, ...).
pub async fn set_order(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update instance_rules r set position = o.n, updated_at = $2
         from unnest($1::bigint[]) with ordinality as o (id, n)
         where r.id = o.id and r.position <> o.n",
    )
    .bind(ids)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}
