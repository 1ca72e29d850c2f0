//! Timed work: what runs every so often (housekeeping, telling voters that
//! a poll ended, publishing scheduled posts), once across any number of
//! worker processes.
//!
//! Each kind of work has a row in `timed_work` with the time its next run
//! is due (on the injectable clock). Every worker process looks every few
//! seconds; the first to claim a due run (`db::timed_work::claim`) does it
//! and sets the next due time. A claim carries the process's worker id,
//! held as an advisory lock for its life: when the process dies mid-run,
//! another takes the run over at once; a live process's claim is never
//! taken before its lease ends, so a run never happens twice at once.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::service;
use crate::state::AppState;

/// How often each worker process looks for due work (real time).
const LOOK_EVERY: Duration = Duration::from_secs(15);

/// A kind of timed work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// `jobs::cleanup`, hourly.
    Cleanup,
    /// Telling local voters and authors that their polls ended.
    PollEndings,
    /// Fetching and applying the subscribed domain block lists, daily.
    Blocklists,
    /// Removing cached remote media older than
    /// `media.remote_retention_days`, daily.
    RemoteMediaRetention,
    /// Publishing the scheduled posts that are due (`service::scheduled`),
    /// and publishing and unpublishing announcements on their times
    /// (`service::announcements`).
    Scheduled,
    /// Scoring trending hashtags and posts, every five minutes.
    Trends,
}

impl Work {
    pub const ALL: [Work; 6] = [
        Work::Cleanup,
        Work::PollEndings,
        Work::Blocklists,
        Work::RemoteMediaRetention,
        Work::Scheduled,
        Work::Trends,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Work::Cleanup => "cleanup",
            Work::PollEndings => "poll_endings",
            Work::Blocklists => "blocklists",
            Work::RemoteMediaRetention => "remote_media_retention",
            Work::Scheduled => "scheduled",
            Work::Trends => "trends",
        }
    }

    /// Time between two runs.
    pub fn every(self) -> chrono::Duration {
        match self {
            Work::Cleanup => chrono::Duration::hours(1),
            Work::PollEndings => chrono::Duration::minutes(1),
            Work::Blocklists => service::blocklists::REFRESH_EVERY,
            Work::RemoteMediaRetention => chrono::Duration::days(1),
            // As often as processes look: a post is published within
            // `LOOK_EVERY` or so of its time.
            Work::Scheduled => chrono::Duration::seconds(10),
            Work::Trends => service::trends::REFRESH_EVERY,
        }
    }

    /// How long a live process's claim holds before another process may
    /// take the run over (a hung run).
    fn lease(self) -> chrono::Duration {
        match self {
            Work::Cleanup => chrono::Duration::minutes(30),
            Work::PollEndings => chrono::Duration::minutes(5),
            Work::Blocklists => chrono::Duration::minutes(30),
            Work::RemoteMediaRetention => chrono::Duration::hours(1),
            Work::Scheduled => chrono::Duration::minutes(10),
            Work::Trends => chrono::Duration::minutes(5),
        }
    }

    async fn run(self, state: &AppState) {
        match self {
            Work::Cleanup => super::cleanup::run(state).await,
            Work::PollEndings => match service::polls::notice_endings(state).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(polls = n, "told voters that polls ended"),
                Err(e) => tracing::warn!(error = %e, "telling voters that polls ended failed"),
            },
            Work::Blocklists => match service::blocklists::refresh_all(state).await {
                Ok(n) => tracing::debug!(lists = n, "refreshed the subscribed block lists"),
                Err(e) => tracing::warn!(error = %e, "refreshing the block lists failed"),
            },
            Work::RemoteMediaRetention => {
                match service::remote_media::prune_by_retention(state).await {
                    Ok(pruned) if pruned.media == 0 => {}
                    Ok(pruned) => tracing::info!(
                        media = pruned.media,
                        files = pruned.files,
                        "removed cached remote media past their retention"
                    ),
                    Err(e) => tracing::warn!(error = %e, "removing old cached remote media failed"),
                }
            }
            Work::Scheduled => {
                match service::scheduled::publish_due(state).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(posts = n, "published scheduled posts"),
                    Err(e) => tracing::warn!(error = %e, "publishing scheduled posts failed"),
                }
                match service::announcements::publish_due(state).await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!(announcements = n, "announcements published or ended"),
                    Err(e) => tracing::warn!(error = %e, "publishing announcements failed"),
                }
            }
            Work::Trends => match service::trends::refresh(state).await {
                Ok(found) => tracing::debug!(
                    tags = found.tags,
                    posts = found.posts,
                    links = found.links,
                    "refreshed the trends"
                ),
                Err(e) => tracing::warn!(error = %e, "refreshing the trends failed"),
            },
        }
    }
}

/// Runs every kind of work that is due and that no other process holds;
/// returns the kinds this process ran.
pub async fn run_due(state: &AppState, worker: i32) -> Result<Vec<Work>, sqlx::Error> {
    let mut ran = Vec::new();
    for work in Work::ALL {
        let now = state.clock.now();
        db::timed_work::ensure(&state.db, work.name(), now).await?;
        if !db::timed_work::claim(&state.db, work.name(), worker, now, now + work.lease()).await? {
            continue;
        }
        work.run(state).await;
        let done = state.clock.now();
        if !db::timed_work::finish(&state.db, work.name(), worker, done, done + work.every())
            .await?
        {
            tracing::warn!(
                work = work.name(),
                "a run outlived its lease and was taken over"
            );
        }
        ran.push(work);
    }
    Ok(ran)
}

/// Looks for due work every [`LOOK_EVERY`] until `shutdown`; a run in hand
/// is finished first.
pub fn spawn(state: AppState, worker: i32, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(LOOK_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            if let Err(e) = run_due(&state, worker).await {
                tracing::warn!(error = %e, "looking for timed work failed");
            }
        }
    })
}
