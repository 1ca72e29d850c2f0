//! Delivering queued activities: claim due rows, sign at send time, POST,
//! and record the outcome the way Mastodon judges it.
//!
//! - 2xx: delivered.
//! - 501 and every other 4xx except 401, 408 and 429: failed for good, with
//!   the reason kept.
//! - 401 (the peer may hold a stale copy of our key), 408, 429, other 5xx
//!   and network errors: tried again with exponential backoff and jitter,
//!   honouring `Retry-After`, for two days.
//! - A host whose deliveries failed on 7 distinct days is unavailable: its
//!   deliveries are dropped until it is heard from again.
//!
//! One sender's deliveries to one inbox go out one after the other, in the
//! order they were queued (within a process, and while none is retried):
//! an Undo(Follow) then a Block arrive in that order.
//!
//! Signatures (`federation.signatures`): with "double-knock" (the default)
//! a delivery is signed with RFC 9421 unless its host is remembered to take
//! only draft-cavage; a 400 or 401 to RFC 9421 is followed at once by the
//! same delivery signed with cavage. A 2xx teaches the host's mode, kept in
//! `host_signature_modes` for every process; a cavage mode is retried with
//! RFC 9421 after [`REKNOCK_AFTER_DAYS`].
//!
//! Deliveries run in `jobs::pool`'s pipeline: for each claimed handful the
//! stored activities' bodies, the senders' keys and the unavailable hosts
//! are looked up once; outcomes are recorded in batches, with the hosts'
//! failure days and recoveries. Delivery rows come from `service::outbox`,
//! whose fan-out jobs this engine also expands (`Worker::prepare`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::Duration;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::OutboundSignatures;
use crate::db::queue::{Queue, Settled};
use crate::db::{self, deliveries::Delivery};
use crate::domain::signature_mode::SignatureMode;
use crate::federation::rfc9421;
use crate::federation::signatures::{self, SigningKey};
use crate::jobs::outcome::{self, Attempted, Outcome};
use crate::jobs::pool::{LineKey, Lines, Worker};
use crate::net::{self, Fetched, NetError, Reuse};
use crate::service::follower_sync;
use crate::state::AppState;

/// Failure days that make a host unavailable.
pub const UNAVAILABLE_AFTER_DAYS: i64 = 7;
/// How long a host remembered to take only cavage signatures is not asked
/// to take RFC 9421 ones.
pub const REKNOCK_AFTER_DAYS: i64 = 30;

/// Whether an answer to an RFC 9421 signed delivery asks for the other
/// scheme: what Mastodon and Fedify fall back on.
fn refuses_signature(status: u16) -> bool {
    status == 400 || status == 401
}

/// Classifies a peer's answer as Mastodon does.
pub fn classify(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered(status),
        401 | 408 | 429 => Outcome::retry(status, retry_after),
        501 => Outcome::failed(status),
        400..=499 => Outcome::failed(status),
        500..=599 => Outcome::retry(status, retry_after),
        // 1xx and 3xx: the peer answered, but not with a result.
        _ => Outcome::retry(status, retry_after),
    }
}

/// Limits concurrent deliveries per host within this process, and tells
/// whether a delivery's connection is worth keeping for the next one.
#[derive(Default)]
struct HostLimiter {
    per_host: usize,
    hosts: Mutex<HashMap<String, Host>>,
}

struct Host {
    slots: Arc<Semaphore>,
    /// When the last delivery to the host started.
    last_sent: chrono::DateTime<chrono::Utc>,
}

