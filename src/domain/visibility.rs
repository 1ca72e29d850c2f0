//! Who may see a post, with Mastodon's four levels.

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Everyone, listed in public timelines.
    Public,
    /// Everyone, kept out of public timelines.
    Unlisted,
    /// Followers only.
    Private,
    /// Mentioned accounts only.
    Direct,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
        }
    }

    pub fn parse(raw: &str) -> Option<Visibility> {
        match raw {
            "public" => Some(Visibility::Public),
            "unlisted" => Some(Visibility::Unlisted),
            "private" => Some(Visibility::Private),
            "direct" => Some(Visibility::Direct),
            _ => None,
        }
    }

    /// Whether anyone may read it without being addressed.
    pub fn is_public(self) -> bool {
        matches!(self, Visibility::Public | Visibility::Unlisted)
    }

    /// Visibility read from a remote object's addressing, as Mastodon reads
    /// it: Public in `to` is public, in `cc` unlisted; the author's followers
    /// collection makes it followers-only; otherwise only the addressed see it.
    pub fn from_addressing(to: &[String], cc: &[String], followers: Option<&str>) -> Visibility {
        let is_public = |a: &String| {
            matches!(
                a.as_str(),
                "https://www.w3.org/ns/activitystreams#Public" | "as:Public" | "Public"
            )
        };
        if to.iter().any(is_public) {
            Visibility::Public
        } else if cc.iter().any(is_public) {
            Visibility::Unlisted
        } else if followers.is_some_and(|f| to.iter().chain(cc).any(|a| a == f)) {
            Visibility::Private
        } else {
            Visibility::Direct
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn addressing_maps_to_mastodon_visibility() {
        let f = Some("https://h.example/users/a/followers");
        assert_eq!(
            Visibility::from_addressing(&v(&["as:Public"]), &v(&[]), f),
            Visibility::Public
        );
        assert_eq!(
            Visibility::from_addressing(
                &v(&["https://h.example/users/a/followers"]),
                &v(&["Public"]),
                f
            ),
            Visibility::Unlisted
        );
        assert_eq!(
            Visibility::from_addressing(&v(&["https://h.example/users/a/followers"]), &v(&[]), f),
            Visibility::Private
        );
        assert_eq!(
            Visibility::from_addressing(&v(&["https://x.example/users/b"]), &v(&[]), f),
            Visibility::Direct
        );
        for s in ["public", "unlisted", "private", "direct"] {
            assert_eq!(Visibility::parse(s).map(Visibility::as_str), Some(s));
        }
    }
}

/// How far a post's quote got (FEP-044f): asked and waiting, approved,
/// declined by the quoted post's author, or approved and then taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteState {
    Pending,
    Accepted,
    Rejected,
    Revoked,
}

impl QuoteState {
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteState::Pending => "pending",
            QuoteState::Accepted => "accepted",
            QuoteState::Rejected => "rejected",
            QuoteState::Revoked => "revoked",
        }
    }

    pub fn parse(raw: &str) -> Option<QuoteState> {
        match raw {
            "pending" => Some(QuoteState::Pending),
            "accepted" => Some(QuoteState::Accepted),
            "rejected" => Some(QuoteState::Rejected),
            "revoked" => Some(QuoteState::Revoked),
            _ => None,
        }
    }
}

/// Who may quote a post without asking (FEP-044f `canQuote`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QuotePolicy {
    #[default]
    Public,
    Followers,
    Nobody,
}

impl QuotePolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotePolicy::Public => "public",
            QuotePolicy::Followers => "followers",
            QuotePolicy::Nobody => "nobody",
        }
    }

    pub fn parse(raw: &str) -> Option<QuotePolicy> {
        match raw {
            "public" => Some(QuotePolicy::Public),
            "followers" => Some(QuotePolicy::Followers),
            "nobody" => Some(QuotePolicy::Nobody),
            _ => None,
        }
    }
}
