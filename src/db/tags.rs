//! Hashtags as accounts hold them: followed (`tag_follows`), featured on a
//! profile (`featured_tags`), and their use over the last days (read from
//! `post_tags`). Tags are stored as posts store them (lower case); `tags`
//! gives a hashtag an id and its name as first written.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::timelines::Page;

/// A hashtag with an id (`tags`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Tag {
    pub id: i64,
    /// As posts store it (lower case).
    pub tag: String,
    /// As first written.
    pub name: String,
}

/// The hashtag's row, made with `name` when there is none.
pub async fn ensure(db: impl PgExecutor<'_>, tag: &str, name: &str) -> Result<Tag, sqlx::Error> {
    sqlx::query_as(
        "insert into tags (tag, name) values ($1, $2)
         on conflict (tag) do update set tag = excluded.tag
         returning id, tag, name",
    )
    .bind(tag)
    .bind(name)
    .fetch_one(db)
    .await
}

/// The hashtag's row, if it has one.
pub async fn find(db: impl PgExecutor<'_>, tag: &str) -> Result<Option<Tag>, sqlx::Error> {
    sqlx::query_as("select id, tag, name from tags where tag = $1")
        .bind(tag)
        .fetch_optional(db)
        .await
}

/// The rows of these hashtags (those that have one).
pub async fn find_many(db: impl PgExecutor<'_>, tags: &[String]) -> Result<Vec<Tag>, sqlx::Error> {
    sqlx::query_as("select id, tag, name from tags where tag = any($1)")
        .bind(tags)
        .fetch_all(db)
        .await
}

/// Whether some post carries the hashtag.
pub async fn used(db: impl PgExecutor<'_>, tag: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from post_tags where tag = $1)")
        .bind(tag)
        .fetch_one(db)
        .await
}

/// A followed hashtag, with the id of the follow that pages the list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Followed {
    pub cursor: i64,
    #[sqlx(flatten)]
    pub tag: Tag,
}

/// Follows a hashtag (nothing when followed already); its row must exist.
/// The follow's time is the database's, as `posts.created_at` is: home
/// timelines compare the two.
pub async fn follow(db: impl PgExecutor<'_>, actor_id: i64, tag: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into tag_follows (actor_id, tag, created_at) values ($1, $2, now())
         on conflict (actor_id, tag) do nothing",
    )
    .bind(actor_id)
    .bind(tag)
    .execute(db)
    .await
    .map(drop)
}

pub async fn unfollow(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    tag: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from tag_follows where actor_id = $1 and tag = $2")
        .bind(actor_id)
        .bind(tag)
        .execute(db)
        .await
        .map(drop)
}

/// The hashtags an account follows, newest follow first, paged by the
/// follow's id.
pub async fn followed(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    page: Page,
) -> Result<Vec<Followed>, sqlx::Error> {
    let order = if page.min_id.is_some() { "asc" } else { "desc" };
    let sql = format!(
        "select f.id as cursor, t.id, t.tag, t.name
         from tag_follows f join tags t on t.tag = f.tag
         where f.actor_id = $1
           and ($2::bigint is null or f.id < $2)
           and ($3::bigint is null or f.id > $3)
         order by f.id {order} limit $4"
    );
    let mut rows: Vec<Followed> = sqlx::query_as(&sql)
        .bind(actor_id)
        .bind(page.max_id)
        .bind(page.min_id.or(page.since_id))
        .bind(page.limit)
        .fetch_all(db)
        .await?;
    if page.min_id.is_some() {
        rows.reverse();
    }
    Ok(rows)
}

/// Which of these hashtags the account follows and features.
pub async fn flags(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    tags: &[String],
) -> Result<Vec<(String, bool, bool)>, sqlx::Error> {
    sqlx::query_as(
        "select t.tag,
                exists (select 1 from tag_follows f where f.actor_id = $1 and f.tag = t.tag),
                exists (select 1 from featured_tags f where f.actor_id = $1 and f.tag = t.tag)
         from unnest($2::text[]) as t(tag)",
    )
    .bind(actor_id)
    .bind(tags)
    .fetch_all(db)
    .await
}

/// The local accounts that follow any of these hashtags.
pub async fn local_followers(
    db: impl PgExecutor<'_>,
    tags: &[String],
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct f.actor_id from tag_follows f
         join actors a on a.id = f.actor_id and a.domain is null
         where f.tag = any($1)",
    )
    .bind(tags)
    .fetch_all(db)
    .await
}

