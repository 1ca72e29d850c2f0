//! `bookmarks`: posts a local account keeps for later (private).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::posts::Post;
use crate::db::timelines::Page;

pub async fn insert(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into bookmarks (actor_id, post_id, created_at) values ($1, $2, $3)
         on conflict (actor_id, post_id) do nothing",
    )
    .bind(actor_id)
    .bind(post_id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

pub async fn delete(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    post_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from bookmarks where actor_id = $1 and post_id = $2")
        .bind(actor_id)
        .bind(post_id)
        .execute(db)
        .await
        .map(drop)
}

/// A post in a per-account list (bookmarks, favourites) with the id of the
/// row that put it there, for paging.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Marked {
    pub cursor: i64,
    #[sqlx(flatten)]
    pub post: Post,
}

/// Bookmarked or liked posts, newest mark first; only live posts.
pub async fn page(
    db: impl PgExecutor<'_>,
    favourites: bool,
    actor_id: i64,
    page: Page,
) -> Result<Vec<Marked>, sqlx::Error> {
    let table = if favourites { "likes" } else { "bookmarks" };
    let order = if page.min_id.is_some() { "asc" } else { "desc" };
    let sql = format!(
        "select m.id as cursor, p.* from {table} m join posts p on p.id = m.post_id
         where m.actor_id = $1 and p.deleted_at is null
           and ($2::bigint is null or m.id < $2)
           and ($3::bigint is null or m.id > $3)
         order by m.id {order} limit $4"
    );
    let mut rows: Vec<Marked> = sqlx::query_as(&sql)
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

/// The ids (ActivityPub) of every post an actor bookmarked, oldest first.
pub async fn bookmarked_post_ids(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select p.ap_id from bookmarks b join posts p on p.id = b.post_id
         where b.actor_id = $1 order by b.id",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}
