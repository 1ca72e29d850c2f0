//! `relays`: the ActivityPub relays the instance subscribes to.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Relay {
    pub id: i64,
    pub inbox_url: String,
    /// `pending`, `accepted` or `rejected`.
    pub state: String,
    pub follow_activity_id: String,
    pub actor_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Unique constraint on the relay's inbox.
pub const INBOX_TAKEN: &str = "relays_inbox_url_key";

pub async fn insert(
    db: impl PgExecutor<'_>,
    inbox_url: &str,
    follow_activity_id: &str,
    now: DateTime<Utc>,
) -> Result<Relay, sqlx::Error> {
    sqlx::query_as(
        "insert into relays (inbox_url, follow_activity_id, created_at, updated_at)
         values ($1, $2, $3, $3)
         returning *",
    )
    .bind(inbox_url)
    .bind(follow_activity_id)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<Relay>, sqlx::Error> {
    sqlx::query_as("select * from relays order by created_at, id")
        .fetch_all(db)
        .await
}

pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Relay>, sqlx::Error> {
    sqlx::query_as("delete from relays where id = $1 returning *")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The relay whose Follow had `follow_activity_id`.
pub async fn find_by_follow(
    db: impl PgExecutor<'_>,
    follow_activity_id: &str,
) -> Result<Option<Relay>, sqlx::Error> {
    sqlx::query_as("select * from relays where follow_activity_id = $1")
        .bind(follow_activity_id)
        .fetch_optional(db)
        .await
}

/// The relay's answer to the Follow: accepted or rejected, by `actor_id`.
pub async fn answered(
    db: impl PgExecutor<'_>,
    id: i64,
    actor_id: i64,
    accepted: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update relays set state = $2, actor_id = $3, updated_at = $4 where id = $1")
        .bind(id)
        .bind(if accepted { "accepted" } else { "rejected" })
        .bind(actor_id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether `actor_id` is the actor of a relay that accepted the
/// subscription.
pub async fn is_accepted_relay(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from relays where actor_id = $1 and state = 'accepted')",
    )
    .bind(actor_id)
    .fetch_one(db)
    .await
}

/// The inboxes of the relays that accepted: where local public posts go.
pub async fn accepted_inboxes(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select inbox_url from relays where state = 'accepted' order by id")
        .fetch_all(db)
        .await
}
