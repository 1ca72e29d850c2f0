//! The import worker: every few seconds, processes the CSV imports waiting
//! (`service::portability::run_pending`). Claims use `for update skip
//! locked`, so several processes can run it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service;
use crate::state::AppState;

/// How often to look for waiting imports.
const EVERY: Duration = Duration::from_secs(5);

pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            if let Err(e) = service::portability::run_pending(&state).await {
                tracing::warn!(error = %e, "processing imports failed");
            }
        }
    })
}
