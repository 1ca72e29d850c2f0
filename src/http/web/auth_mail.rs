//! What a browser does with the links Skein mails: confirming a sign-up's
//! address (`/auth/confirmation`), asking for the confirmation again
//! (`/auth/confirmation/new`), and resetting a forgotten password
//! (`/auth/password/new`, then the mailed `/auth/password/edit`). The forms
//! carry the pre-session token, as sign-in does. Over `service::account_mail`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::get;
use serde::Deserialize;

use super::auth::{here, refuse_form, with_form_token};
use super::{Chrome, Web, WebResult, render_with};
use crate::error::Error;
use crate::http::client_ip::ClientIp;
use crate::http::session;
use crate::http::transport::OverHttps;
use crate::service::{account_mail, mail, oauth};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/confirmation", get(confirm))
        .route(
            "/auth/confirmation/new",
            get(confirmation_form).post(resend_confirmation),
        )
        .route("/auth/password/new", get(reset_form).post(request_reset))
        .route(
            "/auth/password/edit",
            get(new_password_form).post(set_new_password),
        )
}

#[derive(Template)]
#[template(path = "web/auth_message.html")]
struct MessagePage {
    chrome: Chrome,
    title: &'static str,
    message: String,
    failed: bool,
    link: Option<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "web/auth_email_form.html")]
struct EmailFormPage {
    chrome: Chrome,
    title: &'static str,
    explanation: &'static str,
    action: &'static str,
    button: &'static str,
    form_token: String,
    email: String,
    error: Option<String>,
    plain_http: Option<session::PlainHttp>,
}

#[derive(Template)]
#[template(path = "web/password_edit.html")]
struct PasswordEditPage {
    chrome: Chrome,
    form_token: String,
    token: String,
    error: Option<String>,
    plain_http: Option<session::PlainHttp>,
}

const NO_MAIL: &str = "This server does not send e-mail: ask its admins for help.";

