//! Finding accounts and embedding posts, as Mastodon offers them to apps
//! and other sites: the profile directory (`/api/v1/directory`) and oEmbed
//! for this instance's public posts (`/api/oembed`).

use url::Url;

pub use crate::db::directory::Order;

use crate::db::{self, actors::Actor, posts::Post};
use crate::error::{Error, Result};
use crate::service::lookup;
use crate::state::AppState;

/// A page of the profile directory for `viewer` (see `db::directory`).
pub async fn page(
    state: &AppState,
    viewer: Option<&Actor>,
    local_only: bool,
    order: Order,
    offset: i64,
    limit: i64,
) -> Result<Vec<Actor>> {
    Ok(db::directory::page(
        &state.db,
        viewer.map(|v| v.id),
        local_only,
        order,
        offset.max(0),
        limit,
        state.clock.now(),
    )
    .await?)
}

/// The public or unlisted post of this instance that `url` names, with its
/// author, for oEmbed; anything else is not found.
pub async fn embeddable(state: &AppState, url: &str) -> Result<(Post, Actor)> {
    let url = Url::parse(url.trim()).map_err(|_| Error::NotFound)?;
    let found = lookup::local_link(state, None, &url)
        .await?
        .ok_or(Error::NotFound)?;
    let post = found
        .posts
        .into_iter()
        .find(|p| p.visibility.is_public() && p.reblog_of_id.is_none())
        .ok_or(Error::NotFound)?;
    let author = db::actors::find_by_id(&state.db, post.author_id)
        .await?
        .filter(|a| a.is_local())
        .ok_or(Error::NotFound)?;
    Ok((post, author))
}
