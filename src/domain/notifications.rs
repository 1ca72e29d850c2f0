//! The kinds of notification, by Mastodon's names (`Notification.type`).

/// What a notification tells its recipient. The names are Mastodon's, on
/// the wire and in the `notifications.kind` column alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    /// Someone mentioned the recipient (or replied to them).
    Mention,
    /// An account the recipient asked to hear from posted.
    Status,
    /// Someone reposted the recipient's post.
    Reblog,
    /// Someone followed the recipient.
    Follow,
    /// Someone asked to follow the recipient.
    FollowRequest,
    /// Someone liked the recipient's post.
    Favourite,
    /// A poll the recipient voted in or wrote ended.
    Poll,
    /// A post the recipient interacted with was edited.
    Update,
    /// Staff: someone signed up.
    AdminSignUp,
    /// Staff: someone filed a report.
    AdminReport,
    /// Mastodon's: relationships severed by a block (never made here).
    SeveredRelationships,
    /// Mastodon's: a moderator's warning (never made here).
    ModerationWarning,
    /// Someone quoted the recipient's post.
    Quote,
    /// A post the recipient quoted was edited (never made here).
    QuotedUpdate,
}

impl NotificationKind {
    /// Every kind Mastodon names, in Mastodon's order.
    pub const ALL: [NotificationKind; 14] = [
        NotificationKind::Mention,
        NotificationKind::Status,
        NotificationKind::Reblog,
        NotificationKind::Follow,
        NotificationKind::FollowRequest,
        NotificationKind::Favourite,
        NotificationKind::Poll,
        NotificationKind::Update,
        NotificationKind::AdminSignUp,
        NotificationKind::AdminReport,
        NotificationKind::SeveredRelationships,
        NotificationKind::ModerationWarning,
        NotificationKind::Quote,
        NotificationKind::QuotedUpdate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Mention => "mention",
            NotificationKind::Status => "status",
            NotificationKind::Reblog => "reblog",
            NotificationKind::Follow => "follow",
            NotificationKind::FollowRequest => "follow_request",
            NotificationKind::Favourite => "favourite",
            NotificationKind::Poll => "poll",
            NotificationKind::Update => "update",
            NotificationKind::AdminSignUp => "admin.sign_up",
            NotificationKind::AdminReport => "admin.report",
            NotificationKind::SeveredRelationships => "severed_relationships",
            NotificationKind::ModerationWarning => "moderation_warning",
            NotificationKind::Quote => "quote",
            NotificationKind::QuotedUpdate => "quoted_update",
        }
    }

    pub fn parse(raw: &str) -> Option<NotificationKind> {
        NotificationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
    }

    /// Whether the notification is about a post (Mastodon's `status_type?`).
    pub fn is_about_a_post(self) -> bool {
        matches!(
            self,
            NotificationKind::Favourite
                | NotificationKind::Reblog
                | NotificationKind::Status
                | NotificationKind::Mention
                | NotificationKind::Poll
                | NotificationKind::Update
                | NotificationKind::Quote
                | NotificationKind::QuotedUpdate
        )
    }
}

impl NotificationKind {
    /// Whether the recipient's notification policy may filter or drop it
    /// (Mastodon's `filterable`): what other accounts do to the
    /// recipient, not what it asked to hear about or the staff's own.
    pub fn is_filterable(self) -> bool {
        matches!(
            self,
            NotificationKind::Mention
                | NotificationKind::Reblog
                | NotificationKind::Follow
                | NotificationKind::FollowRequest
                | NotificationKind::Favourite
                | NotificationKind::Quote
        )
    }

    /// The kinds Mastodon groups (`GROUPABLE_NOTIFICATION_TYPES`): likes and
    /// reposts of one post, follows, sign-ups.
    pub const GROUPABLE: [NotificationKind; 4] = [
        NotificationKind::Favourite,
        NotificationKind::Reblog,
        NotificationKind::Follow,
        NotificationKind::AdminSignUp,
    ];

