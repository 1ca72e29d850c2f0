//! `POST /api/v1/accounts`: sign-up by an app.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::http::api::{Params, Token, params::lenient};
use crate::http::client_ip::ClientIp;
use crate::service::accounts;
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct Registration {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    agreement: bool,
    #[serde(default)]
    reason: String,
}

/// Sign-up by an app (with an app token), as the registration mode allows;
/// answers with a token for the new account (usable once approved).
pub(super) async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    token: Token,
    Params(p): Params<Registration>,
) -> Result<Json<serde_json::Value>> {
    token.require("write:accounts")?;
    let app = token.app.as_ref().ok_or(Error::Forbidden(
        "This method requires an application token".into(),
    ))?;
    if !p.agreement {
        return Err(Error::Validation(
            "agreement must be accepted to sign up".into(),
        ));
    }
    let created = accounts::sign_up(
        &state,
        accounts::SignUp {
            username: &p.username,
            email: &p.email,
            password: &p.password,
            reason: &p.reason,
            ip: &ip,
            accepted_rules: p.agreement,
            app_id: Some(app.id),
        },
    )
    .await?;
    let grant =
        crate::service::oauth::issue_for_user(&state, app, &created.user, &token.scopes).await?;
    Ok(Json(crate::http::oauth::token_json(&grant)))
}
