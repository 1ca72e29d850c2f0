//! Reads that may be served by a streaming replica (`database.replica_url`):
//! the timelines (home, public, hashtag, list, an account's posts) and the
//! lookups behind profile pages. [`Reads`] offers these reads and nothing
//! else, so nothing can write through it, nor read through it what must
//! see a change just made (those go to the primary pool, `AppState::db`).
//!
//! A replica lags behind the primary by its replay delay, so what is read
//! here may lag too. Two rules keep that harmless:
//! - a lookup that finds nothing on the replica asks the primary (a remote
//!   account resolved a moment ago, an account just created);
//! - when the replica cannot be reached or a query on it fails (a standby
//!   cancels queries that conflict with replay), the read is made on the
//!   primary, with a warning and the `skein_replica_fallbacks_total`
//!   metric, and the replica is left alone for [`RETRY_AFTER`].
//!
//! Without a replica every read goes to the primary.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgConnectOptions;
use sqlx::{PgPool, Postgres};

use crate::clock::SharedClock;
use crate::db::actors::{self, Actor};
use crate::db::posts::Post;
use crate::db::timelines::{self, AccountFilter, Page, Scope};
use crate::db::users::{self, User};
use crate::domain::lists::RepliesPolicy;

/// How long the replica is skipped after it failed: long enough that a
/// replica that is down does not slow every request by the connect
/// timeout, short enough that it takes its load back soon.
pub const RETRY_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

/// How long a request waits for a replica connection before reading from
/// the primary instead.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The pool timeline and profile reads use.
pub struct Reads {
    primary: PgPool,
    replica: Option<Replica>,
}

struct Replica {
    pool: PgPool,
    clock: SharedClock,
    /// Until when the replica is skipped after a failure.
    resting_until: Mutex<Option<DateTime<Utc>>>,
}

/// Runs a read on the replica when there is one and it answers, else on the
/// primary. `$conn` names a `&mut PgConnection` inside `$call`, which is
/// evaluated once per pool tried.
macro_rules! read {
    ($self:ident, |$conn:ident| $call:expr) => {{
        let mut answer = None;
        if let Some(mut replica) = $self.replica_connection().await {
            let $conn = &mut *replica;
            match $call.await {
                Ok(found) => answer = Some(found),
                Err(e) => $self.replica_failed("query", &e),
            }
        }
        match answer {
            Some(found) => Ok(found),
            None => {
                let mut primary = $self.primary.acquire().await?;
                let $conn = &mut *primary;
                $call.await
            }
        }
    }};
}

/// Like `read!`, for a lookup: a row the replica does not have yet is
/// looked up on the primary.
macro_rules! find {
    ($self:ident, |$conn:ident| $call:expr) => {{
        if $self.replica.is_some() {
            let found: Option<_> = read!($self, |$conn| $call)?;
            if found.is_some() {
                return Ok(found);
            }
        }
        let mut primary = $self.primary.acquire().await?;
        let $conn = &mut *primary;
        $call.await
    }};
}

impl Reads {
    /// Every read on the primary: no replica is configured.
    pub fn primary_only(primary: PgPool) -> Reads {
        Reads {
            primary,
            replica: None,
        }
    }

    /// Reads on the replica at `replica`, connected when first needed (a
    /// replica that is down does not stop Skein from starting).
    pub fn with_replica(
        primary: PgPool,
        replica: PgConnectOptions,
        max_connections: u32,
        clock: SharedClock,
    ) -> Reads {
        let pool = super::pool_options(max_connections)
            .min_connections(0)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(replica);
        Reads {
            primary,
            replica: Some(Replica {
                pool,
                clock,
                resting_until: Mutex::new(None),
            }),
        }
    }

    /// Whether a replica is configured.
    pub fn has_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// The replica pool's open and idle connections, for the metrics.
    pub fn replica_pool(&self) -> Option<(u32, usize)> {
        self.replica
            .as_ref()
            .map(|r| (r.pool.size(), r.pool.num_idle()))
    }

    async fn replica_connection(&self) -> Option<PoolConnection<Postgres>> {
        let replica = self.replica.as_ref()?;
        let resting = replica
            .resting_until
            .lock()
            .map(|until| until.is_some_and(|until| replica.clock.now() < until))
            .unwrap_or(false);
        if resting {
            crate::prometheus::replica_fallback();
            return None;
        }
        match replica.pool.acquire().await {
            Ok(conn) => Some(conn),
            Err(e) => {
                self.replica_failed("connection", &e);
                None
            }
        }
    }

    fn replica_failed(&self, what: &'static str, error: &sqlx::Error) {
        let Some(replica) = &self.replica else {
            return;
        };
        tracing::warn!(
            %error,
            failed = what,
            "the read replica failed; reading from the primary, and from the replica again in {} s",
            RETRY_AFTER.num_seconds()
        );
        crate::prometheus::replica_fallback();
        if let Ok(mut until) = replica.resting_until.lock() {
            *until = Some(replica.clock.now() + RETRY_AFTER);
        }
    }

