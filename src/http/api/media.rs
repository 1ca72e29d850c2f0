//! `/api/v2/media`, `/api/v1/media/:id` (<https://docs.joinmastodon.org/methods/media/>):
//! image uploads, with alt text and focal point, before a status takes them.

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::http::api::params::WithFiles;
use crate::http::api::{Params, Token, id};
use crate::mastodon::entities as e;
use crate::ratelimit;
use crate::service::media::{self, MediaAttachment};
use crate::state::AppState;

/// Room for the form around the largest image accepted.
pub const FORM_OVERHEAD: usize = 64 * 1024;

pub fn routes(max_image_bytes: usize) -> Router<AppState> {
    let uploads = Router::new()
        .route("/api/v2/media", post(upload))
        .route("/api/v1/media", post(upload))
        .layer(DefaultBodyLimit::max(max_image_bytes + FORM_OVERHEAD));
    Router::new().merge(uploads).route(
        "/api/v1/media/{id}",
        get(show).put(describe).delete(discard),
    )
}

#[derive(Deserialize, Default)]
struct MediaParams {
    description: Option<String>,
    focus: Option<String>,
}

async fn upload(
    State(state): State<AppState>,
    token: Token,
    form: WithFiles<MediaParams>,
) -> Result<Json<e::MediaAttachment>> {
    let (_, owner) = token.user("write:media")?;
    if !state
        .limits
        .hit(ratelimit::MEDIA, &owner.id.to_string())
        .await?
        .allowed
    {
        return Err(Error::TooManyRequests);
    }
    let WithFiles { params, mut files } = form;
    let file = files
        .remove("file")
        .ok_or_else(|| Error::Validation("file is required".into()))?;
    let uploaded = media::upload(
        &state,
        owner,
        file,
        params.description.as_deref(),
        params.focus.as_deref(),
    )
    .await?;
    Ok(Json(entity(&uploaded)))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::MediaAttachment>> {
    let (_, owner) = token.user("write:media")?;
    let found = media::find(&state, owner, id(&raw)?).await?;
    Ok(Json(entity(&found)))
}

async fn describe(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<MediaParams>,
) -> Result<Json<e::MediaAttachment>> {
    let (_, owner) = token.user("write:media")?;
    let updated = media::update(
        &state,
        owner,
        id(&raw)?,
        p.description.as_deref(),
        p.focus.as_deref(),
    )
    .await?;
    Ok(Json(entity(&updated)))
}

/// `DELETE /api/v1/media/:id` (Mastodon 4.4): an upload no post uses.
async fn discard(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<serde_json::Value>> {
    let (_, owner) = token.user("write:media")?;
    media::discard(&state, owner, id(&raw)?).await?;
    Ok(Json(json!({})))
}

pub fn entity(m: &MediaAttachment) -> e::MediaAttachment {
    let dims = |d: &crate::service::types::Dimensions| json!({"width": d.width, "height": d.height, "size": d.size, "aspect": d.aspect});
    let mut meta = json!({
        "original": dims(&m.meta.original),
        "small": dims(&m.meta.small),
    });
    if let Some(focus) = &m.focus {
        meta["focus"] = json!({"x": focus.x, "y": focus.y});
    }
    e::MediaAttachment {
        id: m.id.to_string(),
        kind: m.kind.to_string(),
        url: m.url.clone(),
        preview_url: Some(m.preview_url.clone()),
        remote_url: None,
        meta,
        description: m.description.clone(),
        blurhash: m.blurhash.clone(),
    }
}
