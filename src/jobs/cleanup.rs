//! Housekeeping on a timer: uploads that no post took within a day, early
//! Undos whose activity never came, and rate-limit windows that ended.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service;
use crate::state::AppState;

/// How often to look. The first look is one period after start.
const EVERY: Duration = Duration::from_secs(60 * 60);

pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + EVERY, EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            match service::media::remove_stale(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "removed uploads no post took"),
                Err(e) => tracing::warn!(error = %e, "removing stale uploads failed"),
            }
            if let Err(e) = crate::db::inbox::prune_early_undos(&state.db, state.clock.now()).await
            {
                tracing::warn!(error = %e, "forgetting early Undos failed");
            }
            if let Err(e) = state.limits.prune().await {
                tracing::warn!(error = %e, "dropping ended rate-limit windows failed");
            }
        }
    })
}
