//! The HTTP layer (axum only): routes, shared state and the middleware stack.
//! Handlers extract, call one service function and map the result.

pub mod activitypub;
pub mod api;
pub mod client_ip;
pub mod health;
pub mod inbox;
pub mod media;
pub mod negotiate;
pub mod oauth;
pub mod session;
pub mod signed_fetch;
pub mod statics;
pub mod transport;
pub mod web;
pub mod well_known;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::cors::{Any, CorsLayer};
use tower_http::normalize_path::NormalizePath;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.config.http.request_timeout_seconds);
    let max_body = state.config.http.max_body_bytes;

    // Discovery documents are read by browsers' fetch() as well (web clients).
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([axum::http::Method::GET]);
    let discovery = Router::new()
        .route("/.well-known/webfinger", get(well_known::webfinger))
        .route("/.well-known/host-meta", get(well_known::host_meta))
        .route(
            "/.well-known/host-meta.json",
            get(well_known::host_meta_json),
        )
        .route("/.well-known/nodeinfo", get(well_known::nodeinfo_links))
        .route("/nodeinfo/{version}", get(well_known::nodeinfo))
        .layer(cors);

    // Accounts' and posts' documents: behind authorized fetch when it is on.
    // The actor and post URLs also serve browsers their HTML pages, which
    // stay public; every other document is JSON only and always checked.
    let pages = Router::new()
        .route("/users/{username}", get(activitypub::person))
        .route("/users/{username}/statuses/{id}", get(activitypub::post))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signed_fetch::require_unless_html,
        ));
    let documents = Router::new()
        .route("/users/{username}/followers", get(activitypub::followers))
        .route(
            "/users/{username}/followers_synchronization",
            get(activitypub::followers_synchronization),
        )
        .route("/users/{username}/following", get(activitypub::following))
        .route("/users/{username}/outbox", get(activitypub::outbox))
        .route(
            "/users/{username}/collections/featured",
            get(activitypub::featured),
        )
        .route(
            "/users/{username}/collections/tags",
            get(activitypub::featured_tags),
        )
        .route(
            "/users/{username}/statuses/{id}/replies",
            get(activitypub::replies),
        )
        .route(
            "/users/{username}/quote_authorizations/{id}",
            get(activitypub::quote_authorization),
        )
        .route(
            "/users/{username}/reply_authorizations/{id}",
            get(activitypub::reply_authorization),
        )
        .route(
            "/users/{username}/reply_approvals/{id}",
            get(activitypub::reply_approval),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signed_fetch::require,
        ));

    let routes = Router::new()
        .merge(discovery)
        .merge(pages)
        .merge(documents)
        .merge(api::routes(state.clone()))
        .merge(oauth::routes())
        .merge(statics::routes())
        .merge(web::routes(api::media::upload_body_limit(
            &state.config.media,
        )))
        .route("/health", get(health::health))
        .route("/metrics", get(crate::prometheus::scrape_with_token))
        .route("/", get(web::index))
        .route("/inbox", post(inbox::shared))
        .route("/actor/inbox", post(inbox::instance_actor))
        .route("/actor/self_check", post(health::self_check_probe))
        .route("/users/{username}/inbox", post(inbox::person))
        .route("/actor", get(activitypub::instance_actor))
        .route("/actor/outbox", get(activitypub::instance_outbox))
        .route("/emojis/{id}", get(activitypub::emoji))
        .route("/tags/{tag}", get(web::tag))
        .route("/media/{file}", get(media::file))
        .route("/media_proxy/{token}", get(media::proxy))
        .route("/media_proxy/{token}/small", get(media::proxy_small))
        .route("/{at_username}", get(web::profile))
        .route("/{at_username}/{id}", get(web::post))
        .fallback(not_found)
        // Failed requests from browsers become pages (web::errors).
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            web::error_pages,
        ))
        .with_state(state.clone())
        // Addresses in `no_access` IP blocks get nothing.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            client_ip::refuse_blocked,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "request",
                    id = %id,
                    method = %request.method(),
                    path = %request.uri().path(),
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid));
    // Requests are counted by route when metrics are on.
    let routes = if state.config.metrics.enabled() {
        routes.layer(axum::middleware::from_fn(crate::prometheus::track_http))
    } else {
        routes
    };
    // Mastodon (Rails) answers every path with a trailing slash too, and
    // apps rely on it: Mastodon.py asks for `/api/v1/instance/`. The slash
    // goes before routing, so the routes are wrapped rather than layered.
    Router::new()
        .fallback_service(NormalizePath::trim_trailing_slash(routes))
        .layer(compression())
}

/// Responses are compressed (br or gzip, as the client accepts) when
/// compressing gains something: not pictures, video or audio (already
/// compressed), not archives, not the streaming API (server-sent events
/// are flushed event by event; WebSockets switch protocols) and not tiny
/// bodies.
fn compression() -> CompressionLayer<impl Predicate> {
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("video/"))
        .and(NotForContentType::const_new("audio/"))
        .and(NotForContentType::const_new("application/zip"))
        .and(NotForContentType::const_new("application/gzip"))
        .and(NotForContentType::const_new("application/octet-stream"))
        .and(
            |status: StatusCode,
             _: axum::http::Version,
             _: &axum::http::HeaderMap,
             _: &axum::http::Extensions| { status != StatusCode::SWITCHING_PROTOCOLS },
        );
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .no_deflate()
        .no_zstd()
        .compress_when(predicate)
}

/// An unknown path: JSON, as Mastodon answers; a browser gets a page
/// (`web::error_pages`).
async fn not_found() -> Response {
    crate::error::Error::NotFound.into_response()
}

/// A file to download: its type, and the name a browser saves it under
/// (names are Skein's own, never taken from a request unchecked).
pub fn download(
    content_type: &str,
    file_name: &str,
    body: impl Into<axum::body::Body>,
) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    let mut response = Response::new(body.into());
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition.as_str()),
    ] {
        if let Ok(value) = header::HeaderValue::from_str(value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// A response whose body depends on the Accept header.
pub fn vary_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, header::HeaderValue::from_static("Accept"));
    response
}
