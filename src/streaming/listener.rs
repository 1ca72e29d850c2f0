//! The process's one listener: it LISTENs on the change channel over a
//! connection of its own, reads what each announcement names once (only
//! while some streaming connection listens), and publishes the result on
//! the [`Hub`](super::Hub). An announced change of the domain policy
//! reloads the process's snapshot of it; announced deliveries or pushes
//! wake the process's idle workers.
//!
//! Announcements sent while the connection is down are lost (PostgreSQL
//! keeps none for absent listeners); streaming clients reconcile with the
//! REST timelines when they reconnect, as Mastodon's do, and the domain
//! policy is reloaded whole after the connection comes back.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgListener, PgPoolOptions};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::domain::events::{CHANNEL, Change};
use crate::domain::visibility::Visibility;
use crate::error::Result;
use crate::state::AppState;
use crate::streaming::Event;

/// Waits between attempts to get the connection back, doubling up to the
/// longest.
const FIRST_RETRY: Duration = Duration::from_millis(500);
const LONGEST_RETRY: Duration = Duration::from_secs(30);

/// Opens the listening connection (outside the pool, which it would
/// otherwise hold a slot of for ever) and starts listening, so that every
/// change committed once the application is built is heard.
pub async fn connect(pool: &PgPool) -> anyhow::Result<PgListener> {
    let options = pool.connect_options().as_ref().clone();
    let own = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with(options)
        .await?;
    let mut listener = PgListener::connect_with(&own).await?;
    listener.ignore_pool_close_event(true);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Publishes announcements until `shutdown`, then tells connections to
/// close. A lost connection is re-established (by `PgListener`, on the next
/// receive) with backoff.
pub async fn run(state: AppState, mut listener: PgListener, shutdown: CancellationToken) {
    let mut retry = FIRST_RETRY;
    // Policy changes announced while the connection was down are lost: the
    // policy is read again once it listens again.
    let mut policy_stale = false;
    // Policy changes are read again by a task of their own, so that a burst
    // of them (an import of a block list) costs one reload, not one each.
    let policy_changed = Arc::new(Notify::new());
    let reloader = tokio::spawn(reload_on_change(
        state.clone(),
        policy_changed.clone(),
        shutdown.clone(),
    ));
    let ips_changed = Arc::new(Notify::new());
    let ip_reloader = tokio::spawn(reload_ips_on_change(
        state.clone(),
        ips_changed.clone(),
        shutdown.clone(),
    ));
    loop {
        let received = tokio::select! {
            _ = shutdown.cancelled() => break,
            received = listener.recv() => received,
        };
        match received {
            Ok(notification) => {
                retry = FIRST_RETRY;
                if policy_stale {
                    policy_stale = false;
                    policy_changed.notify_one();
                    ips_changed.notify_one();
                }
                let change = match serde_json::from_str::<Change>(notification.payload()) {
                    Ok(change) => change,
                    Err(e) => {
                        tracing::warn!(error = %e, "unreadable change announcement");
                        continue;
                    }
                };
                match change {
                    Change::DomainPolicy => {
                        policy_changed.notify_one();
                        continue;
                    }
                    Change::IpBlocks => {
                        ips_changed.notify_one();
                        continue;
                    }
                    Change::Queued => {
                        state.delivery_wakeup.notify_waiters();
                        continue;
                    }
                    _ => {}
                }
                if !state.streams.has_subscribers() {
                    continue;
                }
                match read(&state, &change).await {
                    Ok(Some(event)) => state.streams.publish(event),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, ?change, "reading a change failed"),
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?retry, "the change listener lost its connection");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(retry) => {}
                }
                retry = (retry * 2).min(LONGEST_RETRY);
                policy_stale = true;
                // Reconnects (listening again) before the policy is read.
                if listener.listen(CHANNEL).await.is_ok() {
                    policy_stale = false;
                    policy_changed.notify_one();
                    ips_changed.notify_one();
                }
            }
        }
    }
    state.streams.stop();
    let _ = reloader.await;
    let _ = ip_reloader.await;
}

