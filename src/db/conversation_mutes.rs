//! `conversation_mutes`: threads a local account muted, by their first
//! post (`thread_root` in SQL walks a post up to it).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Mutes the thread of `post_id`.
pub async fn mute(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into conversation_mutes (actor_id, root_id, created_at)
         values ($1, thread_root($2), $3)
         on conflict (actor_id, root_id) do nothing",
    )
    .bind(actor_id)
    .bind(post_id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

pub async fn unmute(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    post_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from conversation_mutes where actor_id = $1 and root_id = thread_root($2)")
        .bind(actor_id)
        .bind(post_id)
        .execute(db)
        .await
        .map(drop)
}

/// Whether the thread of `post_id` is muted by `actor_id`.
pub async fn is_muted(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    post_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from conversation_mutes where actor_id = $1)
            and exists (select 1 from conversation_mutes
                        where actor_id = $1 and root_id = thread_root($2))",
    )
    .bind(actor_id)
    .bind(post_id)
    .fetch_one(db)
    .await
}
