//! Followers collection synchronisation (FEP-8fcf): the digests the
//! `follower_digests` trigger keeps, the partial collections, and when each
//! remote actor's followers were last resynchronised.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// The digest (as a string of 256 `0`/`1`) of `followee_id`'s accepted
/// followers whose ids start with `prefix`; none when there are none.
pub async fn digest(
    db: impl PgExecutor<'_>,
    followee_id: i64,
    prefix: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select digest::text from follower_digests where followee_id = $1 and prefix = $2",
    )
    .bind(followee_id)
    .bind(prefix)
    .fetch_optional(db)
    .await
}

/// The digests of several senders' followers at several prefixes, in one
/// query: `(followee, prefix, bits)`.
pub async fn digests(
    db: impl PgExecutor<'_>,
    followees: &[i64],
    prefixes: &[String],
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select followee_id, prefix, digest::text from follower_digests
         where followee_id = any($1) and prefix = any($2)",
    )
    .bind(followees)
    .bind(prefixes)
    .fetch_all(db)
    .await
}

/// The ids of `followee_id`'s accepted followers whose ids start with
/// `prefix` (the partial followers collection).
pub async fn follower_ids(
    db: impl PgExecutor<'_>,
    followee_id: i64,
    prefix: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select a.ap_id from follows f join actors a on a.id = f.follower_id
         where f.followee_id = $1 and f.state = 'accepted'
               and follower_prefix(a.ap_id) = $2
         order by a.ap_id",
    )
    .bind(followee_id)
    .bind(prefix)
    .fetch_all(db)
    .await
}

/// Claims a resynchronisation of `actor_id`'s followers if none happened
/// since `not_since`: true when this caller should do it.
pub async fn claim_resync(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    now: DateTime<Utc>,
    not_since: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let claimed: Option<i64> = sqlx::query_scalar(
        "insert into follower_resyncs (actor_id, synced_at) values ($1, $2)
         on conflict (actor_id) do update set synced_at = excluded.synced_at
         where follower_resyncs.synced_at < $3
         returning actor_id",
    )
    .bind(actor_id)
    .bind(now)
    .bind(not_since)
    .fetch_optional(db)
    .await?;
    Ok(claimed.is_some())
}
