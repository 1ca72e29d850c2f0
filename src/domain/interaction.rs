//! Interaction policies: who may reply to, like or repost a post.
//!
//! The shape is GoToSocial's `interactionPolicy`: per kind of interaction, a
//! list of actors or collections approved automatically and a list that may
//! ask for approval. Local posts make theirs from the author's reply control
//! ([`ReplyPolicy`]); remote posts bring theirs, read by [`InteractionPolicy::parse`].
//! One evaluation ([`SubPolicy::permission`]) serves both, with GoToSocial's
//! implicit rules: the author may always interact with their own post, and
//! anyone the post mentions may always reply to it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::visibility::Visibility;

/// The ActivityStreams public collection.
pub const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// Who may reply to a local post, as its author chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyPolicy {
    #[default]
    Everyone,
    /// The accounts the author follows (and anyone mentioned).
    Following,
    /// Only the accounts the post mentions.
    Mentioned,
}

impl ReplyPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyPolicy::Everyone => "everyone",
            ReplyPolicy::Following => "following",
            ReplyPolicy::Mentioned => "mentioned",
        }
    }

    pub fn parse(raw: &str) -> Option<ReplyPolicy> {
        match raw {
            "everyone" => Some(ReplyPolicy::Everyone),
            "following" => Some(ReplyPolicy::Following),
            "mentioned" => Some(ReplyPolicy::Mentioned),
            _ => None,
        }
    }

    /// Words for people: "Everyone can reply".
    pub fn describe(self) -> &'static str {
        match self {
            ReplyPolicy::Everyone => "Everyone can reply",
            ReplyPolicy::Following => "Accounts the author follows can reply",
            ReplyPolicy::Mentioned => "Only mentioned accounts can reply",
        }
    }
}

/// One kind of interaction's rule: URIs of actors or collections (the
/// public collection, the author's followers or following) approved at once,
/// and those that may ask.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubPolicy {
    pub automatic: Vec<String>,
    pub manual: Vec<String>,
}

/// A post's policy. A missing sub-policy means anyone who can see the post
/// may do it (GoToSocial's default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_reply: Option<SubPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_like: Option<SubPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_announce: Option<SubPolicy>,
}

/// The kinds of interaction a policy governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    Reply,
    Like,
    Announce,
}

impl Interaction {
    /// The noun people read in an error.
    pub fn noun(self) -> &'static str {
        match self {
            Interaction::Reply => "replies",
            Interaction::Like => "likes",
            Interaction::Announce => "reposts",
        }
    }
}

/// What a policy says about one actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Allowed without asking.
    Automatic,
    /// Allowed if the author approves.
    Manual,
    Denied,
}

/// The post's author, as its policy names them.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub ap_id: &'a str,
    pub followers: Option<&'a str>,
    pub following: Option<&'a str>,
}

/// The actor who would interact, and what this server knows of them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    pub ap_id: &'a str,
    /// Mentioned by the post (may always reply).
    pub mentioned: bool,
    /// Follows the post's author (accepted).
    pub follows_owner: bool,
    /// Followed by the post's author (accepted).
    pub followed_by_owner: bool,
}

impl SubPolicy {
    /// The permission of `subject`. The more specific entry wins: an actor
    /// named in a list counts before a collection they are in.
    pub fn permission(&self, owner: &Owner<'_>, subject: &Subject<'_>) -> Permission {
        if subject.ap_id == owner.ap_id {
            return Permission::Automatic;
        }
        if self.automatic.iter().any(|u| u == subject.ap_id) {
            return Permission::Automatic;
        }
        if self.manual.iter().any(|u| u == subject.ap_id) {
            return Permission::Manual;
        }
        let covers = |list: &[String]| {
            list.iter().any(|u| {
                u == PUBLIC
                    || (Some(u.as_str()) == owner.followers && subject.follows_owner)
                    || (Some(u.as_str()) == owner.following && subject.followed_by_owner)
            })
        };
        if covers(&self.automatic) {
            Permission::Automatic
        } else if covers(&self.manual) {
            Permission::Manual
        } else {
            Permission::Denied
        }
    }

    /// Whether anyone at all is allowed without asking.
    pub fn is_public(&self) -> bool {
        self.automatic.iter().any(|u| u == PUBLIC)
    }

    fn to_json(&self) -> Value {
        // Both the current names and the ones GoToSocial used before 0.20.
        json!({
            "automaticApproval": self.automatic,
            "manualApproval": self.manual,
            "always": self.automatic,
            "approvalRequired": self.manual,
        })
    }

