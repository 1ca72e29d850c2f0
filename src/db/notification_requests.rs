//! Notification policies (`notification_policies`), the requests of
//! senders whose notifications a policy filtered (`notification_requests`)
//! and the senders accepted for good (`notification_permissions`).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::db::timelines::Page;
use crate::domain::events::Change;
use crate::domain::notifications::{MAX_MEANINGFUL_COUNT, NotificationPolicy, PolicyAction};

/// A policy's five actions, as stored.
type Actions = (
    PolicyAction,
    PolicyAction,
    PolicyAction,
    PolicyAction,
    PolicyAction,
);

/// The account's policy; Mastodon's defaults when it never set one.
pub async fn policy(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<NotificationPolicy, sqlx::Error> {
    let row: Option<Actions> = sqlx::query_as(
        "select for_not_following, for_not_followers, for_new_accounts, for_private_mentions,
                for_limited_accounts
         from notification_policies where actor_id = $1",
    )
    .bind(actor_id)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        Some((a, b, c, d, e)) => NotificationPolicy {
            for_not_following: a,
            for_not_followers: b,
            for_new_accounts: c,
            for_private_mentions: d,
            for_limited_accounts: e,
        },
        None => NotificationPolicy::default(),
    })
}

/// Stores the account's policy.
pub async fn set_policy(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    policy: &NotificationPolicy,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into notification_policies (actor_id, for_not_following, for_not_followers,
                                            for_new_accounts, for_private_mentions,
                                            for_limited_accounts, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (actor_id) do update
             set for_not_following = excluded.for_not_following,
                 for_not_followers = excluded.for_not_followers,
                 for_new_accounts = excluded.for_new_accounts,
                 for_private_mentions = excluded.for_private_mentions,
                 for_limited_accounts = excluded.for_limited_accounts,
                 updated_at = excluded.updated_at",
    )
    .bind(actor_id)
    .bind(policy.for_not_following)
    .bind(policy.for_not_followers)
    .bind(policy.for_new_accounts)
    .bind(policy.for_private_mentions)
    .bind(policy.for_limited_accounts)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// Pending requests and the notifications they hold, as Mastodon counts
/// them: over the first 100 requests.
pub async fn summary(db: impl PgExecutor<'_>, actor_id: i64) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "select count(*), coalesce(sum(notifications_count), 0)::bigint
         from (select notifications_count from notification_requests
               where recipient_id = $1 limit $2) r",
    )
    .bind(actor_id)
    .bind(MAX_MEANINGFUL_COUNT)
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRequest {
    pub id: i64,
    pub recipient_id: i64,
    pub from_actor_id: i64,
    pub last_post_id: Option<i64>,
    pub notifications_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A page of the account's requests, newest first, from senders that are
/// not gone.
pub async fn page(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    page: Page,
) -> Result<Vec<NotificationRequest>, sqlx::Error> {
    let ascending = page.min_id.is_some();
    let order = if ascending { "asc" } else { "desc" };
    let mut rows: Vec<NotificationRequest> = sqlx::query_as(&format!(
        "select r.* from notification_requests r join actors a on a.id = r.from_actor_id
         where r.recipient_id = $1 and a.gone_at is null and a.suspended_at is null
           and ($2::bigint is null or r.id < $2)
           and ($3::bigint is null or r.id > $3)
         order by r.id {order} limit $4"
    ))
    .bind(actor_id)
    .bind(page.max_id)
    .bind(page.min_id.or(page.since_id))
    .bind(page.limit)
    .fetch_all(db)
    .await?;
    if ascending {
        rows.reverse();
    }
    Ok(rows)
}

/// The account's request by id.
pub async fn find(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<Option<NotificationRequest>, sqlx::Error> {
    sqlx::query_as("select * from notification_requests where recipient_id = $1 and id = $2")
        .bind(actor_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The account's requests among `ids` (others' ids are ignored), locked.
pub async fn find_many(
    db: &mut PgConnection,
    actor_id: i64,
    ids: &[i64],
) -> Result<Vec<NotificationRequest>, sqlx::Error> {
    sqlx::query_as(
        "select * from notification_requests where recipient_id = $1 and id = any($2)
         order by id for update",
    )
    .bind(actor_id)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Accepts a request: its sender is never filtered again, what was
/// filtered from it joins the list (grouped as Mastodon leaves it: not),
/// and the request goes. The merge is announced (`notifications_merged`).
pub async fn accept(
    db: &mut PgConnection,
    request: &NotificationRequest,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with permitted as (
             insert into notification_permissions (recipient_id, from_actor_id, created_at)
             values ($1, $2, $3) on conflict do nothing
         ),
         unfiltered as (
             update notifications set filtered = false
             where recipient_id = $1 and from_actor_id = $2 and filtered
         )
         delete from notification_requests where id = $4",
    )
    .bind(request.recipient_id)
    .bind(request.from_actor_id)
    .bind(now)
    .bind(request.id)
    .execute(&mut *db)
    .await?;
    events::emit(
        db,
        &Change::NotificationsMerged {
            recipient: request.recipient_id,
        },
    )
    .await
}

/// Dismisses a request: the notifications filtered from its sender are
/// deleted with it (later ones make a new request).
pub async fn dismiss(
    db: &mut PgConnection,
    request: &NotificationRequest,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with cleaned as (
             delete from notifications
             where recipient_id = $1 and from_actor_id = $2 and filtered
         )
         delete from notification_requests where id = $3",
    )
    .bind(request.recipient_id)
    .bind(request.from_actor_id)
    .bind(request.id)
    .execute(&mut *db)
    .await
    .map(drop)
}

/// Counts again the requests of the recipient (from `from`, or every
/// sender) after notifications were removed, and removes those left with
/// none (Mastodon's `reconsider_existence!`).
pub async fn reconsider(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    from: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with counted as (
             select r.id,
                    (select count(*) from (select 1 from notifications x
                                           where x.recipient_id = r.recipient_id
                                             and x.from_actor_id = r.from_actor_id
                                             and x.filtered and x.kind in ('mention', 'quote')
                                           limit $3) c) as n
             from notification_requests r
             where r.recipient_id = $1 and ($2::bigint is null or r.from_actor_id = $2)
         ),
         emptied as (
             delete from notification_requests r using counted c where r.id = c.id and c.n = 0
         )
         update notification_requests r set notifications_count = c.n
         from counted c where r.id = c.id and c.n > 0 and r.notifications_count <> c.n",
    )
    .bind(recipient_id)
    .bind(from)
    .bind(MAX_MEANINGFUL_COUNT)
    .execute(db)
    .await
    .map(drop)
}
