//! Server-rendered pages: the front page and public profiles. Templates are
//! compiled into the binary and escape everything not marked as HTML that
//! Skein produced or sanitised itself.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::db::actors::{Actor, ProfileField};
use crate::db::posts::Post;
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::federation::nodeinfo;
use crate::http::negotiate::{Representation, negotiate};
use crate::http::{AppState, vary_accept};
use crate::service::{discovery, posts, profiles, timelines};

#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    instance_name: &'a str,
    description: &'a str,
    contact_email: &'a str,
    domain: String,
    users: i64,
    posts: i64,
    version: &'static str,
}

pub async fn index(State(state): State<AppState>) -> Result<Response> {
    let usage = discovery::usage(&state.db).await?;
    let instance = &state.config.instance;
    render(&IndexPage {
        instance_name: &instance.name,
        description: &instance.description,
        contact_email: &instance.contact_email,
        domain: state.urls.domain(),
        users: usage.users_total,
        posts: usage.local_posts,
        version: nodeinfo::VERSION,
    })
}

struct RecentPost {
    summary: String,
    content: String,
    link: String,
    published: String,
}

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage<'a> {
    instance_name: &'a str,
    display_name: String,
    handle: String,
    actor_id: String,
    profile_url: String,
    summary: String,
    fields: Vec<ProfileField>,
    posts: i64,
    followers: i64,
    following: i64,
    recent: Vec<RecentPost>,
}

/// `GET /@{username}`: the profile page. ActivityPub clients are sent to
/// the actor URL, whose document carries that id.
pub async fn profile(
    State(state): State<AppState>,
    Path(at_username): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let username = at_username.strip_prefix('@').ok_or(Error::NotFound)?;
    match negotiate(&headers) {
        Representation::Html => profile_page(&state, username).await,
        Representation::ActivityJson => {
            let actor = profiles::shared_person(&state.db, username).await?;
            Ok(vary_accept(Redirect::to(&actor.ap_id).into_response()))
        }
    }
}

/// The HTML profile of a local person, also served at the actor URL.
pub async fn profile_page(state: &AppState, username: &str) -> Result<Response> {
    let actor = profiles::local_person(&state.db, username).await?;
    let counts = profiles::counts(&state.db, &actor).await?;
    let recent = profiles::outbox(&state.db, &actor, None, 20).await?;
    let page = ProfilePage {
        instance_name: &state.config.instance.name,
        display_name: if actor.display_name.is_empty() {
            actor.username.clone()
        } else {
            actor.display_name.clone()
        },
        handle: format!("{}@{}", actor.username, state.urls.domain()),
        actor_id: actor.ap_id.clone(),
        profile_url: actor.url.clone().unwrap_or_else(|| actor.ap_id.clone()),
        summary: actor.summary.clone(),
        fields: actor.fields.0.clone(),
        posts: counts.posts,
        followers: counts.followers,
        following: counts.following,
        recent: recent
            .items
            .into_iter()
            .filter(|p| p.reblog_of_id.is_none())
            .map(|p| RecentPost {
                summary: p.summary,
                content: p.content,
                link: p.url.unwrap_or(p.ap_id),
                published: p
                    .published
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
            .collect(),
    };
    Ok(vary_accept(render(&page)?))
}

fn render(template: &impl Template) -> Result<Response> {
    let html = template
        .render()
        .map_err(|e| Error::Internal(anyhow::anyhow!("rendering a page: {e}")))?;
    Ok(Html(html).into_response())
}

#[derive(Template)]
#[template(path = "post.html")]
struct PostPage<'a> {
    instance_name: &'a str,
    display_name: String,
    handle: String,
    profile_url: String,
    ap_id: String,
    url: String,
    summary: String,
    content: String,
    excerpt: String,
    published: String,
    replies: i32,
    reposts: i32,
    likes: i32,
}

/// `GET /@{username}/{id}`: a public post's page; ActivityPub clients are
/// sent to the post's id.
pub async fn post(
    State(state): State<AppState>,
    Path((at_username, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let username = at_username.strip_prefix('@').ok_or(Error::NotFound)?;
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let (author, post) = posts::local_post(&state, username, id).await?;
    if negotiate(&headers) == Representation::ActivityJson {
        return Ok(vary_accept(Redirect::to(&post.ap_id).into_response()));
    }
    post_page(&state, &author, &post)
}

/// The HTML page of a post, also served at its id to browsers. Only public
/// and unlisted posts have one; a deleted post is gone.
pub fn post_page(state: &AppState, author: &Actor, post: &Post) -> Result<Response> {
    if post.deleted_at.is_some() {
        return Err(Error::Gone);
    }
    let visible = Visibility::parse(&post.visibility).is_some_and(Visibility::is_public);
    if !visible {
        return Err(Error::NotFound);
    }
    let text = post.source.clone().unwrap_or_default();
    let page = PostPage {
        instance_name: &state.config.instance.name,
        display_name: if author.display_name.is_empty() {
            author.username.clone()
        } else {
            author.display_name.clone()
        },
        handle: format!("{}@{}", author.username, state.urls.domain()),
        profile_url: author.url.clone().unwrap_or_else(|| author.ap_id.clone()),
        ap_id: post.ap_id.clone(),
        url: post.url.clone().unwrap_or_else(|| post.ap_id.clone()),
        summary: post.summary.clone(),
        content: post.content.clone(),
        excerpt: text.chars().take(100).collect(),
        published: post
            .published
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        replies: post.replies_count,
        reposts: post.reposts_count,
        likes: post.likes_count,
    };
    Ok(vary_accept(render(&page)?))
}

struct TaggedPost {
    author: String,
    author_url: String,
    summary: String,
    content: String,
    link: String,
    published: String,
}

#[derive(Template)]
#[template(path = "tag.html")]
struct TagPage<'a> {
    instance_name: &'a str,
    tag: String,
    posts: Vec<TaggedPost>,
    older: Option<i64>,
}

/// `GET /tags/{tag}`: public posts with a hashtag, newest first.
pub async fn tag(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Result<Response> {
    let max_id = match query.get("max_id") {
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| Error::BadRequest("max_id must be an integer".into()))?,
        ),
        None => None,
    };
    let tag = tag.trim_start_matches('#').to_lowercase();
    let page = timelines::page(max_id, None, None, Some(timelines::MAX_LIMIT));
    let found = timelines::tag(&state, None, &tag, page).await?;
    let older = (found.len() as i64 == page.limit)
        .then(|| found.last().map(|p| p.id))
        .flatten();
    let mut posts = Vec::with_capacity(found.len());
    for post in found {
        let author = profiles::author_of(&state.db, &post).await?;
        let host = author.domain.clone().unwrap_or_else(|| state.urls.domain());
        let emojis = posts::emojis(&state, &post).await?;
        posts.push(TaggedPost {
            author: format!("@{}@{host}", author.username),
            author_url: author.url.clone().unwrap_or_else(|| author.ap_id.clone()),
            summary: post.summary,
            content: crate::federation::html::emojify(&post.content, &emojis),
            link: post.url.unwrap_or(post.ap_id),
            published: post
                .published
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
    }
    render(&TagPage {
        instance_name: &state.config.instance.name,
        tag,
        posts,
        older,
    })
}
