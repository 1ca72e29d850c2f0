//! Fetching ActivityPub documents and WebFinger answers from other servers.
//!
//! GETs are signed by the instance actor (servers in Mastodon's authorized
//! fetch mode and GoToSocial require it). A document counts only if it comes
//! with an ActivityPub media type and its `id` is the URL it was fetched from.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue, LOCATION};
use serde_json::Value;
use url::Url;

use crate::domain::domain_name::authority;
use crate::domain::handle::Handle;
pub use crate::federation::inbound::wire::id_of;
use crate::federation::signatures;
use crate::federation::webfinger::{Jrd, REL_SELF};
use crate::net::{Fetched, MAX_REDIRECTS, NetError};
use crate::state::AppState;

const AP_ACCEPT: &str = "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"";

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the document is gone (410)")]
    Gone,
    #[error("the document was not found (404)")]
    NotFound,
    #[error("the server answered {0}")]
    Status(StatusCode),
    #[error("the answer is not an ActivityPub document (content type {0:?})")]
    NotActivityPub(String),
    #[error("the answer is not valid JSON")]
    Json,
    #[error("the document's id {id} is not the URL it came from ({url})")]
    IdMismatch { id: String, url: String },
    #[error("WebFinger gave no usable ActivityPub link: {0}")]
    WebFinger(&'static str),
    #[error("this server does not federate with {0}")]
    Refused(String),
}

/// Refuses hosts the instance's domain policy refuses, before any request.
fn check_policy(state: &AppState, url: &Url) -> Result<(), FetchError> {
    let host = authority(url);
    if state.domain_policy.get().refuses(&host) {
        return Err(FetchError::Refused(host));
    }
    Ok(())
}

/// Whether a Content-Type names an ActivityPub document.
pub fn is_activitypub_type(content_type: &str) -> bool {
    let lower = content_type.to_ascii_lowercase();
    let media = lower.split(';').next().unwrap_or_default().trim();
    media == "application/activity+json"
        || (media == "application/ld+json"
            && lower.contains("https://www.w3.org/ns/activitystreams"))
}

/// A signed GET of an ActivityPub document whose `id` must be `url` (or,
/// after redirects, the final URL).
pub async fn fetch_object(state: &AppState, url: &Url) -> Result<Value, FetchError> {
    let result = fetch_object_checked(state, url).await;
    crate::prometheus::remote_fetch("object", result.is_ok());
    result
}

async fn fetch_object_checked(state: &AppState, url: &Url) -> Result<Value, FetchError> {
    let (final_url, document) = get_signed(state, url).await?;
    let id = id_of(&document).unwrap_or_default().to_string();
    // The document must be the one its server answers for: its id is where
    // it was finally served from, or the URL asked for when no redirect
    // left that server (else an open redirect on one server would let
    // another pass documents off as the first one's).
    let stayed = authority(url) == authority(&final_url) && url.scheme() == final_url.scheme();
    if id == final_url.as_str() || (stayed && id == url.as_str()) {
        return Ok(document);
    }
    // Some servers answer at an alias of the id: fetch the id itself once,
    // if it lives on the same host.
    let same_host = Url::parse(&id)
        .is_ok_and(|u| authority(&u) == authority(&final_url) && u.scheme() == final_url.scheme());
    if same_host {
        let canonical = Url::parse(&id).map_err(|_| FetchError::Json)?;
        if let Ok((again_url, again)) = get_signed(state, &canonical).await
            && (id_of(&again) == Some(canonical.as_str())
                || id_of(&again) == Some(again_url.as_str()))
        {
            return Ok(again);
        }
    }
    Err(FetchError::IdMismatch {
        id,
        url: url.to_string(),
    })
}

/// A signed GET of a document that is not an object with an id of its own
/// to check (a collection page, such as a partial followers collection):
/// only one that stayed on `url`'s host is returned.
pub async fn fetch_document(state: &AppState, url: &Url) -> Result<Value, FetchError> {
    let (final_url, document) = get_signed(state, url).await?;
    crate::prometheus::remote_fetch("collection", true);
    if authority(&final_url) != authority(url) {
        return Err(FetchError::IdMismatch {
            id: final_url.to_string(),
            url: url.to_string(),
        });
    }
    Ok(document)
}

