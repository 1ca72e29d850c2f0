//! `/api/v1/markers` (<https://docs.joinmastodon.org/methods/markers/>).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::Result;
use crate::http::api::{Params, Token, params::lenient};
use crate::mastodon::{entities as e, present};
use crate::service::markers::{self, TIMELINES};
use crate::service::types::Marker;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/markers", get(index).post(save))
}

#[derive(Deserialize)]
struct IndexParams {
    #[serde(default, deserialize_with = "lenient::list")]
    timeline: Vec<String>,
}

/// Markers by timeline name, as Mastodon answers.
fn by_timeline(markers: &[Marker]) -> BTreeMap<String, e::Marker> {
    markers
        .iter()
        .map(|m| (m.timeline.clone(), present::marker(m)))
        .collect()
}

async fn index(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<IndexParams>,
) -> Result<Json<BTreeMap<String, e::Marker>>> {
    let (user, _) = token.user("read:statuses")?;
    let found = markers::get(&state, user, &p.timeline).await?;
    Ok(Json(by_timeline(&found)))
}

/// `home[last_read_id]=...&notifications[last_read_id]=...` (or the same as
/// JSON); timelines other than these two are ignored, as Mastodon ignores
/// them (none at all answers `{}`).
async fn save(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<Map<String, Value>>,
) -> Result<Json<BTreeMap<String, e::Marker>>> {
    let (user, _) = token.user("write:statuses")?;
    let mut positions = Vec::new();
    for timeline in TIMELINES {
        let Some(given) = p.get(timeline) else {
            continue;
        };
        let last_read_id = match given.get("last_read_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        positions.push((timeline.to_string(), last_read_id));
    }
    let saved = markers::set(&state, user, &positions).await?;
    Ok(Json(by_timeline(&saved)))
}
