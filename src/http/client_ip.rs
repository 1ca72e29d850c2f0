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

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Ok(ClientIp("unknown".into()));
        };
        if trusted_proxy(&parts.extensions, state).is_none() {
            return Ok(ClientIp(peer.to_string()));
        }
        let trusted = &state.config.http.trusted_proxies;
        let forwarded: Vec<IpAddr> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|s| s.trim().parse().ok())
            .collect();
        let client = forwarded
            .iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .copied()
            .unwrap_or(peer);
        Ok(ClientIp(client.to_string()))
    }
}
