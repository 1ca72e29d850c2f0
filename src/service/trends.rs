//! Trends (Mastodon's `Trends::Tags` and `Trends::Statuses`): hashtags
//! more accounts use today than yesterday, and posts gathering reposts and
//! favourites, scored by timed work (`refresh`, every five minutes, once
//! across the workers) from this instance's posts, local and remote, and
//! kept in `tag_trends` and `post_trends` so every process serves the
//! same. With `trends.require_review` (the default) only what a moderator
//! approved trends; what a moderator rejected never does. Moderators see
//! every candidate (the admin API, `/admin/trends`), and every review is
//! audit-logged.
//!
//! Links are scored in the same refresh (`service::link_trends`).

use chrono::Duration;

use crate::db::{self, posts::Post, trends::PostTrend, trends::TagTrend};
use crate::domain::trends as rules;
use crate::error::{Error, Result};
use crate::service::audit::{self, Role, Staff};
use crate::service::types::Actor;
use crate::state::AppState;

/// How often the workers refresh the scores (Mastodon's refresh scheduler).
pub const REFRESH_EVERY: Duration = Duration::minutes(5);

/// Page sizes of the public trends, as Mastodon's (default, most).
pub const TAGS_LIMITS: (i64, i64) = (10, 20);
pub const STATUSES_LIMITS: (i64, i64) = (20, 40);
pub const LINKS_LIMITS: (i64, i64) = (10, 20);

pub use crate::domain::trends::Day;

/// A hashtag with its last seven days, today first.
#[derive(Debug, Clone)]
pub struct TagView {
    pub tag: TagTrend,
    pub history: Vec<Day>,
}

impl TagView {
    /// Whether a moderator has yet to approve or reject it.
    pub fn requires_review(&self) -> bool {
        self.tag.reviewed_at.is_none()
    }
}

/// What one refresh found: hashtags and posts trending (before review).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refreshed {
    pub tags: usize,
    pub posts: usize,
    pub links: usize,
}

/// Scores every candidate hashtag, post and link at the clock's present, in one
/// transaction.
pub async fn refresh(state: &AppState) -> Result<Refreshed> {
    let now = state.clock.now();
    let today = rules::day_start(now);
    let mut tx = state.db.begin().await?;
    let candidates =
        db::trends::tag_candidates(&mut tx, today - Duration::days(1), today, now).await?;
    let mut tag_scores = Vec::with_capacity(candidates.len());
    for c in candidates {
        let peak = rules::TagPeak {
            max_score: c.max_score,
            max_score_at: c.max_score_at,
        };
        let (peak, score) = rules::tag_score(peak, c.yesterday, c.today, now);
        tag_scores.push((c.tag, peak.max_score, peak.max_score_at, score));
    }
    db::trends::set_tag_scores(&mut tx, &tag_scores, now).await?;
    let (eligible, _) =
        db::trends::post_candidates(&mut *tx, now - rules::POST_MAX_AGE, rules::THRESHOLD as i64)
            .await?;
    let post_scores: Vec<(i64, f64)> = eligible
        .into_iter()
        .map(|(id, n, published)| (id, rules::post_score(n, published, now)))
        .filter(|(_, score)| *score > 0.0)
        .collect();
    db::trends::set_post_scores(&mut tx, &post_scores, now).await?;
    let links = crate::service::link_trends::refresh(&mut tx, state).await?;
    tx.commit().await?;
    Ok(Refreshed {
        tags: tag_scores.iter().filter(|s| s.3 > 0.0).count(),
        posts: post_scores.len(),
        links,
    })
}

/// The histories of `tags`: seven days each, today first.
async fn with_history(state: &AppState, tags: Vec<TagTrend>) -> Result<Vec<TagView>> {
    let now = state.clock.now();
    let today = rules::day_start(now);
    let first = today - Duration::days(rules::HISTORY_DAYS - 1);
    let names: Vec<String> = tags.iter().map(|t| t.tag.clone()).collect();
    let counts = if names.is_empty() {
        Vec::new()
    } else {
        db::trends::tag_history(&state.db, &names, first, now).await?
    };
    Ok(tags
        .into_iter()
        .map(|tag| {
            let history = rules::history(
                today,
                counts
                    .iter()
                    .filter(|(t, ..)| *t == tag.tag)
                    .map(|&(_, day, uses, accounts)| (day, uses, accounts)),
            );
            TagView { tag, history }
        })
        .collect())
}

/// The hashtags trending for everyone (`GET /api/v1/trends/tags`).
pub async fn tags(state: &AppState, limit: i64, offset: i64) -> Result<Vec<TagView>> {
    if !state.config.trends.enabled {
        return Ok(Vec::new());
    }
    let require_review = state.config.trends.require_review;
    let found =
        db::trends::trending_tags(&state.db, Some(require_review), limit, offset.max(0)).await?;
    with_history(state, found).await
}

