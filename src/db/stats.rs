//! Instance-wide counts, for NodeInfo and the instance pages.

use sqlx::PgExecutor;

#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Usage {
    pub users_total: i64,
    pub users_active_month: i64,
    pub users_active_halfyear: i64,
    pub local_posts: i64,
}

/// Counts usable local accounts (approved, not disabled), those active in the
/// last 30 and 180 days (signed in or posted), and posts by local accounts,
/// from the counts kept in `account_stats` (as Mastodon sums its accounts'
/// status counts): nothing here grows with the number of posts.
pub async fn usage(db: impl PgExecutor<'_>) -> Result<Usage, sqlx::Error> {
    sqlx::query_as(
        "with people as (
             select u.actor_id, greatest(u.last_active_at, s.last_post_at) as last_seen
             from users u left join account_stats s on s.actor_id = u.actor_id
             where u.approved and not u.disabled
         )
         select (select count(*) from people) as users_total,
                (select count(*) from people where last_seen > now() - interval '30 days')
                    as users_active_month,
                (select count(*) from people where last_seen > now() - interval '180 days')
                    as users_active_halfyear,
                (select coalesce(sum(s.posts), 0)::bigint
                 from account_stats s join actors a on a.id = s.actor_id
                 where a.domain is null) as local_posts",
    )
    .fetch_one(db)
    .await
}

/// How many other servers Skein knows accounts of.
pub async fn known_domains(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(distinct domain) from actors where domain is not null")
        .fetch_one(db)
        .await
}
