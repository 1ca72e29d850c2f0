//! The instance's domain policy as one immutable value: the blocks (with
//! their severity and whether they reject media), the allowed domains and
//! the federation mode. Held in memory by every process and replaced whole
//! when the policy changes, so that checking a host costs no SQL.
//!
//! A block or an allowed domain covers the domain itself and its
//! subdomains, with the same rule as SQL's `domain_covers`: `host[:port]`
//! equals the domain, or its host part does, or its host part ends with
//! `.domain`. Hosts are compared in the form of
//! [`domain_name::canonical_host`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::domain_name;

/// A block's severity, as Mastodon names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Recorded (for reject-media or reports) but nothing hidden.
    Noop,
    Silence,
    Suspend,
}

impl Severity {
    pub fn parse(raw: &str) -> Option<Severity> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "noop" | "none" => Some(Severity::Noop),
            "silence" | "limit" => Some(Severity::Silence),
            "suspend" => Some(Severity::Suspend),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Noop => "noop",
            Severity::Silence => "silence",
            Severity::Suspend => "suspend",
        }
    }
}

/// What a block says about the hosts it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub severity: Severity,
    pub reject_media: bool,
}

/// The whole policy at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// This instance's own `host[:port]`, never refused.
    own: String,
    /// Blocks by domain (`host` or `host:port`).
    blocks: HashMap<String, Rule>,
    /// Allowed domains; consulted only in the allow-list mode.
    allows: Vec<String>,
    allowlist: bool,
}

impl Snapshot {
    /// A policy for the instance at `own`; domains are taken as stored
    /// (normalised when they were blocked or allowed).
    pub fn new(
        own: &str,
        blocks: impl IntoIterator<Item = (String, Rule)>,
        allows: impl IntoIterator<Item = String>,
        allowlist: bool,
    ) -> Snapshot {
        Snapshot {
            own: domain_name::canonical_host(own),
            blocks: blocks.into_iter().collect(),
            allows: allows.into_iter().collect(),
            allowlist,
        }
    }

    /// The blocks covering `host`, the most specific first.
    pub fn covering(&self, host: &str) -> Vec<Rule> {
        let host = domain_name::canonical_host(host);
        covering_domains(&host)
            .filter_map(|domain| self.blocks.get(domain).copied())
            .collect()
    }

    /// Whether Skein refuses to federate with `host` (`host[:port]`): a
    /// block suspends it, or the allow-list mode does not list it. The
    /// instance's own host is never refused.
    pub fn refuses(&self, host: &str) -> bool {
        let host = domain_name::canonical_host(host);
        if host.is_empty() || host == self.own {
            return false;
        }
        if covering_domains(&host)
            .filter_map(|domain| self.blocks.get(domain))
            .any(|rule| rule.severity == Severity::Suspend)
        {
            return true;
        }
        self.allowlist
            && !covering_domains(&host).any(|domain| self.allows.iter().any(|a| a == domain))
    }

    /// Whether only allowed domains federate (Mastodon's limited federation
    /// mode).
    pub fn allowlist_mode(&self) -> bool {
        self.allowlist
    }

    /// Whether media from `host` are rejected (not stored, not shown).
    pub fn rejects_media(&self, host: &str) -> bool {
        self.covering(host)
            .iter()
            .any(|rule| rule.reject_media || rule.severity == Severity::Suspend)
    }

    /// Whether `host` is silenced (kept out of public timelines) or more.
    pub fn silenced(&self, host: &str) -> bool {
        self.covering(host)
            .iter()
            .any(|rule| matches!(rule.severity, Severity::Silence | Severity::Suspend))
    }
}

/// The policy a process holds: the latest snapshot, replaced whole when the
/// policy changes. Readers keep the `Arc` they got for as long as they need
/// a consistent view.
#[derive(Debug, Default)]
pub struct Current(RwLock<Arc<Snapshot>>);

impl Current {
    pub fn new(snapshot: Snapshot) -> Current {
        Current(RwLock::new(Arc::new(snapshot)))
    }

    pub fn get(&self) -> Arc<Snapshot> {
        // A poisoned lock still holds a whole snapshot: writers only swap
        // the Arc.
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn replace(&self, snapshot: Snapshot) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(snapshot);
    }
}

/// The domains that cover a canonical `host[:port]`, the most specific
/// first: the whole authority, then its host name and each parent domain.
/// `host` and the domains above it (`a.b.example:8080`: itself,
/// `a.b.example`, `b.example`, `example`), as `domain_covers` matches them.
pub fn covering_domains(host: &str) -> impl Iterator<Item = &str> {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.contains(':') => {
            name
        }
        _ => host,
    };
    let whole = (name != host).then_some(host);
    let parents = std::iter::successors(Some(name), |d| d.split_once('.').map(|(_, rest)| rest))
        .filter(|d| !d.is_empty());
    whole.into_iter().chain(parents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(severity: Severity, reject_media: bool) -> Rule {
        Rule {
            severity,
            reject_media,
        }
    }

    fn policy(allowlist: bool) -> Snapshot {
        Snapshot::new(
            "home.example",
            [
                ("evil.example".to_string(), rule(Severity::Suspend, false)),
                ("loud.example".to_string(), rule(Severity::Silence, false)),
                ("pics.example".to_string(), rule(Severity::Noop, true)),
                (
                    "port.example:8443".to_string(),
                    rule(Severity::Suspend, false),
                ),
            ],
            ["friends.example".to_string()],
            allowlist,
        )
    }

    #[test]
    fn a_block_covers_its_domain_its_subdomains_and_any_port() {
        let p = policy(false);
        assert!(p.refuses("evil.example"));
        assert!(p.refuses("Social.EVIL.example."));
        assert!(p.refuses("evil.example:8080"));
        assert!(!p.refuses("notevil.example"), "a suffix is not a subdomain");
        assert!(!p.refuses("example"));
        assert!(p.refuses("port.example:8443"));
        assert!(
            !p.refuses("port.example"),
            "a block with a port is that port only"
        );
        assert!(!p.refuses(""));
    }

    #[test]
    fn severities_decide_what_is_refused_silenced_and_stripped_of_media() {
        let p = policy(false);
        assert!(!p.refuses("loud.example"));
        assert!(p.silenced("a.loud.example"));
        assert!(
            p.silenced("evil.example"),
            "a suspension is more than silence"
        );
        assert!(!p.silenced("pics.example"));
        assert!(p.rejects_media("pics.example:443"));
        assert!(p.rejects_media("evil.example"));
        assert!(!p.rejects_media("loud.example"));
        assert_eq!(p.covering("x.evil.example").len(), 1);
    }

    #[test]
    fn the_allow_list_mode_refuses_every_host_it_does_not_list_but_our_own() {
        let p = policy(true);
        assert!(!p.refuses("friends.example"));
        assert!(!p.refuses("social.friends.example:3000"));
        assert!(p.refuses("stranger.example"));
        assert!(!p.refuses("HOME.example"), "our own host");
        assert!(!policy(false).refuses("stranger.example"));
    }

    #[test]
    fn ip_literals_are_covered_only_by_themselves() {
        let p = Snapshot::new(
            "home.example",
            [("[::1]:8080".to_string(), rule(Severity::Suspend, false))],
            [],
            false,
        );
        assert!(p.refuses("[::1]:8080"));
        assert!(!p.refuses("[::1]:9090"));
    }
}
