//! The `blocks` table: who blocks whom.

use sqlx::PgExecutor;

pub async fn insert(
    db: impl PgExecutor<'_>,
    blocker_id: i64,
    blocked_id: i64,
    ap_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into blocks (blocker_id, blocked_id, ap_id) values ($1, $2, $3)
         on conflict (blocker_id, blocked_id) do update set ap_id = coalesce(excluded.ap_id, blocks.ap_id)",
    )
    .bind(blocker_id)
    .bind(blocked_id)
    .bind(ap_id)
    .execute(db)
    .await
    .map(drop)
}

/// Removes a block, by the pair or by the Block activity's id.
pub async fn delete(
    db: impl PgExecutor<'_>,
    blocker_id: i64,
    blocked_id: Option<i64>,
    ap_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "delete from blocks
         where blocker_id = $1 and (blocked_id = $2 or ($3::text is not null and ap_id = $3))",
    )
    .bind(blocker_id)
    .bind(blocked_id)
    .bind(ap_id)
    .execute(db)
    .await
    .map(|r| r.rows_affected() > 0)
}

/// Whether either actor blocks the other.
pub async fn between(db: impl PgExecutor<'_>, a: i64, b: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from blocks
                        where (blocker_id = $1 and blocked_id = $2)
                           or (blocker_id = $2 and blocked_id = $1))",
    )
    .bind(a)
    .bind(b)
    .fetch_one(db)
    .await
}

/// The id of the Block activity behind a block, if it was federated.
pub async fn find_ap_id(
    db: impl PgExecutor<'_>,
    blocker_id: i64,
    blocked_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, Option<String>>(
        "select ap_id from blocks where blocker_id = $1 and blocked_id = $2",
    )
    .bind(blocker_id)
    .bind(blocked_id)
    .fetch_optional(db)
    .await
    .map(Option::flatten)
}
