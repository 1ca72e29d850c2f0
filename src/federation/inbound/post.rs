//! A remote post as Skein reads it: a `Note` (and `Question`, `Article`,
//! `Page`, read as Notes, as Mastodon does; and `Audio`, `Video`, `Image`
//! and `Event`, converted to posts as Mastodon converts them: the name as
//! text with a link to the object, the media as attachments, an Event's
//! time and place), parsed once from its JSON into [`RemotePost`] with
//! every wire quirk handled here: `contentMap` without `content`, `type`
//! lists, single values for lists, the many names of a quote, link
//! attachments of Lemmy posts, media given as `url` links (PeerTube,
//! Funkwhale), poll options with their counts.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::wire::{self, http_url, id_of, items, string, time};
use crate::db::media::Attachment;
use crate::db::polls::PollOption;
use crate::domain::interaction::InteractionPolicy;
use crate::federation::html;

/// Object types read as posts.
pub const POST_TYPES: [&str; 8] = [
    "Note", "Question", "Article", "Page", "Audio", "Video", "Image", "Event",
];

/// The longest content kept (Mastodon's JSON-LD limit is 1 MB in all).
const MAX_CONTENT: usize = 100_000;
/// The most attachments kept of one remote post.
const MAX_ATTACHMENTS: usize = 16;
/// Mastodon's limit for alt text.
const MAX_ALT_TEXT: usize = 10_000;
/// The most options kept of a remote poll (Mastodon allows 500).
const MAX_POLL_OPTIONS: usize = 500;
/// The longest content warning kept.
const MAX_SUMMARY: usize = 2048;

/// The kind of a post, from its `type` (or the first post type of a `type`
/// list: `["Note", "Article"]` is a Note).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Note,
    Question,
    Article,
    Page,
    Audio,
    Video,
    Image,
    Event,
}

impl PostKind {
    fn of(object: &Value) -> Option<PostKind> {
        wire::types(object).into_iter().find_map(|k| match k {
            "Note" => Some(PostKind::Note),
            "Question" => Some(PostKind::Question),
            "Article" => Some(PostKind::Article),
            "Page" => Some(PostKind::Page),
            "Audio" => Some(PostKind::Audio),
            "Video" => Some(PostKind::Video),
            "Image" => Some(PostKind::Image),
            "Event" => Some(PostKind::Event),
            _ => None,
        })
    }

    /// Media and events, whose text Mastodon makes from their name, summary
    /// and link (their `content` is not shown, their `summary` is no
    /// content warning).
    pub fn is_converted(self) -> bool {
        matches!(
            self,
            PostKind::Audio | PostKind::Video | PostKind::Image | PostKind::Event
        )
    }
}

/// When and where an Event takes place.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDetails {
    /// `startTime` and `endTime` as sent (with their offset).
    pub start: Option<DateTime<chrono::FixedOffset>>,
    pub end: Option<DateTime<chrono::FixedOffset>>,
    /// The place's name and address, as one line.
    pub place: Option<String>,
}

/// A poll (a `Question`'s `oneOf` or `anyOf`), with the counts its server
/// reports.
#[derive(Debug, Clone, PartialEq)]
pub struct RemotePoll {
    pub multiple: bool,
    pub options: Vec<PollOption>,
    pub end_time: Option<DateTime<Utc>>,
    /// `votersCount`, else the sum of the options' counts.
    pub voters_count: i32,
}

/// A remote post, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct RemotePost {
    pub id: String,
    pub kind: PostKind,
    pub attributed_to: Vec<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub in_reply_to: Option<String>,
    /// The content HTML as sent (not yet sanitised), at most
    /// [`MAX_CONTENT`] characters: `content`, or the first `contentMap`
    /// entry without it.
    pub content: String,
    /// The `contentMap` key whose text is `content`, else its first key.
    pub language: Option<String>,
    pub name: Option<String>,
    pub summary: String,
    pub sensitive: bool,
    /// The http(s) URLs `url` gives, in order.
    pub urls: Vec<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    /// Actors named by `Mention` tags (their `href`), without repeats.
    pub mentions: Vec<String>,
    /// Hashtags, as Mastodon keeps their names (see [`hashtag_name`]).
    pub hashtags: Vec<String>,
    /// Custom emoji: shortcode and image URL.
    pub emojis: Vec<(String, String)>,
    pub attachments: Vec<Attachment>,
    /// The link an Article or Page shares: its first `Link` attachment.
    pub shared_link: Option<String>,
    /// The post quoted (FEP-044f `quote`, the older names, or a FEP-e232
    /// link tag).
    pub quote: Option<String>,
    pub quote_authorization: Option<String>,
    /// The approval of a reply by the author of the post it answers
    /// (`replyAuthorization`, or the older `approvedBy`).
    pub reply_approval: Option<String>,
    pub interaction_policy: Option<InteractionPolicy>,
    pub poll: Option<RemotePoll>,
    /// Of media and events (converted kinds): the `summary`, shown as text.
    pub converted_summary: Option<String>,
    /// Of an Event: its time and place.
    pub event: Option<EventDetails>,
}

