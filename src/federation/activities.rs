//! Outgoing activities, built in one place. Ids of activities that are not
//! objects themselves are minted under `/activities/`.

use serde_json::{Value, json};

use crate::federation::urls::Urls;
use crate::federation::{PUBLIC, context};

/// A fresh id for an activity.
pub fn new_id(urls: &Urls) -> String {
    format!("{}activities/{}", urls.root(), uuid::Uuid::new_v4())
}

fn activity(kind: &str, id: &str, actor: &str, object: Value) -> Value {
    json!({
        "@context": context::activity_streams(),
        "id": id,
        "type": kind,
        "actor": actor,
        "object": object,
    })
}

/// The bare Follow, as embedded in Accept, Reject and Undo.
pub fn follow_object(id: &str, follower: &str, followee: &str) -> Value {
    json!({ "id": id, "type": "Follow", "actor": follower, "object": followee })
}

pub fn follow(id: &str, follower: &str, followee: &str) -> Value {
    let mut follow = activity("Follow", id, follower, json!(followee));
    follow["to"] = json!([followee]);
    follow
}

pub fn accept(id: &str, actor: &str, object: Value) -> Value {
    let to = object.get("actor").cloned().unwrap_or(Value::Null);
    let mut accept = activity("Accept", id, actor, object);
    accept["to"] = json!([to]);
    accept
}

pub fn reject(id: &str, actor: &str, object: Value) -> Value {
    let to = object.get("actor").cloned().unwrap_or(Value::Null);
    let mut reject = activity("Reject", id, actor, object);
    reject["to"] = json!([to]);
    reject
}

pub fn undo(id: &str, actor: &str, object: Value) -> Value {
    let mut undo = activity("Undo", id, actor, object.clone());
    if let Some(target) = object.get("object").and_then(Value::as_str) {
        undo["to"] = json!([target]);
    }
    undo
}

pub fn block(id: &str, actor: &str, blocked: &str) -> Value {
    let mut block = activity("Block", id, actor, json!(blocked));
    block["to"] = json!([blocked]);
    block
}

/// A report sent on to the reported account's server (Mastodon's Flag):
/// from the instance actor, naming the account and the reported posts.
pub fn flag(id: &str, instance_actor: &str, objects: &[String], content: &str) -> Value {
    let mut flag = activity("Flag", id, instance_actor, json!(objects));
    flag["content"] = json!(content);
    flag
}

/// Update of an actor's own profile, carrying the whole document.
pub fn update_actor(id: &str, document: Value, followers: Option<&str>) -> Value {
    let actor = document.get("id").cloned().unwrap_or(Value::Null);
    let mut object = document;
    if let Some(map) = object.as_object_mut() {
        map.remove("@context");
    }
    json!({
        "@context": context::actor(),
        "id": id,
        "type": "Update",
        "actor": actor,
        "to": [PUBLIC],
        "cc": followers.map(|f| vec![f]).unwrap_or_default(),
        "object": object,
    })
}

/// Delete of an actor by itself: the account is gone for other servers.
pub fn delete_actor(id: &str, actor: &str) -> Value {
    json!({
        "@context": context::activity_streams(),
        "id": id,
        "type": "Delete",
        "actor": actor,
        "to": [PUBLIC],
        "object": actor,
    })
}

/// Delete of a QuoteAuthorization by the quoted post's author: the approval
/// is taken back, and servers stop showing the quote (Mastodon 4.5).
pub fn delete_quote_authorization(authorization: &str, author: &str) -> Value {
    json!({
        "@context": context::activity_streams(),
        "id": format!("{authorization}#delete"),
        "type": "Delete",
        "actor": author,
        "to": [PUBLIC],
        "object": authorization,
    })
}

/// Move of an account to `target` (Mastodon's account migration): the
/// actor is its own object, sent to its followers, who follow `target` in
/// its place.
pub fn move_actor(id: &str, actor: &str, target: &str, followers: Option<&str>) -> Value {
    let mut activity = activity("Move", id, actor, json!(actor));
    activity["target"] = json!(target);
    activity["to"] = json!(followers.map(|f| vec![f]).unwrap_or_default());
    activity
}

