//! A post's page, `/@{acct}/{id}`, for local and remote posts: the posts
//! above it, the post, and the replies below drawn as a thread, with a
//! reply box for signed-in people. Public and unlisted posts are readable
//! by anyone, with OpenGraph tags; followers-only and mentioned-only posts
//! only by who may read them (404 otherwise). Likes and reposts are forms
//! posted from any post card.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use super::cards::{self, PostCard};
use super::compose::{Composer, post_path};
use super::profiles::{Relations, relations_page};
use super::{Chrome, SignedIn, Web, WebError, WebResult, local_path, render, see_other};
use crate::domain::interaction::{Interaction, Permission};
use crate::domain::names;
use crate::domain::visibility::Visibility;
use crate::error::Error;
use crate::http::api::statuses::visible_post;
use crate::http::negotiate::{Representation, negotiate};
use crate::http::vary_accept;
use crate::service::types::{Actor, Post};
use crate::service::{compose, interactions, posts, reply_controls, timelines};
use crate::state::AppState;

/// What link previews show of a post.
struct OpenGraph {
    title: String,
    description: String,
    url: String,
    image: String,
    image_alt: String,
}

#[derive(Template)]
#[template(path = "web/post.html")]
struct PostPage {
    chrome: Chrome,
    ancestors: Vec<PostCard>,
    /// The post itself (one card).
    focus: Vec<PostCard>,
    replies: Vec<PostCard>,
    composer: Option<Composer>,
    /// Why the viewer may not reply (the post's reply rule).
    reply_closed: Option<&'static str>,
    title: String,
    ap_id: String,
    og: Option<OpenGraph>,
    noindex: bool,
}

/// What a post's address may carry: the page of a followers or following
/// list.
#[derive(Deserialize, Default)]
pub struct PostQuery {
    #[serde(default)]
    max_id: Option<String>,
}

/// `GET /@{acct}/{id}`: the post's page (or, for `followers` and
/// `following`, the account's lists); ActivityPub clients are sent to
/// the post's id.
pub async fn post(
    State(state): State<AppState>,
    web: Web,
    Path((at_acct, id)): Path<(String, String)>,
    Query(q): Query<PostQuery>,
    headers: HeaderMap,
) -> WebResult {
    let Some(acct) = at_acct.strip_prefix('@') else {
        // Not a post's address: answered as any unknown path is.
        return Ok(Error::NotFound.into_response());
    };
    let relations = match id.as_str() {
        "followers" => Some(Relations::Followers),
        "following" => Some(Relations::Following),
        _ => None,
    };
    if let Some(which) = relations {
        return relations_page(&state, web, acct, which, q.max_id.as_deref()).await;
    }
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let (author, post) = posts::by_acct(&state, acct, id).await?;
    if negotiate(&headers) == Representation::ActivityJson {
        return Ok(vary_accept(Redirect::to(&post.ap_id).into_response()));
    }
    post_page(&state, web, &author, &post).await
}

