//! Annual reports ("Wrapstodon",
//! <https://docs.joinmastodon.org/methods/annual_reports/>): the account's
//! reports not read yet (`GET /api/v1/annual_reports`, this year's made on
//! the first look during the campaign), one by year, and marking one read.
//! Each answer is Mastodon's WrappedAnnualReports: the reports with the
//! accounts and posts they name.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::api::Token;
use crate::mastodon::Presenter;
use crate::service::annual_reports::{self, AnnualReport};
use crate::service::types::Actor;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/annual_reports", get(index))
        .route("/api/v1/annual_reports/{id}", get(show))
        .route("/api/v1/annual_reports/{id}/read", post(read))
}

fn year(raw: &str) -> Result<i32> {
    raw.parse().map_err(|_| Error::NotFound)
}

async fn wrapped(state: &AppState, viewer: &Actor, reports: &[AnnualReport]) -> Result<Value> {
    let (actors, posts) = annual_reports::referenced(state, viewer, reports).await?;
    let presenter = Presenter::new(state, Some(viewer));
    let accounts = presenter.accounts(&actors).await?;
    let statuses = presenter.statuses(&posts).await?;
    Ok(json!({
        "annual_reports": reports.iter().map(|r| json!({
            "year": r.year,
            "data": r.data.0,
            "schema_version": r.schema_version,
        })).collect::<Vec<_>>(),
        "accounts": accounts,
        "statuses": statuses,
    }))
}

async fn index(State(state): State<AppState>, token: Token) -> Result<Json<Value>> {
    let (_, viewer) = token.user("read:accounts")?;
    let reports = annual_reports::pending(&state, viewer).await?;
    Ok(Json(wrapped(&state, viewer, &reports).await?))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("read:accounts")?;
    let report = annual_reports::get(&state, viewer, year(&raw)?).await?;
    Ok(Json(wrapped(&state, viewer, &[report]).await?))
}

async fn read(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:accounts")?;
    annual_reports::mark_read(&state, viewer, year(&raw)?).await?;
    Ok(Json(json!({})))
}
