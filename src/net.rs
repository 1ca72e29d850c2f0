//! Outbound HTTP with Skein's safety rules: every request (fetches,
//! WebFinger, deliveries) goes through here.
//!
//! - Private, loopback, link-local and other non-public addresses are refused,
//!   both for IP literals in URLs and for every address a name resolves to
//!   (checked in the resolver, so redirects and DNS rebinding are covered);
//!   the test-network mode allows loopback addresses (where its test
//!   servers listen) and still refuses every other one that is not public.
//! - Only https:// is spoken to peers (http:// in the test-network mode).
//! - `get` follows redirects at most 5 times, each target re-validated;
//!   `get_once` and POSTs follow none (ActivityPub fetches follow redirects
//!   themselves, to hold every hop to the domain policy).
//! - Every request has a total timeout and a body cap.
//! - Services the operator configured (a translation server) are reached
//!   by `operator_request`: their address is the operator's choice, so the
//!   address rules above do not apply; no redirects, a timeout, the cap.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use url::Url;

use crate::config::Config;

/// Largest response body read from a peer (Mastodon rejects JSON-LD over 1 MB).
pub const MAX_BODY: usize = 1024 * 1024;
/// Total time for one request, body included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an idle connection to a peer is kept for the next request.
pub const POOL_IDLE: Duration = Duration::from_secs(10);
/// The most idle connections kept per host.
const POOL_IDLE_PER_HOST: usize = 2;
pub const MAX_REDIRECTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("refused URL {0}: {1}")]
    Refused(String, &'static str),
    #[error("the response body is larger than {MAX_BODY} bytes")]
    TooLarge,
    #[error("the response body is larger than {0} bytes")]
    LargerThan(usize),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("request failed: {0}")]
    Request(#[from] reqwest::Error),
}

impl NetError {
    /// Whether trying again later could succeed (network trouble, timeouts)
    /// rather than a rule that will refuse again.
    pub fn is_transient(&self) -> bool {
        matches!(self, NetError::Request(_))
    }
}

/// What the network rules allow.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Loopback addresses, and plain http.
    pub test_network: bool,
    /// Test-network names resolved without DNS; `*.suffix` entries match
    /// every name ending in `.suffix`.
    pub hosts: BTreeMap<String, IpAddr>,
}

impl Policy {
    pub fn from_config(config: &Config) -> Policy {
        Policy {
            test_network: config.test_network.enabled,
            hosts: if config.test_network.enabled {
                config.test_network.hosts.clone()
            } else {
                BTreeMap::new()
            },
        }
    }

    fn mapped(&self, host: &str) -> Option<IpAddr> {
        let host = host.to_ascii_lowercase();
        if let Some(ip) = self.hosts.get(&host) {
            return Some(*ip);
        }
        self.hosts.iter().find_map(|(pattern, ip)| {
            let suffix = pattern.strip_prefix("*.")?;
            host.strip_suffix(suffix)
                .is_some_and(|rest| rest.ends_with('.'))
                .then_some(*ip)
        })
    }

    fn address_allowed(&self, ip: IpAddr) -> bool {
        is_public(ip) || (self.test_network && is_loopback(ip))
    }

    /// Checks a URL before any connection: scheme, credentials, IP literals.
    pub fn check_url(&self, url: &Url) -> Result<(), NetError> {
        match url.scheme() {
            "https" => {}
            "http" if self.test_network => {}
            _ => {
                return Err(NetError::Refused(
                    url.to_string(),
                    "only https URLs are fetched",
                ));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(NetError::Refused(
                url.to_string(),
                "URLs with credentials are refused",
            ));
        }
        match url.host() {
            None => Err(NetError::Refused(url.to_string(), "the URL has no host")),
            Some(url::Host::Ipv4(ip)) if !self.address_allowed(IpAddr::V4(ip)) => Err(
                NetError::Refused(url.to_string(), "the address is not public"),
            ),
            Some(url::Host::Ipv6(ip)) if !self.address_allowed(IpAddr::V6(ip)) => Err(
                NetError::Refused(url.to_string(), "the address is not public"),
            ),
            Some(_) => Ok(()),
        }
    }
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local, shared (CGNAT), documentation, benchmarking, multicast,
/// reserved or unspecified, in IPv4 or IPv6; IPv6 forms that carry or route
/// to an IPv4 address (mapped, compatible, 6to4, Teredo, NAT64) and the
/// special-purpose blocks Mastodon refuses too (discard, ORCHID) are not
/// public either.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            is_public_v6(v6)
        }
    }
}

