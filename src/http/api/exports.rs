//! `GET /api/v1/exports/*.csv`: GoToSocial's downloads of an account's
//! lists in Mastodon's CSV formats (Mastodon's own export is web only), the
//! same files as the web settings' export page: `following.csv`,
//! `blocks.csv`, `mutes.csv`, `lists.csv`, and here also
//! `domain_blocks.csv` and `bookmarks.csv`.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use crate::domain::portability::ListKind;
use crate::error::{Error, Result};
use crate::http::api::Token;
use crate::service::portability;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/exports/{file}", get(export))
}

async fn export(
    State(state): State<AppState>,
    token: Token,
    Path(file): Path<String>,
) -> Result<Response> {
    let (kind, scope) = match file.as_str() {
        "following.csv" => (Some(ListKind::Following), "read:follows"),
        "blocks.csv" => (Some(ListKind::Blocks), "read:blocks"),
        "mutes.csv" => (Some(ListKind::Mutes), "read:mutes"),
        "domain_blocks.csv" => (Some(ListKind::DomainBlocks), "read:blocks"),
        "lists.csv" => (None, "read:lists"),
        "bookmarks.csv" => (None, "read:bookmarks"),
        _ => return Err(Error::NotFound),
    };
    let (_, actor) = token.user(scope)?;
    let body = match kind {
        Some(kind) => portability::export_csv(&state, actor, kind).await?,
        None if file == "lists.csv" => portability::export_lists_csv(&state, actor).await?,
        None => portability::export_bookmarks_csv(&state, actor).await?,
    };
    Ok(crate::http::download(
        "text/csv; charset=utf-8",
        &file,
        body,
    ))
}
