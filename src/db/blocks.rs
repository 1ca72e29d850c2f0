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

/// Local accounts' blocks of `from` extended to `to` (an account that moved):
/// returns the blockers whose block is new.
pub async fn copy_local(
    db: impl PgExecutor<'_>,
    from: i64,
    to: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "insert into blocks (blocker_id, blocked_id)
         select b.blocker_id, $2 from blocks b join actors a on a.id = b.blocker_id
         where b.blocked_id = $1 and a.domain is null and b.blocker_id <> $2
         on conflict (blocker_id, blocked_id) do nothing
         returning blocker_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

/// The accounts an actor blocks, oldest first.
pub async fn blocked_by(
    db: impl PgExecutor<'_>,
    blocker_id: i64,
) -> Result<Vec<crate::db::actors::Actor>, sqlx::Error> {
    sqlx::query_as(
        "select a.* from blocks b join actors a on a.id = b.blocked_id
         where b.blocker_id = $1 order by b.id",
    )
    .bind(blocker_id)
    .fetch_all(db)
    .await
}
