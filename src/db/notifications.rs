//! The `notifications` table: what local accounts are told about, and how
//! they read, dismiss and count it.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::db::push;
use crate::domain::events::{CHANNEL, Change, QUEUED};
use crate::domain::notifications::{
    GROUP_SPAN_HOURS, MAX_MEANINGFUL_COUNT, NEW_ACCOUNT_DAYS, NEW_FOLLOWER_DAYS, NotificationKind,
};

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

/// Whether the sender (`$2`) is limited by the moderators: silenced, or on
/// a silenced domain.
const SENDER_LIMITED: &str = concat!(
    "exists (select 1 from actors la where la.id = $2 and ",
    limited_actor!("la"),
    ")"
);

/// Whether the mention `$4` (a post by `$2` to `$1`) is a private mention
/// that does not answer one of the recipient's (Mastodon's
/// `private_mention_not_in_response?`): a direct post whose thread above,
/// up to 100 posts, holds no direct post of the recipient's mentioning the
/// sender. The walk up stops at the first post mentioning the sender (the
/// parent whoever wrote it, above it the recipient's).
const PRIVATE_MENTION: &str = "exists (
    select 1 from posts tp
    where tp.id = $4 and tp.visibility = 'direct'
      and not exists (
          with recursive up (id, author_id, in_reply_to_id, visibility, names_sender, depth, path) as (
              select s.id, s.author_id, s.in_reply_to_id, s.visibility,
                     exists (select 1 from post_mentions m where m.post_id = s.id and m.actor_id = $2),
                     0, array[s.id]
              from posts s
              where s.id = (select r.in_reply_to_id from posts r where r.id = $4)
            union all
              select s.id, s.author_id, s.in_reply_to_id, s.visibility,
                     s.author_id = $1 and exists (select 1 from post_mentions m
                                                  where m.post_id = s.id and m.actor_id = $2),
                     up.depth + 1, up.path || s.id
              from up join posts s on s.id = up.in_reply_to_id
              where not up.names_sender and not s.id = any(up.path) and up.depth < 100
          )
          select 1 from up where names_sender and author_id = $1 and visibility = 'direct'))";

/// What `insert` reads back: the new notification's id, whether it was
/// filtered, and its announcements (when not deferred).
type Inserted = (i64, bool, Option<String>, Option<String>);

