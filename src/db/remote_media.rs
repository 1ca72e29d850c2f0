//! The `remote_media` table: remote accounts' and posts' media files, one
//! row per remote URL, queued when named, downloaded by workers (claimed
//! `for update skip locked` with the worker lock and a lease, as
//! `db::queue` claims deliveries), stored, pruned and fetched again.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::queue::WORKER_LOCK_CLASS;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RemoteMedia {
    pub id: i64,
    pub url: String,
    pub kind: String,
    pub domain: String,
    pub token: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub file_key: Option<String>,
    pub small_key: Option<String>,
    pub content_type: Option<String>,
    pub small_content_type: Option<String>,
    pub file_size: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub blurhash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub fetched_at: Option<DateTime<Utc>>,
}

/// A URL to cache: the URL, its kind (`attachment`, `avatar`, `header`,
/// `emoji`, `card`) and the host of the account or post naming it.
#[derive(Debug, Clone)]
pub struct Wanted<'a> {
    pub url: &'a str,
    pub kind: &'a str,
    pub domain: &'a str,
}

/// Queues URLs to download; one already known (in any state) is left as
/// it is. Returns how many were queued.
pub async fn request(
    db: impl PgExecutor<'_>,
    wanted: &[Wanted<'_>],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    if wanted.is_empty() {
        return Ok(0);
    }
    let urls: Vec<&str> = wanted.iter().map(|w| w.url).collect();
    let kinds: Vec<&str> = wanted.iter().map(|w| w.kind).collect();
    let domains: Vec<&str> = wanted.iter().map(|w| w.domain).collect();
    sqlx::query(
        "insert into remote_media (url, kind, domain, next_attempt_at, created_at)
         select u, k, d, $4, $4 from unnest($1::text[], $2::text[], $3::text[]) as w (u, k, d)
         on conflict (url) do nothing",
    )
    .bind(urls)
    .bind(kinds)
    .bind(domains)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// The free-claim condition shared by both claims: not claimed, or the
/// lease ended, or the claiming process's worker lock is gone.
const FREE: &str = "(r.locked_until is null or r.locked_until < $2
                     or (r.locked_by is not null
                         and not (r.locked_by::bigint = any(coalesce(live.ids, '{}')))))";

fn live_cte() -> String {
    format!(
        "live as (
             select array_agg(objid::bigint) as ids from pg_locks
             where locktype = 'advisory' and classid = {WORKER_LOCK_CLASS}::bigint::oid
               and objsubid = 2 and granted
               and database = (select oid from pg_database where datname = current_database())
         )"
    )
}

/// Claims up to `limit` due downloads for `worker` until `lease_until`,
/// oldest due first.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    worker: i32,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<RemoteMedia>, sqlx::Error> {
    let sql = format!(
        "with {live},
         due as (
             select r.id from remote_media r, live
             where r.state = 'pending' and r.next_attempt_at <= $2 and {FREE}
             order by r.next_attempt_at, r.id
             limit $4
             for update of r skip locked
         )
         update remote_media r
         set locked_by = $1, locked_until = $3, attempts = r.attempts + 1
         from due where r.id = due.id
         returning r.*",
        live = live_cte()
    );
    sqlx::query_as(&sql)
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Claims a pruned row by its token to download it again now (a request
/// for it arrived). None when it is not pruned or is being fetched.
pub async fn claim_pruned(
    db: impl PgExecutor<'_>,
    token: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<RemoteMedia>, sqlx::Error> {
    sqlx::query_as(
        "update remote_media
         set state = 'pending', locked_by = null, locked_until = $3, attempts = 1,
             next_attempt_at = $2, last_error = null
         where token = $1 and state = 'pruned'
         returning *",
    )
    .bind(token)
    .bind(now)
    .bind(lease_until)
    .fetch_optional(db)
    .await
}

/// A row by its token.
pub async fn find_by_token(
    db: impl PgExecutor<'_>,
    token: &str,
) -> Result<Option<RemoteMedia>, sqlx::Error> {
    sqlx::query_as("select * from remote_media where token = $1")
        .bind(token)
        .fetch_optional(db)
        .await
}

/// A row by its remote URL.
pub async fn find_by_url(
    db: impl PgExecutor<'_>,
    url: &str,
) -> Result<Option<RemoteMedia>, sqlx::Error> {
    sqlx::query_as("select * from remote_media where url = $1")
        .bind(url)
        .fetch_optional(db)
        .await
}

/// The stored content type of a cached file, by its name (the file or its
/// preview); None when no stored row names it.
pub async fn content_type_of_file(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select case when file_key = $1 then content_type else small_content_type end
         from remote_media where state = 'stored' and (file_key = $1 or small_key = $1)",
    )
    .bind(name)
    .fetch_optional(db)
    .await
}

/// What a download stored.
#[derive(Debug, Clone)]
pub struct StoredFiles<'a> {
    pub file_key: &'a str,
    pub small_key: Option<&'a str>,
    pub content_type: &'a str,
    pub small_content_type: Option<&'a str>,
    pub file_size: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub blurhash: Option<&'a str>,
}

