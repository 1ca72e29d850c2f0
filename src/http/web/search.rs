//! The search box (`/search?q=`): accounts, posts and hashtags, with
//! remote `@user@host` handles and post URLs looked up over federation for
//! signed-in people, so that what is found can be followed, liked and
//! answered; for signed-in people, posts found by full-text search too
//! (`service::search`, the client API's rules and operators), a page at a
//! time. And `/authorize_interaction`, where other servers send people
//! to follow or answer something from their home server.

use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;

use super::cards::{self, AccountView, PostCard};
use super::compose::post_path;
use super::profiles::{FollowButton, follow_button};
use super::{Chrome, SignedIn, Web, WebResult, render, see_other};
use crate::domain::filters::Context as FilterContext;
use crate::error::Error;
use crate::mastodon::Presenter;
use crate::service::lookup::{self, Target};
use crate::service::search as full_text;
use crate::service::types::Actor;
use crate::state::AppState;

/// An account found, with its follow button for a signed-in viewer.
pub struct AccountRow {
    pub account: AccountView,
    pub follow: Option<FollowButton>,
    /// `follow-button` when it is the only account found, so that the
    /// button has the id it has on the profile page.
    pub button_id: String,
}

#[derive(Template)]
#[template(path = "web/search.html")]
struct SearchPage {
    chrome: Chrome,
    query: String,
    accounts: Vec<AccountRow>,
    posts: Vec<PostCard>,
    tags: Vec<String>,
    /// The next page of posts found by full-text search, when there may be
    /// one.
    older: Option<String>,
}

/// Rows for a list of accounts, each with its follow button for a
/// signed-in viewer (none on the viewer's own row).
pub async fn account_rows(
    state: &AppState,
    viewer: Option<&Actor>,
    actors: &[Actor],
) -> Result<Vec<AccountRow>, Error> {
    let views = cards::accounts(state, viewer, actors).await?;
    let ids: Vec<i64> = actors.iter().map(|a| a.id).collect();
    let relationships = Presenter::new(state, viewer).relationships(&ids).await?;
    let only = views.len() == 1;
    Ok(actors
        .iter()
        .zip(views)
        .map(|(actor, account)| {
            let follow = relationships
                .iter()
                .find(|r| r.id == account.id)
                .filter(|_| viewer.is_some_and(|v| v.id != actor.id))
                .map(|r| follow_button(r, actor.manually_approves_followers));
            let button_id = if only {
                "follow-button".to_string()
            } else {
                format!("follow-button-{}", account.id)
            };
            AccountRow {
                account,
                follow,
                button_id,
            }
        })
        .collect())
}

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    /// Posts older than this one (the next page of posts).
    #[serde(default)]
    max_id: Option<String>,
}

/// `GET /search?q=`
pub async fn search(
    State(state): State<AppState>,
    mut web: Web,
    Query(q): Query<SearchQuery>,
) -> WebResult {
    let query = q.q.trim().to_string();
    let viewer = web.viewer();
    let max_id = match q.max_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| Error::BadRequest(format!("`{raw}` is not a post id")))?,
        ),
    };
    // A later page of posts shows only posts.
    let mut found = match max_id {
        None => lookup::search(&state, viewer, &query).await?,
        Some(_) => lookup::Found::default(),
    };
    let mut older = None;
    if let Some(viewer) = viewer
        && !lookup::is_url(&query)
    {
        let options = full_text::Options {
            max_id,
            limit: Some(full_text::DEFAULT_LIMIT),
            ..Default::default()
        };
        let posts = full_text::statuses(&state, viewer, &query, options).await?;
        if posts.len() as i64 == full_text::DEFAULT_LIMIT
            && let Some(last) = posts.last()
        {
            let q: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
            older = Some(format!("/search?q={q}&max_id={}", last.id));
        }
        found.posts.extend(posts);
    }
    let posts = cards::posts(&state, viewer, &found.posts, Some(FilterContext::Public)).await?;
    let accounts = account_rows(&state, viewer, &found.accounts).await?;
    web.chrome.query = query.clone();
    render(&SearchPage {
        chrome: web.chrome,
        query,
        accounts,
        posts,
        tags: found.tags,
        older,
    })
}

#[derive(Deserialize, Default)]
pub struct InteractionQuery {
    #[serde(default)]
    uri: String,
}

/// `GET /authorize_interaction?uri=`: the account or post named, looked
/// up over federation, shown here where it can be followed or answered.
pub async fn authorize_interaction(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<InteractionQuery>,
) -> WebResult {
    if q.uri.trim().is_empty() {
        return Err(Error::BadRequest("uri is required".into()).into());
    }
    match lookup::resolve_uri(&state, me.actor(), &q.uri).await? {
        Target::Post(post) => Ok(see_other(&post_path(&state, &post).await?)),
        Target::Account(actor) => Ok(see_other(&match &actor.domain {
            None => format!("/@{}", actor.username),
            Some(host) => format!("/@{}@{host}", actor.username),
        })),
    }
}

#[derive(Deserialize, Default)]
pub struct CompleteQuery {
    #[serde(default)]
    q: String,
}

/// Most suggestions the composer's autocomplete shows.
const COMPLETIONS: i64 = 5;

/// `GET /web/autocomplete?q=@al` or `?q=#kni`: the composer's @mention and
/// #hashtag suggestions (the script's progressive enhancement), from the
/// services behind `/api/v2/search` (accounts known here, no lookup over
/// federation; hashtags used here), as JSON.
pub async fn autocomplete(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<CompleteQuery>,
) -> WebResult {
    let query = q.q.trim();
    let mut accounts = Vec::new();
    let mut hashtags = Vec::new();
    if let Some(name) = query.strip_prefix('#') {
        let name: String = name
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            hashtags = lookup::hashtags(&state, &name.to_lowercase(), COMPLETIONS, 0).await?;
        }
    } else if let Some(handle) = query.strip_prefix('@').filter(|h| !h.is_empty()) {
        let viewer = me.actor();
        let found = crate::service::accounts::search(
            &state,
            Some(viewer),
            handle,
            false,
            false,
            COMPLETIONS,
            0,
        )
        .await?;
        let views = cards::accounts(&state, Some(viewer), &found).await?;
        accounts = views
            .into_iter()
            .map(|a| {
                serde_json::json!({
                    "acct": a.acct,
                    "display_name": a.display_name,
                    "avatar": a.avatar,
                })
            })
            .collect();
    }
    use axum::response::IntoResponse;
    let mut response = axum::Json(serde_json::json!({
        "accounts": accounts,
        "hashtags": hashtags,
    }))
    .into_response();
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    Ok(response)
}
