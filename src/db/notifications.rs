//! The `notifications` table: what local accounts are told about.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::{events, push};
use crate::domain::events::Change;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub recipient_id: i64,
    pub kind: String,
    pub from_actor_id: i64,
    pub post_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// Records a notification; the same event twice is one notification.
/// A new notification is announced to live listeners and queued for the
/// recipient's Web Push subscriptions, in the caller's transaction. Returns
/// the new notification's id (None: it existed, or the recipient is not
/// local).
pub async fn notify(
    db: &mut PgConnection,
    recipient_id: i64,
    kind: &str,
    from_actor_id: i64,
    post_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar(
        "insert into notifications (recipient_id, kind, from_actor_id, post_id, created_at)
         select $1, $2, $3, $4, $5
         where exists (select 1 from actors where id = $1 and domain is null)
         on conflict do nothing
         returning id",
    )
    .bind(recipient_id)
    .bind(kind)
    .bind(from_actor_id)
    .bind(post_id)
    .bind(now)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(id) = id {
        let change = Change::Notified {
            notification: id,
            recipient: recipient_id,
        };
        events::emit(&mut *db, &change).await?;
        push::queue(&mut *db, id, now).await?;
    }
    Ok(id)
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Notification>, sqlx::Error> {
    sqlx::query_as("select * from notifications where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Whether `recipient` hides notifications from `from`: it blocks or is
/// blocked by it, or mutes it with its notifications (until `now`).
pub async fn is_silenced(
    db: impl PgExecutor<'_>,
    recipient: i64,
    from: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(&format!("select {SILENCED}"))
        .bind(recipient)
        .bind(from)
        .bind(now)
        .fetch_one(db)
        .await
}

/// Whether `$1` (a recipient) silences `$2` (who caused a notification) at
/// `$3`: blocks either way, or a mute that covers notifications.
pub const SILENCED: &str = "(exists (select 1 from blocks b
                 where (b.blocker_id = $1 and b.blocked_id = $2)
                    or (b.blocker_id = $2 and b.blocked_id = $1))
      or exists (select 1 from mutes m
                 where m.actor_id = $1 and m.target_id = $2 and m.notifications
                   and (m.expires_at is null or m.expires_at > $3)))";
