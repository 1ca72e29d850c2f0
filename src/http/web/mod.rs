//! The web interface: server-rendered pages for people who use Skein from a
//! browser, over the same services as the client API. Templates live under
//! `templates/web/` and are compiled in; askama escapes everything except
//! post and bio HTML, which was sanitised (remote) or produced by Skein
//! (local) before it was stored. Every page works without JavaScript;
//! every form is a POST carrying the session's CSRF token and answered
//! with 303 to a page.
//!
//! One file per area: `about` (the instance, its contact and rules),
//! `auth` (sign up, in, out), `home` (front page, home timelines with the
//! For you, Following and Fediverse tabs, Explore, hashtag timelines and
//! following hashtags), `compose` (the composer, threads written at once),
//! `posts` (a post and its thread, likes and reposts), `profiles` (local
//! and remote profiles, following), `search` (the search box, remote
//! interaction links, the composer's autocomplete), `notifications` (the
//! Activity page: grouped notifications with filter tabs; follow
//! requests), `settings`; `cards`
//! turns the client API's entities into what the templates show; `errors`
//! draws failed requests as pages.

mod about;
mod admin;
mod admin_about;
mod admin_accounts;
mod admin_announcements;
mod admin_blocks;
mod admin_domains;
mod admin_emoji;
mod admin_previews;
mod admin_reports;
mod admin_rules;
mod admin_trends;
mod auth;
mod auth_mail;
mod cards;
mod compose;
mod errors;
mod home;
mod notifications;
mod posts;
mod profiles;
mod reports;
mod search;
mod settings;
mod settings_blocks;
mod settings_data;
mod settings_leaving;
mod settings_two_factor;

pub use errors::pages as error_pages;
pub use home::{index, tag};
pub use posts::{post, post_page};
pub use profiles::{ProfileQuery, profile, profile_page};

use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post as post_to};

use crate::error::Error;
use crate::http::session::{self, MaybeSession};
use crate::service::audit::{Role, Staff, Via};
use crate::service::sessions::Session;
use crate::service::types::{Actor, User};
use crate::state::AppState;

