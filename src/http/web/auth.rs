//! Signing up, in (with a second step for accounts with two-factor
//! authentication) and out from a browser. Before there is a session the
//! forms carry a token that must match a short-lived cookie (login CSRF, as
//! the OAuth sign-in page does); signing out carries the session's token.
//! Sign-in attempts are limited per address by `service::sessions`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Chrome, Web, WebResult, local_path, render_with, see_other};
use crate::config::Registrations;
use crate::error::Error;
use crate::http::client_ip::ClientIp;
use crate::http::session::{self, MaybeSession, PRE_SESSION_COOKIE, PlainHttp};
use crate::http::transport::OverHttps;
use crate::service::{accounts, oauth, rules, sessions};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    form_token: String,
    login: String,
    next: String,
    error: Option<String>,
    /// Set when this browser cannot keep the sign-in cookie here.
    plain_http: Option<PlainHttp>,
    /// E-mail is configured: the page links to the password reset and to
    /// the confirmation e-mail sent again.
    mail: bool,
}

#[derive(Template)]
#[template(path = "web/sign_in_two_factor.html")]
struct TwoFactorPage {
    chrome: Chrome,
    form_token: String,
    next: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "web/sign_up.html")]
struct SignUpPage {
    chrome: Chrome,
    form_token: String,
    /// "open", "approval" or "closed".
    mode: &'static str,
    username: String,
    email: String,
    reason: String,
    /// The instance's rules; the form asks to accept them when there are
    /// any.
    rules: Vec<RuleView>,
    error: Option<String>,
    /// Set when this browser cannot keep the sign-in cookie here.
    plain_http: Option<PlainHttp>,
}

/// One of the instance's rules as pages show it.
pub struct RuleView {
    pub text: String,
    pub hint: String,
}

/// The instance's rules, in their order, as pages show them.
pub async fn rule_views(state: &AppState) -> Result<Vec<RuleView>, Error> {
    Ok(rules::list(&state.db)
        .await?
        .into_iter()
        .map(|r| RuleView {
            text: r.text,
            hint: r.hint,
        })
        .collect())
}

#[derive(Template)]
#[template(path = "web/sign_up_done.html")]
struct SignUpDonePage {
    chrome: Chrome,
    username: String,
    /// A confirmation link was mailed.
    confirm_email: bool,
    approved: bool,
}

/// A page with a fresh pre-session token, set as a cookie alongside.
pub(super) fn with_form_token(
    state: &AppState,
    status: StatusCode,
    token: &str,
    page: &impl Template,
) -> WebResult {
    let mut response = render_with(status, page)?;
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_pre_session_cookie(state, token),
    );
    Ok(response)
}

/// Checks a form's token against its cookie: `Some` answer when the form
/// is refused. A cookie missing because the browser cannot keep it here
/// (plain http, Secure cookies) is answered with the page that says where
/// to go instead of "the form has expired"; `form` is the path of the
/// form's page.
pub(super) fn refuse_form(
    state: &AppState,
    over: OverHttps,
    headers: &HeaderMap,
    given: &str,
    form: &str,
) -> Option<Response> {
    let expected = session::cookie(headers, PRE_SESSION_COOKIE).filter(|v| !v.is_empty());
    if expected.is_none()
        && let Some(plain) = session::plain_http(state, over, headers, form)
    {
        return Some(super::plain_http_page(state, &plain));
    }
    session::check_csrf(&expected.unwrap_or_default(), given)
        .err()
        .map(|e| super::WebError(e).into_response())
}

/// The path and query this page was asked with.
pub(super) fn here(uri: &Uri) -> &str {
    uri.path_and_query().map_or("/", |p| p.as_str())
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// A response that signs the browser in with `cookie` and goes to `to`.
fn signed_in(state: &AppState, cookie: &str, to: &str) -> Response {
    let mut response = see_other(to);
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session::set_session_cookie(state, cookie),
    );
    headers.append(header::SET_COOKIE, session::clear_pre_session_cookie(state));
    response
}

