//! `POST /api/v1/emails/confirmations`: mails the confirmation link again,
//! for an app whose sign-up (`POST /api/v1/accounts`) is still unconfirmed;
//! its token is the one the sign-up answered with.
//! `GET /api/v1/emails/check_confirmation`: whether that address is
//! confirmed yet (`true`/`false`).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::error::Result;
use crate::http::api::auth::BearerText;
use crate::service::account_mail;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/emails/confirmations", post(resend))
        .route("/api/v1/emails/check_confirmation", get(check))
}

async fn resend(
    State(state): State<AppState>,
    BearerText(token): BearerText,
) -> Result<Json<serde_json::Value>> {
    account_mail::resend_for_token(&state, &token).await?;
    Ok(Json(serde_json::json!({})))
}

async fn check(State(state): State<AppState>, BearerText(token): BearerText) -> Result<Json<bool>> {
    Ok(Json(
        account_mail::confirmed_for_token(&state, &token).await?,
    ))
}
