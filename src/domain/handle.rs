//! Account handles: `user@host` as written in `acct:` URIs and mentions.

/// A handle split into its user and (lower-cased) host parts. The host may
/// carry a port.
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
        if !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        {
            return None;
        }
        if user.chars().any(|c| c.is_whitespace() || c == '/') {
            return None;
        }
        Some(Handle {
            user: user.to_string(),
            host: host.to_ascii_lowercase(),
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
        ] {
            assert_eq!(Handle::parse(bad), None, "{bad}");
        }
    }
}
