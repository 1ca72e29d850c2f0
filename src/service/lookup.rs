//! Finding what a person typed into the web search box or followed a link
//! to: accounts (by handle, name or actor URL), posts (by URL) and
//! hashtags. Only signed-in people make this server look things up over
//! federation; visitors search what is stored, so that anyone cannot make
//! it fetch any address.

use url::Url;

use crate::db::{self, actors::Actor, posts::Post};
use crate::error::{Error, Result};
use crate::service::{accounts, inbox, posts, remote_actors};
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

fn is_url(query: &str) -> bool {
    query.starts_with("https://") || query.starts_with("http://")
}

/// Searches as Mastodon's search with `resolve=true` does for a signed-in
/// `viewer`: a post URL is fetched, an `@user@host` handle or actor URL is
/// resolved; otherwise accounts by handle or name, and hashtags.
pub async fn search(state: &AppState, viewer: Option<&Actor>, query: &str) -> Result<Found> {
    let query = query.trim();
    let mut found = Found::default();
    if query.is_empty() {
        return Ok(found);
    }
    if is_url(query) {
        let Some(viewer) = viewer else {
            return Ok(found);
        };
        if let Ok(url) = Url::parse(query)
            && let Some(post) = inbox::resolve(state, &url).await?
            && post.deleted_at.is_none()
            && posts::can_see(state, &post, Some(viewer)).await?
        {
            found.posts.push(post);
            return Ok(found);
        }
    }
    found.accounts =
        accounts::search(state, viewer, query, viewer.is_some(), false, LIMIT, 0).await?;
    if !is_url(query) {
        let name: String = query
            .trim_start_matches('#')
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            found.tags =
                db::posts::tags_starting_with(&state.db, &name.to_lowercase(), LIMIT, 0).await?;
        }
    }
    Ok(found)
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
        if let Some(post) = inbox::resolve(state, &url).await?
            && post.deleted_at.is_none()
            && posts::can_see(state, &post, Some(viewer)).await?
        {
            return Ok(Target::Post(post));
        }
    }
    Ok(Target::Account(remote_actors::resolve(state, uri).await?))
}