/// One statement: the recipient's notification policy judged (drop,
/// filter or accept, `verdict`), the notification with its group key, and
/// only when it is new: the sender's notification request when it is a
/// filtered mention or quote, and when it is not filtered its pushes
/// (`db::push::QUEUE_FOR`) and its announcements (`Change::Notified`,
/// built in SQL, a unit test holds the two formats together;
/// `Change::Queued` when pushes were queued).
#[allow(clippy::too_many_arguments)]
async fn insert(
    db: &mut PgConnection,
    recipient_id: i64,
    kind: NotificationKind,
    from_actor_id: i64,
    post_id: Option<i64>,
    report_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "with facts as (
             select
                 exists (select 1 from follows f
                         where f.follower_id = $1 and f.followee_id = $2
                           and f.state = 'accepted') as following,
                 not exists (select 1 from follows f
                             where f.follower_id = $2 and f.followee_id = $1
                               and f.state = 'accepted' and f.created_at <= $14) as not_follower,
                 exists (select 1 from notification_permissions np
                         where np.recipient_id = $1 and np.from_actor_id = $2) as permitted,
                 coalesce((select s.published > $13 from actors s where s.id = $2), false)
                     as new_account,
                 {SENDER_LIMITED} as limited,
                 case when $5::text = 'mention' then {PRIVATE_MENTION} else false end
                     as private_mention,
                 case when $5::text = 'mention' then exists (
                     select 1 from users su, users ru
                     where su.actor_id = $2 and ru.actor_id = $1
                       and (case su.role when 'admin' then 2 when 'moderator' then 1 else 0 end)
                           > (case ru.role when 'admin' then 2 when 'moderator' then 1 else 0 end))
                 else false end as from_staff
         ),
         policy as (
             select coalesce(np.for_not_following, 'accept') as not_following,
                    coalesce(np.for_not_followers, 'accept') as not_followers,
                    coalesce(np.for_new_accounts, 'accept') as new_accounts,
                    coalesce(np.for_private_mentions, 'filter') as private_mentions,
                    coalesce(np.for_limited_accounts, 'filter') as limited_accounts
             from (select 1) one left join notification_policies np on np.actor_id = $1
         ),
         verdict as (
             select array[case when f.limited and not f.following then p.limited_accounts end,
                          case when not f.following then p.not_following end,
                          case when f.not_follower then p.not_followers end,
                          case when f.new_account and not f.following then p.new_accounts end,
                          case when f.private_mention and not f.following
                               then p.private_mentions end] as actions
             from facts f, policy p
             where $10 and not f.permitted and not f.from_staff
         ),
         judged as (
             select coalesce((select 'drop' = any(actions) from verdict), false) as dropped,
                    coalesce((select 'filter' = any(actions) from verdict), false) as filtered
         ),
         series as (
             select (substring(s.group_key from '[0-9]+$'))::bigint as bucket, s.created_at
             from notifications s
             where s.recipient_id = $1 and s.kind = $5 and coalesce(s.post_id, 0) = coalesce($4, 0)
               and s.group_key is not null
             order by s.id desc limit 1
         ),
         n as (
             insert into notifications (recipient_id, kind, from_actor_id, post_id, report_id,
                                         created_at, filtered, group_key)
             select $1, $5, $2, $4, $6, $3, j.filtered,
                    case when $11::text is not null and not j.filtered then
                        $11 || '-' || coalesce((select bucket from series
                                                where created_at > $15 and $16 < bucket + $17),
                                               $16)
                    end
             from judged j
             where not j.dropped
               and exists (select 1 from actors where id = $1 and domain is null)
               -- Nothing from a thread the recipient muted.
               and not ($4::bigint is not null
                        and exists (select 1 from conversation_mutes where actor_id = $1)
                        and exists (select 1 from conversation_mutes
                                    where actor_id = $1 and root_id = thread_root($4)))
             on conflict do nothing
             returning id, filtered
         ),
         request as (
             insert into notification_requests (recipient_id, from_actor_id, last_post_id,
                                                notifications_count, created_at, updated_at)
             select $1, $2, $4, 1, $3, $3 from n where n.filtered and $12
             on conflict (recipient_id, from_actor_id) do update
                 set last_post_id = excluded.last_post_id,
                     updated_at = excluded.updated_at,
                     notifications_count = least(
                         (select count(*) from (select 1 from notifications x
                                                where x.recipient_id = $1 and x.from_actor_id = $2
                                                  and x.filtered and x.kind in ('mention', 'quote')
                                                limit $18) c) + 1,
                         $18)
             returning 1
         ),
         pushed as ({})
         select id, filtered,
                case when $9 and not filtered then
                    pg_notify($7, json_build_object('kind', 'notified', 'notification', id,
                                                    'recipient', $1::bigint)::text)::text
                end,
                (select case when $9 then pg_notify($7, $8)::text else '' end
                 from pushed limit 1)
         from n",
            *push::QUEUE_FOR
        )
    });
    let group_prefix = match (kind, post_id) {
        (NotificationKind::Favourite | NotificationKind::Reblog, Some(post)) => {
            Some(format!("{kind}-{post}"))
        }
        (NotificationKind::Follow | NotificationKind::AdminSignUp, _) => Some(kind.to_string()),
        _ => None,
    };
    let row: Option<Inserted> = sqlx::query_as(&SQL)
        .bind(recipient_id)
        .bind(from_actor_id)
        .bind(now)
        .bind(post_id)
        .bind(kind)
        .bind(report_id)
        .bind(CHANNEL)
        .bind(QUEUED)
        .bind(!events::deferring())
        .bind(kind.is_filterable())
        .bind(group_prefix)
        .bind(kind.makes_requests())
        .bind(now - chrono::Duration::days(NEW_ACCOUNT_DAYS))
        .bind(now - chrono::Duration::days(NEW_FOLLOWER_DAYS))
        .bind(now - chrono::Duration::hours(GROUP_SPAN_HOURS))
        .bind(now.timestamp().div_euclid(3600))
        .bind(GROUP_SPAN_HOURS)
        .bind(MAX_MEANINGFUL_COUNT)
        .fetch_optional(&mut *db)
        .await?;
    if let Some((id, filtered, _, pushed)) = &row
        && !filtered
    {
        events::defer(Change::Notified {
            notification: *id,
            recipient: recipient_id,
        });
        if pushed.is_some() {
            events::defer(Change::Queued);
        }
    }
    Ok(row.map(|(id, ..)| id))
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
    /// Filtered by the recipient's notification policy: out of the list,
    /// streaming and pushes until the sender's request is accepted.
    pub filtered: bool,
    /// Mastodon's group key; None for notifications shown alone.
    pub group_key: Option<String>,
}

