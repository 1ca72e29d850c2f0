//! Prometheus metrics: counters and histograms recorded with the `metrics`
//! crate where things happen (HTTP requests, inbox activities, remote
//! fetches, deliveries, Web Push), and gauges read when Prometheus scrapes
//! (queue depths and ages, failing hosts, the database pool and the read
//! replica's, the process's memory). Off unless `[metrics]` names a listen
//! address or a token.
//!
//! Each process reports its own counters; the queue gauges are read from
//! the shared database, so every process reports the same value (take the
//! maximum across processes).

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::db;
use crate::state::AppState;

/// Latency buckets in seconds, from a cache hit to a slow remote server.
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once; later calls reuse it). Until it
/// is installed, recording is a no-op.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder already installed (never in Skein's binary)
        // leaves ours unused but harmless.
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// Counts a request and its latency by method, route (the pattern, never
/// the path, so that ids do not multiply the series) and status.
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("skein_http_requests_total",
        "method" => method.clone(), "route" => route.clone(), "status" => status)
    .increment(1);
    metrics::histogram!("skein_http_request_duration_seconds",
        "method" => method, "route" => route)
    .record(started.elapsed().as_secs_f64());
    response
}

/// An inbox activity's outcome: `applied`, `ignored`, `refused` (4xx) or
/// `failed` (5xx).
pub fn inbox_activity(kind: &str, outcome: &'static str) {
    // Types outside ActivityStreams' vocabulary are one series.
    let kind = if KNOWN_TYPES.contains(&kind) {
        kind.to_owned()
    } else {
        "other".to_owned()
    };
    metrics::counter!("skein_inbox_activities_total", "type" => kind, "outcome" => outcome)
        .increment(1);
}

const KNOWN_TYPES: &[&str] = &[
    "Accept",
    "Add",
    "Announce",
    "Block",
    "Create",
    "Delete",
    "Flag",
    "Follow",
    "Like",
    "Move",
    "QuoteRequest",
    "Reject",
    "Remove",
    "Undo",
    "Update",
    "EmojiReact",
];

/// A fetch of a remote document (`kind`: actor, object, collection,
/// webfinger, ...) and whether it worked.
pub fn remote_fetch(kind: &'static str, ok: bool) {
    metrics::counter!("skein_remote_fetches_total",
        "kind" => kind, "outcome" => if ok { "ok" } else { "failed" })
    .increment(1);
}

/// An attempted delivery to another server, by outcome.
pub fn delivery(outcome: &'static str) {
    metrics::counter!("skein_deliveries_total", "outcome" => outcome).increment(1);
}

/// An attempted Web Push, by outcome.
pub fn push(outcome: &'static str) {
    metrics::counter!("skein_push_deliveries_total", "outcome" => outcome).increment(1);
}

/// A self-check's result (`service::self_check`): 1 when it holds.
pub fn self_check(check: &'static str, ok: bool) {
    metrics::gauge!("skein_self_check_ok", "check" => check).set(if ok { 1.0 } else { 0.0 });
}

/// A read meant for the read replica made on the primary instead (the
/// replica failed, or is left alone after failing: `db::reads`).
pub fn replica_fallback() {
    metrics::counter!("skein_replica_fallbacks_total").increment(1);
}

/// `GET /metrics`: the text format, after reading the gauges.
pub async fn render(state: &AppState) -> Response {
    let handle = install();
    read_gauges(state).await;
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// `GET /metrics` on the main listener: only with the configured token.
pub async fn scrape_with_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let expected = state.config.metrics.token.as_str();
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if expected.is_empty() {
        return crate::error::Error::NotFound.into_response();
    }
    if !same(expected.as_bytes(), given.trim().as_bytes()) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    render(&state).await
}

/// Compares in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn read_gauges(state: &AppState) {
    let now = state.clock.now();
    match db::queue_health::read(&state.db, now).await {
        Ok(health) => {
            for (queue, depth, oldest) in [
                ("deliveries", health.deliveries, health.oldest_delivery),
                ("push", health.pushes, health.oldest_push),
            ] {
                metrics::gauge!("skein_queue_depth", "queue" => queue).set(depth as f64);
                metrics::gauge!("skein_queue_oldest_seconds", "queue" => queue)
                    .set(oldest.map_or(0.0, |at| (now - at).num_milliseconds() as f64 / 1000.0));
            }
            metrics::gauge!("skein_unavailable_hosts").set(health.unavailable_hosts as f64);
            metrics::gauge!("skein_failing_hosts").set(health.failing_hosts as f64);
            metrics::gauge!("skein_inbox_kept_activities").set(health.kept_activities as f64);
        }
        Err(e) => tracing::warn!(error = %e, "reading the queues for metrics failed"),
    }
    if let Some(skew) = state.self_checks.report().remote_clock_skew_seconds {
        metrics::gauge!("skein_remote_clock_skew_seconds").set(skew);
    }
    let size = f64::from(state.db.size());
    let idle = state.db.num_idle() as f64;
    metrics::gauge!("skein_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("skein_db_pool_connections", "state" => "busy").set(size - idle);
    if let Some((size, idle)) = state.read.replica_pool() {
        let (size, idle) = (f64::from(size), idle as f64);
        metrics::gauge!("skein_db_replica_pool_connections", "state" => "idle").set(idle);
        metrics::gauge!("skein_db_replica_pool_connections", "state" => "busy").set(size - idle);
    }
    if let Some(rss) = resident_bytes() {
        metrics::gauge!("skein_process_resident_memory_bytes").set(rss as f64);
    }
}

/// The process's resident memory, from `/proc/self/statm` (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secret2"));
    }

    #[test]
    fn resident_memory_is_read() {
        assert!(resident_bytes().is_some_and(|b| b > 0));
    }
}
