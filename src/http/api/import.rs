//! `POST /api/v1/import`: GoToSocial's import of Mastodon's CSV lists
//! (Mastodon's own import is web only). Multipart: the file in `data`,
//! `type` (`following`, `blocks`, and here also `mutes`, `domain_blocks`)
//! and `mode` (`merge` or `overwrite`). The import is queued as on the web
//! settings page; 202 once queued.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::domain::portability::{ListKind, Mode};
use crate::error::{Error, Result};
use crate::http::api::Token;
use crate::http::api::params::WithFiles;
use crate::service::portability;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/import", post(import))
}

#[derive(Deserialize)]
struct ImportParams {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    mode: String,
}

/// GoToSocial's type names, and Mastodon's import form's.
fn kind_and_scope(kind: &str) -> Option<(ListKind, &'static str)> {
    match kind {
        "following" => Some((ListKind::Following, "write:follows")),
        "blocks" | "blocking" => Some((ListKind::Blocks, "write:blocks")),
        "mutes" | "muting" => Some((ListKind::Mutes, "write:mutes")),
        "domain_blocks" | "domain_blocking" => Some((ListKind::DomainBlocks, "write:blocks")),
        _ => None,
    }
}

async fn import(
    State(state): State<AppState>,
    token: Token,
    form: WithFiles<ImportParams>,
) -> Result<(StatusCode, Json<serde_json::Value>)> {
    let (kind, scope) = kind_and_scope(&form.params.kind).ok_or_else(|| {
        Error::Validation(format!("`{}` is not a kind of import", form.params.kind))
    })?;
    let (_, actor) = token.user(scope)?;
    let mode = match form.params.mode.as_str() {
        "" => Mode::Merge,
        other => Mode::parse(other)
            .ok_or_else(|| Error::Validation(format!("`{other}` is not an import mode")))?,
    };
    let data = form
        .files
        .get("data")
        .filter(|d| !d.is_empty())
        .ok_or_else(|| Error::Validation("data is missing".into()))?;
    let text = std::str::from_utf8(data)
        .map_err(|_| Error::Validation("the file is not UTF-8 text".into()))?;
    portability::start_import(&state, actor, kind, mode, text).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({}))))
}
