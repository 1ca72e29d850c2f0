//! The instance's domain policy in Mastodon's admin API
//! (<https://docs.joinmastodon.org/methods/admin/domain_blocks/>,
//! `/admin/domain_allows`), and the public list of blocked domains
//! (`/api/v1/instance/domain_blocks`). Admins only; every change is in the
//! audit log.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::http::api::params::lenient;
use crate::http::api::{Params, Token};
use crate::mastodon::entities::time;
use crate::service::audit::Role;
use crate::service::domain_policy::{self, BlockRequest, Severity};
use crate::service::types::{DomainAllow, DomainBlock};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/admin/domain_blocks",
            get(list_blocks).post(create_block),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(show_block).put(update_block).delete(delete_block),
        )
        .route(
            "/api/v1/admin/domain_allows",
            get(list_allows).post(create_allow),
        )
        .route(
            "/api/v1/admin/domain_allows/{id}",
            get(show_allow).delete(delete_allow),
        )
        .route("/api/v1/instance/domain_blocks", get(public_blocks))
}

/// Mastodon's Admin::DomainBlock.
#[derive(Serialize)]
struct AdminDomainBlock {
    id: String,
    domain: String,
    digest: String,
    created_at: String,
    severity: String,
    reject_media: bool,
    reject_reports: bool,
    private_comment: Option<String>,
    public_comment: Option<String>,
    obfuscate: bool,
}

