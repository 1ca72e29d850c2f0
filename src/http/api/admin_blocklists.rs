//! Subscribed domain block lists in the admin API, on GoToSocial's paths
//! and entity (`/api/v1/admin/domain_permission_subscriptions`, block
//! lists only), with `POST …/{id}/test` as the dry run and Skein's own
//! `POST …/{id}/refresh` to apply a list now. Admins only.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::api::params::lenient;
use crate::http::api::{Params, Token};
use crate::mastodon::entities::time;
use crate::service::audit::Role;
use crate::service::blocklists::{self, Plan};
use crate::service::types::BlocklistSubscription;
use crate::state::AppState;

const BASE: &str = "/api/v1/admin/domain_permission_subscriptions";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(BASE, get(list).post(create))
        .route(
            &format!("{BASE}/{{id}}"),
            get(show).patch(update).delete(remove),
        )
        .route(&format!("{BASE}/{{id}}/remove"), post(remove))
        .route(&format!("{BASE}/{{id}}/test"), post(test))
        .route(&format!("{BASE}/{{id}}/refresh"), post(refresh))
}

/// GoToSocial's DomainPermissionSubscription.
#[derive(Serialize)]
struct Entity {
    id: String,
    priority: i32,
    title: String,
    permission_type: &'static str,
    as_draft: bool,
    adopt_orphans: bool,
    created_by: Option<String>,
    created_at: String,
    uri: String,
    content_type: Option<String>,
    fetched_at: Option<String>,
    successfully_fetched_at: Option<String>,
    error: Option<String>,
    count: i32,
}

impl From<BlocklistSubscription> for Entity {
    fn from(s: BlocklistSubscription) -> Self {
        Entity {
            id: s.id.to_string(),
            priority: 0,
            title: s.title,
            permission_type: "block",
            as_draft: false,
            adopt_orphans: false,
            created_by: s.created_by.map(|id| id.to_string()),
            created_at: time(s.created_at),
            uri: s.url,
            content_type: s.content_type,
            fetched_at: s.fetched_at.map(time),
            successfully_fetched_at: s.succeeded_at.map(time),
            error: s.last_error,
            count: s.entries,
        }
    }
}

/// A refresh's changes, done or (for a dry run) to be done.
fn plan_json(plan: &Plan) -> Value {
    let entry = |r: &crate::service::domain_policy::BlockRequest| {
        json!({
            "domain": r.domain,
            "severity": r.severity.as_str(),
            "reject_media": r.reject_media,
            "public_comment": r.public_comment,
            "obfuscate": r.obfuscate,
        })
    };
    json!({
        "count": plan.entries,
        "content_type": plan.content_type,
        "add": plan.add.iter().map(entry).collect::<Vec<_>>(),
        "update": plan.update.iter().map(|(_, r)| entry(r)).collect::<Vec<_>>(),
        "lift": plan.lift.iter().map(|b| b.domain.clone()).collect::<Vec<_>>(),
        "kept": plan.kept.iter().map(|(domain, reason)| json!({"domain": domain, "reason": reason})).collect::<Vec<_>>(),
    })
}

fn id(raw: &str) -> Result<i64> {
    raw.parse().map_err(|_| Error::NotFound)
}

async fn list(State(state): State<AppState>, token: Token) -> Result<Json<Vec<Entity>>> {
    token.staff("admin:read:domain_blocks", Role::Admin)?;
    let all = blocklists::list(&state).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Entity>> {
    token.staff("admin:read:domain_blocks", Role::Admin)?;
    Ok(Json(blocklists::find(&state, id(&raw)?).await?.into()))
}

#[derive(Deserialize, Default)]
struct CreateParams {
    uri: Option<String>,
    title: Option<String>,
    permission_type: Option<String>,
    content_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    as_draft: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    adopt_orphans: Option<bool>,
}

async fn create(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<CreateParams>,
) -> Result<Json<Entity>> {
    let staff = token.staff("admin:write:domain_blocks", Role::Admin)?;
    let uri = p
        .uri
        .ok_or_else(|| Error::Validation("uri must be given".into()))?;
    match p.permission_type.as_deref().map(str::trim) {
        None | Some("") | Some("block") => {}
        Some(other) => {
            return Err(Error::Validation(format!(
                "only block lists can be subscribed to, not {other:?}"
            )));
        }
    }
    if p.as_draft == Some(true) {
        return Err(Error::Validation(
            "a list's blocks apply as they come; preview them with …/test instead of drafts".into(),
        ));
    }
    if p.adopt_orphans == Some(true) {
        return Err(Error::Validation(
            "a list never takes over blocks made by hand".into(),
        ));
    }
    let created = blocklists::subscribe(
        &state,
        &staff,
        &uri,
        p.title.as_deref().unwrap_or_default(),
        p.content_type.as_deref(),
    )
    .await?;
    Ok(Json(created.into()))
}

#[derive(Deserialize, Default)]
struct UpdateParams {
    title: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<UpdateParams>,
) -> Result<Json<Entity>> {
    let staff = token.staff("admin:write:domain_blocks", Role::Admin)?;
    let id = id(&raw)?;
    let subscription = match p.title {
        Some(title) => blocklists::retitle(&state, &staff, id, &title).await?,
        None => blocklists::find(&state, id).await?,
    };
    Ok(Json(subscription.into()))
}

#[derive(Deserialize, Default)]
struct RemoveParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    remove_children: Option<bool>,
}

/// Ends a subscription; with `remove_children` its blocks are lifted, else
/// they stay as blocks made by hand.
async fn remove(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<RemoveParams>,
) -> Result<Json<Entity>> {
    let staff = token.staff("admin:write:domain_blocks", Role::Admin)?;
    let removed = blocklists::unsubscribe(
        &state,
        &staff,
        id(&raw)?,
        p.remove_children.unwrap_or(false),
    )
    .await?;
    Ok(Json(removed.into()))
}

/// The dry run: what a refresh would change now.
async fn test(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let staff = token.staff("admin:read:domain_blocks", Role::Admin)?;
    let plan = blocklists::plan_refresh(&state, &staff, id(&raw)?).await?;
    Ok(Json(plan_json(&plan)))
}

async fn refresh(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let staff = token.staff("admin:write:domain_blocks", Role::Admin)?;
    let plan = blocklists::refresh(&state, &staff, id(&raw)?).await?;
    Ok(Json(plan_json(&plan)))
}