    /// `timelines::home`.
    pub async fn home_timeline(
        &self,
        viewer: i64,
        page: Page,
        now: DateTime<Utc>,
    ) -> Result<Vec<Post>, sqlx::Error> {
        read!(self, |conn| timelines::home(conn, viewer, page, now))
    }

    /// `timelines::public`.
    pub async fn public_timeline(
        &self,
        viewer: Option<i64>,
        scope: Scope,
        page: Page,
        now: DateTime<Utc>,
    ) -> Result<Vec<Post>, sqlx::Error> {
        read!(self, |conn| timelines::public(
            conn, viewer, scope, page, now
        ))
    }

    /// `timelines::tag`.
    pub async fn tag_timeline(
        &self,
        viewer: Option<i64>,
        tag: &str,
        scope: Scope,
        page: Page,
        now: DateTime<Utc>,
    ) -> Result<Vec<Post>, sqlx::Error> {
        read!(self, |conn| timelines::tag(
            conn, viewer, tag, scope, page, now
        ))
    }

    /// `timelines::list`.
    pub async fn list_timeline(
        &self,
        viewer: i64,
        list_id: i64,
        replies: RepliesPolicy,
        page: Page,
        now: DateTime<Utc>,
    ) -> Result<Vec<Post>, sqlx::Error> {
        read!(self, |conn| timelines::list(
            conn, viewer, list_id, replies, page, now
        ))
    }

    /// `timelines::profile`.
    pub async fn profile_timeline(
        &self,
        viewer: Option<i64>,
        author: i64,
        filter: &AccountFilter,
        page: Page,
        now: DateTime<Utc>,
    ) -> Result<Vec<Post>, sqlx::Error> {
        read!(self, |conn| timelines::profile(
            conn,
            viewer,
            author,
            filter.clone(),
            page,
            now
        ))
    }

    /// `actors::find_by_id`.
    pub async fn actor(&self, id: i64) -> Result<Option<Actor>, sqlx::Error> {
        find!(self, |conn| actors::find_by_id(conn, id))
    }

    /// `actors::find_local_person`.
    pub async fn local_person(&self, username: &str) -> Result<Option<Actor>, sqlx::Error> {
        find!(self, |conn| actors::find_local_person(conn, username))
    }

    /// `actors::find_remote_by_handle`.
    pub async fn remote_by_handle(
        &self,
        username: &str,
        domain: &str,
    ) -> Result<Option<Actor>, sqlx::Error> {
        find!(self, |conn| actors::find_remote_by_handle(
            conn, username, domain
        ))
    }

    /// `users::find_by_actor`.
    pub async fn user_of(&self, actor_id: i64) -> Result<Option<User>, sqlx::Error> {
        find!(self, |conn| users::find_by_actor(conn, actor_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use sqlx::postgres::PgPoolOptions;

    /// A replica nobody answers at: a socket directory that does not exist.
    fn unreachable(clock: SharedClock) -> Reads {
        let nowhere = PgConnectOptions::new()
            .host("/nonexistent/skein-replica")
            .username("skein")
            .database("skein");
        let primary = PgPoolOptions::new().connect_lazy_with(nowhere.clone());
        Reads::with_replica(primary, nowhere, 1, clock)
    }

    fn resting_until(reads: &Reads) -> Option<DateTime<Utc>> {
        *reads
            .replica
            .as_ref()
            .expect("a replica")
            .resting_until
            .lock()
            .expect("not poisoned")
    }

    #[tokio::test]
    async fn a_replica_that_fails_is_left_alone_for_a_while_then_tried_again() {
        let start = Utc::now();
        let clock = ManualClock::new(start);
        let reads = unreachable(clock.clone());
        assert!(reads.has_replica());
        assert!(reads.replica_connection().await.is_none());
        assert_eq!(resting_until(&reads), Some(start + RETRY_AFTER));

        // While it rests, it is not tried: the time it rests until stays.
        clock.advance(RETRY_AFTER - chrono::TimeDelta::seconds(1));
        assert!(reads.replica_connection().await.is_none());
        assert_eq!(resting_until(&reads), Some(start + RETRY_AFTER));

        // Once the rest is over, it is tried (and fails) again.
        clock.advance(chrono::TimeDelta::seconds(2));
        assert!(reads.replica_connection().await.is_none());
        assert_eq!(
            resting_until(&reads),
            Some(start + RETRY_AFTER + chrono::TimeDelta::seconds(1) + RETRY_AFTER)
        );
    }

    #[tokio::test]
    async fn without_a_replica_there_is_none_to_try() {
        let nowhere = PgConnectOptions::new().host("/nonexistent/skein-primary");
        let reads = Reads::primary_only(PgPoolOptions::new().connect_lazy_with(nowhere));
        assert!(!reads.has_replica());
        assert!(reads.replica_pool().is_none());
    }
}