/// The page of a post, also served at a local post's id to browsers.
pub async fn post_page(state: &AppState, web: Web, author: &Actor, post: &Post) -> WebResult {
    if post.deleted_at.is_some() {
        return Err(Error::Gone.into());
    }
    let viewer = web.viewer();
    if !posts::can_see(state, post, viewer).await? {
        return Err(Error::NotFound.into());
    }
    let thread = timelines::thread(state, viewer, post).await?;
    let (mut focus, mut ancestors, mut replies) =
        cards::thread(state, viewer, post, &thread.ancestors, &thread.descendants).await?;
    let Some(card) = focus.first_mut() else {
        return Err(Error::NotFound.into());
    };
    card.focus = true;

    // Ancestors are joined by a line down to the post: no "Replying to".
    for above in &mut ancestors {
        above.line = true;
        above.reply_to = None;
    }
    if !ancestors.is_empty() {
        card.reply_to = None;
    }
    draw_thread(post.id, &thread.descendants, &mut replies);
    mark_hidden(post, &thread.descendants, viewer, &mut replies);

    let public = post.visibility.is_public();
    let og = public.then(|| open_graph(state, card));
    // The reply box, unless the post's reply control leaves the viewer out.
    let mut reply_closed = None;
    let mut composer = None;
    if let Some(session) = web.session.as_ref() {
        let mut conn = state.db.acquire().await.map_err(Error::from)?;
        let permission =
            reply_controls::permission(&mut conn, post, author, &session.actor, Interaction::Reply)
                .await?;
        if permission == Permission::Denied {
            reply_closed = card.reply_rule;
        } else {
            composer = Some(
                Composer::reply(&session.user, &session.actor, card)
                    .with_emojis(state)
                    .await?,
            );
        }
    }
    let excerpt: String = if card.spoiler.is_empty() {
        card.text.chars().take(60).collect()
    } else {
        card.spoiler.chars().take(60).collect()
    };
    // Titles cannot hold elements: names and text are isolated with FSI/PDI.
    let title = format!(
        "{}: “{}”",
        names::isolate(&card.author.display_name),
        names::isolate(&names::visible_text(&excerpt))
    );
    let page = PostPage {
        chrome: web.chrome,
        title,
        ap_id: post.ap_id.clone(),
        noindex: post.visibility != Visibility::Public
            || !crate::service::accounts::search_engine_indexing(state, author).await?,
        og,
        ancestors,
        focus,
        replies,
        composer,
        reply_closed,
    };
    Ok(vary_accept(render(&page)?))
}

/// Draws the replies below post `root` as Threads does, in one column
/// (they come depth first): a line joins a reply to the next one when that
/// answers it, and a reply to the post or to the reply just above needs no
/// "Replying to"; a reply to the post itself starts a new conversation
/// (depth 1), any other reply continues one (depth 2).
fn draw_thread(root: i64, descendants: &[Post], cards: &mut [PostCard]) {
    let parent_of: HashMap<String, String> = descendants
        .iter()
        .filter_map(|p| Some((p.id.to_string(), p.in_reply_to_id?.to_string())))
        .collect();
    let root = root.to_string();
    for i in 0..cards.len() {
        let parent = parent_of.get(&cards[i].id);
        let answers_root = parent.is_none_or(|p| *p == root);
        let answers_above = i > 0 && parent == Some(&cards[i - 1].id);
        cards[i].depth = if answers_root { 1 } else { 2 };
        if answers_root || answers_above {
            cards[i].reply_to = None;
        }
        cards[i].line = cards
            .get(i + 1)
            .and_then(|next| parent_of.get(&next.id))
            .is_some_and(|parent| *parent == cards[i].id);
    }
}

/// Marks hidden replies (only their authors and the author of the post they
/// answer see them in the thread) and offers that author to hide or show
/// each reply to their posts.
fn mark_hidden(root: &Post, descendants: &[Post], viewer: Option<&Actor>, cards: &mut [PostCard]) {
    let Some(viewer) = viewer else { return };
    let author_of: HashMap<i64, i64> = std::iter::once(root)
        .chain(descendants)
        .map(|p| (p.id, p.author_id))
        .collect();
    let by_id: HashMap<String, &Post> = descendants.iter().map(|p| (p.id.to_string(), p)).collect();
    for card in cards.iter_mut() {
        let Some(post) = by_id.get(&card.id) else {
            continue;
        };
        card.hidden = post.reply_hidden_at.is_some();
        card.can_hide = post.author_id != viewer.id
            && post
                .in_reply_to_id
                .and_then(|parent| author_of.get(&parent))
                .is_some_and(|author| *author == viewer.id);
    }
}

fn open_graph(state: &AppState, card: &PostCard) -> OpenGraph {
    let text = if card.spoiler.is_empty() {
        card.text.clone()
    } else {
        format!("Content warning: {}", card.spoiler)
    };
    let description = super::cards::excerpt(&text);
    let (image, image_alt) = match card.media.iter().find(|m| m.kind == "image") {
        Some(m) if card.spoiler.is_empty() && !card.sensitive => (m.url.clone(), m.alt.clone()),
        _ => (card.author.avatar.clone(), String::new()),
    };
    let url = match &card.remote_url {
        Some(remote) => remote.clone(),
        None => format!("{}{}", state.urls.origin(), card.href),
    };
    OpenGraph {
        title: format!(
            "{} ({})",
            names::isolate(&card.author.display_name),
            names::isolate(&card.author.handle)
        ),
        description,
        url,
        image,
        image_alt,
    }
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    back: String,
}

