//! What the delivery and Web Push queues share about an attempt's outcome:
//! what became of it, when to try again (exponential backoff with jitter,
//! honouring `Retry-After`, for two days), and the batch of row updates a
//! set of outcomes comes to (`db::queue::settle`). How a peer's status is
//! judged is each queue's own (`delivery::classify`, `push::classify`).

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use crate::db::queue::Settled;
use crate::net::{Fetched, NetError};

/// How long a row is retried.
pub const GIVE_UP_AFTER: Duration = Duration::hours(48);
/// Delay before the first retry; doubles with every failure.
const FIRST_RETRY: Duration = Duration::seconds(30);
/// The longest wait between two attempts.
const MAX_RETRY_DELAY: Duration = Duration::hours(6);

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(u16),
    /// The endpoint is gone for good (a push subscription that expired).
    Gone(u16),
    Failed(Option<u16>, String),
    Retry {
        status: Option<u16>,
        reason: String,
        retry_after: Option<Duration>,
    },
}

impl Outcome {
    /// The outcome's name in metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered(_) => "delivered",
            Outcome::Gone(_) => "gone",
            Outcome::Failed(..) => "failed",
            Outcome::Retry { .. } => "retry",
        }
    }

    /// A retry after an answer with `status`.
    pub fn retry(status: u16, retry_after: Option<Duration>) -> Outcome {
        Outcome::Retry {
            status: Some(status),
            reason: format!("HTTP {status}"),
            retry_after,
        }
    }

    /// A failure for good after an answer with `status`.
    pub fn failed(status: u16) -> Outcome {
        Outcome::Failed(Some(status), format!("HTTP {status}"))
    }

    /// The outcome of a request: its answer judged by `classify`, or a
    /// network error (tried again when trying again could help).
    pub fn of_response(
        result: Result<Fetched, NetError>,
        now: DateTime<Utc>,
        classify: impl Fn(u16, Option<Duration>) -> Outcome,
    ) -> Outcome {
        match result {
            Ok(answer) => {
                let retry_after = answer
                    .headers
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, now));
                classify(answer.status.as_u16(), retry_after)
            }
            Err(e) if e.is_transient() => Outcome::Retry {
                status: None,
                reason: e.to_string(),
                retry_after: None,
            },
            Err(e) => Outcome::Failed(None, e.to_string()),
        }
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

/// What a claimed row needs for its outcome to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct Attempted {
    pub id: i64,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
}

/// Adds one row's outcome to a batch: delivered, failed, or rescheduled by
/// the backoff (failed once it is past [`GIVE_UP_AFTER`]). `Gone` is the
/// caller's to handle and adds nothing here.
pub fn settle(settled: &mut Settled, row: Attempted, outcome: &Outcome, now: DateTime<Utc>) {
    match outcome {
        Outcome::Delivered(status) => settled.delivered.push((row.id, i32::from(*status))),
        Outcome::Gone(_) => {}
        Outcome::Failed(status, reason) => {
            settled
                .failed
                .push((row.id, status.map(i32::from), reason.clone()))
        }
        Outcome::Retry {
            status,
            reason,
            retry_after,
        } => {
            let status = status.map(i32::from);
            match next_attempt(row.attempts, row.created_at, now, *retry_after) {
                Some(at) => settled
                    .rescheduled
                    .push((row.id, status, reason.clone(), at)),
                None => settled.failed.push((
                    row.id,
                    status,
                    format!("gave up after {} attempts: {reason}", row.attempts),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let later = crate::federation::signatures::http_date(now + Duration::minutes(10));
        let parsed = parse_retry_after(&later, now).expect("date");
        assert!(parsed > Duration::minutes(9) && parsed <= Duration::minutes(10));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn a_batch_sorts_outcomes_and_gives_up_late_retries() {
        let now = Utc::now();
        let row = |id| Attempted {
            id,
            attempts: 2,
            created_at: now,
        };
        let mut settled = Settled::default();
        settle(&mut settled, row(1), &Outcome::Delivered(202), now);
        settle(&mut settled, row(2), &Outcome::failed(403), now);
        settle(&mut settled, row(3), &Outcome::retry(503, None), now);
        settle(&mut settled, row(4), &Outcome::Gone(410), now);
        let old = Attempted {
            id: 5,
            attempts: 9,
            created_at: now - Duration::hours(48),
        };
        settle(&mut settled, old, &Outcome::retry(503, None), now);
        assert_eq!(settled.delivered, vec![(1, 202)]);
        assert_eq!(settled.failed.len(), 2);
        assert_eq!(settled.failed[0], (2, Some(403), "HTTP 403".to_string()));
        assert_eq!(settled.failed[1].0, 5);
        assert!(settled.failed[1].2.starts_with("gave up after 9 attempts"));
        assert_eq!(settled.rescheduled.len(), 1);
        assert_eq!(settled.rescheduled[0].0, 3);
        assert!(settled.rescheduled[0].3 > now);
    }
}
