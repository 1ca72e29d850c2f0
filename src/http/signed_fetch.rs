//! Authorized fetch (Mastodon's "secure mode"): with
//! `federation.authorized_fetch` on, the ActivityPub documents of accounts
//! and posts are served only to signed GETs from servers the domain policy
//! does not refuse. Browsers asking an actor or post URL for HTML get the
//! public page; collections and authorizations are JSON only and always
//! checked, whatever the Accept header says. The instance actor, WebFinger
//! and NodeInfo are not behind this layer, so that other servers can always
//! fetch the keys they sign with.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::http::negotiate::{Representation, negotiate};
use crate::service::{domain_policy, signed};
use crate::state::AppState;

/// For documents that are only ever ActivityPub JSON (collections,
/// authorizations): every request is checked, whatever it accepts.
pub async fn require(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !state.config.federation.authorized_fetch {
        return next.run(request).await;
    }
    checked(&state, request, next).await
}

/// For the actor and post URLs, which serve browsers their public HTML page:
/// only a request that negotiates ActivityPub JSON is checked.
pub async fn require_unless_html(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !state.config.federation.authorized_fetch
        || negotiate(request.headers()) == Representation::Html
    {
        return next.run(request).await;
    }
    checked(&state, request, next).await
}

async fn checked(state: &AppState, request: Request, next: Next) -> Response {
    // The body is not shared across awaits: only what the check reads.
    let headers = request.headers().clone();
    let uri = request.uri().clone();
    match check(state, &headers, &uri).await {
        Ok(()) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<(), Error> {
    let header = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signer = signed::get_signer(state, uri.path(), uri.query(), &header)
        .await?
        .ok_or_else(|| Error::Unauthorized("Request not signed".into()))?;
    let host = signer.domain.clone().unwrap_or_default();
    if domain_policy::refuses(state, &host).await? {
        return Err(Error::Forbidden(format!(
            "this server does not federate with {host}"
        )));
    }
    Ok(())
}
