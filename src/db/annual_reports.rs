//! `annual_reports` (Wrapstodon) and the figures of one: every count is
//! read from the account's stored activity in the year (its live posts by
//! publication time, its follows and followers by when they began).

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// A report as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnnualReport {
    pub id: i64,
    pub actor_id: i64,
    pub year: i32,
    pub schema_version: i32,
    pub data: sqlx::types::Json<Value>,
    pub viewed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Stores a report unless the account has one for the year; the stored one.
pub async fn insert(
    db: impl PgExecutor<'_> + Copy,
    actor_id: i64,
    year: i32,
    schema_version: i32,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<AnnualReport, sqlx::Error> {
    sqlx::query(
        "insert into annual_reports (actor_id, year, schema_version, data, created_at)
         values ($1, $2, $3, $4, $5) on conflict (actor_id, year) do nothing",
    )
    .bind(actor_id)
    .bind(year)
    .bind(schema_version)
    .bind(sqlx::types::Json(data))
    .bind(now)
    .execute(db)
    .await?;
    sqlx::query_as("select * from annual_reports where actor_id = $1 and year = $2")
        .bind(actor_id)
        .bind(year)
        .fetch_one(db)
        .await
}

pub async fn find(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    year: i32,
) -> Result<Option<AnnualReport>, sqlx::Error> {
    sqlx::query_as("select * from annual_reports where actor_id = $1 and year = $2")
        .bind(actor_id)
        .bind(year)
        .fetch_optional(db)
        .await
}

/// The account's reports not marked read, by year.
pub async fn pending(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<AnnualReport>, sqlx::Error> {
    sqlx::query_as(
        "select * from annual_reports where actor_id = $1 and viewed_at is null order by year",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// Marks a report read; false when there is none.
pub async fn mark_read(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    year: i32,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "update annual_reports set viewed_at = coalesce(viewed_at, $3)
         where actor_id = $1 and year = $2",
    )
    .bind(actor_id)
    .bind(year)
    .bind(now)
    .execute(db)
    .await?
    .rows_affected()
        > 0)
}

/// A post `p` of the account (`$1`), live, published in [`$2`, `$3`).
const IN_YEAR: &str = "p.author_id = $1 and p.deleted_at is null
     and p.published >= $2 and p.published < $3";

/// How the account posted in the year (Mastodon's type distribution and
/// what its archetype reads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Distribution {
    pub total: i64,
    pub reblogs: i64,
    /// Replies to others' posts.
    pub replies: i64,
    /// Neither reposts nor replies to others (replies to oneself count).
    pub standalone: i64,
    pub polls: i64,
}

pub async fn distribution(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Distribution, sqlx::Error> {
    sqlx::query_as(&format!(
        "with y as (
             select p.id, p.reblog_of_id,
                    (p.in_reply_to_ap_id is not null
                     and coalesce((select parent.author_id from posts parent
                                   where parent.id = p.in_reply_to_id), 0) <> $1) as to_others
             from posts p where {IN_YEAR}
         )
         select count(*) as total,
                count(*) filter (where reblog_of_id is not null) as reblogs,
                count(*) filter (where reblog_of_id is null and to_others) as replies,
                count(*) filter (where reblog_of_id is null and not to_others) as standalone,
                count(*) filter (where exists (select 1 from polls pl where pl.post_id = y.id)) as polls
         from y"
    ))
    .bind(actor_id)
    .bind(from)
    .bind(to)
    .fetch_one(db)
    .await
}

/// The account's public post of the year with the most of `column`
/// (`reposts_count`, `likes_count`, `replies_count`), leaving out
/// `except`.
pub async fn top_post(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    column: &str,
    except: &[i64],
) -> Result<Option<i64>, sqlx::Error> {
    let column = match column {
        "reposts_count" | "likes_count" | "replies_count" => column,
        _ => "reposts_count",
    };
    sqlx::query_scalar(&format!(
        "select p.id from posts p where {IN_YEAR}
           and p.visibility = 'public' and p.reblog_of_id is null and p.id <> all($4)
         order by p.{column} desc, p.id desc limit 1"
    ))
    .bind(actor_id)
    .bind(from)
    .bind(to)
    .bind(except)
    .fetch_optional(db)
    .await
}

/// The apps the account posted from most: (name, posts), at most `limit`.
pub async fn apps(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select a.name, count(*) from posts p
         join oauth_apps a on a.id = p.app_id
         where {IN_YEAR}
         group by a.name order by count(*) desc, a.name limit $4"
    ))
    .bind(actor_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The accounts the account replied to more than once: (account, replies).
pub async fn replied_to(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select parent.author_id, count(*) from posts p
         join posts parent on parent.id = p.in_reply_to_id
         where {IN_YEAR} and parent.author_id <> $1
         group by parent.author_id having count(*) > 1
         order by count(*) desc, parent.author_id limit $4"
    ))
    .bind(actor_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The accounts whose posts the account reposted more than once:
/// (account, reposts).
pub async fn reposted(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select original.author_id, count(*) from posts p
         join posts original on original.id = p.reblog_of_id
         where {IN_YEAR}
         group by original.author_id having count(*) > 1
         order by count(*) desc, original.author_id limit $4"
    ))
    .bind(actor_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// The hashtags the account used more than once: (name, posts).
pub async fn hashtags(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select coalesce(min(t.name), pt.tag), count(*) from posts p
         join post_tags pt on pt.post_id = p.id
         left join tags t on t.tag = pt.tag
         where {IN_YEAR}
         group by pt.tag having count(*) > 1
         order by count(*) desc, pt.tag limit $4"
    ))
    .bind(actor_id)
    .bind(from)
    .bind(to)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Per month of the year (1 to 12): posts, accounts followed and followers
