//! `GET /api/v1/async_refreshes/{id}` (Mastodon 4.4): how a background job
//! named by a `Mastodon-Async-Refresh` header is doing; so far the fetch
//! of a remote thread's replies (`service::reply_fetches`).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::api::Token;
use crate::service::reply_fetches;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/async_refreshes/{id}", get(show))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    token.user("read")?;
    let id: i64 = raw.parse().map_err(|_| Error::NotFound)?;
    let refresh = reply_fetches::find(&state, id).await?;
    Ok(Json(json!({
        "async_refresh": {
            "id": refresh.id.to_string(),
            "status": if refresh.running { "running" } else { "finished" },
            "result_count": refresh.result_count,
        }
    })))
}
