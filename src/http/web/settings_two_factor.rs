//! Settings: two-factor authentication, as Mastodon words it. Setting it up
//! shows a new secret (as a QR code drawn here, an `otpauth://` link and
//! text) until a current code and the password turn it on; the ten
//! recovery codes are then shown once. Turning it off takes the password
//! and a code (or a recovery code); new recovery codes take the password.
//! Pages that show a secret or codes are never stored by caches.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use serde::Deserialize;

use super::settings::Saved;
use super::{Chrome, SignedIn, WebResult, render_with, see_other};
use crate::service::two_factor::{self, Setup};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/two_factor", get(overview))
        .route("/settings/two_factor/setup", get(setup_form).post(setup))
        .route("/settings/two_factor/confirm", post(confirm))
        .route("/settings/two_factor/disable", post(disable))
        .route("/settings/two_factor/recovery_codes", post(regenerate))
}

#[derive(Template)]
#[template(path = "web/settings_two_factor.html")]
struct OverviewPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
    enabled: bool,
    recovery_codes_left: i64,
}

#[derive(Template)]
#[template(path = "web/settings_two_factor_setup.html")]
struct SetupPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
    setup: Setup,
}

#[derive(Template)]
#[template(path = "web/settings_recovery_codes.html")]
struct CodesPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    /// Just turned on (rather than new codes for it).
    enabled_now: bool,
    codes: Vec<String>,
}

/// A page that shows a secret: no cache keeps it.
fn secret_page(status: StatusCode, template: &impl Template) -> WebResult {
    let mut response = render_with(status, template)?;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn overview_page(
    state: &AppState,
    me: SignedIn,
    saved: bool,
    error: Option<String>,
    status: StatusCode,
) -> WebResult {
    let current = two_factor::status(state, me.user()).await?;
    render_with(
        status,
        &OverviewPage {
            section: "two_factor",
            saved,
            error,
            enabled: current.enabled,
            recovery_codes_left: current.recovery_codes_left,
            chrome: me.chrome,
        },
    )
}

/// `GET /settings/two_factor`
async fn overview(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<Saved>,
) -> WebResult {
    overview_page(&state, me, q.saved.is_some(), None, StatusCode::OK).await
}

#[derive(Deserialize)]
struct TokenOnly {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /settings/two_factor/setup`: a new secret waits for its first
/// code.
async fn setup(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<TokenOnly>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    match two_factor::begin_setup(&state, me.user()).await {
        Ok(()) => Ok(see_other("/settings/two_factor/setup")),
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            overview_page(&state, me, false, Some(e.public_message()), status).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /settings/two_factor/setup`: the pending secret, to scan or type.
async fn setup_form(State(state): State<AppState>, me: SignedIn) -> WebResult {
    match two_factor::pending_setup(&state, me.user(), me.actor()).await? {
        Some(setup) => secret_page(
            StatusCode::OK,
            &SetupPage {
                section: "two_factor",
                saved: false,
                error: None,
                setup,
                chrome: me.chrome,
            },
        ),
        None => Ok(see_other("/settings/two_factor")),
    }
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    current_password: String,
}

/// `POST /settings/two_factor/confirm`: on, and the recovery codes shown.
async fn confirm(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<CodeForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    match two_factor::confirm(
        &state,
        me.user(),
        me.actor(),
        &form.current_password,
        &form.code,
    )
    .await
    {
        Ok(codes) => secret_page(
            StatusCode::OK,
            &CodesPage {
                section: "two_factor",
                saved: false,
                enabled_now: true,
                codes,
                chrome: me.chrome,
            },
        ),
        Err(e) if e.status().is_client_error() => {
            match two_factor::pending_setup(&state, me.user(), me.actor()).await? {
                Some(setup) => secret_page(
                    e.status(),
                    &SetupPage {
                        section: "two_factor",
                        saved: false,
                        error: Some(e.public_message()),
                        setup,
                        chrome: me.chrome,
                    },
                ),
                None => {
                    let status = e.status();
                    overview_page(&state, me, false, Some(e.public_message()), status).await
                }
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/two_factor/disable`
async fn disable(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<CodeForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    match two_factor::disable(
        &state,
        me.user(),
        me.actor(),
        &form.current_password,
        &form.code,
    )
    .await
    {
        Ok(()) => Ok(see_other("/settings/two_factor?saved=1")),
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            overview_page(&state, me, false, Some(e.public_message()), status).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
}

/// `POST /settings/two_factor/recovery_codes`: new codes, the old ones
/// void.
async fn regenerate(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<PasswordForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    match two_factor::regenerate_recovery_codes(&state, me.user(), &form.current_password).await {
        Ok(codes) => secret_page(
            StatusCode::OK,
            &CodesPage {
                section: "two_factor",
                saved: false,
                enabled_now: false,
                codes,
                chrome: me.chrome,
            },
        ),
        Err(e) if e.status().is_client_error() => {
            let status = e.status();
            overview_page(&state, me, false, Some(e.public_message()), status).await
        }
        Err(e) => Err(e.into()),
    }
}
