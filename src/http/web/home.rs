//! Timelines: the front page (this server's public posts, for visitors),
//! the home page with its tabs (accounts followed, the whole fediverse)
//! and hashtag pages.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::cards::{self, PostCard};
use super::compose::Composer;
use super::{Chrome, SignedIn, Web, WebResult, older, render, see_other};
use crate::domain::filters::Context as FilterContext;
use crate::error::Error;
use crate::federation::nodeinfo;
use crate::service::{compose, discovery, timelines};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct TimelineQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    max_id: Option<String>,
}

impl TimelineQuery {
    fn page(&self) -> Result<crate::service::types::Page, Error> {
        let max_id = match self.max_id.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(
                raw.parse::<i64>()
                    .map_err(|_| Error::BadRequest("max_id must be an integer".into()))?,
            ),
        };
        Ok(timelines::page(max_id, None, None, None))
    }
}

#[derive(Template)]
#[template(path = "web/index.html")]
struct IndexPage {
    chrome: Chrome,
    description: String,
    contact_email: String,
    domain: String,
    users: i64,
    posts_count: i64,
    version: &'static str,
    posts: Vec<PostCard>,
    older: Option<i64>,
}

/// `GET /`: signed in, the home page; otherwise what this server is, with
/// its latest public posts.
pub async fn index(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<TimelineQuery>,
) -> WebResult {
    if web.session.is_some() {
        return Ok(see_other("/home"));
    }
    let usage = discovery::usage(&state.db).await?;
    let page = q.page()?;
    let found = timelines::public(&state, None, timelines::Scope::Local, page).await?;
    let instance = &state.config.instance;
    render(&IndexPage {
        chrome: web.chrome,
        description: instance.description.clone(),
        contact_email: instance.contact_email.clone(),
        domain: state.urls.domain(),
        users: usage.users_total,
        posts_count: usage.local_posts,
        version: nodeinfo::VERSION,
        older: older(&found, page.limit, |p| p.id),
        posts: cards::posts(&state, None, &found, None).await?,
    })
}

#[derive(Template)]
#[template(path = "web/home.html")]
struct HomePage {
    chrome: Chrome,
    fediverse: bool,
    composer: Composer,
    posts: Vec<PostCard>,
    older: Option<i64>,
}

/// `GET /home`: posts of the accounts followed (`?tab=following`) or of
/// the whole known fediverse (`?tab=fediverse`), and the composer.
pub async fn home(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<TimelineQuery>,
) -> WebResult {
    let page = q.page()?;
    let viewer = me.actor();
    let fediverse = q.tab == "fediverse";
    let (found, context) = if fediverse {
        let found = timelines::public(&state, Some(viewer), timelines::Scope::All, page).await?;
        (found, FilterContext::Public)
    } else {
        (
            timelines::home(&state, viewer, page).await?,
            FilterContext::Home,
        )
    };
    let posts = cards::posts(&state, Some(viewer), &found, Some(context)).await?;
    render(&HomePage {
        composer: Composer::new(me.user()).with_emojis(&state).await?,
        chrome: me.chrome,
        fediverse,
        older: older(&found, page.limit, |p| p.id),
        posts,
    })
}

#[derive(Template)]
#[template(path = "web/tag.html")]
struct TagPage {
    chrome: Chrome,
    tag: String,
    posts: Vec<PostCard>,
    older: Option<i64>,
}

#[derive(Template)]
#[template(path = "web/bookmarks.html")]
struct BookmarksPage {
    chrome: Chrome,
    posts: Vec<PostCard>,
    /// The cursor of the oldest bookmark shown, for the next page.
    older: Option<i64>,
}

/// `GET /bookmarks`: the posts the person saved, newest bookmark first.
pub async fn bookmarks(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<TimelineQuery>,
) -> WebResult {
    let page = q.page()?;
    let (found, bounds, full) = compose::marked(&state, me.actor(), false, page).await?;
    let posts = cards::posts(&state, Some(me.actor()), &found, None).await?;
    render(&BookmarksPage {
        older: bounds.filter(|_| full).map(|(_, oldest)| oldest),
        chrome: me.chrome,
        posts,
    })
}

/// `GET /tags/{tag}`: public posts with a hashtag, newest first.
pub async fn tag(
    State(state): State<AppState>,
    web: Web,
    Path(tag): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> WebResult {
    let page = q.page()?;
    let tag = tag.trim_start_matches('#').to_lowercase();
    let viewer = web.viewer();
    let found = timelines::tag(&state, viewer, &tag, page).await?;
    let posts = cards::posts(&state, viewer, &found, Some(FilterContext::Public)).await?;
    render(&TagPage {
        older: older(&found, page.limit, |p| p.id),
        chrome: web.chrome,
        tag,
        posts,
    })
}