/// Why an object is not a post Skein can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    #[error("the object is not a post")]
    NotAPost,
    #[error("the object has no id")]
    NoId,
    #[error("the object id is not a URL")]
    BadId,
}

impl RemotePost {
    /// Reads a post; [`PostError::NotAPost`] for objects of other types.
    pub fn parse(object: &Value) -> Result<RemotePost, PostError> {
        let kind = PostKind::of(object).ok_or(PostError::NotAPost)?;
        let id = id_of(object).ok_or(PostError::NoId)?;
        url::Url::parse(id).map_err(|_| PostError::BadId)?;
        let (content, language) = content_and_language(object);
        let mut summary =
            html::plain_text(string(object, "summary").unwrap_or_default(), MAX_SUMMARY);
        let mut converted_summary = None;
        if kind.is_converted() {
            // Mastodon shows a converted object's summary as text, not as a
            // content warning.
            converted_summary = Some(std::mem::take(&mut summary)).filter(|s| !s.is_empty());
        }
        let mut media = attachments(object);
        if media.is_empty() && matches!(kind, PostKind::Audio | PostKind::Video | PostKind::Image) {
            media.extend(linked_medium(object));
        }
        let tags = items(object.get("tag"));
        let mut mentions: Vec<String> = Vec::new();
        let mut hashtags: Vec<String> = Vec::new();
        for tag in &tags {
            match string(tag, "type") {
                Some("Mention") => {
                    if let Some(href) = string(tag, "href")
                        && !mentions.iter().any(|m| m == href)
                    {
                        mentions.push(href.to_string());
                    }
                }
                Some("Hashtag") => {
                    if let Some(name) = string(tag, "name").and_then(hashtag_name)
                        && !hashtags.contains(&name)
                    {
                        hashtags.push(name);
                    }
                }
                _ => {}
            }
        }
        Ok(RemotePost {
            id: id.to_string(),
            kind,
            attributed_to: wire::ids(object.get("attributedTo")),
            to: wire::ids(object.get("to")),
            cc: wire::ids(object.get("cc")),
            in_reply_to: object.get("inReplyTo").and_then(id_of).map(String::from),
            content,
            language,
            name: string(object, "name").map(String::from),
            sensitive: object
                .get("sensitive")
                .and_then(Value::as_bool)
                .unwrap_or(false)
                || !summary.is_empty(),
            summary,
            urls: page_urls(object.get("url")),
            published: time(object, "published"),
            updated: time(object, "updated"),
            mentions,
            hashtags,
            emojis: emojis(&tags),
            attachments: media,
            shared_link: shared_link(object),
            quote: quoted_id(object).map(String::from),
            quote_authorization: object
                .get("quoteAuthorization")
                .and_then(id_of)
                .map(String::from),
            reply_approval: ["replyAuthorization", "approvedBy"]
                .iter()
                .find_map(|name| object.get(*name).and_then(id_of))
                .map(String::from),
            interaction_policy: InteractionPolicy::parse(object.get("interactionPolicy")),
            poll: (kind == PostKind::Question).then(|| poll(object)).flatten(),
            converted_summary,
            event: (kind == PostKind::Event).then(|| event_details(object)),
        })
    }

