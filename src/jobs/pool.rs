//! The engine that the delivery and Web Push queues share: a continuous
//! pipeline with a fixed number of slots (requests in flight). One
//! dispatcher claims due rows as slots free up (never more rows than free
//! slots, and in handfuls rather than one by one), looks up what the
//! claimed rows need once for the handful (`Worker::load`), and starts one
//! task per row; each task sends its row and hands the outcome to one
//! recorder, which writes the outcomes gathered over a short while
//! (`RECORD_GATHER`) in a few statements (`Worker::record`). No row waits
//! for another row's answer, except a row in the same line
//! (`Worker::line`): those go out one after the other, in the order they
//! were claimed.
//!
//! Idle, the dispatcher sleeps until a transaction queues work
//! (`AppState::delivery_wakeup`), the idle poll, or shutdown. Work that
//! comes before claiming (`Worker::prepare`: expanding fan-out jobs into
//! deliveries) runs in a task of its own. `drain` does it all
//! synchronously, a batch at a time, for tests.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::FromRow;
use sqlx::postgres::PgRow;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::db::queue::{self, Queue};
use crate::jobs::outcome::Outcome;
use crate::state::AppState;

/// Idle workers look for due rows at least this often.
const IDLE_POLL: Duration = Duration::from_secs(2);
/// The most rows one claim takes (and `drain`'s batch).
const BATCH: usize = 64;
/// Requests in flight per configured worker (`delivery.workers`).
pub const SLOTS_PER_WORKER: usize = 32;
/// The most outcomes one `record` call writes.
const RECORD_BATCH: usize = 256;
/// How long outcomes are gathered after the first before they are written.
const RECORD_GATHER: Duration = Duration::from_millis(50);

/// The key of a line: rows with equal keys go out one after the other.
pub type LineKey = (i64, String);

/// One queue's engine in one process.
pub trait Worker: Sized + Send + Sync + 'static {
    /// What the logs call this queue's rows ("deliveries", "pushes").
    const WHAT: &'static str;
    const QUEUE: Queue;
    type Row: for<'r> FromRow<'r, PgRow> + Send + Sync + Unpin + 'static;
    /// What a claimed handful of rows needs, looked up once for all of them.
    type Loaded: Send + Sync + 'static;

    fn state(&self) -> &AppState;

    /// The id this process's claims carry (see `jobs::WorkerLock`).
    fn worker_id(&self) -> i32;

    /// Work that makes rows to claim; whether any was done.
    fn prepare(&self) -> impl Future<Output = anyhow::Result<bool>> + Send {
        async { Ok(false) }
    }

    /// Looks up what `rows` need (one round of queries for all of them).
    fn load(&self, rows: &[Self::Row])
    -> impl Future<Output = anyhow::Result<Self::Loaded>> + Send;

    /// The line a row stands in, if any.
    fn line(&self, _row: &Self::Row) -> Option<LineKey> {
        None
    }

    /// This process's lines (see [`Lines`]).
    fn lines(&self) -> &Lines;

    /// Sends one row; writes nothing to the database.
    fn attempt(
        &self,
        row: &Self::Row,
        loaded: &Self::Loaded,
    ) -> impl Future<Output = Outcome> + Send;

    /// Records the outcomes of many rows, in a few statements.
    fn record(
        &self,
        done: Vec<(Self::Row, Outcome)>,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    /// Claims one batch of due rows, sends them all and records their
    /// outcomes; returns how many were claimed.
    fn run_once(&self) -> impl Future<Output = anyhow::Result<usize>> + Send {
        async move {
            let rows = claim(self, BATCH).await?;
            let count = rows.len();
            if count == 0 {
                return Ok(0);
            }
            let loaded = self.load(&rows).await?;
            let turns: Vec<Option<Turn>> = rows
                .iter()
                .map(|row| self.line(row).map(|key| self.lines().enter(key)))
                .collect();
            let outcomes = futures::future::join_all(
                rows.iter()
                    .zip(turns)
                    .map(|(row, turn)| send(self, row, &loaded, turn)),
            )
            .await;
            self.record(rows.into_iter().zip(outcomes).collect())
                .await?;
            Ok(count)
        }
    }

    /// Works until nothing is due (at the clock's current time). Tests call
    /// this to run the queue synchronously.
    fn drain(&self) -> impl Future<Output = anyhow::Result<usize>> + Send {
        async move {
            let mut total = 0;
            loop {
                while self.prepare().await? {}
                let n = self.run_once().await?;
                if n == 0 {
                    return Ok(total);
                }
                total += n;
            }
        }
    }

    /// Runs the pipeline with `workers` × [`SLOTS_PER_WORKER`] slots until
    /// `shutdown`; nothing when `workers` is 0.
    fn spawn_pool(
        self: &Arc<Self>,
        workers: usize,
        shutdown: CancellationToken,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        if workers == 0 {
            return Vec::new();
        }
        let (outcomes, received) = mpsc::unbounded_channel();
        vec![
            tokio::spawn(prepare_loop(self.clone(), shutdown.clone())),
            tokio::spawn(dispatch(
                self.clone(),
                workers * SLOTS_PER_WORKER,
                outcomes,
                shutdown,
            )),
            tokio::spawn(record_loop(self.clone(), received)),
        ]
    }
}

