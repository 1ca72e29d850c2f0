//! What the inbox fetches before its transaction, and posts resolved by URL:
//! the object of a Create sent by id, a reply's missing parents, a reposted
//! post that is not here yet, and a post someone searches for by its link.
//! Fetched documents are parsed by `federation::inbound` like everything
//! that arrives, and stored through `posts::store_remote`.

use url::Url;

use super::{Received, posts};
use crate::db::{self, actors::Actor};
use crate::error::{Error, Result};
use crate::federation::fetch;
use crate::federation::inbound::RemotePost;
use crate::service::discovery::authority;
use crate::service::reply_controls;
use crate::state::AppState;

/// How far up a thread Skein fetches missing posts, and how many fetches one
/// incoming post may cause.
pub const MAX_PARENT_DEPTH: usize = 5;

/// Fetches a post from its origin and reads it.
async fn fetch_post(state: &AppState, url: &Url) -> Option<RemotePost> {
    let document = match fetch::fetch_object(state, url).await {
        Ok(document) => document,
        Err(e) => {
            tracing::info!(post = %url, error = %e, "a post cannot be fetched");
            return None;
        }
    };
    match RemotePost::parse(&document) {
        Ok(post) => Some(post),
        Err(e) => {
            tracing::info!(post = %url, error = %e, "a fetched document is not a post");
            None
        }
    }
}

/// The object of a Create that came by id only, fetched from its origin
/// (which must be the actor's host).
pub async fn object_of_create(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Option<RemotePost>> {
    let url = Url::parse(id).map_err(|_| Error::BadRequest("the object is not a URL".into()))?;
    if authority(&url) != actor.domain.clone().unwrap_or_default() {
        return Err(Error::Forbidden(
            "the object is not on its actor's host".into(),
        ));
    }
    Ok(fetch_post(state, &url).await)
}

/// The author a post names first, fetched if needed; None for a local or
/// unknown one.
async fn author_of(state: &AppState, post: &RemotePost) -> Option<Actor> {
    let url = Url::parse(post.attributed_to.first()?).ok()?;
    match crate::service::remote_actors::get_or_fetch(state, &url).await {
        Ok(author) if !author.is_local() => Some(author),
        _ => None,
    }
}

/// Stores a fetched post by its author in a transaction of its own; whether
/// it was stored.
async fn store_fetched(state: &AppState, author: &Actor, post: &RemotePost) -> Result<bool> {
    let approved = reply_controls::approval_holds(state, post).await;
    let mut tx = state.db.begin().await?;
    match posts::store_remote(&mut tx, state, author, post, false, approved).await {
        Ok(Received::Applied) => {
            tx.commit().await?;
            Ok(true)
        }
        Ok(Received::Ignored(reason)) => {
            tracing::debug!(post = %post.id, reason, "a fetched post was not stored");
            Ok(false)
        }
        // Storing a post never keeps it for replay; only the inbox does.
        Ok(Received::Kept) => Ok(false),
        Err(e) => {
            tracing::info!(post = %post.id, error = %e, "a fetched post was not stored");
            Ok(false)
        }
    }
}

/// Stores a post fetched from its origin (a reply found in a thread's
/// replies collection) with its author, fetched if needed; whether it was
/// stored now (false when it was here already or could not be stored).
pub async fn store_post(state: &AppState, post: &RemotePost) -> Result<bool> {
    if db::posts::find_by_ap_id(&state.db, &post.id)
        .await?
        .is_some()
    {
        return Ok(false);
    }
    let Some(author) = author_of(state, post).await else {
        return Ok(false);
    };
    store_fetched(state, &author, post).await
}

/// Fetches a post that a followed account reposts and that is not here yet,
/// from its origin (its author's server, whatever the reposter's), so that
/// the repost has something to point at.
pub async fn fetch_announced(state: &AppState, actor: &Actor, object: &str) -> Result<bool> {
    if db::posts::find_by_ap_id(&state.db, object).await?.is_some()
        || !db::follows::has_local_follower(&state.db, actor.id).await?
    {
        return Ok(false);
    }
    let Ok(url) = Url::parse(object) else {
        return Ok(false);
    };
    Ok(fetch_and_store(state, &url).await?.is_some())
}

/// A post by its id or URL: from here when known, else fetched from its
/// origin and stored (search with `resolve`).
pub async fn resolve(state: &AppState, url: &Url) -> Result<Option<db::posts::Post>> {
    if let Some(post) = db::posts::find_by_ap_id_or_url(&state.db, url.as_str()).await? {
        return Ok(Some(post));
    }
    match fetch_and_store(state, url).await? {
        Some(id) => Ok(db::posts::find_by_ap_id(&state.db, &id).await?),
        None => Ok(None),
    }
}

/// Fetches a post from its origin and stores it with its author; the id of
/// the post stored (or found stored already).
async fn fetch_and_store(state: &AppState, url: &Url) -> Result<Option<String>> {
    let Some(post) = fetch_post(state, url).await else {
        return Ok(None);
    };
    if db::posts::find_by_ap_id(&state.db, &post.id)
        .await?
        .is_some()
    {
        return Ok(Some(post.id));
    }
    let Some(author) = author_of(state, &post).await else {
        return Ok(None);
    };
    Ok(store_fetched(state, &author, &post)
        .await?
        .then_some(post.id))
}

/// Fetches and stores the posts above `post` that are missing here (at most
/// [`MAX_PARENT_DEPTH`], stopping at a loop or at a post we have), so that
/// a reply arrives with its thread. Only for posts that concern this
/// instance.
pub async fn fetch_missing_parents(
    state: &AppState,
    actor: &Actor,
    post: &RemotePost,
) -> Result<usize> {
    let Some(mut next) = post.in_reply_to.clone() else {
        return Ok(0);
    };
    if db::posts::find_by_ap_id(&state.db, &next).await?.is_some() {
        return Ok(0);
    }
    let followed = db::follows::has_local_follower(&state.db, actor.id).await?;
    if !followed
        && !mentions_local(state, post).await?
        && !posts::addresses_local(&mut *state.db.acquire().await?, state, actor, post).await?
    {
        return Ok(0);
    }
    let mut seen: Vec<String> = vec![post.id.clone()];
    let mut chain: Vec<(Actor, RemotePost)> = Vec::new();
    while chain.len() < MAX_PARENT_DEPTH && !seen.contains(&next) {
        if db::posts::find_by_ap_id(&state.db, &next).await?.is_some() {
            break;
        }
        seen.push(next.clone());
        let Ok(url) = Url::parse(&next) else { break };
        let Some(parent) = fetch_post(state, &url).await else {
            break;
        };
        let Some(author) = author_of(state, &parent).await else {
            break;
        };
        let following = parent.in_reply_to.clone();
        chain.push((author, parent));
        match following {
            Some(id) => next = id,
            None => break,
        }
    }
    // Oldest first, so each reply finds its parent stored.
    let mut stored = 0;
    for (author, parent) in chain.iter().rev() {
        if store_fetched(state, author, parent).await? {
            stored += 1;
        }
    }
    Ok(stored)
}

async fn mentions_local(state: &AppState, post: &RemotePost) -> Result<bool> {
    for href in &post.mentions {
        if db::actors::find_by_ap_id(&state.db, href)
            .await?
            .is_some_and(|a| a.is_local())
        {
            return Ok(true);
        }
    }
    Ok(false)
}
