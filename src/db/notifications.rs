//! The `notifications` table: what local accounts are told about.

use sqlx::PgExecutor;

/// Records a notification; the same event twice is one notification.
pub async fn notify(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    kind: &str,
    from_actor_id: i64,
    post_id: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into notifications (recipient_id, kind, from_actor_id, post_id)
         select $1, $2, $3, $4
         where exists (select 1 from actors where id = $1 and domain is null)
         on conflict do nothing",
    )
    .bind(recipient_id)
    .bind(kind)
    .bind(from_actor_id)
    .bind(post_id)
    .execute(db)
    .await
    .map(drop)
}