    /// The sanitised HTML shown for the post: an Article's or Page's `name`
    /// as a bold first line, and the link it shares under the text.
    pub fn html(&self) -> String {
        if self.kind.is_converted() {
            return self.converted_html();
        }
        let mut content = html::sanitize(&self.content);
        if self.kind != PostKind::Note {
            if let Some(name) = &self.name {
                content = format!("<p><strong>{}</strong></p>{content}", html::escape(name));
            }
            // A link post (Lemmy, FEP-1b12 groups) shares its link as a
            // `Link` attachment: shown under the text, since it is not media.
            if let Some(link) = &self.shared_link {
                let link = html::escape(link);
                content.push_str(&html::sanitize(&format!(
                    "<p><a href=\"{link}\">{link}</a></p>"
                )));
            }
        }
        content
    }

    /// The text of media and events, as Mastodon makes it: the name as a
    /// title, the summary, (of an Event: when and where), and a link to the
    /// object's page.
    fn converted_html(&self) -> String {
        let mut html = String::new();
        if let Some(name) = self.name.as_deref().filter(|n| !n.trim().is_empty()) {
            html.push_str(&format!(
                "<p><strong>{}</strong></p>",
                html::escape(&html::plain_text(name, MAX_SUMMARY))
            ));
        }
        if let Some(summary) = &self.converted_summary {
            html.push_str(&format!("<p>{}</p>", html::escape(summary)));
        }
        if let Some(event) = &self.event {
            let mut lines = Vec::new();
            if let Some(when) = event.when() {
                lines.push(html::escape(&when));
            }
            if let Some(place) = &event.place {
                lines.push(html::escape(place));
            }
            if !lines.is_empty() {
                html.push_str(&format!("<p>{}</p>", lines.join("<br>")));
            }
        }
        let link = html::escape(self.urls.first().unwrap_or(&self.id));
        html.push_str(&format!("<p><a href=\"{link}\">{link}</a></p>"));
        html::sanitize(&html)
    }

    /// The choice a poll vote names: a vote is a Note whose `name` is an
    /// option, in reply to the poll, without content.
    pub fn vote_choice(&self) -> Option<&str> {
        let name = self.name.as_deref()?;
        self.in_reply_to.as_ref()?;
        self.content.trim().is_empty().then_some(name)
    }

    /// When the post says it was published; never later than `now`.
    pub fn published_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.published.filter(|p| *p <= now).unwrap_or(now)
    }

    /// The post's page, when it lives on `host` (a page elsewhere would pass
    /// someone else's page off as the post's; Mastodon drops it too).
    pub fn page_on(&self, host: &str) -> Option<&str> {
        self.urls
            .iter()
            .find(|u| {
                url::Url::parse(u).is_ok_and(|u| crate::domain::domain_name::authority(&u) == host)
            })
            .map(String::as_str)
    }
}

impl EventDetails {
    /// `2024-10-05 14:00–18:00 (UTC+02:00)`, or with both dates when it
    /// runs over several days.
    pub fn when(&self) -> Option<String> {
        let start = self.start?;
        let offset = start.format("%:z");
        Some(match self.end {
            Some(end) if end.date_naive() == start.date_naive() => format!(
                "{}–{} (UTC{offset})",
                start.format("%Y-%m-%d %H:%M"),
                end.format("%H:%M")
            ),
            Some(end) => format!(
                "{} – {} (UTC{offset})",
                start.format("%Y-%m-%d %H:%M"),
                end.with_timezone(start.offset()).format("%Y-%m-%d %H:%M")
            ),
            None => format!("{} (UTC{offset})", start.format("%Y-%m-%d %H:%M")),
        })
    }
}

/// An Event's time and place: `startTime`, `endTime`, and `location` (a
/// `Place` with a name and a postal address, or text).
fn event_details(object: &Value) -> EventDetails {
    let moment = |key: &str| string(object, key).and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let place = items(object.get("location"))
        .into_iter()
        .find_map(|location| {
            if let Some(text) = location.as_str() {
                return Some(html::plain_text(text, 500)).filter(|t| !t.is_empty());
            }
            let mut parts: Vec<String> = Vec::new();
            if let Some(name) = string(location, "name") {
                parts.push(name.to_string());
            }
            match location.get("address") {
                Some(Value::String(address)) => parts.push(address.clone()),
                Some(address @ Value::Object(_)) => {
                    let field = |key: &str| string(address, key).filter(|v| !v.trim().is_empty());
                    let locality = [field("postalCode"), field("addressLocality")]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    parts.extend(
                        [
                            field("streetAddress").map(String::from),
                            Some(locality).filter(|l| !l.is_empty()),
                            field("addressCountry").map(String::from),
                        ]
                        .into_iter()
                        .flatten(),
                    );
                }
                _ => {}
            }
            let line = html::plain_text(&parts.join(", "), 500);
            (!line.trim().is_empty()).then_some(line)
        });
    EventDetails {
        start: moment("startTime"),
        end: moment("endTime"),
        place,
    }
}

