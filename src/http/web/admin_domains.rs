//! The admin area's domain policy page (`/admin/domains`): the blocks and
//! allowed domains, a form to block a domain, buttons to lift a block or an
//! allowance, Mastodon's CSV import (an uploaded file) and export (a
//! download), and the subscribed block lists (`service::blocklists`): a
//! form to subscribe, a preview of what a refresh would change, a refresh
//! now, and unsubscribing with or without the list's blocks. Admins only,
//! as in Mastodon; every change is audit-logged by the services.

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
use crate::service::blocklists::{self, Plan};
use crate::service::domain_policy::{self, BlockRequest, Severity};
use crate::service::types::{BlocklistSubscription, DomainAllow, DomainBlock};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/domains", get(page).post(create))
        .route("/admin/domains/{id}/remove", post(remove))
        .route("/admin/domains/import", post(import))
        .route("/admin/domains/export.csv", get(export))
        .route("/admin/domain_allows", post(create_allow))
        .route("/admin/domain_allows/{id}/remove", post(remove_allow))
        .route("/admin/blocklists", post(subscribe))
        .route("/admin/blocklists/{id}/preview", post(preview))
        .route("/admin/blocklists/{id}/refresh", post(refresh))
        .route("/admin/blocklists/{id}/remove", post(unsubscribe))
}

/// A dry run of a list's refresh, as the page shows it.
struct Preview {
    list: String,
    add: Vec<String>,
    update: Vec<String>,
    lift: Vec<String>,
    kept: Vec<(String, String)>,
}

impl Preview {
    fn of(list: &BlocklistSubscription, plan: &Plan) -> Preview {
        let entry = |r: &BlockRequest| format!("{} ({})", r.domain, r.severity.as_str());
        Preview {
            list: name(list),
            add: plan.add.iter().map(entry).collect(),
            update: plan.update.iter().map(|(_, r)| entry(r)).collect(),
            lift: plan.lift.iter().map(|b| b.domain.clone()).collect(),
            kept: plan.kept.clone(),
        }
    }
}

/// A list as the page names it.
fn name(list: &BlocklistSubscription) -> String {
    if list.title.trim().is_empty() {
        list.url.clone()
    } else {
        list.title.clone()
    }
}

#[derive(Template)]
#[template(path = "web/admin/domains.html")]
struct DomainsPage {
    chrome: Chrome,
    section: &'static str,
    blocks: Vec<DomainBlock>,
    allows: Vec<DomainAllow>,
    lists: Vec<BlocklistSubscription>,
    preview: Option<Preview>,
    allowlist: bool,
    notice: Option<String>,
    error: Option<String>,
}

impl DomainsPage {
    /// Who made a block: by hand, or the list's name.
    fn source(&self, block: &DomainBlock) -> String {
        match block.subscription_id {
            None => "by hand".into(),
            Some(id) => self
                .lists
                .iter()
                .find(|l| l.id == id)
                .map(name)
                .unwrap_or_default(),
        }
    }
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
    render_full(state, staff, notice, error, None).await
}

async fn render_full(
    state: &AppState,
    staff: StaffSession,
    notice: Option<String>,
    error: Option<String>,
    preview: Option<Preview>,
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
            lists: blocklists::list(state).await?,
            preview,
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

#[derive(Deserialize)]
pub struct SubscribeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    content_type: String,
}

/// `POST /admin/blocklists`: subscribes to a block list (applied by the
/// next refresh: now, with the button, or the daily one).
async fn subscribe(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<SubscribeForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let content_type = Some(form.content_type.as_str()).filter(|t| !t.is_empty());
    match blocklists::subscribe(&state, &staff.staff, &form.url, &form.title, content_type).await {
        Ok(list) => Ok(see_other(&format!(
            "/admin/domains?notice={}",
            urlencoding(&format!(
                "Subscribed to {}. Preview or refresh it to apply it now; it is refreshed daily.",
                name(&list)
            ))
        ))),
        Err(Error::Validation(message)) => render_page(&state, staff, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

/// The list a form names, once the form's token is checked.
async fn checked_list(
    state: &AppState,
    staff: &StaffSession,
    raw: &str,
    form: &TokenForm,
) -> Result<BlocklistSubscription, super::WebError> {
    staff.me.check(&form.csrf_token)?;
    Ok(blocklists::find(state, id(raw)?).await?)
}

/// `POST /admin/blocklists/{id}/preview`: what a refresh would change.
async fn preview(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<TokenForm>,
) -> WebResult {
    let list = checked_list(&state, &staff, &raw, &form).await?;
    match blocklists::plan_refresh(&state, &staff.staff, list.id).await {
        Ok(plan) => render_full(&state, staff, None, None, Some(Preview::of(&list, &plan))).await,
        Err(Error::Validation(message)) => render_page(&state, staff, None, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/blocklists/{id}/refresh`: fetches and applies the list now.
async fn refresh(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<TokenForm>,
) -> WebResult {
    let list = checked_list(&state, &staff, &raw, &form).await?;
    match blocklists::refresh(&state, &staff.staff, list.id).await {
        Ok(plan) => Ok(see_other(&format!(
            "/admin/domains?notice={}",
            urlencoding(&format!(
                "{}: {} blocked, {} changed, {} lifted, {} left as they were.",
                name(&list),
                plan.add.len(),
                plan.update.len(),
                plan.lift.len(),
                plan.kept.len()
            ))
        ))),
        Err(Error::Validation(message)) => {
            render_page(
                &state,
                staff,
                None,
                Some(format!(
                    "{}: {message}. Its blocks stay as they were.",
                    name(&list)
                )),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct UnsubscribeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    lift: Option<String>,
}

/// `POST /admin/blocklists/{id}/remove`: ends a subscription, lifting its
/// blocks or keeping them as blocks made by hand.
async fn unsubscribe(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<UnsubscribeForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let lift = checked(&form.lift);
    let list = blocklists::unsubscribe(&state, &staff.staff, id(&raw)?, lift).await?;
    let outcome = if lift {
        "its blocks are lifted"
    } else {
        "its blocks stay, as blocks made by hand"
    };
    Ok(see_other(&format!(
        "/admin/domains?notice={}",
        urlencoding(&format!("Unsubscribed from {}: {outcome}.", name(&list)))
    )))
}
