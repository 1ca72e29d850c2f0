//! Live updates for apps (Mastodon's streaming API,
//! <https://docs.joinmastodon.org/methods/streaming/>).
//!
//! Every change that a stream shows is announced with `pg_notify` inside the
//! transaction of the change (`db::events`), so PostgreSQL delivers it on
//! commit, to every Skein process sharing the database, and never for a
//! change that rolled back. Each process runs one [`listener`]: it reads
//! what an announcement names once and publishes an [`Event`] on the
//! process's [`Hub`], a broadcast channel. Each connection ([`subscriber`])
//! keeps the events its viewer may see on the streams it follows, and
//! presents them for that viewer.

pub mod listener;
pub mod subscriber;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::db::{notifications::Notification, posts::Post};

/// How often connections are pinged (WebSocket) or sent a comment (SSE), so
/// that proxies keep them open and dead peers are noticed.
pub const HEARTBEAT: Duration = Duration::from_secs(30);

/// How many events a connection may fall behind by; a client slower than
/// that is disconnected rather than buffered for without bound.
pub const QUEUE: usize = 1024;

/// A change, read once per process, that connections filter and present.
#[derive(Debug, Clone)]
pub enum Event {
    /// A post entered timelines (`update`), or changed (`status.update`).
    Status {
        post: Box<Post>,
        edited: bool,
        /// Whether its author is a local account.
        local: bool,
        tags: Vec<String>,
        has_media: bool,
        /// Local accounts whose home timeline may show it (its author's
        /// local followers and its local author), sorted.
        audience: Vec<i64>,
    },
    /// A post was deleted or a repost undone.
    Delete {
        post_id: i64,
        /// Whether it was a public original post (shown by public streams).
        public: bool,
        local: bool,
        tags: Vec<String>,
        audience: Vec<i64>,
    },
    Notification(Notification),
    /// The recipient accepted notification requests: its filtered
    /// notifications were merged into its list (`notifications_merged`).
    NotificationsMerged {
        recipient: i64,
    },
    /// An announcement was published or edited (`announcement`), reacted
    /// to (`announcement.reaction`: the name's count), or withdrawn
    /// (`announcement.delete`); shown on every local account's `user`
    /// stream.
    Announcement(i64),
    AnnouncementReaction {
        announcement: i64,
        name: String,
        count: i64,
    },
    AnnouncementDelete(i64),
}

/// The process's fan-out: the listener publishes, connections subscribe.
#[derive(Debug)]
pub struct Hub {
    events: broadcast::Sender<Arc<Event>>,
    stopping: CancellationToken,
}

impl Default for Hub {
    fn default() -> Self {
        Hub::new()
    }
}

impl Hub {
    pub fn new() -> Hub {
        let (events, _) = broadcast::channel(QUEUE);
        Hub {
            events,
            stopping: CancellationToken::new(),
        }
    }

    /// A connection's queue of events, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// Whether any connection listens: with none, changes need not be read.
    pub fn has_subscribers(&self) -> bool {
        self.events.receiver_count() > 0
    }

    pub fn publish(&self, event: Event) {
        // No receivers is not an error: nobody is connected.
        let _ = self.events.send(Arc::new(event));
    }

    /// Cancelled when the process stops: connections close cleanly.
    pub fn stopping(&self) -> &CancellationToken {
        &self.stopping
    }

    pub fn stop(&self) {
        self.stopping.cancel();
    }
}
