//! The `pins` table: posts an account features on its profile.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::posts::Post;

/// Pins a post; false when it was pinned already.
pub async fn pin(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query("insert into pins (actor_id, post_id, created_at) values ($1, $2, $3) on conflict do nothing")
        .bind(actor_id)
        .bind(post_id)
        .bind(now)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

pub async fn unpin(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    post_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from pins where actor_id = $1 and post_id = $2")
        .bind(actor_id)
        .bind(post_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

pub async fn count(db: impl PgExecutor<'_>, actor_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from pins where actor_id = $1")
        .bind(actor_id)
        .fetch_one(db)
        .await
}

/// Pinned posts that anyone may read, most recently pinned first.
pub async fn public_pins(db: impl PgExecutor<'_>, actor_id: i64) -> Result<Vec<Post>, sqlx::Error> {
    sqlx::query_as(
        "select p.* from pins x join posts p on p.id = x.post_id
         where x.actor_id = $1 and p.deleted_at is null and p.visibility in ('public', 'unlisted')
         order by x.created_at desc",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}
