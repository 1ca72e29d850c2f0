//! Change events: what a committed transaction tells the processes serving
//! live updates (and every process's workers and domain policy), through
//! PostgreSQL's NOTIFY on [`CHANNEL`].
//!
//! Events carry kinds and ids only, never whole entities: NOTIFY payloads
//! are capped at 8000 bytes, and a listener reads the rows after the commit
//! that delivered the event, as each connection's viewer may see them.

use serde::{Deserialize, Serialize};

use crate::domain::visibility::Visibility;

/// The NOTIFY channel every change goes to.
pub const CHANNEL: &str = "skein_changes";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A post or a repost was stored.
    Posted { post: i64 },
    /// A post's content changed.
    Edited { post: i64 },
    /// A post became a tombstone, or a repost was undone (its row is gone,
    /// so its author and visibility travel with the event).
    Deleted {
        post: i64,
        author: i64,
        visibility: Visibility,
    },
    /// A local account was notified.
    Notified { notification: i64, recipient: i64 },
    /// A local account accepted notification requests: the notifications
    /// they had filtered are in its list now (Mastodon's
    /// `notifications_merged`).
    NotificationsMerged { recipient: i64 },
    /// An announcement was published, or a published one edited.
    Announced { announcement: i64 },
    /// A reaction to an announcement was given or taken back.
    AnnouncementReacted { announcement: i64, name: String },
    /// An announcement was unpublished or deleted.
    AnnouncementWithdrawn { announcement: i64 },
    /// The instance's domain policy (blocks, allowed domains) changed:
    /// every process reads it again.
    DomainPolicy,
    /// The IP blocks changed: every process reads the ranges it refuses
    /// again.
    IpBlocks,
    /// Deliveries or pushes were queued: idle workers of every process
    /// look for them.
    Queued,
}

/// `Change::Queued` on the wire, for SQL that announces it itself.
pub const QUEUED: &str = r#"{"kind":"queued"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_small_tagged_json() {
        let text = serde_json::to_string(&Change::Deleted {
            post: 1,
            author: 2,
            visibility: Visibility::Public,
        })
        .expect("serializes");
        assert_eq!(
            text,
            r#"{"kind":"deleted","post":1,"author":2,"visibility":"public"}"#
        );
        let back: Change = serde_json::from_str(&text).expect("parses");
        assert!(matches!(back, Change::Deleted { post: 1, .. }));
    }

    #[test]
    fn changes_built_by_sql_json_build_object_read_as_changes() {
        assert_eq!(
            serde_json::from_str::<Change>(QUEUED).expect("parses"),
            Change::Queued
        );
        // db::posts::insert and db::notifications announce in SQL, in
        // PostgreSQL's spacing.
        let posted: Change = serde_json::from_str(r#"{"kind" : "posted", "post" : 7}"#)
            .expect("a post announced in SQL parses");
        assert_eq!(posted, Change::Posted { post: 7 });
        let notified: Change =
            serde_json::from_str(r#"{"kind" : "notified", "notification" : 8, "recipient" : 9}"#)
                .expect("a notification announced in SQL parses");
        assert_eq!(
            notified,
            Change::Notified {
                notification: 8,
                recipient: 9
            }
        );
    }
}
