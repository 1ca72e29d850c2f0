//! The transcoding worker: every few seconds, transcodes the video and
//! audio uploads waiting (`service::media::process_pending`), one at a
//! time per process. Jobs are claimed `for update skip locked` with this
//! process's worker id, so several processes share the queue and a job a
//! dead process held is taken over at once.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service;
use crate::state::AppState;

/// How often to look for waiting uploads.
const EVERY: Duration = Duration::from_secs(2);

pub fn spawn(state: AppState, worker: i32, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(EVERY);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            // A transcoding under way when the process stops is dropped
            // (ffmpeg is killed); the job is taken over once this process's
            // worker lock is gone.
            tokio::select! {
                _ = shutdown.cancelled() => return,
                done = service::media::process_pending(&state, worker) => {
                    if let Err(e) = done {
                        tracing::warn!(error = %e, "transcoding uploads failed");
                    }
                }
            }
        }
    })
}