impl HostLimiter {
    /// The host's slots, and whether the connection of a delivery to it
    /// starting `now` is kept, idle, afterwards: only when another delivery
    /// to the host is under way or waiting here, or one started within
    /// [`net::POOL_IDLE`] (the host is sent to often enough for the
    /// connection to be used again before it expires). The thousands of
    /// servers a fan-out reaches once each are not left holding idle
    /// connections.
    fn enter(&self, host: &str, now: chrono::DateTime<chrono::Utc>) -> (Arc<Semaphore>, Reuse) {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if hosts.len() > 10_000 {
            hosts.retain(|_, h| Arc::strong_count(&h.slots) > 1 || now - h.last_sent < IDLE);
        }
        let reuse;
        let slots = match hosts.get_mut(host) {
            Some(known) => {
                let busy = Arc::strong_count(&known.slots) > 1;
                reuse = if busy || now - known.last_sent < IDLE {
                    Reuse::Keep
                } else {
                    Reuse::Close
                };
                known.last_sent = now;
                known.slots.clone()
            }
            None => {
                reuse = Reuse::Close;
                let slots = Arc::new(Semaphore::new(self.per_host));
                hosts.insert(
                    host.to_string(),
                    Host {
                        slots: slots.clone(),
                        last_sent: now,
                    },
                );
                slots
            }
        };
        (slots, reuse)
    }
}

/// How long an idle connection is kept ([`net::POOL_IDLE`]), on the
/// clock's scale.
const IDLE: Duration = Duration::seconds(net::POOL_IDLE.as_secs() as i64);

/// One delivery's request, before it is signed.
struct Outgoing<'a> {
    url: &'a Url,
    key: &'a SigningKey,
    body: &'a Bytes,
    now: chrono::DateTime<chrono::Utc>,
    reuse: Reuse,
}

/// What a claimed handful of deliveries needs, looked up once for all.
pub struct Loaded {
    /// Each stored activity's body, shared by its deliveries.
    payloads: HashMap<i64, Bytes>,
    /// Each sender's signing key, or why it has none.
    keys: HashMap<i64, Result<Arc<SigningKey>, String>>,
    /// Hosts among the deliveries' that are unavailable.
    unavailable: HashSet<String>,
    /// FEP-8fcf: the Collection-Synchronization header of each sender's
    /// deliveries to its followers, by the inboxes' `scheme://host/`.
    synchronization: HashMap<(i64, String), String>,
    /// The signature modes remembered for the deliveries' hosts.
    signature_modes: HashMap<String, SignatureMode>,
}

/// The delivery engine of one process.
pub struct Deliverer {
    state: AppState,
    worker_id: i32,
    limiter: HostLimiter,
    lines: Lines,
    /// Signature modes learnt by deliveries since the last `record`, which
    /// writes them with the outcomes (one statement for all).
    learnt: Mutex<HashMap<String, SignatureMode>>,
}

impl Deliverer {
    /// `worker_id` must be locked by this process (see `jobs::WorkerLock`).
    pub fn new(state: AppState, worker_id: i32) -> Arc<Deliverer> {
        let per_host = state.config.delivery.per_host;
        Arc::new(Deliverer {
            state,
            worker_id,
            limiter: HostLimiter {
                per_host,
                hosts: Mutex::new(HashMap::new()),
            },
            lines: Lines::default(),
            learnt: Mutex::new(HashMap::new()),
        })
    }