    /// Whether a filtered notification of this kind makes (or updates) a
    /// notification request: mentions and quotes.
    pub fn makes_requests(self) -> bool {
        matches!(self, NotificationKind::Mention | NotificationKind::Quote)
    }
}

/// What a notification policy does with the notifications it covers
/// (Mastodon's `accept`, `filter`, `drop`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyAction {
    /// Notified as usual.
    Accept,
    /// Kept, but out of the list, streaming and pushes until the sender's
    /// request is accepted.
    Filter,
    /// Not made at all.
    Drop,
}

impl PolicyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyAction::Accept => "accept",
            PolicyAction::Filter => "filter",
            PolicyAction::Drop => "drop",
        }
    }

    pub fn parse(raw: &str) -> Option<PolicyAction> {
        match raw {
            "accept" => Some(PolicyAction::Accept),
            "filter" => Some(PolicyAction::Filter),
            "drop" => Some(PolicyAction::Drop),
            _ => None,
        }
    }
}

/// A local account's notification policy (Mastodon's NotificationPolicy):
/// what becomes of notifications from accounts it does not follow, that
/// do not follow it (or only for less than 3 days), created less than 30
/// days ago, private mentions that do not answer its own, and accounts the
/// moderators limited. Accounts it follows are exempt from all but the
/// second; a sender whose request it accepted, from all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationPolicy {
    pub for_not_following: PolicyAction,
    pub for_not_followers: PolicyAction,
    pub for_new_accounts: PolicyAction,
    pub for_private_mentions: PolicyAction,
    pub for_limited_accounts: PolicyAction,
}

impl Default for NotificationPolicy {
    /// Mastodon's defaults: private mentions from strangers and limited
    /// accounts are filtered, the rest accepted.
    fn default() -> Self {
        NotificationPolicy {
            for_not_following: PolicyAction::Accept,
            for_not_followers: PolicyAction::Accept,
            for_new_accounts: PolicyAction::Accept,
            for_private_mentions: PolicyAction::Filter,
            for_limited_accounts: PolicyAction::Filter,
        }
    }
}

/// How many days an account counts as new (`for_new_accounts`), and how
/// long a follower counts as new (`for_not_followers`): Mastodon's.
pub const NEW_ACCOUNT_DAYS: i64 = 30;
pub const NEW_FOLLOWER_DAYS: i64 = 3;
/// How long a group of notifications may grow (Mastodon's
/// `MAXIMUM_GROUP_SPAN_HOURS`).
pub const GROUP_SPAN_HOURS: i64 = 12;
/// How many sample accounts a notification group shows.
pub const GROUP_SAMPLE_ACCOUNTS: i64 = 8;
/// Counts of pending requests and their notifications stop here.
pub const MAX_MEANINGFUL_COUNT: i64 = 100;

impl std::fmt::Display for NotificationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            NotificationKind::parse("admin.sign_up"),
            Some(NotificationKind::AdminSignUp)
        );
        assert_eq!(NotificationKind::parse("favorite"), None);
    }

    #[test]
    fn policy_actions_read_back_and_the_defaults_are_mastodon_s() {
        for action in [
            PolicyAction::Accept,
            PolicyAction::Filter,
            PolicyAction::Drop,
        ] {
            assert_eq!(PolicyAction::parse(action.as_str()), Some(action));
        }
        assert_eq!(PolicyAction::parse("Filter"), None);
        let policy = NotificationPolicy::default();
        assert_eq!(policy.for_private_mentions, PolicyAction::Filter);
        assert_eq!(policy.for_limited_accounts, PolicyAction::Filter);
        assert_eq!(policy.for_not_following, PolicyAction::Accept);
        assert!(NotificationKind::FollowRequest.is_filterable());
        assert!(!NotificationKind::Poll.is_filterable());
        assert!(!NotificationKind::AdminReport.is_filterable());
    }
}
