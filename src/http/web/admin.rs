//! The admin area, for moderators and admins: the front page and the audit
//! log. Each section (domain policy, accounts, reports) is one page group
//! over the same services as Mastodon's admin API; every action they take
//! lands in the audit log.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, render};
use crate::error::Error;
use crate::service::audit;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/audit_log", get(audit_log))
}

#[derive(Template)]
#[template(path = "web/admin/index.html")]
struct IndexPage {
    chrome: Chrome,
    section: &'static str,
    is_admin: bool,
}

/// `GET /admin`
async fn index(staff: StaffSession) -> WebResult {
    render(&IndexPage {
        is_admin: staff.staff.is_admin(),
        chrome: staff.me.chrome,
        section: "index",
    })
}

/// One audit log row as shown.
pub struct ActionView {
    pub who: String,
    pub via: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub at_iso: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "web/admin/audit_log.html")]
struct AuditLogPage {
    chrome: Chrome,
    section: &'static str,
    actions: Vec<ActionView>,
    older: Option<i64>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    max_id: Option<String>,
}

const PAGE: i64 = 50;

/// `GET /admin/audit_log`: newest first, 50 a page.
async fn audit_log(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<PageQuery>,
) -> WebResult {
    let max_id = match q.max_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| Error::BadRequest("max_id must be an integer".into()))?,
        ),
    };
    let rows = audit::list(&state, &staff.staff, None, max_id, PAGE).await?;
    let older = super::older(&rows, PAGE, |a| a.id);
    let actions = rows
        .into_iter()
        .map(|a| ActionView {
            who: a.actor_name,
            via: a.via,
            action: a.action,
            target: format!("{} {}", a.target_type, a.target),
            details: match &a.details {
                serde_json::Value::Object(map) if map.is_empty() => String::new(),
                other => other.to_string(),
            },
            at_iso: a.created_at.to_rfc3339(),
            at: a.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect();
    render(&AuditLogPage {
        chrome: staff.me.chrome,
        section: "audit_log",
        actions,
        older,
    })
}
