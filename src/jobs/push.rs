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

use crate::db::queue::{Queue, Settled};
use crate::db::{self, push::PushDelivery};
use crate::jobs::outcome::{self, Attempted, Outcome};
use crate::jobs::pool::{Lines, Worker};
use crate::service::push as rules;
use crate::state::AppState;
use crate::webpush::{self, Coding};

/// How long a push service keeps a push for an offline device (Mastodon's).
const TTL: i64 = 48 * 3600;
/// How long a VAPID token is valid (RFC 8292 §2: at most 24 hours).
const TOKEN_LIFETIME: Duration = Duration::hours(12);

/// Judges a push service's answer (RFC 8030).
pub fn classify(status: u16, retry_after: Option<Duration>) -> Outcome {
    match status {
        200..=299 => Outcome::Delivered(status),
        404 | 410 => Outcome::Gone(status),
        408 | 429 | 500..=599 => Outcome::retry(status, retry_after),
        _ => Outcome::failed(status),
    }
}

/// The push sender of one process.
pub struct Pusher {
    state: AppState,
    worker_id: i32,
    lines: Lines,
}

impl Pusher {
    /// `worker_id` must be locked by this process (see `jobs::WorkerLock`).
    pub fn new(state: AppState, worker_id: i32) -> Arc<Pusher> {
        Arc::new(Pusher {
            state,
            worker_id,
            lines: Lines::default(),
        })
    }

    async fn send(&self, push: &PushDelivery) -> anyhow::Result<Outcome> {
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
        let answer = state
            .http
            .post(
                &endpoint,
                headers,
                Bytes::from(sealed.body),
                crate::net::Reuse::Keep,
            )
            .await;
        Ok(Outcome::of_response(answer, now, classify))
    }
}

impl Worker for Pusher {
    const WHAT: &'static str = "pushes";
    const QUEUE: Queue = Queue::Pushes;
    type Row = PushDelivery;
    type Loaded = ();

    fn state(&self) -> &AppState {
        &self.state
    }

    fn worker_id(&self) -> i32 {
        self.worker_id
    }

    async fn load(&self, _rows: &[PushDelivery]) -> anyhow::Result<()> {
        Ok(())
    }

    fn lines(&self) -> &Lines {
        &self.lines
    }

    async fn attempt(&self, push: &PushDelivery, _loaded: &()) -> Outcome {
        match self.send(push).await {
            Ok(outcome) => outcome,
            Err(e) => Outcome::Failed(None, format!("cannot be sent: {e:#}")),
        }
    }

    async fn record(&self, done: Vec<(PushDelivery, Outcome)>) -> anyhow::Result<()> {
        let now = self.state.clock.now();
        let mut settled = Settled::default();
        let mut gone = Vec::new();
        for (push, outcome) in &done {
            crate::prometheus::push(outcome.label());
            if let Outcome::Gone(status) = outcome {
                tracing::info!(
                    subscription = push.subscription_id,
                    status,
                    "the push endpoint is gone; removing its subscription"
                );
                gone.push(push.subscription_id);
            }
            let row = Attempted {
                id: push.id,
                attempts: push.attempts,
                created_at: push.created_at,
            };
            outcome::settle(&mut settled, row, outcome, now);
        }
        let mut tx = self.state.db.begin().await?;
        db::queue::settle(&mut tx, Queue::Pushes, &settled, now).await?;
        for subscription in gone {
            db::push::delete(&mut *tx, subscription).await?;
        }
        tx.commit().await?;
        Ok(())
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
