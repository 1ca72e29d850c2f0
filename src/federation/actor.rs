//! Actor documents: local Persons and the instance Application, with every
//! field Mastodon reads (shared/INTEROP.md, "Actors").

use activitypub_federation::protocol::public_key::PublicKey;
use serde::Serialize;
use serde_json::Value;

use crate::db::actors::Actor;
use crate::federation::context;

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
        endpoints: Endpoints {
            shared_inbox: actor
                .shared_inbox_url
                .clone()
                .unwrap_or_else(|| actor.inbox_url.clone()),
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
    })
}