/// One day of a hashtag's use: posts and distinct authors.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Day {
    pub tag: String,
    pub day: DateTime<Utc>,
    pub uses: i64,
    pub accounts: i64,
}

/// The use of these hashtags on each day from `since` (a midnight, UTC) on,
/// by live original posts that are public or unlisted; days without use
/// are left out. Post ids begin with their time in milliseconds (see
/// `next_id`), so the range is read from the `post_tags_tag` index.
pub async fn history(
    db: impl PgExecutor<'_>,
    tags: &[String],
    since: DateTime<Utc>,
) -> Result<Vec<Day>, sqlx::Error> {
    sqlx::query_as(
        "select t.tag, date_trunc('day', p.published, 'UTC') as day,
                count(*) as uses, count(distinct p.author_id) as accounts
         from post_tags t join posts p on p.id = t.post_id
         where t.tag = any($1)
           and t.post_id >= ((extract(epoch from $2::timestamptz) * 1000)::bigint << 16)
           and p.deleted_at is null and p.reblog_of_id is null
           and p.visibility in ('public', 'unlisted')
           and p.published >= $2
         group by 1, 2",
    )
    .bind(tags)
    .bind(since)
    .fetch_all(db)
    .await
}

/// A featured hashtag with the use the account made of it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Featured {
    pub id: i64,
    pub actor_id: i64,
    pub tag: String,
    /// The hashtag as first written.
    pub name: String,
    /// The account's public and unlisted posts with the hashtag.
    pub statuses_count: i64,
    pub last_status_at: Option<DateTime<Utc>>,
}

const FEATURED: &str = "select f.id, f.actor_id, f.tag, g.name,
        coalesce(s.n, 0) as statuses_count, s.last as last_status_at
     from featured_tags f
     join tags g on g.tag = f.tag
     left join lateral (
         select count(*) as n, max(p.published) as last
         from post_tags t join posts p on p.id = t.post_id
         where t.tag = f.tag and p.author_id = f.actor_id and p.deleted_at is null
           and p.reblog_of_id is null and p.visibility in ('public', 'unlisted')
     ) s on true";

/// An account's featured hashtags, most used first.
pub async fn featured(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<Featured>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{FEATURED} where f.actor_id = $1 order by statuses_count desc, f.id"
    ))
    .bind(actor_id)
    .fetch_all(db)
    .await
}

pub async fn featured_by_id(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<Option<Featured>, sqlx::Error> {
    sqlx::query_as(&format!("{FEATURED} where f.actor_id = $1 and f.id = $2"))
        .bind(actor_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn featured_by_tag(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    tag: &str,
) -> Result<Option<Featured>, sqlx::Error> {
    sqlx::query_as(&format!("{FEATURED} where f.actor_id = $1 and f.tag = $2"))
        .bind(actor_id)
        .bind(tag)
        .fetch_optional(db)
        .await
}

pub async fn count_featured(db: impl PgExecutor<'_>, actor_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from featured_tags where actor_id = $1")
        .bind(actor_id)
        .fetch_one(db)
        .await
}

/// Features a hashtag (its row must exist); whether it was new.
pub async fn feature(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    tag: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "insert into featured_tags (actor_id, tag, created_at) values ($1, $2, $3)
         on conflict (actor_id, tag) do nothing",
    )
    .bind(actor_id)
    .bind(tag)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Stops featuring a hashtag; whether it was featured.
pub async fn unfeature(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    tag: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from featured_tags where actor_id = $1 and tag = $2")
        .bind(actor_id)
        .bind(tag)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// The hashtags an account used most in its latest posts (at most 1,000
/// looked at) that it does not feature yet.
pub async fn suggestions(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select t.tag from (
             select p.id from posts p
             where p.author_id = $1 and p.deleted_at is null and p.reblog_of_id is null
             order by p.id desc limit 1000) r
         join post_tags t on t.post_id = r.id
         where not exists (select 1 from featured_tags f where f.actor_id = $1 and f.tag = t.tag)
         group by t.tag order by count(*) desc, t.tag limit $2",
    )
    .bind(actor_id)
    .bind(limit)
    .fetch_all(db)
    .await
}
