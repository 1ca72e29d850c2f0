//! Mastodon's admin API for accounts
//! (<https://docs.joinmastodon.org/methods/admin/accounts/>): listing and
//! reading accounts with what moderators need, and acting on them (suspend,
//! silence, lift either, approve or reject a sign-up), plus deleting a post
//! as a moderator.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::api::params::lenient;
use crate::http::api::{PageParams, Params, Token};
use crate::mastodon::Presenter;
use crate::mastodon::entities::{self as e, time};
use crate::service::audit::{Role, Staff};
use crate::service::moderation::{self, AccountAction, Request};
use crate::service::types::{Actor, AdminFilter};
use crate::service::{accounts, posts};
use crate::state::AppState;

/// The changes with a path of their own (`/api/v1/admin/accounts/{id}/NAME`).
const CHANGES: [&str; 6] = [
    "unsuspend",
    "unsilence",
    "enable",
    "approve",
    "reject",
    "unsensitive",
];

pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for name in CHANGES {
        router = router.route(
            &format!("/api/v1/admin/accounts/{{id}}/{name}"),
            post(
                move |state: State<AppState>, token: Token, Path(raw): Path<String>| {
                    change(state, token, raw, name)
                },
            ),
        );
    }
    router
        .route("/api/v1/admin/accounts", get(list))
        .route("/api/v2/admin/accounts", get(list_v2))
        .route(
            "/api/v1/admin/accounts/{id}",
            get(show).delete(delete_account),
        )
        .route("/api/v1/admin/accounts/{id}/action", post(action))
        .route(
            "/api/v1/admin/statuses/{id}",
            axum::routing::delete(delete_status),
        )
}

/// Mastodon's Admin::Account, with what Skein knows of an account.
#[derive(Serialize)]
pub(crate) struct AdminAccount {
    id: String,
    username: String,
    domain: Option<String>,
    created_at: String,
    email: Option<String>,
    ip: Option<String>,
    ips: Vec<serde_json::Value>,
    locale: Option<String>,
    invite_request: Option<String>,
    role: Option<serde_json::Value>,
    confirmed: bool,
    suspended: bool,
    silenced: bool,
    sensitized: bool,
    disabled: bool,
    approved: bool,
    account: e::Account,
}

pub(crate) async fn admin_account(
    state: &AppState,
    presenter: &Presenter<'_>,
    actor: &Actor,
) -> Result<AdminAccount> {
    let user = accounts::user_of(state, actor).await?;
    let reason = match &user {
        Some(u) if !u.approved => accounts::sign_up_reason(state, u).await?,
        _ => None,
    };
    Ok(AdminAccount {
        id: actor.id.to_string(),
        username: actor.username.clone(),
        domain: actor.domain.clone(),
        created_at: time(actor.created_at),
        email: user.as_ref().and_then(|u| u.email.clone()),
        ip: None,
        ips: Vec::new(),
        locale: None,
        invite_request: reason,
        role: user.as_ref().map(|u| serde_json::json!({ "name": u.role })),
        confirmed: true,
        suspended: actor.suspended_at.is_some(),
        silenced: actor.silenced_at.is_some(),
        sensitized: actor.sensitized_at.is_some(),
        disabled: user.as_ref().is_some_and(|u| u.disabled),
        approved: user.as_ref().is_none_or(|u| u.approved),
        account: presenter.account(actor).await?,
    })
}

fn staff_of(token: &Token, scope: &str) -> Result<(Staff, Actor)> {
    let staff = token.staff(scope, Role::Moderator)?;
    let (_, actor) = token.user(scope)?;
    Ok((staff, actor.clone()))
}

/// The filters of `GET /api/v1/admin/accounts`.
#[derive(Deserialize, Default)]
struct ListParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    remote: Option<bool>,
    #[serde(default)]
    by_domain: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pending: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    suspended: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    silenced: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    staff: Option<bool>,
    #[serde(default)]
    username: Option<String>,
    // v2's names.
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    permissions: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

async fn listing(state: &AppState, token: &Token, p: &ListParams) -> Result<Vec<AdminAccount>> {
    let (staff, me) = staff_of(token, "admin:read:accounts")?;
    let page = p.page.page(100, 200);
    let origin = match (p.origin.as_deref(), p.local, p.remote) {
        (Some(o @ ("local" | "remote")), _, _) => Some(o),
        (Some(other), _, _) => {
            return Err(Error::Validation(format!("`{other}` is not an origin")));
        }
        (None, Some(true), _) => Some("local"),
        (None, _, Some(true)) => Some("remote"),
        _ => None,
    };
    let status = p.status.as_deref();
    if let Some(s) = status
        && !matches!(
            s,
            "active" | "pending" | "suspended" | "silenced" | "disabled"
        )
    {
        return Err(Error::Validation(format!("`{s}` is not a status")));
    }
    let filter = AdminFilter {
        origin,
        domain: p.by_domain.as_deref().filter(|d| !d.is_empty()),
        pending: p.pending == Some(true) || status == Some("pending"),
        suspended: p.suspended == Some(true) || status == Some("suspended"),
        silenced: p.silenced == Some(true) || status == Some("silenced"),
        staff: p.staff == Some(true) || p.permissions.as_deref() == Some("staff"),
        username: p.username.as_deref().filter(|u| !u.is_empty()),
        max_id: page.max_id,
        limit: page.limit,
    };
    let actors = moderation::accounts(state, &staff, &filter).await?;
    let presenter = Presenter::new(state, Some(&me));
    let mut out = Vec::with_capacity(actors.len());
    for actor in &actors {
        out.push(admin_account(state, &presenter, actor).await?);
    }
    Ok(out)
}

