//! The instance's about pages and public figures for apps
//! (<https://docs.joinmastodon.org/methods/instance/>):
//! `/api/v1/instance/extended_description`, `privacy_policy`,
//! `terms_of_service` (and `terms_of_service/:date`, Mastodon 4.4),
//! `activity`, `languages`, `peers` and `translation_languages`; and
//! `/api/v1/peers/search` (known domains by prefix).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use crate::domain::languages::LANGUAGES;
use crate::error::{Error, Result};
use crate::mastodon::entities as e;
use crate::service::about::{self, Page, Shown};
use crate::service::translation;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/instance/extended_description",
            get(extended_description),
        )
        .route("/api/v1/instance/privacy_policy", get(privacy_policy))
        .route("/api/v1/instance/terms_of_service", get(terms))
        .route("/api/v1/instance/terms_of_service/{date}", get(terms_on))
        .route("/api/v1/instance/activity", get(activity))
        .route("/api/v1/instance/languages", get(languages))
        .route("/api/v1/instance/peers", get(peers))
        .route("/api/v1/peers/search", get(search_peers))
        .route(
            "/api/v1/instance/translation_languages",
            get(translation_languages),
        )
}

/// ExtendedDescription and PrivacyPolicy: `{updated_at, content}`.
fn text(shown: Shown) -> Value {
    json!({
        "updated_at": shown.updated_at.map(e::time),
        "content": shown.content,
    })
}

async fn extended_description(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(text(
        about::shown(&state, Page::ExtendedDescription).await?,
    )))
}

async fn privacy_policy(State(state): State<AppState>) -> Result<Json<Value>> {
    Ok(Json(text(about::shown(&state, Page::PrivacyPolicy).await?)))
}

/// TermsOfService: `{effective_date, effective, content, succeeded_by}`.
async fn terms_of(state: &AppState, date: Option<NaiveDate>) -> Result<Json<Value>> {
    let terms = about::terms(state, date).await?;
    Ok(Json(json!({
        "effective_date": terms.effective_date.to_string(),
        "effective": terms.effective,
        "content": terms.content,
        "succeeded_by": terms.succeeded_by.map(|d| d.to_string()),
    })))
}

async fn terms(State(state): State<AppState>) -> Result<Json<Value>> {
    terms_of(&state, None).await
}

async fn terms_on(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<Value>> {
    let date = NaiveDate::parse_from_str(&raw, "%Y-%m-%d").map_err(|_| Error::NotFound)?;
    terms_of(&state, Some(date)).await
}

/// Twelve weeks, the current one first; every figure a string, as
/// Mastodon sends them.
async fn activity(State(state): State<AppState>) -> Result<Json<Vec<Value>>> {
    let weeks = about::activity(&state).await?;
    Ok(Json(
        weeks
            .into_iter()
            .map(|w| {
                json!({
                    "week": w.week.timestamp().to_string(),
                    "statuses": w.statuses.to_string(),
                    "logins": w.logins.to_string(),
                    "registrations": w.registrations.to_string(),
                })
            })
            .collect(),
    ))
}

async fn languages() -> Json<Vec<Value>> {
    Json(
        LANGUAGES
            .iter()
            .map(|(code, name)| json!({"code": code, "name": name}))
            .collect(),
    )
}

async fn peers(State(state): State<AppState>) -> Result<Json<Vec<String>>> {
    Ok(Json(about::peers(&state).await?))
}

#[derive(serde::Deserialize)]
struct PeerQuery {
    #[serde(default)]
    q: Option<String>,
}

/// `GET /api/v1/peers/search?q=`: known domains starting with `q`.
async fn search_peers(
    State(state): State<AppState>,
    axum::extract::Query(p): axum::extract::Query<PeerQuery>,
) -> Result<Json<Option<Vec<String>>>> {
    Ok(Json(about::search_peers(&state, p.q.as_deref()).await?))
}

/// Which language translates into which through the configured server
/// (`und`: posts without a language, which the server detects); empty
/// without one.
async fn translation_languages(State(state): State<AppState>) -> Result<Json<Map<String, Value>>> {
    let pairs = translation::languages(&state).await?;
    let mut all: Vec<String> = pairs.values().flatten().cloned().collect();
    all.sort();
    all.dedup();
    let mut out: Map<String, Value> = pairs
        .into_iter()
        .map(|(source, targets)| (source, json!(targets)))
        .collect();
    if !all.is_empty() {
        out.insert("und".into(), json!(all));
    }
    Ok(Json(out))
}