    /// The Collection-Synchronization headers of the deliveries among
    /// `rows` whose activity is addressed to their sender's followers, in
    /// one query (FEP-8fcf; `service::follower_sync`).
    async fn synchronization(
        &self,
        rows: &[Delivery],
        senders: &[db::actors::Actor],
        payloads: &HashMap<i64, Bytes>,
    ) -> anyhow::Result<HashMap<(i64, String), String>> {
        let mut wanted: Vec<(i64, String)> = Vec::new();
        for delivery in rows {
            let Some(sender) = senders.iter().find(|a| a.id == delivery.sender_id) else {
                continue;
            };
            let (Some(followers), Some(payload)) = (
                sender.followers_url.as_deref(),
                payloads.get(&delivery.outbound_id),
            ) else {
                continue;
            };
            if !sender.is_local() || !contains(payload, followers.as_bytes()) {
                continue;
            }
            if let Some(prefix) = Url::parse(&delivery.inbox_url)
                .ok()
                .as_ref()
                .and_then(follower_sync::prefix_of)
            {
                wanted.push((sender.id, prefix));
            }
        }
        if wanted.is_empty() {
            return Ok(HashMap::new());
        }
        wanted.sort_unstable();
        wanted.dedup();
        let mut ids: Vec<i64> = wanted.iter().map(|(id, _)| *id).collect();
        ids.dedup();
        let mut prefixes: Vec<String> = wanted.iter().map(|(_, p)| p.clone()).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        let digests: HashMap<(i64, String), String> =
            db::follower_sync::digests(&self.state.db, &ids, &prefixes)
                .await?
                .into_iter()
                .map(|(id, prefix, bits)| ((id, prefix), bits))
                .collect();
        Ok(wanted
            .into_iter()
            .filter_map(|(id, prefix)| {
                let sender = senders.iter().find(|a| a.id == id)?;
                let followers = sender.followers_url.as_deref()?;
                let url = self.state.urls.followers_synchronization(&sender.username);
                let digest = follower_sync::digest_from_bits(
                    digests.get(&(id, prefix.clone())).map(String::as_str),
                );
                Some((
                    (id, prefix),
                    follower_sync::header_value(followers, &url, &digest),
                ))
            })
            .collect())
    }

    async fn send(&self, delivery: &Delivery, loaded: &Loaded) -> anyhow::Result<Outcome> {
        if loaded.unavailable.contains(&delivery.host) {
            return Ok(Outcome::Failed(None, "the domain is unavailable".into()));
        }
        if self.state.domain_policy.get().refuses(&delivery.host) {
            return Ok(Outcome::Failed(None, "the domain is blocked".into()));
        }
        let key = match loaded.keys.get(&delivery.sender_id) {
            Some(Ok(key)) => key,
            Some(Err(reason)) => return Ok(Outcome::Failed(None, reason.clone())),
            None => return Ok(Outcome::Failed(None, "the sender no longer exists".into())),
        };
        let Some(body) = loaded.payloads.get(&delivery.outbound_id) else {
            return Ok(Outcome::Failed(None, "the activity is gone".into()));
        };
        let url = Url::parse(&delivery.inbox_url)?;
        let (slots, reuse) = self.limiter.enter(&delivery.host, self.state.clock.now());
        let _permit = slots.acquire_owned().await;
        let now = self.state.clock.now();
        let mut headers = HeaderMap::new();
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/activity+json"),
        );
        headers.insert(
            reqwest::header::ACCEPT,
            HeaderValue::from_static("application/activity+json"),
        );
        if let Some(prefix) = follower_sync::prefix_of(&url)
            && let Some(value) = loaded.synchronization.get(&(delivery.sender_id, prefix))
        {
            headers.insert(
                HeaderName::from_static(follower_sync::HEADER),
                HeaderValue::from_str(value)?,
            );
        }
        let remembered = loaded.signature_modes.get(&delivery.host).copied();
        let knock = self.state.config.federation.signatures == OutboundSignatures::DoubleKnock
            && remembered != Some(SignatureMode::Cavage);
        let out = Outgoing {
            url: &url,
            key,
            body,
            now,
            reuse,
        };
        let send = |mode| self.post(&out, headers.clone(), mode);
        let answer = if knock {
            let answer = send(SignatureMode::Rfc9421).await?;
            match &answer {
                Ok(a) if refuses_signature(a.status.as_u16()) => {
                    let retried = send(SignatureMode::Cavage).await?;
                    if matches!(&retried, Ok(a) if a.status.is_success()) {
                        self.learn(&delivery.host, SignatureMode::Cavage);
                    }
                    retried
                }
                Ok(a) if a.status.is_success() && remembered != Some(SignatureMode::Rfc9421) => {
                    self.learn(&delivery.host, SignatureMode::Rfc9421);
                    answer
                }
                _ => answer,
            }
        } else {
            send(SignatureMode::Cavage).await?
        };
        // Other servers' clocks, for the self-check of ours.
        if let Ok(answer) = &answer
            && let Some(date) = answer
                .headers
                .get(reqwest::header::DATE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| httpdate::parse_http_date(v).ok())
        {
            self.state
                .self_checks
                .saw_remote_date(date.into(), self.state.clock.now());
        }
        Ok(Outcome::of_response(answer, now, classify))
    }

    /// POSTs `out`'s body with `headers`, signed in `mode`.
    async fn post(
        &self,
        out: &Outgoing<'_>,
        mut headers: HeaderMap,
        mode: SignatureMode,
    ) -> anyhow::Result<Result<Fetched, NetError>> {
        let (url, key, body) = (out.url, out.key, out.body);
        let signed = match mode {
            SignatureMode::Rfc9421 => {
                rfc9421::sign_request("POST", url, Some(&body[..]), key, out.now)
            }
            SignatureMode::Cavage => {
                signatures::sign_request("POST", url, Some(&body[..]), key, out.now)
            }
        };
        for (name, value) in signed {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(&value)?,
            );
        }
        Ok(self
            .state
            .http
            .post(url, headers, body.clone(), out.reuse)
            .await)
    }

    /// Notes a host's signature mode, for the next `record` to remember
    /// (lost with the process, it only costs a knock later).
    fn learn(&self, host: &str, mode: SignatureMode) {
        self.learnt
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(host.to_string(), mode);
    }
}

