//! Where a follow stands: asked for and waiting, or accepted.

/// A follow's state. Stored as `pending` and `accepted` (`follows.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowState {
    /// Waiting for the followed account (or its server) to accept.
    Requested,
    /// Accepted: the follower follows.
    Following,
}

impl FollowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowState::Requested => "pending",
            FollowState::Following => "accepted",
        }
    }

    pub fn parse(raw: &str) -> Option<FollowState> {
        match raw {
            "pending" => Some(FollowState::Requested),
            "accepted" => Some(FollowState::Following),
            _ => None,
        }
    }
}
