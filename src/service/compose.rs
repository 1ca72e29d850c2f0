//! Posting from apps: a post written with an `Idempotency-Key` is written
//! once however often the request is retried, and remembers the app it was
//! written with. Bookmarks live here too: the small per-account marks apps
//! set on posts.

use sha2::{Digest, Sha256};

use crate::db::{self, actors::Actor, posts::Post, users::User};
use crate::error::{Error, Result};
use crate::service::posts::{self, Draft};
use crate::state::AppState;

/// The longest idempotency key kept (Mastodon's apps send UUIDs).
const MAX_KEY: usize = 200;

pub async fn create(
    state: &AppState,
    user: &User,
    author: &Actor,
    draft: Draft<'_>,
    idempotency_key: Option<&str>,
    app_id: Option<i64>,
) -> Result<Post> {
    let key = idempotency_key.map(str::trim).filter(|k| !k.is_empty());
    let Some(key) = key else {
        return posts::create_with_app(state, author, draft, app_id).await;
    };
    if key.len() > MAX_KEY {
        return Err(Error::Validation("the Idempotency-Key is too long".into()));
    }
    // One writer per (user, key): a session-level advisory lock held on a
    // connection of its own while the post is written.
    let lock = advisory_key(user.id, key);
    let mut conn = state.db.acquire().await?;
    db::posts::lock_idempotency_key(&mut conn, lock).await?;
    let result = async {
        if let Some(post) = db::posts::find_by_idempotency_key(&state.db, user.id, key).await? {
            return Ok(post);
        }
        let post = posts::create_with_app(state, author, draft, app_id).await?;
        db::posts::remember_idempotency_key(&state.db, user.id, key, post.id, state.clock.now())
            .await?;
        Ok(post)
    }
    .await;
    let _ = db::posts::unlock_idempotency_key(&mut conn, lock).await;
    result
}

fn advisory_key(user_id: i64, key: &str) -> i64 {
    let digest = Sha256::digest(format!("idempotency:{user_id}:{key}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

pub async fn bookmark(state: &AppState, actor: &Actor, post: &Post) -> Result<()> {
    db::bookmarks::insert(&state.db, actor.id, post.id, state.clock.now()).await?;
    Ok(())
}

pub async fn unbookmark(state: &AppState, actor: &Actor, post: &Post) -> Result<()> {
    db::bookmarks::delete(&state.db, actor.id, post.id).await?;
    Ok(())
}

/// A page of the viewer's bookmarks (or liked posts), newest mark first,
/// leaving out posts it may no longer see; with the page's (newest, oldest)
/// mark cursors, for paging on, and whether the page was full (more may
/// follow, even when some of it is left out).
pub async fn marked(
    state: &AppState,
    viewer: &Actor,
    favourites: bool,
    page: crate::db::timelines::Page,
) -> Result<(Vec<Post>, Option<(i64, i64)>, bool)> {
    let rows = db::bookmarks::page(&state.db, favourites, viewer.id, page).await?;
    let full = rows.len() as i64 >= page.limit;
    let bounds = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => Some((first.cursor, last.cursor)),
        _ => None,
    };
    let rows: Vec<Post> = rows.into_iter().map(|row| row.post).collect();
    let shown: std::collections::HashSet<i64> = posts::visible_ids(state, &rows, Some(viewer))
        .await?
        .into_iter()
        .collect();
    let visible = rows.into_iter().filter(|p| shown.contains(&p.id)).collect();
    Ok((visible, bounds, full))
}