/// Whether `haystack` contains `needle` (a followers URL in a payload).
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

impl Worker for Deliverer {
    const WHAT: &'static str = "deliveries";
    const QUEUE: Queue = Queue::Deliveries;
    type Row = Delivery;
    type Loaded = Loaded;

    fn state(&self) -> &AppState {
        &self.state
    }

    fn worker_id(&self) -> i32 {
        self.worker_id
    }

    /// Expands a batch of a fan-out job into delivery rows.
    async fn prepare(&self) -> anyhow::Result<bool> {
        Ok(crate::service::outbox::expand_next(&self.state).await?)
    }

    async fn load(&self, rows: &[Delivery]) -> anyhow::Result<Loaded> {
        let db = &self.state.db;
        let mut outbound: Vec<i64> = rows.iter().map(|d| d.outbound_id).collect();
        outbound.sort_unstable();
        outbound.dedup();
        let payloads = db::outbound::payloads(db, &outbound)
            .await?
            .into_iter()
            .map(|(id, payload)| (id, Bytes::from(payload)))
            .collect();
        let mut senders: Vec<i64> = rows.iter().map(|d| d.sender_id).collect();
        senders.sort_unstable();
        senders.dedup();
        let actors = db::actors::find_by_ids(db, &senders).await?;
        let synchronization = self.synchronization(rows, &actors, &payloads).await?;
        let keys = actors
            .into_iter()
            .map(|actor| {
                let key = self
                    .state
                    .keys
                    .signing_key(&actor)
                    .map_err(|e| format!("cannot be signed: {e}"));
                (actor.id, key)
            })
            .collect();
        let mut hosts: Vec<String> = rows.iter().map(|d| d.host.clone()).collect();
        hosts.sort_unstable();
        hosts.dedup();
        let unavailable = db::deliveries::unavailable_among(db, &hosts)
            .await?
            .into_iter()
            .collect();
        let cavage_since = self.state.clock.now() - Duration::days(REKNOCK_AFTER_DAYS);
        let signature_modes = db::host_signatures::modes_among(db, &hosts, cavage_since)
            .await?
            .into_iter()
            .collect();
        Ok(Loaded {
            payloads,
            keys,
            unavailable,
            synchronization,
            signature_modes,
        })
    }

    /// One sender's deliveries to one inbox.
    fn line(&self, delivery: &Delivery) -> Option<LineKey> {
        Some((delivery.sender_id, delivery.inbox_url.clone()))
    }

    fn lines(&self) -> &Lines {
        &self.lines
    }

