//! An incoming activity, typed: [`Envelope`] (what every activity has: its
//! id, type and actor, the hosts it involves) around [`Activity`], one
//! variant per activity Skein acts on, with its object read as far as the
//! activity needs. Types Skein does not act on are kept as
//! [`Activity::Other`].

use serde_json::Value;
use url::Url;

use super::post::{POST_TYPES, PostError, RemotePost, quoted_id};
use super::wire::{self, id_of, items, string};
use crate::federation::actor::{ActorError, RemoteActor, parse_remote};

/// Why an activity cannot be read. Each is a 400 at the inbox.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not JSON, or names a key twice in one object.
    #[error("{0}")]
    Json(String),
    #[error("the activity has no id")]
    NoId,
    #[error("the id is not a URL")]
    BadId,
    #[error("the activity has no type")]
    NoType,
    #[error("the activity has no actor")]
    NoActor,
    #[error("the actor is not a URL")]
    BadActor,
    #[error("the activity has no object")]
    NoObject,
    #[error("the {0} names no {1}")]
    Missing(&'static str, &'static str),
    #[error("the object is not a post: {0}")]
    Post(#[from] PostError),
}

/// An activity and what every activity has.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: String,
    /// The activity's `type`, as sent.
    pub kind: String,
    pub actor: Url,
    pub activity: Activity,
    /// Every id the activity involves, in whichever form it came: its
    /// actor, its object, an embedded object's author, actor and object,
    /// and a quoted post. The domain policy is held to all of them.
    pub references: Vec<String>,
    /// The id of what the activity is about (for an Undo: what it undoes),
    /// kept with the record of the activity.
    pub object_id: Option<String>,
    /// The JSON as received, kept with the record of the activity.
    pub raw: Value,
}

/// A reference to another activity or object: given by id, or embedded
/// with the properties an answer to it is matched by (an Accept's embedded
/// Follow names its actor and object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reference {
    pub id: Option<String>,
    pub kind: Option<String>,
    pub actor: Option<String>,
    pub object: Option<String>,
}

impl Reference {
    fn parse(value: &Value) -> Reference {
        Reference {
            id: id_of(value).map(String::from),
            kind: string(value, "type").map(String::from),
            actor: value.get("actor").and_then(id_of).map(String::from),
            object: value.get("object").and_then(id_of).map(String::from),
        }
    }

    /// Whether the reference may be of type `kind`: embedded with that
    /// type, or given by id only.
    pub fn may_be(&self, kind: &str) -> bool {
        self.kind.as_deref().is_none_or(|k| k == kind)
    }
}

/// What a Create carries.
#[derive(Debug, Clone)]
pub enum Created {
    Post(Box<RemotePost>),
    /// Only the object's id came: fetched from its origin.
    ById(String),
    /// An object that is not a post (a chat message, an event ...).
    Other,
}

/// What an Update carries.
#[derive(Debug, Clone)]
pub enum Updated {
    Post(Box<RemotePost>),
    /// A profile (its key included), read as [`parse_remote`] reads actors.
    Actor {
        id: String,
        parsed: Box<Result<RemoteActor, ActorError>>,
    },
    Other,
}

/// An Announce: the post it shares, with its audience.
#[derive(Debug, Clone)]
pub struct Announce {
    /// The post shared: the object, or the object of a Create a group
    /// relays (FEP-1b12, as Lemmy communities send their posts). None for
    /// the other activities groups relay (Like, Update, Delete ...).
    pub post: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

/// The activities Skein acts on.
#[derive(Debug, Clone)]
pub enum Activity {
    Create(Created),
    Update(Updated),
    /// A Delete of the object named (a post, or the actor itself).
    Delete {
        object: String,
    },
    Follow {
        object: String,
    },
    Accept {
        object: Reference,
        /// What the acceptance produced (a quote or reply authorization).
        result: Option<String>,
    },
    Reject {
        object: Reference,
    },
    Undo {
        object: Reference,
    },
    Block {
        object: String,
    },
    Like {
        object: String,
    },
    Announce(Announce),
    /// Add (pinning) or Remove (unpinning) of a post to or from a
    /// collection.
    Pin {
        pinned: bool,
        object: String,
        target: Option<String>,
    },
    QuoteRequest {
        object: String,
        instrument: String,
    },
    Flag {
        objects: Vec<String>,
        content: String,
    },
    Move {
        object: String,
        target: String,
    },
    /// A type Skein does not act on.
    Other,
}

/// A reply approval fetched from the approving server: GoToSocial's
/// `ReplyAuthorization` (`attributedTo`, `interactingObject`,
/// `interactionTarget`) or the older Accept (`actor`, `object`, `target`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    pub by: Option<String>,
    pub object: Option<String>,
    pub target: Option<String>,
}