/// gained (follows that still stand).
pub async fn months(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(i32, i64, i64, i64)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select m.month,
                (select count(*) from posts p where {IN_YEAR}
                   and date_part('month', p.published at time zone 'UTC')::int = m.month),
                (select count(*) from follows f
                 where f.follower_id = $1 and f.state = 'accepted'
                   and f.created_at >= $2 and f.created_at < $3
                   and date_part('month', f.created_at at time zone 'UTC')::int = m.month),
                (select count(*) from follows f
                 where f.followee_id = $1 and f.state = 'accepted'
                   and f.created_at >= $2 and f.created_at < $3
                   and date_part('month', f.created_at at time zone 'UTC')::int = m.month)
         from generate_series(1, 12) as m (month)
         order by m.month"
    ))
    .bind(actor_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await
}

/// Mastodon's percentiles: the share (0 to 100) of local accounts that
/// gained fewer followers, and that posted less, in the year than this
/// one, over those that gained any or posted at all.
pub async fn percentiles(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(f64, f64), sqlx::Error> {
    sqlx::query_as(
        "with gained as (
             select f.followee_id as id, count(*) as n from follows f
             join actors a on a.id = f.followee_id and a.domain is null
             where f.created_at >= $2 and f.created_at < $3
             group by f.followee_id
         ), posted as (
             select p.author_id as id, count(*) as n from posts p
             join actors a on a.id = p.author_id and a.domain is null
             where p.deleted_at is null and p.published >= $2 and p.published < $3
             group by p.author_id
         ), mine as (
             select coalesce((select n from gained where id = $1), 0) as followers,
                    coalesce((select n from posted where id = $1), 0) as statuses
         )
         select (select count(*) from gained, mine where gained.n < mine.followers)::float8
                    / ((select count(*) from gained) + 1.0)::float8 * 100.0,
                (select count(*) from posted, mine where posted.n < mine.statuses)::float8
                    / ((select count(*) from posted) + 1.0)::float8 * 100.0",
    )
    .bind(actor_id)
    .bind(from)
    .bind(to)
    .fetch_one(db)
    .await
}