    async fn attempt(&self, delivery: &Delivery, loaded: &Loaded) -> Outcome {
        match self.send(delivery, loaded).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(None, format!("cannot be sent: {e:#}")),
        }
    }

    async fn record(&self, done: Vec<(Delivery, Outcome)>) -> anyhow::Result<()> {
        let now = self.state.clock.now();
        let mut settled = Settled::default();
        let mut heard = Vec::new();
        let mut failing = Vec::new();
        for (delivery, outcome) in &done {
            crate::prometheus::delivery(outcome.label());
            match outcome {
                Outcome::Delivered(_) => heard.push(delivery.host.clone()),
                Outcome::Failed(_, reason) => {
                    tracing::info!(inbox = %delivery.inbox_url, %reason, "delivery failed for good")
                }
                // A peer that answers, even with an error, is not dead.
                Outcome::Retry { status, .. } if status.is_none_or(|s| s >= 500) => {
                    self.state.hosts_heard.failed(&delivery.host);
                    failing.push(delivery.host.clone());
                }
                _ => {}
            }
            let row = Attempted {
                id: delivery.id,
                attempts: delivery.attempts,
                created_at: delivery.created_at,
            };
            outcome::settle(&mut settled, row, outcome, now);
        }
        heard.sort_unstable();
        heard.dedup();
        failing.sort_unstable();
        failing.dedup();
        let learnt: Vec<(String, SignatureMode)> = self
            .learnt
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        let mut tx = self.state.db.begin().await?;
        db::queue::settle(&mut tx, Queue::Deliveries, &settled, now).await?;
        if !learnt.is_empty() {
            db::host_signatures::remember_all(&mut *tx, &learnt, now).await?;
        }
        crate::service::hosts_heard::heard_from_all(&mut tx, &self.state, &heard).await?;
        if !failing.is_empty() {
            let dead = db::deliveries::record_failure_days(
                &mut tx,
                &failing,
                now.date_naive(),
                UNAVAILABLE_AFTER_DAYS,
            )
            .await?;
            if !dead.is_empty() {
                tracing::warn!(hosts = ?dead, "marking domains unavailable");
                db::deliveries::mark_unavailable_all(&mut *tx, &dead, now).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_kept_only_for_a_host_sent_to_again_soon() {
        let limiter = HostLimiter {
            per_host: 2,
            hosts: Mutex::new(HashMap::new()),
        };
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-08T00:00:00Z")
            .expect("a time")
            .with_timezone(&chrono::Utc);
        // A host seen for the first time: its connection is closed after.
        let (first, reuse) = limiter.enter("a.example", t0);
        assert_eq!(reuse, Reuse::Close);
        // Another delivery to it while the first is under way: kept.
        let (_, reuse) = limiter.enter("a.example", t0 + IDLE * 2);
        assert_eq!(
            reuse,
            Reuse::Keep,
            "another delivery holds the host's slots"
        );
        drop(first);
        // Sent to again within the idle time: kept.
        let (_, reuse) = limiter.enter("a.example", t0 + IDLE * 2 + Duration::seconds(1));
        assert_eq!(reuse, Reuse::Keep);
        // Not again until the idle connection would have expired: closed.
        let (_, reuse) = limiter.enter("a.example", t0 + IDLE * 4);
        assert_eq!(reuse, Reuse::Close);
        // Hosts are judged each on its own.
        let (_, reuse) = limiter.enter("b.example", t0 + IDLE * 4);
        assert_eq!(reuse, Reuse::Close);
    }

    #[test]
    fn answers_are_classified_as_mastodon_does() {
        assert_eq!(classify(202, None), Outcome::Delivered(202));
        for permanent in [400, 403, 404, 410, 422, 501] {
            assert!(
                matches!(classify(permanent, None), Outcome::Failed(..)),
                "{permanent}"
            );
        }
        for transient in [401, 408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(classify(transient, None), Outcome::Retry { .. }),
                "{transient}"
            );
        }
    }
}
