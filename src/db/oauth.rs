//! OAuth 2 state: `oauth_apps`, `oauth_codes`, `oauth_tokens`. Codes and
//! tokens are looked up by their SHA-256 digest.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct App {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: String,
    pub client_id: String,
    pub client_secret: String,
    pub owner_user_id: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub struct NewApp<'a> {
    pub name: &'a str,
    pub website: Option<&'a str>,
    pub redirect_uris: &'a [String],
    pub scopes: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a str,
    pub owner_user_id: Option<i64>,
    pub now: DateTime<Utc>,
}

pub async fn insert_app(db: impl PgExecutor<'_>, new: &NewApp<'_>) -> Result<App, sqlx::Error> {
    sqlx::query_as(
        "insert into oauth_apps (name, website, redirect_uris, scopes, client_id, client_secret,
                                 owner_user_id, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning *",
    )
    .bind(new.name)
    .bind(new.website)
    .bind(new.redirect_uris)
    .bind(new.scopes)
    .bind(new.client_id)
    .bind(new.client_secret)
    .bind(new.owner_user_id)
    .bind(new.now)
    .fetch_one(db)
    .await
}

pub async fn find_app_by_client_id(
    db: impl PgExecutor<'_>,
    client_id: &str,
) -> Result<Option<App>, sqlx::Error> {
    sqlx::query_as("select * from oauth_apps where client_id = $1")
        .bind(client_id)
        .fetch_optional(db)
        .await
}

pub async fn find_app(db: impl PgExecutor<'_>, id: i64) -> Result<Option<App>, sqlx::Error> {
    sqlx::query_as("select * from oauth_apps where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The app named by `name` that `skein token create` made for scripts; one
/// per instance, made on first use.
pub async fn find_app_by_name_without_redirect(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<App>, sqlx::Error> {
    sqlx::query_as(
        "select * from oauth_apps where name = $1 and redirect_uris = '{}' order by id limit 1",
    )
    .bind(name)
    .fetch_optional(db)
    .await
}

pub struct NewCode<'a> {
    pub digest: &'a [u8],
    pub app_id: i64,
    pub user_id: i64,
    pub redirect_uri: &'a str,
    pub scopes: &'a str,
    pub code_challenge: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_code(db: impl PgExecutor<'_>, new: &NewCode<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into oauth_codes (code_digest, app_id, user_id, redirect_uri, scopes,
                                  code_challenge, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.digest)
    .bind(new.app_id)
    .bind(new.user_id)
    .bind(new.redirect_uri)
    .bind(new.scopes)
    .bind(new.code_challenge)
    .bind(new.now)
    .bind(new.expires_at)
    .execute(db)
    .await
    .map(drop)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Code {
    pub app_id: i64,
    pub user_id: i64,
    pub redirect_uri: String,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// Marks a code used and returns it as it was; a code is used once. The
/// row is locked so two concurrent exchanges cannot both succeed.
pub async fn take_code(
    db: &mut sqlx::PgConnection,
    digest: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<Code>, sqlx::Error> {
    let code: Option<Code> = sqlx::query_as(
        "select app_id, user_id, redirect_uri, scopes, code_challenge, expires_at, used_at
         from oauth_codes where code_digest = $1 for update",
    )
    .bind(digest)
    .fetch_optional(&mut *db)
    .await?;
    if code.as_ref().is_some_and(|c| c.used_at.is_none()) {
        sqlx::query("update oauth_codes set used_at = $2 where code_digest = $1")
            .bind(digest)
            .bind(now)
            .execute(&mut *db)
            .await?;
    }
    Ok(code)
}

/// Revokes every token issued from an authorization code (RFC 6749 §4.1.2:
/// a code presented twice may have leaked).
pub async fn revoke_tokens_of_user_app(
    db: impl PgExecutor<'_>,
    app_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    // A revoked token's push subscription (which holds the token) goes too.
    sqlx::query_scalar(
        "with revoked as (
             update oauth_tokens set revoked_at = $3
             where app_id = $1 and user_id = $2 and revoked_at is null
             returning id
         ), unsubscribed as (
             delete from web_push_subscriptions where token_id in (select id from revoked)
         )
         select count(*) from revoked",
    )
    .bind(app_id)
    .bind(user_id)
    .bind(now)
    .fetch_one(db)
    .await
    .map(|n: i64| n as u64)
}

/// Revokes every token of a user (a password reset by e-mail).
pub async fn revoke_tokens_of_user(
    db: impl PgExecutor<'_>,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    sqlx::query_scalar(
        "with revoked as (
             update oauth_tokens set revoked_at = $2
             where user_id = $1 and revoked_at is null
             returning id
         ), unsubscribed as (
             delete from web_push_subscriptions where token_id in (select id from revoked)
         )
         select count(*) from revoked",
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(db)
    .await
    .map(|n: i64| n as u64)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Token {
    pub id: i64,
    pub app_id: Option<i64>,
    pub user_id: Option<i64>,
    pub scopes: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn insert_token(
    db: impl PgExecutor<'_>,
    digest: &[u8],
    app_id: Option<i64>,
    user_id: Option<i64>,
    scopes: &str,
    now: DateTime<Utc>,
) -> Result<Token, sqlx::Error> {
    sqlx::query_as(
        "insert into oauth_tokens (token_digest, app_id, user_id, scopes, created_at)
         values ($1, $2, $3, $4, $5)
         returning id, app_id, user_id, scopes, created_at, last_used_at, revoked_at",
    )
    .bind(digest)
    .bind(app_id)
    .bind(user_id)
    .bind(scopes)
    .bind(now)
    .fetch_one(db)
    .await
}

/// A live token by digest. `last_used_at` is refreshed at most once a
/// minute, so that reads do not turn into a write each.
pub async fn find_live_token(
    db: impl PgExecutor<'_>,
    digest: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<Token>, sqlx::Error> {
    sqlx::query_as(
        "with found as (
             select id from oauth_tokens where token_digest = $1 and revoked_at is null
         ), touched as (
             update oauth_tokens t set last_used_at = $2
             from found
             where t.id = found.id
               and (t.last_used_at is null or t.last_used_at < $2 - interval '1 minute')
             returning t.user_id
         ), active as (
             insert into user_active_weeks (user_id, week)
             select user_id, date_trunc('week', $2 at time zone 'UTC')::date
             from touched where user_id is not null
             on conflict do nothing
         ), active_day as (
             insert into user_active_days (user_id, day)
             select user_id, ($2 at time zone 'UTC')::date
             from touched where user_id is not null
             on conflict do nothing
         )
         select id, app_id, user_id, scopes, created_at, last_used_at, revoked_at
         from oauth_tokens where id = (select id from found)",
    )
    .bind(digest)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Revokes the token with this digest if it belongs to the app; false when
/// there was no such live token.
pub async fn revoke_token(
    db: impl PgExecutor<'_>,
    digest: &[u8],
    app_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "with revoked as (
             update oauth_tokens set revoked_at = $3
             where token_digest = $1 and app_id = $2 and revoked_at is null
             returning id
         ), unsubscribed as (
             delete from web_push_subscriptions where token_id in (select id from revoked)
         )
         select count(*) = 1 from revoked",
    )
    .bind(digest)
    .bind(app_id)
    .bind(now)
    .fetch_one(db)
    .await
}
