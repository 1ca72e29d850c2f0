//! One connection's side of streaming: the streams it follows, which events
//! its viewer may see on them, and the messages that present them.
//!
//! A stream shows exactly what its timeline would: whether a post belongs
//! is asked through the timeline's own query (`db::timelines`, with its
//! visibility, block, mute and domain-block rules), for that one post.

use std::fmt;

use serde::Serialize;

use crate::db::{self, actors::Actor, timelines::Page};
use crate::domain::lists::RepliesPolicy;
use crate::domain::scopes::Scopes;
use crate::domain::visibility::Visibility;
use crate::error::Result;
use crate::mastodon::Presenter;
use crate::state::AppState;
use crate::streaming::Event;

pub use crate::db::timelines::Scope;

/// A stream (Mastodon's "channel") a connection follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stream {
    /// The home timeline and notifications.
    User,
    UserNotification,
    Public {
        scope: Scope,
        media: bool,
    },
    /// A hashtag (lower case, without `#`), from anywhere or local only.
    Hashtag {
        tag: String,
        local: bool,
    },
    /// One of the viewer's lists (another's shows nothing).
    List {
        id: i64,
    },
    /// The viewer's direct conversations.
    Direct,
}

/// Why a stream cannot be followed; `status` is the HTTP status Mastodon
/// gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    pub status: u16,
    pub message: &'static str,
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

const UNKNOWN: StreamError = StreamError {
    status: 400,
    message: "Unknown stream type",
};
const NO_TAG: StreamError = StreamError {
    status: 400,
    message: "No tag for stream provided",
};
const NO_LIST: StreamError = StreamError {
    status: 400,
    message: "No list for stream provided",
};
const SCOPES: StreamError = StreamError {
    status: 401,
    message: "Access token does not have the required scopes",
};

impl Stream {
    /// A stream by Mastodon's name, with the parameter it needs: a hashtag
    /// stream's `tag`, a list stream's `list`.
    pub fn parse(name: &str, tag: Option<&str>) -> Result<Stream, StreamError> {
        let public = |scope, media| Ok(Stream::Public { scope, media });
        match name {
            "user" => Ok(Stream::User),
            "user:notification" => Ok(Stream::UserNotification),
            "public" => public(Scope::All, false),
            "public:media" => public(Scope::All, true),
            "public:local" => public(Scope::Local, false),
            "public:local:media" => public(Scope::Local, true),
            "public:remote" => public(Scope::Remote, false),
            "public:remote:media" => public(Scope::Remote, true),
            "hashtag" | "hashtag:local" => {
                let tag = tag
                    .map(|t| t.trim().trim_start_matches('#').to_lowercase())
                    .filter(|t| !t.is_empty())
                    .ok_or(NO_TAG)?;
                Ok(Stream::Hashtag {
                    tag,
                    local: name == "hashtag:local",
                })
            }
            "list" => tag
                .and_then(|id| id.trim().parse().ok())
                .map(|id| Stream::List { id })
                .ok_or(NO_LIST),
            "direct" => Ok(Stream::Direct),
            _ => Err(UNKNOWN),
        }
    }

    /// The `stream` field of its messages: the name, and the tag of a
    /// hashtag stream.
    pub fn names(&self) -> Vec<String> {
        let name = match self {
            Stream::User => "user",
            Stream::UserNotification => "user:notification",
            Stream::Public { scope, media } => match (scope, media) {
                (Scope::All, false) => "public",
                (Scope::All, true) => "public:media",
                (Scope::Local, false) => "public:local",
                (Scope::Local, true) => "public:local:media",
                (Scope::Remote, false) => "public:remote",
                (Scope::Remote, true) => "public:remote:media",
            },
            Stream::Hashtag { local: false, .. } => "hashtag",
            Stream::Hashtag { local: true, .. } => "hashtag:local",
            Stream::List { .. } => "list",
            Stream::Direct => "direct",
        };
        match self {
            Stream::Hashtag { tag, .. } => vec![name.to_string(), tag.clone()],
            Stream::List { id } => vec![name.to_string(), id.to_string()],
            _ => vec![name.to_string()],
        }
    }

    /// The scope a token needs to follow it (`read` covers both).
    pub fn required_scope(&self) -> &'static str {
        match self {
            Stream::UserNotification => "read:notifications",
            _ => "read:statuses",
        }
    }
}

/// One message to a client: Mastodon's `{"stream", "event", "payload"}`,
/// the payload being an entity's JSON as a string (or a bare id for
/// `delete`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub stream: Vec<String>,
    pub event: &'static str,
    pub payload: String,
}

