//! `email_domain_blocks` (with the attempts each one stopped, per day and
//! address) and `canonical_email_blocks`: the e-mail addresses refused at
//! sign-up.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::timelines::Page;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EmailDomainBlock {
    pub id: i64,
    pub domain: String,
    pub allow_with_approval: bool,
    pub created_at: DateTime<Utc>,
}

pub const DOMAIN_TAKEN: &str = "email_domain_blocks_domain_key";
pub const HASH_TAKEN: &str = "canonical_email_blocks_hash_key";

/// Rows of a table with a bigint `id`, paged as Mastodon pages by id
/// (newest first; `min_id` reads the ones right after it).
async fn paged<T>(db: impl PgExecutor<'_>, table: &str, page: Page) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let ascending = page.min_id.is_some();
    let sql = format!(
        "select * from {table}
         where ($1::bigint is null or id < $1) and ($2::bigint is null or id > $2)
         order by id {} limit $3",
        if ascending { "asc" } else { "desc" }
    );
    let mut rows: Vec<T> = sqlx::query_as(&sql)
        .bind(page.max_id)
        .bind(page.min_id.or(page.since_id))
        .bind(page.limit)
        .fetch_all(db)
        .await?;
    if ascending {
        rows.reverse();
    }
    Ok(rows)
}

pub async fn list_domains(
    db: impl PgExecutor<'_>,
    page: Page,
) -> Result<Vec<EmailDomainBlock>, sqlx::Error> {
    paged(db, "email_domain_blocks", page).await
}

pub async fn find_domain(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<EmailDomainBlock>, sqlx::Error> {
    sqlx::query_as("select * from email_domain_blocks where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn insert_domain(
    db: impl PgExecutor<'_>,
    domain: &str,
    allow_with_approval: bool,
    now: DateTime<Utc>,
) -> Result<EmailDomainBlock, sqlx::Error> {
    sqlx::query_as(
        "insert into email_domain_blocks (domain, allow_with_approval, created_at)
         values ($1, $2, $3) returning *",
    )
    .bind(domain)
    .bind(allow_with_approval)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn delete_domain(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<EmailDomainBlock>, sqlx::Error> {
    sqlx::query_as("delete from email_domain_blocks where id = $1 returning *")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The blocks among `domains` (an address's domain and each parent), the
/// full blocks first.
pub async fn matching_domains(
    db: impl PgExecutor<'_>,
    domains: &[String],
) -> Result<Vec<EmailDomainBlock>, sqlx::Error> {
    sqlx::query_as(
        "select * from email_domain_blocks where domain = any($1)
         order by allow_with_approval, id",
    )
    .bind(domains)
    .fetch_all(db)
    .await
}

/// Counts an attempt a block stopped (or queued) on `day` from `ip`.
pub async fn record_attempt(
    db: &mut PgConnection,
    block_id: i64,
    day: NaiveDate,
    ip: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into email_domain_block_attempts (block_id, day, ip) values ($1, $2, $3)
         on conflict (block_id, day, ip)
         do update set attempts = email_domain_block_attempts.attempts + 1",
    )
    .bind(block_id)
    .bind(day)
    .bind(ip)
    .execute(db)
    .await
    .map(drop)
}

/// Per block and day from `since`: (block, day, attempts, addresses).
pub async fn history(
    db: impl PgExecutor<'_>,
    block_ids: &[i64],
    since: NaiveDate,
) -> Result<Vec<(i64, NaiveDate, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "select block_id, day, sum(attempts)::bigint, count(*)
         from email_domain_block_attempts
         where block_id = any($1) and day >= $2
         group by block_id, day",
    )
    .bind(block_ids)
    .bind(since)
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CanonicalEmailBlock {
    pub id: i64,
    pub canonical_email_hash: String,
    pub reference_account_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub async fn list_canonical(
    db: impl PgExecutor<'_>,
    page: Page,
) -> Result<Vec<CanonicalEmailBlock>, sqlx::Error> {
    paged(db, "canonical_email_blocks", page).await
}

pub async fn find_canonical(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<CanonicalEmailBlock>, sqlx::Error> {
    sqlx::query_as("select * from canonical_email_blocks where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn canonical_by_hash(
    db: impl PgExecutor<'_>,
    hash: &str,
) -> Result<Vec<CanonicalEmailBlock>, sqlx::Error> {
    sqlx::query_as("select * from canonical_email_blocks where canonical_email_hash = $1")
        .bind(hash)
        .fetch_all(db)
        .await
}

/// Inserts a block; None when the hash is blocked already (with
/// `or_existing`, the existing row is returned instead).
pub async fn insert_canonical(
    db: &mut PgConnection,
    hash: &str,
    reference_account_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<CanonicalEmailBlock>, sqlx::Error> {
    sqlx::query_as(
        "insert into canonical_email_blocks (canonical_email_hash, reference_account_id, created_at)
         values ($1, $2, $3) on conflict (canonical_email_hash) do nothing returning *",
    )
    .bind(hash)
    .bind(reference_account_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn delete_canonical(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<CanonicalEmailBlock>, sqlx::Error> {
    sqlx::query_as("delete from canonical_email_blocks where id = $1 returning *")
        .bind(id)
        .fetch_optional(db)
        .await
}