    fn parse(value: &Value) -> Option<SubPolicy> {
        let list = |names: [&str; 2]| -> Vec<String> {
            let mut out = Vec::new();
            for name in names {
                match value.get(name) {
                    Some(Value::String(s)) => out.push(s.clone()),
                    Some(Value::Array(items)) => out.extend(items.iter().filter_map(|i| {
                        i.as_str()
                            .or_else(|| i.get("id").and_then(Value::as_str))
                            .map(String::from)
                    })),
                    _ => {}
                }
            }
            out.sort();
            out.dedup();
            out
        };
        if !value.is_object() || value.as_object().is_some_and(|o| o.is_empty()) {
            return None; // null or {}: the default
        }
        Some(SubPolicy {
            automatic: list(["automaticApproval", "always"]),
            manual: list(["manualApproval", "approvalRequired"]),
        })
    }
}

impl InteractionPolicy {
    /// The rule for one kind of interaction (the default when missing:
    /// anyone).
    pub fn rule(&self, kind: Interaction) -> SubPolicy {
        let rule = match kind {
            Interaction::Reply => &self.can_reply,
            Interaction::Like => &self.can_like,
            Interaction::Announce => &self.can_announce,
        };
        rule.clone().unwrap_or_else(|| SubPolicy {
            automatic: vec![PUBLIC.to_string()],
            manual: Vec::new(),
        })
    }

    /// The permission of `subject` for `kind`, with the implicit rule that
    /// mentioned accounts may always reply.
    pub fn permission(
        &self,
        kind: Interaction,
        owner: &Owner<'_>,
        subject: &Subject<'_>,
    ) -> Permission {
        if kind == Interaction::Reply && subject.mentioned {
            return Permission::Automatic;
        }
        self.rule(kind).permission(owner, subject)
    }

    /// The policy a post published, read leniently: sub-policies may be
    /// missing, lists may be one string, both GoToSocial's current and older
    /// property names are read. `None` when the post published none.
    pub fn parse(value: Option<&Value>) -> Option<InteractionPolicy> {
        let value = value?.as_object()?;
        let policy = InteractionPolicy {
            can_reply: value.get("canReply").and_then(SubPolicy::parse),
            can_like: value.get("canLike").and_then(SubPolicy::parse),
            can_announce: value.get("canAnnounce").and_then(SubPolicy::parse),
        };
        (policy != InteractionPolicy::default()).then_some(policy)
    }

    /// The policy of a local post: replies as its author chose, likes from
    /// anyone, reposts from anyone when the post is public or unlisted and
    /// only by the author otherwise. The author and mentioned accounts are
    /// listed, as GoToSocial lists them.
    pub fn local(
        reply: ReplyPolicy,
        visibility: Visibility,
        owner: &Owner<'_>,
        mentioned: &[String],
    ) -> InteractionPolicy {
        let mut replies = match reply {
            ReplyPolicy::Everyone => vec![PUBLIC.to_string()],
            ReplyPolicy::Following => {
                let mut v = vec![owner.ap_id.to_string()];
                v.extend(owner.following.map(String::from));
                v
            }
            ReplyPolicy::Mentioned => vec![owner.ap_id.to_string()],
        };
        if reply != ReplyPolicy::Everyone {
            replies.extend(mentioned.iter().cloned());
            replies.sort();
            replies.dedup();
        }
        let announce = if visibility.is_public() {
            vec![PUBLIC.to_string()]
        } else {
            vec![owner.ap_id.to_string()]
        };
        InteractionPolicy {
            can_reply: Some(SubPolicy {
                automatic: replies,
                manual: Vec::new(),
            }),
            can_like: Some(SubPolicy {
                automatic: vec![PUBLIC.to_string()],
                manual: Vec::new(),
            }),
            can_announce: Some(SubPolicy {
                automatic: announce,
                manual: Vec::new(),
            }),
        }
    }

    /// The `interactionPolicy` members this policy publishes (canQuote is
    /// added by the caller).
    pub fn to_json(&self) -> serde_json::Map<String, Value> {
        let mut out = serde_json::Map::new();
        for (name, kind) in [
            ("canReply", Interaction::Reply),
            ("canLike", Interaction::Like),
            ("canAnnounce", Interaction::Announce),
        ] {
            out.insert(name.to_string(), self.rule(kind).to_json());
        }
        out
    }

    /// Which of the three choices of Skein's composer a policy amounts to,
    /// for showing a remote post's reply rule.
    pub fn reply_summary(&self, owner: &Owner<'_>) -> ReplyPolicy {
        let rule = self.rule(Interaction::Reply);
        if rule.is_public() || rule.manual.iter().any(|u| u == PUBLIC) {
            ReplyPolicy::Everyone
        } else if owner
            .following
            .is_some_and(|f| rule.automatic.iter().chain(&rule.manual).any(|u| u == f))
        {
            ReplyPolicy::Following
        } else {
            ReplyPolicy::Mentioned
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTHOR: &str = "https://a.example/users/ann";
    const FOLLOWERS: &str = "https://a.example/users/ann/followers";
    const FOLLOWING: &str = "https://a.example/users/ann/following";

    fn owner() -> Owner<'static> {
        Owner {
            ap_id: AUTHOR,
            followers: Some(FOLLOWERS),
            following: Some(FOLLOWING),
        }
    }

    fn someone(ap_id: &str) -> Subject<'_> {
        Subject {
            ap_id,
            ..Subject::default()
        }
    }

