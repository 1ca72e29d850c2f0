//! `GET /api/v1/directory` (<https://docs.joinmastodon.org/methods/directory/>),
//! `GET /api/oembed` (<https://docs.joinmastodon.org/methods/oembed/>) and
//! `/oauth/userinfo` (OpenID Connect's UserInfo, as Mastodon 4.4 answers
//! it for tokens with the `profile` scope).

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Result;
use crate::federation::html;
use crate::http::api::{MaybeToken, Params, Token, params::lenient};
use crate::mastodon::{Presenter, entities as e};
use crate::service::directory::{self, Order};
use crate::state::AppState;

/// Mastodon's page sizes for the directory.
const DEFAULT_LIMIT: i64 = 40;
const MAX_LIMIT: i64 = 80;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/directory", get(index))
        .route("/api/oembed", get(oembed))
        .route("/oauth/userinfo", get(userinfo).post(userinfo))
}

#[derive(Deserialize, Default)]
struct DirectoryParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default)]
    order: Option<String>,
    #[serde(default, deserialize_with = "lenient::bool")]
    local: bool,
}

/// Discoverable accounts, by their latest post (`order=active`, the
/// default) or newest first (`order=new`), paged by offset as Mastodon
/// pages them.
async fn index(
    State(state): State<AppState>,
    token: MaybeToken,
    Params(p): Params<DirectoryParams>,
) -> Result<Json<Vec<e::Account>>> {
    let viewer = token.viewer("read:accounts")?;
    let order = match p.order.as_deref() {
        Some("new") => Order::New,
        _ => Order::Active,
    };
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let actors =
        directory::page(&state, viewer, p.local, order, p.offset.unwrap_or(0), limit).await?;
    Ok(Json(
        Presenter::new(&state, viewer).accounts(&actors).await?,
    ))
}

#[derive(Deserialize, Default)]
struct OembedParams {
    #[serde(default)]
    url: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    maxwidth: Option<i64>,
}

/// oEmbed for a public post of this instance: a quotation of it, with its
/// author and a link back, to paste into another site.
async fn oembed(
    State(state): State<AppState>,
    Query(p): Query<OembedParams>,
) -> Result<Json<Value>> {
    let (post, author) = directory::embeddable(&state, &p.url).await?;
    let url = post.url.clone().unwrap_or_else(|| post.ap_id.clone());
    let author_url = author.url.clone().unwrap_or_else(|| author.ap_id.clone());
    let author_name = if author.display_name.trim().is_empty() {
        author.username.clone()
    } else {
        author.display_name.clone()
    };
    let width = p.maxwidth.unwrap_or(400).clamp(250, 400);
    let quoted = format!(
        "<blockquote class=\"mastodon-embed\" data-embed-url=\"{url}\" style=\"max-width: {width}px;\">{content}<p>— <a href=\"{author_url}\">{name} (@{username}@{domain})</a> <a href=\"{url}\">{published}</a></p></blockquote>",
        url = html::escape(&url),
        content = html::sanitize(&post.content),
        author_url = html::escape(&author_url),
        name = html::escape(&author_name),
        username = html::escape(&author.username),
        domain = html::escape(&state.urls.domain()),
        published = post.published.format("%Y-%m-%d %H:%M UTC"),
    );
    Ok(Json(json!({
        "type": "rich",
        "version": "1.0",
        "title": format!("New status by {}", author.username),
        "author_name": author_name,
        "author_url": author_url,
        "provider_name": state.urls.domain(),
        "provider_url": format!("{}/", state.urls.origin()),
        "cache_age": 86400,
        "html": quoted,
        "width": width,
        "height": null,
    })))
}

/// OpenID Connect's UserInfo for the token's account.
async fn userinfo(State(state): State<AppState>, token: Token) -> Result<Json<Value>> {
    let (_, actor) = token.user("profile")?;
    let account = Presenter::new(&state, Some(actor)).account(actor).await?;
    Ok(Json(json!({
        "iss": format!("{}/", state.urls.origin()),
        "sub": actor.ap_id,
        "name": actor.display_name,
        "preferred_username": actor.username,
        "profile": account.url,
        "picture": account.avatar,
    })))
}