/// Which of a recipient's notifications to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only these kinds; None: every kind.
    pub kinds: Option<Vec<NotificationKind>>,
    /// Only from this account.
    pub from_actor_id: Option<i64>,
    /// Also the notifications the recipient's policy filtered.
    pub include_filtered: bool,
    /// Only notifications about replies to the recipient's posts
    /// (`Some(true)`) or only the others (`Some(false)`): the web's Replies
    /// and Mentions tabs.
    pub replies: Option<bool>,
    /// Only from accounts with a verified profile link (the web's Verified
    /// tab).
    pub verified_senders: bool,
}

impl Filter {
    /// Every kind from every sender, filtered ones included.
    const ALL: Filter = Filter {
        kinds: None,
        from_actor_id: None,
        include_filtered: true,
        replies: None,
        verified_senders: false,
    };

    /// The conditions `replies` and `verified_senders` add (fixed choices,
    /// nothing bound), so that a page is narrowed before its limit and
    /// comes full.
    fn narrowing(&self) -> String {
        let mut sql = String::new();
        if let Some(replies) = self.replies {
            let not = if replies { "" } else { "not " };
            sql.push_str(&format!(
                " and {not}exists (select 1 from posts rp join posts par on par.id = rp.in_reply_to_id
                                   where rp.id = n.post_id and par.author_id = $1)"
            ));
        }
        if self.verified_senders {
            sql.push_str(
                " and exists (select 1 from actors va
                              cross join lateral jsonb_array_elements(va.fields) vf
                              where va.id = n.from_actor_id and vf->>'verified_at' is not null)",
            );
        }
        sql
    }
}

/// What the recipient (`$1`) is shown: nothing from accounts it mutes with
/// their notifications (until `$7`, the present), blocks, or whose domain
/// it blocks, nor from accounts that are gone, nor what its notification
/// policy filtered unless `include_filtered` says so; only the kinds `$5`
/// and the sender `$6` when the filter names them, and only replies, other
/// notifications or verified senders when it asks (`Filter::narrowing`). Each choice is written
/// into the text only when it is made, rather than bound as
/// `($5 is null or ...)`: PostgreSQL's generic plan (after five executions)
/// cannot tell such a condition away, guessed a handful of rows and
/// scanned, checked and sorted every notification of the recipient.
fn shown(filter: &Filter) -> String {
    let filtered = if filter.include_filtered {
        ""
    } else {
        "and not n.filtered"
    };
    let kinds = if filter.kinds.is_some() {
        "and n.kind = any($5)"
    } else {
        ""
    };
    let from = if filter.from_actor_id.is_some() {
        "and n.from_actor_id = $6"
    } else {
        ""
    };
    let narrowing = filter.narrowing();
    format!("{SHOWN_ALWAYS} {filtered} {kinds} {from}{narrowing}")
}

const SHOWN_ALWAYS: &str = "n.recipient_id = $1
     and not exists (select 1 from mutes m
                     where m.actor_id = $1 and m.target_id = n.from_actor_id and m.notifications
                       and (m.expires_at is null or m.expires_at > $7))
     and not exists (select 1 from blocks b
                     where b.blocker_id = $1 and b.blocked_id = n.from_actor_id)
     and not exists (select 1 from actors a
                     where a.id = n.from_actor_id
                       and (a.gone_at is not null
                            or exists (select 1 from user_domain_blocks d
                                       where d.actor_id = $1 and d.domain = a.domain)))";

