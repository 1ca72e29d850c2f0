//! Verifying profile links (`rel="me"`), for local and remote accounts, as
//! Mastodon does: each field whose value is one http(s) link, not yet
//! verified, is fetched (through `net`, so private addresses, sizes and
//! times are bounded) and marked verified when the page links back to the
//! account's profile page or actor id (`federation::rel_me`). A field keeps
//! its mark while its value stays the same and loses it when it changes, so
//! a changed profile is checked again.
//!
//! Checks run after the change that asks for them has committed, on
//! `AppState::background`, so neither a profile edit nor an inbox waits for
//! other sites.

use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};

use crate::db::{self, actors::Actor};
use crate::error::Result;
use crate::federation::rel_me;
use crate::state::AppState;

/// A page this large is not a profile page worth reading further.
const MAX_PAGE: usize = 1024 * 1024;

/// Checks the actor's unverified links in the background, if it has any.
pub fn check_if_needed(state: &AppState, actor: &Actor) {
    let unverified_link = actor
        .fields
        .0
        .iter()
        .any(|f| f.verified_at.is_none() && rel_me::field_link(&f.value).is_some());
    if unverified_link {
        check_soon(state, actor.id);
    }
}

/// Checks `actor_id`'s unverified links in the background.
pub fn check_soon(state: &AppState, actor_id: i64) {
    let state2 = state.clone();
    state.background.spawn(async move {
        if let Err(e) = verify(&state2, actor_id).await {
            tracing::warn!(actor = actor_id, error = %e, "verifying profile links failed");
        }
    });
}

/// The addresses a page must link back to: the account's profile page and
/// its actor id.
fn link_backs(state: &AppState, actor: &Actor) -> Vec<String> {
    let mut targets = vec![actor.ap_id.clone()];
    if actor.is_local() {
        targets.push(state.urls.profile_page(&actor.username));
    } else if let Some(url) = &actor.url {
        targets.push(url.clone());
    }
    targets
}

/// Checks every unverified link field of the actor now; returns how many
/// were marked verified.
pub async fn verify(state: &AppState, actor_id: i64) -> Result<u64> {
    let Some(actor) = db::actors::find_by_id(&state.db, actor_id).await? else {
        return Ok(0);
    };
    let targets = link_backs(state, &actor);
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    let mut verified = Vec::new();
    for field in actor.fields.0.iter().filter(|f| f.verified_at.is_none()) {
        let Some(url) = rel_me::field_link(&field.value) else {
            continue;
        };
        if links_back(state, &url, &targets).await {
            verified.push(field.value.clone());
        }
    }
    if verified.is_empty() {
        return Ok(0);
    }
    Ok(db::actors::mark_fields_verified(&state.db, actor.id, &verified, state.clock.now()).await?)
}

/// Whether the page at `url` links back to one of `targets`. Any failure
/// (unreachable, refused address, not HTML, not 2xx) is "no".
async fn links_back(state: &AppState, url: &url::Url, targets: &[&str]) -> bool {
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("text/html, application/xhtml+xml;q=0.9"),
    );
    let page = match state.http.get(url, headers).await {
        Ok(page) if page.status.is_success() => page,
        Ok(page) => {
            tracing::debug!(%url, status = %page.status, "a profile link did not answer with a page");
            return false;
        }
        Err(e) => {
            tracing::debug!(%url, error = %e, "a profile link could not be fetched");
            return false;
        }
    };
    let html_type = page
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            t.starts_with("text/html") || t.starts_with("application/xhtml+xml")
        });
    if !html_type || page.body.len() > MAX_PAGE {
        return false;
    }
    rel_me::links_back(&String::from_utf8_lossy(&page.body), targets)
}
