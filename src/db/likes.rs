//! The `likes` table, and the post counters it keeps right.

use sqlx::PgConnection;

/// Records a like and counts it; false when it was there already (a
/// duplicate changes no counter).
pub async fn insert(
    db: &mut PgConnection,
    actor_id: i64,
    post_id: i64,
    ap_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    // One statement: the count moves only when the like is new.
    let counted = sqlx::query(
        "with liked as (
             insert into likes (actor_id, post_id, ap_id) values ($1, $2, $3)
             on conflict do nothing
             returning post_id
         )
         update posts set likes_count = likes_count + 1
         where id = (select post_id from liked)",
    )
    .bind(actor_id)
    .bind(post_id)
    .bind(ap_id)
    .execute(&mut *db)
    .await?
    .rows_affected();
    Ok(counted == 1)
}

/// Removes a like (by the pair, or by the Like's id with the actor checked)
/// and uncounts it; returns the post it was on.
pub async fn delete(
    db: &mut PgConnection,
    actor_id: i64,
    post_id: Option<i64>,
    ap_id: Option<&str>,
) -> Result<Option<i64>, sqlx::Error> {
    let removed: Option<i64> = sqlx::query_scalar(
        "delete from likes
         where actor_id = $1 and (post_id = $2 or ($3::text is not null and ap_id = $3))
         returning post_id",
    )
    .bind(actor_id)
    .bind(post_id)
    .bind(ap_id)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(post_id) = removed {
        sqlx::query("update posts set likes_count = greatest(likes_count - 1, 0) where id = $1")
            .bind(post_id)
            .execute(&mut *db)
            .await?;
    }
    Ok(removed)
}

/// The id of the Like activity behind a like, if it was federated.
pub async fn find_ap_id(
    db: &mut PgConnection,
    actor_id: i64,
    post_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar::<_, Option<String>>(
        "select ap_id from likes where actor_id = $1 and post_id = $2",
    )
    .bind(actor_id)
    .bind(post_id)
    .fetch_optional(db)
    .await
    .map(Option::flatten)
}

/// The ids (ActivityPub) of every post an actor liked, oldest like first.
pub async fn liked_post_ids(
    db: impl sqlx::PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select p.ap_id from likes l join posts p on p.id = l.post_id
         where l.actor_id = $1 order by l.id",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}
