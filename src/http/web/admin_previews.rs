//! The admin area's link previews page (`/admin/link_previews`): the
//! domains whose pages get no preview card (Mastodon's preview card domain
//! exclusion), a form to add one and buttons to lift them, and how many
//! posts wait for their preview. Admins only; every change is audit-logged
//! by `service::cards`.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, render_with, see_other};
use crate::error::Error;
use crate::service::cards;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/link_previews",
            axum::routing::get(page).post(exclude),
        )
        .route("/admin/link_previews/include", post(include))
}

#[derive(Template)]
#[template(path = "web/admin/link_previews.html")]
struct PreviewsPage {
    chrome: Chrome,
    section: &'static str,
    domains: Vec<String>,
    waiting: i64,
    enabled: bool,
    typed: String,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct DomainForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    domain: String,
}

async fn render_page(
    state: &AppState,
    staff: StaffSession,
    notice: Option<String>,
    error: Option<(String, String)>,
) -> WebResult {
    staff.staff.require_admin()?;
    let (status, error, typed) = match error {
        Some((message, typed)) => (StatusCode::UNPROCESSABLE_ENTITY, Some(message), typed),
        None => (StatusCode::OK, None, String::new()),
    };
    render_with(
        status,
        &PreviewsPage {
            chrome: staff.me.chrome,
            section: "link_previews",
            domains: cards::excluded_domains(state).await?,
            waiting: cards::waiting(state).await?,
            enabled: state.config.link_previews.enabled,
            typed,
            notice,
            error,
        },
    )
}

fn done(notice: &str) -> axum::response::Response {
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    see_other(&format!("/admin/link_previews?notice={encoded}"))
}

/// `GET /admin/link_previews`
async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<Notice>,
) -> WebResult {
    let notice = q.notice.filter(|n| !n.is_empty());
    render_page(&state, staff, notice, None).await
}

/// `POST /admin/link_previews`: excludes a domain.
async fn exclude(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<DomainForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    match cards::exclude_domain(&state, &staff.staff, &form.domain).await {
        Ok(domain) => Ok(done(&format!("Pages of {domain} get no preview."))),
        Err(Error::Validation(message)) => {
            render_page(&state, staff, None, Some((message, form.domain))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/link_previews/include`: lifts a domain's exclusion.
async fn include(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<DomainForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    cards::include_domain(&state, &staff.staff, form.domain.trim()).await?;
    Ok(done(&format!(
        "New posts linking to {} get previews again.",
        form.domain.trim()
    )))
}
