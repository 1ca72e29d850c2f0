//! `/api/v2/media`, `/api/v1/media/:id` (<https://docs.joinmastodon.org/methods/media/>):
//! uploads, with alt text and focal point, before a status takes them.
//! Images answer 200 at once; video and audio answer 202 with a null `url`
//! while they are transcoded, and `GET /api/v1/media/:id` answers 206 until
//! they are ready (200), or 422 if transcoding failed, as Mastodon does.

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::domain::media::UploadState;
use crate::error::{Error, Result};
use crate::http::api::params::WithFiles;
use crate::http::api::{Params, Token, id};
use crate::mastodon::entities as e;
use crate::ratelimit;
use crate::service::media::{self, MediaAttachment};
use crate::state::AppState;

/// Room for the form around the largest image accepted.
pub const FORM_OVERHEAD: usize = 64 * 1024;

/// The largest upload body: the largest image or video, and the form.
pub fn upload_body_limit(media: &crate::config::MediaConfig) -> usize {
    media.max_image_bytes.max(media.max_video_bytes) + FORM_OVERHEAD
}

pub fn routes(media: &crate::config::MediaConfig) -> Router<AppState> {
    let uploads = Router::new()
        .route("/api/v2/media", post(upload))
        .route("/api/v1/media", post(upload))
        .layer(DefaultBodyLimit::max(upload_body_limit(media)));
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
) -> Result<(StatusCode, Json<e::MediaAttachment>)> {
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
    let status = if uploaded.state == UploadState::Processing {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(entity(&uploaded))))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<(StatusCode, Json<e::MediaAttachment>)> {
    let (_, owner) = token.user("write:media")?;
    let found = media::find(&state, owner, id(&raw)?).await?;
    match found.state {
        UploadState::Processing => Ok((StatusCode::PARTIAL_CONTENT, Json(entity(&found)))),
        UploadState::Failed => Err(Error::Validation(
            "the file could not be processed; upload it again or another".into(),
        )),
        UploadState::Ready => Ok((StatusCode::OK, Json(entity(&found)))),
    }
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
    // Mastodon's meta: of audio, only the length and bit rate; of video,
    // the size with them; the preview's size as `small`.
    let mut original = if m.kind == "audio" {
        json!({})
    } else {
        dims(&m.meta.original)
    };
    if let Some(playback) = &m.meta.playback {
        original["duration"] = json!(playback.duration);
        if let Some(rate) = &playback.frame_rate {
            original["frame_rate"] = json!(rate);
        }
        if let Some(bitrate) = playback.bitrate {
            original["bitrate"] = json!(bitrate);
        }
    }
    let ready = m.state == UploadState::Ready;
    let mut meta = json!({ "original": original });
    if ready {
        meta["small"] = dims(&m.meta.small);
    }
    if let Some(focus) = &m.focus {
        meta["focus"] = json!({"x": focus.x, "y": focus.y});
    }
    e::MediaAttachment {
        id: m.id.to_string(),
        kind: m.kind.to_string(),
        // Null until the file is there, as Mastodon shows it.
        url: ready.then(|| m.url.clone()),
        preview_url: ready.then(|| m.preview_url.clone()),
        remote_url: None,
        meta,
        description: m.description.clone(),
        blurhash: m.blurhash.clone(),
    }
}