/// `upload_limit`: the largest body the composer takes (its form with an
/// image, video or audio file).
pub fn routes(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/about", get(about::about))
        .route("/privacy-policy", get(about::privacy_policy))
        .route("/terms-of-service", get(about::terms_of_service))
        .route("/auth/sign_up", get(auth::sign_up_form).post(auth::sign_up))
        .route("/auth/sign_in", get(auth::sign_in_form).post(auth::sign_in))
        .route(
            "/auth/sign_in/two_factor",
            get(auth::two_factor_form).post(auth::two_factor),
        )
        .route("/auth/sign_out", post_to(auth::sign_out))
        .merge(auth_mail::routes())
        .route("/home", get(home::home))
        .route("/bookmarks", get(home::bookmarks))
        .route(
            "/compose",
            get(compose::page)
                .post(compose::submit)
                .layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/web/statuses/{id}/vote", post_to(posts::vote))
        .route(
            "/web/statuses/{id}/delete",
            get(posts::confirm_delete).post(posts::delete),
        )
        .route("/web/statuses/{id}/{action}", post_to(posts::act))
        .route(
            "/web/accounts/{id}/report",
            get(reports::form).post(reports::submit),
        )
        .route("/web/accounts/{id}/{action}", post_to(profiles::act))
        .route("/search", get(search::search))
        .route("/explore", get(home::explore))
        .route("/web/autocomplete", get(search::autocomplete))
        .route("/web/tags/{tag}/{action}", post_to(home::tag_act))
        .route("/authorize_interaction", get(search::authorize_interaction))
        .route("/notifications", get(notifications::list))
        .route("/follow_requests", get(notifications::follow_requests))
        .route(
            "/web/follow_requests/{id}/{action}",
            post_to(notifications::answer),
        )
        .merge(admin::routes())
        .merge(admin_accounts::routes())
        .merge(admin_domains::routes())
        .merge(admin_emoji::routes())
        .merge(admin_previews::routes())
        .merge(admin_blocks::routes())
        .merge(admin_reports::routes())
        .merge(admin_rules::routes())
        .merge(admin_announcements::routes())
        .merge(admin_about::routes())
        .merge(admin_trends::routes())
        .merge(settings_leaving::routes())
        .merge(settings_data::routes())
        .merge(settings_blocks::routes())
        .merge(settings_two_factor::routes())
        .route(
            "/settings/profile",
            get(settings::profile_form).post(settings::profile),
        )
        .route(
            "/settings/privacy",
            get(settings::privacy_form).post(settings::privacy),
        )
        .route(
            "/settings/password",
            get(settings::password_form).post(settings::password),
        )
}

/// The signed-in person as the page header shows them.
#[derive(Debug, Clone)]
pub struct Me {
    pub username: String,
    pub display_name: String,
    pub avatar: String,
    /// A moderator or admin: the header links to the admin area.
    pub staff: bool,
}

/// What every page's frame needs: the instance's name, who is signed in,
/// the token their forms carry, and where the page is (forms come back
/// here).
#[derive(Debug, Clone)]
pub struct Chrome {
    pub instance_name: String,
    pub viewer: Option<Me>,
    pub csrf_token: String,
    /// This page's path and query, for the forms that return to it.
    pub here: String,
    /// What the search box shows.
    pub query: String,
    /// The longest post, for the composer's counter.
    pub max_characters: usize,
    /// This instance's host, as in handles.
    pub domain: String,
    /// Skein's version, in the stylesheet's and script's addresses.
    pub version: &'static str,
    /// Whether people may sign up here (open or with approval).
    pub sign_up: bool,
    /// Notifications since the signed-in person last read them, as the
    /// header shows them ("" when none; at most "99+").
    pub unread: String,
}

/// Most unread notifications counted for the header.
const UNREAD_SHOWN: i64 = 100;

/// The frame of a page, with the signed-in person's unread notifications
/// counted for the pages that GETs show (a form's POST answers with a
/// redirect, so nothing is counted for it); a failure to count shows none
/// rather than failing the page.
async fn chrome_with_unread(state: &AppState, session: Option<&Session>, parts: &Parts) -> Chrome {
    let mut chrome = chrome(state, session, parts);
    if let Some(session) = session.filter(|_| parts.method == axum::http::Method::GET) {
        let filter = crate::service::notifications::filter(&[], &[], None, false);
        match crate::service::notifications::unread_count(
            state,
            &session.user,
            &session.actor,
            &filter,
            UNREAD_SHOWN,
        )
        .await
        {
            Ok(0) => {}
            Ok(n) if n >= UNREAD_SHOWN => chrome.unread = "99+".into(),
            Ok(n) => chrome.unread = n.to_string(),
            Err(e) => tracing::warn!(error = %e, "counting unread notifications"),
        }
    }
    chrome
}

fn chrome(state: &AppState, session: Option<&Session>, parts: &Parts) -> Chrome {
    let here = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    Chrome {
        instance_name: state.config.instance.name.clone(),
        viewer: session.map(|s| Me {
            username: s.actor.username.clone(),
            display_name: cards::display_name(&s.actor.display_name, &s.actor.username),
            avatar: s
                .actor
                .avatar_url
                .clone()
                .unwrap_or_else(|| crate::http::statics::url("avatar.png")),
            staff: Role::of(&s.user) >= Role::Moderator && !s.user.disabled,
        }),
        csrf_token: session.map(|s| s.csrf_token.clone()).unwrap_or_default(),
        here,
        query: String::new(),
        max_characters: state.config.posts.max_characters,
        domain: state.urls.domain(),
        version: crate::federation::nodeinfo::VERSION,
        sign_up: state.config.registrations != crate::config::Registrations::Closed,
        unread: String::new(),
    }
}

/// A page request, signed in or not.
pub struct Web {
    pub session: Option<Session>,
    pub chrome: Chrome,
}

impl Web {
    pub fn viewer(&self) -> Option<&Actor> {
        self.session.as_ref().map(|s| &s.actor)
    }
}

impl FromRequestParts<AppState> for Web {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let MaybeSession(session) = MaybeSession::from_request_parts(parts, state).await?;
        let chrome = chrome_with_unread(state, session.as_ref(), parts).await;
        Ok(Web { session, chrome })
    }
}

/// A request that needs someone signed in; others are sent to the sign-in
/// page, which brings them back here afterwards.
pub struct SignedIn {
    pub session: Session,
    pub chrome: Chrome,
}

impl SignedIn {
    pub fn actor(&self) -> &Actor {
        &self.session.actor
    }

    pub fn user(&self) -> &User {
        &self.session.user
    }

    /// Refuses a form whose token is not this session's.
    pub fn check(&self, token: &str) -> Result<(), WebError> {
        session::check_csrf(&self.session.csrf_token, token).map_err(WebError::from)
    }
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let MaybeSession(session) = MaybeSession::from_request_parts(parts, state)
            .await
            .map_err(|e| WebError(e).into_response())?;
        let Some(session) = session else {
            let back = if parts.method == axum::http::Method::GET {
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            return Err(see_other(&sign_in_path(&back)));
        };
        let chrome = chrome_with_unread(state, Some(&session), parts).await;
        Ok(SignedIn { session, chrome })
    }
}

