//! The admin area's sign-up blocks page (`/admin/blocks`): e-mail domains
//! refused at sign-up (or sent to the approval queue) with the attempts
//! they stopped this week, and IP blocks (approval, sign-up refused, no
//! access at all) with their expiry. Admins only; every change is
//! audit-logged by `service::email_blocks` and `service::ip_blocks`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, checked, render_with, see_other};
use crate::error::Error;
use crate::service::types::Page;
use crate::service::{email_blocks, ip_blocks};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/blocks", get(page))
        .route("/admin/blocks/email_domains", post(add_domain))
        .route(
            "/admin/blocks/email_domains/{id}/delete",
            post(remove_domain),
        )
        .route("/admin/blocks/ips", post(add_ip))
        .route("/admin/blocks/ips/{id}/delete", post(remove_ip))
}

struct DomainRow {
    id: i64,
    domain: String,
    approval: bool,
    attempts: i64,
}

struct IpRow {
    id: i64,
    ip: String,
    severity: &'static str,
    comment: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "web/admin/blocks.html")]
struct BlocksPage {
    chrome: Chrome,
    section: &'static str,
    domains: Vec<DomainRow>,
    ips: Vec<IpRow>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

fn severity_label(severity: &str) -> &'static str {
    match severity {
        "sign_up_requires_approval" => "Sign-ups wait for approval",
        "sign_up_block" => "Sign-ups refused",
        _ => "No access",
    }
}

const ALL: Page = Page {
    max_id: None,
    since_id: None,
    min_id: None,
    limit: 200,
};

async fn render_page(
    state: &AppState,
    staff: StaffSession,
    notice: Option<String>,
    error: Option<String>,
) -> WebResult {
    staff.staff.require_admin()?;
    let domains = email_blocks::domains(state, &staff.staff, ALL)
        .await?
        .into_iter()
        .map(|b| DomainRow {
            id: b.block.id,
            attempts: b.history.iter().map(|(_, uses, _)| uses).sum(),
            domain: b.block.domain,
            approval: b.block.allow_with_approval,
        })
        .collect();
    let ips = ip_blocks::list(state, &staff.staff, ALL)
        .await?
        .into_iter()
        .map(|b| IpRow {
            id: b.id,
            severity: severity_label(&b.severity),
            expires: b
                .expires_at
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_else(|| "never".into()),
            ip: b.ip,
            comment: b.comment,
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &BlocksPage {
            chrome: staff.me.chrome,
            section: "blocks",
            domains,
            ips,
            notice,
            error,
        },
    )
}

fn done(notice: &str) -> axum::response::Response {
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    see_other(&format!("/admin/blocks?notice={encoded}"))
}

fn id(raw: &str) -> Result<i64, Error> {
    raw.parse().map_err(|_| Error::NotFound)
}

/// `GET /admin/blocks`
async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<Notice>,
) -> WebResult {
    let notice = q.notice.filter(|n| !n.is_empty());
    render_page(&state, staff, notice, None).await
}

#[derive(Deserialize)]
pub struct DomainForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    allow_with_approval: Option<String>,
}

/// `POST /admin/blocks/email_domains`
async fn add_domain(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<DomainForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let approval = checked(&form.allow_with_approval);
    match email_blocks::block_domain(&state, &staff.staff, &form.domain, approval).await {
        Ok(b) => Ok(done(&format!(
            "Sign-ups with addresses at {} are {}.",
            b.block.domain,
            if approval {
                "sent to the approval queue"
            } else {
                "refused"
            }
        ))),
        Err(Error::Validation(message)) => render_page(&state, staff, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/blocks/email_domains/{id}/delete`
async fn remove_domain(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<TokenForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let block = email_blocks::unblock_domain(&state, &staff.staff, id(&raw)?).await?;
    Ok(done(&format!(
        "Addresses at {} may sign up again.",
        block.domain
    )))
}

#[derive(Deserialize)]
pub struct IpForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    comment: String,
    /// Seconds, or empty for never.
    #[serde(default)]
    expires_in: String,
}

/// `POST /admin/blocks/ips`
async fn add_ip(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<IpForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let expires = match form.expires_in.trim() {
        "" => ip_blocks::Expiry::Never,
        raw => match raw.parse() {
            Ok(seconds) => ip_blocks::Expiry::In(seconds),
            Err(_) => {
                let message = "Choose when the block ends.".to_string();
                return render_page(&state, staff, None, Some(message)).await;
            }
        },
    };
    let request = ip_blocks::Request {
        ip: form.ip,
        severity: form.severity,
        comment: form.comment,
        expires,
    };
    match ip_blocks::create(&state, &staff.staff, &request).await {
        Ok(b) => Ok(done(&format!(
            "{}: {}.",
            b.ip,
            severity_label(&b.severity).to_lowercase()
        ))),
        Err(Error::Validation(message)) => render_page(&state, staff, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/blocks/ips/{id}/delete`
async fn remove_ip(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<TokenForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let block = ip_blocks::delete(&state, &staff.staff, id(&raw)?).await?;
    Ok(done(&format!("{} is no longer blocked.", block.ip)))
}
