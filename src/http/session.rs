//! Browser sessions over HTTP: the session cookie (HttpOnly, SameSite=Lax,
//! Secure whenever the public URL is https), the extractor that finds the
//! signed-in user, the CSRF check every form goes through, and what to tell
//! a browser on plain http that cannot keep Secure cookies.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};

use crate::config::Scheme;
use crate::error::Error;
use crate::http::transport::OverHttps;
use crate::service::sessions::{self, COOKIE, Session};
use crate::state::AppState;

/// The cookie that carries the sign-in form's token before there is a
/// session (login CSRF).
pub const PRE_SESSION_COOKIE: &str = "skein_csrf";

/// The cookie that carries a pending sign-in (a right password waiting for
/// its second factor): short-lived, not a session.
pub const SIGN_IN_CHALLENGE_COOKIE: &str = "skein_two_factor";

/// The value of a cookie, if the request has it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

fn cookies_are_secure(state: &AppState) -> bool {
    state.config.scheme() == Scheme::Https
}

fn secure(state: &AppState) -> &'static str {
    if cookies_are_secure(state) {
        "; Secure"
    } else {
        ""
    }
}

/// A browser on plain http while this instance's cookies are Secure:
/// browsers keep and send those only over https, so no sign-in can work
/// here. Says what the browser opened and where the page really is.
#[derive(Debug, Clone)]
pub struct PlainHttp {
    /// What the browser opened, e.g. `http://192.168.1.5:8080`.
    pub here: String,
    /// The same page at the instance's address, e.g.
    /// `https://social.example/auth/sign_in`.
    pub there: String,
}

/// `Some` when the request came over plain http and this instance's
/// cookies are Secure; `path` (with its query) is the page to send the
/// browser to.
pub fn plain_http(
    state: &AppState,
    over: OverHttps,
    headers: &HeaderMap,
    path: &str,
) -> Option<PlainHttp> {
    if over.0 || !cookies_are_secure(state) {
        return None;
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| !h.is_empty())
        .map_or_else(|| state.urls.domain(), str::to_string);
    Some(PlainHttp {
        here: format!("http://{host}"),
        there: format!("{}{path}", state.urls.origin()),
    })
}

/// `Set-Cookie` for a new session.
pub fn set_session_cookie(state: &AppState, value: &str) -> HeaderValue {
    let max_age = sessions::TTL.num_seconds();
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        secure(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that ends the session cookie.
pub fn clear_session_cookie(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` for the sign-in form's token.
pub fn set_pre_session_cookie(state: &AppState, value: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{PRE_SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600{}",
        secure(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that ends the sign-in form's token once it has served.
pub fn clear_pre_session_cookie(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{PRE_SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` for a pending sign-in, as long as it may wait.
pub fn set_challenge_cookie(state: &AppState, value: &str) -> HeaderValue {
    let max_age = sessions::CHALLENGE_TTL.num_seconds();
    HeaderValue::from_str(&format!(
        "{SIGN_IN_CHALLENGE_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        secure(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that ends a pending sign-in's cookie.
pub fn clear_challenge_cookie(state: &AppState) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SIGN_IN_CHALLENGE_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        secure(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The signed-in user, when there is one.
#[derive(Debug, Clone)]
pub struct MaybeSession(pub Option<Session>);

impl FromRequestParts<AppState> for MaybeSession {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(found) = parts.extensions.get::<MaybeSession>() {
            return Ok(found.clone());
        }
        let found = match cookie(&parts.headers, COOKIE) {
            Some(value) if !value.is_empty() => sessions::find(state, &value).await?,
            _ => None,
        };
        let found = MaybeSession(found);
        parts.extensions.insert(found.clone());
        Ok(found)
    }
}

/// Compares a form's token with the expected one, in constant time.
pub fn check_csrf(expected: &str, given: &str) -> Result<(), Error> {
    let same = expected.len() == given.len()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same && !expected.is_empty() {
        Ok(())
    } else {
        Err(Error::Forbidden(
            "the form has expired; reload the page and try again".into(),
        ))
    }
}
