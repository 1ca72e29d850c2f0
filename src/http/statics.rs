//! Files compiled into the binary: the pictures shown for accounts without
//! an avatar or header (apps expect a URL for both), the web interface's
//! stylesheet and script, its icons, and the web app manifest that lets a
//! phone install the site as an app.
//!
//! `favicon.svg` is the icon's source; `favicon.ico` (16 and 32 pixels) and
//! `icon-192.png`, `icon-512.png` (drawn edge to edge with the mark inside
//! the middle 80%, so that a phone may cut them to any shape) were drawn
//! from it by a headless browser.
//!
//! Pages link every file by a content-hashed address (`url`), served as
//! immutable for a year; the plain address keeps working, cached for a day.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::state::AppState;

const FAVICON_ICO: &[u8] = include_bytes!("../../static/favicon.ico");

/// Every file under `/static/`: (name, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "avatar.png",
        "image/png",
        include_bytes!("../../static/avatar.png"),
    ),
    (
        "header.png",
        "image/png",
        include_bytes!("../../static/header.png"),
    ),
    (
        "skein.css",
        "text/css; charset=utf-8",
        include_bytes!("../../static/skein.css"),
    ),
    (
        "skein.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../static/skein.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../static/favicon.svg"),
    ),
    (
        "icon-192.png",
        "image/png",
        include_bytes!("../../static/icon-192.png"),
    ),
    (
        "icon-512.png",
        "image/png",
        include_bytes!("../../static/icon-512.png"),
    ),
];

/// How long a hashed address is kept: a year, never revalidated (its
/// content cannot change under it).
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The plain names (`/static/skein.css`) stay served for what links them
/// from outside (apps, old pages), revalidated after a day.
const PLAIN: &str = "public, max-age=86400";

struct Asset {
    content_type: &'static str,
    bytes: &'static [u8],
    /// `/static/skein.0123456789abcdef.css`
    url: String,
    /// `skein.0123456789abcdef.css`
    hashed_name: String,
}

/// The files by their plain name, each with its content-hashed address
/// (the first 16 hex digits of the SHA-256 of its bytes, before the
/// extension), computed once.
static ASSETS: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, content_type, bytes)| {
            let digest = Sha256::digest(bytes);
            let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            let hashed_name = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            let asset = Asset {
                content_type,
                bytes,
                url: format!("/static/{hashed_name}"),
                hashed_name,
            };
            (name, asset)
        })
        .collect()
});

/// The content-hashed address of a file under `/static/` (`name` as in
/// `static/`, e.g. `skein.css`), which pages link so that browsers keep
/// it for a year and fetch a changed file at once. An unknown name gives
/// its plain address.
pub fn url(name: &str) -> String {
    match ASSETS.get(name) {
        Some(asset) => asset.url.clone(),
        None => format!("/static/{name}"),
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/{file}", get(file))
        // Browsers ask for it by this name, with no page to point them
        // elsewhere (a JSON document, a feed reader).
        .route(
            "/favicon.ico",
            get(|| async { unversioned("image/x-icon", FAVICON_ICO.to_vec()) }),
        )
        .route("/manifest.webmanifest", get(manifest))
        .route("/robots.txt", get(robots))
}

/// `GET /static/{name}` and `GET /static/{stem}.{hash}.{ext}`: the
/// hashed address is cached for good; the plain one for a day. A hash
/// that is not the file's (a page from before an upgrade) gets today's
/// file, not to be kept.
async fn file(Path(requested): Path<String>) -> Response {
    let (asset, cache) = match ASSETS.get(requested.as_str()) {
        Some(asset) => (asset, PLAIN),
        None => match hashed(&requested) {
            Some(asset) if asset.hashed_name == requested => (asset, IMMUTABLE),
            Some(asset) => (asset, "no-cache"),
            None => return crate::error::Error::NotFound.into_response(),
        },
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.bytes,
    )
        .into_response()
}

/// The file behind `stem.{16 hex digits}.ext`, whatever the digits.
fn hashed(requested: &str) -> Option<&'static Asset> {
    let (rest, ext) = requested.rsplit_once('.')?;
    let (stem, hash) = rest.rsplit_once('.')?;
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    ASSETS.get(format!("{stem}.{ext}").as_str())
}

/// A day of caching, for what is fetched at a fixed address.
fn unversioned(content_type: &'static str, body: Vec<u8>) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, PLAIN),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
}

/// `GET /robots.txt`: crawlers may read public pages (each says
/// `noindex` unless its account opted in); they are kept out of the
/// media proxy, the interaction and sign-in pages, forms' endpoints, the
/// APIs and search results. The signed-in areas (`/home`, settings, the
/// admin area) are not listed: a crawler is only ever sent from them to the
/// sign-in page, which is, and listing them would mark the pages a browser
/// shows as blocked from indexing (Lighthouse's SEO check), as Mastodon's
/// own file does not.
async fn robots() -> Response {
    const ROBOTS: &str = "\
User-agent: *
Disallow: /media_proxy/
Disallow: /authorize_interaction
Disallow: /auth/
Disallow: /oauth/
Disallow: /api/
Disallow: /web/
Disallow: /search
";
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, PLAIN),
        ],
        ROBOTS,
    )
        .into_response()
}

/// The colours of the page behind the app while it opens and around it
/// (the stylesheet's light `--bg`; pages name the dark one themselves).
const THEME_COLOUR: &str = "#ffffff";

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
            { "src": url("favicon.svg"), "type": "image/svg+xml", "sizes": "any", "purpose": "any" },
            { "src": url("icon-192.png"), "type": "image/png", "sizes": "192x192", "purpose": "any" },
            { "src": url("icon-512.png"), "type": "image/png", "sizes": "512x512", "purpose": "any" },
            { "src": url("icon-512.png"), "type": "image/png", "sizes": "512x512", "purpose": "maskable" },
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
    fn hashed_addresses_name_the_files_content() {
        let css = url("skein.css");
        assert!(
            css.starts_with("/static/skein.") && css.ends_with(".css"),
            "{css}"
        );
        assert_eq!(css.len(), "/static/skein..css".len() + 16);
        let name = css.trim_start_matches("/static/");
        assert!(hashed(name).is_some());
        assert!(hashed("skein.css").is_none());
        assert!(hashed("skein.0123456789abcdeg.css").is_none());
        assert_eq!(url("nothing.txt"), "/static/nothing.txt");
    }

    #[test]
    fn the_short_name_fits_under_an_icon() {
        assert_eq!(short_name("Skein"), "Skein");
        assert_eq!(short_name("Knitters' Hub"), "Knitters'");
        assert_eq!(short_name("Supercalifragilistic social"), "Supercalifra");
    }
}
