//! Change events: what a committed transaction tells the processes serving
//! live updates, through PostgreSQL's NOTIFY on [`CHANNEL`].
//!
//! Events carry kinds and ids only, never whole entities: NOTIFY payloads
//! are capped at 8000 bytes, and a listener reads the rows after the commit
//! that delivered the event, as each connection's viewer may see them.

use serde::{Deserialize, Serialize};

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
        visibility: String,
    },
    /// A local account was notified.
    Notified { notification: i64, recipient: i64 },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_small_tagged_json() {
        let text = serde_json::to_string(&Change::Deleted {
            post: 1,
            author: 2,
            visibility: "public".into(),
        })
        .expect("serializes");
        assert_eq!(
            text,
            r#"{"kind":"deleted","post":1,"author":2,"visibility":"public"}"#
        );
        let back: Change = serde_json::from_str(&text).expect("parses");
        assert!(matches!(back, Change::Deleted { post: 1, .. }));
    }
}
