//! `POST /api/v1/accounts/alias`, `/move` and `/delete` (GoToSocial's):
//! account aliases, moving out, deleting the account.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::error::Result;
use crate::http::api::{Params, Token};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::{deletion, moves};
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct AliasParams {
    /// Accounts that may move here (`user@host` or their URLs); empty
    /// clears them.
    #[serde(default)]
    also_known_as_uris: Vec<String>,
}

/// `POST /api/v1/accounts/alias`: GoToSocial's (Mastodon's is web only):
/// the old accounts that may move to this one, as the web's account
/// aliases; the updated account.
pub(super) async fn set_aliases(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<AliasParams>,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token.user("write:accounts")?;
    let updated = moves::set_aliases(&state, actor, &p.also_known_as_uris).await?;
    let presenter = Presenter::new(&state, Some(&updated));
    Ok(Json(presenter.credential_account(user, &updated).await?))
}

#[derive(Deserialize)]
pub(super) struct MoveParams {
    #[serde(default)]
    password: String,
    #[serde(default)]
    moved_to_uri: String,
}

/// `POST /api/v1/accounts/move`: GoToSocial's: moves this account's
/// followers to `moved_to_uri` (which must list this account among its
/// aliases), confirmed by the password; 202 once the Move is queued.
pub(super) async fn move_account(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<MoveParams>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>)> {
    let (user, actor) = token.user("write:accounts")?;
    moves::move_to(&state, user, actor, &p.moved_to_uri, &p.password).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(serde_json::json!({ "message": "accepted" })),
    ))
}

#[derive(Deserialize)]
pub(super) struct DeleteAccount {
    #[serde(default)]
    password: String,
}

/// `POST /api/v1/accounts/delete`: GoToSocial's (Mastodon has no API for
/// it), with the account's password; 202 once the account is gone and its
/// Delete queued.
pub(super) async fn delete_account(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<DeleteAccount>,
) -> Result<(axum::http::StatusCode, Json<serde_json::Value>)> {
    let (user, actor) = token.user("write:accounts")?;
    deletion::delete_account(&state, user, actor, &p.password).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        Json(serde_json::json!({ "message": "accepted" })),
    ))
}
