//! `reply_fetches`: background fetches of a remote post's replies (the
//! async refreshes of threads), their claims and their progress.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A fetch of a post's replies.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyFetch {
    pub id: i64,
    pub post_id: i64,
    pub status: String,
    pub result_count: i32,
    pub due_at: DateTime<Utc>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ReplyFetch {
    pub fn running(&self) -> bool {
        self.status == "running"
    }
}

/// The post's latest fetch, if any.
pub async fn latest(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Option<ReplyFetch>, sqlx::Error> {
    sqlx::query_as(
        "select * from reply_fetches where post_id = $1 order by created_at desc, id desc limit 1",
    )
    .bind(post_id)
    .fetch_optional(db)
    .await
}

/// Queues a fetch of the post's replies, due now; the fetch under way when
/// there already is one.
pub async fn queue(
    db: impl PgExecutor<'_> + Copy,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<ReplyFetch, sqlx::Error> {
    let made: Option<ReplyFetch> = sqlx::query_as(
        "insert into reply_fetches (post_id, due_at, created_at) values ($1, $2, $2)
         on conflict (post_id) where status = 'running' do nothing
         returning *",
    )
    .bind(post_id)
    .bind(now)
    .fetch_optional(db)
    .await?;
    match made {
        Some(made) => Ok(made),
        None => {
            sqlx::query_as("select * from reply_fetches where post_id = $1 and status = 'running'")
                .bind(post_id)
                .fetch_one(db)
                .await
        }
    }
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<ReplyFetch>, sqlx::Error> {
    sqlx::query_as("select * from reply_fetches where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Claims up to `limit` due fetches until `lease_until`.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<ReplyFetch>, sqlx::Error> {
    sqlx::query_as(
        "update reply_fetches f set attempts = f.attempts + 1, due_at = $2
         where f.id in (select id from reply_fetches
                        where status = 'running' and due_at <= $1
                        order by due_at, id
                        limit $3
                        for update skip locked)
         returning f.*",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Counts one more reply stored.
pub async fn add_result(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update reply_fetches set result_count = result_count + 1 where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

pub async fn finish(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update reply_fetches set status = 'finished', finished_at = $2
         where id = $1 and status = 'running'",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// Forgets fetches finished before `before` (they are reported for an
/// hour after).
pub async fn prune(db: impl PgExecutor<'_>, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("delete from reply_fetches where status = 'finished' and finished_at < $1")
            .bind(before)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
