//! `POST /inbox`, `POST /users/{username}/inbox` and `POST /actor/inbox`:
//! the body is read with a size cap and a time limit, then handed to the
//! inbox service, which checks the signature and applies the activity.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::{Error, Result};
use crate::http::AppState;
use crate::service::inbox::{self, Inbox, Incoming};

/// The largest activity accepted (Mastodon's limit for JSON-LD documents).
pub const MAX_ACTIVITY_BYTES: usize = 1024 * 1024;
/// How long a peer may take to send the body.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn shared(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    receive(state, Inbox::Shared, uri, headers, body).await
}

pub async fn person(
    State(state): State<AppState>,
    Path(username): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    receive(state, Inbox::Person(username), uri, headers, body).await
}

pub async fn instance_actor(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    receive(state, Inbox::InstanceActor, uri, headers, body).await
}

async fn receive(
    state: AppState,
    inbox: Inbox,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_ACTIVITY_BYTES) {
        return Err(Error::PayloadTooLarge);
    }
    let bytes =
        match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_ACTIVITY_BYTES))
            .await
        {
            Err(_) => return Err(Error::Timeout),
            Ok(Err(_)) => return Err(Error::PayloadTooLarge),
            Ok(Ok(bytes)) => bytes,
        };
    let header = |name: &str| -> Option<String> {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    inbox::receive(
        &state,
        Incoming {
            inbox,
            path: uri.path(),
            query: uri.query(),
            header: &header,
            body: &bytes,
        },
    )
    .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