/// Which page bounds a read has: below `$2`, above `$3`.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    upper: bool,
    lower: bool,
}

impl Bounds {
    const NONE: Bounds = Bounds {
        upper: false,
        lower: false,
    };

    fn of(upper: Option<i64>, lower: Option<i64>) -> Bounds {
        Bounds {
            upper: upper.is_some(),
            lower: lower.is_some(),
        }
    }

    /// The bounds on `n.id`, only those the page has: as in
    /// `db::timelines`, a bound written as `($2 is null or n.id < $2)`
    /// cannot bound the index scan of a generic plan, which then walks the
    /// recipient's notifications from the newest down on every deep page.
    fn sql(self) -> &'static str {
        match (self.upper, self.lower) {
            (false, false) => "",
            (true, false) => "and n.id < $2",
            (false, true) => "and n.id > $3",
            (true, true) => "and n.id < $2 and n.id > $3",
        }
    }
}

fn shown_sql(select: &str, tail: &str, filter: &Filter, bounds: Bounds) -> String {
    let shown = shown(filter);
    let bounds = bounds.sql();
    format!(
        "select {select} from notifications n left join posts p on p.id = n.post_id
         where {shown}
           and (n.post_id is null or (p.deleted_at is null and {VISIBLE}))
           {bounds}
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
    let sql = shown_sql(
        "n.*",
        &format!("order by n.id {order} limit $4"),
        filter,
        Bounds::of(page.max_id, page.min_id.or(page.since_id)),
    );
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
    let sql = shown_sql("n.*", "and n.id = $4", &Filter::ALL, Bounds::NONE);
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
        shown_sql(
            "n.id",
            "order by n.id desc limit $4",
            filter,
            Bounds::of(None, after),
        )
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
/// by its sender, mutes it with its notifications (until `now`), or blocks
/// its domain.
pub async fn is_silenced(
    db: impl PgExecutor<'_>,
    n: &Notification,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(&format!("select {SILENCED}"))
        .bind(n.recipient_id)
        .bind(n.from_actor_id)
        .bind(now)
        .fetch_one(db)
        .await
}

/// Whether `$1` (a recipient) silences a notification that `$2` caused,
/// at `$3`: blocks either way, a mute that covers notifications, a block
/// of `$2`'s domain. (Accounts the moderators limited are the
/// notification policy's, judged when the notification is made.)
pub const SILENCED: &str = "(exists (select 1 from blocks b
                 where (b.blocker_id = $1 and b.blocked_id = $2)
                    or (b.blocker_id = $2 and b.blocked_id = $1))
      or exists (select 1 from mutes m
                 where m.actor_id = $1 and m.target_id = $2 and m.notifications
                   and (m.expires_at is null or m.expires_at > $3))
      or exists (select 1 from user_domain_blocks d join actors a on a.domain = d.domain
                 where d.actor_id = $1 and a.id = $2))";

/// A notification's group as the grouped API reads it (`$8`: the kinds
/// grouped): its key, or `ungrouped-<id>`.
const GROUP_OF: &str =
    "coalesce(case when n.kind = any($8) then n.group_key end, 'ungrouped-' || n.id)";

/// Mastodon's `paginate_groups`: the newest (oldest with `ascending`)
/// shown notification of each group within the bounds, one group after
/// the other, at most `$4` groups; binds as `shown_sql`'s, and `$8`.
fn group_walk(ascending: bool, filter: &Filter, bounds: Bounds) -> String {
    let (order, step) = if ascending {
        ("asc", ">")
    } else {
        ("desc", "<")
    };
    let first = shown_sql(
        &format!("n.*, array[{GROUP_OF}] as groups"),
        &format!("order by n.id {order} limit 1"),
        filter,
        bounds,
    );
    let next = shown_sql(
        "n.*",
        &format!(
            "and n.id {step} wt.id and {GROUP_OF} <> all(wt.groups) order by n.id {order} limit 1"
        ),
        filter,
        bounds,
    );
    format!(
        "with recursive walk as (
             ({first})
           union all
             select nx.*, wt.groups || {} as groups
             from walk wt
             cross join lateral ({next}) nx
             where array_length(wt.groups, 1) < $4
         )",
        GROUP_OF.replace("n.", "nx.")
    )
}

