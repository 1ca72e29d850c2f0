//! Actor documents: local Persons and the instance Application, with every
//! field Mastodon reads (shared/INTEROP.md, "Actors").

use activitypub_federation::protocol::public_key::PublicKey;
use serde::Serialize;
use serde_json::Value;

use crate::db::actors::Actor;
use crate::domain::names::{self, RemoteUsernameError};
use crate::federation::context;
use crate::federation::signatures::{self, KeyError};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorDocument {
    #[serde(rename = "@context")]
    pub context: Value,
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub preferred_username: String,
    pub name: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub inbox: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followers: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured: Option<String>,
    /// The hashtags featured on the profile (Mastodon's `featuredTags`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub featured_tags: Option<String>,
    pub endpoints: Endpoints,
    pub public_key: PublicKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub published: String,
    pub attachment: Vec<PropertyValue>,
    pub also_known_as: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    pub tag: Vec<Value>,
    /// Suspended by this server's moderators (Mastodon's `toot:suspended`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suspended: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub shared_inbox: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct PropertyValue {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub value: String,
}

/// The `featuredTags` collection of a local actor, beside its `featured`
/// collection (`/users/NAME/collections/tags`, where Mastodon serves it).
pub fn featured_tags_url(actor: &Actor) -> Option<String> {
    let featured = actor.featured_url.as_deref()?;
    let base = featured.strip_suffix("/featured")?;
    Some(format!("{base}/tags"))
}

/// The document of a local actor. The summary and field values are stored
/// as HTML made by Skein; the display name is plain text.
pub fn document(actor: &Actor) -> anyhow::Result<ActorDocument> {
    let owner = actor.ap_id.parse()?;
    Ok(ActorDocument {
        context: context::actor(),
        id: actor.ap_id.clone(),
        kind: actor.kind.clone(),
        preferred_username: actor.username.clone(),
        name: actor.display_name.clone(),
        summary: actor.summary.clone(),
        url: actor.url.clone(),
        inbox: actor.inbox_url.clone(),
        outbox: actor.outbox_url.clone(),
        followers: actor.followers_url.clone(),
        following: actor.following_url.clone(),
        featured: actor.featured_url.clone(),
        featured_tags: featured_tags_url(actor),
        endpoints: Endpoints {
            shared_inbox: actor.server_inbox(),
        },
        public_key: PublicKey {
            id: actor.public_key_id.clone(),
            owner,
            public_key_pem: actor.public_key_pem.clone(),
        },
        icon: actor
            .avatar_url
            .clone()
            .map(|url| Image { kind: "Image", url }),
        image: actor
            .header_url
            .clone()
            .map(|url| Image { kind: "Image", url }),
        manually_approves_followers: actor.manually_approves_followers,
        discoverable: actor.discoverable,
        indexable: actor.indexable,
        published: actor
            .published
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        attachment: actor
            .fields
            .0
            .iter()
            .map(|f| PropertyValue {
                kind: "PropertyValue",
                name: f.name.clone(),
                value: f.value.clone(),
            })
            .collect(),
        also_known_as: actor.also_known_as.clone(),
        moved_to: actor.moved_to.clone(),
        tag: Vec::new(),
        suspended: false,
    }
    .suspended_if(actor.suspended_at.is_some()))
}

impl ActorDocument {
    /// A suspended account's document, as Mastodon serves one: the id, key
    /// and endpoints stay (so that what it signed can still be checked);
    /// the profile is empty and `suspended` is set.
    fn suspended_if(mut self, suspended: bool) -> ActorDocument {
        if suspended {
            self.suspended = true;
            self.name = String::new();
            self.summary = String::new();
            self.icon = None;
            self.image = None;
            self.attachment = Vec::new();
            self.also_known_as = Vec::new();
            self.discoverable = false;
            self.indexable = false;
        }
        self
    }
}

