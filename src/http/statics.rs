//! Files compiled into the binary: the pictures shown for accounts without
//! an avatar or header (apps expect a URL for both), and the web
//! interface's stylesheet and script.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

const AVATAR: &[u8] = include_bytes!("../../static/avatar.png");
const HEADER: &[u8] = include_bytes!("../../static/header.png");
const STYLESHEET: &str = include_str!("../../static/skein.css");
const SCRIPT: &str = include_str!("../../static/skein.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/static/avatar.png",
            get(|| async { file("image/png", AVATAR) }),
        )
        .route(
            "/static/header.png",
            get(|| async { file("image/png", HEADER) }),
        )
        .route(
            "/static/skein.css",
            get(|| async { file("text/css; charset=utf-8", STYLESHEET.as_bytes()) }),
        )
        .route(
            "/static/skein.js",
            get(|| async { file("text/javascript; charset=utf-8", SCRIPT.as_bytes()) }),
        )
}

/// A week of caching: pages link the stylesheet and script with the
/// version in the query, so an upgrade is fetched at once.
fn file(content_type: &'static str, bytes: &'static [u8]) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=604800"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
}