async fn claim<W: Worker>(worker: &W, limit: usize) -> anyhow::Result<Vec<W::Row>> {
    let state = worker.state();
    let now = state.clock.now();
    let lease = chrono::Duration::seconds(state.config.delivery.lease_seconds as i64);
    Ok(queue::claim(
        &state.db,
        W::QUEUE,
        worker.worker_id(),
        now,
        now + lease,
        limit as i64,
    )
    .await?)
}

/// Sends one row once its turn in its line came.
async fn send<W: Worker>(
    worker: &W,
    row: &W::Row,
    loaded: &W::Loaded,
    turn: Option<Turn>,
) -> Outcome {
    if let Some(turn) = &turn {
        turn.wait().await;
    }
    let outcome = worker.attempt(row, loaded).await;
    drop(turn);
    outcome
}

async fn prepare_loop<W: Worker>(worker: Arc<W>, shutdown: CancellationToken) {
    let wakeup = worker.state().delivery_wakeup.clone();
    loop {
        // Registered before looking, so a wake-up in between is not lost.
        let notified = wakeup.notified();
        match worker.prepare().await {
            Ok(true) => {
                if shutdown.is_cancelled() {
                    return;
                }
                continue;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "preparing {} failed", W::WHAT),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = notified => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

async fn dispatch<W: Worker>(
    worker: Arc<W>,
    slots: usize,
    outcomes: mpsc::UnboundedSender<(W::Row, Outcome)>,
    shutdown: CancellationToken,
) {
    let free = Arc::new(Semaphore::new(slots));
    // Claims wait for a handful of free slots while others are busy, so
    // that one claim does not cost a round trip per row.
    let handful = (slots / 8).clamp(1, BATCH);
    let wakeup = worker.state().delivery_wakeup.clone();
    loop {
        if shutdown.is_cancelled() {
            break;
        }
        let notified = wakeup.notified();
        if free.available_permits() < handful {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                permits = free.acquire_many(handful as u32) => drop(permits),
            }
        }
        let room = free.available_permits().min(BATCH);
        let rows = match claim(&*worker, room).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "claiming {} failed", W::WHAT);
                Vec::new()
            }
        };
        if rows.is_empty() {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = notified => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
            continue;
        }
        // A claimed row that cannot be loaded stays claimed until its lease
        // ends, then is claimed again.
        let loaded = match worker.load(&rows).await {
            Ok(loaded) => Arc::new(loaded),
            Err(e) => {
                tracing::warn!(error = %e, "loading claimed {} failed", W::WHAT);
                continue;
            }
        };
        for row in rows {
            // Never fails: no more rows were claimed than slots were free,
            // and only this loop takes slots.
            let Ok(permit) = free.clone().acquire_owned().await else {
                return;
            };
            let turn = worker.line(&row).map(|key| worker.lines().enter(key));
            let worker = worker.clone();
            let loaded = loaded.clone();
            let outcomes = outcomes.clone();
            tokio::spawn(async move {
                let outcome = send(&*worker, &row, &loaded, turn).await;
                let _ = outcomes.send((row, outcome));
                drop(permit);
            });
        }
    }
    // Requests in flight finish and their outcomes are recorded.
    let _ = free.acquire_many(slots as u32).await;
}

