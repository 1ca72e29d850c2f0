//! The `actors` table: every account Skein knows, local and remote, and the
//! instance actor.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A row of `actors`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Actor {
    pub id: i64,
    pub ap_id: String,
    pub kind: String,
    pub username: String,
    pub domain: Option<String>,
    pub display_name: String,
    pub summary: String,
    pub url: Option<String>,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub featured_url: Option<String>,
    pub public_key_id: String,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub fields: sqlx::types::Json<Vec<ProfileField>>,
    pub also_known_as: Vec<String>,
    pub moved_to: Option<String>,
    pub published: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub gone_at: Option<DateTime<Utc>>,
}

impl Actor {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }
}

/// A profile field ("name: value"); the value is HTML.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProfileField {
    pub name: String,
    pub value: String,
}

/// What it takes to create a local actor; URLs are built by the caller from
/// the configured domain.
#[derive(Debug, Clone)]
pub struct NewLocalActor<'a> {
    pub kind: &'a str,
    pub username: &'a str,
    pub ap_id: &'a str,
    pub url: &'a str,
    pub inbox_url: &'a str,
    pub shared_inbox_url: &'a str,
    pub outbox_url: &'a str,
    pub followers_url: Option<&'a str>,
    pub following_url: Option<&'a str>,
    pub featured_url: Option<&'a str>,
    pub public_key_id: &'a str,
    pub public_key_pem: &'a str,
    pub private_key_pem: &'a str,
    pub manually_approves_followers: bool,
}

/// Unique constraint on lower(username) per domain.
pub const USERNAME_TAKEN: &str = "actors_username_domain_key";

pub async fn insert_local(
    db: impl PgExecutor<'_>,
    new: &NewLocalActor<'_>,
) -> Result<Actor, sqlx::Error> {
    sqlx::query_as(
        "insert into actors (kind, username, ap_id, url, inbox_url, shared_inbox_url, outbox_url,
                             followers_url, following_url, featured_url, public_key_id,
                             public_key_pem, private_key_pem, manually_approves_followers)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         returning *",
    )
    .bind(new.kind)
    .bind(new.username)
    .bind(new.ap_id)
    .bind(new.url)
    .bind(new.inbox_url)
    .bind(new.shared_inbox_url)
    .bind(new.outbox_url)
    .bind(new.followers_url)
    .bind(new.following_url)
    .bind(new.featured_url)
    .bind(new.public_key_id)
    .bind(new.public_key_pem)
    .bind(new.private_key_pem)
    .bind(new.manually_approves_followers)
    .fetch_one(db)
    .await
}

/// A local Person by username, case-insensitively.
pub async fn find_local_person(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as(
        "select * from actors
         where domain is null and kind = 'Person' and lower(username) = lower($1)",
    )
    .bind(username)
    .fetch_optional(db)
    .await
}

/// The instance actor, if it was created.
pub async fn find_instance_actor(db: impl PgExecutor<'_>) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as("select * from actors where domain is null and kind = 'Application'")
        .fetch_optional(db)
        .await
}
