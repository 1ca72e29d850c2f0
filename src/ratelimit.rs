//! Fixed-window rate limits kept in memory, per process, on the injectable
//! clock. Mastodon's limits (<https://docs.joinmastodon.org/api/rate-limits/>)
//! are the defaults: 300 API calls per 5 minutes per account or address, 30
//! media uploads per 30 minutes, 25 sign-in attempts per 5 minutes per
//! address (an IPv6 address counts with its /64, which one machine usually
//! holds whole); and, so that many addresses cannot take turns guessing one
//! password, 10 failed sign-ins per 15 minutes per account.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::clock::SharedClock;

/// A limit: so many hits per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub name: &'static str,
    pub max: u32,
    pub window: chrono::Duration,
}

pub const API: Limit = Limit {
    name: "api",
    max: 300,
    window: chrono::Duration::minutes(5),
};
pub const MEDIA: Limit = Limit {
    name: "media",
    max: 30,
    window: chrono::Duration::minutes(30),
};
pub const SIGN_IN: Limit = Limit {
    name: "sign_in",
    max: 25,
    window: chrono::Duration::minutes(5),
};
/// Password checks per account (sign-in, moving, deleting, changing the
/// password), whatever the address; a right password clears the count.
pub const SIGN_IN_ACCOUNT: Limit = Limit {
    name: "sign_in_account",
    max: 10,
    window: chrono::Duration::minutes(15),
};
/// Whole archives (every post and media file) an account may download.
pub const ARCHIVE: Limit = Limit {
    name: "archive",
    max: 3,
    window: chrono::Duration::hours(1),
};
pub const SIGN_UP: Limit = Limit {
    name: "sign_up",
    max: 5,
    window: chrono::Duration::minutes(30),
};

/// The outcome of counting one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// When the window ends.
    pub reset: DateTime<Utc>,
}

/// (limit name, key)
type WindowKey = (&'static str, String);
/// (start of the window, hits counted)
type Window = (DateTime<Utc>, u32);

pub struct RateLimiter {
    clock: SharedClock,
    windows: Mutex<HashMap<WindowKey, Window>>,
}

/// Windows are swept when the map grows past this many keys.
const SWEEP_AT: usize = 10_000;

impl RateLimiter {
    pub fn new(clock: SharedClock) -> RateLimiter {
        RateLimiter {
            clock,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit on `key` under `limit`. A refused hit is not counted.
    pub fn hit(&self, limit: Limit, key: &str) -> Verdict {
        let now = self.clock.now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > SWEEP_AT {
            windows.retain(|(name, _), (start, _)| {
                let window = if *name == limit.name {
                    limit.window
                } else {
                    chrono::Duration::hours(1)
                };
                *start + window > now
            });
        }
        let entry = windows
            .entry((limit.name, key.to_string()))
            .or_insert((now, 0));
        if entry.0 + limit.window <= now {
            *entry = (now, 0);
        }
        let allowed = entry.1 < limit.max;
        if allowed {
            entry.1 += 1;
        }
        Verdict {
            allowed,
            limit: limit.max,
            remaining: limit.max - entry.1,
            reset: entry.0 + limit.window,
        }
    }

    /// Whether `key` has used up `limit` in the current window, without
    /// counting a hit.
    pub fn exhausted(&self, limit: Limit, key: &str) -> bool {
        let now = self.clock.now();
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows
            .get(&(limit.name, key.to_string()))
            .is_some_and(|(start, hits)| *start + limit.window > now && *hits >= limit.max)
    }

    /// Forgets the hits on `key` (a successful sign-in clears the failures).
    pub fn clear(&self, limit: Limit, key: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        windows.remove(&(limit.name, key.to_string()));
    }
}

/// The key a client's address counts under: an IPv4 address as it is, an
/// IPv6 address by its /64 network.
pub fn address_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6
            .to_ipv4_mapped()
            .map(|v4| v4.to_string())
            .unwrap_or_default(),
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn ipv6_addresses_count_by_their_network() {
        assert_eq!(
            address_key("2001:db8:1:2:aaaa::1"),
            address_key("2001:db8:1:2:bbbb::2")
        );
        assert_ne!(
            address_key("2001:db8:1:2::1"),
            address_key("2001:db8:1:3::1")
        );
        assert_eq!(address_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(address_key("::ffff:192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn an_exhausted_key_is_seen_without_counting() {
        let clock = ManualClock::new(Utc::now());
        let limiter = RateLimiter::new(clock.clone());
        let limit = Limit {
            name: "t",
            max: 1,
            window: chrono::Duration::minutes(5),
        };
        assert!(!limiter.exhausted(limit, "k"));
        limiter.hit(limit, "k");
        assert!(limiter.exhausted(limit, "k"));
        clock.advance(chrono::Duration::minutes(5));
        assert!(!limiter.exhausted(limit, "k"));
    }

    #[test]
    fn hits_beyond_the_limit_are_refused_until_the_window_ends() {
        let clock = ManualClock::new(Utc::now());
        let limiter = RateLimiter::new(clock.clone());
        let limit = Limit {
            name: "t",
            max: 2,
            window: chrono::Duration::minutes(5),
        };
        assert!(limiter.hit(limit, "a").allowed);
        let second = limiter.hit(limit, "a");
        assert!(second.allowed);
        assert_eq!(second.remaining, 0);
        assert!(!limiter.hit(limit, "a").allowed);
        assert!(limiter.hit(limit, "b").allowed, "keys are separate");
        clock.advance(chrono::Duration::minutes(5));
        assert!(limiter.hit(limit, "a").allowed);
    }
}
