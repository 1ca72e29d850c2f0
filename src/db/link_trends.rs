//! Trending links: `link_trends` (link previews with their review and
//! score) and `link_publishers` (the moderators' review of a domain). The
//! counts a refresh scores come from `posts` and `post_preview_cards`: a
//! link is shared by a public post that shows its card, or by a public
//! repost of one.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::cards::Card;

/// The lowest id a post published at or after `$1` can have.
const ID_FLOOR: &str = "((extract(epoch from $1) * 1000)::bigint << 16)";

/// Where shares are read from: the sharing post `s` (an original or a
/// repost), the original `o`, its card `pc`, both authors.
const SHARES: &str = "posts s
     join posts o on o.id = coalesce(s.reblog_of_id, s.id)
     join post_preview_cards c on c.post_id = o.id
     join preview_cards pc on pc.id = c.card_id
     join actors sa on sa.id = s.author_id
     join actors oa on oa.id = o.author_id";

/// What counts as sharing a link (Mastodon's `Trends::Links#register`):
/// public posts (the repost and what it reposts), live, by accounts
/// neither silenced nor suspended, the original without a content warning
/// and not sensitive; and a card fit for trends (Mastodon's
/// `appropriate_for_trends?`: a link with a title, a description, a
/// picture and a publisher's name).
const SHARE: &str = "s.deleted_at is null and s.visibility = 'public'
     and o.deleted_at is null and o.visibility = 'public'
     and o.summary = '' and not o.sensitive
     and sa.silenced_at is null and sa.suspended_at is null
     and oa.silenced_at is null and oa.suspended_at is null
     and pc.kind = 'link' and pc.title <> '' and pc.description <> ''
     and pc.image_file is not null and pc.provider_name <> ''";

/// Whether a link may trend for everyone (`$R`: whether review is
/// required): its own review, else its publisher's, else only when no
/// review is required.
fn allowed(require_review: &str) -> String {
    format!(
        "coalesce(lt.trendable, lp.trendable, not {require_review}) and pc.image_file is not null"
    )
}

/// A link preview trends know, with its review and its publisher's.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkTrend {
    #[sqlx(flatten)]
    pub card: Card,
    pub trendable: Option<bool>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub requested_review_at: Option<DateTime<Utc>>,
    pub score: f64,
    /// The publisher (made when the link first trends) and its review.
    pub publisher_id: Option<i64>,
    pub publisher_trendable: Option<bool>,
}

/// A link to score: its standing and the distinct accounts that shared it
/// yesterday and today, with the host of its URL.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkCounts {
    pub card_id: i64,
    pub url: String,
    pub max_score: f64,
    pub max_score_at: Option<DateTime<Utc>>,
    pub yesterday: i64,
    pub today: i64,
}

