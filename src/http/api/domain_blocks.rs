//! `/api/v1/domain_blocks` (<https://docs.joinmastodon.org/methods/domain_blocks/>):
//! the signed-in user's own domain blocks.

use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::api::accounts::bounds;
use crate::http::api::{PageParams, Params, Token, paged};
use crate::service::domain_blocks::{self, DEFAULT_LIMIT, MAX_LIMIT};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/domain_blocks",
        get(index).post(block).delete(unblock),
    )
}

async fn index(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:blocks")?;
    let rows = domain_blocks::list(&state, viewer, page.page(DEFAULT_LIMIT, MAX_LIMIT)).await?;
    let bounds = bounds(&rows, |b| b.id);
    let domains: Vec<String> = rows.into_iter().map(|b| b.domain).collect();
    Ok(paged(&state, &uri, domains, bounds))
}

#[derive(Deserialize)]
struct DomainParams {
    domain: Option<String>,
}

impl DomainParams {
    fn domain(&self) -> Result<&str> {
        self.domain
            .as_deref()
            .ok_or_else(|| Error::Validation("Validation failed: Domain can't be blank".into()))
    }
}

async fn block(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<DomainParams>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:blocks")?;
    domain_blocks::block(&state, viewer, p.domain()?).await?;
    Ok(Json(json!({})))
}

async fn unblock(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<DomainParams>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:blocks")?;
    domain_blocks::unblock(&state, viewer, p.domain()?).await?;
    Ok(Json(json!({})))
}