impl Approval {
    pub fn parse(document: &Value) -> Approval {
        let field = |names: [&str; 2]| {
            names
                .iter()
                .find_map(|n| document.get(*n).and_then(id_of))
                .map(String::from)
        };
        Approval {
            by: field(["attributedTo", "actor"]),
            object: field(["interactingObject", "object"]),
            target: field(["interactionTarget", "target"]),
        }
    }
}

/// Reads an activity from its JSON.
pub fn parse(raw: Value) -> Result<Envelope, ParseError> {
    let id = string(&raw, "id").ok_or(ParseError::NoId)?.to_string();
    let kind = string(&raw, "type").ok_or(ParseError::NoType)?.to_string();
    let actor = raw
        .get("actor")
        .and_then(id_of)
        .ok_or(ParseError::NoActor)?;
    let actor = Url::parse(actor).map_err(|_| ParseError::BadActor)?;
    Url::parse(&id).map_err(|_| ParseError::BadId)?;
    let object = raw.get("object").filter(|o| !o.is_null());
    let object_id = || {
        object
            .and_then(id_of)
            .map(String::from)
            .ok_or(ParseError::NoObject)
    };
    let activity = match kind.as_str() {
        "Create" => Activity::Create(match object {
            Some(Value::String(id)) => Created::ById(id.clone()),
            Some(object @ Value::Object(_)) => match RemotePost::parse(object) {
                Ok(post) => Created::Post(Box::new(post)),
                Err(PostError::NotAPost) => Created::Other,
                Err(e) => return Err(e.into()),
            },
            _ => return Err(ParseError::NoObject),
        }),
        "Update" => Activity::Update(match object {
            Some(object @ Value::Object(_)) => {
                let types = wire::types(object);
                if types.iter().any(|t| is_actor_type(t)) {
                    let id = id_of(object).unwrap_or_default().to_string();
                    let parsed = Box::new(parse_remote(object, &id));
                    Updated::Actor { id, parsed }
                } else {
                    match RemotePost::parse(object) {
                        Ok(post) => Updated::Post(Box::new(post)),
                        Err(PostError::NotAPost) => Updated::Other,
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            _ => Updated::Other,
        }),
        "Delete" => Activity::Delete {
            object: object_id()?,
        },
        "Follow" => Activity::Follow {
            object: object_id()?,
        },
        "Accept" => Activity::Accept {
            object: Reference::parse(object.ok_or(ParseError::NoObject)?),
            result: raw.get("result").and_then(id_of).map(String::from),
        },
        "Reject" => Activity::Reject {
            object: Reference::parse(object.ok_or(ParseError::NoObject)?),
        },
        "Undo" => Activity::Undo {
            object: Reference::parse(object.ok_or(ParseError::NoObject)?),
        },
        "Block" => Activity::Block {
            object: object_id()?,
        },
        "Like" => Activity::Like {
            object: object_id()?,
        },
        "Announce" => Activity::Announce(Announce {
            post: announced(object.ok_or(ParseError::NoObject)?).map(String::from),
            to: wire::ids(raw.get("to")),
            cc: wire::ids(raw.get("cc")),
            published: wire::time(&raw, "published"),
        }),
        // A featured hashtag (Mastodon's `featuredTags`): nothing Skein keeps.
        "Add" | "Remove"
            if object.and_then(|o| o.get("type")).and_then(Value::as_str) == Some("Hashtag") =>
        {
            Activity::Other
        }
        "Add" | "Remove" => Activity::Pin {
            pinned: kind == "Add",
            object: object_id()?,
            target: raw.get("target").and_then(id_of).map(String::from),
        },
        "QuoteRequest" => Activity::QuoteRequest {
            object: object_id()?,
            instrument: raw
                .get("instrument")
                .and_then(id_of)
                .map(String::from)
                .ok_or(ParseError::Missing("QuoteRequest", "quote"))?,
        },
        "Flag" => Activity::Flag {
            objects: items(object)
                .into_iter()
                .filter_map(|v| id_of(v).map(String::from))
                .collect(),
            content: string(&raw, "content").unwrap_or_default().to_string(),
        },
        "Move" => Activity::Move {
            object: object_id()?,
            target: raw
                .get("target")
                .and_then(id_of)
                .map(String::from)
                .ok_or(ParseError::Missing("Move", "target"))?,
        },
        _ => Activity::Other,
    };
    Ok(Envelope {
        references: references(&raw),
        object_id: object.and_then(id_of).map(String::from),
        id,
        kind,
        actor,
        activity,
        raw,
    })
}

/// Reads an activity from the bytes of a request body, strictly: a
/// duplicate key in any object refuses it (`federation::json`).
pub fn parse_bytes(body: &[u8]) -> Result<Envelope, ParseError> {
    let raw =
        crate::federation::json::parse_strict(body).map_err(|e| ParseError::Json(e.to_string()))?;
    parse(raw)
}

fn is_actor_type(kind: &str) -> bool {
    matches!(
        kind,
        "Person" | "Service" | "Application" | "Group" | "Organization"
    )
}

/// The post an Announce shares (see [`Announce::post`]).
fn announced(object: &Value) -> Option<&str> {
    match string(object, "type") {
        Some("Create") => object.get("object").and_then(id_of),
        Some(kind) if object.get("object").is_some() && !POST_TYPES.contains(&kind) => None,
        _ => id_of(object),
    }
}

/// See [`Envelope::references`].
fn references(activity: &Value) -> Vec<String> {
    let mut found: Vec<String> = wire::ids(activity.get("actor"));
    match activity.get("object") {
        Some(object @ Value::Object(_)) => {
            found.extend(id_of(object).map(String::from));
            for key in ["attributedTo", "actor", "object"] {
                found.extend(wire::ids(object.get(key)));
            }
            found.extend(quoted_id(object).map(String::from));
        }
        other => found.extend(wire::ids(other)),
    }
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn activity(kind: &str, object: Value) -> Value {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": "https://remote.example/activities/1",
            "type": kind,
            "actor": "https://remote.example/users/bob",
            "object": object,
        })
    }

    #[test]
    fn what_every_activity_has_is_required() {
        let mut no_id = activity("Like", json!("https://here.example/p/1"));
        no_id.as_object_mut().unwrap().remove("id");
        assert_eq!(parse(no_id).unwrap_err(), ParseError::NoId);
        let mut no_actor = activity("Like", json!("https://here.example/p/1"));
        no_actor.as_object_mut().unwrap().remove("actor");
        assert_eq!(parse(no_actor).unwrap_err(), ParseError::NoActor);
        assert_eq!(
            parse(activity("Like", Value::Null)).unwrap_err(),
            ParseError::NoObject
        );
        assert!(matches!(
            parse_bytes(b"{not json").unwrap_err(),
            ParseError::Json(_)
        ));
    }

    #[test]
    fn an_actor_given_as_an_object_counts() {
        let mut like = activity("Like", json!("https://here.example/p/1"));
        like["actor"] = json!({"id": "https://remote.example/users/bob", "type": "Person"});
        let envelope = parse(like).unwrap();
        assert_eq!(envelope.actor.as_str(), "https://remote.example/users/bob");
    }

    #[test]
    fn a_create_carries_a_post_an_id_or_something_else() {
        let embedded = parse(activity(
            "Create",
            json!({"id": "https://remote.example/notes/1", "type": "Note", "content": "x"}),
        ))
        .unwrap();
        assert!(matches!(
            embedded.activity,
            Activity::Create(Created::Post(_))
        ));
        let by_id = parse(activity("Create", json!("https://remote.example/notes/1"))).unwrap();
        assert!(matches!(by_id.activity, Activity::Create(Created::ById(_))));
        let other = parse(activity(
            "Create",
            json!({"id": "https://remote.example/c/1", "type": "ChatMessage"}),
        ))
        .unwrap();
        assert!(matches!(other.activity, Activity::Create(Created::Other)));
    }

    #[test]
    fn an_accept_matches_its_follow_by_id_or_by_the_pair_it_names() {
        let envelope = parse(activity(
            "Accept",
            json!({
                "type": "Follow",
                "actor": "https://here.example/users/alice",
                "object": "https://remote.example/users/bob"
            }),
        ))
        .unwrap();
        let Activity::Accept { object, .. } = envelope.activity else {
            panic!("not an Accept");
        };
        assert_eq!(object.id, None);
        assert_eq!(
            object.actor.as_deref(),
            Some("https://here.example/users/alice")
        );
        assert!(object.may_be("Follow"));
        assert!(!object.may_be("Like"));
    }

    #[test]
    fn a_group_relaying_a_create_announces_its_post() {
        let relay = parse(activity(
            "Announce",
            json!({
                "type": "Create",
                "id": "https://group.example/activities/c/1",
                "object": {"id": "https://group.example/post/1", "type": "Page"}
            }),
        ))
        .unwrap();
        let Activity::Announce(announce) = relay.activity else {
            panic!("not an Announce");
        };
        assert_eq!(
            announce.post.as_deref(),
            Some("https://group.example/post/1")
        );
        let like = parse(activity(
            "Announce",
            json!({"type": "Like", "object": "https://group.example/post/1"}),
        ))
        .unwrap();
        let Activity::Announce(announce) = like.activity else {
            panic!("not an Announce");
        };
        assert_eq!(announce.post, None);
    }

    #[test]
    fn references_include_embedded_authors_and_quotes() {
        let envelope = parse(activity(
            "Create",
            json!({
                "id": "https://remote.example/notes/1",
                "type": "Note",
                "attributedTo": ["https://remote.example/users/bob"],
                "quoteUri": "https://blocked.example/notes/2"
            }),
        ))
        .unwrap();
        assert!(
            envelope
                .references
                .contains(&"https://blocked.example/notes/2".to_string())
        );
        assert!(
            envelope
                .references
                .contains(&"https://remote.example/notes/1".to_string())
        );
    }

    #[test]
    fn unknown_types_are_kept_as_such() {
        let envelope = parse(activity("EmojiReact", json!("https://here.example/p/1"))).unwrap();
        assert!(matches!(envelope.activity, Activity::Other));
        assert_eq!(envelope.kind, "EmojiReact");
    }

    #[test]
    fn a_featured_hashtag_is_not_read_as_a_pin() {
        let mut add = activity(
            "Add",
            json!({"type": "Hashtag", "href": "https://remote.example/tags/rust", "name": "#rust"}),
        );
        add["target"] = json!("https://remote.example/users/bob/collections/tags");
        assert!(matches!(parse(add).unwrap().activity, Activity::Other));
    }

    #[test]
    fn an_update_of_a_profile_is_read_as_an_actor() {
        let envelope = parse(activity(
            "Update",
            json!({"id": "https://remote.example/users/bob", "type": "Person"}),
        ))
        .unwrap();
        assert!(matches!(
            envelope.activity,
            Activity::Update(Updated::Actor { .. })
        ));
    }
}