/// Makes the rows of the links shared since `since` (up to `now`) and
/// returns every link to score: those, and those trending until now, with
/// their counts of distinct accounts before and from `today`.
pub async fn candidates(
    conn: &mut PgConnection,
    since: DateTime<Utc>,
    today: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<LinkCounts>, sqlx::Error> {
    let counts = format!(
        "select pc.id as card_id,
                count(distinct s.author_id) filter (where s.published < $2) as yesterday,
                count(distinct s.author_id) filter (where s.published >= $2) as today
         from {SHARES}
         where s.id >= {ID_FLOOR} and s.published >= $1 and s.published <= $3 and {SHARE}
         group by pc.id"
    );
    sqlx::query(&format!(
        "insert into link_trends (card_id, created_at)
         select c.card_id, $3 from ({counts}) c
         on conflict (card_id) do nothing"
    ))
    .bind(since)
    .bind(today)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(&format!(
        "select lt.card_id, pc.url, lt.max_score, lt.max_score_at,
                coalesce(c.yesterday, 0) as yesterday, coalesce(c.today, 0) as today
         from link_trends lt
         join preview_cards pc on pc.id = lt.card_id
         left join ({counts}) c on c.card_id = lt.card_id
         where c.card_id is not null or lt.score > 0"
    ))
    .bind(since)
    .bind(today)
    .bind(now)
    .fetch_all(&mut *conn)
    .await
}

/// Writes the scores of one refresh: (card, peak, peak time, score).
pub async fn set_scores(
    conn: &mut PgConnection,
    scores: &[(i64, f64, Option<DateTime<Utc>>, f64)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = scores.iter().map(|s| s.0).collect();
    let peaks: Vec<f64> = scores.iter().map(|s| s.1).collect();
    let peak_times: Vec<Option<DateTime<Utc>>> = scores.iter().map(|s| s.2).collect();
    let values: Vec<f64> = scores.iter().map(|s| s.3).collect();
    sqlx::query(
        "update link_trends lt
         set max_score = s.max_score, max_score_at = s.max_score_at,
             score = s.score, scored_at = $5
         from unnest($1::bigint[], $2::float8[], $3::timestamptz[], $4::float8[])
              as s (card_id, max_score, max_score_at, score)
         where lt.card_id = s.card_id",
    )
    .bind(&ids)
    .bind(&peaks)
    .bind(&peak_times)
    .bind(&values)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Makes the publisher rows of these domains (moderators review them).
pub async fn ensure_publishers(
    conn: &mut PgConnection,
    domains: &[String],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into link_publishers (domain, created_at)
         select distinct d, $2 from unnest($1::text[]) as d
         on conflict (domain) do nothing",
    )
    .bind(domains)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

const SELECT: &str = "select pc.*, lt.trendable, lt.reviewed_at, lt.requested_review_at, lt.score,
            lp.id as publisher_id, lp.trendable as publisher_trendable
     from link_trends lt
     join preview_cards pc on pc.id = lt.card_id
     left join link_publishers lp on lp.domain = lower(substring(pc.url from '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/:?#]+)'))";

/// Links with a score, highest first. With `require_review` given, only
/// those the moderators let trend; without, every one (for moderators).
pub async fn trending(
    db: impl PgExecutor<'_>,
    require_review: Option<bool>,
    limit: i64,
    offset: i64,
) -> Result<Vec<LinkTrend>, sqlx::Error> {
    sqlx::query_as(&format!(
        "{SELECT}
         where lt.score > 0 and ($1::boolean is null or ({}))
         order by lt.score desc, lt.card_id limit $2 offset $3",
        allowed("$1")
    ))
    .bind(require_review)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// A link trends know, by its card's id.
pub async fn by_card(
    db: impl PgExecutor<'_>,
    card_id: i64,
) -> Result<Option<LinkTrend>, sqlx::Error> {
    sqlx::query_as(&format!("{SELECT} where lt.card_id = $1"))
        .bind(card_id)
        .fetch_optional(db)
        .await
}

/// The card of a link trending for everyone now, by its URL (the link
/// timeline's `url`).
pub async fn trending_card_by_url(
    db: impl PgExecutor<'_>,
    url: &str,
    require_review: bool,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "select pc.id from ({SELECT} where lt.score > 0 and pc.url = $2 and ({})) pc",
        allowed("$1")
    ))
    .bind(require_review)
    .bind(url)
    .fetch_optional(db)
    .await
}

/// Sets a link's review.
pub async fn review(
    conn: &mut PgConnection,
    card_id: i64,
    trendable: bool,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("update link_trends set trendable = $2, reviewed_at = $3 where card_id = $1")
            .bind(card_id)
            .bind(trendable)
            .bind(now)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// The daily shares of links: (card, day, posts, distinct accounts) for
/// each day from `since` on that had some.
pub async fn history(
    db: impl PgExecutor<'_>,
    cards: &[i64],
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, DateTime<Utc>, i64, i64)>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select pc.id, date_trunc('day', s.published, 'UTC') as day,
                count(*) as uses, count(distinct s.author_id) as accounts
         from {SHARES}
         where pc.id = any($3) and s.id >= {ID_FLOOR}
           and s.published >= $1 and s.published <= $2 and {SHARE}
         group by 1, 2"
    ))
    .bind(since)
    .bind(now)
    .bind(cards)
    .fetch_all(db)
    .await
}

/// A publisher (Mastodon's PreviewCardProvider).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Publisher {
    pub id: i64,
    pub domain: String,
    pub trendable: Option<bool>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub requested_review_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Publishers, newest first.
pub async fn publishers(
    db: impl PgExecutor<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Publisher>, sqlx::Error> {
    sqlx::query_as("select * from link_publishers order by id desc limit $1 offset $2")
        .bind(limit)
        .bind(offset)
        .fetch_all(db)
        .await
}

/// Sets a publisher's review; None when there is no such publisher.
pub async fn review_publisher(
    conn: &mut PgConnection,
    id: i64,
    trendable: bool,
    now: DateTime<Utc>,
) -> Result<Option<Publisher>, sqlx::Error> {
    sqlx::query_as(
        "update link_publishers set trendable = $2, reviewed_at = $3 where id = $1 returning *",
    )
    .bind(id)
    .bind(trendable)
    .bind(now)
    .fetch_optional(conn)
    .await
}
