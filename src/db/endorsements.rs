//! `endorsements`: accounts a local account features on its profile (an
//! endorsement ends with the follow, by a trigger on `follows`), read
//! through `views::list_actors` (`Listing::Endorsements`); and
//! `account_notes`, an account's private notes about others.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Endorses an account (nothing when endorsed already).
pub async fn endorse(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    target_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into endorsements (actor_id, target_id, created_at) values ($1, $2, $3)
         on conflict (actor_id, target_id) do nothing",
    )
    .bind(actor_id)
    .bind(target_id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

pub async fn unendorse(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    target_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from endorsements where actor_id = $1 and target_id = $2")
        .bind(actor_id)
        .bind(target_id)
        .execute(db)
        .await
        .map(drop)
}

/// Sets (or, when empty, removes) the private note `actor_id` keeps about
/// `target_id`.
pub async fn set_note(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    target_id: i64,
    comment: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if comment.is_empty() {
        sqlx::query("delete from account_notes where actor_id = $1 and target_id = $2")
            .bind(actor_id)
            .bind(target_id)
            .execute(db)
            .await
            .map(drop)
    } else {
        sqlx::query(
            "insert into account_notes (actor_id, target_id, comment, updated_at)
             values ($1, $2, $3, $4)
             on conflict (actor_id, target_id)
             do update set comment = excluded.comment, updated_at = excluded.updated_at",
        )
        .bind(actor_id)
        .bind(target_id)
        .bind(comment)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
    }
}
