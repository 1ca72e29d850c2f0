//! Checks an admin can trust, run at start and shown in `/health?detailed`:
//!
//! - **Signatures through the public address.** The instance signs a POST
//!   with its own key and sends it to its own public URL
//!   (`/actor/self_check`), where it is checked as an inbox checks
//!   activities. A reverse proxy that drops `Host`, rewrites the path or
//!   re-encodes bodies makes every remote server's signature fail; this
//!   check fails the same way and says which part did not hold.
//! - **Clock.** The process's clock beside the database server's, and
//!   beside the `Date` of other servers' answers to deliveries (the median
//!   of the latest ones, so that one server's wrong clock does not count);
//!   over a minute of skew is reported (signatures are refused past their
//!   window).

use std::collections::VecDeque;
use std::sync::Mutex;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use url::Url;

use crate::db;
use crate::error::{Error, Result};
use crate::federation::signatures::{self, IncomingRequest, VerifyingKey};
use crate::state::AppState;

/// Skew beyond which the clock is reported.
pub const MAX_SKEW_SECONDS: i64 = 60;

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub ok: bool,
    pub detail: String,
    pub checked_at: DateTime<Utc>,
}

/// The last results of this process.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub signature: Option<Check>,
    pub clock: Option<Check>,
    /// The process's clock minus the database's, in seconds.
    pub clock_skew_seconds: Option<f64>,
    /// The process's clock minus other servers' (`Date` of their answers),
    /// the median of the latest answers, in seconds; None before
    /// [`MIN_REMOTE_SAMPLES`] answers.
    pub remote_clock_skew_seconds: Option<f64>,
    /// Whether that median is within [`MAX_SKEW_SECONDS`].
    pub remote_clock_ok: Option<bool>,
}

/// Answers kept for the median of other servers' clocks.
const REMOTE_SAMPLES: usize = 101;
/// Answers needed before other servers' clocks are judged.
pub const MIN_REMOTE_SAMPLES: usize = 5;

/// Where the results live between runs (one per process).
#[derive(Default)]
pub struct SelfChecks(Mutex<Report>, Mutex<VecDeque<f64>>);

impl SelfChecks {
    pub fn report(&self) -> Report {
        let mut report = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let skews = self.1.lock().unwrap_or_else(|e| e.into_inner());
        report.remote_clock_skew_seconds = median(skews.iter().copied());
        report.remote_clock_ok = report
            .remote_clock_skew_seconds
            .map(|s| s.abs() <= MAX_SKEW_SECONDS as f64);
        report
    }

    /// Notes the `Date` of another server's answer, seen at `now`.
    pub fn saw_remote_date(&self, date: DateTime<Utc>, now: DateTime<Utc>) {
        let skew = (now - date).num_milliseconds() as f64 / 1000.0;
        let mut skews = self.1.lock().unwrap_or_else(|e| e.into_inner());
        if skews.len() == REMOTE_SAMPLES {
            skews.pop_front();
        }
        skews.push_back(skew);
    }

