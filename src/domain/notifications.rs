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
}
