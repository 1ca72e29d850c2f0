//! Notes of local posts and the activities that carry them (Create, Delete),
//! with Mastodon's addressing, tags and counts; and reading remote Notes.

use serde_json::{Value, json};

use crate::db::{actors::Actor, posts::Post};
use crate::domain::interaction::{InteractionPolicy, Owner};
use crate::domain::visibility::{QuotePolicy, Visibility};
use crate::federation::{PUBLIC, context};

/// What a Note needs besides the post row.
#[derive(Debug, Clone, Default)]
pub struct NoteParts {
    /// Mentioned accounts: their ActivityPub id and `@user@host` handle.
    pub mentions: Vec<(String, String)>,
    /// Hashtags (lower-case) and their pages.
    pub tags: Vec<(String, String)>,
    /// The post replied to.
    pub in_reply_to: Option<String>,
    /// The replies collection of the post.
    pub replies: Option<String>,
    /// The poll, when the post is one (a Question).
    pub poll: Option<crate::db::polls::Poll>,
    /// Whether the poll has ended.
    pub poll_closed: bool,
    /// Media, in order.
    pub attachments: Vec<crate::db::media::Attachment>,
    /// The `Emoji` tags of the instance's custom emoji the post uses.
    pub emojis: Vec<Value>,
}

/// `to` and `cc` of a post by `author`, mentioned accounts included.
pub fn addressing(post: &Post, author: &Actor, parts: &NoteParts) -> (Vec<String>, Vec<String>) {
    let followers = author.followers_url.clone().unwrap_or_default();
    let mentioned: Vec<String> = parts.mentions.iter().map(|(id, _)| id.clone()).collect();
    let (to, mut cc) = match post.visibility {
        Visibility::Public => (vec![PUBLIC.to_string()], vec![followers]),
        Visibility::Unlisted => (vec![followers], vec![PUBLIC.to_string()]),
        Visibility::Private => (vec![followers], vec![]),
        Visibility::Direct => (mentioned.clone(), vec![]),
    };
    if post.visibility != Visibility::Direct {
        cc.extend(mentioned);
    }
    (to, cc)
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn note(post: &Post, author: &Actor, parts: &NoteParts) -> Value {
    let (to, cc) = addressing(post, author, parts);
    let mut tags: Vec<Value> = parts
        .mentions
        .iter()
        .map(|(href, name)| json!({ "type": "Mention", "href": href, "name": name }))
        .collect();
    tags.extend(
        parts.tags.iter().map(
            |(tag, href)| json!({ "type": "Hashtag", "href": href, "name": format!("#{tag}") }),
        ),
    );
    tags.extend(parts.emojis.iter().cloned());
    if let Some(quoted) = &post.quote_ap_id {
        // FEP-e232: a link to the quoted object, for servers that read tags.
        tags.push(json!({
            "type": "Link",
            "mediaType": "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "href": quoted,
            "name": format!("RE: {quoted}"),
        }));
    }
    let mut note = json!({
        "id": post.ap_id,
        "type": "Note",
        "attributedTo": author.ap_id,
        "content": post.content,
        "published": timestamp(post.published),
        "url": post.url.clone().unwrap_or_else(|| post.ap_id.clone()),
        "to": to,
        "cc": cc,
        // A sensitized author's media go out marked sensitive.
        "sensitive": post.sensitive
            || (author.sensitized_at.is_some() && !parts.attachments.is_empty()),
        "summary": if post.summary.is_empty() { Value::Null } else { json!(post.summary) },
        "inReplyTo": parts.in_reply_to.clone().or_else(|| post.in_reply_to_ap_id.clone()),
        "tag": tags,
        "attachment": parts.attachments.iter().map(attachment).collect::<Vec<_>>(),
        "likes": { "type": "Collection", "totalItems": post.likes_count },
        "shares": { "type": "Collection", "totalItems": post.reposts_count },
    });
    if let Some(quoted) = &post.quote_ap_id {
        // FEP-044f, and the older names other servers read.
        note["quote"] = json!(quoted);
        note["quoteUri"] = json!(quoted);
        note["quoteUrl"] = json!(quoted);
        note["_misskey_quote"] = json!(quoted);
        if let Some(authorization) = &post.quote_authorization {
            note["quoteAuthorization"] = json!(authorization);
        }
    }
    // GoToSocial's interaction policy: who may reply, like, repost (all
    // enforced here) and quote without asking.
    let mentioned: Vec<String> = parts.mentions.iter().map(|(id, _)| id.clone()).collect();
    let policy = InteractionPolicy::local(
        post.reply_policy,
        post.visibility,
        &Owner {
            ap_id: &author.ap_id,
            followers: author.followers_url.as_deref(),
            following: author.following_url.as_deref(),
        },
        &mentioned,
    );
    let mut members = policy.to_json();
    members.insert(
        "canQuote".into(),
        json!({ "automaticApproval": quote_approval(post, author) }),
    );
    note["interactionPolicy"] = Value::Object(members);
    // A reply the replied-to post's author approved carries the proof.
    if let Some(authorization) = &post.reply_authorization {
        note["replyAuthorization"] = json!(authorization);
    }
    if let Some(accept) = &post.reply_approved_by {
        note["approvedBy"] = json!(accept);
    }
    if let Some(poll) = &parts.poll {
        note["type"] = json!("Question");
        let options: Vec<Value> = poll
            .options
            .0
            .iter()
            .map(|o| {
                json!({
                    "type": "Note",
                    "name": o.title,
                    "replies": { "type": "Collection", "totalItems": o.votes },
                })
            })
            .collect();
        note[if poll.multiple { "anyOf" } else { "oneOf" }] = json!(options);
        note["votersCount"] = json!(poll.voters_count);
        if let Some(end) = poll.expires_at {
            note["endTime"] = json!(timestamp(end));
            if parts.poll_closed {
                note["closed"] = json!(timestamp(end));
            }
        }
    }
    if let Some(replies) = &parts.replies {
        note["replies"] = json!({
            "id": replies, "type": "Collection", "totalItems": post.replies_count
        });
    }
    if let Some(updated) = post.updated {
        note["updated"] = json!(timestamp(updated));
    }
    if let Some(language) = &post.language {
        note["contentMap"] = json!({ language: post.content });
    }
    note
}

/// A medium as Mastodon sends it: a Document with its type, alt text
/// (`name`), blurhash, focal point and size; video and audio with their
/// length (`duration`, an ISO 8601 duration) and their preview as `icon`
/// (which Mastodon reads as the thumbnail).
fn attachment(a: &crate::db::media::Attachment) -> Value {
    let mut document = json!({
        "type": "Document",
        "mediaType": a.media_type,
        "url": a.url,
        "name": if a.description.is_empty() { Value::Null } else { json!(a.description) },
    });
    if let Some(blurhash) = &a.blurhash {
        document["blurhash"] = json!(blurhash);
    }
    if let (Some(x), Some(y)) = (a.focal_x, a.focal_y) {
        document["focalPoint"] = json!([shortest(x), shortest(y)]);
    }
    if let (Some(width), Some(height)) = (a.width, a.height) {
        document["width"] = json!(width);
        document["height"] = json!(height);
    }
    if let Some(duration) = a.duration {
        document["duration"] = json!(crate::domain::media::iso_duration(f64::from(duration)));
    }
    if let Some(preview) = &a.preview_url {
        let media_type = if preview.ends_with(".png") {
            "image/png"
        } else {
            "image/jpeg"
        };
        document["icon"] = json!({ "type": "Image", "mediaType": media_type, "url": preview });
    }
    document
}

/// A stored `f32` as the decimal it was written as (0.3, not
/// 0.30000001192092896).
fn shortest(v: f32) -> f64 {
    v.to_string().parse().unwrap_or(f64::from(v))
}

/// A Note as a document of its own.
pub fn document(post: &Post, author: &Actor, parts: &NoteParts) -> Value {
    let mut note = note(post, author, parts);
    note["@context"] = context::post();
    note
}

/// The Create activity of a post.
pub fn create(post: &Post, author: &Actor, parts: &NoteParts) -> Value {
    let (to, cc) = addressing(post, author, parts);
    json!({
        "@context": context::post(),
        "id": format!("{}/activity", post.ap_id),
        "type": "Create",
        "actor": author.ap_id,
        "published": timestamp(post.published),
        "to": to,
        "cc": cc,
        "object": note(post, author, parts),
    })
}

/// The Delete of a post, with a Tombstone.
pub fn delete(post: &Post, author: &Actor, parts: &NoteParts) -> Value {
    let (to, cc) = addressing(post, author, parts);
    json!({
        "@context": context::activity_streams(),
        "id": format!("{}#delete", post.ap_id),
        "type": "Delete",
        "actor": author.ap_id,
        "to": to,
        "cc": cc,
        "object": { "id": post.ap_id, "type": "Tombstone" },
    })
}

/// The Update of an edited post, carrying the whole Note.
pub fn update(id: &str, post: &Post, author: &Actor, parts: &NoteParts) -> Value {
    let (to, cc) = addressing(post, author, parts);
    json!({
        "@context": context::post(),
        "id": id,
        "type": "Update",
        "actor": author.ap_id,
        "to": to,
        "cc": cc,
        "object": note(post, author, parts),
    })
}

/// Who may quote the post without asking: everyone, the author's followers,
/// or only the author.
fn quote_approval(post: &Post, author: &Actor) -> Vec<String> {
    match post.quote_policy {
        QuotePolicy::Public => vec![PUBLIC.to_string()],
        QuotePolicy::Followers => author.followers_url.clone().into_iter().collect(),
        QuotePolicy::Nobody => vec![author.ap_id.clone()],
    }
}