async fn list(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<ListParams>,
) -> Result<Json<Vec<AdminAccount>>> {
    Ok(Json(listing(&state, &token, &p).await?))
}

async fn list_v2(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<ListParams>,
) -> Result<Json<Vec<AdminAccount>>> {
    Ok(Json(listing(&state, &token, &p).await?))
}

fn account_id(raw: &str) -> Result<i64> {
    raw.parse().map_err(|_| Error::NotFound)
}

async fn find(state: &AppState, id: i64) -> Result<Actor> {
    accounts::by_id(state, id)
        .await?
        .filter(|a| a.gone_at.is_none() && !(a.is_local() && a.kind == "Application"))
        .ok_or(Error::NotFound)
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<AdminAccount>> {
    let (_, me) = staff_of(&token, "admin:read:accounts")?;
    let actor = find(&state, account_id(&raw)?).await?;
    let presenter = Presenter::new(&state, Some(&me));
    Ok(Json(admin_account(&state, &presenter, &actor).await?))
}

/// `DELETE /api/v1/admin/accounts/:id`: the data of a suspended account
/// goes for good; the account as it was.
async fn delete_account(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<AdminAccount>> {
    let (staff, me) = staff_of(&token, "admin:write:accounts")?;
    if !staff.is_admin() {
        return Err(Error::Forbidden(
            "only an admin may delete an account's data".into(),
        ));
    }
    let actor = find(&state, account_id(&raw)?).await?;
    let presenter = Presenter::new(&state, Some(&me));
    let before = admin_account(&state, &presenter, &actor).await?;
    moderation::delete_suspended(&state, &staff, actor.id).await?;
    Ok(Json(before))
}

#[derive(Deserialize, Default)]
struct ActionParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    report_id: Option<String>,
    #[serde(default)]
    text: String,
}

/// `POST /api/v1/admin/accounts/{id}/action` with `type` = `none`,
/// `sensitive`, `disable`, `silence` or `suspend`. Answers an empty
/// object, as Mastodon does.
async fn action(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<ActionParams>,
) -> Result<Json<serde_json::Value>> {
    let (staff, _) = staff_of(&token, "admin:write:accounts")?;
    let kind = p.kind.as_deref().unwrap_or("none");
    let action = match kind {
        "none" | "sensitive" | "disable" | "silence" | "suspend" => AccountAction::parse(kind),
        _ => None,
    }
    .ok_or_else(|| {
        Error::Validation(format!(
            "`{kind}` is not an action here: give none, sensitive, disable, silence or suspend"
        ))
    })?;
    let report_id = match p.report_id.as_deref() {
        Some(r) => Some(r.parse().map_err(|_| Error::NotFound)?),
        None => None,
    };
    let id = find(&state, account_id(&raw)?).await?.id;
    let request = Request {
        report_id,
        text: &p.text,
    };
    moderation::act_on_account(&state, &staff, id, action, &request).await?;
    Ok(Json(serde_json::json!({})))
}

/// `POST /api/v1/admin/accounts/{id}/{unsuspend|unsilence|enable|approve|reject|unsensitive}`:
/// answers the account as it is afterwards (a rejected sign-up as it was).
async fn change(
    State(state): State<AppState>,
    token: Token,
    raw: String,
    change: &'static str,
) -> Result<Json<AdminAccount>> {
    let (staff, me) = staff_of(&token, "admin:write:accounts")?;
    let action = AccountAction::parse(change).ok_or(Error::NotFound)?;
    let before = find(&state, account_id(&raw)?).await?;
    let after =
        moderation::act_on_account(&state, &staff, before.id, action, &Request::default()).await?;
    let presenter = Presenter::new(&state, Some(&me));
    let shown = after.unwrap_or(before);
    Ok(Json(admin_account(&state, &presenter, &shown).await?))
}

#[derive(Deserialize, Default)]
struct DeleteParams {
    #[serde(default, deserialize_with = "lenient::opt_id")]
    report_id: Option<String>,
}

/// `DELETE /api/v1/admin/statuses/{id}`: a moderator deletes a post (a
/// Skein extension; Mastodon does it from its report pages). Answers the
/// post as it was.
async fn delete_status(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<DeleteParams>,
) -> Result<Json<e::Status>> {
    let (staff, me) = staff_of(&token, "admin:write:reports")?;
    let id: i64 = raw.parse().map_err(|_| Error::NotFound)?;
    let post = posts::by_id(&state, id)
        .await?
        .filter(|p| p.deleted_at.is_none() && p.reblog_of_id.is_none())
        .ok_or(Error::NotFound)?;
    let shown = Presenter::new(&state, Some(&me)).status(&post).await?;
    let report_id = match p.report_id.as_deref() {
        Some(r) => Some(r.parse().map_err(|_| Error::NotFound)?),
        None => None,
    };
    moderation::delete_post(&state, &staff, &post, report_id).await?;
    Ok(Json(shown))
}
