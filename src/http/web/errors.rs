//! Error pages: what a browser is shown when a request fails, in the
//! site's frame with the signed-in person's header.
//!
//! A web handler's error (`WebError`) says what went wrong in words and is
//! always shown as a page. Any other error (an unknown path, a JSON error of
//! a URL that also serves browsers, a rejected form) becomes a page when
//! the request prefers HTML (`negotiate::prefers_html`: browsers), outside
//! the client API; apps and servers keep Mastodon's JSON errors. The
//! `pages` layer does both after the handler has answered, so the session
//! is read there, as every page reads it.

use std::time::Duration;

use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::{Chrome, WebError, chrome_with_unread, render_with, with_page_headers};
use crate::error::Error;
use crate::http::negotiate::prefers_html;
use crate::http::session::MaybeSession;
use crate::state::AppState;

/// What a failed request is told, carried from the handler's response to
/// the layer that draws the page.
#[derive(Debug, Clone)]
struct Described {
    title: &'static str,
    message: String,
}

impl Described {
    fn of(error: &Error) -> Described {
        let (title, message) = match error {
            Error::NotFound => (
                "Not found",
                "This page does not exist, or you may not see it.".to_string(),
            ),
            Error::Gone => ("Gone", "This was deleted.".to_string()),
            Error::TooManyRequests => (
                "Too many requests",
                "Too many attempts; wait a while and try again.".to_string(),
            ),
            Error::Forbidden(_) => ("Not allowed", error.public_message()),
            Error::StorageUnavailable(_) => (
                "Try again later",
                "Images cannot be stored or read right now; try again in a few minutes."
                    .to_string(),
            ),
            Error::Database(_) | Error::Internal(_) => (
                "Something went wrong",
                "Something went wrong on this server; try again later.".to_string(),
            ),
            _ => ("Something is not right", error.public_message()),
        };
        Described { title, message }
    }

    /// Words for an error that came without any (a JSON error, or one of
    /// axum's own rejections), by its status.
    fn of_status(status: StatusCode) -> Described {
        let (title, message) = match status {
            StatusCode::NOT_FOUND => (
                "Not found",
                "This page does not exist, or you may not see it.",
            ),
            StatusCode::GONE => ("Gone", "This was deleted."),
            StatusCode::FORBIDDEN => ("Not allowed", "You may not see this page."),
            // Pages send people to sign in; what answers 401 is for apps
            // and servers (a token, a signature).
            StatusCode::UNAUTHORIZED => (
                "Not allowed",
                "This address is for apps and servers that say who they are; there is no page here.",
            ),
            StatusCode::METHOD_NOT_ALLOWED => (
                "Not found",
                "This address is not a page; follow a link or a button to it instead.",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => ("Too large", "What was sent is too large."),
            StatusCode::REQUEST_TIMEOUT => {
                ("Too slow", "This took too long; try again in a moment.")
            }
            StatusCode::TOO_MANY_REQUESTS => (
                "Too many requests",
                "Too many attempts; wait a while and try again.",
            ),
            s if s.is_server_error() => (
                "Something went wrong",
                "Something went wrong on this server; try again later.",
            ),
            _ => (
                "Something is not right",
                "This request could not be answered; go back and try again.",
            ),
        };
        Described {
            title,
            message: message.to_string(),
        }
    }
}

/// An error in the site's frame.
#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage {
    chrome: Chrome,
    title: &'static str,
    message: String,
    /// Signing in may show what was not found or not allowed.
    suggest_sign_in: bool,
}

/// The error alone, for when the frame cannot be drawn.
#[derive(Template)]
#[template(path = "web/error_bare.html")]
struct BarePage<'a> {
    title: &'a str,
    message: &'a str,
}

fn bare(status: StatusCode, described: &Described) -> Response {
    let page = BarePage {
        title: described.title,
        message: &described.message,
    };
    match page.render() {
        Ok(html) => with_page_headers((status, Html(html)).into_response()),
        Err(_) => status.into_response(),
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let error = self.0;
        let status = error.status();
        if status.is_server_error() {
            tracing::error!(error = ?error, "request failed");
        }
        let described = Described::of(&error);
        let mut response = bare(status, &described);
        response.extensions_mut().insert(described);
        response
    }
}

/// How long the header of an error page may take to read (the session and
/// the unread count): an error may come from a database that is not
/// answering, and the page must not wait on it.
const HEADER_WAIT: Duration = Duration::from_secs(2);

/// The layer that turns failed requests into pages (see the module's
/// documentation); every other response passes as it is.
pub async fn pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let wants_page = !request.uri().path().starts_with("/api/") && prefers_html(request.headers());
    let method = request.method().clone();
    let uri = request.uri().clone();
    let cookies: Vec<HeaderValue> = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .cloned()
        .collect();
    let response = next.run(request).await;

    let status = response.status();
    // A page in place of JSON or text at the same address: it varies with
    // Accept, since apps get JSON there.
    let (described, negotiated) = match response.extensions().get::<Described>() {
        Some(described) => (described.clone(), false),
        None if wants_page
            && (status.is_client_error() || status.is_server_error())
            && !is_html(response.headers()) =>
        {
            (Described::of_status(status), true)
        }
        None => return response,
    };
    let chrome = match tokio::time::timeout(HEADER_WAIT, frame(&state, method, uri, cookies)).await
    {
        Ok(chrome) => chrome,
        Err(_) => {
            tracing::warn!("the header of an error page took too long");
            return keep_headers(&response, bare(status, &described), negotiated);
        }
    };
    let page = ErrorPage {
        suggest_sign_in: chrome.viewer.is_none()
            && matches!(status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
        chrome,
        title: described.title,
        message: described.message.clone(),
    };
    let shown = match render_with(status, &page) {
        Ok(shown) => shown,
        Err(e) => {
            tracing::error!(error = ?e.0, "rendering an error page");
            bare(status, &described)
        }
    };
    keep_headers(&response, shown, negotiated)
}

/// The frame of the page, as the request that failed would have had it; a
/// session that cannot be read shows the page signed out.
async fn frame(state: &AppState, method: Method, uri: Uri, cookies: Vec<HeaderValue>) -> Chrome {
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.method = method;
    parts.uri = uri;
    for cookie in cookies {
        parts.headers.append(header::COOKIE, cookie);
    }
    let session = MaybeSession::from_request_parts(&mut parts, state)
        .await
        .ok()
        .and_then(|found| found.0);
    chrome_with_unread(state, session.as_ref(), &parts).await
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// The page keeps what the failed response said beyond its body: which
/// methods the address takes, when to try again, cookies it set.
fn keep_headers(failed: &Response, mut page: Response, negotiated: bool) -> Response {
    let headers = page.headers_mut();
    for name in [
        header::ALLOW,
        header::RETRY_AFTER,
        header::SET_COOKIE,
        header::WWW_AUTHENTICATE,
    ] {
        for value in failed.headers().get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    if negotiated {
        headers.append(header::VARY, HeaderValue::from_static("Accept"));
    }
    page
}
