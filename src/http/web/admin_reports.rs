//! The admin area's report queue (`/admin/reports`): open or resolved
//! reports, newest first, each with who reported whom, the comment, the
//! reported posts and whether it came from another server; moderators
//! resolve and reopen them (audit-logged by `service::reports`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::cards::{self, AccountView, PostCard};
use super::{Chrome, StaffSession, WebResult, id, render, see_other};
use crate::domain::filters::Context as FilterContext;
use crate::error::Error;
use crate::mastodon::Presenter;
use crate::service::{accounts, posts, reports};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/reports", get(list))
        .route("/admin/reports/{id}/{action}", post(act))
}

pub struct ReportView {
    pub id: i64,
    pub reporter: AccountView,
    pub target: AccountView,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    /// Sent by another server (a Flag).
    pub remote: bool,
    pub posts: Vec<PostCard>,
    /// The texts of the instance rules it says were broken.
    pub rules: Vec<String>,
    pub at: String,
    pub resolved: bool,
}

#[derive(Template)]
#[template(path = "web/admin/reports.html")]
struct ReportsPage {
    chrome: Chrome,
    section: &'static str,
    resolved: bool,
    reports: Vec<ReportView>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    resolved: Option<String>,
}

/// `GET /admin/reports[?resolved=1]`
async fn list(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let resolved = q.resolved.is_some_and(|v| !v.is_empty() && v != "0");
    let rows = reports::list(&state, &staff.staff, resolved, None, 50).await?;
    let viewer = Some(staff.me.actor());
    let presenter = Presenter::new(&state, viewer);
    let make = cards::Cards::new(&state);
    let mut views = Vec::with_capacity(rows.len());
    for r in rows {
        let actor = |id: i64| {
            let state = &state;
            async move { accounts::by_id(state, id).await?.ok_or(Error::NotFound) }
        };
        let reporter = actor(r.reporter_id).await?;
        let target = actor(r.target_id).await?;
        let mut posts = Vec::new();
        for post_id in &r.post_ids {
            if let Some(p) = posts::by_id(&state, *post_id).await? {
                posts.push(p);
            }
        }
        views.push(ReportView {
            id: r.id,
            remote: !reporter.is_local(),
            reporter: make.account(&presenter.account(&reporter).await?),
            target: make.account(&presenter.account(&target).await?),
            category: r.category,
            comment: r.comment,
            forwarded: r.forwarded,
            posts: cards::posts(&state, viewer, &posts, Some(FilterContext::Account)).await?,
            rules: crate::service::rules::by_ids(&state.db, &r.rule_ids)
                .await?
                .into_iter()
                .map(|rule| rule.text)
                .collect(),
            at: r.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            resolved: r.resolved_at.is_some(),
        });
    }
    render(&ReportsPage {
        chrome: staff.me.chrome,
        section: "reports",
        resolved,
        reports: views,
    })
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/reports/{id}/{resolve|reopen}`
async fn act(
    State(state): State<AppState>,
    staff: StaffSession,
    Path((raw, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<TokenForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let report_id = id(&raw)?;
    let action = match reports::Action::parse(&action) {
        Some(a @ (reports::Action::Resolve | reports::Action::Reopen)) => a,
        _ => return Err(Error::NotFound.into()),
    };
    reports::act(&state, &staff.staff, report_id, action).await?;
    Ok(see_other(if action == reports::Action::Resolve {
        "/admin/reports"
    } else {
        "/admin/reports?resolved=1"
    }))
}