/// Records a download that stored its files. False when the row is gone
/// or no longer this claim's (removed meanwhile): the caller removes the
/// files.
pub async fn record_stored(
    db: impl PgExecutor<'_>,
    id: i64,
    files: &StoredFiles<'_>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "update remote_media
         set state = 'stored', file_key = $2, small_key = $3, content_type = $4,
             small_content_type = $5, file_size = $6, width = $7, height = $8,
             blurhash = $9, fetched_at = $10, last_error = null,
             locked_by = null, locked_until = null
         where id = $1 and state = 'pending'",
    )
    .bind(id)
    .bind(files.file_key)
    .bind(files.small_key)
    .bind(files.content_type)
    .bind(files.small_content_type)
    .bind(files.file_size)
    .bind(files.width)
    .bind(files.height)
    .bind(files.blurhash)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Records a download to try again at `next_attempt_at`.
pub async fn record_retry(
    db: impl PgExecutor<'_>,
    id: i64,
    error: &str,
    next_attempt_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update remote_media
         set next_attempt_at = $3, last_error = $2, locked_by = null, locked_until = null
         where id = $1 and state = 'pending'",
    )
    .bind(id)
    .bind(error)
    .bind(next_attempt_at)
    .execute(db)
    .await
    .map(drop)
}

/// Records a download given up: the remote URL stays what is shown.
pub async fn record_failed(
    db: impl PgExecutor<'_>,
    id: i64,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update remote_media
         set state = 'failed', last_error = $2, locked_by = null, locked_until = null
         where id = $1 and state = 'pending'",
    )
    .bind(id)
    .bind(error)
    .execute(db)
    .await
    .map(drop)
}

/// Cached files by the remote URLs they came from, stored or pruned
/// (what a page shows for them).
pub async fn cached_for_urls(
    db: impl PgExecutor<'_>,
    urls: &[String],
) -> Result<Vec<RemoteMedia>, sqlx::Error> {
    sqlx::query_as(
        "select * from remote_media where url = any($1) and state in ('stored', 'pruned')",
    )
    .bind(urls)
    .fetch_all(db)
    .await
}

/// Marks up to `limit` rows stored before `before` as pruned and forgets
/// their file names; returns the names (each file and its preview), to
/// remove once this commits.
pub async fn prune_batch(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "with old as (
             select id from remote_media
             where state = 'stored' and fetched_at < $1
             order by fetched_at
             limit $2
             for update skip locked
         ),
         pruned as (
             select r.id, r.file_key, r.small_key from remote_media r join old using (id)
         )
         update remote_media r
         set state = 'pruned', file_key = null, small_key = null, content_type = null,
             small_content_type = null, file_size = null
         from pruned where r.id = pruned.id
         returning pruned.file_key, pruned.small_key",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Forgets every cached file of accounts and posts of `domain` (and its
/// subdomains), as its media are now rejected: the rows go, and their
/// files are written to `media_deletions` in the same transaction, for
/// the hourly cleanup to remove (they are no longer served at once).
/// Returns how many rows went.
pub async fn forget_domain(
    db: &mut PgConnection,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    sqlx::query_scalar(
        "with gone as (
             delete from remote_media
             where domain_covers(domain, $1)
             returning file_key, small_key
         ),
         names as (
             select file_key as name from gone where file_key is not null
             union all
             select small_key from gone where small_key is not null
         ),
         remembered as (
             insert into media_deletions (name, first_failed_at)
             select name, $2 from names
             on conflict (name) do nothing
         )
         select count(*) from gone",
    )
    .bind(domain)
    .bind(now)
    .fetch_one(&mut *db)
    .await
    .map(|gone: i64| gone as u64)
}

/// How many rows are in each state (for the command line's report).
pub async fn counts(db: impl PgExecutor<'_>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("select state, count(*) from remote_media group by state order by state")
        .fetch_all(db)
        .await
}
