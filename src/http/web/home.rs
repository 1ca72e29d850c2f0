//! Timelines: the front page (this server's public posts, for visitors),
//! the home page with its tabs (For you, accounts followed, the whole
//! fediverse), the Explore page (trends and who to follow) and hashtag
//! pages (with following a hashtag).

use askama::Template;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use super::cards::{self, PostCard};
use super::compose::Composer;
use super::{Chrome, SignedIn, Web, WebResult, older, render, see_other};
use crate::domain::filters::Context as FilterContext;
use crate::error::Error;
use crate::federation::nodeinfo;
use crate::service::{compose, discovery, tags, timelines};
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct TimelineQuery {
    #[serde(default)]
    tab: String,
    #[serde(default)]
    max_id: Option<String>,
    /// The For you feed's page, from 1.
    #[serde(default)]
    page: Option<String>,
    /// A post just written here, shown on top.
    #[serde(default)]
    posted: Option<String>,
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
    /// "for_you", "following" or "fediverse".
    tab: &'static str,
    composer: Composer,
    posts: Vec<PostCard>,
    /// The next page's address, when this one came full.
    older: Option<String>,
}

/// `GET /home`: the ranked For you feed (`?tab=for_you`, the default, as
/// Threads opens on it), posts of the accounts followed (`?tab=following`)
/// or of the whole known fediverse (`?tab=fediverse`), and the composer. A
/// post just written (`posted`) shows on top, whichever the tab.
pub async fn home(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<TimelineQuery>,
) -> WebResult {
    let viewer = me.actor();
    let tab = match q.tab.as_str() {
        "following" => "following",
        "fediverse" => "fediverse",
        _ => "for_you",
    };
    let (found, context, older_href) = if tab == "for_you" {
        let number = match q.page.as_deref() {
            None | Some("") => 1,
            Some(raw) => raw
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| Error::BadRequest("page must be a positive integer".into()))?,
        };
        let limit = timelines::DEFAULT_LIMIT;
        let found = timelines::for_you(&state, viewer, number - 1, limit).await?;
        let more = found.len() as i64 >= limit && number < timelines::FOR_YOU_PAGES;
        let href = more.then(|| format!("/home?tab=for_you&page={}", number + 1));
        (found, FilterContext::Home, href)
    } else {
        let page = q.page()?;
        let (found, context) = if tab == "fediverse" {
            let found =
                timelines::public(&state, Some(viewer), timelines::Scope::All, page).await?;
            (found, FilterContext::Public)
        } else {
            (
                timelines::home(&state, viewer, page).await?,
                FilterContext::Home,
            )
        };
        let href =
            older(&found, page.limit, |p| p.id).map(|id| format!("/home?tab={tab}&max_id={id}"));
        (found, context, href)
    };
    let mut posts = cards::posts(&state, Some(viewer), &found, Some(context)).await?;
    // The post just written goes on top (a thread's first post, above the
    // newer posts that follow it), whether or not the page held it.
    if let Some(raw) = q.posted.as_deref().filter(|r| !r.is_empty()) {
        if let Some(at) = posts.iter().position(|p| p.id == raw && p.own) {
            let mine = posts.remove(at);
            posts.insert(0, mine);
        } else if let Ok(post) =
            crate::http::api::statuses::visible_post(&state, Some(viewer), raw).await
            && post.author_id == viewer.id
            && post.reblog_of_id.is_none()
        {
            let mut mine = cards::posts(&state, Some(viewer), &[post], None).await?;
            mine.append(&mut posts);
            posts = mine;
        }
    }
    render(&HomePage {
        composer: Composer::on_feed(me.user(), &format!("/home?tab={tab}"))
            .with_emojis(&state)
            .await?,
        chrome: me.chrome,
        tab,
        older: older_href,
        posts,
    })
}

#[derive(Template)]
#[template(path = "web/explore.html")]
struct ExplorePage {
    chrome: Chrome,
    tags: Vec<TrendingTag>,
    posts: Vec<PostCard>,
    links: Vec<cards::LinkCardView>,
    suggestions: Vec<super::search::AccountRow>,
    signed_in: bool,
}

/// A trending hashtag as Explore lists it.
struct TrendingTag {
    name: String,
    /// People who used it these two days.
    accounts: i64,
    uses: i64,
}

/// `GET /explore`: what is trending here (hashtags, posts, links) and, for
/// people signed in, accounts to follow; the search box above.
pub async fn explore(State(state): State<AppState>, web: Web) -> WebResult {
    let viewer = web.viewer();
    let tags = crate::service::trends::tags(&state, crate::service::trends::TAGS_LIMITS.0, 0)
        .await?
        .into_iter()
        .map(|t| TrendingTag {
            accounts: t.history.iter().take(2).map(|d| d.accounts).sum(),
            uses: t.history.iter().take(2).map(|d| d.uses).sum(),
            name: t.tag.tag.clone(),
        })
        .collect();
    let trending = crate::service::trends::statuses(&state, viewer, 10, 0).await?;
    let posts = cards::posts(&state, viewer, &trending, Some(FilterContext::Public)).await?;
    let suggestions = match viewer {
        Some(v) => {
            let found = crate::service::suggestions::get(&state, v, 6, 0).await?;
            let actors: Vec<_> = found.into_iter().map(|s| s.account).collect();
            super::search::account_rows(&state, Some(v), &actors).await?
        }
        None => Vec::new(),
    };
    render(&ExplorePage {
        signed_in: viewer.is_some(),
        chrome: web.chrome,
        tags,
        posts,
        // Trending links need link trends, which are not scored yet.
        links: Vec::new(),
        suggestions,
    })
}

#[derive(Template)]
#[template(path = "web/tag.html")]
struct TagPage {
    chrome: Chrome,
    tag: String,
    posts: Vec<PostCard>,
    older: Option<i64>,
    /// Signed in: whether the viewer follows the hashtag.
    following: Option<bool>,
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
    let following = match viewer {
        // A name that is no hashtag has no follow button.
        Some(v) => match tags::show(&state, Some(v), &tag).await {
            Ok(view) => Some(view.following.unwrap_or(false)),
            Err(Error::NotFound | Error::Validation(_)) => None,
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    render(&TagPage {
        older: older(&found, page.limit, |p| p.id),
        chrome: web.chrome,
        tag,
        posts,
        following,
    })
}

#[derive(Deserialize)]
pub struct TagForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /web/tags/{tag}/{follow|unfollow}`: follows a hashtag (its posts
/// enter the home timeline) or stops, back on the hashtag's page.
pub async fn tag_act(
    State(state): State<AppState>,
    me: SignedIn,
    Path((tag, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<TagForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    let view = match action.as_str() {
        "follow" => tags::follow(&state, me.actor(), &tag).await?,
        "unfollow" => tags::unfollow(&state, me.actor(), &tag).await?,
        _ => return Err(Error::NotFound.into()),
    };
    let mut path = String::from("/tags/");
    path.extend(url::form_urlencoded::byte_serialize(view.name.as_bytes()));
    Ok(see_other(&path))
}
