//! The address a request came from: the peer, or, when the peer is a
//! trusted reverse proxy (`http.trusted_proxies`), the nearest address in
//! `X-Forwarded-For` that is not a trusted proxy.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::Extensions;
use axum::http::request::Parts;

use crate::error::Error;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

/// The connection's peer, when it is a reverse proxy whose `X-Forwarded-*`
/// headers are believed.
pub fn trusted_proxy(extensions: &Extensions, state: &AppState) -> Option<IpAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .filter(|peer| state.config.http.trusted_proxies.contains(peer))
}

/// The client's address: the peer, or the nearest untrusted address a
/// trusted proxy forwarded. None without a peer (requests made in-process).
pub fn client_addr(
    extensions: &Extensions,
    headers: &axum::http::HeaderMap,
    state: &AppState,
) -> Option<IpAddr> {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    if trusted_proxy(extensions, state).is_none() {
        return Some(peer);
    }
    let trusted = &state.config.http.trusted_proxies;
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .copied()
            .unwrap_or(peer),
    )
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(ClientIp(
            client_addr(&parts.extensions, &parts.headers, state)
                .map_or_else(|| "unknown".to_string(), |ip| ip.to_string()),
        ))
    }
}

/// Refuses every request from an address in a `no_access` IP block with
/// 403, as Mastodon's Rack::Attack blocklist does, before any handler runs;
/// read from the process's in-memory set, no SQL.
pub async fn refuse_blocked(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let refused = state.refused_ips.get();
    if !refused.is_empty()
        && let Some(ip) = client_addr(request.extensions(), request.headers(), &state)
        && refused.refuses(ip, state.clock.now())
    {
        return (
            axum::http::StatusCode::FORBIDDEN,
            [(axum::http::header::CONTENT_TYPE, "text/plain")],
            "Forbidden\n",
        )
            .into_response();
    }
    next.run(request).await
}
