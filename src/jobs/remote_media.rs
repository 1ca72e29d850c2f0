//! The remote media worker: downloads the remote media queued when posts
//! and accounts were stored (`service::remote_media::fetch_due`), in batches
//! claimed `for update skip locked` with the process's worker lock, so any
//! number of worker processes share the queue. It looks again at once
//! after a full batch, and every few seconds when the queue was empty.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service;
use crate::state::AppState;

/// How often to look for due downloads when none were waiting.
const IDLE_POLL: Duration = Duration::from_secs(3);

pub fn spawn(state: AppState, worker: i32, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        // A batch is a few rounds of downloads at once.
        let batch = (state.config.media.remote_cache.concurrency * 4) as i64;
        loop {
            let claimed = tokio::select! {
                _ = shutdown.cancelled() => return,
                claimed = service::remote_media::fetch_due(&state, worker, batch) => claimed,
            };
            let busy = match claimed {
                Ok(n) => n as i64 == batch,
                Err(e) => {
                    tracing::warn!(error = %e, "downloading remote media failed");
                    false
                }
            };
            if busy {
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    })
}
