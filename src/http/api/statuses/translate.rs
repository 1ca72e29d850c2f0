//! `POST /api/v1/statuses/{id}/translate`: a post's content, content
//! warning, media descriptions and poll options in another language
//! (Mastodon's Translation entity), through `service::translation`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Result;
use crate::http::api::{Params, Token};
use crate::mastodon::Presenter;
use crate::service::translation::{self, Source};
use crate::state::AppState;

use super::visible_post;

#[derive(Deserialize)]
pub(super) struct TranslateParams {
    /// The language to translate into; the request's Accept-Language (or
    /// English) when not given.
    #[serde(default)]
    lang: Option<String>,
}

/// The first language the request accepts, as Mastodon falls back to the
/// request's locale.
fn accepted_language(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let first = raw.split(',').next()?.split(';').next()?.trim();
    let code = first.split(['-', '_']).next()?.to_ascii_lowercase();
    (!code.is_empty() && code != "*" && code.chars().all(|c| c.is_ascii_alphabetic()))
        .then_some(code)
}

pub(super) async fn translate(
    State(state): State<AppState>,
    token: Token,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Params(p): Params<TranslateParams>,
) -> Result<Json<Value>> {
    token.require("read:statuses")?;
    let viewer = token.account.as_ref().map(|(_, a)| a);
    let post = visible_post(&state, viewer, &raw).await?;
    let status = Presenter::new(&state, viewer).status(&post).await?;
    let target = p
        .lang
        .filter(|l| !l.trim().is_empty())
        .or_else(|| accepted_language(&headers))
        .unwrap_or_else(|| "en".into());
    let source = Source {
        visibility: post.visibility,
        language: status.language.clone(),
        content: status.content.clone(),
        spoiler_text: status.spoiler_text.clone(),
        media: status
            .media_attachments
            .iter()
            .filter_map(|m| {
                let d = m.description.as_deref().unwrap_or_default();
                (!d.trim().is_empty()).then(|| (m.id.clone(), d.to_string()))
            })
            .collect(),
        poll: status.poll.as_ref().map(|poll| {
            (
                poll.id.clone(),
                poll.options.iter().map(|o| o.title.clone()).collect(),
            )
        }),
    };
    let done = translation::translate(&state, &source, &target).await?;
    Ok(Json(json!({
        "content": done.content,
        "spoiler_text": done.spoiler_text,
        "poll": done.poll.map(|(id, options)| json!({
            "id": id,
            "options": options.into_iter().map(|title| json!({"title": title})).collect::<Vec<_>>(),
        })),
        "media_attachments": done.media.into_iter().map(|(id, description)| json!({
            "id": id,
            "description": description,
        })).collect::<Vec<_>>(),
        "detected_source_language": done.detected_source_language,
        "language": target,
        "provider": done.provider,
    })))
}
