//! Machine translation of posts (Mastodon's `POST
//! /api/v1/statuses/:id/translate`) through the LibreTranslate server the
//! operator configured (`[translation]`): its `/languages` says which
//! language pairs exist, its `/translate` translates every text of a post
//! (content, content warning, media descriptions, poll options) in one
//! request.
//!
//! Mastodon's rules: only public and unlisted posts are translated, and
//! only into a language the server offers for the post's language (any,
//! with the server's detection, for a post with none); anything else is
//! refused with 403. Without a server, or when it fails, the answer is 503.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::{self as header, HeaderMap, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::filters::html_to_text;
use crate::domain::text::escape;
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::federation::html::sanitize;
use crate::state::AppState;

/// What Mastodon's Translation entity names as `provider`.
pub const PROVIDER: &str = "LibreTranslate";

/// Whether a translation server is configured (the instance API's
/// `configuration.translation.enabled`).
pub fn enabled(state: &AppState) -> bool {
    state.config.translation.endpoint().is_some()
}

/// The texts of a post to translate. `content` is the post's HTML; the
/// others are plain text.
#[derive(Debug, Clone)]
pub struct Source {
    pub visibility: Visibility,
    /// The post's language; None: let the server detect it.
    pub language: Option<String>,
    pub content: String,
    pub spoiler_text: String,
    /// Attachments with a description: (id, description).
    pub media: Vec<(String, String)>,
    /// The poll: (id, option titles).
    pub poll: Option<(String, Vec<String>)>,
}

/// A post's texts in another language, in the same shape.
#[derive(Debug, Clone)]
pub struct Translation {
    pub content: String,
    pub spoiler_text: String,
    pub media: Vec<(String, String)>,
    pub poll: Option<(String, Vec<String>)>,
    pub detected_source_language: String,
    pub provider: &'static str,
}

fn unavailable() -> Error {
    Error::ServiceUnavailable("Service Unavailable".into())
}

fn not_allowed() -> Error {
    Error::Forbidden("This action is not allowed".into())
}

#[derive(Deserialize)]
struct Language {
    code: String,
    #[serde(default)]
    targets: Vec<String>,
}

/// The language pairs the server offers: source code -> target codes
/// (a language never translates into itself).
pub async fn languages(state: &AppState) -> Result<BTreeMap<String, Vec<String>>> {
    let Some(base) = state.config.translation.endpoint() else {
        return Ok(BTreeMap::new());
    };
    let url = join(&base, "languages")?;
    let body = request(state, Method::GET, &url, None).await?;
    let listed: Vec<Language> = serde_json::from_slice(&body).map_err(|e| {
        tracing::warn!(error = %e, "the translation server's language list is not understood");
        unavailable()
    })?;
    Ok(listed
        .into_iter()
        .map(|l| {
            let code = l.code.to_ascii_lowercase();
            let targets = l
                .targets
                .into_iter()
                .map(|t| t.to_ascii_lowercase())
                .filter(|t| *t != code)
                .collect();
            (code, targets)
        })
        .collect())
}

/// The base URL with `path` appended to its path.
fn join(base: &url::Url, path: &str) -> Result<url::Url> {
    let mut url = base.clone();
    let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
    url.set_path(&joined);
    Ok(url)
}

async fn request(
    state: &AppState,
    method: Method,
    url: &url::Url,
    body: Option<Value>,
) -> Result<Bytes> {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    let body = body.map(|b| {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Bytes::from(b.to_string())
    });
    let timeout = Duration::from_secs(state.config.translation.timeout_seconds);
    let fetched = state
        .http
        .operator_request(method, url, headers, body, timeout)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "the translation server could not be reached");
            unavailable()
        })?;
    if !fetched.status.is_success() {
        tracing::warn!(status = %fetched.status, "the translation server refused a request");
        return Err(unavailable());
    }
    Ok(fetched.body)
}

#[derive(Deserialize)]
struct Detected {
    language: String,
}

#[derive(Deserialize)]
struct Translated {
    #[serde(rename = "translatedText")]
    translated: Vec<String>,
    #[serde(rename = "detectedLanguage", default)]
    detected: Option<Vec<Detected>>,
}

/// Translates a post's texts into `target` (an ISO 639 code).
pub async fn translate(state: &AppState, source: &Source, target: &str) -> Result<Translation> {
    let Some(base) = state.config.translation.endpoint() else {
        return Err(unavailable());
    };
    if !matches!(source.visibility, Visibility::Public | Visibility::Unlisted) {
        return Err(not_allowed());
    }
    let target = target.trim().to_ascii_lowercase();
    let from = source.language.as_deref().map(str::to_ascii_lowercase);
    let pairs = languages(state).await?;
    let offered = match &from {
        Some(code) => pairs.get(code).is_some_and(|t| t.contains(&target)),
        // Detected by the server: any language it translates into.
        None => pairs.values().any(|t| t.contains(&target)),
    };
    if !offered {
        return Err(not_allowed());
    }

    // One request: the content as HTML, the plain texts escaped so that
    // they come back as text.
    let mut texts = vec![source.content.clone()];
    let has_spoiler = !source.spoiler_text.is_empty();
    if has_spoiler {
        texts.push(escape(&source.spoiler_text));
    }
    texts.extend(source.media.iter().map(|(_, d)| escape(d)));
    if let Some((_, options)) = &source.poll {
        texts.extend(options.iter().map(|o| escape(o)));
    }
    if texts.iter().all(|t| html_to_text(t).trim().is_empty()) {
        return Err(not_allowed());
    }
    let mut body = json!({
        "q": texts,
        "source": from.clone().unwrap_or_else(|| "auto".into()),
        "target": target,
        "format": "html",
    });
    let key = &state.config.translation.libre_translate_api_key;
    if !key.is_empty() {
        body["api_key"] = json!(key);
    }
    let answer = request(state, Method::POST, &join(&base, "translate")?, Some(body)).await?;
    let translated: Translated = serde_json::from_slice(&answer).map_err(|e| {
        tracing::warn!(error = %e, "the translation server's answer is not understood");
        unavailable()
    })?;
    if translated.translated.len() != texts.len() {
        tracing::warn!("the translation server answered a different number of texts");
        return Err(unavailable());
    }
    let detected = from
        .or_else(|| {
            translated
                .detected
                .as_ref()
                .and_then(|d| d.first())
                .map(|d| d.language.to_ascii_lowercase())
        })
        .unwrap_or_default();
    let mut out = translated.translated.into_iter();
    let content = sanitize(&out.next().unwrap_or_default());
    let mut plain = || {
        html_to_text(&out.next().unwrap_or_default())
            .trim()
            .to_string()
    };
    let spoiler_text = if has_spoiler { plain() } else { String::new() };
    let media = source
        .media
        .iter()
        .map(|(id, _)| (id.clone(), plain()))
        .collect();
    let poll = source
        .poll
        .as_ref()
        .map(|(id, options)| (id.clone(), options.iter().map(|_| plain()).collect()));
    Ok(Translation {
        content,
        spoiler_text,
        media,
        poll,
        detected_source_language: detected,
        provider: PROVIDER,
    })
}