    #[test]
    fn a_missing_policy_lets_anyone_interact() {
        let p = InteractionPolicy::default();
        let s = someone("https://b.example/users/bo");
        for kind in [Interaction::Reply, Interaction::Like, Interaction::Announce] {
            assert_eq!(p.permission(kind, &owner(), &s), Permission::Automatic);
        }
        assert_eq!(InteractionPolicy::parse(Some(&json!({}))), None);
        assert_eq!(InteractionPolicy::parse(None), None);
    }

    #[test]
    fn reads_both_generations_of_names_and_single_strings() {
        let new = json!({
            "canReply": { "automaticApproval": [AUTHOR], "manualApproval": PUBLIC },
            "canLike": { "automaticApproval": PUBLIC },
        });
        let old = json!({
            "canReply": { "always": AUTHOR, "approvalRequired": [PUBLIC] },
            "canLike": { "always": [PUBLIC] },
        });
        let a = InteractionPolicy::parse(Some(&new)).unwrap();
        let b = InteractionPolicy::parse(Some(&old)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.can_reply.as_ref().unwrap().automatic, vec![AUTHOR]);
        assert_eq!(a.can_reply.as_ref().unwrap().manual, vec![PUBLIC]);
        assert!(a.can_announce.is_none());
        let s = someone("https://b.example/users/bo");
        assert_eq!(
            a.permission(Interaction::Reply, &owner(), &s),
            Permission::Manual
        );
        assert_eq!(
            a.permission(Interaction::Announce, &owner(), &s),
            Permission::Automatic
        );
    }

    #[test]
    fn the_specific_entry_beats_the_collection() {
        let p = SubPolicy {
            automatic: vec![PUBLIC.into()],
            manual: vec!["https://b.example/users/bo".into()],
        };
        assert_eq!(
            p.permission(&owner(), &someone("https://b.example/users/bo")),
            Permission::Manual
        );
        assert_eq!(
            p.permission(&owner(), &someone("https://c.example/users/cy")),
            Permission::Automatic
        );
    }

    #[test]
    fn following_only_admits_followed_accounts_the_author_and_mentioned_ones() {
        let p = InteractionPolicy::local(
            ReplyPolicy::Following,
            Visibility::Public,
            &owner(),
            &["https://m.example/users/mo".to_string()],
        );
        let stranger = someone("https://b.example/users/bo");
        let friend = Subject {
            followed_by_owner: true,
            ..someone("https://f.example/users/fi")
        };
        let follower = Subject {
            follows_owner: true,
            ..someone("https://g.example/users/gu")
        };
        let r = Interaction::Reply;
        assert_eq!(p.permission(r, &owner(), &stranger), Permission::Denied);
        assert_eq!(p.permission(r, &owner(), &follower), Permission::Denied);
        assert_eq!(p.permission(r, &owner(), &friend), Permission::Automatic);
        assert_eq!(
            p.permission(r, &owner(), &someone(AUTHOR)),
            Permission::Automatic
        );
        assert_eq!(
            p.permission(r, &owner(), &someone("https://m.example/users/mo")),
            Permission::Automatic
        );
        assert_eq!(p.reply_summary(&owner()), ReplyPolicy::Following);
    }

    #[test]
    fn mentioned_only_and_its_round_trip() {
        let p =
            InteractionPolicy::local(ReplyPolicy::Mentioned, Visibility::Private, &owner(), &[]);
        let published = Value::Object(p.to_json());
        let read = InteractionPolicy::parse(Some(&published)).unwrap();
        assert_eq!(read, p);
        assert_eq!(read.reply_summary(&owner()), ReplyPolicy::Mentioned);
        let stranger = someone("https://b.example/users/bo");
        assert_eq!(
            read.permission(Interaction::Reply, &owner(), &stranger),
            Permission::Denied
        );
        // Mentioned later (the implicit rule) still may.
        let mentioned = Subject {
            mentioned: true,
            ..stranger
        };
        assert_eq!(
            read.permission(Interaction::Reply, &owner(), &mentioned),
            Permission::Automatic
        );
        // A followers-only post is reposted by its author alone.
        assert_eq!(
            read.permission(Interaction::Announce, &owner(), &stranger),
            Permission::Denied
        );
        assert_eq!(
            read.permission(Interaction::Like, &owner(), &stranger),
            Permission::Automatic
        );
    }
}