/// A remote actor document, read and made safe to store.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteActor {
    pub ap_id: String,
    pub kind: String,
    pub username: String,
    pub display_name: String,
    pub summary: String,
    pub url: Option<String>,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub featured_url: Option<String>,
    pub public_key_id: String,
    pub public_key_pem: String,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub fields: Vec<crate::db::actors::ProfileField>,
    /// The custom emoji of its name, bio and fields (`Emoji` tags):
    /// shortcode and image URL.
    pub emojis: Vec<(String, String)>,
    pub also_known_as: Vec<String>,
    pub moved_to: Option<String>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActorError {
    #[error("not an actor (type {0})")]
    NotAnActor(String),
    #[error("the actor's {0} is missing or invalid")]
    Field(&'static str),
    #[error("the actor's username is refused: {0}")]
    Username(#[from] RemoteUsernameError),
    #[error("the actor's public key is refused: {0}")]
    Key(#[from] KeyError),
}

/// Mastodon's limits (shared/INTEROP.md, "Limits").
const MAX_FIELDS: usize = 50;
const MAX_FIELD_TEXT: usize = 2047;
const MAX_SUMMARY: usize = 20_000;
const MAX_ALIASES: usize = 256;
/// Custom emoji kept per actor (names, bios and fields use a few).
const MAX_EMOJIS: usize = 100;

fn string<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn http_url(value: Option<&str>) -> Option<String> {
    value
        .and_then(|v| url::Url::parse(v).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| u.to_string())
}

/// The URL of an `icon`/`image`: a string, an Image object (whose `url` may
/// be a string or a Link), or the first of an array.
fn image_url(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => http_url(Some(s)),
        Value::Array(items) => items.iter().find_map(|i| image_url(Some(i))),
        Value::Object(map) => match map.get("url") {
            Some(Value::String(s)) => http_url(Some(s)),
            Some(Value::Object(link)) => http_url(link.get("href").and_then(Value::as_str)),
            Some(Value::Array(items)) => items.iter().find_map(|i| image_url(Some(i))),
            _ => None,
        },
        _ => None,
    }
}

/// The actor a key document names as its `owner` (a key fetched by its id
/// may be the actor document itself, which names none).
pub fn key_owner(document: &Value) -> Option<&str> {
    document.get("owner").and_then(Value::as_str)
}

/// Reads an actor document fetched from (or embedded by) `expected_id`.
pub fn parse_remote(doc: &Value, expected_id: &str) -> Result<RemoteActor, ActorError> {
    let kind = string(doc, "type").unwrap_or_default().to_string();
    if !matches!(
        kind.as_str(),
        "Person" | "Service" | "Application" | "Group" | "Organization"
    ) {
        return Err(ActorError::NotAnActor(kind));
    }
    let ap_id = string(doc, "id").ok_or(ActorError::Field("id"))?;
    if ap_id != expected_id {
        return Err(ActorError::Field("id"));
    }
    // Actors without preferredUsername (and without WebFinger) exist; they
    // are named after the last segment of their id. Either way the name
    // must be one a handle can carry (`domain::names::remote_username`).
    let username = match string(doc, "preferredUsername") {
        Some(name) => name.to_string(),
        None => url::Url::parse(ap_id)
            .ok()
            .and_then(|u| {
                u.path_segments()
                    .and_then(|mut s| s.rfind(|seg| !seg.is_empty()).map(str::to_string))
                    .or_else(|| u.host_str().map(str::to_string))
            })
            .ok_or(ActorError::Field("preferredUsername"))?,
    };
    let host = url::Url::parse(ap_id)
        .map(|u| crate::domain::domain_name::authority(&u))
        .unwrap_or_default();
    names::actor_username(&username, &host)?;
    let inbox_url = http_url(string(doc, "inbox")).ok_or(ActorError::Field("inbox"))?;
    // One key per actor is what the fediverse uses; the key must belong to
    // this actor.
    let keys: Vec<&Value> = match doc.get("publicKey") {
        Some(Value::Array(keys)) => keys.iter().collect(),
        Some(key @ Value::Object(_)) => vec![key],
        _ => Vec::new(),
    };
    let key = keys
        .into_iter()
        .find(|k| {
            string(k, "publicKeyPem").is_some()
                && string(k, "id").is_some()
                && k.get("owner")
                    .and_then(Value::as_str)
                    .is_none_or(|o| o == ap_id)
        })
        .ok_or(ActorError::Field("publicKey"))?;
    signatures::remote_public_key(string(key, "publicKeyPem").unwrap_or_default())?;
    // One field may come as an object rather than an array (GoToSocial
    // sends single values that way).
    let attachments: Vec<&Value> = match doc.get("attachment") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    };
    let fields = attachments
        .into_iter()
        .filter(|a| string(a, "type") == Some("PropertyValue"))
        .take(MAX_FIELDS)
        .map(|a| crate::db::actors::ProfileField {
            name: names::visible_text(string(a, "name").unwrap_or_default())
                .trim()
                .chars()
                .take(MAX_FIELD_TEXT)
                .collect(),
            value: crate::federation::html::sanitize(
                &string(a, "value")
                    .unwrap_or_default()
                    .chars()
                    .take(MAX_FIELD_TEXT)
                    .collect::<String>(),
            ),
            verified_at: None,
        })
        .collect();
    let also_known_as = match doc.get("alsoKnownAs") {
        Some(Value::String(s)) => http_url(Some(s)).into_iter().collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| http_url(i.as_str()))
            .take(MAX_ALIASES)
            .collect(),
        _ => Vec::new(),
    };
    let tags: Vec<&Value> = match doc.get("tag") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    };
    let emojis = crate::federation::inbound::post::emojis(&tags)
        .into_iter()
        .take(MAX_EMOJIS)
        .collect();
    let url = match doc.get("url") {
        Some(Value::String(s)) => http_url(Some(s)),
        Some(other) => image_url(Some(other)),
        None => None,
    };
    Ok(RemoteActor {
        ap_id: ap_id.to_string(),
        kind,
        username,
        display_name: names::display_name(string(doc, "name").unwrap_or_default()),
        summary: crate::federation::html::sanitize(
            &string(doc, "summary")
                .unwrap_or_default()
                .chars()
                .take(MAX_SUMMARY)
                .collect::<String>(),
        ),
        url,
        inbox_url,
        shared_inbox_url: http_url(
            doc.get("endpoints")
                .and_then(|e| e.get("sharedInbox"))
                .and_then(Value::as_str),
        ),
        outbox_url: http_url(string(doc, "outbox")),
        followers_url: http_url(string(doc, "followers")),
        following_url: http_url(string(doc, "following")),
        featured_url: http_url(string(doc, "featured")),
        public_key_id: string(key, "id").unwrap_or_default().to_string(),
        public_key_pem: string(key, "publicKeyPem").unwrap_or_default().to_string(),
        manually_approves_followers: doc
            .get("manuallyApprovesFollowers")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        discoverable: doc
            .get("discoverable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        indexable: doc
            .get("indexable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        avatar_url: image_url(doc.get("icon")),
        header_url: image_url(doc.get("image")),
        fields,
        emojis,
        also_known_as,
        moved_to: http_url(string(doc, "movedTo")),
        published: string(doc, "published")
            .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
            .map(|p| p.with_timezone(&chrono::Utc)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use serde_json::json;
    use std::sync::OnceLock;

    /// An SPKI PEM public key of `bits` bits with exponent `exponent`.
    fn public_pem(bits: usize, exponent: u32) -> String {
        let key = rsa::RsaPrivateKey::new_with_exp(
            &mut rand::thread_rng(),
            bits,
            &rsa::BigUint::from(exponent),
        )
        .expect("key generation");
        key.to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("PEM")
    }

    fn good_pem() -> String {
        static PEM: OnceLock<String> = OnceLock::new();
        PEM.get_or_init(|| public_pem(2048, 65537)).clone()
    }

    fn doc() -> Value {
        json!({
            "id": "https://remote.example/users/emily",
            "type": "Person",
            "inbox": "https://remote.example/users/emily/inbox",
            "name": "Emily\u{0007}",
            "summary": "<p onclick=\"x\">Hi</p>",
            "publicKey": {
                "id": "https://remote.example/users/emily#main",
                "owner": "https://remote.example/users/emily",
                "publicKeyPem": good_pem()
            },
            "icon": { "type": "Image", "url": "https://remote.example/a.png" },
            "attachment": [{ "type": "PropertyValue", "name": "Site", "value": "<a href=\"https://e.example\">e</a>" }],
        })
    }

    #[test]
    fn an_actor_without_preferred_username_is_named_after_its_id() {
        let actor = parse_remote(&doc(), "https://remote.example/users/emily").expect("valid");
        assert_eq!(actor.username, "emily");
        assert_eq!(actor.display_name, "Emily");
        assert_eq!(actor.summary, "<p>Hi</p>");
        assert_eq!(
            actor.avatar_url.as_deref(),
            Some("https://remote.example/a.png")
        );
        assert_eq!(
            actor.public_key_id,
            "https://remote.example/users/emily#main"
        );
        assert!(
            actor.fields[0]
                .value
                .contains("rel=\"nofollow noopener noreferrer\"")
        );
    }

    #[test]
    fn emoji_tags_are_read_with_their_shortcode_and_image() {
        let mut emily = doc();
        emily["name"] = json!("Emily :blobcat:");
        emily["tag"] = json!([
            { "type": "Emoji", "name": ":blobcat:",
              "icon": { "type": "Image", "url": "https://remote.example/emoji/blobcat.png" } },
            { "type": "Emoji", "name": ":bad code:",
              "icon": { "type": "Image", "url": "https://remote.example/emoji/bad.png" } },
            { "type": "Emoji", "name": ":nourl:" },
            { "type": "Hashtag", "name": "#cats", "href": "https://remote.example/tags/cats" },
        ]);
        let actor = parse_remote(&emily, "https://remote.example/users/emily").expect("valid");
        assert_eq!(
            actor.emojis,
            [(
                "blobcat".to_string(),
                "https://remote.example/emoji/blobcat.png".to_string()
            )]
        );
        // One tag may come as an object rather than an array.
        emily["tag"] = json!({ "type": "Emoji", "name": ":wave:",
                               "icon": { "url": "https://remote.example/emoji/wave.png" } });
        let actor = parse_remote(&emily, "https://remote.example/users/emily").expect("valid");
        assert_eq!(actor.emojis.len(), 1);
        assert_eq!(actor.emojis[0].0, "wave");
    }

    #[test]
    fn documents_that_are_not_this_actor_are_refused() {
        assert_eq!(
            parse_remote(&doc(), "https://remote.example/users/other"),
            Err(ActorError::Field("id"))
        );
        let mut note = doc();
        note["type"] = json!("Note");
        assert!(matches!(
            parse_remote(&note, "https://remote.example/users/emily"),
            Err(ActorError::NotAnActor(_))
        ));
        let mut foreign_key = doc();
        foreign_key["publicKey"]["owner"] = json!("https://remote.example/users/mallory");
        assert_eq!(
            parse_remote(&foreign_key, "https://remote.example/users/emily"),
            Err(ActorError::Field("publicKey"))
        );
    }

    #[test]
    fn display_names_lose_bidi_controls_and_invisible_characters() {
        let mut hostile = doc();
        hostile["preferredUsername"] = json!("emily");
        hostile["name"] = json!("\u{202E}Emily\u{200B}\u{2066} \u{FEFF}Admin\u{2069}");
        hostile["attachment"][0]["name"] = json!("Site\u{202E}");
        let actor = parse_remote(&hostile, "https://remote.example/users/emily").expect("valid");
        assert_eq!(actor.display_name, "Emily Admin");
        assert_eq!(actor.fields[0].name, "Site");
        hostile["name"] = json!("n".repeat(5000));
        let actor = parse_remote(&hostile, "https://remote.example/users/emily").expect("valid");
        assert_eq!(actor.display_name.chars().count(), names::MAX_DISPLAY_NAME);
    }

    #[test]
    fn usernames_a_handle_cannot_carry_are_refused() {
        for (bad, error) in [
            ("emily@evil.example", RemoteUsernameError::At),
            ("em ily", RemoteUsernameError::BadCharacter),
            ("emi\u{202E}ly", RemoteUsernameError::BadCharacter),
            ("émily", RemoteUsernameError::BadCharacter),
            ("emily.", RemoteUsernameError::BadCharacter),
        ] {
            let mut hostile = doc();
            hostile["preferredUsername"] = json!(bad);
            assert_eq!(
                parse_remote(&hostile, "https://remote.example/users/emily"),
                Err(ActorError::Username(error)),
                "{bad}"
            );
        }
        let mut dotted = doc();
        dotted["preferredUsername"] = json!("emily.r-s_2");
        assert_eq!(
            parse_remote(&dotted, "https://remote.example/users/emily")
                .expect("valid")
                .username,
            "emily.r-s_2"
        );
        // Named after its id, the same rule holds.
        let mut unnamed = doc();
        unnamed["id"] = json!("https://remote.example/users/%40admin");
        unnamed["publicKey"]["owner"] = json!("https://remote.example/users/%40admin");
        assert!(matches!(
            parse_remote(&unnamed, "https://remote.example/users/%40admin"),
            Err(ActorError::Username(_))
        ));
    }

    #[test]
    fn weak_or_odd_rsa_keys_are_refused() {
        for (pem, error) in [
            (public_pem(1024, 65537), KeyError::Size(1024)),
            (public_pem(2048, 3), KeyError::Exponent),
            ("PEM".to_string(), KeyError::Unreadable),
        ] {
            let mut weak = doc();
            weak["publicKey"]["publicKeyPem"] = json!(pem);
            assert_eq!(
                parse_remote(&weak, "https://remote.example/users/emily"),
                Err(ActorError::Key(error))
            );
        }
    }
}
