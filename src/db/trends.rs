//! Trends: `tag_trends` (hashtags with their review and score),
//! `post_trends` and `post_trend_reviews` (posts trending and the
//! moderators' review of them). The counts a refresh scores come from
//! `posts` and `post_tags`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::posts::Post;

/// The lowest id a post published at or after `at` can have (ids come
/// from the published time).
const ID_FLOOR: &str = "((extract(epoch from $1) * 1000)::bigint << 16)";

/// What counts as a use of a hashtag (Mastodon's `Trends::Tags#register`):
/// a public post, not a repost, by an account neither silenced nor
/// suspended, live.
const TAG_USE: &str = "p.deleted_at is null and p.reblog_of_id is null
     and p.visibility = 'public'
     and a.silenced_at is null and a.suspended_at is null";

/// A hashtag as trends and the admin API know it; `id` is its `tags` id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagTrend {
    pub tag: String,
    pub id: i64,
    pub trendable: Option<bool>,
    pub usable: bool,
    pub listable: Option<bool>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub requested_review_at: Option<DateTime<Utc>>,
    pub max_score: f64,
    pub max_score_at: Option<DateTime<Utc>>,
    pub score: f64,
    pub scored_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A hashtag to score: its standing and the distinct accounts that used it
/// yesterday and today.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagCounts {
    pub tag: String,
    pub max_score: f64,
    pub max_score_at: Option<DateTime<Utc>>,
    pub yesterday: i64,
    pub today: i64,
}

/// Makes the rows of the hashtags used since `since` (up to `now`) and
/// returns every hashtag to score: those, and those trending until now,
/// with their counts of distinct accounts before and from `today`.
pub async fn tag_candidates(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
    today: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<TagCounts>, sqlx::Error> {
    let counts = format!(
        "select t.tag,
                count(distinct p.author_id) filter (where p.published < $2) as yesterday,
                count(distinct p.author_id) filter (where p.published >= $2) as today
         from post_tags t
         join posts p on p.id = t.post_id
         join actors a on a.id = p.author_id
         where p.id >= {ID_FLOOR} and p.published >= $1 and p.published <= $3 and {TAG_USE}
         group by t.tag"
    );
    // A hashtag has one id everywhere: its trends row takes the id of its
    // `tags` row, made first when there is none.
    sqlx::query(&format!(
        "insert into tags (tag, name)
         select c.tag, c.tag from ({counts}) c
         on conflict (tag) do nothing"
    ))
    .bind(since)
    .bind(today)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "insert into tag_trends (tag, id, created_at)
         select t.tag, t.id, $3 from ({counts}) c join tags t on t.tag = c.tag
         on conflict (tag) do nothing"
    ))
    .bind(since)
    .bind(today)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(&format!(
        "select tt.tag, tt.max_score, tt.max_score_at,
                coalesce(c.yesterday, 0) as yesterday, coalesce(c.today, 0) as today
         from tag_trends tt left join ({counts}) c on c.tag = tt.tag
         where c.tag is not null or tt.score > 0"
    ))
    .bind(since)
    .bind(today)
    .bind(now)
    .fetch_all(&mut *conn)
    .await
}

