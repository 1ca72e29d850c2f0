//! The e-mail worker: every few seconds, sends the messages due
//! (`service::mail::send_due`). Claims use `for update skip locked` and a
//! lease, so any number of worker processes can run it.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service;
use crate::state::AppState;

/// How often to look for messages due.
const EVERY: Duration = Duration::from_secs(5);

pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            // A message being sent at shutdown is finished: the select
            // above only stops between rounds.
            if let Err(e) = service::mail::send_due(&state).await {
                tracing::warn!(error = %e, "sending e-mail failed");
            }
        }
    })
}