impl Message {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A connection: whose it is, what its token allows, what it follows.
#[derive(Debug, Clone)]
pub struct Subscriber {
    pub viewer: Actor,
    pub scopes: Scopes,
    pub streams: Vec<Stream>,
}

impl Subscriber {
    pub fn new(viewer: Actor, scopes: Scopes) -> Subscriber {
        Subscriber {
            viewer,
            scopes,
            streams: Vec::new(),
        }
    }

    /// Follows a stream when the token's scopes allow it.
    pub fn subscribe(&mut self, stream: Stream) -> Result<(), StreamError> {
        if !self.scopes.allows(stream.required_scope()) {
            return Err(SCOPES);
        }
        if !self.streams.contains(&stream) {
            self.streams.push(stream);
        }
        Ok(())
    }

    pub fn unsubscribe(&mut self, stream: &Stream) {
        self.streams.retain(|s| s != stream);
    }

    /// The messages `event` makes on this connection: one per followed
    /// stream that shows it (none when the viewer may not see it).
    pub async fn messages(&self, state: &AppState, event: &Event) -> Result<Vec<Message>> {
        let mut shown = Vec::new();
        for stream in &self.streams {
            if self.shows(state, stream, event).await? {
                shown.push(stream);
            }
        }
        if shown.is_empty() {
            return Ok(Vec::new());
        }
        // The direct stream tells of conversations; the others of statuses
        // and notifications.
        let (direct, others): (Vec<&Stream>, Vec<&Stream>) =
            shown.into_iter().partition(|s| **s == Stream::Direct);
        let mut messages = Vec::new();
        if !others.is_empty()
            && let Some((name, payload)) = self.present(state, event).await?
        {
            messages.extend(others.into_iter().map(|stream| Message {
                stream: stream.names(),
                event: name,
                payload: payload.clone(),
            }));
        }
        if let (Some(stream), Event::Status { post, .. }) = (direct.first(), event)
            && let Some(row) =
                db::conversations::of_viewer_post(&state.db, self.viewer.id, post.id).await?
            && let Some(conversation) = Presenter::new(state, Some(&self.viewer))
                .conversations(std::slice::from_ref(&row))
                .await?
                .pop()
        {
            messages.push(Message {
                stream: stream.names(),
                event: "conversation",
                payload: to_json(&conversation)?,
            });
        }
        Ok(messages)
    }

    async fn shows(&self, state: &AppState, stream: &Stream, event: &Event) -> Result<bool> {
        let viewer = self.viewer.id;
        let now = state.clock.now();
        let pool = &state.db;
        Ok(match (stream, event) {
            (Stream::User, Event::Status { post, audience, .. }) => {
                audience.binary_search(&viewer).is_ok() && {
                    let mut conn = pool.acquire().await?;
                    !db::timelines::home(&mut conn, viewer, Page::only(post.id), now)
                        .await?
                        .is_empty()
                }
            }
            (Stream::User, Event::Delete { audience, .. }) => {
                audience.binary_search(&viewer).is_ok()
            }
            (
                Stream::User,
                Event::Announcement(_)
                | Event::AnnouncementReaction { .. }
                | Event::AnnouncementDelete(_),
            ) => self.viewer.is_local(),
            (Stream::User | Stream::UserNotification, Event::Notification(n)) => {
                n.recipient_id == viewer
                    && !n.filtered
                    && self.scopes.allows("read:notifications")
                    && !db::notifications::is_silenced(pool, n, now).await?
            }
            (Stream::User | Stream::UserNotification, Event::NotificationsMerged { recipient }) => {
                *recipient == viewer && self.scopes.allows("read:notifications")
            }
            (
                Stream::Public { scope, media },
                Event::Status {
                    post,
                    local,
                    has_media,
                    ..
                },
            ) => {
                post.visibility == Visibility::Public
                    && post.reblog_of_id.is_none()
                    && from(*scope, *local)
                    && (*has_media || !media)
                    && !db::timelines::public(pool, Some(viewer), *scope, Page::only(post.id), now)
                        .await?
                        .is_empty()
            }
            (Stream::Public { scope, .. }, Event::Delete { public, local, .. }) => {
                *public && from(*scope, *local)
            }
            (
                Stream::Hashtag { tag, local: only },
                Event::Status {
                    post, local, tags, ..
                },
            ) => {
                tags.contains(tag)
                    && (*local || !only)
                    && !db::timelines::tag(
                        pool,
                        Some(viewer),
                        tag,
                        Scope::All,
                        Page::only(post.id),
                        now,
                    )
                    .await?
                    .is_empty()
            }
            (
                Stream::Hashtag { tag, local: only },
                Event::Delete {
                    public,
                    local,
                    tags,
                    ..
                },
            ) => *public && tags.contains(tag) && (*local || !only),
            (Stream::List { id }, Event::Status { post, audience, .. }) => {
                audience.binary_search(&viewer).is_ok() && {
                    match db::lists::find(pool, viewer, *id).await? {
                        Some(list) => !db::timelines::list(
                            pool,
                            viewer,
                            list.id,
                            RepliesPolicy::parse(&list.replies_policy)
                                .unwrap_or(RepliesPolicy::List),
                            Page::only(post.id),
                            now,
                        )
                        .await?
                        .is_empty(),
                        None => false,
                    }
                }
            }
            (Stream::List { .. }, Event::Delete { audience, .. }) => {
                audience.binary_search(&viewer).is_ok()
            }
            (Stream::Direct, Event::Status { post, .. }) => {
                post.visibility == Visibility::Direct
                    && db::conversations::of_viewer_post(pool, viewer, post.id)
                        .await?
                        .is_some()
            }
            _ => false,
        })
    }

