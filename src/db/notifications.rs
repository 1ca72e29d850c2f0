//! The `notifications` table: what local accounts are told about, and how
//! they read, dismiss and count it.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::db::push;
use crate::domain::events::{CHANNEL, Change, QUEUED};
use crate::domain::notifications::NotificationKind;

use crate::db::timelines::{Page, VISIBLE};

/// Records a notification; the same event twice is one notification.
/// A new notification is announced to live listeners and queued for the
/// recipient's Web Push subscriptions, in the caller's transaction. Returns
/// the new notification's id (None: it existed, the recipient is not
/// local, or the post is in a thread the recipient muted).
pub async fn notify(
    db: &mut PgConnection,
    recipient_id: i64,
    kind: NotificationKind,
    from_actor_id: i64,
    post_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    insert(db, recipient_id, kind, from_actor_id, post_id, None, now).await
}

/// Tells a staff member of a new report (`admin.report`) from `from`.
pub async fn notify_report(
    db: &mut PgConnection,
    recipient_id: i64,
    from_actor_id: i64,
    report_id: i64,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    insert(
        db,
        recipient_id,
        NotificationKind::AdminReport,
        from_actor_id,
        None,
        Some(report_id),
        now,
    )
    .await
}

/// One statement: the notification, and only when it is new, its pushes
/// (`db::push::QUEUE_FOR`) and its announcements (`Change::Notified`, built
/// in SQL, a unit test holds the two formats together; `Change::Queued`
/// when pushes were queued).
async fn insert(
    db: &mut PgConnection,
    recipient_id: i64,
    kind: NotificationKind,
    from_actor_id: i64,
    post_id: Option<i64>,
    report_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    let sql = format!(
        "with n as (
             insert into notifications (recipient_id, kind, from_actor_id, post_id, report_id,
                                        created_at)
             select $1, $5, $2, $4, $6, $3
             where exists (select 1 from actors where id = $1 and domain is null)
               -- Nothing from a thread the recipient muted.
               and not ($4::bigint is not null
                        and exists (select 1 from conversation_mutes where actor_id = $1)
                        and exists (select 1 from conversation_mutes
                                    where actor_id = $1 and root_id = thread_root($4)))
             on conflict do nothing
             returning id
         ),
         pushed as ({})
         select id,
                case when $9 then
                    pg_notify($7, json_build_object('kind', 'notified', 'notification', id,
                                                    'recipient', $1::bigint)::text)::text
                end,
                (select case when $9 then pg_notify($7, $8)::text else '' end
                 from pushed limit 1)
         from n",
        *push::QUEUE_FOR
    );
    let row: Option<(i64, Option<String>, Option<String>)> = sqlx::query_as(&sql)
        .bind(recipient_id)
        .bind(from_actor_id)
        .bind(now)
        .bind(post_id)
        .bind(kind)
        .bind(report_id)
        .bind(CHANNEL)
        .bind(QUEUED)
        .bind(!events::deferring())
        .fetch_optional(&mut *db)
        .await?;
    if let Some((id, _, pushed)) = &row {
        events::defer(Change::Notified {
            notification: *id,
            recipient: recipient_id,
        });
        if pushed.is_some() {
            events::defer(Change::Queued);
        }
    }
    Ok(row.map(|(id, _, _)| id))
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Notification {
    pub id: i64,
    pub recipient_id: i64,
    pub kind: NotificationKind,
    pub from_actor_id: i64,
    pub post_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
    /// The report an `admin.report` is about.
    pub report_id: Option<i64>,
}

/// Which of a recipient's notifications to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only these kinds; None: every kind.
    pub kinds: Option<Vec<NotificationKind>>,
    /// Only from this account.
    pub from_actor_id: Option<i64>,
}

/// Whether the account `$from` is limited by the moderators (silenced, or
/// on a silenced domain) and the recipient `$1` does not follow it: then,
/// as in Mastodon, its notifications are not shown, except the follow
/// requests that it must make and the staff's own.
macro_rules! limited_for_recipient {
    ($from:literal) => {
        concat!(
            "(exists (select 1 from actors la
                      where la.id = ",
            $from,
            " and ",
            limited_actor!("la"),
            " and not exists (select 1 from follows lf
                              where lf.follower_id = $1 and lf.followee_id = la.id
                                and lf.state = 'accepted')))"
        )
    };
}

/// The kinds of notification shown even from accounts the moderators
/// limited: the follow requests such accounts must make, and the staff's
/// own.
macro_rules! always_shown {
    () => {
        "('follow_request', 'admin.report', 'admin.sign_up')"
    };
}

