//! Files compiled into the binary: the pictures shown for accounts without
//! an avatar or header (apps expect a URL for both).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::state::AppState;

const AVATAR: &[u8] = include_bytes!("../../static/avatar.png");
const HEADER: &[u8] = include_bytes!("../../static/header.png");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/avatar.png", get(|| async { png(AVATAR) }))
        .route("/static/header.png", get(|| async { png(HEADER) }))
}

fn png(bytes: &'static [u8]) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "public, max-age=604800"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    )
}
