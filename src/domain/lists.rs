//! Lists (<https://docs.joinmastodon.org/entities/List/>): which replies a
//! list's timeline shows, and how many lists an account may keep.

/// Mastodon's limit of lists per account.
pub const MAX_LISTS: i64 = 50;

/// Which replies by members a list shows. Replies to oneself (threads) and
/// to the list's owner are always shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepliesPolicy {
    /// Replies to any account the owner follows.
    Followed,
    /// Replies to members of the list.
    List,
    /// No other replies.
    None,
}

impl RepliesPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RepliesPolicy::Followed => "followed",
            RepliesPolicy::List => "list",
            RepliesPolicy::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Option<RepliesPolicy> {
        match raw {
            "followed" => Some(RepliesPolicy::Followed),
            "list" => Some(RepliesPolicy::List),
            "none" => Some(RepliesPolicy::None),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_round_trip_and_others_are_refused() {
        for p in [
            RepliesPolicy::Followed,
            RepliesPolicy::List,
            RepliesPolicy::None,
        ] {
            assert_eq!(RepliesPolicy::parse(p.as_str()), Some(p));
        }
        assert_eq!(RepliesPolicy::parse("some"), None);
    }
}