/// Reloads the refused address ranges each time the IP blocks change.
async fn reload_ips_on_change(state: AppState, changed: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = changed.notified() => {}
        }
        if let Err(e) = crate::service::ip_blocks::reload(&state).await {
            tracing::warn!(error = %e, "reloading the IP blocks failed");
        }
    }
}

/// Reloads the domain policy each time a change is announced; changes
/// announced during a reload cost one more reload, whatever their number.
async fn reload_on_change(state: AppState, changed: Arc<Notify>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = changed.notified() => {}
        }
        if let Err(e) = crate::service::domain_policy::reload(&state).await {
            tracing::warn!(error = %e, "reloading the domain policy failed");
        }
    }
}

/// What an announcement names, as streams need it; None when it is gone
/// already.
pub async fn read(state: &AppState, change: &Change) -> Result<Option<Event>> {
    let pool = &state.db;
    Ok(match change {
        Change::Posted { post } | Change::Edited { post } => {
            let Some(post) = db::posts::find_by_id(pool, *post)
                .await?
                .filter(|p| p.deleted_at.is_none())
            else {
                return Ok(None);
            };
            let Some(author) = db::actors::find_by_id(pool, post.author_id).await? else {
                return Ok(None);
            };
            let tags = db::posts::tags(pool, post.id).await?;
            let has_media = !db::media::attachments(pool, post.id).await?.is_empty();
            // Public original posts also enter the home timelines of the
            // accounts that follow one of their hashtags.
            let by_tags = post.visibility == Visibility::Public && post.reblog_of_id.is_none();
            let audience =
                audience(state, &author, if by_tags { tags.as_slice() } else { &[] }).await?;
            Some(Event::Status {
                edited: matches!(change, Change::Edited { .. }),
                local: author.is_local(),
                post: Box::new(post),
                tags,
                has_media,
                audience,
            })
        }
        Change::Deleted {
            post,
            author,
            visibility,
        } => {
            let Some(author) = db::actors::find_by_id(pool, *author).await? else {
                return Ok(None);
            };
            // A tombstone keeps its row (and hashtags); an undone repost
            // leaves nothing, and public streams never showed it.
            let tombstone = db::posts::find_by_id(pool, *post).await?;
            let original = tombstone.as_ref().is_some_and(|p| p.reblog_of_id.is_none());
            let tags = match tombstone {
                Some(_) => db::posts::tags(pool, *post).await?,
                None => Vec::new(),
            };
            let audience = audience(state, &author, &tags).await?;
            Some(Event::Delete {
                post_id: *post,
                public: original && *visibility == Visibility::Public,
                local: author.is_local(),
                tags,
                audience,
            })
        }
        Change::Notified { notification, .. } => db::notifications::find_by_id(pool, *notification)
            .await?
            .map(Event::Notification),
        Change::NotificationsMerged { recipient } => Some(Event::NotificationsMerged {
            recipient: *recipient,
        }),
        Change::Announced { announcement } => Some(Event::Announcement(*announcement)),
        Change::AnnouncementReacted { announcement, name } => Some(Event::AnnouncementReaction {
            announcement: *announcement,
            count: db::announcements::reaction_count(pool, *announcement, name).await?,
            name: name.clone(),
        }),
        Change::AnnouncementWithdrawn { announcement } => {
            Some(Event::AnnouncementDelete(*announcement))
        }
        Change::DomainPolicy | Change::IpBlocks | Change::Queued => None,
    })
}

/// The local accounts whose home timeline may show the author's posts:
/// its followers, and those that follow one of `tags` (each subscriber's
/// home timeline query decides).
async fn audience(
    state: &AppState,
    author: &db::actors::Actor,
    tags: &[String],
) -> Result<Vec<i64>> {
    let mut ids = db::follows::local_follower_ids(&state.db, author.id).await?;
    if !tags.is_empty() {
        ids.extend(db::tags::local_followers(&state.db, tags).await?);
    }
    if author.is_local() {
        ids.push(author.id);
    }
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}