    fn update(&self, f: impl FnOnce(&mut Report)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// The median of at least [`MIN_REMOTE_SAMPLES`] values.
fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut sorted: Vec<f64> = values.collect();
    if sorted.len() < MIN_REMOTE_SAMPLES {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    Some(sorted[sorted.len() / 2])
}

/// Runs every check and keeps the results; logs failures as warnings.
pub async fn run(state: &AppState) -> Report {
    let signature = signature_through_public_address(state).await;
    if !signature.ok {
        tracing::warn!(detail = %signature.detail, "self-check: signatures through the public address fail");
    }
    let (clock, skew) = clock(state).await;
    if !clock.ok {
        tracing::warn!(detail = %clock.detail, "self-check: the clock is off");
    }
    crate::prometheus::self_check("signature", signature.ok);
    crate::prometheus::self_check("clock", clock.ok);
    if let Some(skew) = skew {
        metrics::gauge!("skein_clock_skew_seconds").set(skew);
    }
    state.self_checks.update(|r| {
        r.signature = Some(signature);
        r.clock = Some(clock);
        r.clock_skew_seconds = skew;
    });
    state.self_checks.report()
}

/// A body that is easy to re-encode by mistake: non-ASCII, escaped and
/// unusually spaced JSON.
fn probe_body(now: DateTime<Utc>) -> Vec<u8> {
    format!(
        "{{\"type\": \"SelfCheck\",  \"at\": \"{}\", \"text\": \"\\u00e9t\u{e9} \\/ caf\u{e9}\"}}",
        now.to_rfc3339()
    )
    .into_bytes()
}

async fn signature_through_public_address(state: &AppState) -> Check {
    let now = state.clock.now();
    if state.config.is_loopback_instance() && !state.config.test_network.enabled {
        return Check {
            ok: true,
            detail: "skipped: a localhost instance has no public address".into(),
            checked_at: now,
        };
    }
    let url = match Url::parse(&format!("{}actor/self_check?probe=1", state.urls.root())) {
        Ok(url) => url,
        Err(e) => return failed(now, format!("the public URL is not valid: {e}")),
    };
    let body = probe_body(now);
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (name, value) in
        signatures::sign_request("POST", &url, Some(&body), &state.instance_key, now)
    {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.insert(name, value);
        }
    }
    match state
        .http
        .post(&url, headers, Bytes::from(body), crate::net::Reuse::Close)
        .await
    {
        Err(e) => failed(
            now,
            format!("the instance cannot reach its own public address {url}: {e}"),
        ),
        Ok(answer) if answer.status.is_success() => Check {
            ok: true,
            detail: format!("a signed POST to {url} verified"),
            checked_at: now,
        },
        Ok(answer) => {
            let reason = serde_json::from_slice::<serde_json::Value>(&answer.body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| format!("HTTP {}", answer.status));
            failed(
                now,
                format!(
                    "a signed POST to {url} did not verify ({reason}): a reverse proxy may \
                     change the Host header, the path or the body; other servers' \
                     signatures fail the same way"
                ),
            )
        }
    }
}

fn failed(now: DateTime<Utc>, detail: String) -> Check {
    Check {
        ok: false,
        detail,
        checked_at: now,
    }
}

async fn clock(state: &AppState) -> (Check, Option<f64>) {
    let now = state.clock.now();
    match db::database_time(&state.db).await {
        Err(e) => (
            failed(now, format!("the database did not answer: {e}")),
            None,
        ),
        Ok(database) => {
            let skew = (now - database).num_milliseconds() as f64 / 1000.0;
            let ok = skew.abs() <= MAX_SKEW_SECONDS as f64;
            let detail = if ok {
                format!("within {:.1} s of the database server's", skew.abs())
            } else {
                format!(
                    "{skew:+.0} s off the database server's clock: signatures are refused \
                     beyond a few minutes; synchronise the clocks (NTP)"
                )
            };
            (
                Check {
                    ok,
                    detail,
                    checked_at: now,
                },
                Some(skew),
            )
        }
    }
}

/// `POST /actor/self_check`: checks a request signed with the instance's
/// key exactly as the inbox checks activities.
pub async fn verify_probe(
    state: &AppState,
    path: &str,
    query: Option<&str>,
    header: &(dyn Fn(&str) -> Option<String> + Sync),
    body: &[u8],
) -> Result<()> {
    let unauthorized = |e: String| Error::Unauthorized(e);
    let signature = header("signature").ok_or_else(|| unauthorized("no signature".into()))?;
    let params =
        signatures::parse_signature(&signature).map_err(|e| unauthorized(e.to_string()))?;
    let domain = state.urls.domain();
    let request = IncomingRequest {
        method: "POST",
        path,
        query,
        host: &domain,
        header,
        body,
    };
    let strings = signatures::check_request(&params, &request, state.clock.now())
        .map_err(|e| unauthorized(e.to_string()))?;
    let actor = db::actors::find_instance_actor(&state.db)
        .await?
        .ok_or(Error::NotFound)?;
    if params.key_id != actor.public_key_id {
        return Err(unauthorized("not signed with the instance's key".into()));
    }
    let key = VerifyingKey::from_pem(&actor.public_key_pem)
        .map_err(|e| Error::Internal(anyhow::anyhow!("the instance's key: {e}")))?;
    if !signatures::verify(&strings, &params.signature, &key) {
        return Err(unauthorized(
            "the signature does not verify: the Host header or the path differ from what was signed"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_servers_clocks_are_judged_by_their_median_once_there_are_enough() {
        let checks = SelfChecks::default();
        let now = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(1);
        for _ in 0..MIN_REMOTE_SAMPLES - 1 {
            checks.saw_remote_date(now - chrono::Duration::seconds(300), now);
        }
        assert_eq!(checks.report().remote_clock_ok, None, "too few answers");
        checks.saw_remote_date(now - chrono::Duration::seconds(300), now);
        let report = checks.report();
        assert_eq!(report.remote_clock_skew_seconds, Some(300.0));
        assert_eq!(report.remote_clock_ok, Some(false));
        // One server's wrong clock among right ones does not count.
        for _ in 0..REMOTE_SAMPLES {
            checks.saw_remote_date(now, now);
        }
        checks.saw_remote_date(now + chrono::Duration::hours(5), now);
        assert_eq!(checks.report().remote_clock_ok, Some(true));
    }
}