/// `POST /web/statuses/{id}/{like|unlike|repost|unrepost|hide_reply|
/// unhide_reply|remove_preview|restore_preview}`, then back to the page the button was on, at the post.
pub async fn act(
    State(state): State<AppState>,
    me: SignedIn,
    Path((raw, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    let viewer = me.actor();
    let post = visible_post(&state, Some(viewer), &raw).await?;
    match action.as_str() {
        "like" => interactions::like(&state, viewer, &post).await?,
        "unlike" => interactions::unlike(&state, viewer, &post).await?,
        "repost" => {
            interactions::repost(&state, viewer, &post).await?;
        }
        "unrepost" => interactions::unrepost(&state, viewer, &post).await?,
        "bookmark" => compose::bookmark(&state, viewer, &post).await?,
        "unbookmark" => compose::unbookmark(&state, viewer, &post).await?,
        "hide_reply" => reply_controls::set_hidden(&state, viewer, &post, true).await?,
        "unhide_reply" => reply_controls::set_hidden(&state, viewer, &post, false).await?,
        "remove_preview" => crate::service::cards::remove(&state, viewer, &post).await?,
        "restore_preview" => crate::service::cards::restore(&state, viewer, &post).await?,
        _ => return Err(WebError(Error::NotFound)),
    }
    let page = post_path(&state, &post).await?;
    let back = local_path(&form.back, &page);
    Ok(see_other(&format!("{back}#post-{}", post.id)))
}

#[derive(Template)]
#[template(path = "web/delete_post.html")]
struct DeletePage {
    chrome: Chrome,
    post: Vec<PostCard>,
}

/// `GET /web/statuses/{id}/delete`: asks before deleting one's own post.
pub async fn confirm_delete(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
) -> WebResult {
    let viewer = me.actor();
    let post = own_post(&state, viewer, &raw).await?;
    let post = cards::posts(&state, Some(viewer), &[post], None).await?;
    render(&DeletePage {
        chrome: me.chrome,
        post,
    })
}

/// `POST /web/statuses/{id}/delete`: deletes one's own post, then to one's
/// profile.
pub async fn delete(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<ActionForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    let viewer = me.actor();
    let post = own_post(&state, viewer, &raw).await?;
    posts::delete(&state, viewer, &post).await?;
    Ok(see_other(&format!("/@{}", viewer.username)))
}

async fn own_post(state: &AppState, viewer: &Actor, raw: &str) -> Result<Post, Error> {
    let post = visible_post(state, Some(viewer), raw).await?;
    if post.author_id != viewer.id || post.reblog_of_id.is_some() {
        return Err(Error::Forbidden("only the author may delete a post".into()));
    }
    Ok(post)
}

/// `POST /web/statuses/{id}/vote`: the viewer's choices (`choice`, once
/// per chosen option), then back to the page, at the post.
pub async fn vote(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> WebResult {
    let mut csrf_token = String::new();
    let mut back = String::new();
    let mut choices = Vec::new();
    for (key, value) in url::form_urlencoded::parse(&body) {
        match key.as_ref() {
            "csrf_token" => csrf_token = value.into_owned(),
            "back" => back = value.into_owned(),
            "choice" => choices.push(
                value
                    .parse::<usize>()
                    .map_err(|_| Error::Validation(format!("`{value}` is not a choice")))?,
            ),
            _ => {}
        }
    }
    me.check(&csrf_token)?;
    if choices.is_empty() {
        return Err(Error::Validation("choose an option to vote".into()).into());
    }
    let viewer = me.actor();
    let post = visible_post(&state, Some(viewer), &raw).await?;
    crate::service::polls::vote(&state, viewer, &post, &choices).await?;
    let page = post_path(&state, &post).await?;
    let back = local_path(&back, &page);
    Ok(see_other(&format!("{back}#post-{}", post.id)))
}
