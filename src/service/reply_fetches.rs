//! Fetching a remote thread's replies in the background (Mastodon 4.4's
//! async refresh of `GET /api/v1/statuses/:id/context`).
//!
//! When someone signed in opens the thread of a remote public or unlisted
//! post whose replies were not fetched in the last
//! [`COOLDOWN`], a fetch is queued (`reply_fetches`, one under way per
//! post) and the context answers with the `Mastodon-Async-Refresh` header
//! naming it. Workers of any process claim due fetches (`for update skip
//! locked`, with a lease: a crashed process's fetch runs again, at most
//! [`MAX_ATTEMPTS`] times) and walk the post's `replies` collection and
//! those of the replies found, breadth first, through `federation::fetch`
//! (so `net`'s rules and the domain policy hold on every request): only
//! collections on their post's own server are read, at most
//! [`MAX_PAGES`] documents of collections, [`MAX_POSTS`] posts and
//! [`MAX_TIME`] per fetch. Each reply is fetched from its origin, taken
//! only if it answers a post of the thread, and stored like every fetched
//! post (reply controls included); the count of
//! replies stored is the refresh's `result_count`.
//! `GET /api/v1/async_refreshes/:id` reports a fetch while it runs and for
//! [`FINISHED_SHOWN`] after it ends.

use std::collections::{HashSet, VecDeque};

use chrono::{DateTime, Duration, Utc};
use url::Url;

use crate::db::{self, reply_fetches::ReplyFetch};
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::federation::fetch;
use crate::federation::inbound::RemotePost;
use crate::federation::inbound::collection::{Page, replies_of};
use crate::service::discovery::authority;
use crate::service::types::{Actor, Post};
use crate::state::AppState;

/// A post's replies are fetched again only after this long (Mastodon's
/// `FETCH_REPLIES_COOLDOWN_MINUTES`).
pub const COOLDOWN: Duration = Duration::minutes(15);
/// Documents of replies collections (collections and pages) read per fetch.
pub const MAX_PAGES: usize = 25;
/// Posts fetched per fetch.
pub const MAX_POSTS: usize = 200;
/// The longest one fetch runs before it stops where it is.
pub const MAX_TIME: Duration = Duration::minutes(2);
/// A claim's lease: past it, another worker takes the fetch over.
const LEASE: Duration = Duration::minutes(5);
/// Claims after which a fetch that never finished is given up.
pub const MAX_ATTEMPTS: i32 = 3;
/// How long a finished fetch is still reported (Mastodon: an hour).
pub const FINISHED_SHOWN: Duration = Duration::hours(1);
/// How long a running fetch is reported (Mastodon: a day).
pub const RUNNING_SHOWN: Duration = Duration::days(1);
/// Fetches claimed at once by one worker round.
const BATCH: i64 = 4;
/// How many seconds the header tells apps to wait before asking again.
pub const RETRY_SECONDS: u32 = 3;

/// A refresh as apps see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refresh {
    pub id: i64,
    pub running: bool,
    pub result_count: i64,
}

impl From<&ReplyFetch> for Refresh {
    fn from(f: &ReplyFetch) -> Refresh {
        Refresh {
            id: f.id,
            running: f.running(),
            result_count: i64::from(f.result_count),
        }
    }
}

impl Refresh {
    /// The `Mastodon-Async-Refresh` header's value.
    pub fn header(&self) -> String {
        format!(
            "id=\"{}\", retry={RETRY_SECONDS}, result_count={}",
            self.id, self.result_count
        )
    }
}

/// Called when `viewer` opens `post`'s thread: the fetch of its replies
/// under way, or one queued now when they were not fetched lately; None
/// when there is nothing to fetch (a local post, a private one, no viewer,
/// fetched within the cooldown).
pub async fn refresh_for(
    state: &AppState,
    viewer: Option<&Actor>,
    post: &Post,
) -> Result<Option<Refresh>> {
    if viewer.is_none()
        || post.deleted_at.is_some()
        || post.reblog_of_id.is_some()
        || !matches!(post.visibility, Visibility::Public | Visibility::Unlisted)
    {
        return Ok(None);
    }
    let Some(author) = db::actors::find_by_id(&state.db, post.author_id).await? else {
        return Ok(None);
    };
    if author.is_local() {
        return Ok(None);
    }
    let now = state.clock.now();
    if let Some(latest) = db::reply_fetches::latest(&state.db, post.id).await? {
        if latest.running() {
            return Ok(Some(Refresh::from(&latest)));
        }
        if latest.created_at > now - COOLDOWN {
            return Ok(None);
        }
    }
    let queued = db::reply_fetches::queue(&state.db, post.id, now).await?;
    Ok(Some(Refresh::from(&queued)))
}

