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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Semaphore;
use url::Url;

use crate::db::queue::Queue;
use crate::db::{self, deliveries::Delivery};
use crate::federation::signatures;
use crate::jobs::pool::Worker;
use crate::state::AppState;

/// How long deliveries are retried.
pub const GIVE_UP_AFTER: Duration = Duration::hours(48);
/// Delay before the first retry; doubles with every failure.
const FIRST_RETRY: Duration = Duration::seconds(30);
/// The longest wait between two attempts.
const MAX_RETRY_DELAY: Duration = Duration::hours(6);
/// Failure days that make a host unavailable.
pub const UNAVAILABLE_AFTER_DAYS: i64 = 7;

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(u16),
    Failed(Option<u16>, String),
    Retry {
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// Classifies a peer's answer as Mastodon does.
pub fn classify(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered(status),
        401 | 408 | 429 => Outcome::Retry {
            status: Some(status),
            reason: format!("HTTP {status}"),
            retry_after,
        },
        501 => Outcome::Failed(Some(status), "HTTP 501".into()),
        400..=499 => Outcome::Failed(Some(status), format!("HTTP {status}")),
        500..=599 => Outcome::Retry {
            status: Some(status),
            reason: format!("HTTP {status}"),
            retry_after,
        },
        // 1xx and 3xx: the peer answered, but not with a result.
        _ => Outcome::Retry {
            status: Some(status),
            reason: format!("HTTP {status}"),
            retry_after,
        },
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(Duration::seconds(seconds.clamp(0, 86_400)));
    }
    let at = DateTime::<Utc>::from(httpdate::parse_http_date(value).ok()?);
    Some((at - now).clamp(Duration::zero(), Duration::days(1)))
}

/// When to try again after `attempts` attempts, or None to give up.
pub fn next_attempt(
    attempts: i32,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
    retry_after: Option<Duration>,
) -> Option<DateTime<Utc>> {
    let exponent = attempts.clamp(1, 20) - 1;
    let mut delay = FIRST_RETRY
        .checked_mul(1 << exponent)
        .unwrap_or(MAX_RETRY_DELAY)
        .min(MAX_RETRY_DELAY);
    // ±20% so that retries to a host that came back do not arrive at once.
    let jitter = rand::thread_rng().gen_range(0.8..1.2);
    delay = Duration::milliseconds((delay.num_milliseconds() as f64 * jitter) as i64);
    if let Some(after) = retry_after {
        delay = delay.max(after);
    }
    let at = now + delay;
    (at <= created_at + GIVE_UP_AFTER).then_some(at)
}

/// Limits concurrent deliveries per host within this process.
#[derive(Default)]
struct HostLimiter {
    per_host: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl HostLimiter {
    fn semaphore(&self, host: &str) -> Arc<Semaphore> {
        let mut hosts = self.hosts.lock().unwrap_or_else(|e| e.into_inner());
        if hosts.len() > 10_000 {
            hosts.retain(|_, s| Arc::strong_count(s) > 1);
        }
        hosts
            .entry(host.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_host)))
            .clone()
    }
}

/// Puts one sender's deliveries to one inbox in a line: claims come oldest
/// first and each takes its place in the line (a fair lock) before its
/// first wait, so they are sent in the order they were queued.
#[derive(Default)]
struct InOrder {
    lines: Mutex<HashMap<(i64, String), Line>>,
}

/// One sender's place in front of one inbox.
type Line = Arc<tokio::sync::Mutex<()>>;

impl InOrder {
    fn line(&self, sender_id: i64, inbox: &str) -> Line {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() > 10_000 {
            lines.retain(|_, line| Arc::strong_count(line) > 1);
        }
        lines
            .entry((sender_id, inbox.to_string()))
            .or_default()
            .clone()
    }
}

