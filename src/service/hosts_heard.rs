//! Remote hosts that answered lately. Hearing from a host (an activity it
//! sent, a delivery it acknowledged) clears its failure days and makes it
//! available again (`db::deliveries::heard_from`). That is one statement
//! whose work is almost always nothing, and it would run on every activity
//! received and every delivery made; instead each process clears a host at
//! most once per [`CLEAR_EVERY`], and again as soon as it recorded a failure
//! of that host itself. A failure recorded by another process is cleared at
//! most [`CLEAR_EVERY`] late, against the days it takes to give a host up.
//! Held in memory, bounded, timed by `AppState::clock`.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use sqlx::PgConnection;

use crate::db;
use crate::state::AppState;

/// How often one process clears a host it keeps hearing from.
pub const CLEAR_EVERY: Duration = Duration::minutes(1);
/// The most hosts remembered at once.
pub const CAPACITY: usize = 10_000;

/// When this process last cleared each host.
#[derive(Debug, Default)]
pub struct HostsHeard {
    cleared: Mutex<HashMap<String, DateTime<Utc>>>,
}

impl HostsHeard {
    pub fn new() -> HostsHeard {
        HostsHeard::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, DateTime<Utc>>> {
        // The map stays consistent whatever a panicking holder did.
        self.cleared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `host` is due to be cleared at `now`; if so, it counts as
    /// cleared from now on. When full, expired entries go first, then all.
    pub fn due(&self, host: &str, now: DateTime<Utc>) -> bool {
        let mut cleared = self.lock();
        if cleared.get(host).is_some_and(|at| now - *at < CLEAR_EVERY) {
            return false;
        }
        if cleared.len() >= CAPACITY && !cleared.contains_key(host) {
            cleared.retain(|_, at| now - *at < CLEAR_EVERY);
            if cleared.len() >= CAPACITY {
                cleared.clear();
            }
        }
        cleared.insert(host.to_string(), now);
        true
    }

    /// A failure of `host` was recorded: the next word from it clears it.
    pub fn failed(&self, host: &str) {
        self.lock().remove(host);
    }
}

/// `host` answered: its failures are cleared, when due (see the module).
/// A transaction that rolls back after this loses the clearing for at most
/// [`CLEAR_EVERY`].
pub async fn heard_from(
    conn: &mut PgConnection,
    state: &AppState,
    host: &str,
) -> Result<(), sqlx::Error> {
    if state.hosts_heard.due(host, state.clock.now()) {
        db::deliveries::heard_from(conn, host).await?;
    }
    Ok(())
}

/// `heard_from` for many hosts at once (a batch of delivery outcomes): the
/// due ones are cleared in one statement.
pub async fn heard_from_all(
    conn: &mut PgConnection,
    state: &AppState,
    hosts: &[String],
) -> Result<(), sqlx::Error> {
    let now = state.clock.now();
    let due: Vec<String> = hosts
        .iter()
        .filter(|host| state.hosts_heard.due(host, now))
        .cloned()
        .collect();
    if !due.is_empty() {
        db::deliveries::heard_from_all(conn, &due).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).expect("a valid time")
    }

    #[test]
    fn a_host_is_cleared_once_a_minute() {
        let heard = HostsHeard::new();
        assert!(heard.due("a.example", at(0)));
        assert!(!heard.due("a.example", at(1)));
        assert!(!heard.due("a.example", at(59)));
        assert!(heard.due("b.example", at(59)), "hosts are apart");
        assert!(heard.due("a.example", at(60)));
        assert!(!heard.due("a.example", at(61)));
    }

    #[test]
    fn a_recorded_failure_makes_the_next_word_clear_again() {
        let heard = HostsHeard::new();
        assert!(heard.due("a.example", at(0)));
        heard.failed("a.example");
        assert!(heard.due("a.example", at(1)));
    }

    #[test]
    fn the_map_stays_bounded() {
        let heard = HostsHeard::new();
        for n in 0..CAPACITY + 10 {
            assert!(heard.due(&format!("h{n}.example"), at(0)));
        }
        assert!(heard.lock().len() <= CAPACITY);
    }
}
