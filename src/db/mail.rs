//! `mail_outbox` (e-mail waiting to be sent, claimed by workers with `for
//! update skip locked`) and `email_tokens` (confirmation and password reset
//! tokens, kept as SHA-256 digests, each used once).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A message in the queue, as a worker claims it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// A message as the outbox keeps it (for the admin area and tests).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

pub async fn queue(
    db: impl PgExecutor<'_>,
    recipient: &str,
    subject: &str,
    text: &str,
    html: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into mail_outbox (recipient, subject, text_body, html_body, created_at, next_attempt_at)
         values ($1, $2, $3, $4, $5, $5)",
    )
    .bind(recipient)
    .bind(subject)
    .bind(text)
    .bind(html)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// Claims up to `limit` due messages: each counts an attempt and is not
/// due again before `lease_until`, so that a worker that dies mid-send
/// leaves it to be tried again then, and no other worker takes it
/// meanwhile.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<QueuedMail>, sqlx::Error> {
    sqlx::query_as(
        "update mail_outbox m set attempts = m.attempts + 1, next_attempt_at = $2
         where m.id in (select id from mail_outbox
                        where sent_at is null and failed_at is null and next_attempt_at <= $1
                        order by next_attempt_at, id
                        limit $3
                        for update skip locked)
         returning m.id, m.recipient, m.subject, m.text_body, m.html_body, m.attempts, m.created_at",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A message went out: its bodies (which may hold a token) are dropped.
pub async fn mark_sent(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update mail_outbox set sent_at = $2, text_body = '', html_body = '', last_error = null
         where id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

pub async fn reschedule(
    db: impl PgExecutor<'_>,
    id: i64,
    at: DateTime<Utc>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update mail_outbox set next_attempt_at = $2, last_error = $3 where id = $1")
        .bind(id)
        .bind(at)
        .bind(error)
        .execute(db)
        .await
        .map(drop)
}

pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
    error: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update mail_outbox set failed_at = $2, last_error = $3, text_body = '', html_body = ''
         where id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(error)
    .execute(db)
    .await
    .map(drop)
}

/// Every message, oldest first.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<OutboxRow>, sqlx::Error> {
    sqlx::query_as(
        "select id, recipient, subject, attempts, next_attempt_at, sent_at, failed_at, last_error
         from mail_outbox order by id",
    )
    .fetch_all(db)
    .await
}

/// Messages not sent yet and not given up on.
pub async fn waiting(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from mail_outbox where sent_at is null and failed_at is null",
    )
    .fetch_one(db)
    .await
}

/// The error of the latest failed attempt among messages still waiting.
pub async fn last_waiting_error(db: impl PgExecutor<'_>) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select last_error from mail_outbox
         where sent_at is null and failed_at is null and last_error is not null
         order by id desc limit 1",
    )
    .fetch_optional(db)
    .await
}

/// Forgets messages sent or given up on before `before`, and tokens used
/// or expired before it. Returns how many rows went.
pub async fn prune(db: &mut sqlx::PgConnection, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mail = sqlx::query("delete from mail_outbox where sent_at < $1 or failed_at < $1")
        .bind(before)
        .execute(&mut *db)
        .await?
        .rows_affected();
    let tokens = sqlx::query("delete from email_tokens where used_at < $1 or expires_at < $1")
        .bind(before)
        .execute(&mut *db)
        .await?
        .rows_affected();
    Ok(mail + tokens)
}

/// What a token is for (`email_tokens.purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Confirmation,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirmation => "confirmation",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

/// Stores a new token's digest. Earlier unused tokens of the same user and
/// purpose stop working: only the latest link mailed is good.
pub async fn insert_token(
    db: &mut sqlx::PgConnection,
    user_id: i64,
    purpose: Purpose,
    digest: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update email_tokens set used_at = $3
         where user_id = $1 and purpose = $2 and used_at is null",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(now)
    .execute(&mut *db)
    .await?;
    sqlx::query(
        "insert into email_tokens (user_id, purpose, digest, created_at, expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(purpose.as_str())
    .bind(digest)
    .bind(now)
    .bind(expires_at)
    .execute(&mut *db)
    .await
    .map(drop)
}

/// The user of a live (unused, unexpired) token, without using it.
pub async fn live_token_user(
    db: impl PgExecutor<'_>,
    purpose: Purpose,
    digest: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select user_id from email_tokens
         where digest = $1 and purpose = $2 and used_at is null and expires_at > $3",
    )
    .bind(digest)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Uses a live token, once: its user, or None when it is unknown, used or
/// expired.
pub async fn use_token(
    db: impl PgExecutor<'_>,
    purpose: Purpose,
    digest: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "update email_tokens set used_at = $3
         where digest = $1 and purpose = $2 and used_at is null and expires_at > $3
         returning user_id",
    )
    .bind(digest)
    .bind(purpose.as_str())
    .bind(now)
    .fetch_optional(db)
    .await
}