/// The medium a PeerTube Video or Funkwhale Audio gives as a `url` link
/// with a video, audio or image type (their `attachment` is empty): the
/// first such link, with the object's length and its `icon` as preview.
fn linked_medium(object: &Value) -> Option<Attachment> {
    let link = items(object.get("url")).into_iter().find(|item| {
        string(item, "mediaType").is_some_and(|m| {
            m.starts_with("video/") || m.starts_with("audio/") || m.starts_with("image/")
        })
    })?;
    let url = http_url(Some(link))?;
    let media_type: String = string(link, "mediaType")?.chars().take(255).collect();
    let kind = media_type
        .split('/')
        .next()
        .unwrap_or("unknown")
        .to_string();
    let dimension = |key: &str| {
        link.get(key)
            .and_then(Value::as_i64)
            .and_then(|v| i32::try_from(v).ok())
            .filter(|v| *v > 0)
    };
    Some(Attachment {
        kind,
        url,
        media_type: Some(media_type),
        description: String::new(),
        blurhash: None,
        focal_x: None,
        focal_y: None,
        width: dimension("width"),
        height: dimension("height"),
        preview_url: icon_url(object),
        duration: object
            .get("duration")
            .and_then(crate::domain::media::parse_duration)
            .map(|d| d as f32),
    })
}

/// The first image of an object's `icon` (a preview, a poster).
fn icon_url(object: &Value) -> Option<String> {
    items(object.get("icon"))
        .into_iter()
        .find_map(|icon| http_url(icon.get("url")).or_else(|| http_url(Some(icon))))
}

/// The HTML of a remote post and its language: `content`, or the first
/// entry of `contentMap` when `content` is missing (as Mastodon reads it).
/// The language is the `contentMap` key whose text is `content`, else its
/// first key (GoToSocial's federation docs, "Content, ContentMap, and
/// Language").
fn content_and_language(object: &Value) -> (String, Option<String>) {
    let map = object.get("contentMap").and_then(Value::as_object);
    let content = string(object, "content").filter(|c| !c.is_empty());
    let entry = map.and_then(|m| {
        m.iter()
            .find(|(_, text)| content.is_some_and(|c| text.as_str() == Some(c)))
            .or_else(|| m.iter().next())
    });
    let language = entry
        .map(|(language, _)| language.clone())
        .filter(|l| !l.is_empty() && l.len() <= 16);
    let html = content
        .or_else(|| entry.and_then(|(_, text)| text.as_str()))
        .unwrap_or_default();
    (html.chars().take(MAX_CONTENT).collect(), language)
}