fn message(
    chrome: Chrome,
    status: StatusCode,
    title: &'static str,
    message: String,
    link: Option<(&'static str, &'static str)>,
) -> WebResult {
    render_with(
        status,
        &MessagePage {
            chrome,
            title,
            failed: !status.is_success(),
            message,
            link,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// `GET /auth/confirmation?token=...`: the link of the confirmation e-mail.
async fn confirm(
    State(state): State<AppState>,
    web: Web,
    Query(q): Query<TokenQuery>,
) -> WebResult {
    match account_mail::confirm(&state, &q.token).await {
        Ok(user) if user.approved => message(
            web.chrome,
            StatusCode::OK,
            "E-mail address confirmed",
            "Your e-mail address is confirmed: you can sign in now.".into(),
            Some(("/auth/sign_in", "Sign in")),
        ),
        Ok(_) => message(
            web.chrome,
            StatusCode::OK,
            "E-mail address confirmed",
            "Your e-mail address is confirmed. Your account waits for approval by a moderator: \
             you can sign in once it is approved."
                .into(),
            None,
        ),
        Err(e) if e.status().is_client_error() => message(
            web.chrome,
            e.status(),
            "E-mail address not confirmed",
            e.public_message(),
            Some((
                "/auth/confirmation/new",
                "Send me a new confirmation e-mail",
            )),
        ),
        Err(e) => Err(e.into()),
    }
}

fn email_form(
    state: &AppState,
    chrome: Chrome,
    reset: bool,
    email: String,
    error: Option<String>,
    plain_http: Option<session::PlainHttp>,
    status: StatusCode,
) -> WebResult {
    let token = oauth::new_secret();
    let page = if reset {
        EmailFormPage {
            chrome,
            title: "Forgot your password?",
            explanation: "Give the e-mail address of your account: we will send it a link to choose a new password.",
            action: "/auth/password/new",
            button: "Send me a reset link",
            form_token: token.clone(),
            email,
            error,
            plain_http,
        }
    } else {
        EmailFormPage {
            chrome,
            title: "Confirm your e-mail address",
            explanation: "Give the e-mail address you signed up with: we will send it a new confirmation link.",
            action: "/auth/confirmation/new",
            button: "Send me a new link",
            form_token: token.clone(),
            email,
            error,
            plain_http,
        }
    };
    with_form_token(state, status, &token, &page)
}

/// `GET /auth/confirmation/new`
async fn confirmation_form(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    uri: Uri,
    headers: HeaderMap,
) -> WebResult {
    if !mail::enabled(&state) {
        return message(
            web.chrome,
            StatusCode::NOT_FOUND,
            "No e-mail",
            NO_MAIL.into(),
            None,
        );
    }
    let plain = session::plain_http(&state, over, &headers, here(&uri));
    email_form(
        &state,
        web.chrome,
        false,
        String::new(),
        None,
        plain,
        StatusCode::OK,
    )
}

/// `GET /auth/password/new`
async fn reset_form(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    uri: Uri,
    headers: HeaderMap,
) -> WebResult {
    if !mail::enabled(&state) {
        return message(
            web.chrome,
            StatusCode::NOT_FOUND,
            "No e-mail",
            NO_MAIL.into(),
            None,
        );
    }
    let plain = session::plain_http(&state, over, &headers, here(&uri));
    email_form(
        &state,
        web.chrome,
        true,
        String::new(),
        None,
        plain,
        StatusCode::OK,
    )
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
}

/// `POST /auth/confirmation/new`: the same answer whether or not the
/// address is known.
async fn resend_confirmation(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(form): axum::Form<EmailForm>,
) -> WebResult {
    let request = EmailRequest {
        web,
        over,
        ip,
        headers,
        form,
        reset: false,
    };
    mail_a_link(&state, request).await
}

/// `POST /auth/password/new`: the same answer whether or not the address
/// is known.
async fn request_reset(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(form): axum::Form<EmailForm>,
) -> WebResult {
    let request = EmailRequest {
        web,
        over,
        ip,
        headers,
        form,
        reset: true,
    };
    mail_a_link(&state, request).await
}

/// A form asking for a link by e-mail: a new confirmation link, or a
/// password reset (`reset`).
struct EmailRequest {
    web: Web,
    over: OverHttps,
    ip: String,
    headers: HeaderMap,
    form: EmailForm,
    reset: bool,
}

async fn mail_a_link(state: &AppState, request: EmailRequest) -> WebResult {
    let EmailRequest {
        web,
        over,
        ip,
        headers,
        form,
        reset,
    } = request;
    let path = if reset {
        "/auth/password/new"
    } else {
        "/auth/confirmation/new"
    };
    if let Some(refused) = refuse_form(state, over, &headers, &form.csrf_token, path) {
        return Ok(refused);
    }
    let (sent, done) = if reset {
        (
            account_mail::request_reset(state, &form.email, &ip).await,
            "If an account has this address, a link to choose a new password is on its way to it. It works for an hour.",
        )
    } else {
        (
            account_mail::resend_confirmation(state, &form.email, &ip).await,
            "If an account waiting for confirmation has this address, a new confirmation link is on its way to it.",
        )
    };
    match sent {
        Ok(()) => message(
            web.chrome,
            StatusCode::OK,
            "Check your e-mail",
            done.into(),
            None,
        ),
        Err(e) if e.status().is_client_error() => email_form(
            state,
            web.chrome,
            reset,
            form.email,
            Some(e.public_message()),
            None,
            e.status(),
        ),
        Err(e) => Err(e.into()),
    }
}

fn link_expired(chrome: Chrome) -> WebResult {
    message(
        chrome,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Link expired",
        "This password reset link is not valid: it may have expired or been used already.".into(),
        Some(("/auth/password/new", "Ask for a new link")),
    )
}

/// `GET /auth/password/edit?token=...`: the link of the reset e-mail.
async fn new_password_form(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    uri: Uri,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> WebResult {
    if !account_mail::reset_link_works(&state, &q.token).await? {
        return link_expired(web.chrome);
    }
    let form_token = oauth::new_secret();
    let page = PasswordEditPage {
        chrome: web.chrome,
        form_token: form_token.clone(),
        token: q.token,
        error: None,
        plain_http: session::plain_http(&state, over, &headers, here(&uri)),
    };
    with_form_token(&state, StatusCode::OK, &form_token, &page)
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

/// `POST /auth/password/edit`
async fn set_new_password(
    State(state): State<AppState>,
    web: Web,
    over: OverHttps,
    headers: HeaderMap,
    axum::Form(form): axum::Form<NewPasswordForm>,
) -> WebResult {
    if let Some(refused) = refuse_form(
        &state,
        over,
        &headers,
        &form.csrf_token,
        "/auth/password/new",
    ) {
        return Ok(refused);
    }
    if !account_mail::reset_link_works(&state, &form.token).await? {
        return link_expired(web.chrome);
    }
    match account_mail::reset_password(&state, &form.token, &form.password).await {
        Ok(()) => message(
            web.chrome,
            StatusCode::OK,
            "Password changed",
            "Your password is changed, and every session of your account has ended.".into(),
            Some(("/auth/sign_in", "Sign in")),
        ),
        Err(Error::Validation(e)) => {
            let form_token = oauth::new_secret();
            let page = PasswordEditPage {
                chrome: web.chrome,
                form_token: form_token.clone(),
                token: form.token,
                error: Some(e),
                plain_http: None,
            };
            with_form_token(&state, StatusCode::UNPROCESSABLE_ENTITY, &form_token, &page)
        }
        Err(e) => Err(e.into()),
    }
}