/// Writes the scores of one refresh: (tag, peak, peak time, score).
pub async fn set_tag_scores(
    conn: &mut PgConnection,
    scores: &[(String, f64, Option<DateTime<Utc>>, f64)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let tags: Vec<&str> = scores.iter().map(|s| s.0.as_str()).collect();
    let peaks: Vec<f64> = scores.iter().map(|s| s.1).collect();
    let peak_times: Vec<Option<DateTime<Utc>>> = scores.iter().map(|s| s.2).collect();
    let values: Vec<f64> = scores.iter().map(|s| s.3).collect();
    sqlx::query(
        "update tag_trends tt
         set max_score = s.max_score, max_score_at = s.max_score_at,
             score = s.score, scored_at = $5
         from unnest($1::text[], $2::float8[], $3::timestamptz[], $4::float8[])
              as s (tag, max_score, max_score_at, score)
         where tt.tag = s.tag",
    )
    .bind(&tags)
    .bind(&peaks)
    .bind(&peak_times)
    .bind(&values)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Hashtags with a score, highest first. With `require_review` given, only
/// those the moderators let trend: usable, and approved (or, when no
/// review is required, not rejected).
pub async fn trending_tags(
    db: impl PgExecutor<'_>,
    require_review: Option<bool>,
    limit: i64,
    offset: i64,
) -> Result<Vec<TagTrend>, sqlx::Error> {
    sqlx::query_as(
        "select * from tag_trends
         where score > 0
           and ($1::boolean is null
                or (usable and (trendable or (not $1 and trendable is null))))
         order by score desc, id limit $2 offset $3",
    )
    .bind(require_review)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// The daily history of hashtags: (tag, day, posts, distinct accounts) for
/// each day from `since` on that had uses.
pub async fn tag_history(
    db: impl PgExecutor<'_>,
    tags: &[String],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>, i64, i64)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select t.tag, date_trunc('day', p.published, 'UTC') as day,
                count(*) as uses, count(distinct p.author_id) as accounts
         from post_tags t
         join posts p on p.id = t.post_id
         join actors a on a.id = p.author_id
         where t.tag = any($3) and p.id >= {ID_FLOOR}
           and p.published >= $1 and p.published <= $2 and {TAG_USE}
         group by 1, 2"
    ))
    .bind(since)
    .bind(now)
    .bind(tags)
    .fetch_all(db)
    .await
}