/// A signed-in moderator or admin, for the admin area; anyone else signed in
/// gets 403, and people not signed in the sign-in page.
pub struct StaffSession {
    pub me: SignedIn,
    pub staff: Staff,
}

impl FromRequestParts<AppState> for StaffSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let me = SignedIn::from_request_parts(parts, state).await?;
        let staff = Staff::of(me.user(), me.actor(), Role::Moderator, Via::Web)
            .map_err(|e| WebError(e).into_response())?;
        Ok(StaffSession { me, staff })
    }
}

/// The sign-in page, returning to `back` (a local path) afterwards.
fn sign_in_path(back: &str) -> String {
    if back.is_empty() || back == "/" {
        return "/auth/sign_in".into();
    }
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("next", back);
    format!("/auth/sign_in?{}", query.finish())
}

/// `path` when it is a path on this site, else `fallback`: forms and the
/// sign-in page only ever send people back within the site.
pub fn local_path<'a>(path: &'a str, fallback: &'a str) -> &'a str {
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && !path.chars().any(|c| c.is_control() || c == '\\');
    if local { path } else { fallback }
}

/// 303 See Other: where a form's POST goes next.
pub fn see_other(path: &str) -> Response {
    Redirect::to(path).into_response()
}

/// The `max_id` of the next page (the cursor of the last row) when this
/// page came full: the "Older" link of every list.
pub fn older<T>(rows: &[T], limit: i64, cursor: impl Fn(&T) -> i64) -> Option<i64> {
    (rows.len() as i64 >= limit)
        .then(|| rows.last().map(cursor))
        .flatten()
}

/// An error shown as a page.
#[derive(Debug)]
pub struct WebError(pub Error);

impl From<Error> for WebError {
    fn from(e: Error) -> WebError {
        WebError(e)
    }
}

impl From<crate::service::remote_actors::ResolveError> for WebError {
    fn from(e: crate::service::remote_actors::ResolveError) -> WebError {
        WebError(e.into())
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

#[derive(Template)]
#[template(path = "plain_http.html")]
struct PlainHttpPage<'a> {
    instance_name: &'a str,
    plain: &'a session::PlainHttp,
    origin: String,
}

/// The answer to a form that came back over plain http without the cookie
/// it needs, when the browser cannot keep this instance's Secure cookies
/// there: 403, nothing changed, and where to go instead. (The sign-in and
/// OAuth pages share it.)
pub fn plain_http_page(state: &AppState, plain: &session::PlainHttp) -> Response {
    let page = PlainHttpPage {
        instance_name: &state.config.instance.name,
        plain,
        origin: state.urls.origin(),
    };
    render_with(StatusCode::FORBIDDEN, &page).unwrap_or_else(IntoResponse::into_response)
}

/// Renders a page with the headers every page has.
pub fn render(template: &impl Template) -> WebResult {
    render_with(StatusCode::OK, template)
}

pub fn render_with(status: StatusCode, template: &impl Template) -> WebResult {
    let html = template
        .render()
        .map_err(|e| Error::Internal(anyhow::anyhow!("rendering a page: {e}")))?;
    Ok(with_page_headers((status, Html(html)).into_response()))
}

/// No inline script or style runs, even if something slipped through
/// escaping; images may come from any server (remote avatars and media);
/// the web app manifest is this site's.
const CSP: &str = "default-src 'none'; img-src * data:; media-src *; style-src 'self'; \
                   script-src 'self'; connect-src 'self'; manifest-src 'self'; \
                   form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

fn with_page_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Pages differ by who is signed in: no shared cache may keep them.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    response
}

/// Form values of a checkbox: present ("1", "on", "true") or absent.
pub fn checked(value: &Option<String>) -> bool {
    value
        .as_deref()
        .is_some_and(|v| matches!(v, "1" | "on" | "true"))
}

/// Parses an id in a path; anything else is "not found".
pub fn id(raw: &str) -> Result<i64, WebError> {
    raw.parse().map_err(|_| WebError(Error::NotFound))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(
            local_path("/home?tab=fediverse", "/"),
            "/home?tab=fediverse"
        );
        assert_eq!(local_path("//evil.example/", "/"), "/");
        assert_eq!(local_path("/\\evil.example/", "/"), "/");
        assert_eq!(local_path("https://evil.example/", "/"), "/");
        assert_eq!(local_path("/a\nb", "/"), "/");
        assert_eq!(local_path("", "/home"), "/home");
    }

    #[test]
    fn the_sign_in_page_returns_to_the_page_asked_for() {
        assert_eq!(sign_in_path(""), "/auth/sign_in");
        assert_eq!(
            sign_in_path("/home?tab=fediverse"),
            "/auth/sign_in?next=%2Fhome%3Ftab%3Dfediverse"
        );
    }
}
