//! The `follows` table: who follows whom, and follow requests still pending.

use sqlx::PgExecutor;

/// One entry of a followers or following listing: the relation's id (the
/// keyset cursor) and the other actor's ActivityPub id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowEntry {
    pub id: i64,
    pub ap_id: String,
}

/// Which side of the relation a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Actors following the given one.
    Followers,
    /// Actors the given one follows.
    Following,
}

pub async fn count_accepted(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    side: Side,
) -> Result<i64, sqlx::Error> {
    let sql = match side {
        Side::Followers => {
            "select count(*) from follows where followee_id = $1 and state = 'accepted'"
        }
        Side::Following => {
            "select count(*) from follows where follower_id = $1 and state = 'accepted'"
        }
    };
    sqlx::query_scalar(sql).bind(actor_id).fetch_one(db).await
}

/// Accepted relations, newest first, with ids below `max_id` when given.
pub async fn page_accepted(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    side: Side,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<FollowEntry>, sqlx::Error> {
    let sql = match side {
        Side::Followers => {
            "select f.id, a.ap_id from follows f join actors a on a.id = f.follower_id
             where f.followee_id = $1 and f.state = 'accepted' and ($2::bigint is null or f.id < $2)
             order by f.id desc limit $3"
        }
        Side::Following => {
            "select f.id, a.ap_id from follows f join actors a on a.id = f.followee_id
             where f.follower_id = $1 and f.state = 'accepted' and ($2::bigint is null or f.id < $2)
             order by f.id desc limit $3"
        }
    };
    sqlx::query_as(sql)
        .bind(actor_id)
        .bind(max_id)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Records an accepted follow (also used by tests to set up relations).
pub async fn insert_accepted(
    db: impl PgExecutor<'_>,
    follower_id: i64,
    followee_id: i64,
    ap_id: Option<&str>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into follows (follower_id, followee_id, ap_id, state)
         values ($1, $2, $3, 'accepted') returning id",
    )
    .bind(follower_id)
    .bind(followee_id)
    .bind(ap_id)
    .fetch_one(db)
    .await
}