/// A refresh by id, while it is reported (`GET /api/v1/async_refreshes/:id`).
pub async fn find(state: &AppState, id: i64) -> Result<Refresh> {
    let now = state.clock.now();
    let found = db::reply_fetches::find(&state.db, id)
        .await?
        .filter(|f| {
            if f.running() {
                f.created_at > now - RUNNING_SHOWN
            } else {
                f.finished_at.is_some_and(|at| at > now - FINISHED_SHOWN)
            }
        })
        .ok_or(Error::NotFound)?;
    Ok(Refresh::from(&found))
}

/// Runs the fetches that are due; how many were run.
pub async fn run_due(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let claimed = db::reply_fetches::claim_due(&state.db, now, now + LEASE, BATCH).await?;
    for job in &claimed {
        if job.attempts > MAX_ATTEMPTS {
            tracing::info!(fetch = job.id, "a fetch of replies was given up");
        } else if let Err(e) = run(state, job).await {
            tracing::warn!(fetch = job.id, error = %e, "fetching a thread's replies failed");
        }
        db::reply_fetches::finish(&state.db, job.id, state.clock.now()).await?;
    }
    db::reply_fetches::prune(&state.db, now - Duration::days(1)).await?;
    Ok(claimed.len())
}

/// One collection to read: its URL and the host it must stay on.
struct Pending {
    url: Url,
    host: String,
}

/// The collection a fetched post names, if it lives on the post's server.
fn collection_of(post_id: &str, document: &serde_json::Value) -> Option<Pending> {
    let post_url = Url::parse(post_id).ok()?;
    let url = Url::parse(&replies_of(document)?).ok()?;
    let host = authority(&post_url);
    (authority(&url) == host && url.scheme() == post_url.scheme()).then_some(Pending { url, host })
}

async fn run(state: &AppState, job: &ReplyFetch) -> Result<()> {
    let Some(root) = db::posts::find_by_id(&state.db, job.post_id).await? else {
        return Ok(());
    };
    let deadline: DateTime<Utc> = state.clock.now() + MAX_TIME;
    let started = std::time::Instant::now();
    let out_of_time = || {
        started.elapsed() > MAX_TIME.to_std().unwrap_or_default() || state.clock.now() > deadline
    };
    // The post itself, fresh: its replies collection.
    let Ok(root_url) = Url::parse(&root.ap_id) else {
        return Ok(());
    };
    let document = match fetch::fetch_object(state, &root_url).await {
        Ok(document) => document,
        Err(e) => {
            tracing::info!(post = %root.ap_id, error = %e, "a thread's post cannot be fetched");
            return Ok(());
        }
    };
    let mut queue: VecDeque<Pending> = collection_of(&root.ap_id, &document).into_iter().collect();
    let mut seen_pages: HashSet<String> = HashSet::new();
    let mut seen_posts: HashSet<String> = HashSet::from([root.ap_id.clone()]);
    // The posts of the thread: a collection's item is taken only when it
    // answers one of them (a server cannot slip in unrelated posts).
    let mut thread: HashSet<String> = HashSet::from([root.ap_id.clone()]);
    let mut pages = 0;
    let mut posts = 0;
    while let Some(pending) = queue.pop_front() {
        if pages >= MAX_PAGES || posts >= MAX_POSTS || out_of_time() {
            break;
        }
        if !seen_pages.insert(pending.url.to_string()) {
            continue;
        }
        pages += 1;
        let collection = match fetch::fetch_document(state, &pending.url).await {
            Ok(collection) => collection,
            Err(e) => {
                tracing::info!(collection = %pending.url, error = %e, "a replies collection cannot be read");
                continue;
            }
        };
        let page = Page::parse(&collection);
        for item in page.items {
            if posts >= MAX_POSTS || out_of_time() {
                break;
            }
            if !seen_posts.insert(item.clone()) {
                continue;
            }
            let Ok(url) = Url::parse(&item) else { continue };
            posts += 1;
            let document = match fetch::fetch_object(state, &url).await {
                Ok(document) => document,
                Err(e) => {
                    tracing::info!(post = %url, error = %e, "a reply cannot be fetched");
                    continue;
                }
            };
            let Ok(reply) = RemotePost::parse(&document) else {
                continue;
            };
            if !reply
                .in_reply_to
                .as_ref()
                .is_some_and(|parent| thread.contains(parent))
            {
                continue;
            }
            thread.insert(reply.id.clone());
            if crate::service::inbox::store_post(state, &reply).await? {
                db::reply_fetches::add_result(&state.db, job.id).await?;
            }
            queue.extend(collection_of(&reply.id, &document));
        }
        if let Some(next) = page.next
            && let Ok(url) = Url::parse(&next)
            && authority(&url) == pending.host
        {
            queue.push_back(Pending {
                url,
                host: pending.host,
            });
        }
    }
    Ok(())
}
