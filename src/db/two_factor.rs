//! Two-factor authentication: `user_two_factor` (each user's TOTP secret,
//! pending or enabled, and the last time step accepted),
//! `user_recovery_codes` (single-use, as digests) and `sign_in_challenges`
//! (a right password waiting for its second factor).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoFactor {
    pub user_id: i64,
    pub secret: Vec<u8>,
    /// None while the set-up waits for its first code.
    pub enabled_at: Option<DateTime<Utc>>,
    pub last_step: Option<i64>,
    pub created_at: DateTime<Utc>,
}

pub async fn find(db: impl PgExecutor<'_>, user_id: i64) -> Result<Option<TwoFactor>, sqlx::Error> {
    sqlx::query_as("select * from user_two_factor where user_id = $1")
        .bind(user_id)
        .fetch_optional(db)
        .await
}

/// Whether the user has two-factor authentication on.
pub async fn is_enabled(db: impl PgExecutor<'_>, user_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from user_two_factor
                        where user_id = $1 and enabled_at is not null)",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// Stores a new secret waiting for its first code, replacing a pending one;
/// an enabled one is never replaced (false then).
pub async fn set_pending(
    db: impl PgExecutor<'_>,
    user_id: i64,
    secret: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "insert into user_two_factor (user_id, secret, created_at) values ($1, $2, $3)
         on conflict (user_id) do update
             set secret = excluded.secret, created_at = excluded.created_at, last_step = null
             where user_two_factor.enabled_at is null",
    )
    .bind(user_id)
    .bind(secret)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Turns the pending secret on, with the step of the code that proved it
/// as the last one used. False when it is no longer the pending secret
/// (set up again meanwhile, or already on).
pub async fn enable(
    db: impl PgExecutor<'_>,
    user_id: i64,
    secret: &[u8],
    step: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "update user_two_factor set enabled_at = $4, last_step = $3
         where user_id = $1 and secret = $2 and enabled_at is null",
    )
    .bind(user_id)
    .bind(secret)
    .bind(step)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Records `step` as used, unless it or a later step was used already:
/// true when this call took it (so two requests with one code cannot both
/// pass).
pub async fn take_step(
    db: impl PgExecutor<'_>,
    user_id: i64,
    step: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "update user_two_factor set last_step = $2
         where user_id = $1 and enabled_at is not null
           and (last_step is null or last_step < $2)",
    )
    .bind(user_id)
    .bind(step)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Turns two-factor authentication off: the secret and every recovery code
/// go.
pub async fn delete(db: &mut PgConnection, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("delete from user_recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(&mut *db)
        .await?;
    sqlx::query("delete from user_two_factor where user_id = $1")
        .bind(user_id)
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// Replaces the user's recovery codes with these digests.
pub async fn replace_recovery_codes(
    db: &mut PgConnection,
    user_id: i64,
    digests: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from user_recovery_codes where user_id = $1")
        .bind(user_id)
        .execute(&mut *db)
        .await?;
    sqlx::query(
        "insert into user_recovery_codes (user_id, digest)
         select $1, d from unnest($2::bytea[]) as d
         on conflict do nothing",
    )
    .bind(user_id)
    .bind(digests)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Uses up the recovery code with this digest: true when it was there and
/// unused.
pub async fn use_recovery_code(
    db: impl PgExecutor<'_>,
    user_id: i64,
    digest: &[u8],
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "update user_recovery_codes set used_at = $3
         where user_id = $1 and digest = $2 and used_at is null",
    )
    .bind(user_id)
    .bind(digest)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// How many recovery codes the user has left.
pub async fn recovery_codes_left(
    db: impl PgExecutor<'_>,
    user_id: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from user_recovery_codes where user_id = $1 and used_at is null",
    )
    .bind(user_id)
    .fetch_one(db)
    .await
}

/// A new pending sign-in; challenges that have ended are dropped on the
/// way.
pub async fn insert_challenge(
    db: &mut PgConnection,
    digest: &[u8],
    user_id: i64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sign_in_challenges where expires_at <= $1")
        .bind(now)
        .execute(&mut *db)
        .await?;
    sqlx::query("insert into sign_in_challenges (digest, user_id, expires_at) values ($1, $2, $3)")
        .bind(digest)
        .bind(user_id)
        .bind(expires_at)
        .execute(&mut *db)
        .await?;
    Ok(())
}

/// The user of a pending sign-in that has not ended.
pub async fn find_challenge(
    db: impl PgExecutor<'_>,
    digest: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select user_id from sign_in_challenges where digest = $1 and expires_at > $2",
    )
    .bind(digest)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Ends a pending sign-in (it succeeded, or was given up).
pub async fn delete_challenge(db: impl PgExecutor<'_>, digest: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sign_in_challenges where digest = $1")
        .bind(digest)
        .execute(db)
        .await
        .map(drop)
}
