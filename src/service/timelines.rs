//! Reading timelines: home, public (local, remote, all), hashtag, profile
//! tabs and threads, as a viewer (or anyone) may see them.
//!
//! Home, public, hashtag and profile timelines are read through
//! `AppState::read`, which a read replica may serve (they may lag by its
//! delay), except a viewer's own profile, read on the primary so that
//! one's own posts show at once. Threads are read on the primary: they are
//! opened right after replying.

use crate::db::{self, actors::Actor, posts::Post, timelines::Page};
use crate::error::{Error, Result};
use crate::service::posts;
use crate::state::AppState;

pub use crate::db::timelines::{AccountFilter, ProfileTab, Scope};

/// Mastodon's default and largest page sizes.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 40;

/// A page request with its limit brought within bounds.
pub fn page(
    max_id: Option<i64>,
    since_id: Option<i64>,
    min_id: Option<i64>,
    limit: Option<i64>,
) -> Page {
    Page {
        max_id,
        since_id,
        min_id,
        limit: limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
    }
}

pub async fn home(state: &AppState, viewer: &Actor, page: Page) -> Result<Vec<Post>> {
    Ok(state
        .read
        .home_timeline(viewer.id, page, state.clock.now())
        .await?)
}

/// The viewer's direct posts, sent and received (read on the primary: they
/// are private and opened right after writing).
pub async fn direct(state: &AppState, viewer: &Actor, page: Page) -> Result<Vec<Post>> {
    Ok(db::timelines::direct(&state.db, viewer.id, page, state.clock.now()).await?)
}

/// A page of the For you feed (`db::timelines::for_you`: candidates,
/// score and the home timeline's rules), `page` counted from 0. Read on
/// the primary: its scores read the viewer's latest interactions.
pub async fn for_you(state: &AppState, viewer: &Actor, page: i64, limit: i64) -> Result<Vec<Post>> {
    use crate::db::timelines::TrendsUse;
    let trends = &state.config.trends;
    let trends = if !trends.enabled {
        TrendsUse::Off
    } else if trends.require_review {
        TrendsUse::Reviewed
    } else {
        TrendsUse::NotRejected
    };
    let limit = limit.clamp(1, MAX_LIMIT);
    let offset = page.clamp(0, FOR_YOU_PAGES - 1) * limit;
    Ok(db::timelines::for_you(
        &state.db,
        viewer.id,
        trends,
        limit,
        offset,
        state.clock.now(),
    )
    .await?)
}

/// The For you feed is read this many pages deep at most.
pub const FOR_YOU_PAGES: i64 = 20;

pub async fn public(
    state: &AppState,
    viewer: Option<&Actor>,
    scope: Scope,
    page: Page,
) -> Result<Vec<Post>> {
    Ok(state
        .read
        .public_timeline(viewer.map(|v| v.id), scope, page, state.clock.now())
        .await?)
}

pub async fn tag(
    state: &AppState,
    viewer: Option<&Actor>,
    tag: &str,
    page: Page,
) -> Result<Vec<Post>> {
    tag_in(state, viewer, tag, Scope::All, page).await
}

/// A hashtag's posts by local, remote or all authors.
pub async fn tag_in(
    state: &AppState,
    viewer: Option<&Actor>,
    tag: &str,
    scope: Scope,
    page: Page,
) -> Result<Vec<Post>> {
    let tag = tag.trim_start_matches('#').to_lowercase();
    Ok(state
        .read
        .tag_timeline(viewer.map(|v| v.id), &tag, scope, page, state.clock.now())
        .await?)
}

pub async fn profile(
    state: &AppState,
    viewer: Option<&Actor>,
    author: &Actor,
    filter: impl Into<AccountFilter>,
    page: Page,
) -> Result<Vec<Post>> {
    let viewer = viewer.map(|v| v.id);
    let filter = filter.into();
    let now = state.clock.now();
    if viewer == Some(author.id) {
        return Ok(db::timelines::profile(&state.db, viewer, author.id, filter, page, now).await?);
    }
    Ok(state
        .read
        .profile_timeline(viewer, author.id, &filter, page, now)
        .await?)
}

/// A thread around a post: the posts above it, nearest last, and the
/// replies below it, depth first.
pub struct Thread {
    pub ancestors: Vec<Post>,
    pub descendants: Vec<Post>,
}

pub async fn thread(state: &AppState, viewer: Option<&Actor>, post: &Post) -> Result<Thread> {
    if post.deleted_at.is_some() || !posts::can_see(state, post, viewer).await? {
        return Err(Error::NotFound);
    }
    let viewer = viewer.map(|v| v.id);
    let now = state.clock.now();
    Ok(Thread {
        ancestors: db::timelines::ancestors(&state.db, viewer, post.id, now).await?,
        descendants: db::timelines::descendants(&state.db, viewer, post.id, now).await?,
    })
}

/// The public replies of a post, for its `replies` collection (at most 40).
pub async fn public_replies(state: &AppState, post: &Post) -> Result<Vec<String>> {
    if post.deleted_at.is_some() || !posts::can_see(state, post, None).await? {
        return Err(Error::NotFound);
    }
    Ok(db::timelines::public_reply_ids(&state.db, post.id, MAX_LIMIT).await?)
}
