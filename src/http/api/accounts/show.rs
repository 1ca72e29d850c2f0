//! `GET /api/v1/accounts/{id}`, `GET /api/v1/accounts?id[]=`, `/lookup` and
//! `/search`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::error::Result;
use crate::http::api::{MaybeToken, Params, Token, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::accounts;
use crate::state::AppState;

use super::profile_account;

pub(super) async fn show(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<e::Account>> {
    let viewer = token.viewer("read:accounts")?;
    let actor = profile_account(&state, viewer, &raw).await?;
    Ok(Json(Presenter::new(&state, viewer).account(&actor).await?))
}

/// `GET /api/v1/accounts/{id}/identity_proofs`: Mastodon removed identity
/// proofs (Keybase) in 3.5 and answers an empty list for any account it
/// shows; apps still ask.
pub(super) async fn identity_proofs(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<Vec<serde_json::Value>>> {
    let viewer = token.viewer("read:accounts")?;
    profile_account(&state, viewer, &raw).await?;
    Ok(Json(Vec::new()))
}

#[derive(Deserialize)]
pub(super) struct IdList {
    #[serde(default, deserialize_with = "lenient::list")]
    id: Vec<String>,
}

pub(super) async fn many(
    State(state): State<AppState>,
    token: MaybeToken,
    Params(p): Params<IdList>,
) -> Result<Json<Vec<e::Account>>> {
    let viewer = token.viewer("read:accounts")?;
    let ids: Vec<i64> =
        p.id.iter()
            .filter_map(|i| i.parse().ok())
            .take(40)
            .collect();
    let actors = accounts::many_by_id(&state, &ids).await?;
    Ok(Json(
        Presenter::new(&state, viewer).accounts(&actors).await?,
    ))
}

#[derive(Deserialize)]
pub(super) struct Lookup {
    acct: String,
}

pub(super) async fn lookup(
    State(state): State<AppState>,
    token: MaybeToken,
    Params(p): Params<Lookup>,
) -> Result<Json<e::Account>> {
    let viewer = token.viewer("read:accounts")?;
    let actor = accounts::by_handle(&state, viewer, &p.acct).await?;
    Ok(Json(Presenter::new(&state, viewer).account(&actor).await?))
}

#[derive(Deserialize)]
pub(super) struct SearchQuery {
    q: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
    #[serde(default, deserialize_with = "lenient::bool")]
    resolve: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    following: bool,
}

pub(super) async fn search(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<SearchQuery>,
) -> Result<Json<Vec<e::Account>>> {
    let (_, viewer) = token.user("read:accounts")?;
    let found = accounts::search(
        &state,
        Some(viewer),
        &p.q,
        p.resolve,
        p.following,
        p.limit.unwrap_or(40).clamp(1, 80),
        p.offset.unwrap_or(0).max(0),
    )
    .await?;
    Ok(Json(
        Presenter::new(&state, Some(viewer))
            .accounts(&found)
            .await?,
    ))
}
