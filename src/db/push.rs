//! Web Push: `web_push_subscriptions` (one per OAuth token) and the
//! `push_deliveries` queue. Claims work as in `deliveries`: `for update skip
//! locked`, a lease, and the claiming process's worker id, whose advisory
//! lock tells a live process from a dead one.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::notifications::SILENCED;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Subscription {
    pub id: i64,
    pub token_id: i64,
    pub actor_id: i64,
    pub endpoint: String,
    pub key_p256dh: String,
    pub key_auth: String,
    pub standard: bool,
    pub alerts: Vec<String>,
    pub policy: String,
    pub access_token: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSubscription<'a> {
    pub token_id: i64,
    pub actor_id: i64,
    pub endpoint: &'a str,
    pub key_p256dh: &'a str,
    pub key_auth: &'a str,
    pub standard: bool,
    pub alerts: &'a [String],
    pub policy: &'a str,
    pub access_token: &'a str,
    pub now: DateTime<Utc>,
}

/// Replaces the token's subscription with a new one (a new id, as Mastodon
/// makes).
pub async fn replace(
    db: &mut PgConnection,
    new: &NewSubscription<'_>,
) -> Result<Subscription, sqlx::Error> {
    delete_for_token(&mut *db, new.token_id).await?;
    sqlx::query_as(
        "insert into web_push_subscriptions (token_id, actor_id, endpoint, key_p256dh, key_auth,
                                             standard, alerts, policy, access_token,
                                             created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
         returning *",
    )
    .bind(new.token_id)
    .bind(new.actor_id)
    .bind(new.endpoint)
    .bind(new.key_p256dh)
    .bind(new.key_auth)
    .bind(new.standard)
    .bind(new.alerts)
    .bind(new.policy)
    .bind(new.access_token)
    .bind(new.now)
    .fetch_one(db)
    .await
}

pub async fn find_for_token(
    db: impl PgExecutor<'_>,
    token_id: i64,
) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as("select * from web_push_subscriptions where token_id = $1")
        .bind(token_id)
        .fetch_optional(db)
        .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as("select * from web_push_subscriptions where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Changes what the token's subscription pushes; None without one.
pub async fn update_data(
    db: impl PgExecutor<'_>,
    token_id: i64,
    alerts: &[String],
    policy: &str,
    now: DateTime<Utc>,
) -> Result<Option<Subscription>, sqlx::Error> {
    sqlx::query_as(
        "update web_push_subscriptions set alerts = $2, policy = $3, updated_at = $4
         where token_id = $1 returning *",
    )
    .bind(token_id)
    .bind(alerts)
    .bind(policy)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn delete_for_token(db: impl PgExecutor<'_>, token_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("delete from web_push_subscriptions where token_id = $1")
        .bind(token_id)
        .execute(db)
        .await
        .map(drop)
}

/// Removes a subscription (its endpoint is gone, or its token revoked);
/// its queued pushes go with it.
pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("delete from web_push_subscriptions where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

/// Queues the new notification `n` (a CTE with its `id` and `filtered`,
/// inserted by `db::notifications`; a filtered one is never pushed) for
/// every subscription of its recipient (`$1`)
/// that wants it: its kind (`$5`) is among the alerts, the policy lets its
/// author (`$2`) through (`followed`: the recipient follows them;
/// `follower`: they follow the recipient), and the recipient does not
/// silence them (as of `$3`, the present). Returns a row per push queued.
pub static QUEUE_FOR: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "insert into push_deliveries (subscription_id, notification_id, next_attempt_at, created_at)
     select s.id, n.id, $3, $3 from n
     join web_push_subscriptions s on s.actor_id = $1 and $5 = any(s.alerts)
     join oauth_tokens t on t.id = s.token_id and t.revoked_at is null
     where not n.filtered
       and (s.policy = 'all'
            or (s.policy = 'followed' and exists (
                    select 1 from follows f
                    where f.follower_id = $1 and f.followee_id = $2 and f.state = 'accepted'))
            or (s.policy = 'follower' and exists (
                    select 1 from follows f
                    where f.follower_id = $2 and f.followee_id = $1 and f.state = 'accepted')))
       and not {SILENCED}
     on conflict do nothing
     returning 1"
    )
});

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PushDelivery {
    pub id: i64,
    pub subscription_id: i64,
    pub notification_id: i64,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_by: Option<i32>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}
