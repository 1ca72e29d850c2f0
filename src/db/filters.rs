//! `filters`, `filter_keywords` and `filter_statuses`: a local account's
//! filters, their keywords and the statuses they name. Reads by id take the
//! owner too, so another account's filter is simply not found.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Filter {
    pub id: i64,
    pub actor_id: i64,
    pub title: String,
    pub context: Vec<String>,
    pub action: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FilterKeyword {
    pub id: i64,
    pub filter_id: i64,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FilterStatus {
    pub id: i64,
    pub filter_id: i64,
    pub post_id: i64,
}

/// A filter's settings, as written.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub title: &'a str,
    pub context: &'a [String],
    pub action: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> Result<Filter, sqlx::Error> {
    sqlx::query_as(
        "insert into filters (actor_id, title, context, action, expires_at, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $6) returning *",
    )
    .bind(actor_id)
    .bind(fields.title)
    .bind(fields.context)
    .bind(fields.action)
    .bind(fields.expires_at)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn update(
    db: impl PgExecutor<'_>,
    id: i64,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> Result<Filter, sqlx::Error> {
    sqlx::query_as(
        "update filters set title = $2, context = $3, action = $4, expires_at = $5, updated_at = $6
         where id = $1 returning *",
    )
    .bind(id)
    .bind(fields.title)
    .bind(fields.context)
    .bind(fields.action)
    .bind(fields.expires_at)
    .bind(now)
    .fetch_one(db)
    .await
}

/// A filter of `actor_id`.
pub async fn find(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<Option<Filter>, sqlx::Error> {
    sqlx::query_as("select * from filters where id = $1 and actor_id = $2")
        .bind(id)
        .bind(actor_id)
        .fetch_optional(db)
        .await
}

/// Every filter of `actor_id`, oldest first.
pub async fn all(db: impl PgExecutor<'_>, actor_id: i64) -> Result<Vec<Filter>, sqlx::Error> {
    sqlx::query_as("select * from filters where actor_id = $1 order by id")
        .bind(actor_id)
        .fetch_all(db)
        .await
}

/// The filters of `actor_id` still in force at `now`.
pub async fn live(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Filter>, sqlx::Error> {
    sqlx::query_as(
        "select * from filters where actor_id = $1 and (expires_at is null or expires_at > $2)
         order by id",
    )
    .bind(actor_id)
    .bind(now)
    .fetch_all(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, actor_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from filters where id = $1 and actor_id = $2")
        .bind(id)
        .bind(actor_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// The keywords of these filters, oldest first.
pub async fn keywords_of(
    db: impl PgExecutor<'_>,
    filter_ids: &[i64],
) -> Result<Vec<FilterKeyword>, sqlx::Error> {
    sqlx::query_as(
        "select id, filter_id, keyword, whole_word from filter_keywords
         where filter_id = any($1) order by id",
    )
    .bind(filter_ids)
    .fetch_all(db)
    .await
}

pub async fn insert_keyword(
    db: impl PgExecutor<'_>,
    filter_id: i64,
    keyword: &str,
    whole_word: bool,
    now: DateTime<Utc>,
) -> Result<FilterKeyword, sqlx::Error> {
    sqlx::query_as(
        "insert into filter_keywords (filter_id, keyword, whole_word, created_at)
         values ($1, $2, $3, $4) returning id, filter_id, keyword, whole_word",
    )
    .bind(filter_id)
    .bind(keyword)
    .bind(whole_word)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn update_keyword(
    db: impl PgExecutor<'_>,
    id: i64,
    keyword: &str,
    whole_word: bool,
) -> Result<FilterKeyword, sqlx::Error> {
    sqlx::query_as(
        "update filter_keywords set keyword = $2, whole_word = $3 where id = $1
         returning id, filter_id, keyword, whole_word",
    )
    .bind(id)
    .bind(keyword)
    .bind(whole_word)
    .fetch_one(db)
    .await
}

/// A keyword of one of `actor_id`'s filters.
pub async fn find_keyword(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<Option<FilterKeyword>, sqlx::Error> {
    sqlx::query_as(
        "select k.id, k.filter_id, k.keyword, k.whole_word
         from filter_keywords k join filters f on f.id = k.filter_id
         where k.id = $1 and f.actor_id = $2",
    )
    .bind(id)
    .bind(actor_id)
    .fetch_optional(db)
    .await
}

pub async fn delete_keyword(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from filter_keywords where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// The statuses these filters name, oldest first.
pub async fn statuses_of(
    db: impl PgExecutor<'_>,
    filter_ids: &[i64],
) -> Result<Vec<FilterStatus>, sqlx::Error> {
    sqlx::query_as(
        "select id, filter_id, post_id from filter_statuses where filter_id = any($1) order by id",
    )
    .bind(filter_ids)
    .fetch_all(db)
    .await
}

/// Adds a status to a filter; None when the filter already names it.
pub async fn insert_status(
    db: impl PgExecutor<'_>,
    filter_id: i64,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<FilterStatus>, sqlx::Error> {
    sqlx::query_as(
        "insert into filter_statuses (filter_id, post_id, created_at) values ($1, $2, $3)
         on conflict (filter_id, post_id) do nothing
         returning id, filter_id, post_id",
    )
    .bind(filter_id)
    .bind(post_id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// A status entry of one of `actor_id`'s filters.
pub async fn find_status(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<Option<FilterStatus>, sqlx::Error> {
    sqlx::query_as(
        "select s.id, s.filter_id, s.post_id
         from filter_statuses s join filters f on f.id = s.filter_id
         where s.id = $1 and f.actor_id = $2",
    )
    .bind(id)
    .bind(actor_id)
    .fetch_optional(db)
    .await
}

pub async fn delete_status(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from filter_statuses where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}
