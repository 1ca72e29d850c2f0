//! The worker of threads' reply fetches: every few seconds, runs the
//! fetches queued by `GET /api/v1/statuses/:id/context`
//! (`service::reply_fetches::run_due`). Claims use `for update skip
//! locked` and a lease, so any number of worker processes can run it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service;
use crate::state::AppState;

/// How often to look for fetches waiting.
const EVERY: Duration = Duration::from_secs(2);

pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            if let Err(e) = service::reply_fetches::run_due(&state).await {
                tracing::warn!(error = %e, "fetching threads' replies failed");
            }
        }
    })
}