#[derive(Deserialize, Default)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// `GET /auth/sign_in`
pub async fn sign_in_form(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> WebResult {
    if web.session.is_some() {
        return Ok(see_other(local_path(&q.next, "/home")));
    }
    let token = oauth::new_secret();
    let page = SignInPage {
        chrome: web.chrome,
        form_token: token.clone(),
        login: String::new(),
        next: local_path(&q.next, "").to_string(),
        error: None,
        plain_http: session::plain_http(&state, over, &headers, here(&uri)),
        mail: crate::service::mail::enabled(&state),
    };
    with_form_token(&state, StatusCode::OK, &token, &page)
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /auth/sign_in`
pub async fn sign_in(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignInForm>,
) -> WebResult {
    if let Some(refused) = refuse_form(&state, over, &headers, &form.csrf_token, "/auth/sign_in") {
        return Ok(refused);
    }
    let client = sessions::Client {
        ip: &ip,
        user_agent: user_agent(&headers),
    };
    match sessions::sign_in(&state, &form.login, &form.password, client).await {
        Ok(sessions::SignIn::Done(cookie, _)) => {
            Ok(signed_in(&state, &cookie, local_path(&form.next, "/home")))
        }
        Ok(sessions::SignIn::SecondFactor(challenge)) => {
            let mut response =
                two_factor_page(&state, web.chrome, &form.next, None, StatusCode::OK)?;
            response.headers_mut().append(
                header::SET_COOKIE,
                session::set_challenge_cookie(&state, &challenge),
            );
            Ok(response)
        }
        Err(e) if e.status().is_client_error() => {
            let token = oauth::new_secret();
            let page = SignInPage {
                chrome: web.chrome,
                form_token: token.clone(),
                login: form.login,
                next: local_path(&form.next, "").to_string(),
                error: Some(e.public_message()),
                plain_http: None,
                mail: crate::service::mail::enabled(&state),
            };
            with_form_token(&state, e.status(), &token, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// The second step of signing in: the code of an account with two-factor
/// authentication, with a fresh form token.
fn two_factor_page(
    state: &AppState,
    chrome: Chrome,
    next: &str,
    error: Option<String>,
    status: StatusCode,
) -> WebResult {
    let token = oauth::new_secret();
    let page = TwoFactorPage {
        chrome,
        form_token: token.clone(),
        next: local_path(next, "").to_string(),
        error,
    };
    with_form_token(state, status, &token, &page)
}

#[derive(Deserialize)]
pub struct TwoFactorForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
}

/// `GET /auth/sign_in/two_factor`: the step is only reached by signing
/// in.
pub async fn two_factor_form(Query(q): Query<Next>) -> WebResult {
    let next = local_path(&q.next, "");
    Ok(see_other(&if next.is_empty() {
        "/auth/sign_in".to_string()
    } else {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("next", next);
        format!("/auth/sign_in?{}", query.finish())
    }))
}

/// `POST /auth/sign_in/two_factor`: the code (or a recovery code) that
/// finishes a pending sign-in. A wrong code asks again; an ended pending
/// sign-in goes back to the sign-in form.
pub async fn two_factor(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(form): axum::Form<TwoFactorForm>,
) -> WebResult {
    if let Some(refused) = refuse_form(&state, over, &headers, &form.csrf_token, "/auth/sign_in") {
        return Ok(refused);
    }
    let challenge =
        session::cookie(&headers, session::SIGN_IN_CHALLENGE_COOKIE).unwrap_or_default();
    let client = sessions::Client {
        ip: &ip,
        user_agent: user_agent(&headers),
    };
    let outcome = if challenge.is_empty() {
        Ok(sessions::SecondStep::Expired)
    } else {
        sessions::second_factor(&state, &challenge, &form.code, client).await
    };
    match outcome {
        Ok(sessions::SecondStep::Done(cookie, _)) => {
            let mut response = signed_in(&state, &cookie, local_path(&form.next, "/home"));
            response
                .headers_mut()
                .append(header::SET_COOKIE, session::clear_challenge_cookie(&state));
            Ok(response)
        }
        Ok(sessions::SecondStep::Expired) => {
            let token = oauth::new_secret();
            let page = SignInPage {
                chrome: web.chrome,
                form_token: token.clone(),
                login: String::new(),
                next: local_path(&form.next, "").to_string(),
                error: Some("the sign-in has expired; sign in again".into()),
                plain_http: None,
                mail: crate::service::mail::enabled(&state),
            };
            let mut response = with_form_token(&state, StatusCode::UNAUTHORIZED, &token, &page)?;
            response
                .headers_mut()
                .append(header::SET_COOKIE, session::clear_challenge_cookie(&state));
            Ok(response)
        }
        Err(e) if e.status().is_client_error() => two_factor_page(
            &state,
            web.chrome,
            &form.next,
            Some(e.public_message()),
            e.status(),
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /auth/sign_out`
pub async fn sign_out(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignInForm>,
) -> WebResult {
    let Some(current) = current else {
        return Ok(see_other("/"));
    };
    session::check_csrf(&current.csrf_token, &form.csrf_token)?;
    if let Some(cookie) = session::cookie(&headers, sessions::COOKIE) {
        sessions::sign_out(&state, &cookie).await?;
    }
    let mut response = see_other("/");
    response
        .headers_mut()
        .append(header::SET_COOKIE, session::clear_session_cookie(&state));
    Ok(response)
}

fn mode(state: &AppState) -> &'static str {
    match state.config.registrations {
        Registrations::Open => "open",
        Registrations::Approval => "approval",
        Registrations::Closed => "closed",
    }
}

/// `GET /auth/sign_up`
pub async fn sign_up_form(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    headers: HeaderMap,
) -> WebResult {
    if web.session.is_some() {
        return Ok(see_other("/home"));
    }
    let token = oauth::new_secret();
    let page = SignUpPage {
        chrome: web.chrome,
        form_token: token.clone(),
        mode: mode(&state),
        username: String::new(),
        email: String::new(),
        reason: String::new(),
        rules: rule_views(&state).await?,
        error: None,
        plain_http: session::plain_http(&state, over, &headers, "/auth/sign_up"),
    };
    with_form_token(&state, StatusCode::OK, &token, &page)
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    agreement: Option<String>,
}

/// `POST /auth/sign_up`: open mode signs the new account in; approval mode
/// says it waits for a moderator and opens no session.
pub async fn sign_up(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignUpForm>,
) -> WebResult {
    if let Some(refused) = refuse_form(&state, over, &headers, &form.csrf_token, "/auth/sign_up") {
        return Ok(refused);
    }
    // The rules are accepted with the form's checkbox, which the form has
    // only when there are rules; the service holds sign-ups to them.
    let result = accounts::sign_up(
        &state,
        accounts::SignUp {
            username: form.username.trim(),
            email: &form.email,
            password: &form.password,
            reason: &form.reason,
            ip: &ip,
            accepted_rules: super::checked(&form.agreement),
            app_id: None,
        },
    )
    .await;
    let created = match result {
        Ok(created) => created,
        Err(e) if e.status().is_client_error() => {
            let token = oauth::new_secret();
            let page = SignUpPage {
                chrome: web.chrome,
                form_token: token.clone(),
                mode: mode(&state),
                username: form.username,
                email: form.email,
                reason: form.reason,
                rules: rule_views(&state).await?,
                error: Some(e.public_message()),
                plain_http: None,
            };
            return with_form_token(&state, e.status(), &token, &page);
        }
        Err(e) => return Err(e.into()),
    };
    let confirm_email = created.user.confirmed_at.is_none();
    if !created.user.approved || confirm_email {
        let page = SignUpDonePage {
            chrome: web.chrome,
            username: created.actor.username,
            confirm_email,
            approved: created.user.approved,
        };
        let mut response = render_with(StatusCode::OK, &page)?;
        response.headers_mut().append(
            header::SET_COOKIE,
            session::clear_pre_session_cookie(&state),
        );
        return Ok(response);
    }
    let client = sessions::Client {
        ip: &ip,
        user_agent: user_agent(&headers),
    };
    let (cookie, _) = sessions::open(&state, created.user, client).await?;
    Ok(signed_in(&state, &cookie, "/home").into_response())
}
