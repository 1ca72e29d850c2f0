//! `DELETE /api/v1/profile/avatar` and `/header` (Mastodon 4.2).

use axum::extract::{Path, State};
use axum::{Json, Router};

use crate::error::{Error, Result};
use crate::http::api::Token;
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::profiles;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/v1/profile/{picture}",
        axum::routing::delete(delete_picture),
    )
}

/// `DELETE /api/v1/profile/avatar` and `/header` (Mastodon 4.2): back to
/// the default picture; the account as it then is.
async fn delete_picture(
    State(state): State<AppState>,
    token: Token,
    Path(picture): Path<String>,
) -> Result<Json<e::CredentialAccount>> {
    let (user, actor) = token.user("write:accounts")?;
    let change = match picture.as_str() {
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
