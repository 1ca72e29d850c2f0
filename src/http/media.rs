//! Uploaded media files (`/media/{file}`), served with the type Skein wrote
//! and headers that keep browsers from reading them as anything else: no
//! sniffing, no scripts, no same-origin powers even if opened directly.
//! With a bucket and `storage.serve = "redirect"`, a redirect to the bucket
//! (presigned) or to its public address instead.

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
