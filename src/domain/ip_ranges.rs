//! Address ranges (CIDR) and the in-memory set of ranges refused outright
//! (`no_access` IP blocks), which every request is checked against without
//! SQL. No axum, no sqlx.

use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

/// An address range: a network address and its prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    network: IpAddr,
    prefix: u8,
}

fn bits(ip: IpAddr) -> (u128, u8) {
    match ip.to_canonical() {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        IpAddr::V6(v6) => (u128::from(v6), 128),
    }
}

fn mask(prefix: u8, width: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let full = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::MAX
    };
    let shift = width - prefix;
    (full >> shift) << shift
}

impl Range {
    /// `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32` (a bare address is a
    /// range of one); None for anything else.
    pub fn parse(raw: &str) -> Option<Range> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (raw, None),
        };
        let ip: IpAddr = addr.parse().ok()?;
        let ip = ip.to_canonical();
        let width = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(width);
        if prefix > width {
            return None;
        }
        Some(Range {
            network: ip,
            prefix,
        })
    }

    /// Whether `ip` is in the range (IPv4-mapped IPv6 addresses count as
    /// IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (net, width) = bits(self.network);
        let (addr, addr_width) = bits(ip);
        if width != addr_width {
            return false;
        }
        let m = mask(self.prefix, width);
        net & m == addr & m
    }
}

/// The ranges refused outright, with when each block ends.
#[derive(Debug, Clone, Default)]
pub struct Refused {
    ranges: Vec<(Range, Option<DateTime<Utc>>)>,
}

impl Refused {
    pub fn new(ranges: impl IntoIterator<Item = (Range, Option<DateTime<Utc>>)>) -> Refused {
        Refused {
            ranges: ranges.into_iter().collect(),
        }
    }

    /// Whether `ip` is refused at `now`. Loopback never is (Mastodon
    /// lets localhost through whatever its blocks say).
    pub fn refuses(&self, ip: IpAddr, now: DateTime<Utc>) -> bool {
        if ip.to_canonical().is_loopback() {
            return false;
        }
        self.ranges
            .iter()
            .any(|(range, ends)| ends.is_none_or(|e| e > now) && range.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

/// The process's current set, swapped whole on a change.
#[derive(Debug, Default)]
pub struct CurrentRefused(RwLock<Arc<Refused>>);

impl CurrentRefused {
    pub fn get(&self) -> Arc<Refused> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn replace(&self, refused: Refused) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(refused);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_hold_their_addresses_only() {
        let r = Range::parse("10.1.0.0/16").unwrap();
        assert!(r.contains(ip("10.1.200.3")));
        assert!(!r.contains(ip("10.2.0.1")));
        assert!(r.contains(ip("::ffff:10.1.0.9")));
        let one = Range::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")));
        assert!(!one.contains(ip("192.0.2.8")));
        let v6 = Range::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::5")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.1.0.1")));
        assert!(Range::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        assert!(Range::parse("10.0.0.0/33").is_none());
        assert!(Range::parse("example.com").is_none());
    }

    #[test]
    fn expired_ranges_and_loopback_are_let_through() {
        let now = Utc::now();
        let refused = Refused::new([
            (Range::parse("198.51.100.0/24").unwrap(), None),
            (
                Range::parse("203.0.113.0/24").unwrap(),
                Some(now - chrono::Duration::seconds(1)),
            ),
            (Range::parse("127.0.0.0/8").unwrap(), None),
        ]);
        assert!(refused.refuses(ip("198.51.100.20"), now));
        assert!(!refused.refuses(ip("203.0.113.20"), now));
        assert!(!refused.refuses(ip("127.0.0.1"), now));
    }
}