/// The delivery engine of one process.
pub struct Deliverer {
    state: AppState,
    worker_id: i32,
    limiter: HostLimiter,
    in_order: InOrder,
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
            in_order: InOrder::default(),
        })
    }

    async fn attempt(&self, delivery: &Delivery) -> anyhow::Result<Outcome> {
        if db::deliveries::is_unavailable(&self.state.db, &delivery.host).await? {
            return Ok(Outcome::Failed(None, "the domain is unavailable".into()));
        }
        if crate::service::domain_policy::refuses(&self.state, &delivery.host).await? {
            return Ok(Outcome::Failed(None, "the domain is blocked".into()));
        }
        let sender = db::actors::find_by_id(&self.state.db, delivery.sender_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the sender no longer exists"))?;
        let key = self.state.keys.signing_key(&sender)?;
        let url = Url::parse(&delivery.inbox_url)?;
        let body = Bytes::from(delivery.payload.clone());
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
        for (name, value) in signatures::sign_request("POST", &url, Some(&body), &key, now) {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(&value)?,
            );
        }
        Ok(match self.state.http.post(&url, headers, body).await {
            Ok(response) => {
                let retry_after = response
                    .headers
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, now));
                classify(response.status.as_u16(), retry_after)
            }
            Err(e) if e.is_transient() => Outcome::Retry {
                status: None,
                reason: e.to_string(),
                retry_after: None,
            },
            Err(e) => Outcome::Failed(None, e.to_string()),
        })
    }

    async fn record(&self, delivery: &Delivery, outcome: Outcome) -> anyhow::Result<()> {
        let now = self.state.clock.now();
        let db = &self.state.db;
        match outcome {
            Outcome::Delivered(status) => {
                let mut tx = db.begin().await?;
                db::queue::mark_delivered(
                    &mut *tx,
                    Queue::Deliveries,
                    delivery.id,
                    status.into(),
                    now,
                )
                .await?;
                crate::service::hosts_heard::heard_from(&mut tx, &self.state, &delivery.host)
                    .await?;
                tx.commit().await?;
            }
            Outcome::Failed(status, reason) => {
                tracing::info!(inbox = %delivery.inbox_url, %reason, "delivery failed for good");
                db::queue::mark_failed(
                    db,
                    Queue::Deliveries,
                    delivery.id,
                    status.map(i32::from),
                    &reason,
                    now,
                )
                .await?;
            }
            Outcome::Retry {
                status,
                reason,
                retry_after,
            } => {
                let mut tx = db.begin().await?;
                // A peer that answers, even with an error, is not dead.
                if status.is_none_or(|s| s >= 500) {
                    self.state.hosts_heard.failed(&delivery.host);
                    let days = db::deliveries::record_failure_day(
                        &mut tx,
                        &delivery.host,
                        now.date_naive(),
                    )
                    .await?;
                    if days >= UNAVAILABLE_AFTER_DAYS {
                        tracing::warn!(host = %delivery.host, days, "marking the domain unavailable");
                        db::deliveries::mark_unavailable(&mut *tx, &delivery.host, now).await?;
                    }
                }
                let status = status.map(i32::from);
                match next_attempt(delivery.attempts, delivery.created_at, now, retry_after) {
                    Some(at) => {
                        db::queue::reschedule(
                            &mut *tx,
                            Queue::Deliveries,
                            delivery.id,
                            status,
                            &reason,
                            at,
                        )
                        .await?
                    }
                    None => {
                        let reason =
                            format!("gave up after {} attempts: {reason}", delivery.attempts);
                        db::queue::mark_failed(
                            &mut *tx,
                            Queue::Deliveries,
                            delivery.id,
                            status,
                            &reason,
                            now,
                        )
                        .await?
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(())
    }
}

impl Worker for Deliverer {
    const WHAT: &'static str = "deliveries";
    const QUEUE: Queue = Queue::Deliveries;
    type Row = Delivery;

    fn state(&self) -> &AppState {
        &self.state
    }

    fn worker_id(&self) -> i32 {
        self.worker_id
    }

    async fn process(&self, delivery: Delivery) {
        let _turn = self
            .in_order
            .line(delivery.sender_id, &delivery.inbox_url)
            .lock_owned()
            .await;
        let permit = self.limiter.semaphore(&delivery.host);
        let _permit = permit.acquire_owned().await;
        let outcome = match self.attempt(&delivery).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(None, format!("cannot be sent: {e:#}")),
        };
        if let Err(e) = self.record(&delivery, outcome).await {
            tracing::error!(delivery = delivery.id, error = %e, "recording a delivery outcome failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn retries_back_off_exponentially_and_stop_after_two_days() {
        let created = Utc::now();
        let first = next_attempt(1, created, created, None).expect("retry") - created;
        assert!(
            first >= Duration::seconds(24) && first <= Duration::seconds(36),
            "{first}"
        );
        let fifth = next_attempt(5, created, created, None).expect("retry") - created;
        assert!(
            fifth >= Duration::seconds(384) && fifth <= Duration::seconds(576),
            "{fifth}"
        );
        let late = next_attempt(30, created, created, None).expect("retry") - created;
        assert!(late <= Duration::hours(6) + Duration::hours(2));
        assert_eq!(
            next_attempt(
                3,
                created,
                created + Duration::hours(47) + Duration::minutes(59),
                None
            ),
            None
        );
        let honoured = next_attempt(1, created, created, Some(Duration::hours(1))).expect("retry");
        assert_eq!(honoured - created, Duration::hours(1));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now = Utc::now();
        assert_eq!(parse_retry_after("120", now), Some(Duration::seconds(120)));
        let later = signatures::http_date(now + Duration::minutes(10));
        let parsed = parse_retry_after(&later, now).expect("date");
        assert!(parsed > Duration::minutes(9) && parsed <= Duration::minutes(10));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