    /// The event's name and payload for this viewer; None when there is
    /// nothing left to show (the post or the account is gone).
    async fn present(
        &self,
        state: &AppState,
        event: &Event,
    ) -> Result<Option<(&'static str, String)>> {
        let presenter = Presenter::new(state, Some(&self.viewer));
        Ok(match event {
            Event::Status { post, edited, .. } => {
                let name = if *edited { "status.update" } else { "update" };
                let statuses = presenter.statuses(std::slice::from_ref(post)).await?;
                match statuses.first() {
                    Some(status) => Some((name, to_json(status)?)),
                    None => None,
                }
            }
            Event::Delete { post_id, .. } => Some(("delete", post_id.to_string())),
            Event::Notification(n) => match presenter.notification(n).await? {
                Some(entity) => Some(("notification", to_json(&entity)?)),
                None => None,
            },
            // Mastodon's payload: the string "1".
            Event::NotificationsMerged { .. } => Some(("notifications_merged", "1".to_string())),
            Event::Announcement(id) => {
                match crate::service::announcements::one_for_reader(state, &self.viewer, *id)
                    .await?
                {
                    Some(shown) => Some((
                        "announcement",
                        to_json(&crate::mastodon::announcement::entity(&shown))?,
                    )),
                    None => None,
                }
            }
            Event::AnnouncementReaction {
                announcement,
                name,
                count,
            } => Some((
                "announcement.reaction",
                serde_json::json!({
                    "name": name,
                    "count": count,
                    "announcement_id": announcement.to_string(),
                })
                .to_string(),
            )),
            Event::AnnouncementDelete(id) => Some(("announcement.delete", id.to_string())),
        })
    }
}

/// Whether a post from a local (or remote) author belongs to a public
/// stream's scope.
fn from(scope: Scope, local: bool) -> bool {
    match scope {
        Scope::All => true,
        Scope::Local => local,
        Scope::Remote => !local,
    }
}

/// An entity as JSON text: payloads are strings inside the message.
fn to_json<T: Serialize>(entity: &T) -> Result<String> {
    serde_json::to_string(entity).map_err(|e| crate::error::Error::Internal(e.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_named_as_mastodon_names_them() {
        for name in [
            "user",
            "user:notification",
            "public",
            "public:media",
            "public:local",
            "public:local:media",
            "public:remote",
            "public:remote:media",
        ] {
            let stream = Stream::parse(name, None).expect("a known stream");
            assert_eq!(stream.names(), vec![name.to_string()]);
        }
        let tag = Stream::parse("hashtag:local", Some("#Rust")).expect("a hashtag stream");
        assert_eq!(tag.names(), vec!["hashtag:local", "rust"]);
        assert_eq!(Stream::parse("hashtag", None), Err(NO_TAG));
        assert_eq!(
            Stream::parse("list", Some("12")),
            Ok(Stream::List { id: 12 })
        );
        assert_eq!(Stream::parse("list", None), Err(NO_LIST));
        assert_eq!(Stream::parse("direct", None).unwrap().names(), ["direct"]);
        assert_eq!(Stream::parse("nope", None), Err(UNKNOWN));
    }

    #[test]
    fn notification_streams_need_the_notifications_scope() {
        let viewer_scopes = Scopes::parse("read:statuses").expect("scopes");
        assert!(viewer_scopes.allows(Stream::User.required_scope()));
        assert!(!viewer_scopes.allows(Stream::UserNotification.required_scope()));
        let read = Scopes::parse("read").expect("scopes");
        assert!(read.allows(Stream::UserNotification.required_scope()));
    }
}
