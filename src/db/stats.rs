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
/// last 30 and 180 days (signed in or posted), and posts by local accounts.
pub async fn usage(db: impl PgExecutor<'_>) -> Result<Usage, sqlx::Error> {
    sqlx::query_as(
        "with people as (
             select u.actor_id,
                    greatest(u.last_active_at,
                             (select max(p.published) from posts p
                              where p.author_id = u.actor_id and p.deleted_at is null))
                        as last_seen
             from users u
             where u.approved and not u.disabled
         )
         select (select count(*) from people) as users_total,
                (select count(*) from people where last_seen > now() - interval '30 days')
                    as users_active_month,
                (select count(*) from people where last_seen > now() - interval '180 days')
                    as users_active_halfyear,
                (select count(*) from posts p join actors a on a.id = p.author_id
                  where a.domain is null and p.deleted_at is null
                    and p.reblog_of_id is null) as local_posts",
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