/// Like of a post, addressed to its author.
pub fn like(id: &str, actor: &str, post: &str, author: &str) -> Value {
    let mut like = activity("Like", id, actor, json!(post));
    like["to"] = json!([author]);
    like
}

/// Announce (repost) of a post: public, copied to the author and the
/// reposter's followers.
pub fn announce(
    id: &str,
    actor: &str,
    post: &str,
    author: &str,
    followers: Option<&str>,
    published: &str,
) -> Value {
    let mut cc = vec![author.to_string()];
    cc.extend(followers.map(String::from));
    let mut announce = activity("Announce", id, actor, json!(post));
    announce["to"] = json!([PUBLIC]);
    announce["cc"] = json!(cc);
    announce["published"] = json!(published);
    announce
}

/// Add of a post to a collection (pinning to `featured`).
pub fn add(id: &str, actor: &str, object: &str, target: &str) -> Value {
    let mut add = activity("Add", id, actor, json!(object));
    add["target"] = json!(target);
    add["to"] = json!([PUBLIC]);
    add
}

/// Remove of a post from a collection (unpinning).
pub fn remove(id: &str, actor: &str, object: &str, target: &str) -> Value {
    let mut remove = activity("Remove", id, actor, json!(object));
    remove["target"] = json!(target);
    remove["to"] = json!([PUBLIC]);
    remove
}

/// Add (or Remove) of a Hashtag to (from) an actor's `featuredTags`
/// collection (featuring a hashtag, as Mastodon sends it).
pub fn hashtag_collection(
    kind: &str,
    id: &str,
    actor: &str,
    hashtag: Value,
    target: &str,
) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", { "Hashtag": "as:Hashtag" }],
        "id": id,
        "type": kind,
        "actor": actor,
        "to": [PUBLIC],
        "target": target,
        "object": hashtag,
    })
}

/// FEP-044f: asks the quoted post's author to approve a quote.
pub fn quote_request(id: &str, actor: &str, quoted: &str, quote: &str) -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            { "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest" }
        ],
        "id": id,
        "type": "QuoteRequest",
        "actor": actor,
        "object": quoted,
        "instrument": quote,
    })
}

/// FEP-044f: the approval of a quote, served at its id.
pub fn quote_authorization(id: &str, author: &str, quote: &str, quoted: &str) -> Value {
    json!({
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {
                "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
                "gts": "https://gotosocial.org/ns#",
                "interactingObject": { "@id": "gts:interactingObject", "@type": "@id" },
                "interactionTarget": { "@id": "gts:interactionTarget", "@type": "@id" }
            }
        ],
        "id": id,
        "type": "QuoteAuthorization",
        "attributedTo": author,
        "interactingObject": quote,
        "interactionTarget": quoted,
    })
}

fn interaction_context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        {
            "gts": "https://gotosocial.org/ns#",
            "ReplyAuthorization": "gts:ReplyAuthorization",
            "interactingObject": { "@id": "gts:interactingObject", "@type": "@id" },
            "interactionTarget": { "@id": "gts:interactionTarget", "@type": "@id" }
        }
    ])
}

/// GoToSocial's ReplyAuthorization: `author` approves `reply` to `post`.
pub fn reply_authorization(id: &str, author: &str, reply: &str, post: &str) -> Value {
    json!({
        "@context": interaction_context(),
        "id": id,
        "type": "ReplyAuthorization",
        "attributedTo": author,
        "interactingObject": reply,
        "interactionTarget": post,
    })
}

/// The Accept of a reply, carrying its authorization as `result`.
pub fn reply_approval(
    id: &str,
    author: &str,
    replier: &str,
    reply: &str,
    post: &str,
    authorization: &str,
) -> Value {
    json!({
        "@context": interaction_context(),
        "id": id,
        "type": "Accept",
        "actor": author,
        "to": [replier],
        "object": reply,
        "target": post,
        "result": authorization,
    })
}
