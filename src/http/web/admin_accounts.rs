//! The admin area's accounts (`/admin/accounts`): local and remote accounts
//! with filters (pending sign-ups, silenced, suspended) and a username
//! search; moderators suspend, silence, lift either, and approve or reject
//! sign-ups, also from a report (which resolves it). Reported posts are
//! deleted from the report queue. Everything goes through
//! `service::moderation`, audit-logged. Admins give local accounts a role
//! (user, moderator, admin) below their own rank's reach
//! (`service::accounts::assign_role`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::cards::{self, AccountView};
use super::{Chrome, StaffSession, WebResult, id, local_path, render, see_other};
use crate::error::Error;
use crate::mastodon::Presenter;
use crate::service::moderation::{self, AccountAction, Request};
use crate::service::types::AdminFilter;
use crate::service::{accounts, posts};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts", get(list))
        .route("/admin/accounts/{id}/role", post(assign_role))
        .route("/admin/accounts/{id}/{action}", post(act))
        .route("/admin/posts/{id}/delete", post(delete_post))
}

/// The filters, as tabs: (value, label).
const FILTERS: [(&str, &str); 6] = [
    ("", "All"),
    ("local", "Local"),
    ("remote", "Remote"),
    ("pending", "Waiting for approval"),
    ("silenced", "Silenced"),
    ("suspended", "Suspended"),
];

pub struct AccountRow {
    pub view: AccountView,
    pub local: bool,
    /// A local account whose sign-in is frozen.
    pub disabled: bool,
    pub suspended: bool,
    pub silenced: bool,
    pub sensitized: bool,
    pub pending: bool,
    /// A sign-up that has not followed its confirmation link.
    pub unconfirmed: bool,
    pub role: String,
    /// The roles the viewing admin may give this account: (value, label,
    /// current); empty when its role is not theirs to change.
    pub roles: Vec<(&'static str, &'static str, bool)>,
    pub joined: String,
    /// Why a pending sign-up wants to join.
    pub reason: String,
}

#[derive(Template)]
#[template(path = "web/admin/accounts.html")]
struct AccountsPage {
    chrome: Chrome,
    section: &'static str,
    filter: String,
    filters: Vec<(&'static str, &'static str)>,
    username: String,
    accounts: Vec<AccountRow>,
    /// Where the list goes on (`max_id`), when it does.
    next: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    filter: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    max_id: Option<i64>,
}

const PAGE: i64 = 40;

/// `GET /admin/accounts[?filter=...&username=...&max_id=...]`
async fn list(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<ListQuery>,
) -> WebResult {
    let filter = FILTERS
        .iter()
        .find(|(value, _)| *value == q.filter)
        .map_or("", |(value, _)| *value);
    let username = q.username.trim().trim_start_matches('@');
    let rows = moderation::accounts(
        &state,
        &staff.staff,
        &AdminFilter {
            origin: matches!(filter, "local" | "remote").then_some(filter),
            pending: filter == "pending",
            silenced: filter == "silenced",
            suspended: filter == "suspended",
            username: Some(username).filter(|u| !u.is_empty()),
            max_id: q.max_id,
            limit: PAGE,
            ..Default::default()
        },
    )
    .await?;
    let presenter = Presenter::new(&state, Some(staff.me.actor()));
    let make = cards::Cards::new(&state);
    let mut accounts = Vec::with_capacity(rows.len());
    for actor in &rows {
        let user = accounts::user_of(&state, actor).await?;
        let pending = user.as_ref().is_some_and(|u| !u.approved);
        let reason = match &user {
            Some(u) if pending => accounts::sign_up_reason(&state, u)
                .await?
                .unwrap_or_default(),
            _ => String::new(),
        };
        let roles = match &user {
            Some(u) if accounts::may_change_role(&staff.staff, actor.id, u) => {
                accounts::assignable_roles(&staff.staff)
                    .into_iter()
                    .map(|r| (r.as_str(), role_label(r), r.as_str() == u.role))
                    .collect()
            }
            _ => Vec::new(),
        };
        accounts.push(AccountRow {
            view: make.account(&presenter.account(actor).await?),
            local: actor.is_local(),
            disabled: user.as_ref().is_some_and(|u| u.disabled),
            suspended: actor.suspended_at.is_some(),
            silenced: actor.silenced_at.is_some(),
            sensitized: actor.sensitized_at.is_some(),
            pending,
            unconfirmed: user.as_ref().is_some_and(|u| u.confirmed_at.is_none()),
            role: user.map(|u| u.role).unwrap_or_default(),
            roles,
            joined: actor.created_at.format("%Y-%m-%d").to_string(),
            reason,
        });
    }
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|a| a.id.to_string()))
        .flatten();
    render(&AccountsPage {
        chrome: staff.me.chrome,
        section: "accounts",
        filter: filter.to_string(),
        filters: FILTERS.to_vec(),
        username: username.to_string(),
        accounts,
        next,
    })
}

fn role_label(role: accounts::Role) -> &'static str {
    match role {
        accounts::Role::User => "User",
        accounts::Role::Moderator => "Moderator",
        accounts::Role::Admin => "Admin",
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    back: String,
}

/// `POST /admin/accounts/{id}/role`: an admin gives a local account a
/// role (`service::accounts::assign_role` says who may).
async fn assign_role(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<RoleForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    accounts::assign_role(&state, &staff.staff, id(&raw)?, form.role.trim()).await?;
    Ok(see_other(local_path(&form.back, "/admin/accounts")))
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
    /// The report the action answers (resolved with it).
    #[serde(default)]
    report_id: String,
    /// Where to go afterwards (a local path).
    #[serde(default)]
    back: String,
}

fn report_of(form: &ActionForm) -> Result<Option<i64>, Error> {
    match form.report_id.trim() {
        "" => Ok(None),
        raw => raw.parse().map(Some).map_err(|_| Error::NotFound),
    }
}

/// `POST /admin/accounts/{id}/{suspend|unsuspend|silence|unsilence|approve|reject|confirm}`
async fn act(
    State(state): State<AppState>,
    staff: StaffSession,
    Path((raw, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let action = match AccountAction::parse(&action) {
        Some(AccountAction::Warn) | None => return Err(Error::NotFound.into()),
        Some(a) => a,
    };
    let request = Request {
        report_id: report_of(&form)?,
        text: "",
    };
    moderation::act_on_account(&state, &staff.staff, id(&raw)?, action, &request).await?;
    Ok(see_other(local_path(&form.back, "/admin/accounts")))
}

/// `POST /admin/posts/{id}/delete`: a moderator deletes a post.
async fn delete_post(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<ActionForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let post = posts::by_id(&state, id(&raw)?)
        .await?
        .filter(|p| p.deleted_at.is_none() && p.reblog_of_id.is_none())
        .ok_or(Error::NotFound)?;
    moderation::delete_post(&state, &staff.staff, &post, report_of(&form)?).await?;
    Ok(see_other(local_path(&form.back, "/admin/reports")))
}
