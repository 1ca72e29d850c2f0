//! How a request reached this instance: over https (the built-in TLS
//! listener, or a trusted reverse proxy that says `X-Forwarded-Proto:
//! https`) or over plain http; and the plain listener's redirect to https
//! when the instance serves TLS itself.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::Scheme;
use crate::http::client_ip::trusted_proxy;
use crate::state::AppState;

/// Marks the requests of the built-in TLS listener.
#[derive(Debug, Clone, Copy)]
struct ViaTls;

/// Whether the request came over https.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverHttps(pub bool);

impl FromRequestParts<AppState> for OverHttps {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(OverHttps(over_https(
            &parts.extensions,
            &parts.headers,
            state,
        )))
    }
}

fn over_https(extensions: &Extensions, headers: &HeaderMap, state: &AppState) -> bool {
    extensions.get::<ViaTls>().is_some()
        || (trusted_proxy(extensions, state).is_some()
            && forwarded_proto(headers).is_some_and(|p| p.eq_ignore_ascii_case("https")))
}

/// `X-Forwarded-Proto` as the nearest proxy (the trusted one) left it: its
/// last value, when proxies in a row each appended theirs.
fn forwarded_proto(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all("x-forwarded-proto")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty())
}

/// The router of the built-in TLS listener.
pub fn tls_listener(router: Router) -> Router {
    router.layer(axum::Extension(ViaTls))
}

/// The router of the plain listener: the app itself, or, when this instance
/// serves https itself and its address is https, a redirect to https for
/// everything (ActivityPub and WebFinger included, as a reverse proxy
/// would do) but `GET /health`, which load balancers and container probes
/// ask over plain http.
pub fn plain_listener(router: Router, state: &AppState, serves_tls: bool) -> Router {
    if !serves_tls || state.config.scheme() != Scheme::Https {
        return router;
    }
    router.layer(axum::middleware::from_fn_with_state(
        state.clone(),
        to_https,
    ))
}

async fn to_https(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let reads = matches!(*request.method(), Method::GET | Method::HEAD);
    let health = reads && request.uri().path().trim_end_matches('/') == "/health";
    if health || over_https(request.extensions(), request.headers(), &state) {
        return next.run(request).await;
    }
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let target = format!("{}{path}", state.urls.origin());
    // 308 keeps the method and body (an inbox POST); 301 is what every
    // client knows for a page.
    let status = if reads {
        StatusCode::MOVED_PERMANENTLY
    } else {
        StatusCode::PERMANENT_REDIRECT
    };
    let location = HeaderValue::from_str(&target).unwrap_or_else(|_| HeaderValue::from_static("/"));
    (status, [(header::LOCATION, location)]).into_response()
}
