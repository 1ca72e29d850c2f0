//! The worker loop that the delivery and Web Push queues share: claim a
//! batch, work through it, and when nothing is due sleep until a
//! transaction queues work (`AppState::delivery_wakeup`), the idle poll, or
//! shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::FromRow;
use sqlx::postgres::PgRow;
use tokio_util::sync::CancellationToken;

use crate::db::queue::{self, Queue};
use crate::state::AppState;

/// Idle workers look for due rows at least this often.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// How many rows one claim takes.
const BATCH: i64 = 32;

/// One queue's engine in one process.
pub trait Worker: Sized + Send + Sync + 'static {
    /// What the logs call this queue's rows ("deliveries", "pushes").
    const WHAT: &'static str;
    const QUEUE: Queue;
    type Row: for<'r> FromRow<'r, PgRow> + Send + Unpin;

    fn state(&self) -> &AppState;

    /// The id this process's claims carry (see `jobs::WorkerLock`).
    fn worker_id(&self) -> i32;

    /// Works on one claimed row and records its outcome.
    fn process(&self, row: Self::Row) -> impl Future<Output = ()> + Send;

    /// Claims one batch of due rows and works through them at once; returns
    /// how many were claimed.
    fn run_once(&self) -> impl Future<Output = anyhow::Result<usize>> + Send {
        async move {
            let state = self.state();
            let now = state.clock.now();
            let lease = chrono::Duration::seconds(state.config.delivery.lease_seconds as i64);
            let batch: Vec<Self::Row> = queue::claim(
                &state.db,
                Self::QUEUE,
                self.worker_id(),
                now,
                now + lease,
                BATCH,
            )
            .await?;
            let count = batch.len();
            futures::future::join_all(batch.into_iter().map(|row| self.process(row))).await;
            Ok(count)
        }
    }

    /// Works until nothing is due (at the clock's current time). Tests call
    /// this to run the queue synchronously.
    fn drain(&self) -> impl Future<Output = anyhow::Result<usize>> + Send {
        async move {
            let mut total = 0;
            loop {
                let n = self.run_once().await?;
                if n == 0 {
                    return Ok(total);
                }
                total += n;
            }
        }
    }

    /// Runs `workers` loops until `shutdown`.
    fn spawn_pool(
        self: &Arc<Self>,
        workers: usize,
        shutdown: CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        (0..workers)
            .map(|n| {
                let me = self.clone();
                let shutdown = shutdown.clone();
                tokio::spawn(async move { work(&*me, n, shutdown).await })
            })
            .collect()
    }
}

async fn work<W: Worker>(worker: &W, n: usize, shutdown: CancellationToken) {
    let wakeup = worker.state().delivery_wakeup.clone();
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        // Registered before looking, so a wake-up in between is not lost.
        let notified = wakeup.notified();
        match worker.run_once().await {
            Ok(0) => {}
            Ok(_) => continue,
            Err(e) => tracing::warn!(worker = n, error = %e, "claiming {} failed", W::WHAT),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = notified => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}
