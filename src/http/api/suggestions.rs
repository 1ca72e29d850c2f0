//! Follow suggestions (<https://docs.joinmastodon.org/methods/suggestions/>):
//! v2 with where each suggestion came from, v1 with the accounts alone,
//! and dismissing one for good.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::api::{OffsetParams, Params, Token, offset_paged};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::suggestions;
use crate::state::AppState;

/// Mastodon's page sizes (default, most).
const LIMITS: (i64, i64) = (40, 80);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/suggestions", get(v1))
        .route("/api/v1/suggestions/{account_id}", delete(dismiss))
        .route("/api/v2/suggestions", get(v2))
}

async fn v1(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<OffsetParams>,
) -> Result<Json<Vec<e::Account>>> {
    let (_, viewer) = token.user("read")?;
    let (limit, _) = p.get(LIMITS.0, LIMITS.1);
    let found = suggestions::get(&state, viewer, limit, 0).await?;
    let actors: Vec<_> = found.into_iter().map(|s| s.account).collect();
    Ok(Json(
        Presenter::new(&state, Some(viewer))
            .accounts(&actors)
            .await?,
    ))
}

async fn v2(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<OffsetParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read")?;
    let (limit, offset) = p.get(LIMITS.0, LIMITS.1);
    let found = suggestions::get(&state, viewer, limit, offset).await?;
    let actors: Vec<_> = found.iter().map(|s| s.account.clone()).collect();
    let accounts = Presenter::new(&state, Some(viewer))
        .accounts(&actors)
        .await?;
    let shown: Vec<e::Suggestion> = found
        .iter()
        .zip(accounts)
        .map(|(s, account)| e::Suggestion {
            source: s.sources[0].legacy(),
            sources: s.sources.iter().map(|s| s.as_str()).collect(),
            account,
        })
        .collect();
    Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
}

async fn dismiss(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("read")?;
    let target: i64 = raw.parse().map_err(|_| Error::NotFound)?;
    suggestions::dismiss(&state, viewer, target).await?;
    Ok(Json(json!({})))
}
