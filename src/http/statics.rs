//! Files compiled into the binary: the pictures shown for accounts without
//! an avatar or header (apps expect a URL for both), the web interface's
//! stylesheet and script, its icons, and the web app manifest that lets a
//! phone install the site as an app.
//!
//! `favicon.svg` is the icon's source; `favicon.ico` (16 and 32 pixels) and
//! `icon-192.png`, `icon-512.png` (drawn edge to edge with the mark inside
//! the middle 80%, so that a phone may cut them to any shape) were drawn
//! from it by a headless browser.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use crate::state::AppState;

const AVATAR: &[u8] = include_bytes!("../../static/avatar.png");
const HEADER: &[u8] = include_bytes!("../../static/header.png");
const STYLESHEET: &str = include_str!("../../static/skein.css");
const SCRIPT: &str = include_str!("../../static/skein.js");
const FAVICON_SVG: &str = include_str!("../../static/favicon.svg");
const FAVICON_ICO: &[u8] = include_bytes!("../../static/favicon.ico");
const ICON_192: &[u8] = include_bytes!("../../static/icon-192.png");
const ICON_512: &[u8] = include_bytes!("../../static/icon-512.png");

/// The colours of the page behind the app while it opens and around it
/// (the stylesheet's light `--bg`; pages name the dark one themselves).
const THEME_COLOUR: &str = "#ffffff";

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
        .route(
            "/static/favicon.svg",
            get(|| async { file("image/svg+xml", FAVICON_SVG.as_bytes()) }),
        )
        .route(
            "/static/icon-192.png",
            get(|| async { file("image/png", ICON_192) }),
        )
        .route(
            "/static/icon-512.png",
            get(|| async { file("image/png", ICON_512) }),
        )
        // Browsers ask for it by this name, with no page to point them
        // elsewhere (a JSON document, a feed reader).
        .route(
            "/favicon.ico",
            get(|| async { unversioned("image/x-icon", FAVICON_ICO.to_vec()) }),
        )
        .route("/manifest.webmanifest", get(manifest))
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

/// A day of caching, for what is fetched at a fixed address.
fn unversioned(content_type: &'static str, body: Vec<u8>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}

/// `GET /manifest.webmanifest`: the Web App Manifest
/// (<https://www.w3.org/TR/appmanifest/>), named after the instance; an
/// installed app opens on the home timeline.
async fn manifest(State(state): State<AppState>) -> impl IntoResponse {
    let name = match state.config.instance.name.trim() {
        "" => "Skein",
        name => name,
    };
    let mut manifest = json!({
        "id": "/",
        "name": name,
        "short_name": short_name(name),
        "lang": "en",
        "start_url": "/home",
        "scope": "/",
        "display": "standalone",
        "background_color": THEME_COLOUR,
        "theme_color": THEME_COLOUR,
        "icons": [
            { "src": "/static/favicon.svg", "type": "image/svg+xml", "sizes": "any", "purpose": "any" },
            { "src": "/static/icon-192.png", "type": "image/png", "sizes": "192x192", "purpose": "any" },
            { "src": "/static/icon-512.png", "type": "image/png", "sizes": "512x512", "purpose": "any" },
            { "src": "/static/icon-512.png", "type": "image/png", "sizes": "512x512", "purpose": "maskable" },
        ],
    });
    let description = state.config.instance.description.trim();
    if !description.is_empty() {
        manifest["description"] = json!(description);
    }
    unversioned(
        "application/manifest+json",
        manifest.to_string().into_bytes(),
    )
}

/// The name under an installed app's icon, where about 12 characters fit:
/// the whole name when it fits, else its first word when that does, else
/// its first 12 characters.
fn short_name(name: &str) -> String {
    const FITS: usize = 12;
    if name.chars().count() <= FITS {
        return name.to_string();
    }
    match name.split_whitespace().next() {
        Some(word) if word.chars().count() <= FITS => word.to_string(),
        _ => name
            .chars()
            .take(FITS)
            .collect::<String>()
            .trim_end()
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_short_name_fits_under_an_icon() {
        assert_eq!(short_name("Skein"), "Skein");
        assert_eq!(short_name("Knitters' Hub"), "Knitters'");
        assert_eq!(short_name("Supercalifragilistic social"), "Supercalifra");
    }
}
