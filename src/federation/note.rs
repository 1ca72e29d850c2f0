//! Notes and the Create activities that wrap them, for posts by local
//! actors. Addressing follows Mastodon's visibility semantics.

use serde_json::{Value, json};

use crate::db::{actors::Actor, posts::Post};
use crate::federation::PUBLIC;

/// `to` and `cc` of a post by `author`.
pub fn addressing(post: &Post, author: &Actor) -> (Vec<String>, Vec<String>) {
    let followers = author.followers_url.clone().unwrap_or_default();
    match post.visibility.as_str() {
        "public" => (vec![PUBLIC.into()], vec![followers]),
        "unlisted" => (vec![followers], vec![PUBLIC.into()]),
        "private" => (vec![followers], vec![]),
        _ => (vec![], vec![]),
    }
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn note(post: &Post, author: &Actor) -> Value {
    let (to, cc) = addressing(post, author);
    let mut note = json!({
        "id": post.ap_id,
        "type": "Note",
        "attributedTo": author.ap_id,
        "content": post.content,
        "published": timestamp(post.published),
        "url": post.url.clone().unwrap_or_else(|| post.ap_id.clone()),
        "to": to,
        "cc": cc,
        "sensitive": post.sensitive,
        "summary": if post.summary.is_empty() { Value::Null } else { json!(post.summary) },
        "inReplyTo": post.in_reply_to_ap_id,
    });
    if let Some(updated) = post.updated {
        note["updated"] = json!(timestamp(updated));
    }
    if let Some(language) = &post.language {
        note["contentMap"] = json!({ language: post.content });
    }
    note
}

/// The Create activity of a post, as listed in the outbox.
pub fn create(post: &Post, author: &Actor) -> Value {
    let (to, cc) = addressing(post, author);
    json!({
        "id": format!("{}/activity", post.ap_id),
        "type": "Create",
        "actor": author.ap_id,
        "published": timestamp(post.published),
        "to": to,
        "cc": cc,
        "object": note(post, author),
    })
}
