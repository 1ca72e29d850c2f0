//! Reports in the client API: `POST /api/v1/reports`
//! (<https://docs.joinmastodon.org/methods/reports/>) for users, and
//! Mastodon's admin API for the queue
//! (<https://docs.joinmastodon.org/methods/admin/reports/>): listing,
//! reading, assigning, resolving and reopening.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::api::admin_accounts::{AdminAccount, admin_account};
use crate::http::api::params::lenient;
use crate::http::api::{PageParams, Params, Token};
use crate::mastodon::Presenter;
use crate::mastodon::entities::{self as e, time};
use crate::service::audit::{Role, Staff};
use crate::service::reports::{self, NewReport};
use crate::service::types::{Actor, Report};
use crate::service::{accounts, posts, rules};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    actions(
        Router::new()
            .route("/api/v1/reports", post(create))
            .route("/api/v1/admin/reports", get(list))
            .route("/api/v1/admin/reports/{id}", get(show).put(update)),
    )
}

/// A report's actions, each with a path of its own
/// (`/api/v1/admin/reports/{id}/NAME`).
fn actions(mut router: Router<AppState>) -> Router<AppState> {
    for name in ["assign_to_self", "unassign", "reopen", "resolve"] {
        router = router.route(
            &format!("/api/v1/admin/reports/{{id}}/{name}"),
            post(
                move |state: State<AppState>, token: Token, Path(raw): Path<String>| {
                    act(state, token, raw, name)
                },
            ),
        );
    }
    router
}

