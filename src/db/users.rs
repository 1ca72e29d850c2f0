//! The `users` table: sign-in data of local accounts (each owns one actor).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::visibility::Visibility;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub actor_id: i64,
    pub email: Option<String>,
    pub password_hash: String,
    pub role: String,
    pub approved: bool,
    pub disabled: bool,
    pub last_active_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub federating: bool,
    pub default_visibility: Visibility,
    pub default_sensitive: bool,
    pub default_language: Option<String>,
    /// When the e-mail address was confirmed; None while a sign-up waits
    /// for its confirmation link.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The account asked search engines to index its pages (Mastodon's
    /// "include profile page in search engines"; off by default).
    pub search_engine_indexing: bool,
}

/// A user with the username of its actor, for listings.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserSummary {
    pub username: String,
    pub email: Option<String>,
    pub role: String,
    pub approved: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// Unique constraint on lower(email).
pub const EMAIL_TAKEN: &str = "users_email_key";

pub async fn insert(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    email: Option<&str>,
    password_hash: &str,
    role: &str,
    approved: bool,
    federating: bool,
) -> Result<User, sqlx::Error> {
    sqlx::query_as(
        "insert into users (actor_id, email, password_hash, role, approved, federating)
         values ($1, $2, $3, $4, $5, $6)
         returning *",
    )
    .bind(actor_id)
    .bind(email)
    .bind(password_hash)
    .bind(role)
    .bind(approved)
    .bind(federating)
    .fetch_one(db)
    .await
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<UserSummary>, sqlx::Error> {
    sqlx::query_as(
        "select a.username, u.email, u.role, u.approved, u.disabled, u.created_at
         from users u join actors a on a.id = u.actor_id
         order by u.id",
    )
    .fetch_all(db)
    .await
}

/// Sets the password hash of the user whose actor has this username; false
/// when there is no such user.
pub async fn set_password_hash(
    db: impl PgExecutor<'_>,
    username: &str,
    password_hash: &str,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "update users set password_hash = $2
         where actor_id = (select id from actors
                           where domain is null and lower(username) = lower($1))",
    )
    .bind(username)
    .bind(password_hash)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn find_by_username(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "select u.* from users u join actors a on a.id = u.actor_id
         where a.domain is null and lower(a.username) = lower($1)",
    )
    .bind(username)
    .fetch_optional(db)
    .await
}

/// Whether the local actor's account shares with the fediverse. False for
/// actors without a user (the instance actor always federates: see callers).
pub async fn is_federating(db: impl PgExecutor<'_>, actor_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select coalesce((select federating from users where actor_id = $1), false)")
        .bind(actor_id)
        .fetch_one(db)
        .await
}

pub async fn set_federating(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    federating: bool,
) -> Result<bool, sqlx::Error> {
    sqlx::query("update users set federating = $2 where actor_id = $1")
        .bind(actor_id)
        .bind(federating)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

pub async fn find_by_id(db: impl PgExecutor<'_>, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as("select * from users where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn find_by_actor(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as("select * from users where actor_id = $1")
        .bind(actor_id)
        .fetch_optional(db)
        .await
}

/// The user signing in with this username or e-mail address.
pub async fn find_by_login(
    db: impl PgExecutor<'_>,
    login: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "select u.* from users u join actors a on a.id = u.actor_id
         where a.domain is null
           and (lower(a.username) = lower($1) or lower(u.email) = lower($1))
         order by (lower(a.username) = lower($1)) desc
         limit 1",
    )
    .bind(login)
    .fetch_optional(db)
    .await
}

pub async fn set_preferences(
    db: impl PgExecutor<'_>,
    id: i64,
    visibility: Visibility,
    sensitive: bool,
    language: Option<&str>,
) -> Result<User, sqlx::Error> {
    sqlx::query_as(
        "update users set default_visibility = $2, default_sensitive = $3, default_language = $4
         where id = $1 returning *",
    )
    .bind(id)
    .bind(visibility)
    .bind(sensitive)
    .bind(language)
    .fetch_one(db)
    .await
}

pub async fn set_sign_up_reason(
    db: impl PgExecutor<'_>,
    id: i64,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set sign_up_reason = $2 where id = $1")
        .bind(id)
        .bind(reason)
        .execute(db)
        .await
        .map(drop)
}

/// Notes the app a sign-up came through.
pub async fn set_sign_up_app(
    db: impl PgExecutor<'_>,
    id: i64,
    app_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set sign_up_app_id = $2 where id = $1")
        .bind(id)
        .bind(app_id)
        .execute(db)
        .await
        .map(drop)
}

