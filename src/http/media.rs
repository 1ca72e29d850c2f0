//! Uploaded media files (`/media/{file}`), served with the type Skein wrote
//! and headers that keep browsers from reading them as anything else: no
//! sniffing, no scripts, no same-origin powers even if opened directly.
//! With a bucket and `storage.serve = "redirect"`, a redirect to the bucket
//! (presigned) or to its public address instead.
//!
//! `/media_proxy/{token}` (and `.../small`, the preview) names a cached
//! remote file whatever its stored name: it redirects to the stored file,
//! downloads a pruned one again first, or redirects to the remote URL
//! while there is no copy (`service::remote_media::proxy`).

use crate::error::Result;
use crate::service::media::{self, Served};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// File names are random and a file never changes: caches may keep it.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";
const LOCKED_DOWN: &str = "default-src 'none'; sandbox";

pub async fn file(State(state): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    let file = match media::open(&state, &name).await? {
        Served::File(file) => file,
        Served::Redirect { url, max_age } => {
            let location = HeaderValue::try_from(url)
                .map_err(|e| anyhow::anyhow!("a media redirect is no header value: {e}"))?;
            let cache = HeaderValue::try_from(format!("public, max-age={max_age}"))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            return Ok((
                StatusCode::FOUND,
                [(header::LOCATION, location), (header::CACHE_CONTROL, cache)],
            )
                .into_response());
        }
    };
    let mut response = Body::from_stream(file.body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(file.length));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(LOCKED_DOWN),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_FOREVER),
    );
    Ok(response)
}

/// How long a browser may keep a media proxy's redirect: the file it leads
/// to may be pruned and fetched again under another name.
const PROXY_REDIRECT_CACHE: &str = "public, max-age=3600";

pub async fn proxy(State(state): State<AppState>, Path(token): Path<String>) -> Result<Response> {
    proxy_to(&state, &token, false).await
}

pub async fn proxy_small(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response> {
    proxy_to(&state, &token, true).await
}

async fn proxy_to(state: &AppState, token: &str, small: bool) -> Result<Response> {
    let url = crate::service::remote_media::proxy(state, token, small).await?;
    // A remote URL as it was given may hold characters a header cannot.
    let url = url::Url::parse(&url).map_or(url, String::from);
    let location = HeaderValue::try_from(url)
        .map_err(|e| anyhow::anyhow!("a media proxy redirect is no header value: {e}"))?;
    Ok((
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static(PROXY_REDIRECT_CACHE),
            ),
        ],
    )
        .into_response())
}
