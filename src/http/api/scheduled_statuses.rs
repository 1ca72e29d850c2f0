//! `/api/v1/scheduled_statuses`
//! (<https://docs.joinmastodon.org/methods/scheduled_statuses/>): the
//! viewer's scheduled posts, listed, moved to another time, cancelled.
//! Scheduling is `POST /api/v1/statuses` with `scheduled_at`
//! (`statuses::compose`).

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::api::accounts::bounds;
use crate::http::api::{PageParams, Params, Token, id, paged};
use crate::mastodon::entities as e;
use crate::service::scheduled::{self, Scheduled};
use crate::state::AppState;

/// Mastodon's page sizes for scheduled statuses.
const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 40;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/scheduled_statuses", get(index))
        .route(
            "/api/v1/scheduled_statuses/{id}",
            get(show).put(update).delete(cancel),
        )
}

pub fn entity(s: &Scheduled) -> e::ScheduledStatus {
    e::ScheduledStatus {
        id: s.id.to_string(),
        scheduled_at: e::time(s.scheduled_at),
        params: s.params.clone(),
        media_attachments: s.media.iter().map(super::media::entity).collect(),
    }
}

/// A `scheduled_at` as apps send it: an ISO 8601 date and time (UTC when
/// it names no offset), or a date alone (its midnight, UTC).
pub fn parse_time(raw: &str) -> Result<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(at.and_utc());
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        && let Some(midnight) = day.and_hms_opt(0, 0, 0)
    {
        return Ok(midnight.and_utc());
    }
    Err(Error::Validation(
        "Validation failed: Scheduled at is not a date and time".into(),
    ))
}

async fn index(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, author) = token.user("read:statuses")?;
    let rows = scheduled::list(&state, author, page.page(DEFAULT_LIMIT, MAX_LIMIT)).await?;
    let bounds = bounds(&rows, |s| s.id);
    let items: Vec<e::ScheduledStatus> = rows.iter().map(entity).collect();
    Ok(paged(&state, &uri, items, bounds))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::ScheduledStatus>> {
    let (_, author) = token.user("read:statuses")?;
    let found = scheduled::find(&state, author, id(&raw)?).await?;
    Ok(Json(entity(&found)))
}

#[derive(Deserialize, Default)]
struct UpdateParams {
    #[serde(default)]
    scheduled_at: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<UpdateParams>,
) -> Result<Json<e::ScheduledStatus>> {
    let (_, author) = token.user("write:statuses")?;
    let at = match p.scheduled_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => Some(parse_time(raw)?),
        None => None,
    };
    let moved = scheduled::reschedule(&state, author, id(&raw)?, at).await?;
    Ok(Json(entity(&moved)))
}

async fn cancel(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, author) = token.user("write:statuses")?;
    scheduled::cancel(&state, author, id(&raw)?).await?;
    Ok(Json(json!({})))
}
