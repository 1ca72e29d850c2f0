//! Content negotiation between ActivityPub JSON and HTML on URLs that serve
//! both (actors, posts), by the quality values of the Accept header; and
//! whether an error is answered with a page (`prefers_html`).

use axum::http::{HeaderMap, header::ACCEPT};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    ActivityJson,
    Html,
}

/// ActivityPub JSON when the client prefers `application/activity+json`,
/// `application/ld+json` (with or without the ActivityStreams profile) or
/// `application/json` at least as much as HTML; HTML otherwise, including
/// for a missing header or `*/*`.
pub fn negotiate(headers: &HeaderMap) -> Representation {
    let (mut ap, mut html) = (0.0f32, 0.0f32);
    for (media, q) in media_ranges(headers) {
        match media.as_str() {
            "application/activity+json" | "application/ld+json" | "application/json" => {
                ap = ap.max(q)
            }
            "text/html" | "application/xhtml+xml" | "text/*" | "*/*" => html = html.max(q),
            _ => {}
        }
    }
    if ap > 0.0 && ap >= html {
        Representation::ActivityJson
    } else {
        Representation::Html
    }
}

/// Whether the client asks for HTML by name, and for no JSON as much:
/// browsers do (`text/html,application/xhtml+xml,...,*/*;q=0.8`); apps,
/// servers, `fetch()` and curl (`*/*` or no header) do not. Errors are
/// answered with a page only then, and with JSON otherwise.
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let (mut json, mut html) = (0.0f32, 0.0f32);
    for (media, q) in media_ranges(headers) {
        match media.as_str() {
            "application/activity+json" | "application/ld+json" | "application/json" => {
                json = json.max(q)
            }
            "text/html" | "application/xhtml+xml" => html = html.max(q),
            _ => {}
        }
    }
    html > 0.0 && html > json
}

/// The media ranges of the Accept headers, lower-cased, with their quality.
fn media_ranges(headers: &HeaderMap) -> Vec<(String, f32)> {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|range| {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (media, q)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_accept(value: &str) -> Representation {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).expect("header"));
        negotiate(&headers)
    }

    #[test]
    fn activitypub_clients_get_json() {
        assert_eq!(
            with_accept("application/activity+json"),
            Representation::ActivityJson
        );
        assert_eq!(
            with_accept("application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""),
            Representation::ActivityJson
        );
        assert_eq!(
            with_accept("application/activity+json, application/ld+json"),
            Representation::ActivityJson
        );
    }

    fn html_preferred(value: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_str(value).expect("header"));
        prefers_html(&headers)
    }

    #[test]
    fn only_clients_that_name_html_first_prefer_it() {
        assert!(html_preferred(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(html_preferred("application/json;q=0.5, text/html"));
        assert!(!prefers_html(&HeaderMap::new()));
        assert!(!html_preferred("*/*"));
        assert!(!html_preferred("application/json"));
        assert!(!html_preferred("application/json, text/html"));
        assert!(!html_preferred(
            "application/activity+json, text/html;q=0.9"
        ));
        assert!(!html_preferred("text/html;q=0"));
    }

    #[test]
    fn browsers_and_curl_get_html() {
        assert_eq!(negotiate(&HeaderMap::new()), Representation::Html);
        assert_eq!(with_accept("*/*"), Representation::Html);
        assert_eq!(
            with_accept("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Representation::Html
        );
        assert_eq!(
            with_accept("application/activity+json;q=0.5, text/html"),
            Representation::Html
        );
    }
}