/// `url` as a string, a `Link`, or a list of either (Misskey and Lemmy send
/// lists with a `Link` per media type).
/// Links with a `mediaType` other than HTML (PeerTube's video files and
/// torrents, Funkwhale's audio) come after the others, so the first URL is
/// the page, as Mastodon picks it.
fn page_urls(value: Option<&Value>) -> Vec<String> {
    let mut urls: Vec<(bool, &str)> = items(value)
        .into_iter()
        .filter_map(|item| match item {
            Value::String(s) => Some((false, s.as_str())),
            Value::Object(_) => {
                let not_a_page = string(item, "mediaType").is_some_and(|m| m != "text/html");
                string(item, "href")
                    .or_else(|| id_of(item))
                    .map(|u| (not_a_page, u))
            }
            _ => None,
        })
        .filter(|(_, u)| url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
        .collect();
    urls.sort_by_key(|(not_a_page, _)| *not_a_page);
    urls.into_iter().map(|(_, u)| u.to_string()).collect()
}

/// A remote hashtag's name as Mastodon keeps it: lower-cased, without `#`
/// and every other character that is not a letter, digit or `_`; None when
/// no letter or `_` is left (`#1234`, `#🐄`), as such a tag cannot be
/// written in a post.
pub fn hashtag_name(raw: &str) -> Option<String> {
    let name: String = raw
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_lowercase();
    (name.len() <= 100 && name.chars().any(|c| c.is_alphabetic() || c == '_')).then_some(name)
}

/// The post a remote object quotes (FEP-044f `quote`, or the names other
/// servers use), or else the first FEP-e232 link to an ActivityPub object
/// among its tags (as Pleroma and Threads send it). A list under one of
/// these names gives its first item, as Mastodon takes only the first quote.
pub fn quoted_id(object: &Value) -> Option<&str> {
    ["quote", "quoteUri", "_misskey_quote", "quoteUrl"]
        .iter()
        .find_map(|key| items(object.get(*key)).into_iter().next().and_then(id_of))
        .or_else(|| {
            items(object.get("tag")).into_iter().find_map(|tag| {
                let media_type = string(tag, "mediaType")?;
                let is_object = media_type == "application/activity+json"
                    || (media_type.starts_with("application/ld+json")
                        && media_type.contains("https://www.w3.org/ns/activitystreams"));
                (string(tag, "type") == Some("Link") && is_object)
                    .then(|| string(tag, "href"))
                    .flatten()
            })
        })
}

/// The link an Article or Page shares: its first `Link` attachment.
fn shared_link(object: &Value) -> Option<String> {
    items(object.get("attachment"))
        .into_iter()
        .filter(|item| string(item, "type") == Some("Link"))
        .find_map(|item| http_url(item.get("href")))
}

/// Media of a remote post, with their type, URL, alt text, blurhash and
/// focal point.
pub fn attachments(object: &Value) -> Vec<Attachment> {
    items(object.get("attachment"))
        .into_iter()
        // `Link`s are not media: Mastodon's preview card, a Lemmy post's link.
        .filter(|item| string(item, "type") != Some("Link"))
        .filter_map(|item| {
            // Only `url` holds media: a bare `href` is a link (FEP-0ea0
            // payment links, web pages), as Mastodon reads it.
            let url = http_url(item.get("url"))?;
            let media_type: Option<String> =
                string(item, "mediaType").map(|m| m.chars().take(255).collect());
            let kind = match (media_type.as_deref(), string(item, "type")) {
                (Some(m), _) if m.starts_with("image/") => "image",
                (Some(m), _) if m.starts_with("video/") => "video",
                (Some(m), _) if m.starts_with("audio/") => "audio",
                (_, Some("Image")) => "image",
                (_, Some("Video")) => "video",
                (_, Some("Audio")) => "audio",
                _ => "unknown",
            };
            let focal = item
                .get("focalPoint")
                .and_then(Value::as_array)
                .and_then(|p| {
                    let x = p.first()?.as_f64()?;
                    let y = p.get(1)?.as_f64()?;
                    Some((x.clamp(-1.0, 1.0) as f32, y.clamp(-1.0, 1.0) as f32))
                });
            let dimension = |key: &str| {
                item.get(key)
                    .and_then(Value::as_i64)
                    .and_then(|v| i32::try_from(v).ok())
                    .filter(|v| *v > 0)
            };
            Some(Attachment {
                kind: kind.to_string(),
                url,
                media_type,
                // Mastodon reads alt text from `summary`, then `name`.
                description: ["summary", "name"]
                    .iter()
                    .map(|key| {
                        html::plain_text(string(item, key).unwrap_or_default(), MAX_ALT_TEXT)
                    })
                    .find(|text| !text.trim().is_empty())
                    .unwrap_or_default(),
                blurhash: string(item, "blurhash")
                    .filter(|b| b.len() <= 100 && b.chars().all(|c| c.is_ascii_graphic()))
                    .map(String::from),
                focal_x: focal.map(|f| f.0),
                focal_y: focal.map(|f| f.1),
                width: dimension("width"),
                height: dimension("height"),
                preview_url: icon_url(item),
                duration: item
                    .get("duration")
                    .and_then(crate::domain::media::parse_duration)
                    .map(|d| d as f32),
            })
        })
        .take(MAX_ATTACHMENTS)
        .collect()
}

/// Custom emoji (`Emoji` tags): shortcode and image URL (of posts and of
/// actors, `federation::actor`).
pub fn emojis(tags: &[&Value]) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for tag in tags {
        if string(tag, "type") != Some("Emoji") {
            continue;
        }
        let Some(code) = string(tag, "name")
            .map(|n| n.trim_matches(':').to_string())
            .filter(|c| {
                !c.is_empty()
                    && c.len() <= 100
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            })
        else {
            continue;
        };
        let Some(url) = tag.get("icon").and_then(|i| http_url(i.get("url"))) else {
            continue;
        };
        if !found.iter().any(|(c, _)| *c == code) {
            found.push((code, url));
        }
    }
    found
}

