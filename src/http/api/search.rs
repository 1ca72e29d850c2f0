//! `GET /api/v2/search` (<https://docs.joinmastodon.org/methods/search/>):
//! accounts by handle or name, hashtags, posts by full-text search
//! (`service::search`: the viewer's own and interacted-with posts, and
//! public posts of indexable accounts, with Mastodon's operators), and an
//! address: this instance's profile and post addresses are read from their
//! path (`service::lookup`), and with `resolve=true` a remote `@user@host`
//! or another server's address is looked up over federation.
//!
//! As in Mastodon, anyone may search accounts and hashtags; posts, `resolve`
//! and `offset` need a signed-in user.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::error::{Error, Result};
use crate::http::api::auth::MaybeToken;
use crate::http::api::{Params, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::{accounts, lookup, search as full_text, tags};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v2/search", get(search))
}

#[derive(Deserialize)]
struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    resolve: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    following: bool,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    account_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    max_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    min_id: Option<i64>,
}

async fn search(
    State(state): State<AppState>,
    token: MaybeToken,
    Params(p): Params<SearchParams>,
) -> Result<Json<Value>> {
    let viewer = token.viewer("read:search")?;
    let limit = p.limit.unwrap_or(20).clamp(1, 40);
    let offset = p.offset.unwrap_or(0).max(0);
    if viewer.is_none() {
        // Mastodon's words.
        if p.resolve {
            return Err(Error::Unauthorized(
                "Search queries that resolve remote resources are not supported without authentication".into(),
            ));
        }
        if offset > 0 {
            return Err(Error::Unauthorized(
                "Search queries with offset are not supported without authentication".into(),
            ));
        }
    }
    let presenter = Presenter::new(&state, viewer);
    let wants = |kind: &str| p.kind.as_deref().is_none_or(|k| k.is_empty() || k == kind);
    let query = p.q.trim();

    let mut statuses: Vec<e::Status> = Vec::new();
    let mut found_accounts: Vec<e::Account> = Vec::new();
    let is_url = lookup::is_url(query);
    if is_url {
        // An address names one thing: an account or a post, on the first
        // page only. This instance's own addresses are answered without
        // fetching; others are fetched with `resolve`.
        if offset == 0
            && let Ok(url) = Url::parse(query)
        {
            let found = lookup::link(&state, viewer, &url, p.resolve).await?;
            if wants("statuses") {
                statuses = presenter.statuses(&found.posts).await?;
            }
            if wants("accounts") {
                found_accounts = presenter.accounts(&found.accounts).await?;
            }
        }
    } else if wants("statuses")
        && let Some(viewer) = viewer
    {
        let options = full_text::Options {
            account_id: p.account_id,
            max_id: p.max_id,
            min_id: p.min_id,
            limit: Some(limit),
            offset,
        };
        let found = full_text::statuses(&state, viewer, query, options).await?;
        statuses = presenter.statuses(&found).await?;
    }
    if !is_url && wants("accounts") {
        let actors =
            accounts::search(&state, viewer, query, p.resolve, p.following, limit, offset).await?;
        found_accounts = presenter.accounts(&actors).await?;
    }

    let mut hashtags: Vec<e::Tag> = Vec::new();
    if wants("hashtags") && !is_url {
        let name: String = query
            .trim_start_matches('#')
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            let found = lookup::hashtags(&state, &name.to_lowercase(), limit, offset).await?;
            for view in tags::many(&state, viewer, found).await? {
                hashtags.push(crate::http::api::tags::entity(&state, &view));
            }
        }
    }
    Ok(Json(json!({
        "accounts": found_accounts,
        "statuses": statuses,
        "hashtags": hashtags,
    })))
}
