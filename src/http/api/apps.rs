//! `POST /api/v1/apps` and `GET /api/v1/apps/verify_credentials`
//! (<https://docs.joinmastodon.org/methods/apps/>).

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::api::{Params, Token, params::lenient};
use crate::mastodon::entities as e;
use crate::service::oauth;
use crate::service::types::App;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/apps", post(create))
        .route("/api/v1/apps/verify_credentials", get(verify_credentials))
}

#[derive(Deserialize)]
struct NewApp {
    #[serde(default)]
    client_name: String,
    /// One URI, several separated by newlines, or a list.
    #[serde(default)]
    redirect_uris: Value,
    #[serde(default)]
    scopes: Option<String>,
    #[serde(default)]
    website: Option<String>,
}

async fn create(State(state): State<AppState>, Params(p): Params<NewApp>) -> Result<Json<e::App>> {
    let redirect_uris = match p.redirect_uris {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s],
        other => lenient::list(other).map_err(|e| Error::Validation(e.to_string()))?,
    };
    let app = oauth::register(
        &state,
        oauth::Registration {
            name: &p.client_name,
            website: p.website.as_deref(),
            redirect_uris,
            scopes: p.scopes.as_deref().unwrap_or("read"),
        },
    )
    .await?;
    Ok(Json(entity(&state, &app, true)))
}

async fn verify_credentials(State(state): State<AppState>, token: Token) -> Result<Json<e::App>> {
    let app = token.app.as_ref().ok_or(Error::NotFound)?;
    Ok(Json(entity(&state, app, false)))
}

pub fn entity(state: &AppState, app: &App, with_secret: bool) -> e::App {
    e::App {
        id: app.id.to_string(),
        name: app.name.clone(),
        website: app.website.clone(),
        scopes: app.scopes.split(' ').map(String::from).collect(),
        redirect_uri: app.redirect_uris.join("\n"),
        redirect_uris: app.redirect_uris.clone(),
        vapid_key: crate::service::push::vapid_public_key(state),
        client_id: with_secret.then(|| app.client_id.clone()),
        client_secret: with_secret.then(|| app.client_secret.clone()),
        client_secret_expires_at: with_secret.then_some(0),
    }
}
