//! `domain_blocks` and `domain_allows`: the instance's domain policy, and
//! what a block does to what is stored from the domain. Every change of
//! the policy is announced (`Change::DomainPolicy`) in its transaction, so
//! that every process reloads its snapshot once it commits.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::domain::events::Change;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DomainBlock {
    pub id: i64,
    pub domain: String,
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: String,
    pub public_comment: String,
    pub obfuscate: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The subscribed block list that made it; none for a block made by
    /// hand (`db::blocklists`).
    pub subscription_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DomainAllow {
    pub id: i64,
    pub domain: String,
    pub created_at: DateTime<Utc>,
}

/// What a block says, for inserting or updating.
#[derive(Debug, Clone)]
pub struct BlockFields {
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: String,
    pub public_comment: String,
    pub obfuscate: bool,
}

/// Unique constraint on the blocked domain.
pub const DOMAIN_TAKEN: &str = "domain_blocks_domain_key";
pub const ALLOW_TAKEN: &str = "domain_allows_domain_key";

/// Inserts a block, made by hand (`subscription` none) or by a subscribed
/// list.
pub async fn insert(
    db: &mut PgConnection,
    domain: &str,
    f: &BlockFields,
    subscription: Option<i64>,
    now: DateTime<Utc>,
) -> Result<DomainBlock, sqlx::Error> {
    let block = sqlx::query_as(
        "insert into domain_blocks (domain, severity, reject_media, reject_reports,
                                    private_comment, public_comment, obfuscate,
                                    created_at, updated_at, subscription_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
         returning *",
    )
    .bind(domain)
    .bind(&f.severity)
    .bind(f.reject_media)
    .bind(f.reject_reports)
    .bind(&f.private_comment)
    .bind(&f.public_comment)
    .bind(f.obfuscate)
    .bind(now)
    .bind(subscription)
    .fetch_one(&mut *db)
    .await?;
    events::emit(db, &Change::DomainPolicy).await?;
    Ok(block)
}

