//! Read markers (<https://docs.joinmastodon.org/methods/markers/>): where a
//! user stopped reading its home timeline and its notifications, so that
//! its apps pick up at the same place.

use crate::db::{self, markers::Marker, users::User};
use crate::error::{Error, Result};
use crate::state::AppState;

/// The timelines that have markers.
pub const TIMELINES: [&str; 2] = ["home", "notifications"];

/// The longest position kept (ids are short; this only bounds junk).
const MAX_ID_LENGTH: usize = 64;

/// The user's markers of the named timelines that have one; other names
/// are ignored.
pub async fn get(state: &AppState, user: &User, timelines: &[String]) -> Result<Vec<Marker>> {
    let known: Vec<String> = timelines
        .iter()
        .filter(|t| TIMELINES.contains(&t.as_str()))
        .cloned()
        .collect();
    Ok(db::markers::find(&state.db, user.id, &known).await?)
}

/// Moves markers, all or none: `(timeline, last_read_id)` pairs of known
/// timelines.
pub async fn set(
    state: &AppState,
    user: &User,
    positions: &[(String, String)],
) -> Result<Vec<Marker>> {
    for (timeline, last_read_id) in positions {
        if !TIMELINES.contains(&timeline.as_str()) {
            return Err(Error::Validation(format!("`{timeline}` has no marker")));
        }
        let id = last_read_id.trim();
        if id.is_empty() || id.len() > MAX_ID_LENGTH {
            return Err(Error::Validation(
                "Validation failed: Last read can't be blank".into(),
            ));
        }
    }
    if positions.is_empty() {
        return Ok(Vec::new());
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut markers = Vec::with_capacity(positions.len());
    for (timeline, last_read_id) in positions {
        markers.push(db::markers::set(&mut tx, user.id, timeline, last_read_id.trim(), now).await?);
    }
    tx.commit().await?;
    Ok(markers)
}
