//! The link preview worker: every few seconds, makes the cards of the
//! posts queued (`service::cards::run_due`). Claims use `for update skip
//! locked` and a lease, so any number of worker processes can run it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service;
use crate::state::AppState;

/// How often to look for posts waiting for their preview.
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
            // A round under way at shutdown is finished; what it did not
            // claim waits for the next process.
            if let Err(e) = service::cards::run_due(&state).await {
                tracing::warn!(error = %e, "making link previews failed");
            }
        }
    })
}
