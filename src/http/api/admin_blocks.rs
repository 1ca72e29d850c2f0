//! Mastodon's admin API for sign-up and access blocks: e-mail domain
//! blocks (<https://docs.joinmastodon.org/methods/admin/email_domain_blocks/>),
//! IP blocks (`/api/v1/admin/ip_blocks`) and canonical e-mail blocks
//! (`/api/v1/admin/canonical_email_blocks`). Admins only (Mastodon's
//! `manage_blocks`); lists paged by id with Link headers.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::api::accounts::bounds;
use crate::http::api::params::lenient;
use crate::http::api::{PageParams, Params, Token, paged};
use crate::mastodon::entities::time;
use crate::service::audit::Role;
use crate::service::email_blocks::{self, CanonicalEmailBlock, WithHistory};
use crate::service::ip_blocks::{self, Expiry, IpBlock};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/email_domain_blocks",
            get(list_domains).post(create_domain),
        )
        .route(
            "/api/v1/admin/email_domain_blocks/{id}",
            get(show_domain).delete(delete_domain),
        )
        .route("/api/v1/admin/ip_blocks", get(list_ips).post(create_ip))
        .route(
            "/api/v1/admin/ip_blocks/{id}",
            get(show_ip).put(update_ip).delete(delete_ip),
        )
        .route(
            "/api/v1/admin/canonical_email_blocks",
            get(list_canonical).post(create_canonical),
        )
        .route(
            "/api/v1/admin/canonical_email_blocks/test",
            post(test_canonical),
        )
        .route(
            "/api/v1/admin/canonical_email_blocks/{id}",
            get(show_canonical).delete(delete_canonical),
        )
}

fn id(raw: &str) -> Result<i64> {
    raw.parse().map_err(|_| Error::NotFound)
}

fn empty() -> Json<Value> {
    Json(Value::Object(Default::default()))
}

/// Mastodon's Admin::EmailDomainBlock, with its last seven days.
#[derive(Serialize)]
struct AdminEmailDomainBlock {
    id: String,
    domain: String,
    created_at: String,
    history: Vec<HistoryDay>,
}

/// One day: `day` is the UNIX time of its midnight (UTC); `uses` the
/// sign-up attempts, `accounts` the addresses they came from.
#[derive(Serialize)]
struct HistoryDay {
    day: String,
    accounts: String,
    uses: String,
}

impl From<WithHistory> for AdminEmailDomainBlock {
    fn from(b: WithHistory) -> Self {
        AdminEmailDomainBlock {
            id: b.block.id.to_string(),
            domain: b.block.domain,
            created_at: time(b.block.created_at),
            history: b
                .history
                .into_iter()
                .map(|(day, uses, ips)| HistoryDay {
                    day: day
                        .and_hms_opt(0, 0, 0)
                        .map(|d| d.and_utc().timestamp())
                        .unwrap_or_default()
                        .to_string(),
                    accounts: ips.to_string(),
                    uses: uses.to_string(),
                })
                .collect(),
        }
    }
}

async fn list_domains(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<PageParams>,
) -> Result<Response> {
    let staff = token.staff("admin:read:email_domain_blocks", Role::Admin)?;
    let rows = email_blocks::domains(&state, &staff, p.page(100, 200)).await?;
    let bounds = bounds(&rows, |r| r.block.id);
    let shown: Vec<AdminEmailDomainBlock> = rows.into_iter().map(Into::into).collect();
    Ok(paged(&state, &uri, shown, bounds))
}