async fn record_loop<W: Worker>(
    worker: Arc<W>,
    mut received: mpsc::UnboundedReceiver<(W::Row, Outcome)>,
) {
    let mut done = Vec::with_capacity(RECORD_BATCH);
    while received.recv_many(&mut done, RECORD_BATCH).await > 0 {
        // The outcomes that come in for a short while after the first are
        // written with it: during a fan-out answers arrive one by one, and
        // a transaction for every one or two of them cost more than the
        // requests themselves. Nothing waits on the recording (a row stays
        // claimed meanwhile), and a crash before it only sends those rows
        // again, as before.
        let gathering = tokio::time::sleep(RECORD_GATHER);
        tokio::pin!(gathering);
        while done.len() < RECORD_BATCH {
            let room = RECORD_BATCH - done.len();
            tokio::select! {
                taken = received.recv_many(&mut done, room) => {
                    if taken == 0 {
                        break;
                    }
                }
                _ = &mut gathering => break,
            }
        }
        let batch = std::mem::replace(&mut done, Vec::with_capacity(RECORD_BATCH));
        if let Err(e) = worker.record(batch).await {
            tracing::error!(error = %e, "recording {} outcomes failed", W::WHAT);
        }
    }
}

/// Lines of rows that must go out one after the other: each row takes its
/// place when it is claimed (claims come oldest first) and waits for the
/// row before it in its line to be answered.
#[derive(Default)]
pub struct Lines {
    ends: Mutex<HashMap<LineKey, oneshot::Receiver<()>>>,
}

/// A row's place in its line.
pub struct Turn {
    ahead: Mutex<Option<oneshot::Receiver<()>>>,
    _done: oneshot::Sender<()>,
}

impl Lines {
    /// Takes the last place in `key`'s line.
    pub fn enter(&self, key: LineKey) -> Turn {
        let (done, end) = oneshot::channel();
        let mut ends = self.ends.lock().unwrap_or_else(|e| e.into_inner());
        // Lines whose last row was answered are empty: forgotten.
        if ends.len() > 10_000 {
            ends.retain(|_, end| !end_is_closed(end));
        }
        let ahead = ends.insert(key, end);
        Turn {
            ahead: Mutex::new(ahead),
            _done: done,
        }
    }
}

fn end_is_closed(end: &mut oneshot::Receiver<()>) -> bool {
    matches!(end.try_recv(), Err(oneshot::error::TryRecvError::Closed))
}

impl Turn {
    /// Waits until the row ahead was answered (or given up).
    async fn wait(&self) {
        let ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(ahead) = ahead {
            let _ = ahead.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_line_lets_rows_through_in_the_order_they_entered() {
        let lines = Lines::default();
        let key = || (1, "https://a.example/inbox".to_string());
        let first = lines.enter(key());
        let second = lines.enter(key());
        let other = lines.enter((2, "https://a.example/inbox".to_string()));
        // Another line does not wait; the first of a line does not either.
        other.wait().await;
        first.wait().await;
        let waiting = tokio::spawn(async move {
            second.wait().await;
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the second waits for the first");
        drop(first);
        waiting
            .await
            .expect("the second goes once the first is done");
    }
}
