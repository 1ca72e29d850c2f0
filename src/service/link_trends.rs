//! Trending links (Mastodon's `Trends::Links`): link previews that more
//! distinct accounts share today than yesterday (a public post showing the
//! card, or a public repost of one), scored with the hashtags' arithmetic
//! by the trends refresh and kept in `link_trends`. What may trend for
//! everyone is the moderators' call, link by link or by publisher (the
//! link's domain): a link's own review wins, then its publisher's; with
//! neither, it trends only when `trends.require_review` is off. The link
//! timeline (`/api/v1/timelines/link?url=`) shows the public posts that
//! share a link trending for everyone.

use chrono::Duration;

use crate::db::{self, posts::Post};

pub use crate::db::link_trends::{LinkTrend, Publisher};
use crate::domain::trends as rules;
use crate::error::{Error, Result};
use crate::service::audit::{self, Role, Staff};
use crate::service::timelines::Scope;
use crate::service::trends::Day;
use crate::service::types::Actor;
use crate::state::AppState;

/// A link with its last seven days, today first.
#[derive(Debug, Clone)]
pub struct LinkView {
    pub trend: LinkTrend,
    pub history: Vec<Day>,
}

impl LinkView {
    /// Whether a moderator has yet to review it (or its publisher).
    pub fn requires_review(&self) -> bool {
        self.trend.trendable.is_none() && self.trend.publisher_trendable.is_none()
    }

    /// Whether it may trend for everyone.
    pub fn allowed(&self, require_review: bool) -> bool {
        self.trend
            .trendable
            .or(self.trend.publisher_trendable)
            .unwrap_or(!require_review)
    }
}

/// The lower-case host of a link, as publishers are known.
pub fn publisher_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
}

/// Scores every candidate link at the clock's present, inside the trends
/// refresh's transaction; the number trending (before review).
pub async fn refresh(conn: &mut sqlx::PgConnection, state: &AppState) -> Result<usize> {
    let now = state.clock.now();
    let today = rules::day_start(now);
    let candidates =
        db::link_trends::candidates(&mut *conn, today - Duration::days(1), today, now).await?;
    let mut scores = Vec::with_capacity(candidates.len());
    let mut domains = Vec::new();
    for c in candidates {
        let peak = rules::TagPeak {
            max_score: c.max_score,
            max_score_at: c.max_score_at,
        };
        let (peak, score) = rules::link_score(peak, c.yesterday, c.today, now);
        if score > 0.0 {
            domains.extend(publisher_of(&c.url));
        }
        scores.push((c.card_id, peak.max_score, peak.max_score_at, score));
    }
    db::link_trends::set_scores(&mut *conn, &scores, now).await?;
    db::link_trends::ensure_publishers(&mut *conn, &domains, now).await?;
    Ok(scores.iter().filter(|s| s.3 > 0.0).count())
}

/// The histories of `links`: seven days each, today first.
async fn with_history(state: &AppState, links: Vec<LinkTrend>) -> Result<Vec<LinkView>> {
    let now = state.clock.now();
    let today = rules::day_start(now);
    let first = today - Duration::days(rules::HISTORY_DAYS - 1);
    let ids: Vec<i64> = links.iter().map(|l| l.card.id).collect();
    let counts = if ids.is_empty() {
        Vec::new()
    } else {
        db::link_trends::history(&state.db, &ids, first, now).await?
    };
    Ok(links
        .into_iter()
        .map(|trend| {
            let history = rules::history(
                today,
                counts
                    .iter()
                    .filter(|(id, ..)| *id == trend.card.id)
                    .map(|&(_, day, uses, accounts)| (day, uses, accounts)),
            );
            LinkView { trend, history }
        })
        .collect())
}

/// The links trending for everyone (`GET /api/v1/trends/links`).
pub async fn links(state: &AppState, limit: i64, offset: i64) -> Result<Vec<LinkView>> {
    if !state.config.trends.enabled {
        return Ok(Vec::new());
    }
    let require_review = state.config.trends.require_review;
    let found =
        db::link_trends::trending(&state.db, Some(require_review), limit, offset.max(0)).await?;
    with_history(state, found).await
}

fn moderator(staff: &Staff) -> Result<()> {
    if staff.role < Role::Moderator {
        return Err(Error::Forbidden("This action is not allowed".into()));
    }
    Ok(())
}

/// Every link trending, reviewed or not, for moderators.
pub async fn candidate_links(
    state: &AppState,
    staff: &Staff,
    limit: i64,
    offset: i64,
) -> Result<Vec<LinkView>> {
    moderator(staff)?;
    let found = db::link_trends::trending(&state.db, None, limit, offset.max(0)).await?;
    with_history(state, found).await
}

/// Approves (`trendable`) or rejects a link (by its card's id).
pub async fn review_link(
    state: &AppState,
    staff: &Staff,
    card_id: i64,
    trendable: bool,
) -> Result<LinkView> {
    moderator(staff)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    if !db::link_trends::review(&mut tx, card_id, trendable, now).await? {
        return Err(Error::NotFound);
    }
    let link = db::link_trends::by_card(&mut *tx, card_id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        if trendable {
            "trends.approve_link"
        } else {
            "trends.reject_link"
        },
        "preview_card",
        &card_id.to_string(),
        serde_json::json!({ "url": link.card.url }),
    )
    .await?;
    tx.commit().await?;
    Ok(with_history(state, vec![link]).await?.remove(0))
}

/// Publishers of trending links, newest first, for moderators.
pub async fn publishers(
    state: &AppState,
    staff: &Staff,
    limit: i64,
    offset: i64,
) -> Result<Vec<Publisher>> {
    moderator(staff)?;
    Ok(db::link_trends::publishers(&state.db, limit, offset.max(0)).await?)
}

/// Approves or rejects a publisher: its links trend (or not) unless
/// reviewed one by one.
pub async fn review_publisher(
    state: &AppState,
    staff: &Staff,
    id: i64,
    trendable: bool,
) -> Result<Publisher> {
    moderator(staff)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let publisher = db::link_trends::review_publisher(&mut tx, id, trendable, now)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        if trendable {
            "trends.approve_publisher"
        } else {
            "trends.reject_publisher"
        },
        "preview_card_provider",
        &publisher.id.to_string(),
        serde_json::json!({ "domain": publisher.domain }),
    )
    .await?;
    tx.commit().await?;
    Ok(publisher)
}

/// The public posts sharing `url`, a link trending for everyone (404 for
/// any other link, as Mastodon answers).
pub async fn timeline(
    state: &AppState,
    viewer: Option<&Actor>,
    url: &str,
    scope: Scope,
    page: db::timelines::Page,
) -> Result<Vec<Post>> {
    if !state.config.trends.enabled {
        return Err(Error::NotFound);
    }
    let card_id = db::link_trends::trending_card_by_url(
        &state.db,
        url.trim(),
        state.config.trends.require_review,
    )
    .await?
    .ok_or(Error::NotFound)?;
    Ok(db::timelines::link(
        &state.db,
        viewer.map(|v| v.id),
        card_id,
        scope,
        page,
        state.clock.now(),
    )
    .await?)
}