/// What the recipient (`$1`) is shown: nothing from accounts it mutes with
/// their notifications (until `$7`, the present), blocks, or whose domain
/// it blocks, nor from accounts that are gone, nor (but for follow requests)
/// from accounts the moderators limited that it does not follow; and, for
/// notifications about a post, only live posts it may still see.
const SHOWN: &str = concat!(
    "n.recipient_id = $1
     and ($5::text[] is null or n.kind = any($5))
     and ($6::bigint is null or n.from_actor_id = $6)
     and not exists (select 1 from mutes m
                     where m.actor_id = $1 and m.target_id = n.from_actor_id and m.notifications
                       and (m.expires_at is null or m.expires_at > $7))
     and not exists (select 1 from blocks b
                     where b.blocker_id = $1 and b.blocked_id = n.from_actor_id)
     and not exists (select 1 from actors a
                     where a.id = n.from_actor_id
                       and (a.gone_at is not null
                            or exists (select 1 from user_domain_blocks d
                                       where d.actor_id = $1 and d.domain = a.domain)))
     and (n.kind in ",
    always_shown!(),
    " or not ",
    limited_for_recipient!("n.from_actor_id"),
    ")"
);

fn shown_sql(select: &str, tail: &str) -> String {
    format!(
        "select {select} from notifications n left join posts p on p.id = n.post_id
         where {SHOWN}
           and (n.post_id is null or (p.deleted_at is null and {VISIBLE}))
           and ($2::bigint is null or n.id < $2)
           and ($3::bigint is null or n.id > $3)
         {tail}"
    )
}

/// A page of the recipient's notifications, newest first.
pub async fn page(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    filter: &Filter,
    page: Page,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>, sqlx::Error> {
    let ascending = page.min_id.is_some();
    let order = if ascending { "asc" } else { "desc" };
    let sql = shown_sql("n.*", &format!("order by n.id {order} limit $4"));
    let mut rows: Vec<Notification> = sqlx::query_as(&sql)
        .bind(recipient_id)
        .bind(page.max_id)
        .bind(page.min_id.or(page.since_id))
        .bind(page.limit)
        .bind(filter.kinds.as_deref())
        .bind(filter.from_actor_id)
        .bind(now)
        .fetch_all(db)
        .await?;
    if ascending {
        rows.reverse();
    }
    Ok(rows)
}

/// One of the recipient's notifications, if it is shown.
pub async fn find(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<Option<Notification>, sqlx::Error> {
    // `$4` is the id here, where a page has its limit.
    let sql = shown_sql("n.*", "and n.id = $4");
    sqlx::query_as(&sql)
        .bind(recipient_id)
        .bind(None::<i64>)
        .bind(None::<i64>)
        .bind(id)
        .bind(None::<Vec<NotificationKind>>)
        .bind(None::<i64>)
        .bind(now)
        .fetch_optional(db)
        .await
}

/// How many shown notifications are newer than `after`, counting at most
/// `limit`.
pub async fn count_after(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    filter: &Filter,
    after: Option<i64>,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "select count(*) from ({}) shown",
        shown_sql("n.id", "order by n.id desc limit $4")
    );
    sqlx::query_scalar(&sql)
        .bind(recipient_id)
        .bind(None::<i64>)
        .bind(after)
        .bind(limit)
        .bind(filter.kinds.as_deref())
        .bind(filter.from_actor_id)
        .bind(now)
        .fetch_one(db)
        .await
}

/// Removes one of the recipient's notifications; false when it has none by
/// that id.
pub async fn delete(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from notifications where recipient_id = $1 and id = $2")
        .bind(recipient_id)
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Removes all of the recipient's notifications.
pub async fn clear(db: impl PgExecutor<'_>, recipient_id: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("delete from notifications where recipient_id = $1")
        .bind(recipient_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

/// Removes the recipient's notifications from accounts on `domain`.
pub async fn delete_from_domain(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    domain: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "delete from notifications n using actors a
         where n.recipient_id = $1 and a.id = n.from_actor_id and a.domain = $2",
    )
    .bind(recipient_id)
    .bind(domain)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// A notification by id, whoever it is for (the event listener and the
/// push queue read what they were told about).
pub async fn find_by_id(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<Notification>, sqlx::Error> {
    sqlx::query_as("select * from notifications where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Whether the recipient hides notification `n`: it blocks or is blocked
/// by its sender, mutes it with its notifications (until `now`), blocks its
/// domain, or the sender is limited by the moderators and not followed.
pub async fn is_silenced(
    db: impl PgExecutor<'_>,
    n: &Notification,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(&format!("select {SILENCED}"))
        .bind(n.recipient_id)
        .bind(n.from_actor_id)
        .bind(now)
        .bind(n.id)
        .bind(n.kind)
        .fetch_one(db)
        .await
}

/// Whether `$1` (a recipient) silences a notification of kind `$5` that
/// `$2` caused, at `$3`: blocks either way, a mute that covers
/// notifications, a block of `$2`'s domain, or `$2` limited by the
/// moderators and not followed (but for the kinds always shown).
pub const SILENCED: &str = concat!(
    "(exists (select 1 from blocks b
                 where (b.blocker_id = $1 and b.blocked_id = $2)
                    or (b.blocker_id = $2 and b.blocked_id = $1))
      or exists (select 1 from mutes m
                 where m.actor_id = $1 and m.target_id = $2 and m.notifications
                   and (m.expires_at is null or m.expires_at > $3))
      or exists (select 1 from user_domain_blocks d join actors a on a.domain = d.domain
                 where d.actor_id = $1 and a.id = $2)
      or ($5::text not in ",
    always_shown!(),
    " and ",
    limited_for_recipient!("$2"),
    "))"
);