/// The options of a Question (`oneOf` or `anyOf`) with their counts.
fn poll(object: &Value) -> Option<RemotePoll> {
    let (multiple, list) = match (object.get("oneOf"), object.get("anyOf")) {
        (Some(Value::Array(list)), _) => (false, list),
        (_, Some(Value::Array(list))) => (true, list),
        _ => return None,
    };
    let options: Vec<PollOption> = list
        .iter()
        .filter_map(|item| {
            let title = html::plain_text(string(item, "name")?, 200);
            let votes = item
                .get("replies")
                .and_then(|r| r.get("totalItems"))
                .and_then(Value::as_i64)
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0)
                .max(0);
            Some(PollOption { title, votes })
        })
        .take(MAX_POLL_OPTIONS)
        .collect();
    if options.is_empty() {
        return None;
    }
    let voters_count = object
        .get("votersCount")
        .and_then(Value::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or_else(|| options.iter().map(|o| o.votes).sum())
        .max(0);
    Some(RemotePoll {
        multiple,
        options,
        end_time: time(object, "endTime"),
        voters_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn note(extra: Value) -> Value {
        let mut note = json!({
            "id": "https://remote.example/notes/1",
            "type": "Note",
            "attributedTo": "https://remote.example/users/bob",
            "content": "<p>hi</p>",
        });
        if let (Some(map), Value::Object(extra)) = (note.as_object_mut(), extra) {
            map.extend(extra);
        }
        note
    }

    #[test]
    fn other_object_types_are_not_posts() {
        assert_eq!(
            RemotePost::parse(&json!({"id": "https://r.example/1", "type": "Person"})),
            Err(PostError::NotAPost)
        );
        assert_eq!(
            RemotePost::parse(&json!({"type": "Note"})),
            Err(PostError::NoId)
        );
    }

    #[test]
    fn a_type_list_is_read_as_its_first_post_type() {
        let post =
            RemotePost::parse(&note(json!({"type": ["Object", "Article", "Note"]}))).unwrap();
        assert_eq!(post.kind, PostKind::Article);
    }

    #[test]
    fn content_map_stands_in_for_missing_content_and_names_the_language() {
        let post = RemotePost::parse(&note(json!({
            "content": null,
            "contentMap": {"de": "<p>hallo</p>", "en": "<p>hello</p>"}
        })))
        .unwrap();
        assert_eq!(post.content, "<p>hallo</p>");
        assert_eq!(post.language.as_deref(), Some("de"));
        let post = RemotePost::parse(&note(json!({
            "content": "<p>hello</p>",
            "contentMap": {"de": "<p>hallo</p>", "en": "<p>hello</p>"}
        })))
        .unwrap();
        assert_eq!(post.language.as_deref(), Some("en"));
    }

    #[test]
    fn single_values_stand_for_lists() {
        let post = RemotePost::parse(&note(json!({
            "to": "https://www.w3.org/ns/activitystreams#Public",
            "cc": ["https://remote.example/users/bob/followers"],
            "tag": {"type": "Mention", "href": "https://here.example/users/alice"},
            "attachment": {"type": "Document", "mediaType": "image/png", "url": "https://remote.example/a.png"}
        })))
        .unwrap();
        assert_eq!(
            post.to,
            vec!["https://www.w3.org/ns/activitystreams#Public"]
        );
        assert_eq!(post.mentions, vec!["https://here.example/users/alice"]);
        assert_eq!(post.attachments.len(), 1);
        assert_eq!(post.attachments[0].kind, "image");
    }

    #[test]
    fn a_quote_given_as_a_list_is_its_first_item() {
        for key in ["quote", "quoteUri", "_misskey_quote", "quoteUrl"] {
            let post = RemotePost::parse(&note(json!({ key: [
                "https://other.example/notes/9",
                "https://other.example/notes/10",
            ] })))
            .unwrap();
            assert_eq!(
                post.quote.as_deref(),
                Some("https://other.example/notes/9"),
                "{key}"
            );
        }
        let post = RemotePost::parse(&note(json!({ "quote": [] }))).unwrap();
        assert_eq!(post.quote, None);
    }

    #[test]
    fn a_quote_is_read_under_every_name_servers_give_it() {
        for key in ["quote", "quoteUri", "_misskey_quote", "quoteUrl"] {
            let post =
                RemotePost::parse(&note(json!({ key: "https://other.example/notes/9" }))).unwrap();
            assert_eq!(
                post.quote.as_deref(),
                Some("https://other.example/notes/9"),
                "{key}"
            );
        }
        let post = RemotePost::parse(&note(json!({"tag": [{
            "type": "Link",
            "mediaType": "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "href": "https://other.example/notes/9"
        }]})))
        .unwrap();
        assert_eq!(post.quote.as_deref(), Some("https://other.example/notes/9"));
        let post = RemotePost::parse(&note(json!({"tag": [{
            "type": "Link", "mediaType": "text/html", "href": "https://other.example/page"
        }]})))
        .unwrap();
        assert_eq!(post.quote, None);
    }

    #[test]
    fn hashtags_are_kept_as_mastodon_names_them() {
        let post = RemotePost::parse(&note(json!({"tag": [
            {"type": "Hashtag", "name": "#Rust"},
            {"type": "Hashtag", "name": "#rust"},
            {"type": "Hashtag", "name": "#1234"},
        ]})))
        .unwrap();
        assert_eq!(post.hashtags, vec!["rust"]);
    }

    #[test]
    fn a_lemmy_link_post_shows_its_title_and_link() {
        let post = RemotePost::parse(&note(json!({
            "type": "Page",
            "name": "A <title>",
            "content": "<p>body</p>",
            "attachment": [{"type": "Link", "href": "https://news.example/story"}]
        })))
        .unwrap();
        assert!(post.attachments.is_empty(), "a Link is not media");
        let html = post.html();
        assert!(
            html.starts_with("<p><strong>A &lt;title&gt;</strong></p>"),
            "{html}"
        );
        assert!(html.contains("https://news.example/story"), "{html}");
    }

    #[test]
    fn a_misskey_url_list_gives_the_page() {
        let post = RemotePost::parse(&note(json!({"url": [
            {"type": "Link", "mediaType": "text/html", "href": "https://remote.example/notes/abc"}
        ]})))
        .unwrap();
        assert_eq!(
            post.page_on("remote.example"),
            Some("https://remote.example/notes/abc")
        );
        assert_eq!(post.page_on("elsewhere.example"), None);
    }

    #[test]
    fn a_question_brings_its_poll_and_counts() {
        let post = RemotePost::parse(&note(json!({
            "type": "Question",
            "anyOf": [
                {"type": "Note", "name": "a", "replies": {"totalItems": 3}},
                {"type": "Note", "name": "b"}
            ],
            "endTime": "2026-01-01T00:00:00Z"
        })))
        .unwrap();
        let poll = post.poll.unwrap();
        assert!(poll.multiple);
        assert_eq!(poll.options.len(), 2);
        assert_eq!(poll.voters_count, 3);
        assert!(poll.end_time.is_some());
    }

    #[test]
    fn a_vote_is_a_named_reply_without_content() {
        let vote = RemotePost::parse(&note(json!({
            "name": "a", "content": null, "inReplyTo": "https://here.example/p/1"
        })))
        .unwrap();
        assert_eq!(vote.vote_choice(), Some("a"));
        let reply = RemotePost::parse(&note(json!({
            "name": "a", "inReplyTo": "https://here.example/p/1"
        })))
        .unwrap();
        assert_eq!(reply.vote_choice(), None);
    }

    #[test]
    fn a_summary_makes_the_post_sensitive() {
        let post = RemotePost::parse(&note(json!({"summary": "cw"}))).unwrap();
        assert!(post.sensitive);
        assert_eq!(post.summary, "cw");
    }
}
