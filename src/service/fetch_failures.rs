//! Actor documents that could not be fetched lately, remembered in the
//! process for [`REMEMBER_FOR`]: while a server is down or an actor does
//! not exist, each POST signed in its name would otherwise cost another
//! fetch, which is a cheap way to make Skein hammer a third party or wait
//! on one. Held in memory (a restart forgets), bounded, and timed by
//! `AppState::clock`.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::service::remote_actors::ResolveError;

/// How long a failed fetch stands for the next ones.
pub const REMEMBER_FOR: Duration = Duration::minutes(5);
/// The most actor URLs remembered at once.
pub const CAPACITY: usize = 10_000;

/// Failed actor fetches by actor URL, with when they failed and how.
#[derive(Debug, Default)]
pub struct FetchFailures {
    failures: Mutex<HashMap<String, (DateTime<Utc>, ResolveError)>>,
}

impl FetchFailures {
    pub fn new() -> FetchFailures {
        FetchFailures::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (DateTime<Utc>, ResolveError)>> {
        // The map stays consistent whatever a panicking holder did.
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How fetching `url` failed, if it failed less than [`REMEMBER_FOR`]
    /// before `now`.
    pub fn recent(&self, url: &str, now: DateTime<Utc>) -> Option<ResolveError> {
        let mut failures = self.lock();
        match failures.get(url) {
            Some((at, error)) if now - *at < REMEMBER_FOR => Some(error.clone()),
            Some(_) => {
                failures.remove(url);
                None
            }
            None => None,
        }
    }

    /// Remembers that fetching `url` failed at `now`. When full, expired
    /// entries go first, then the oldest.
    pub fn record(&self, url: &str, error: &ResolveError, now: DateTime<Utc>) {
        let mut failures = self.lock();
        if failures.len() >= CAPACITY && !failures.contains_key(url) {
            failures.retain(|_, (at, _)| now - *at < REMEMBER_FOR);
            if failures.len() >= CAPACITY {
                let oldest = failures
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(url, _)| url.clone());
                if let Some(oldest) = oldest {
                    failures.remove(&oldest);
                }
            }
        }
        failures.insert(url.to_string(), (now, error.clone()));
    }

    /// Forgets `url`'s failure: it was fetched.
    pub fn clear(&self, url: &str) {
        self.lock().remove(url);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .expect("a date")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_failure_is_remembered_for_five_minutes() {
        let failures = FetchFailures::new();
        let url = "https://down.example/users/a";
        failures.record(url, &ResolveError::Unavailable("HTTP 500".into()), t0());
        assert!(matches!(
            failures.recent(url, t0() + Duration::minutes(4)),
            Some(ResolveError::Unavailable(reason)) if reason == "HTTP 500"
        ));
        assert!(
            failures
                .recent("https://down.example/users/b", t0())
                .is_none()
        );
        assert!(failures.recent(url, t0() + REMEMBER_FOR).is_none());
        assert!(failures.is_empty());
    }

    #[test]
    fn a_success_forgets_the_failure() {
        let failures = FetchFailures::new();
        failures.record("https://a.example/u", &ResolveError::NotFound, t0());
        failures.clear("https://a.example/u");
        assert!(failures.recent("https://a.example/u", t0()).is_none());
    }

    #[test]
    fn the_memory_is_bounded_and_drops_the_oldest_first() {
        let failures = FetchFailures::new();
        for i in 0..CAPACITY {
            let at = t0() + Duration::milliseconds(i as i64);
            failures.record(&format!("https://a.example/{i}"), &ResolveError::Gone, at);
        }
        assert_eq!(failures.len(), CAPACITY);
        // Nothing expired yet: the oldest (the first) makes room.
        failures.record(
            "https://new.example/",
            &ResolveError::Gone,
            t0() + Duration::minutes(1),
        );
        assert_eq!(failures.len(), CAPACITY);
        assert!(failures.recent("https://a.example/0", t0()).is_none());
        assert!(
            failures
                .recent("https://new.example/", t0() + Duration::minutes(1))
                .is_some()
        );
        // Later, everything expired goes at once.
        failures.record(
            "https://later.example/",
            &ResolveError::Gone,
            t0() + Duration::hours(1),
        );
        assert_eq!(failures.len(), 1);
    }
}
