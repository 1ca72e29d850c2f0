//! `DELETE /api/v1/profile/avatar` and `/header` (Mastodon 4.2).

use axum::extract::State;
use axum::{Json, Router};

use crate::error::{Error, Result};
use crate::http::api::Token;
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::profiles;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/profile/avatar",
            axum::routing::delete(|state: State<AppState>, token: Token| {
                delete_picture(state, token, "avatar")
            }),
        )
        .route(
            "/api/v1/profile/header",
            axum::routing::delete(|state: State<AppState>, token: Token| {
                delete_picture(state, token, "header")
            }),
        )
}

/// `DELETE /api/v1/profile/avatar` and `/header` (Mastodon 4.2): back to
/// the default picture; the account as it then is.
async fn delete_picture(
    State(state): State<AppState>,
    token: Token,
    picture: &'static str,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token.user("write:accounts")?;
    let change = match picture {
        "avatar" => profiles::ProfileUpdate {
            remove_avatar: true,
            ..Default::default()
        },
        "header" => profiles::ProfileUpdate {
            remove_header: true,
            ..Default::default()
        },
        _ => return Err(Error::NotFound),
    };
    let updated = profiles::update(&state, actor, change).await?;
    let presenter = Presenter::new(&state, Some(&updated));
    Ok(Json(presenter.credential_account(user, &updated).await?))
}