/// Changes a block; `subscription` says who made it now: a block changed
/// by hand (none) is no longer a list's.
pub async fn update(
    db: &mut PgConnection,
    id: i64,
    f: &BlockFields,
    subscription: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<DomainBlock>, sqlx::Error> {
    let block = sqlx::query_as(
        "update domain_blocks set severity = $2, reject_media = $3, reject_reports = $4,
                                  private_comment = $5, public_comment = $6, obfuscate = $7,
                                  updated_at = $8, subscription_id = $9
         where id = $1
         returning *",
    )
    .bind(id)
    .bind(&f.severity)
    .bind(f.reject_media)
    .bind(f.reject_reports)
    .bind(&f.private_comment)
    .bind(&f.public_comment)
    .bind(f.obfuscate)
    .bind(now)
    .bind(subscription)
    .fetch_optional(&mut *db)
    .await?;
    events::emit(db, &Change::DomainPolicy).await?;
    Ok(block)
}

pub async fn delete(db: &mut PgConnection, id: i64) -> Result<Option<DomainBlock>, sqlx::Error> {
    let deleted = sqlx::query_as("delete from domain_blocks where id = $1 returning *")
        .bind(id)
        .fetch_optional(&mut *db)
        .await?;
    events::emit(db, &Change::DomainPolicy).await?;
    Ok(deleted)
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<DomainBlock>, sqlx::Error> {
    sqlx::query_as("select * from domain_blocks where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn find_by_domain(
    db: impl PgExecutor<'_>,
    domain: &str,
) -> Result<Option<DomainBlock>, sqlx::Error> {
    sqlx::query_as("select * from domain_blocks where domain = $1")
        .bind(domain)
        .fetch_optional(db)
        .await
}

/// Every block, by domain.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<DomainBlock>, sqlx::Error> {
    sqlx::query_as("select * from domain_blocks order by domain")
        .fetch_all(db)
        .await
}

/// The blocks that cover `host` (the domain itself or a parent), the most
/// specific first.
pub async fn covering(
    db: impl PgExecutor<'_>,
    host: &str,
) -> Result<Vec<DomainBlock>, sqlx::Error> {
    sqlx::query_as(
        "select * from domain_blocks where domain_covers($1, domain)
         order by length(domain) desc",
    )
    .bind(host)
    .fetch_all(db)
    .await
}

pub async fn insert_allow(
    db: &mut PgConnection,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<DomainAllow, sqlx::Error> {
    let allow = sqlx::query_as(
        "insert into domain_allows (domain, created_at) values ($1, $2) returning *",
    )
    .bind(domain)
    .bind(now)
    .fetch_one(&mut *db)
    .await?;
    events::emit(db, &Change::DomainPolicy).await?;
    Ok(allow)
}

pub async fn delete_allow(
    db: &mut PgConnection,
    id: i64,
) -> Result<Option<DomainAllow>, sqlx::Error> {
    let deleted = sqlx::query_as("delete from domain_allows where id = $1 returning *")
        .bind(id)
        .fetch_optional(&mut *db)
        .await?;
    events::emit(db, &Change::DomainPolicy).await?;
    Ok(deleted)
}

pub async fn list_allows(db: impl PgExecutor<'_>) -> Result<Vec<DomainAllow>, sqlx::Error> {
    sqlx::query_as("select * from domain_allows order by domain")
        .fetch_all(db)
        .await
}

/// Whether an allowed domain covers `host`.
pub async fn is_allowed(db: impl PgExecutor<'_>, host: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from domain_allows where domain_covers($1, domain))",
    )
    .bind(host)
    .fetch_one(db)
    .await
}

/// What suspending `domain` does to what is stored: relations with its
/// accounts end both ways, their posts and reposts become tombstones,
/// their likes and the notifications they caused go, and deliveries still
/// waiting for the domain fail. Returns the number of accounts affected.
pub async fn purge(
    db: &mut PgConnection,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "select id from actors where domain is not null and domain_covers(domain, $1)",
    )
    .bind(domain)
    .fetch_all(&mut *db)
    .await?;
    purge_actors(&mut *db, &ids, now).await?;
    sqlx::query(
        "update deliveries set state = 'failed', last_error = 'the domain is suspended',
                               finished_at = $2, locked_by = null, locked_until = null
         where state = 'pending' and domain_covers(host, $1)",
    )
    .bind(domain)
    .bind(now)
    .execute(&mut *db)
    .await?;
    Ok(ids.len() as u64)
}

/// What suspending accounts does to what is stored of them: relations end
/// both ways (without telling anyone: the caller does), their posts and
/// reposts become tombstones (the counts of the posts they answered or
/// reposted go down), their likes and the notifications they caused go.
pub async fn purge_actors(
    db: &mut PgConnection,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    for sql in [
        "delete from follows where follower_id = any($1) or followee_id = any($1)",
        "delete from notifications where from_actor_id = any($1)",
        "with gone as (delete from likes where actor_id = any($1) returning post_id)
         update posts p set likes_count = greatest(p.likes_count - g.n, 0)
         from (select post_id, count(*) as n from gone group by post_id) g
         where p.id = g.post_id and $2::timestamptz is not null",
        "with gone as (update posts set deleted_at = $2
                       where author_id = any($1) and deleted_at is null
                         and reblog_of_id is not null
                       returning reblog_of_id)
         update posts p set reposts_count = greatest(p.reposts_count - g.n, 0)
         from (select reblog_of_id, count(*) as n from gone group by reblog_of_id) g
         where p.id = g.reblog_of_id",
        "with gone as (update posts set deleted_at = $2
                       where author_id = any($1) and deleted_at is null
                         and in_reply_to_id is not null
                       returning in_reply_to_id)
         update posts p set replies_count = greatest(p.replies_count - g.n, 0)
         from (select in_reply_to_id, count(*) as n from gone group by in_reply_to_id) g
         where p.id = g.in_reply_to_id and not p.author_id = any($1)",
        "update posts set deleted_at = $2 where author_id = any($1) and deleted_at is null",
    ] {
        sqlx::query(sql)
            .bind(ids)
            .bind(now)
            .execute(&mut *db)
            .await?;
    }
    Ok(())
}

/// What rejecting media from `domain` does to what is stored, as in
/// Mastodon: the attachments and custom emoji of its accounts' posts go,
/// and so do their avatars, headers and their profiles' custom emoji.
pub async fn drop_media(db: &mut PgConnection, domain: &str) -> Result<u64, sqlx::Error> {
    let attachments = sqlx::query(
        "delete from attachments m using posts p, actors a
         where m.post_id = p.id and p.author_id = a.id
           and a.domain is not null and domain_covers(a.domain, $1)",
    )
    .bind(domain)
    .execute(&mut *db)
    .await?
    .rows_affected();
    sqlx::query(
        "delete from post_emojis e using posts p, actors a
         where e.post_id = p.id and p.author_id = a.id
           and a.domain is not null and domain_covers(a.domain, $1)",
    )
    .bind(domain)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "delete from actor_emojis e using actors a
         where e.actor_id = a.id
           and a.domain is not null and domain_covers(a.domain, $1)",
    )
    .bind(domain)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "update actors set avatar_url = null, header_url = null
         where domain is not null and domain_covers(domain, $1)
           and (avatar_url is not null or header_url is not null)",
    )
    .bind(domain)
    .execute(&mut *db)
    .await?;
    Ok(attachments)
}
