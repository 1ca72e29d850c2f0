//! `lists` and `list_accounts`: a local account's lists and their members.
//! Reads by id take the owner too, so another account's list is simply not
//! found. A member row holds the owner's follow of the member, so ending
//! the follow removes the member (a foreign key cascade).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::timelines::Page;
use crate::db::views::Listed;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct List {
    pub id: i64,
    pub actor_id: i64,
    pub title: String,
    pub replies_policy: String,
    pub exclusive: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    title: &str,
    replies_policy: &str,
    exclusive: bool,
    now: DateTime<Utc>,
) -> Result<List, sqlx::Error> {
    sqlx::query_as(
        "insert into lists (actor_id, title, replies_policy, exclusive, created_at)
         values ($1, $2, $3, $4, $5) returning *",
    )
    .bind(actor_id)
    .bind(title)
    .bind(replies_policy)
    .bind(exclusive)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn update(
    db: impl PgExecutor<'_>,
    id: i64,
    title: &str,
    replies_policy: &str,
    exclusive: bool,
) -> Result<List, sqlx::Error> {
    sqlx::query_as(
        "update lists set title = $2, replies_policy = $3, exclusive = $4 where id = $1
         returning *",
    )
    .bind(id)
    .bind(title)
    .bind(replies_policy)
    .bind(exclusive)
    .fetch_one(db)
    .await
}

pub async fn count(db: impl PgExecutor<'_>, actor_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from lists where actor_id = $1")
        .bind(actor_id)
        .fetch_one(db)
        .await
}

/// A list of `actor_id`.
pub async fn find(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<Option<List>, sqlx::Error> {
    sqlx::query_as("select * from lists where id = $1 and actor_id = $2")
        .bind(id)
        .bind(actor_id)
        .fetch_optional(db)
        .await
}

/// Every list of `actor_id`, oldest first.
pub async fn all(db: impl PgExecutor<'_>, actor_id: i64) -> Result<Vec<List>, sqlx::Error> {
    sqlx::query_as("select * from lists where actor_id = $1 order by id")
        .bind(actor_id)
        .fetch_all(db)
        .await
}

/// The lists of `actor_id` that `member_id` is on.
pub async fn containing(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    member_id: i64,
) -> Result<Vec<List>, sqlx::Error> {
    sqlx::query_as(
        "select l.* from lists l join list_accounts m on m.list_id = l.id
         where l.actor_id = $1 and m.actor_id = $2 order by l.id",
    )
    .bind(actor_id)
    .bind(member_id)
    .fetch_all(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, actor_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from lists where id = $1 and actor_id = $2")
        .bind(id)
        .bind(actor_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Adds a member; false when it already is one.
pub async fn add_member(
    db: impl PgExecutor<'_>,
    list_id: i64,
    member_id: i64,
    follow_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "insert into list_accounts (list_id, actor_id, follow_id, created_at)
         values ($1, $2, $3, $4) on conflict (list_id, actor_id) do nothing",
    )
    .bind(list_id)
    .bind(member_id)
    .bind(follow_id)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

pub async fn remove_members(
    db: impl PgExecutor<'_>,
    list_id: i64,
    member_ids: &[i64],
) -> Result<u64, sqlx::Error> {
    sqlx::query("delete from list_accounts where list_id = $1 and actor_id = any($2)")
        .bind(list_id)
        .bind(member_ids)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

/// Members of a list, newest first, paged on the membership row (all of
/// them without a page).
pub async fn members(
    db: impl PgExecutor<'_>,
    list_id: i64,
    page: Option<Page>,
) -> Result<Vec<Listed>, sqlx::Error> {
    let page = page.unwrap_or(Page {
        limit: i64::MAX,
        ..Page::default()
    });
    let ascending = page.min_id.is_some();
    let order = if ascending { "asc" } else { "desc" };
    let sql = format!(
        "select m.id as cursor, a.* from list_accounts m join actors a on a.id = m.actor_id
         where m.list_id = $1 and a.gone_at is null
           and ($2::bigint is null or m.id < $2)
           and ($3::bigint is null or m.id > $3)
         order by m.id {order} limit $4"
    );
    let mut rows: Vec<Listed> = sqlx::query_as(&sql)
        .bind(list_id)
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
