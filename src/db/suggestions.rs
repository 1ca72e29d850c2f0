//! Follow suggestions (Mastodon's `AccountSuggestions` sources) read from
//! follows, likes and reposts, and the suggestions people dismissed
//! (`suggestion_dismissals`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Who may be suggested to `$1` (the present is `$2`): discoverable
/// accounts neither suspended, silenced, moved nor gone, not `$1` itself,
/// nor one it follows or asked to follow, blocks or is blocked by, mutes,
/// hides the domain of, or dismissed (Mastodon's `base_account_scope`).
const SUGGESTIBLE: &str = "a.id <> $1 and a.discoverable and a.kind <> 'Application'
     and a.suspended_at is null and a.silenced_at is null
     and a.moved_to is null and a.gone_at is null
     and not exists (select 1 from follows x where x.follower_id = $1 and x.followee_id = a.id)
     and not exists (select 1 from blocks b
                     where (b.blocker_id = $1 and b.blocked_id = a.id)
                        or (b.blocker_id = a.id and b.blocked_id = $1))
     and not exists (select 1 from mutes m where m.actor_id = $1 and m.target_id = a.id
                       and (m.expires_at is null or m.expires_at > $2))
     and not exists (select 1 from user_domain_blocks d where d.actor_id = $1 and d.domain = a.domain)
     and not exists (select 1 from suggestion_dismissals s where s.actor_id = $1 and s.target_id = a.id)";

/// Accounts followed by the accounts `viewer` follows, the most shared
/// first, then the most followed.
pub async fn friends_of_friends(
    db: impl PgExecutor<'_>,
    viewer: i64,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "select a.id from follows f1
         join follows f2 on f2.follower_id = f1.followee_id and f2.state = 'accepted'
         join actors a on a.id = f2.followee_id
         left join account_stats s on s.actor_id = a.id
         where f1.follower_id = $1 and f1.state = 'accepted' and {SUGGESTIBLE}
         group by a.id, s.followers
         order by count(*) desc, coalesce(s.followers, 0) desc, a.id
         limit $3"
    ))
    .bind(viewer)
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Accounts this instance's accounts followed most since `since`.
pub async fn most_followed(
    db: impl PgExecutor<'_>,
    viewer: i64,
    now: DateTime<Utc>,
    limit: i64,
    since: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "select a.id from follows f
         join actors fa on fa.id = f.follower_id and fa.domain is null
         join actors a on a.id = f.followee_id
         where f.state = 'accepted' and f.created_at >= $4 and {SUGGESTIBLE}
         group by a.id
         order by count(distinct f.follower_id) desc, a.id
         limit $3"
    ))
    .bind(viewer)
    .bind(now)
    .bind(limit)
    .bind(since)
    .fetch_all(db)
    .await
}

/// Accounts whose posts this instance's accounts liked or reposted most
/// (by distinct accounts) since `since`.
pub async fn most_interactions(
    db: impl PgExecutor<'_>,
    viewer: i64,
    now: DateTime<Utc>,
    limit: i64,
    since: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "select a.id from (
             select l.actor_id as by_id, p.author_id from likes l
             join posts p on p.id = l.post_id
             where l.created_at >= $4 and p.deleted_at is null
             union all
             select r.author_id, p.author_id from posts r
             join posts p on p.id = r.reblog_of_id
             where r.published >= $4 and r.deleted_at is null and p.deleted_at is null
         ) i
         join actors ia on ia.id = i.by_id and ia.domain is null
         join actors a on a.id = i.author_id
         where i.by_id <> i.author_id and {SUGGESTIBLE}
         group by a.id
         order by count(distinct i.by_id) desc, a.id
         limit $3"
    ))
    .bind(viewer)
    .bind(now)
    .bind(limit)
    .bind(since)
    .fetch_all(db)
    .await
}

/// Remembers that `actor` dismissed `target`; true if it was new.
pub async fn dismiss(
    db: impl PgExecutor<'_>,
    actor: i64,
    target: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "insert into suggestion_dismissals (actor_id, target_id, created_at) values ($1, $2, $3)
         on conflict do nothing",
    )
    .bind(actor)
    .bind(target)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