#[derive(Deserialize, Default)]
struct ReportParams {
    #[serde(default, deserialize_with = "lenient::opt_id")]
    account_id: Option<String>,
    #[serde(default)]
    status_ids: Vec<String>,
    #[serde(default)]
    rule_ids: Vec<String>,
    #[serde(default)]
    comment: String,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    forward: Option<bool>,
    category: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<ReportParams>,
) -> Result<Json<e::Report>> {
    let (_, reporter) = token.user("write:reports")?;
    let target_id = p
        .account_id
        .as_deref()
        .and_then(|id| id.parse::<i64>().ok())
        .ok_or_else(|| Error::NotFound)?;
    let post_ids = p
        .status_ids
        .iter()
        .map(|id| id.parse::<i64>().map_err(|_| Error::NotFound))
        .collect::<Result<Vec<_>>>()?;
    let rule_ids = p
        .rule_ids
        .iter()
        .map(|id| {
            id.parse::<i64>().map_err(|_| {
                Error::Validation(
                    "Validation failed: Rule ids does not reference valid rules".into(),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // Rules named make the report a "violation", whatever category was
    // given (Mastodon's documented behaviour).
    let category = if rule_ids.is_empty() {
        p.category
    } else {
        Some("violation".to_string())
    };
    let report = reports::create(
        &state,
        reporter,
        NewReport {
            target_id,
            post_ids,
            comment: p.comment,
            category,
            rule_ids,
            forward: p.forward.unwrap_or(false),
        },
    )
    .await?;
    let target = actor(&state, report.target_id).await?;
    let presenter = Presenter::new(&state, Some(reporter));
    Ok(Json(presenter.report(report, &target).await?))
}

async fn actor(state: &AppState, id: i64) -> Result<Actor> {
    accounts::by_id(state, id).await?.ok_or(Error::NotFound)
}

/// Mastodon's Admin::Report.
#[derive(Serialize)]
struct AdminReport {
    id: String,
    action_taken: bool,
    action_taken_at: Option<String>,
    category: String,
    comment: String,
    forwarded: bool,
    created_at: String,
    updated_at: String,
    account: AdminAccount,
    target_account: AdminAccount,
    assigned_account: Option<AdminAccount>,
    action_taken_by_account: Option<AdminAccount>,
    statuses: Vec<e::Status>,
    rules: Vec<e::Rule>,
}

async fn admin_report(state: &AppState, staff_actor: &Actor, r: Report) -> Result<AdminReport> {
    let presenter = Presenter::new(state, Some(staff_actor));
    let optional = |id: Option<i64>| async move {
        match id {
            Some(id) => Ok::<_, Error>(Some(actor(state, id).await?)),
            None => Ok(None),
        }
    };
    let assigned = match optional(r.assigned_to_id).await? {
        Some(a) => Some(admin_account(state, &presenter, &a).await?),
        None => None,
    };
    let resolver = match optional(r.resolved_by_id).await? {
        Some(a) => Some(admin_account(state, &presenter, &a).await?),
        None => None,
    };
    let mut posts = Vec::new();
    for id in &r.post_ids {
        if let Some(p) = posts::by_id(state, *id).await? {
            posts.push(p);
        }
    }
    Ok(AdminReport {
        id: r.id.to_string(),
        action_taken: r.resolved_at.is_some(),
        action_taken_at: r.resolved_at.map(time),
        category: r.category,
        comment: r.comment,
        forwarded: r.forwarded,
        created_at: time(r.created_at),
        updated_at: time(r.updated_at),
        account: admin_account(state, &presenter, &actor(state, r.reporter_id).await?).await?,
        target_account: admin_account(state, &presenter, &actor(state, r.target_id).await?).await?,
        assigned_account: assigned,
        action_taken_by_account: resolver,
        statuses: presenter.statuses(&posts).await?,
        rules: rules::by_ids(&state.db, &r.rule_ids)
            .await?
            .iter()
            .map(e::Rule::from)
            .collect(),
    })
}

#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    resolved: Option<bool>,
    #[serde(flatten)]
    page: PageParams,
}

fn staff_of(token: &Token, scope: &str) -> Result<(Staff, Actor)> {
    let staff = token.staff(scope, Role::Moderator)?;
    let (_, actor) = token.user(scope)?;
    Ok((staff, actor.clone()))
}

async fn list(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<ListParams>,
) -> Result<Json<Vec<AdminReport>>> {
    let (staff, me) = staff_of(&token, "admin:read:reports")?;
    let page = p.page.page(100, 200);
    let rows = reports::list(
        &state,
        &staff,
        p.resolved.unwrap_or(false),
        page.max_id,
        page.limit,
    )
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(admin_report(&state, &me, r).await?);
    }
    Ok(Json(out))
}

fn report_id(raw: &str) -> Result<i64> {
    raw.parse().map_err(|_| Error::NotFound)
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<AdminReport>> {
    let (staff, me) = staff_of(&token, "admin:read:reports")?;
    let report = reports::find(&state, &staff, report_id(&raw)?).await?;
    Ok(Json(admin_report(&state, &me, report).await?))
}

#[derive(Deserialize)]
struct UpdateParams {
    #[serde(default)]
    category: Option<String>,
}

/// `PUT /api/v1/admin/reports/:id`: changes the report's category.
async fn update(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<UpdateParams>,
) -> Result<Json<AdminReport>> {
    let (staff, me) = staff_of(&token, "admin:write:reports")?;
    let id = report_id(&raw)?;
    let report = match p.category.as_deref() {
        Some(category) => reports::set_category(&state, &staff, id, category).await?,
        None => reports::find(&state, &staff, id).await?,
    };
    Ok(Json(admin_report(&state, &me, report).await?))
}

/// `POST /api/v1/admin/reports/{id}/{resolve|reopen|assign_to_self|unassign}`
async fn act(
    State(state): State<AppState>,
    token: Token,
    raw: String,
    action: &'static str,
) -> Result<Json<AdminReport>> {
    let (staff, me) = staff_of(&token, "admin:write:reports")?;
    let id = report_id(&raw)?;
    let action = reports::Action::parse(action).ok_or(Error::NotFound)?;
    let report = reports::act(&state, &staff, id, action).await?;
    Ok(Json(admin_report(&state, &me, report).await?))
}