/// Approves a pending sign-up.
pub async fn set_approved(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("update users set approved = true where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

/// Lets search engines index the user's pages, or not.
pub async fn set_search_engine_indexing(
    db: impl PgExecutor<'_>,
    id: i64,
    on: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set search_engine_indexing = $2 where id = $1")
        .bind(id)
        .bind(on)
        .execute(db)
        .await
        .map(drop)
}

/// Whether search engines may index each of these local actors' pages
/// (opted in and not disabled), by actor id; actors without a user row
/// (remote ones) are not in the answer. One query for a page of accounts.
pub async fn search_engine_indexing_of(
    db: impl PgExecutor<'_>,
    actor_ids: &[i64],
) -> Result<Vec<(i64, bool)>, sqlx::Error> {
    sqlx::query_as(
        "select actor_id, search_engine_indexing and not disabled
         from users where actor_id = any($1)",
    )
    .bind(actor_ids)
    .fetch_all(db)
    .await
}

/// Sets a user's role (`user`, `moderator`, `admin`).
pub async fn set_role(db: impl PgExecutor<'_>, id: i64, role: &str) -> Result<(), sqlx::Error> {
    sqlx::query("update users set role = $2 where id = $1")
        .bind(id)
        .bind(role)
        .execute(db)
        .await
        .map(drop)
}

/// Why a pending sign-up asked to join (None when it gave no reason).
pub async fn sign_up_reason(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<String>, sqlx::Error> {
    let reason: Option<String> =
        sqlx::query_scalar("select sign_up_reason from users where id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(reason.filter(|r| !r.is_empty()))
}

/// Freezes or unfreezes a user's sign-in.
pub async fn set_disabled(
    db: impl PgExecutor<'_>,
    id: i64,
    disabled: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set disabled = $2 where id = $1")
        .bind(id)
        .bind(disabled)
        .execute(db)
        .await
        .map(drop)
}

/// The actors of staff accounts (moderators and admins) who can sign in:
/// who is told of reports and sign-ups.
pub async fn staff_actor_ids(db: impl PgExecutor<'_>) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select u.actor_id from users u join actors a on a.id = u.actor_id
         where u.role in ('moderator', 'admin') and u.approved and not u.disabled
           and a.suspended_at is null
         order by u.actor_id",
    )
    .fetch_all(db)
    .await
}

/// The instance's contact account: its oldest admin that can sign in.
pub async fn contact_actor(
    db: impl PgExecutor<'_>,
) -> Result<Option<crate::db::actors::Actor>, sqlx::Error> {
    sqlx::query_as(
        "select a.* from users u join actors a on a.id = u.actor_id
         where u.role = 'admin' and u.approved and not u.disabled
           and a.suspended_at is null and a.gone_at is null
         order by u.id
         limit 1",
    )
    .fetch_optional(db)
    .await
}

/// Marks a new user's e-mail address as waiting for confirmation (users
/// are confirmed when inserted).
pub async fn set_unconfirmed(db: impl PgExecutor<'_>, id: i64) -> Result<User, sqlx::Error> {
    sqlx::query_as("update users set confirmed_at = null where id = $1 returning *")
        .bind(id)
        .fetch_one(db)
        .await
}

/// Marks a user's e-mail address confirmed (once; later calls keep the
/// first time). False when there is no such user.
pub async fn set_confirmed(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query("update users set confirmed_at = coalesce(confirmed_at, $2) where id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// The local user with this e-mail address (compared case-insensitively).
pub async fn find_by_email(
    db: impl PgExecutor<'_>,
    email: &str,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as("select * from users where lower(email) = lower($1)")
        .bind(email)
        .fetch_optional(db)
        .await
}

/// Sets the password hash of a user by id.
pub async fn set_password_hash_by_id(
    db: impl PgExecutor<'_>,
    id: i64,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update users set password_hash = $2 where id = $1")
        .bind(id)
        .bind(password_hash)
        .execute(db)
        .await
        .map(drop)
}

/// The e-mail addresses of staff who can sign in (moderators and admins
/// with a confirmed address): who is mailed about reports and sign-ups.
/// `except`: an actor left out (the staff member who caused the message).
pub async fn staff_emails(
    db: impl PgExecutor<'_>,
    except: Option<i64>,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select u.email from users u join actors a on a.id = u.actor_id
         where u.role in ('moderator', 'admin') and u.approved and not u.disabled
           and a.suspended_at is null and u.email is not null and u.confirmed_at is not null
           and u.actor_id is distinct from $1
         order by u.actor_id",
    )
    .bind(except)
    .fetch_all(db)
    .await
}
