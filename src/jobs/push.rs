//! Sending Web Push: claim due pushes, encrypt each for its subscription,
//! sign a VAPID token at send time, POST to the push service through `net`,
//! and record the outcome.
//!
//! - 2xx: delivered.
//! - 404 and 410 (RFC 8030 §7.3: the subscription expired): the
//!   subscription is deleted, with its queued pushes.
//! - 408, 429, 5xx and network errors: tried again with the deliveries'
//!   backoff, for as long as a push lives (`TTL`, two days).
//! - Other 4xx: this push failed for good.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Duration;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use crate::db::queue::Queue;
use crate::db::{self, push::PushDelivery};
use crate::jobs::delivery::{next_attempt, parse_retry_after};
use crate::jobs::pool::Worker;
use crate::service::push as rules;
use crate::state::AppState;
use crate::webpush::{self, Coding};

/// How long a push service keeps a push for an offline device (Mastodon's).
const TTL: i64 = 48 * 3600;
/// How long a VAPID token is valid (RFC 8292 §2: at most 24 hours).
const TOKEN_LIFETIME: Duration = Duration::hours(12);

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(u16),
    /// The endpoint is gone: drop the subscription.
    Gone(u16),
    Failed(Option<u16>, String),
    Retry {
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },
}

pub fn classify(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered(status),
        404 | 410 => Outcome::Gone(status),
        408 | 429 | 500..=599 => Outcome::Retry {
            status: Some(status),
            reason: format!("HTTP {status}"),
            retry_after,
        },
        _ => Outcome::Failed(Some(status), format!("HTTP {status}")),
    }
}

/// The push sender of one process.
pub struct Pusher {
    state: AppState,
    worker_id: i32,
}

impl Pusher {
    /// `worker_id` must be locked by this process (see `jobs::WorkerLock`).
    pub fn new(state: AppState, worker_id: i32) -> Arc<Pusher> {
        Arc::new(Pusher { state, worker_id })
    }

    async fn attempt(&self, push: &PushDelivery) -> anyhow::Result<Outcome> {
        let state = &self.state;
        let Some(subscription) = db::push::find(&state.db, push.subscription_id).await? else {
            return Ok(Outcome::Failed(None, "the subscription is gone".into()));
        };
        let Some(payload) = rules::payload(state, &subscription, push.notification_id).await?
        else {
            return Ok(Outcome::Failed(None, "the notification is gone".into()));
        };
        let endpoint = Url::parse(&subscription.endpoint)?;
        let ua_public = webpush::decode_key(&subscription.key_p256dh)
            .ok_or_else(|| anyhow::anyhow!("the stored p256dh key is not base64"))?;
        let auth = webpush::decode_key(&subscription.key_auth)
            .ok_or_else(|| anyhow::anyhow!("the stored auth secret is not base64"))?;
        let coding = Coding::for_standard(subscription.standard);
        let sealed = webpush::encrypt(coding, &ua_public, &auth, payload.to_string().as_bytes())?;
        let now = state.clock.now();
        let token = webpush::vapid_token(
            &state.vapid.pair,
            &endpoint.origin().ascii_serialization(),
            now + TOKEN_LIFETIME,
            &rules::vapid_subject(state),
        )?;
        let mut headers = HeaderMap::new();
        let mut set = |name: &'static str, value: String| -> anyhow::Result<()> {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(&value)?,
            );
            Ok(())
        };
        set("content-type", "application/octet-stream".into())?;
        set("content-encoding", coding.as_str().into())?;
        set("ttl", TTL.to_string())?;
        set("urgency", "normal".into())?;
        set(
            "authorization",
            webpush::authorization(coding, &token, &state.vapid.public),
        )?;
        if coding == Coding::AesGcm {
            let (crypto_key, encryption) = webpush::legacy_headers(&sealed, &state.vapid.public);
            set("crypto-key", crypto_key)?;
            set("encryption", encryption)?;
        }
        Ok(
            match state
                .http
                .post(&endpoint, headers, Bytes::from(sealed.body))
                .await
            {
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
            },
        )
    }

    async fn record(&self, push: &PushDelivery, outcome: Outcome) -> anyhow::Result<()> {
        let now = self.state.clock.now();
        let db = &self.state.db;
        match outcome {
            Outcome::Delivered(status) => {
                db::queue::mark_delivered(db, Queue::Pushes, push.id, status.into(), now).await?
            }
            Outcome::Gone(status) => {
                tracing::info!(
                    subscription = push.subscription_id,
                    status,
                    "the push endpoint is gone; removing its subscription"
                );
                db::push::delete(db, push.subscription_id).await?
            }
            Outcome::Failed(status, reason) => {
                db::queue::mark_failed(
                    db,
                    Queue::Pushes,
                    push.id,
                    status.map(i32::from),
                    &reason,
                    now,
                )
                .await?
            }
            Outcome::Retry {
                status,
                reason,
                retry_after,
            } => {
                let status = status.map(i32::from);
                match next_attempt(push.attempts, push.created_at, now, retry_after) {
                    Some(at) => {
                        db::queue::reschedule(db, Queue::Pushes, push.id, status, &reason, at)
                            .await?
                    }
                    None => {
                        let reason = format!("gave up after {} attempts: {reason}", push.attempts);
                        db::queue::mark_failed(db, Queue::Pushes, push.id, status, &reason, now)
                            .await?
                    }
                }
            }
        }
        Ok(())
    }
}

impl Worker for Pusher {
    const WHAT: &'static str = "pushes";
    const QUEUE: Queue = Queue::Pushes;
    type Row = PushDelivery;

    fn state(&self) -> &AppState {
        &self.state
    }

    fn worker_id(&self) -> i32 {
        self.worker_id
    }

    async fn process(&self, push: PushDelivery) {
        let outcome = match self.attempt(&push).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(None, format!("cannot be sent: {e:#}")),
        };
        if let Err(e) = self.record(&push, outcome).await {
            tracing::error!(push = push.id, error = %e, "recording a push outcome failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_endpoints_are_gone_and_busy_ones_retried() {
        assert_eq!(classify(201, None), Outcome::Delivered(201));
        assert_eq!(classify(404, None), Outcome::Gone(404));
        assert_eq!(classify(410, None), Outcome::Gone(410));
        for busy in [408, 429, 500, 503] {
            assert!(
                matches!(classify(busy, None), Outcome::Retry { .. }),
                "{busy}"
            );
        }
        for refused in [400, 401, 403, 413] {
            assert!(
                matches!(classify(refused, None), Outcome::Failed(..)),
                "{refused}"
            );
        }
    }
}