/// A page of the recipient's notifications with one per group (the
/// newest within the bounds), newest first: the grouped API's page.
/// `grouped`: the kinds that group (others are shown alone).
pub async fn group_page(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    filter: &Filter,
    page: Page,
    grouped: &[NotificationKind],
    now: DateTime<Utc>,
) -> Result<Vec<Notification>, sqlx::Error> {
    let ascending = page.min_id.is_some();
    let order = if ascending { "asc" } else { "desc" };
    let sql = format!(
        "{} select * from walk order by id {order} limit $4",
        group_walk(
            ascending,
            filter,
            Bounds::of(page.max_id, page.min_id.or(page.since_id)),
        )
    );
    let mut rows: Vec<Notification> = sqlx::query_as(&sql)
        .bind(recipient_id)
        .bind(page.max_id)
        .bind(page.min_id.or(page.since_id))
        .bind(page.limit)
        .bind(filter.kinds.as_deref())
        .bind(filter.from_actor_id)
        .bind(now)
        .bind(grouped)
        .fetch_all(db)
        .await?;
    if ascending {
        rows.reverse();
    }
    Ok(rows)
}

/// How many groups have shown notifications newer than `after`, counting
/// at most `limit` (the grouped unread count).
pub async fn count_groups_after(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    filter: &Filter,
    after: Option<i64>,
    limit: i64,
    grouped: &[NotificationKind],
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "{} select count(*) from walk",
        group_walk(true, filter, Bounds::of(None, after))
    );
    sqlx::query_scalar(&sql)
        .bind(recipient_id)
        .bind(None::<i64>)
        .bind(after)
        .bind(limit)
        .bind(filter.kinds.as_deref())
        .bind(filter.from_actor_id)
        .bind(now)
        .bind(grouped)
        .fetch_one(db)
        .await
}

/// A group as the grouped API shows it: the notification that stands for
/// it on the page, and what `groups` read of it (for a notification shown
/// alone: itself).
#[derive(Debug, Clone)]
pub struct NotificationGroup {
    pub notification: Notification,
    pub key: String,
    pub count: i64,
    pub most_recent_id: i64,
    pub sample_actor_ids: Vec<i64>,
    /// When paging: the group's oldest notification on the page and when
    /// its newest was made.
    pub page: Option<(i64, DateTime<Utc>)>,
}

/// What the grouped API tells of a group: its newest notification (up to
/// the page's newest), the senders of its newest ones, how many it has,
/// its oldest on the page and when its newest was made.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupData {
    pub group_key: String,
    pub most_recent_id: Option<i64>,
    pub sample_actor_ids: Vec<i64>,
    pub count: i64,
    pub page_min_id: Option<i64>,
    pub latest_at: Option<DateTime<Utc>>,
}

/// The data of the recipient's groups `keys` (Mastodon's
/// `load_groups_data`): counted up to the notification `range.1` and, for
/// the oldest on the page, from `range.0` (either unbounded when None);
/// the whole group without a range.
/// Senders the recipient hides are left out.
pub async fn groups(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    keys: &[String],
    range: Option<(Option<i64>, Option<i64>)>,
    samples: i64,
    now: DateTime<Utc>,
) -> Result<Vec<GroupData>, sqlx::Error> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let shown = shown(&Filter::default());
    let of_group =
        format!("{shown} and n.group_key = g.key and ($3::bigint is null or n.id <= $3)");
    let sql = format!(
        "select g.key as group_key,
                (select n.id from notifications n where {of_group}
                 order by n.id desc limit 1) as most_recent_id,
                array(select n.from_actor_id from notifications n where {of_group}
                      order by n.id desc limit $8) as sample_actor_ids,
                (select count(*) from notifications n where {of_group}) as count,
                (select n.id from notifications n
                 where {shown} and n.group_key = g.key and ($2::bigint is null or n.id >= $2)
                 order by n.id asc limit 1) as page_min_id,
                (select n.created_at from notifications n where {of_group}
                 order by n.id desc limit 1) as latest_at
         from unnest($4::text[]) g(key)"
    );
    sqlx::query_as(&sql)
        .bind(recipient_id)
        .bind(range.and_then(|r| r.0))
        .bind(range.and_then(|r| r.1))
        .bind(keys)
        .bind(None::<Vec<NotificationKind>>)
        .bind(None::<i64>)
        .bind(now)
        .bind(samples)
        .fetch_all(db)
        .await
}

