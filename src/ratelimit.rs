//! Fixed-window rate limits, counted in PostgreSQL (`db::rate_limits`) on
//! the injectable clock, so that they hold across every process of the
//! instance: two web processes behind a load balancer allow what one does.
//! Mastodon's limits (<https://docs.joinmastodon.org/api/rate-limits/>)
//! are the defaults: 300 API calls per 5 minutes per account or address, 30
//! media uploads per 30 minutes, 25 sign-in attempts per 5 minutes per
//! address (an IPv6 address counts with its /64, which one machine usually
//! holds whole); and, so that many addresses cannot take turns guessing one
//! password, 10 failed sign-ins per 15 minutes per account.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::clock::SharedClock;
use crate::db;

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
/// Requests for a mailed link (password reset, confirmation again), per
/// address asking and per e-mail address asked for.
pub const MAIL_LINK: Limit = Limit {
    name: "mail_link",
    max: 5,
    window: chrono::Duration::minutes(30),
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

pub struct RateLimiter {
    db: PgPool,
    clock: SharedClock,
}

impl RateLimiter {
    pub fn new(db: PgPool, clock: SharedClock) -> RateLimiter {
        RateLimiter { db, clock }
    }

    /// Counts a hit on `key` under `limit`.
    pub async fn hit(&self, limit: Limit, key: &str) -> Result<Verdict, sqlx::Error> {
        let max = i32::try_from(limit.max).unwrap_or(i32::MAX);
        let counted = db::rate_limits::hit(
            &self.db,
            limit.name,
            key,
            max,
            limit.window,
            self.clock.now(),
        )
        .await?;
        Ok(verdict(limit, counted))
    }

    /// Whether `key` has used up `limit` in the current window, without
    /// counting a hit.
    pub async fn exhausted(&self, limit: Limit, key: &str) -> Result<bool, sqlx::Error> {
        let hits = db::rate_limits::current(&self.db, limit.name, key, self.clock.now()).await?;
        Ok(i64::from(hits) >= i64::from(limit.max))
    }

    /// Forgets the hits on `key` (a successful sign-in clears the failures).
    pub async fn clear(&self, limit: Limit, key: &str) -> Result<(), sqlx::Error> {
        db::rate_limits::clear(&self.db, limit.name, key).await
    }

    /// Drops the windows that have ended (housekeeping).
    pub async fn prune(&self) -> Result<u64, sqlx::Error> {
        db::rate_limits::prune(&self.db, self.clock.now()).await
    }
}

/// What a counted hit means under `limit`: hits past the limit are refused.
fn verdict(limit: Limit, counted: db::rate_limits::Counted) -> Verdict {
    let hits = u32::try_from(counted.hits).unwrap_or(0);
    Verdict {
        allowed: hits <= limit.max,
        limit: limit.max,
        remaining: limit.max.saturating_sub(hits),
        reset: counted.ends_at,
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
    fn hits_past_the_limit_are_refused() {
        let limit = Limit {
            name: "t",
            max: 2,
            window: chrono::Duration::minutes(5),
        };
        let at = |hits| {
            verdict(
                limit,
                db::rate_limits::Counted {
                    hits,
                    ends_at: DateTime::<Utc>::UNIX_EPOCH,
                },
            )
        };
        assert!(at(1).allowed);
        assert_eq!(at(1).remaining, 1);
        assert!(at(2).allowed);
        assert_eq!(at(2).remaining, 0);
        assert!(!at(3).allowed);
        assert_eq!(at(3).remaining, 0);
        assert_eq!(at(3).reset, DateTime::<Utc>::UNIX_EPOCH);
    }
}
