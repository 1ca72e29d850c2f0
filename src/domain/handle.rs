//! Account handles: `user@host` as written in `acct:` URIs and mentions.

/// A handle split into its user and host parts, the host in the one form
/// hosts are compared in (`domain_name::authority`: lower case, IDNA to
/// ASCII, no trailing dot). The host may carry a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    pub user: String,
    pub host: String,
}

impl Handle {
    /// Parses `user@host`, `@user@host` or `acct:user@host`. The user part is
    /// everything before the last `@`, so an instance actor named after a
    /// host (`acct:host@host`) parses too.
    pub fn parse(raw: &str) -> Option<Handle> {
        let raw = raw.trim();
        let raw = raw.strip_prefix("acct:").unwrap_or(raw);
        let raw = raw.strip_prefix('@').unwrap_or(raw);
        let (user, host) = raw.rsplit_once('@')?;
        if user.is_empty() || host.is_empty() || user.contains('@') {
            return None;
        }
        if host.chars().any(|c| matches!(c, '/' | '?' | '#' | '\\')) {
            return None;
        }
        if user.chars().any(|c| c.is_whitespace() || c == '/') {
            return None;
        }
        // The url crate checks the host (and applies IDNA); a handle's host
        // is nothing but a host and an optional port.
        let url = url::Url::parse(&format!("http://{host}/")).ok()?;
        if url.path() != "/" || !url.username().is_empty() || url.port().is_some_and(|p| p == 0) {
            return None;
        }
        let host = match (url.port(), host.rsplit_once(':')) {
            // `host:80` keeps its port: the url crate drops http's default.
            (None, Some((_, "80"))) => format!("{}:80", super::domain_name::authority(&url)),
            _ => super::domain_name::authority(&url),
        };
        Some(Handle {
            user: user.to_string(),
            host,
        })
    }
}

impl std::fmt::Display for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.user, self.host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(user: &str, host: &str) -> Option<Handle> {
        Some(Handle {
            user: user.into(),
            host: host.into(),
        })
    }

    #[test]
    fn parses_the_usual_forms() {
        assert_eq!(
            Handle::parse("acct:alice@Social.Example"),
            h("alice", "social.example")
        );
        assert_eq!(
            Handle::parse("@alice@social.example"),
            h("alice", "social.example")
        );
        assert_eq!(
            Handle::parse("alice@localhost:8080"),
            h("alice", "localhost:8080")
        );
        assert_eq!(
            Handle::parse("acct:social.example@social.example"),
            h("social.example", "social.example")
        );
    }

    #[test]
    fn hosts_come_in_the_one_form_hosts_are_compared_in() {
        assert_eq!(
            Handle::parse("alice@Social.Example."),
            h("alice", "social.example")
        );
        assert_eq!(
            Handle::parse("alice@bücher.example"),
            h("alice", "xn--bcher-kva.example")
        );
        assert_eq!(
            Handle::parse("alice@beta.test.:8443"),
            h("alice", "beta.test:8443")
        );
        assert_eq!(
            Handle::parse("alice@beta.test:80"),
            h("alice", "beta.test:80")
        );
    }

    #[test]
    fn refuses_malformed_handles() {
        for bad in [
            "",
            "acct:",
            "alice",
            "acct:alice@",
            "@social.example",
            "a@b@c",
            "a@ho st",
            "a/b@host",
            "a@host/path",
            "a@host?x",
            "a@host:notaport",
            "a@ex ample.com",
        ] {
            assert_eq!(Handle::parse(bad), None, "{bad}");
        }
    }
}