/// A group by Mastodon's key: notifications sharing it, or for
/// `ungrouped-<id>` the one notification by that id (none when the id is
/// not a number). The condition on `n`, with the key as `$4`.
pub enum GroupKey {
    Grouped(String),
    Single(i64),
}

impl GroupKey {
    pub fn parse(raw: &str) -> GroupKey {
        match raw.strip_prefix("ungrouped-") {
            Some(id) => GroupKey::Single(id.parse().unwrap_or(0)),
            None => GroupKey::Grouped(raw.to_string()),
        }
    }

    fn condition(&self) -> &'static str {
        match self {
            GroupKey::Grouped(_) => "n.group_key = $4",
            GroupKey::Single(_) => "n.id = $4",
        }
    }

    fn bind<'q>(
        &'q self,
        query: sqlx::query::QueryAs<'q, sqlx::Postgres, Notification, sqlx::postgres::PgArguments>,
    ) -> sqlx::query::QueryAs<'q, sqlx::Postgres, Notification, sqlx::postgres::PgArguments> {
        match self {
            GroupKey::Grouped(key) => query.bind(key.as_str()),
            GroupKey::Single(id) => query.bind(*id),
        }
    }
}

/// The newest of the recipient's shown notifications of a group, filtered
/// ones included.
pub async fn find_group(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    key: &GroupKey,
    now: DateTime<Utc>,
) -> Result<Option<Notification>, sqlx::Error> {
    let sql = shown_sql(
        "n.*",
        &format!("and {} order by n.id desc limit 1", key.condition()),
        &Filter::ALL,
        Bounds::NONE,
    );
    let query = sqlx::query_as(&sql)
        .bind(recipient_id)
        .bind(None::<i64>)
        .bind(None::<i64>);
    key.bind(query)
        .bind(None::<Vec<NotificationKind>>)
        .bind(None::<i64>)
        .bind(now)
        .fetch_optional(db)
        .await
}

/// A page of a group's shown notifications, newest first: who is in the
/// group.
pub async fn group_members(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    key: &GroupKey,
    page: Page,
    now: DateTime<Utc>,
) -> Result<Vec<Notification>, sqlx::Error> {
    let sql = shown_sql(
        "n.*",
        &format!("and {} order by n.id desc limit $8", key.condition()),
        &Filter::ALL,
        Bounds::of(page.max_id, page.since_id.or(page.min_id)),
    );
    let query = sqlx::query_as(&sql)
        .bind(recipient_id)
        .bind(page.max_id)
        .bind(page.since_id.or(page.min_id));
    key.bind(query)
        .bind(None::<Vec<NotificationKind>>)
        .bind(None::<i64>)
        .bind(now)
        .bind(page.limit)
        .fetch_all(db)
        .await
}

/// Removes the recipient's notifications of a group; how many went.
pub async fn delete_group(
    db: impl PgExecutor<'_>,
    recipient_id: i64,
    key: &GroupKey,
) -> Result<u64, sqlx::Error> {
    let done = match key {
        GroupKey::Grouped(k) => {
            sqlx::query("delete from notifications where recipient_id = $1 and group_key = $2")
                .bind(recipient_id)
                .bind(k.as_str())
                .execute(db)
                .await?
        }
        GroupKey::Single(id) => {
            sqlx::query("delete from notifications where recipient_id = $1 and id = $2")
                .bind(recipient_id)
                .bind(*id)
                .execute(db)
                .await?
        }
    };
    Ok(done.rows_affected())
}
