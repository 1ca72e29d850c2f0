//! OAuth scopes as Mastodon defines them: the top-level `read`, `write`,
//! `follow`, `push`, `profile` and `admin:*` scopes and the granular ones
//! beneath them (<https://docs.joinmastodon.org/api/oauth-scopes/>).

use std::fmt;

/// Every scope an application may ask for.
pub const ALL: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read",
    "admin:write",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

/// The deprecated `follow` scope stands for these.
const FOLLOW: &[&str] = &[
    "read:blocks",
    "write:blocks",
    "read:follows",
    "write:follows",
    "read:mutes",
    "write:mutes",
];

/// A set of granted scopes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`")]
pub struct UnknownScope(pub String);

impl Scopes {
    /// Parses a space-separated list (`+` also separates, as some clients send
    /// it form-encoded twice). Empty means Mastodon's default, `read`.
    pub fn parse(text: &str) -> Result<Scopes, UnknownScope> {
        let mut scopes: Vec<String> = Vec::new();
        for scope in text.split([' ', '+']).filter(|s| !s.is_empty()) {
            if !ALL.contains(&scope) {
                return Err(UnknownScope(scope.to_string()));
            }
            if !scopes.iter().any(|s| s == scope) {
                scopes.push(scope.to_string());
            }
        }
        if scopes.is_empty() {
            scopes.push("read".to_string());
        }
        Ok(Scopes(scopes))
    }

    /// Every scope, for tokens made by `skein token create`.
    pub fn everything() -> Scopes {
        Scopes(
            ["read", "write", "follow", "push", "profile"]
                .into_iter()
                .map(String::from)
                .collect(),
        )
    }

    /// Whether these scopes allow what `required` allows: a scope covers
    /// itself and every scope beneath it (`read` covers `read:statuses`,
    /// `admin:read` covers `admin:read:accounts`); `follow` covers the
    /// follow, block and mute scopes; `read` lets a client read its own
    /// account (the `profile` scope asks for just that).
    pub fn allows(&self, required: &str) -> bool {
        self.0.iter().any(|granted| {
            granted == required
                || required
                    .strip_prefix(granted.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
                || (granted == "follow" && FOLLOW.contains(&required))
                || (required == "profile" && (granted == "read" || granted == "read:accounts"))
        })
    }

    /// Whether every scope in `self` is within `limit` (an application may
    /// only be granted what it registered for).
    pub fn within(&self, limit: &Scopes) -> bool {
        self.0.iter().all(|s| limit.allows(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_scope_list_means_read() {
        assert_eq!(Scopes::parse("").unwrap().to_string(), "read");
    }

    #[test]
    fn top_level_scopes_cover_their_granular_scopes() {
        let s = Scopes::parse("read write:statuses").unwrap();
        assert!(s.allows("read:notifications"));
        assert!(s.allows("write:statuses"));
        assert!(!s.allows("write:favourites"));
        assert!(!s.allows("write"));
        assert!(!s.allows("readx"));
        let admin = Scopes::parse("admin:read").unwrap();
        assert!(admin.allows("admin:read:accounts"));
        assert!(!admin.allows("admin:write:accounts"));
    }

    #[test]
    fn follow_covers_blocks_follows_and_mutes() {
        let s = Scopes::parse("follow").unwrap();
        assert!(s.allows("write:blocks"));
        assert!(s.allows("read:follows"));
        assert!(!s.allows("read:statuses"));
    }

    #[test]
    fn unknown_scopes_are_refused_and_duplicates_dropped() {
        assert_eq!(
            Scopes::parse("read bogus"),
            Err(UnknownScope("bogus".into()))
        );
        assert_eq!(
            Scopes::parse("read+write read").unwrap().to_string(),
            "read write"
        );
    }

    #[test]
    fn granted_scopes_must_lie_within_the_registered_ones() {
        let registered = Scopes::parse("read write").unwrap();
        assert!(Scopes::parse("read:statuses").unwrap().within(&registered));
        assert!(!Scopes::parse("follow").unwrap().within(&registered));
    }
}