pub async fn tag_by_id(db: impl PgExecutor<'_>, id: i64) -> Result<Option<TagTrend>, sqlx::Error> {
    sqlx::query_as("select * from tag_trends where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Every hashtag known to trends, by id (the admin API's list).
pub async fn tags_page(
    db: impl PgExecutor<'_>,
    max_id: Option<i64>,
    since_id: Option<i64>,
    limit: i64,
) -> Result<Vec<TagTrend>, sqlx::Error> {
    sqlx::query_as(
        "select * from tag_trends
         where ($1::bigint is null or id < $1) and ($2::bigint is null or id > $2)
         order by id desc limit $3",
    )
    .bind(max_id)
    .bind(since_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Sets a hashtag's review fields; None leaves one as it is. A change of
/// `trendable` marks it reviewed.
pub async fn update_tag(
    conn: &mut PgConnection,
    id: i64,
    trendable: Option<bool>,
    usable: Option<bool>,
    listable: Option<bool>,
    now: DateTime<Utc>,
) -> Result<Option<TagTrend>, sqlx::Error> {
    sqlx::query_as(
        "update tag_trends
         set trendable = coalesce($2, trendable),
             usable = coalesce($3, usable),
             listable = coalesce($4, listable),
             reviewed_at = case when $2 is null then reviewed_at else $5 end
         where id = $1 returning *",
    )
    .bind(id)
    .bind(trendable)
    .bind(usable)
    .bind(listable)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// A post trending, with its score and review.
#[derive(Debug, Clone)]
pub struct PostTrend {
    pub post: Post,
    pub score: f64,
    pub trendable: Option<bool>,
}

/// A post to score: (id, reposts and favourites, published).
pub type PostCounts = (i64, i64, DateTime<Utc>);

/// Posts that may trend (Mastodon's `Trends::Statuses#eligible?`) published
/// since `since` with at least `threshold` reposts and favourites, and
/// those trending until now (which may no longer be eligible: they get
/// no score).
pub async fn post_candidates(
    db: impl PgExecutor<'_>,
    since: DateTime<Utc>,
    threshold: i64,
) -> Result<(Vec<PostCounts>, Vec<i64>), sqlx::Error> {
    let rows: Vec<(i64, i64, DateTime<Utc>, bool)> = sqlx::query_as(&format!(
        "select p.id, (p.likes_count + p.reposts_count)::bigint, p.published,
                (p.deleted_at is null and p.visibility = 'public' and p.reblog_of_id is null
                 and p.in_reply_to_id is null and p.in_reply_to_ap_id is null
                 and p.summary = '' and not p.sensitive
                 and a.discoverable and a.silenced_at is null and a.suspended_at is null
                 and a.moved_to is null and a.gone_at is null) as eligible
         from posts p join actors a on a.id = p.author_id
         where (p.id >= {ID_FLOOR} and p.published >= $1
                and p.likes_count + p.reposts_count >= $2)
            or p.id in (select post_id from post_trends)"
    ))
    .bind(since)
    .bind(threshold)
    .fetch_all(db)
    .await?;
    let mut eligible = Vec::new();
    let mut ineligible = Vec::new();
    for (id, n, published, ok) in rows {
        if ok {
            eligible.push((id, n, published));
        } else {
            ineligible.push(id);
        }
    }
    Ok((eligible, ineligible))
}

/// Replaces the trending posts with `scores` (post, score).
pub async fn set_post_scores(
    conn: &mut PgConnection,
    scores: &[(i64, f64)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = scores.iter().map(|s| s.0).collect();
    let values: Vec<f64> = scores.iter().map(|s| s.1).collect();
    sqlx::query("delete from post_trends where post_id <> all($1)")
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "insert into post_trends (post_id, score, scored_at)
         select * , $3 from unnest($1::bigint[], $2::float8[])
         on conflict (post_id) do update set score = excluded.score, scored_at = excluded.scored_at",
    )
    .bind(&ids)
    .bind(&values)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Trending posts, highest score first. With `require_review` given, only
/// those the moderators let trend (approved, or, when no review is
/// required, not rejected). With a viewer, none of
/// the accounts or domains it blocks or mutes.
pub async fn trending_posts(
    db: impl PgExecutor<'_>,
    require_review: Option<bool>,
    viewer: Option<i64>,
    limit: i64,
    offset: i64,
    now: DateTime<Utc>,
) -> Result<Vec<PostTrend>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        post: Post,
        trend_score: f64,
        trend_trendable: Option<bool>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select p.*, t.score as trend_score, r.trendable as trend_trendable
         from post_trends t
         join posts p on p.id = t.post_id
         left join post_trend_reviews r on r.post_id = t.post_id
         where p.deleted_at is null
           and ($1::boolean is null or r.trendable or ($1 = false and r.trendable is null))
           and ($2::bigint is null or (
                not exists (select 1 from blocks b
                            where (b.blocker_id = $2 and b.blocked_id = p.author_id)
                               or (b.blocker_id = p.author_id and b.blocked_id = $2))
                and not exists (select 1 from mutes m
                                where m.actor_id = $2 and m.target_id = p.author_id
                                  and (m.expires_at is null or m.expires_at > $5))
                and not exists (select 1 from user_domain_blocks d join actors a on a.domain = d.domain
                                where d.actor_id = $2 and a.id = p.author_id)))
         order by t.score desc, t.post_id desc limit $3 offset $4",
    )
    .bind(require_review)
    .bind(viewer)
    .bind(limit)
    .bind(offset)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| PostTrend {
            post: r.post,
            score: r.trend_score,
            trendable: r.trend_trendable,
        })
        .collect())
}

/// The moderators' review of a post, if any.
pub async fn post_review(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Option<bool>, sqlx::Error> {
    sqlx::query_scalar("select trendable from post_trend_reviews where post_id = $1")
        .bind(post_id)
        .fetch_optional(db)
        .await
}

pub async fn review_post(
    conn: &mut PgConnection,
    post_id: i64,
    trendable: bool,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into post_trend_reviews (post_id, trendable, reviewed_at) values ($1, $2, $3)
         on conflict (post_id) do update set trendable = excluded.trendable,
                                             reviewed_at = excluded.reviewed_at",
    )
    .bind(post_id)
    .bind(trendable)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