fn digest(domain: &str) -> String {
    format!("{:x}", Sha256::digest(domain.as_bytes()))
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

impl From<DomainBlock> for AdminDomainBlock {
    fn from(b: DomainBlock) -> Self {
        AdminDomainBlock {
            id: b.id.to_string(),
            digest: digest(&b.domain),
            created_at: time(b.created_at),
            severity: b.severity,
            reject_media: b.reject_media,
            reject_reports: b.reject_reports,
            private_comment: non_empty(&b.private_comment),
            public_comment: non_empty(&b.public_comment),
            obfuscate: b.obfuscate,
            domain: b.domain,
        }
    }
}

/// Mastodon's Admin::DomainAllow.
#[derive(Serialize)]
struct AdminDomainAllow {
    id: String,
    domain: String,
    created_at: String,
}

impl From<DomainAllow> for AdminDomainAllow {
    fn from(a: DomainAllow) -> Self {
        AdminDomainAllow {
            id: a.id.to_string(),
            domain: a.domain,
            created_at: time(a.created_at),
        }
    }
}

fn id(raw: &str) -> Result<i64> {
    raw.parse().map_err(|_| Error::NotFound)
}

async fn list_blocks(
    State(state): State<AppState>,
    token: Token,
) -> Result<Json<Vec<AdminDomainBlock>>> {
    token.staff("admin:read:domain_blocks", Role::Admin)?;
    let blocks = domain_policy::list(&state.db).await?;
    Ok(Json(blocks.into_iter().map(Into::into).collect()))
}

async fn show_block(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<AdminDomainBlock>> {
    token.staff("admin:read:domain_blocks", Role::Admin)?;
    Ok(Json(
        domain_policy::find(&state.db, id(&raw)?).await?.into(),
    ))
}

#[derive(Deserialize, Default)]
struct BlockParams {
    domain: Option<String>,
    severity: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    reject_media: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    reject_reports: Option<bool>,
    private_comment: Option<String>,
    public_comment: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    obfuscate: Option<bool>,
}

impl BlockParams {
    /// The request, over `current` for the parameters not given (PUT).
    fn request(self, current: Option<&DomainBlock>) -> Result<BlockRequest> {
        let severity = match (self.severity.as_deref(), current) {
            (Some(raw), _) => Severity::parse(raw).ok_or_else(|| {
                Error::Validation(format!("Validation failed: Severity {raw:?} is not valid"))
            })?,
            (None, Some(c)) => Severity::parse(&c.severity).unwrap_or(Severity::Silence),
            // Mastodon's default severity.
            (None, None) => Severity::Silence,
        };
        let domain = match (self.domain, current) {
            (Some(d), _) => d,
            (None, Some(c)) => c.domain.clone(),
            (None, None) => {
                return Err(Error::Validation(
                    "Validation failed: Domain can't be blank".into(),
                ));
            }
        };
        Ok(BlockRequest {
            domain,
            severity,
            reject_media: self
                .reject_media
                .unwrap_or(current.is_some_and(|c| c.reject_media)),
            reject_reports: self
                .reject_reports
                .unwrap_or(current.is_some_and(|c| c.reject_reports)),
            private_comment: self
                .private_comment
                .or_else(|| current.map(|c| c.private_comment.clone()))
                .unwrap_or_default(),
            public_comment: self
                .public_comment
                .or_else(|| current.map(|c| c.public_comment.clone()))
                .unwrap_or_default(),
            obfuscate: self
                .obfuscate
                .unwrap_or(current.is_some_and(|c| c.obfuscate)),
        })
    }
}

async fn create_block(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<BlockParams>,
) -> Result<Json<AdminDomainBlock>> {
    let staff = token.staff("admin:write:domain_blocks", Role::Admin)?;
    let request = p.request(None)?;
    Ok(Json(
        domain_policy::block(&state, &staff, &request).await?.into(),
    ))
}

async fn update_block(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<BlockParams>,
) -> Result<Json<AdminDomainBlock>> {
    let staff = token.staff("admin:write:domain_blocks", Role::Admin)?;
    let id = id(&raw)?;
    let current = domain_policy::find(&state.db, id).await?;
    let request = p.request(Some(&current))?;
    Ok(Json(
        domain_policy::update(&state, &staff, id, &request)
            .await?
            .into(),
    ))
}

async fn delete_block(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let staff = token.staff("admin:write:domain_blocks", Role::Admin)?;
    domain_policy::unblock(&state, &staff, id(&raw)?).await?;
    Ok(Json(Value::Object(Default::default())))
}

async fn list_allows(
    State(state): State<AppState>,
    token: Token,
) -> Result<Json<Vec<AdminDomainAllow>>> {
    token.staff("admin:read:domain_allows", Role::Admin)?;
    let allows = domain_policy::allows(&state.db).await?;
    Ok(Json(allows.into_iter().map(Into::into).collect()))
}

async fn show_allow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<AdminDomainAllow>> {
    token.staff("admin:read:domain_allows", Role::Admin)?;
    let id = id(&raw)?;
    domain_policy::allows(&state.db)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| Json(a.into()))
        .ok_or(Error::NotFound)
}

#[derive(Deserialize, Default)]
struct AllowParams {
    domain: Option<String>,
}

async fn create_allow(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<AllowParams>,
) -> Result<Json<AdminDomainAllow>> {
    let staff = token.staff("admin:write:domain_allows", Role::Admin)?;
    let domain = p
        .domain
        .ok_or_else(|| Error::Validation("Validation failed: Domain can't be blank".into()))?;
    Ok(Json(
        domain_policy::allow(&state, &staff, &domain).await?.into(),
    ))
}

async fn delete_allow(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let staff = token.staff("admin:write:domain_allows", Role::Admin)?;
    domain_policy::disallow(&state, &staff, id(&raw)?).await?;
    Ok(Json(Value::Object(Default::default())))
}

/// Mastodon's public DomainBlock: an obfuscated domain has its middle
/// letters replaced with `*`.
#[derive(Serialize)]
struct PublicDomainBlock {
    domain: String,
    digest: String,
    severity: String,
    comment: Option<String>,
}

fn obfuscated(domain: &str) -> String {
    let chars: Vec<char> = domain.chars().collect();
    let n = chars.len();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if *c != '.' && i > 0 && i + 1 < n && i % 3 != 0 {
                '*'
            } else {
                *c
            }
        })
        .collect()
}

/// `GET /api/v1/instance/domain_blocks`: shown to signed-in users
/// (Mastodon's default), with what the admins chose to say.
async fn public_blocks(
    State(state): State<AppState>,
    token: Token,
) -> Result<Json<Vec<PublicDomainBlock>>> {
    token.user("read")?;
    let blocks = domain_policy::list(&state.db).await?;
    Ok(Json(
        blocks
            .into_iter()
            .filter(|b| b.severity != "noop" || b.reject_media)
            .map(|b| PublicDomainBlock {
                digest: digest(&b.domain),
                domain: if b.obfuscate {
                    obfuscated(&b.domain)
                } else {
                    b.domain.clone()
                },
                severity: b.severity,
                comment: non_empty(&b.public_comment),
            })
            .collect(),
    ))
}
