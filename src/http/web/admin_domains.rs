//! The admin area's domain policy page (`/admin/domains`): the blocks and
//! allowed domains, a form to block a domain, buttons to lift a block or an
//! allowance, Mastodon's CSV import (an uploaded file) and export (a
//! download). Admins only, as in Mastodon; every change is audit-logged by
//! `service::domain_policy`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, checked, id, render_with, see_other};
use crate::config::FederationMode;
use crate::error::Error;
use crate::http::api::params::WithFiles;
use crate::service::domain_policy::{self, BlockRequest, Severity};
use crate::service::types::{DomainAllow, DomainBlock};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/domains", get(page).post(create))
        .route("/admin/domains/{id}/remove", post(remove))
        .route("/admin/domains/import", post(import))
        .route("/admin/domains/export.csv", get(export))
        .route("/admin/domain_allows", post(create_allow))
        .route("/admin/domain_allows/{id}/remove", post(remove_allow))
}

#[derive(Template)]
#[template(path = "web/admin/domains.html")]
struct DomainsPage {
    chrome: Chrome,
    section: &'static str,
    blocks: Vec<DomainBlock>,
    allows: Vec<DomainAllow>,
    allowlist: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

async fn render_page(
    state: &AppState,
    staff: StaffSession,
    notice: Option<String>,
    error: Option<String>,
) -> WebResult {
    staff.staff.require_admin()?;
    // A form that was refused comes back with 422 and the reason.
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &DomainsPage {
            blocks: domain_policy::list(&state.db).await?,
            allows: domain_policy::allows(&state.db).await?,
            allowlist: state.config.federation.mode == FederationMode::Allowlist,
            chrome: staff.me.chrome,
            section: "domains",
            notice,
            error,
        },
    )
}

/// `GET /admin/domains`
async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<Notice>,
) -> WebResult {
    let notice = q.notice.filter(|n| !n.is_empty());
    render_page(&state, staff, notice, None).await
}

#[derive(Deserialize)]
pub struct BlockForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    reject_media: Option<String>,
    #[serde(default)]
    reject_reports: Option<String>,
    #[serde(default)]
    private_comment: String,
    #[serde(default)]
    public_comment: String,
    #[serde(default)]
    obfuscate: Option<String>,
}

/// `POST /admin/domains`: blocks a domain.
async fn create(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<BlockForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let Some(severity) = Severity::parse(&form.severity) else {
        return render_page(&state, staff, None, Some("Choose a severity.".into())).await;
    };
    let request = BlockRequest {
        domain: form.domain.clone(),
        severity,
        reject_media: checked(&form.reject_media),
        reject_reports: checked(&form.reject_reports),
        private_comment: form.private_comment.clone(),
        public_comment: form.public_comment.clone(),
        obfuscate: checked(&form.obfuscate),
    };
    match domain_policy::block(&state, &staff.staff, &request).await {
        Ok(block) => Ok(see_other(&format!(
            "/admin/domains?notice={}",
            urlencoding(&format!("{} is blocked.", block.domain))
        ))),
        Err(Error::Validation(message)) => render_page(&state, staff, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/domains/{id}/remove`: lifts a block.
async fn remove(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<TokenForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let block = domain_policy::unblock(&state, &staff.staff, id(&raw)?).await?;
    Ok(see_other(&format!(
        "/admin/domains?notice={}",
        urlencoding(&format!("{} is no longer blocked.", block.domain))
    )))
}

#[derive(Deserialize, Default)]
pub struct ImportForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/domains/import` (multipart, `file`): Mastodon's CSV.
async fn import(
    State(state): State<AppState>,
    staff: StaffSession,
    form: Result<WithFiles<ImportForm>, Error>,
) -> WebResult {
    let WithFiles { params, files } = form?;
    staff.me.check(&params.csrf_token)?;
    let Some(bytes) = files.get("file").filter(|b| !b.is_empty()) else {
        return render_page(&state, staff, None, Some("Choose a CSV file.".into())).await;
    };
    let text = String::from_utf8_lossy(bytes);
    match domain_policy::import_csv(&state, &staff.staff, &text).await {
        Ok(report) => {
            let mut notice = format!(
                "{} blocked, {} already blocked.",
                report.added.len(),
                report.kept.len()
            );
            for (domain, reason) in &report.failed {
                notice.push_str(&format!(" Refused {domain}: {reason}."));
            }
            Ok(see_other(&format!(
                "/admin/domains?notice={}",
                urlencoding(&notice)
            )))
        }
        Err(Error::Validation(message)) => render_page(&state, staff, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/domains/export.csv`: Mastodon's CSV, as a download.
async fn export(State(state): State<AppState>, staff: StaffSession) -> WebResult {
    staff.staff.require_admin()?;
    let csv = domain_policy::export_csv(&domain_policy::list(&state.db).await?);
    Ok(crate::http::download(
        "text/csv; charset=utf-8",
        "domain_blocks.csv",
        csv,
    ))
}

#[derive(Deserialize)]
pub struct AllowForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    domain: String,
}

/// `POST /admin/domain_allows`: allows a domain (allow-list mode).
async fn create_allow(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<AllowForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    match domain_policy::allow(&state, &staff.staff, &form.domain).await {
        Ok(allow) => Ok(see_other(&format!(
            "/admin/domains?notice={}",
            urlencoding(&format!("{} is allowed.", allow.domain))
        ))),
        Err(Error::Validation(message)) => render_page(&state, staff, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/domain_allows/{id}/remove`
async fn remove_allow(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<TokenForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let allow = domain_policy::disallow(&state, &staff.staff, id(&raw)?).await?;
    Ok(see_other(&format!(
        "/admin/domains?notice={}",
        urlencoding(&format!("{} is no longer allowed.", allow.domain))
    )))
}