async fn get_signed(state: &AppState, url: &Url) -> Result<(Url, Value), FetchError> {
    let response = get_checked(state, url, AP_ACCEPT, true).await?;
    match response.status {
        StatusCode::GONE => return Err(FetchError::Gone),
        StatusCode::NOT_FOUND => return Err(FetchError::NotFound),
        s if !s.is_success() => return Err(FetchError::Status(s)),
        _ => {}
    }
    let content_type = response
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !is_activitypub_type(&content_type) {
        return Err(FetchError::NotActivityPub(content_type));
    }
    let document: Value = serde_json::from_slice(&response.body).map_err(|_| FetchError::Json)?;
    if !document.is_object() {
        return Err(FetchError::Json);
    }
    Ok((response.url, document))
}

/// A GET that follows redirects itself, so that every hop is held to the
/// domain policy (a redirect must not lead to a blocked server) and a
/// signed request is signed for the URL it is sent to.
async fn get_checked(
    state: &AppState,
    url: &Url,
    accept: &'static str,
    signed: bool,
) -> Result<Fetched, FetchError> {
    let mut url = url.clone();
    for _ in 0..=MAX_REDIRECTS {
        check_policy(state, &url)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        if signed {
            let now = state.clock.now();
            for (name, value) in
                signatures::sign_request("GET", &url, None, &state.instance_key, now)
            {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    headers.insert(HeaderName::from_static(name), value);
                }
            }
        }
        let response = state.http.get_once(&url, headers).await?;
        if !response.status.is_redirection() {
            return Ok(response);
        }
        let next = response
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|location| url.join(location).ok())
            .ok_or(FetchError::Status(response.status))?;
        url = next;
    }
    Err(FetchError::Net(NetError::TooManyRedirects))
}

/// Resolves `user@host` to its actor URL with WebFinger. The `self` link must
/// point to the host that was asked.
pub async fn webfinger(state: &AppState, handle: &Handle) -> Result<Url, FetchError> {
    let result = webfinger_checked(state, handle).await;
    crate::prometheus::remote_fetch("webfinger", result.is_ok());
    result
}

async fn webfinger_checked(state: &AppState, handle: &Handle) -> Result<Url, FetchError> {
    let scheme = state.config.peer_scheme().as_str();
    let mut url = Url::parse(&format!("{scheme}://{}/.well-known/webfinger", handle.host))
        .map_err(|_| FetchError::WebFinger("the host is not valid"))?;
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{}@{}", handle.user, handle.host));
    let response =
        get_checked(state, &url, "application/jrd+json, application/json", false).await?;
    match response.status {
        StatusCode::GONE => return Err(FetchError::Gone),
        StatusCode::NOT_FOUND => return Err(FetchError::NotFound),
        s if !s.is_success() => return Err(FetchError::Status(s)),
        _ => {}
    }
    let jrd: Jrd = serde_json::from_slice(&response.body).map_err(|_| FetchError::Json)?;
    let link = jrd
        .links
        .iter()
        .find(|l| {
            l.rel == REL_SELF
                && l.kind.as_deref().is_some_and(is_activitypub_type_or_plain)
                && l.href.is_some()
        })
        .and_then(|l| l.href.as_deref())
        .ok_or(FetchError::WebFinger("no self link of an ActivityPub type"))?;
    let actor =
        Url::parse(link).map_err(|_| FetchError::WebFinger("the self link is not a URL"))?;
    if authority(&actor) != handle.host {
        return Err(FetchError::WebFinger(
            "the self link points to another host",
        ));
    }
    Ok(actor)
}

/// WebFinger links name the ld+json type without the profile more often
/// than documents do.
fn is_activitypub_type_or_plain(kind: &str) -> bool {
    is_activitypub_type(kind) || kind.trim().starts_with("application/ld+json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_activitypub_media_types_count() {
        assert!(is_activitypub_type("application/activity+json"));
        assert!(is_activitypub_type(
            "application/activity+json; charset=utf-8"
        ));
        assert!(is_activitypub_type(
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""
        ));
        assert!(!is_activitypub_type("application/ld+json"));
        assert!(!is_activitypub_type("application/json"));
        assert!(!is_activitypub_type("text/html"));
    }
}
