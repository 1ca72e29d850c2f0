//! Housekeeping, run hourly as timed work (`jobs::timed`): uploads that no
//! post took within a day, media files whose removal failed (tried again),
//! early Undos whose activity never came, sent e-mail and spent e-mail
//! tokens after 30 days, and rate-limit windows that ended.

use crate::service;
use crate::state::AppState;

pub async fn run(state: &AppState) {
    match service::media::remove_stale(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed uploads no post took"),
        Err(e) => tracing::warn!(error = %e, "removing stale uploads failed"),
    }
    match service::media::retry_removals(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(removed = n, "removed media files whose removal had failed"),
        Err(e) => tracing::warn!(error = %e, "retrying media removals failed"),
    }
    if let Err(e) = crate::db::inbox::prune_early_undos(&state.db, state.clock.now()).await {
        tracing::warn!(error = %e, "forgetting early Undos failed");
    }
    if let Err(e) = service::inbox::dead_letters::prune(state).await {
        tracing::warn!(error = %e, "forgetting passed inbox failures failed");
    }
    if let Err(e) = service::mail::prune(state).await {
        tracing::warn!(error = %e, "forgetting old e-mail failed");
    }
    if let Err(e) = state.limits.prune().await {
        tracing::warn!(error = %e, "dropping ended rate-limit windows failed");
    }
}
