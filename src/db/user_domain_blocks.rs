//! `user_domain_blocks`: whole domains a local account hides for itself
//! (Mastodon's account domain blocks). Timelines and notifications read
//! them in SQL; this module writes and lists them.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::timelines::Page;

/// Blocks `domain` (lower case) for the actor; false when it was already.
pub async fn insert(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "insert into user_domain_blocks (actor_id, domain, created_at) values ($1, $2, $3)
         on conflict (actor_id, domain) do nothing",
    )
    .bind(actor_id)
    .bind(domain)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    domain: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from user_domain_blocks where actor_id = $1 and domain = $2")
        .bind(actor_id)
        .bind(domain)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// A blocked domain with the id of its row (the paging cursor).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Blocked {
    pub id: i64,
    pub domain: String,
}

/// The actor's blocked domains, newest first.
pub async fn page(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    page: Page,
) -> Result<Vec<Blocked>, sqlx::Error> {
    let order = if page.min_id.is_some() { "asc" } else { "desc" };
    let sql = format!(
        "select id, domain from user_domain_blocks
         where actor_id = $1
           and ($2::bigint is null or id < $2)
           and ($3::bigint is null or id > $3)
         order by id {order} limit $4"
    );
    let mut rows: Vec<Blocked> = sqlx::query_as(&sql)
        .bind(actor_id)
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

/// Whether the actor blocks this domain (None, a local account's, never).
pub async fn blocks(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    domain: Option<&str>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from user_domain_blocks where actor_id = $1 and domain = $2)",
    )
    .bind(actor_id)
    .bind(domain)
    .fetch_one(db)
    .await
}

/// Every domain the actor blocks, oldest first.
pub async fn all(db: impl PgExecutor<'_>, actor_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select domain from user_domain_blocks where actor_id = $1 order by id")
        .bind(actor_id)
        .fetch_all(db)
        .await
}