/// The posts trending for `viewer` (`GET /api/v1/trends/statuses`): none
/// of accounts or domains it blocks or mutes.
pub async fn statuses(
    state: &AppState,
    viewer: Option<&Actor>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Post>> {
    if !state.config.trends.enabled {
        return Ok(Vec::new());
    }
    let require_review = state.config.trends.require_review;
    let found = db::trends::trending_posts(
        &state.db,
        Some(require_review),
        viewer.map(|v| v.id),
        limit,
        offset.max(0),
        state.clock.now(),
    )
    .await?;
    Ok(found.into_iter().map(|t| t.post).collect())
}

/// Every hashtag trending, reviewed or not, for moderators.
pub async fn candidate_tags(
    state: &AppState,
    _staff: &Staff,
    limit: i64,
    offset: i64,
) -> Result<Vec<TagView>> {
    let found = db::trends::trending_tags(&state.db, None, limit, offset.max(0)).await?;
    with_history(state, found).await
}

/// Every post trending, reviewed or not, for moderators.
pub async fn candidate_posts(
    state: &AppState,
    _staff: &Staff,
    limit: i64,
    offset: i64,
) -> Result<Vec<PostTrend>> {
    Ok(db::trends::trending_posts(
        &state.db,
        None,
        None,
        limit,
        offset.max(0),
        state.clock.now(),
    )
    .await?)
}

fn moderator(staff: &Staff) -> Result<()> {
    if staff.role < Role::Moderator {
        return Err(Error::Forbidden("This action is not allowed".into()));
    }
    Ok(())
}

/// A hashtag by its id, for moderators.
pub async fn tag(state: &AppState, staff: &Staff, id: i64) -> Result<TagView> {
    moderator(staff)?;
    let tag = db::trends::tag_by_id(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(with_history(state, vec![tag]).await?.remove(0))
}

/// Every hashtag trends know, newest first, for moderators.
pub async fn all_tags(
    state: &AppState,
    staff: &Staff,
    max_id: Option<i64>,
    since_id: Option<i64>,
    limit: i64,
) -> Result<Vec<TagView>> {
    moderator(staff)?;
    let found = db::trends::tags_page(&state.db, max_id, since_id, limit).await?;
    with_history(state, found).await
}

/// Changes a hashtag's review (`trendable`), whether it may trend at all
/// (`usable`) and be listed (`listable`); None leaves one as it is.
pub async fn update_tag(
    state: &AppState,
    staff: &Staff,
    id: i64,
    trendable: Option<bool>,
    usable: Option<bool>,
    listable: Option<bool>,
) -> Result<TagView> {
    moderator(staff)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let tag = db::trends::update_tag(&mut tx, id, trendable, usable, listable, now)
        .await?
        .ok_or(Error::NotFound)?;
    let action = match trendable {
        Some(true) => "trends.approve_tag",
        Some(false) => "trends.reject_tag",
        None => "tag.update",
    };
    audit::record(
        &mut tx,
        now,
        staff,
        action,
        "tag",
        &tag.id.to_string(),
        serde_json::json!({
            "name": tag.tag,
            "trendable": trendable,
            "usable": usable,
            "listable": listable,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(with_history(state, vec![tag]).await?.remove(0))
}

/// Approves (`trendable`) or rejects a hashtag for trends.
pub async fn review_tag(
    state: &AppState,
    staff: &Staff,
    id: i64,
    trendable: bool,
) -> Result<TagView> {
    update_tag(state, staff, id, Some(trendable), None, None).await
}

/// Approves or rejects a post for trends; the post and its review.
pub async fn review_post(
    state: &AppState,
    staff: &Staff,
    id: i64,
    trendable: bool,
) -> Result<Post> {
    moderator(staff)?;
    let now = state.clock.now();
    let post = db::posts::find_by_id(&state.db, id)
        .await?
        .filter(|p| p.deleted_at.is_none() && p.reblog_of_id.is_none())
        .ok_or(Error::NotFound)?;
    let mut tx = state.db.begin().await?;
    db::trends::review_post(&mut tx, post.id, trendable, now).await?;
    audit::record(
        &mut tx,
        now,
        staff,
        if trendable {
            "trends.approve_status"
        } else {
            "trends.reject_status"
        },
        "post",
        &post.id.to_string(),
        serde_json::json!({ "ap_id": post.ap_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(post)
}

/// A post's review: Some(true) approved, Some(false) rejected.
pub async fn post_review(state: &AppState, post: &Post) -> Result<Option<bool>> {
    Ok(db::trends::post_review(&state.db, post.id).await?)
}
