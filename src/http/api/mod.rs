//! The Mastodon client API (<https://docs.joinmastodon.org/methods/>). Files
//! mirror the paths; each exposes `routes()`. Handlers extract (token,
//! parameters), call one service function and present the result with
//! `mastodon::Presenter`.

pub mod accounts;
pub mod admin_accounts;
pub mod admin_blocklists;
pub mod admin_blocks;
pub mod admin_domains;
pub mod admin_measures;
pub mod admin_trends;
pub mod announcements;
pub mod annual_reports;
pub mod apps;
pub mod async_refreshes;
pub mod auth;
pub mod blocks;
pub mod bookmarks;
pub mod conversations;
pub mod directory;
pub mod domain_blocks;
pub mod emails;
pub mod endorsements;
pub mod exports;
pub mod featured_tags;
pub mod filters;
pub mod follow_requests;
pub mod import;
pub mod instance;
pub mod instance_pages;
pub mod lists;
pub mod markers;
pub mod media;
pub mod mutes;
pub mod notifications;
pub mod pagination;
pub mod params;
pub mod polls;
pub mod preferences;
pub mod profile;
pub mod push;
pub mod reports;
pub mod scheduled_statuses;
pub mod search;
pub mod statuses;
pub mod streaming;
pub mod suggestions;
pub mod tags;
pub mod timelines;
pub mod trends;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::cors::{Any, CorsLayer};

use crate::error::Error;
use crate::http::client_ip::ClientIp;
use crate::ratelimit;
use crate::service::oauth;
use crate::state::AppState;

pub use auth::{MaybeToken, Token};
pub use pagination::{OffsetParams, PageParams, offset_paged, paged};
pub use params::Params;

pub fn routes(state: AppState) -> Router<AppState> {
    // Web clients (Elk, Phanpy, ...) call the API from other origins.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::LINK,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
        ]);
    Router::new()
        .merge(apps::routes())
        .merge(async_refreshes::routes())
        .merge(instance::routes())
        .merge(instance_pages::routes())
        .merge(accounts::routes(state.config.media.max_image_bytes))
        .merge(statuses::routes())
        .merge(scheduled_statuses::routes())
        .merge(announcements::routes())
        .merge(annual_reports::routes())
        .merge(directory::routes())
        .merge(polls::routes())
        .merge(bookmarks::routes())
        .merge(profile::routes())
        .merge(follow_requests::routes())
        .merge(blocks::routes())
        .merge(mutes::routes())
        .merge(timelines::routes())
        .merge(tags::routes())
        .merge(featured_tags::routes())
        .merge(endorsements::routes())
        .merge(search::routes())
        .merge(media::routes(&state.config.media))
        .merge(filters::routes())
        .merge(exports::routes())
        .merge(import::routes())
        .merge(lists::routes())
        .merge(notifications::routes())
        .merge(markers::routes())
        .merge(preferences::routes())
        .merge(domain_blocks::routes())
        .merge(admin_blocklists::routes())
        .merge(admin_domains::routes())
        .merge(reports::routes())
        .merge(admin_accounts::routes())
        .merge(admin_blocks::routes())
        .merge(admin_measures::routes())
        .merge(conversations::routes())
        .merge(push::routes())
        .merge(emails::routes())
        .merge(streaming::routes())
        .merge(trends::routes())
        .merge(admin_trends::routes())
        .merge(suggestions::routes())
        .fallback(api_not_found)
        .layer(middleware::from_fn_with_state(state, rate_limit))
        .layer(cors)
}

async fn api_not_found() -> Response {
    Error::NotFound.into_response()
}

/// Mastodon's API limit (300 calls per 5 minutes per token, or per address
/// without one), announced in `X-RateLimit-*` headers on every answer.
async fn rate_limit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let key = match auth_key(&request) {
        Some(token) => format!("token:{token}"),
        None => format!("ip:{ip}"),
    };
    let verdict = match state.limits.hit(ratelimit::API, &key).await {
        Ok(verdict) => verdict,
        Err(e) => return Error::from(e).into_response(),
    };
    let mut response = if verdict.allowed {
        next.run(request).await
    } else {
        Error::TooManyRequests.into_response()
    };
    let headers = response.headers_mut();
    let pairs = [
        ("x-ratelimit-limit", verdict.limit.to_string()),
        ("x-ratelimit-remaining", verdict.remaining.to_string()),
        (
            "x-ratelimit-reset",
            crate::mastodon::entities::time(verdict.reset),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    }
    response
}

/// A short, non-secret key for the token of a request (its digest's head).
fn auth_key(request: &Request) -> Option<String> {
    let raw = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())?
        .split_once(' ')?
        .1
        .trim()
        .to_string();
    let digest = oauth::digest(&raw);
    Some(digest[..12].iter().map(|b| format!("{b:02x}")).collect())
}

/// Parses a Mastodon id from a path; anything else is "not found".
pub fn id(raw: &str) -> Result<i64, Error> {
    raw.parse().map_err(|_| Error::NotFound)
}
