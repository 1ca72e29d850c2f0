//! The Announcement entity
//! (<https://docs.joinmastodon.org/entities/Announcement/>), for the client
//! API and the streams alike.

use serde_json::json;

use crate::mastodon::entities as e;
use crate::service::announcements::Shown;

pub fn entity(s: &Shown) -> e::Announcement {
    let a = &s.announcement;
    e::Announcement {
        id: a.id.to_string(),
        content: s.content.clone(),
        starts_at: a.starts_at.map(e::time),
        ends_at: a.ends_at.map(e::time),
        all_day: a.all_day,
        published_at: a.published_at.map(e::time),
        updated_at: e::time(a.updated_at),
        read: s.read,
        mentions: s
            .mentions
            .iter()
            .map(|m| e::Mention {
                id: m.id.to_string(),
                username: m.username.clone(),
                url: m.url.clone(),
                acct: m.username.clone(),
            })
            .collect(),
        statuses: Vec::new(),
        tags: s
            .tags
            .iter()
            .map(|(name, url)| json!({"name": name, "url": url}))
            .collect(),
        emojis: Vec::new(),
        reactions: s
            .reactions
            .iter()
            .map(|r| e::Reaction {
                name: r.name.clone(),
                count: r.count,
                me: r.me,
            })
            .collect(),
    }
}