/// Loopback, in IPv4 or IPv6 (mapped IPv4 included): what the test
/// network's servers listen on.
fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// IPv6 blocks that are never a peer's own address. Prefixes that embed or
/// route to another address are refused whole rather than decoded: what
/// they lead to is decided by a relay, not by the address we checked.
const NOT_PUBLIC_V6: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96, "IPv4-compatible"),
    (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96, "NAT64"),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "local NAT64",
    ),
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, "discard"),
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 32, "Teredo"),
    (
        Ipv6Addr::new(0x2001, 0x2, 0, 0, 0, 0, 0, 0),
        48,
        "benchmarking",
    ),
    (Ipv6Addr::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0), 28, "ORCHID"),
    (
        Ipv6Addr::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0),
        28,
        "ORCHIDv2",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        "documentation",
    ),
    (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16, "6to4"),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "unique local",
    ),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, "link-local"),
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, "site-local"),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, "multicast"),
];

fn in_prefix(ip: Ipv6Addr, prefix: Ipv6Addr, len: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(prefix) & mask
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // `::` and `::1` fall in the IPv4-compatible block.
    !NOT_PUBLIC_V6
        .iter()
        .any(|(prefix, len, _)| in_prefix(ip, *prefix, *len))
}

/// Resolves names with the test-network map first, then the system
/// resolver, and drops every address the policy refuses.
struct CheckedResolver {
    policy: Arc<Policy>,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_string();
            let candidates: Vec<SocketAddr> = match policy.mapped(&host) {
                Some(ip) => vec![SocketAddr::new(ip, 0)],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let allowed: Vec<SocketAddr> = candidates
                .into_iter()
                .filter(|a| policy.address_allowed(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// A response read in full (up to the cap).
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: Url,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Whether a request's connection is kept, idle, for the next request to
/// the same host (for at most [`POOL_IDLE`]). Every idle connection holds
/// its buffers (and a TLS session): worth it for a host that is sent to
/// again soon, not for the thousands of servers a fan-out reaches once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    Keep,
    Close,
}

/// The outbound client. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    policy: Arc<Policy>,
    fetcher: reqwest::Client,
    poster: reqwest::Client,
    /// Posts whose connection is closed after the answer (`Reuse::Close`).
    poster_once: reqwest::Client,
    /// For services the operator configured (translation): any address,
    /// no redirects.
    operator: reqwest::Client,
}

impl HttpClient {
    pub fn new(policy: Policy, user_agent: &str) -> anyhow::Result<HttpClient> {
        let policy = Arc::new(policy);
        let build = |redirects: reqwest::redirect::Policy, idle_per_host: usize| {
            reqwest::Client::builder()
                .user_agent(user_agent)
                .dns_resolver(Arc::new(CheckedResolver {
                    policy: policy.clone(),
                }))
                .no_proxy()
                .timeout(TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                // Idle connections are few and short-lived: a fan-out
                // touches thousands of hosts once each, and every idle
                // connection holds its buffers.
                .pool_idle_timeout(POOL_IDLE)
                .pool_max_idle_per_host(idle_per_host)
                .redirect(redirects)
                .build()
        };
        let redirect_policy = policy.clone();
        let follow = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if let Err(e) = redirect_policy.check_url(attempt.url()) {
                attempt.error(e.to_string())
            } else {
                attempt.follow()
            }
        });
        let operator = reqwest::Client::builder()
            .user_agent(user_agent)
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(POOL_IDLE_PER_HOST)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(HttpClient {
            fetcher: build(follow, POOL_IDLE_PER_HOST)?,
            poster: build(reqwest::redirect::Policy::none(), POOL_IDLE_PER_HOST)?,
            poster_once: build(reqwest::redirect::Policy::none(), 0)?,
            operator,
            policy,
        })
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// A GET, following checked redirects, with the body read up to the cap.
    pub async fn get(&self, url: &Url, headers: HeaderMap) -> Result<Fetched, NetError> {
        self.policy.check_url(url)?;
        let response = self
            .fetcher
            .get(url.clone())
            .headers(headers)
            .send()
            .await?;
        read(response).await
    }

    /// A GET of a page or image for a link preview: checked redirects, its
    /// own total time, and its own body cap: a larger body is cut at the cap
    /// (`BodyCap::Truncate`, the start of a page is what a preview reads)
    /// or refused (`BodyCap::Refuse`).
    pub async fn get_capped(
        &self,
        url: &Url,
        headers: HeaderMap,
        cap: BodyCap,
        timeout: Duration,
    ) -> Result<Fetched, NetError> {
        self.policy.check_url(url)?;
        let response = self
            .fetcher
            .get(url.clone())
            .headers(headers)
            .timeout(timeout)
            .send()
            .await?;
        read_capped(response, cap).await
    }

    /// A GET whose redirects are not followed: the caller sees a 3xx and its
    /// `Location`, for redirects that need checks of its own on every hop.
    pub async fn get_once(&self, url: &Url, headers: HeaderMap) -> Result<Fetched, NetError> {
        self.policy.check_url(url)?;
        let response = self
            .poster
            .request(Method::GET, url.clone())
            .headers(headers)
            .send()
            .await?;
        read(response).await
    }

    /// A GET of a media file: redirects are not followed (the caller checks
    /// every hop), the body is read up to `max_bytes` (a `Content-Length`
    /// above it is refused before any of the body is read) within
    /// `timeout`, body included.
    pub async fn get_media(
        &self,
        url: &Url,
        max_bytes: usize,
        timeout: Duration,
    ) -> Result<Fetched, NetError> {
        self.policy.check_url(url)?;
        let response = self
            .poster
            .request(Method::GET, url.clone())
            .timeout(timeout)
            .send()
            .await?;
        read_capped(response, BodyCap::Refuse(max_bytes)).await
    }

    /// A POST; redirects are not followed. With `Reuse::Close` the
    /// connection is not kept for another request once answered.
    pub async fn post(
        &self,
        url: &Url,
        headers: HeaderMap,
        body: Bytes,
        reuse: Reuse,
    ) -> Result<Fetched, NetError> {
        self.policy.check_url(url)?;
        let client = match reuse {
            Reuse::Keep => &self.poster,
            Reuse::Close => &self.poster_once,
        };
        let response = client
            .request(Method::POST, url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await?;
        read(response).await
    }
}

impl HttpClient {
    /// A request to a service the operator named in the configuration (a
    /// translation server), not to a peer: its address is the operator's
    /// choice, so the address rules for peers do not apply (a server on
    /// localhost is allowed); the scheme must be http(s) and carry no
    /// credentials. Redirects are not followed; the body is read up to
    /// [`MAX_BODY`] within `timeout`.
    pub async fn operator_request(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<Bytes>,
        timeout: Duration,
    ) -> Result<Fetched, NetError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(NetError::Refused(
                url.to_string(),
                "only http(s) URLs are requested",
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(NetError::Refused(
                url.to_string(),
                "URLs with credentials are refused",
            ));
        }
        let mut request = self
            .operator
            .request(method, url.clone())
            .headers(headers)
            .timeout(timeout);
        if let Some(body) = body {
            request = request.body(body);
        }
        read(request.send().await?).await
    }
}

/// How much of a body is read, and what happens beyond it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyCap {
    /// A larger body is an error (`NetError::LargerThan`).
    Refuse(usize),
    /// Reading stops at this many bytes; the rest is never read.
    Truncate(usize),
}

async fn read(response: reqwest::Response) -> Result<Fetched, NetError> {
    read_capped(response, BodyCap::Refuse(MAX_BODY))
        .await
        .map_err(|e| match e {
            NetError::LargerThan(_) => NetError::TooLarge,
            e => e,
        })
}

async fn read_capped(mut response: reqwest::Response, cap: BodyCap) -> Result<Fetched, NetError> {
    let (limit, truncate) = match cap {
        BodyCap::Refuse(limit) => (limit, false),
        BodyCap::Truncate(limit) => (limit, true),
    };
    if !truncate
        && response
            .content_length()
            .is_some_and(|len| len > limit as u64)
    {
        return Err(NetError::LargerThan(limit));
    }
    let url = response.url().clone();
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            if truncate {
                body.extend_from_slice(&chunk[..limit - body.len()]);
                break;
            }
            return Err(NetError::LargerThan(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        url,
        status,
        headers,
        body: Bytes::from(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "64:ff9b::7f00:1",
            "64:ff9b::101:101",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::1",
            "2002:101:101::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "100::1",
            "2001:10::1",
            "2001:1f::1",
            "2001:20::1",
            "2001:2f:ffff::1",
            "2001:2::1",
            "::127.0.0.1",
            "::1.1.1.1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "2001:4860:4860::8888",
            "2003::1",
            "100:0:0:1::1",
            "64:ff9c::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    fn policy(test_network: bool) -> Policy {
        let mut hosts = BTreeMap::new();
        hosts.insert("beta.test".to_string(), "127.0.0.1".parse().unwrap());
        hosts.insert("*.sink.test".to_string(), "127.0.0.2".parse().unwrap());
        Policy {
            test_network,
            hosts,
        }
    }

    #[test]
    fn urls_are_checked_before_connecting() {
        let strict = policy(false);
        for bad in [
            "http://example.com/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://10.0.0.1/x",
            "ftp://example.com/",
            "https://user:pw@example.com/",
        ] {
            assert!(
                strict.check_url(&Url::parse(bad).unwrap()).is_err(),
                "{bad}"
            );
        }
        assert!(
            strict
                .check_url(&Url::parse("https://example.com/").unwrap())
                .is_ok()
        );
        let test = policy(true);
        assert!(
            test.check_url(&Url::parse("http://127.0.0.1:8080/").unwrap())
                .is_ok()
        );
    }

    #[test]
    fn ipv6_forms_that_lead_elsewhere_are_refused_even_in_the_test_network() {
        for literal in [
            "https://[2002:a00:1::1]/",
            "https://[2001:0:4136:e378::1]/",
            "https://[64:ff9b::a00:1]/",
            "https://[64:ff9b:1::a00:1]/",
            "https://[100::1]/",
            "https://[2001:10::1]/",
            "https://[2001:20::1]/",
            "https://[::10.0.0.1]/",
            "https://[::ffff:10.0.0.1]/",
        ] {
            let url = Url::parse(literal).unwrap();
            assert!(
                matches!(policy(false).check_url(&url), Err(NetError::Refused(_, _))),
                "{literal}"
            );
            assert!(
                matches!(policy(true).check_url(&url), Err(NetError::Refused(_, _))),
                "{literal}"
            );
        }
        for loopback in [
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://127.0.0.2/",
        ] {
            let url = Url::parse(loopback).unwrap();
            assert!(policy(false).check_url(&url).is_err(), "{loopback}");
            assert!(policy(true).check_url(&url).is_ok(), "{loopback}");
        }
    }

    #[test]
    fn the_test_network_allows_loopback_and_no_other_private_address() {
        let test = policy(true);
        for private in [
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://192.168.1.1/",
            "http://[fd00::1]/",
        ] {
            assert!(
                test.check_url(&Url::parse(private).unwrap()).is_err(),
                "{private}"
            );
        }
    }

    #[test]
    fn the_host_map_supports_exact_and_wildcard_names() {
        let p = policy(true);
        assert_eq!(p.mapped("Beta.Test"), Some("127.0.0.1".parse().unwrap()));
        assert_eq!(
            p.mapped("h17.sink.test"),
            Some("127.0.0.2".parse().unwrap())
        );
        assert_eq!(p.mapped("sink.test"), None);
        assert_eq!(p.mapped("evilsink.test"), None);
    }
}
