//! `ip_blocks`: address ranges restricted by the admins. Every change is
//! announced (`Change::IpBlocks`) in its transaction, so that every process
//! reloads the ranges it refuses outright.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::db::timelines::Page;
use crate::domain::events::Change;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IpBlock {
    pub id: i64,
    /// `address/prefix`, the network's first address.
    pub ip: String,
    pub severity: String,
    pub comment: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const IP_TAKEN: &str = "ip_blocks_ip_key";

const COLUMNS: &str = "id, text(ip) as ip, severity, comment, expires_at, created_at, updated_at";

/// What a block is set to.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    /// An address or CIDR range, already checked.
    pub ip: &'a str,
    pub severity: &'a str,
    pub comment: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Blocks in force at `now` (not expired), newest first.
pub async fn list(
    db: impl PgExecutor<'_>,
    page: Page,
    now: DateTime<Utc>,
) -> Result<Vec<IpBlock>, sqlx::Error> {
    let ascending = page.min_id.is_some();
    let sql = format!(
        "select {COLUMNS} from ip_blocks
         where (expires_at is null or expires_at > $4)
           and ($1::bigint is null or id < $1) and ($2::bigint is null or id > $2)
         order by id {} limit $3",
        if ascending { "asc" } else { "desc" }
    );
    let mut rows: Vec<IpBlock> = sqlx::query_as(&sql)
        .bind(page.max_id)
        .bind(page.min_id.or(page.since_id))
        .bind(page.limit)
        .bind(now)
        .fetch_all(db)
        .await?;
    if ascending {
        rows.reverse();
    }
    Ok(rows)
}

/// Every block of `severity` in force at `now` or later (the in-memory set
/// checks expiry itself).
pub async fn all_of(
    db: impl PgExecutor<'_>,
    severity: &str,
    now: DateTime<Utc>,
) -> Result<Vec<IpBlock>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ip_blocks
         where severity = $1 and (expires_at is null or expires_at > $2)"
    ))
    .bind(severity)
    .bind(now)
    .fetch_all(db)
    .await
}

pub async fn find(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<IpBlock>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ip_blocks
         where id = $1 and (expires_at is null or expires_at > $2)"
    ))
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// The most severe block in force whose range holds `ip`.
pub async fn strictest_for(
    db: impl PgExecutor<'_>,
    ip: &str,
    now: DateTime<Utc>,
) -> Result<Option<IpBlock>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from ip_blocks
         where ip >>= $1::inet and (expires_at is null or expires_at > $2)
         order by case severity when 'no_access' then 0 when 'sign_up_block' then 1 else 2 end
         limit 1"
    ))
    .bind(ip)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Expired blocks go: their address may be blocked again.
async fn drop_expired(db: &mut PgConnection, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query("delete from ip_blocks where expires_at <= $1")
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

pub async fn insert(
    db: &mut PgConnection,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> Result<IpBlock, sqlx::Error> {
    drop_expired(&mut *db, now).await?;
    let block = sqlx::query_as(&format!(
        "insert into ip_blocks (ip, severity, comment, expires_at, created_at, updated_at)
         values (network($1::inet)::inet, $2, $3, $4, $5, $5) returning {COLUMNS}"
    ))
    .bind(fields.ip)
    .bind(fields.severity)
    .bind(fields.comment)
    .bind(fields.expires_at)
    .bind(now)
    .fetch_one(&mut *db)
    .await?;
    events::emit(db, &Change::IpBlocks).await?;
    Ok(block)
}

pub async fn update(
    db: &mut PgConnection,
    id: i64,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> Result<Option<IpBlock>, sqlx::Error> {
    drop_expired(&mut *db, now).await?;
    let block = sqlx::query_as(&format!(
        "update ip_blocks set ip = network($2::inet)::inet, severity = $3, comment = $4,
                expires_at = $5, updated_at = $6
         where id = $1 returning {COLUMNS}"
    ))
    .bind(id)
    .bind(fields.ip)
    .bind(fields.severity)
    .bind(fields.comment)
    .bind(fields.expires_at)
    .bind(now)
    .fetch_optional(&mut *db)
    .await?;
    events::emit(db, &Change::IpBlocks).await?;
    Ok(block)
}

pub async fn delete(
    db: &mut PgConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<IpBlock>, sqlx::Error> {
    let block = sqlx::query_as(&format!(
        "delete from ip_blocks where id = $1 and (expires_at is null or expires_at > $2)
         returning {COLUMNS}"
    ))
    .bind(id)
    .bind(now)
    .fetch_optional(&mut *db)
    .await?;
    events::emit(db, &Change::IpBlocks).await?;
    Ok(block)
}
