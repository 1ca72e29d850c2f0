//! Finding what a person typed into a search box (the web's, or an app's
//! through `/api/v2/search`) or followed a link to: accounts (by handle,
//! name or address), posts (by address) and hashtags.
//!
//! An address on this instance (a profile or post page, an actor or post
//! id) is read from its path and answered from the database, never
//! fetched, for anyone, as far as the viewer may see what it names. Other
//! addresses are looked up over federation only for signed-in people, so
//! that anyone cannot make this server fetch any address.

use url::Url;

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::domain_name::authority;
use crate::error::{Error, Result};
use crate::service::{accounts, inbox, posts, profiles, remote_actors};
use crate::state::AppState;

/// What a search found.
#[derive(Debug, Default)]
pub struct Found {
    pub accounts: Vec<Actor>,
    pub posts: Vec<Post>,
    pub tags: Vec<String>,
}

/// How many accounts and hashtags a search shows.
pub const LIMIT: i64 = 20;

/// Whether a query is an address rather than words or a handle.
pub fn is_url(query: &str) -> bool {
    query.starts_with("https://") || query.starts_with("http://")
}

/// Searches as Mastodon's search with `resolve=true` does for a signed-in
/// `viewer`: an address is looked up ([`link`]), an `@user@host` handle is
/// resolved; otherwise accounts by handle or name, and hashtags.
pub async fn search(state: &AppState, viewer: Option<&Actor>, query: &str) -> Result<Found> {
    let query = query.trim();
    if query.is_empty() {
        return Ok(Found::default());
    }
    if is_url(query) {
        return match Url::parse(query) {
            Ok(url) => link(state, viewer, &url, viewer.is_some()).await,
            Err(_) => Ok(Found::default()),
        };
    }
    let mut found = Found {
        accounts: accounts::search(state, viewer, query, viewer.is_some(), false, LIMIT, 0).await?,
        ..Found::default()
    };
    let name: String = query
        .trim_start_matches('#')
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !name.is_empty() {
        found.tags =
            db::posts::tags_starting_with(&state.db, &name.to_lowercase(), LIMIT, 0).await?;
    }
    Ok(found)
}

/// What an address names, as `viewer` may see it: on this instance, what
/// its path names ([`local_link`]); elsewhere the post or account stored
/// here under that address, or with `fetch` looked up at its server.
pub async fn link(
    state: &AppState,
    viewer: Option<&Actor>,
    url: &Url,
    fetch: bool,
) -> Result<Found> {
    if let Some(found) = local_link(state, viewer, url).await? {
        return Ok(found);
    }
    let mut found = Found::default();
    let post = if fetch {
        inbox::resolve(state, url).await?
    } else {
        db::posts::find_by_ap_id_or_url(&state.db, url.as_str()).await?
    };
    if let Some(post) = post
        && visible_post(state, viewer, &post).await?
    {
        found.posts.push(post);
        return Ok(found);
    }
    let account = if fetch {
        remote_actors::resolve(state, url.as_str()).await.ok()
    } else {
        db::actors::find_by_ap_id(&state.db, url.as_str()).await?
    };
    if let Some(actor) = account
        && visible_account(state, viewer, &actor).await?
    {
        found.accounts.push(actor);
    }
    Ok(found)
}

/// What an address on this instance names, read from its path: a profile
/// (`/@user`, `/@user@host` for an account stored here, `/users/user`) or a
/// post (`/@user/ID`, `/users/user/statuses/ID`), if `viewer` may see it.
/// None when the address is not this instance's; nothing is fetched.
pub async fn local_link(
    state: &AppState,
    viewer: Option<&Actor>,
    url: &Url,
) -> Result<Option<Found>> {
    if authority(url) != state.urls.domain() {
        return Ok(None);
    }
    let mut found = Found::default();
    // Usernames and ids are ASCII: the path is read as it is.
    let parts: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|part| !part.is_empty()).collect())
        .unwrap_or_default();
    let (acct, post_id) = match parts.as_slice() {
        [at] if at.starts_with('@') => (&at[1..], None),
        [at, id] if at.starts_with('@') => (&at[1..], Some(*id)),
        ["users", user] => (*user, None),
        ["users", user, "statuses", id] => (*user, Some(*id)),
        _ => return Ok(Some(found)),
    };
    if acct.is_empty() {
        return Ok(Some(found));
    }
    match post_id {
        None => {
            if let Some(actor) = stored_account(state, acct).await?
                && visible_account(state, viewer, &actor).await?
            {
                found.accounts.push(actor);
            }
        }
        Some(raw) => {
            let Ok(id) = raw.parse::<i64>() else {
                return Ok(Some(found));
            };
            match posts::by_acct(state, acct, id).await {
                Ok((_, post)) if visible_post(state, viewer, &post).await? => {
                    found.posts.push(post)
                }
                Ok(_) | Err(Error::NotFound) | Err(Error::Gone) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(Some(found))
}

/// An account by the handle in a local address, from what is stored.
async fn stored_account(state: &AppState, acct: &str) -> Result<Option<Actor>> {
    match profiles::by_acct(state, acct, false).await {
        Ok(actor) => Ok(Some(actor)),
        Err(Error::NotFound) | Err(Error::Gone) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether a search shows `actor` to `viewer`: not deleted or suspended,
/// not the instance actor, no block between them.
async fn visible_account(state: &AppState, viewer: Option<&Actor>, actor: &Actor) -> Result<bool> {
    if actor.gone_at.is_some()
        || actor.suspended_at.is_some()
        || (actor.is_local() && actor.kind == "Application")
    {
        return Ok(false);
    }
    match viewer {
        Some(v) if v.id != actor.id => Ok(!db::blocks::between(&state.db, v.id, actor.id).await?),
        _ => Ok(true),
    }
}

/// Whether a search shows `post` to `viewer`: not deleted, and readable.
async fn visible_post(state: &AppState, viewer: Option<&Actor>, post: &Post) -> Result<bool> {
    Ok(post.deleted_at.is_none() && posts::can_see(state, post, viewer).await?)
}

/// What a remote follow or interaction link names.
#[derive(Debug)]
pub enum Target {
    Account(Actor),
    Post(Post),
}

/// Resolves the `uri` of Mastodon's `authorize_interaction` (the WebFinger
/// subscribe template): `acct:user@host`, `@user@host`, an actor URL or a
/// post URL.
pub async fn resolve_uri(state: &AppState, viewer: &Actor, uri: &str) -> Result<Target> {
    let uri = uri.trim();
    let uri = uri.strip_prefix("acct:").unwrap_or(uri);
    if is_url(uri) {
        let url = Url::parse(uri).map_err(|_| Error::NotFound)?;
        if let Some(found) = local_link(state, Some(viewer), &url).await? {
            return match (
                found.posts.into_iter().next(),
                found.accounts.into_iter().next(),
            ) {
                (Some(post), _) => Ok(Target::Post(post)),
                (None, Some(actor)) => Ok(Target::Account(actor)),
                (None, None) => Err(Error::NotFound),
            };
        }
        if let Some(post) = inbox::resolve(state, &url).await?
            && visible_post(state, Some(viewer), &post).await?
        {
            return Ok(Target::Post(post));
        }
    }
    Ok(Target::Account(remote_actors::resolve(state, uri).await?))
}

/// Hashtags that start with `prefix` (lower case), most used first.
pub async fn hashtags(
    state: &AppState,
    prefix: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    Ok(db::posts::tags_starting_with(&state.db, prefix, limit, offset).await?)
}