async fn show_domain(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<AdminEmailDomainBlock>> {
    let staff = token.staff("admin:read:email_domain_blocks", Role::Admin)?;
    Ok(Json(
        email_blocks::domain(&state, &staff, id(&raw)?)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, Default)]
struct DomainParams {
    #[serde(default)]
    domain: String,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    allow_with_approval: Option<bool>,
}

async fn create_domain(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<DomainParams>,
) -> Result<Json<AdminEmailDomainBlock>> {
    let staff = token.staff("admin:write:email_domain_blocks", Role::Admin)?;
    let block = email_blocks::block_domain(
        &state,
        &staff,
        &p.domain,
        p.allow_with_approval.unwrap_or(false),
    )
    .await?;
    Ok(Json(block.into()))
}

async fn delete_domain(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let staff = token.staff("admin:write:email_domain_blocks", Role::Admin)?;
    email_blocks::unblock_domain(&state, &staff, id(&raw)?).await?;
    Ok(empty())
}

/// Mastodon's Admin::IpBlock.
#[derive(Serialize)]
struct AdminIpBlock {
    id: String,
    ip: String,
    severity: String,
    comment: String,
    created_at: String,
    expires_at: Option<String>,
}

impl From<IpBlock> for AdminIpBlock {
    fn from(b: IpBlock) -> Self {
        AdminIpBlock {
            id: b.id.to_string(),
            ip: b.ip,
            severity: b.severity,
            comment: b.comment,
            created_at: time(b.created_at),
            expires_at: b.expires_at.map(time),
        }
    }
}

async fn list_ips(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<PageParams>,
) -> Result<Response> {
    let staff = token.staff("admin:read:ip_blocks", Role::Admin)?;
    let rows = ip_blocks::list(&state, &staff, p.page(100, 200)).await?;
    let bounds = bounds(&rows, |r| r.id);
    let shown: Vec<AdminIpBlock> = rows.into_iter().map(Into::into).collect();
    Ok(paged(&state, &uri, shown, bounds))
}

async fn show_ip(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<AdminIpBlock>> {
    let staff = token.staff("admin:read:ip_blocks", Role::Admin)?;
    Ok(Json(
        ip_blocks::find(&state, &staff, id(&raw)?).await?.into(),
    ))
}

#[derive(Deserialize, Default)]
struct IpParams {
    ip: Option<String>,
    severity: Option<String>,
    comment: Option<String>,
    /// Seconds from now; empty for never, absent to keep (PUT).
    #[serde(default)]
    expires_in: Option<Value>,
}

impl IpParams {
    /// The request, over `current` for what is not given (PUT).
    fn request(self, current: Option<&IpBlock>) -> Result<ip_blocks::Request> {
        let expires = match &self.expires_in {
            None => Expiry::Keep,
            Some(Value::String(s)) if s.trim().is_empty() => Expiry::Never,
            Some(Value::Number(n)) => Expiry::In(n.as_i64().ok_or_else(not_seconds)?),
            Some(Value::String(s)) => Expiry::In(s.trim().parse().map_err(|_| not_seconds())?),
            Some(_) => return Err(not_seconds()),
        };
        Ok(ip_blocks::Request {
            ip: self
                .ip
                .or_else(|| current.map(|c| c.ip.clone()))
                .unwrap_or_default(),
            severity: self
                .severity
                .or_else(|| current.map(|c| c.severity.clone()))
                .unwrap_or_default(),
            comment: self
                .comment
                .or_else(|| current.map(|c| c.comment.clone()))
                .unwrap_or_default(),
            expires,
        })
    }
}

fn not_seconds() -> Error {
    Error::Validation("Validation failed: Expires in is not a number of seconds".into())
}

async fn create_ip(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<IpParams>,
) -> Result<Json<AdminIpBlock>> {
    let staff = token.staff("admin:write:ip_blocks", Role::Admin)?;
    let request = p.request(None)?;
    Ok(Json(
        ip_blocks::create(&state, &staff, &request).await?.into(),
    ))
}

async fn update_ip(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<IpParams>,
) -> Result<Json<AdminIpBlock>> {
    let staff = token.staff("admin:write:ip_blocks", Role::Admin)?;
    let id = id(&raw)?;
    let current = ip_blocks::find(&state, &staff, id).await?;
    let request = p.request(Some(&current))?;
    Ok(Json(
        ip_blocks::update(&state, &staff, id, &request)
            .await?
            .into(),
    ))
}

async fn delete_ip(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let staff = token.staff("admin:write:ip_blocks", Role::Admin)?;
    ip_blocks::delete(&state, &staff, id(&raw)?).await?;
    Ok(empty())
}

/// Mastodon's Admin::CanonicalEmailBlock.
#[derive(Serialize)]
struct AdminCanonicalEmailBlock {
    id: String,
    canonical_email_hash: String,
}

impl From<CanonicalEmailBlock> for AdminCanonicalEmailBlock {
    fn from(b: CanonicalEmailBlock) -> Self {
        AdminCanonicalEmailBlock {
            id: b.id.to_string(),
            canonical_email_hash: b.canonical_email_hash,
        }
    }
}

async fn list_canonical(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<PageParams>,
) -> Result<Response> {
    let staff = token.staff("admin:read:canonical_email_blocks", Role::Admin)?;
    let rows = email_blocks::canonical_blocks(&state, &staff, p.page(100, 200)).await?;
    let bounds = bounds(&rows, |r| r.id);
    let shown: Vec<AdminCanonicalEmailBlock> = rows.into_iter().map(Into::into).collect();
    Ok(paged(&state, &uri, shown, bounds))
}

async fn show_canonical(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<AdminCanonicalEmailBlock>> {
    let staff = token.staff("admin:read:canonical_email_blocks", Role::Admin)?;
    Ok(Json(
        email_blocks::canonical_block(&state, &staff, id(&raw)?)
            .await?
            .into(),
    ))
}

#[derive(Deserialize, Default)]
struct CanonicalParams {
    email: Option<String>,
    canonical_email_hash: Option<String>,
}

async fn create_canonical(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<CanonicalParams>,
) -> Result<Json<AdminCanonicalEmailBlock>> {
    let staff = token.staff("admin:write:canonical_email_blocks", Role::Admin)?;
    let block = email_blocks::block_canonical(
        &state,
        &staff,
        p.email.as_deref(),
        p.canonical_email_hash.as_deref(),
    )
    .await?;
    Ok(Json(block.into()))
}

#[derive(Deserialize, Default)]
struct TestParams {
    #[serde(default)]
    email: String,
}

/// `POST /api/v1/admin/canonical_email_blocks/test`: the blocks an address
/// matches (an empty list when none).
async fn test_canonical(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<TestParams>,
) -> Result<Json<Vec<AdminCanonicalEmailBlock>>> {
    let staff = token.staff("admin:read:canonical_email_blocks", Role::Admin)?;
    if p.email.trim().is_empty() {
        return Err(Error::Validation(
            "Validation failed: Email can't be blank".into(),
        ));
    }
    let found = email_blocks::test_canonical(&state, &staff, &p.email).await?;
    Ok(Json(found.into_iter().map(Into::into).collect()))
}

async fn delete_canonical(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let staff = token.staff("admin:write:canonical_email_blocks", Role::Admin)?;
    email_blocks::unblock_canonical(&state, &staff, id(&raw)?).await?;
    Ok(empty())
}
