//! `/api/v1/preferences` (<https://docs.joinmastodon.org/methods/preferences/>).

use axum::Json;
use axum::Router;
use axum::routing::get;

use crate::error::Result;
use crate::http::api::Token;
use crate::mastodon::{entities as e, present};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/preferences", get(show))
}

/// The token already carries the user's row: nothing more to read.
async fn show(token: Token) -> Result<Json<e::Preferences>> {
    let (user, _) = token.user("read:accounts")?;
    Ok(Json(present::preferences(user)))
}
