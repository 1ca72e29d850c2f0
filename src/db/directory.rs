//! The profile directory (`/api/v1/directory`): accounts that chose to be
//! discovered, local and known remote ones.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::actors::Actor;

/// How the directory is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// By their latest post, most recent first.
    Active,
    /// Newest accounts first.
    New,
}

/// A page of the directory, by Mastodon's offset: discoverable accounts
/// that are neither suspended, limited (silenced, or on a silenced
/// domain), moved nor deleted (local ones
/// approved and not disabled), leaving out those `viewer` blocks, mutes or
/// is blocked by and the domains it blocks.
pub async fn page(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    local_only: bool,
    order: Order,
    offset: i64,
    limit: i64,
    now: DateTime<Utc>,
) -> Result<Vec<Actor>, sqlx::Error> {
    let order_by = match order {
        Order::Active => "s.last_post_at desc nulls last, a.id desc",
        Order::New => "a.id desc",
    };
    let limited = limited_actor!("a");
    let sql = format!(
        "select a.* from actors a
         left join account_stats s on s.actor_id = a.id
         left join users u on u.actor_id = a.id
         where a.discoverable and a.kind in ('Person', 'Service', 'Group', 'Organization')
           and a.suspended_at is null and not {limited}
           and a.gone_at is null and a.moved_to is null
           and (case when a.domain is null then coalesce(u.approved and not u.disabled, false)
                     else not $2 end)
           and ($1::bigint is null or (
                not exists (select 1 from blocks b
                                where (b.blocker_id = $1 and b.blocked_id = a.id)
                                   or (b.blocker_id = a.id and b.blocked_id = $1))
                and not exists (select 1 from mutes m
                                where m.actor_id = $1 and m.target_id = a.id
                                  and (m.expires_at is null or m.expires_at > $5))
                and not exists (select 1 from user_domain_blocks d
                                where d.actor_id = $1 and d.domain = a.domain)))
         order by {order_by}
         offset $3 limit $4"
    );
    sqlx::query_as(&sql)
        .bind(viewer)
        .bind(local_only)
        .bind(offset)
        .bind(limit)
        .bind(now)
        .fetch_all(db)
        .await
}
