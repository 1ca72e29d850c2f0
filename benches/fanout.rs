//! Fan-out benchmark: one post through the client API by an account with
//! many followers on many servers, through the real binary.
//!
//!   cargo bench --bench fanout          full size: 10,000 followers on 2,000 servers
//!   cargo test --bench fanout           smoke size (CI runs this)
//!
//! A private PostgreSQL cluster is started for the run, durable (fsync and
//! synchronous commit on, checked). The built `skein` binary serves from it
//! with the default configuration (the test network on, so that it may
//! reach loopback). The followers are inserted by SQL: remote accounts on
//! as many host names as there are servers, each server with a shared
//! inbox. Every host name is served by one fake server on loopback that
//! answers each POST after a latency drawn uniformly from 0 to 300 ms and
//! records when it arrived and which activity it carried.
//!
//! Each burst is one `POST /api/v1/statuses`; the benchmark waits until
//! every inbox has the post, then prints: POSTs per inbox (exactly one
//! each, or the benchmark fails), t50/t95/t100 of arrival after the posting
//! call began, the floor (N × mean latency ÷ the deliveries Skein allows in
//! flight), Skein's CPU seconds (utime + stime from /proc) beside N ÷ the
//! RSA-2048 sign rate measured in the same run, and the posting call's own
//! latency. Memory: Skein's RSS (VmRSS) idle, the most seen under load,
//! and 30 s after each burst. The goals are printed beside the figures;
//! nothing fails on timing.
//!
//! `SKEIN_BENCH_BIN` runs another build of the binary (a baseline).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use rand::Rng;
use serde_json::{Value, json};
use skein::federation::signatures::SigningKey;

use common::{Bench, percentile};

/// The goals, printed beside the figures.
const GOAL_T95_FLOOR: f64 = 1.6;
const GOAL_CPU_SIGN: f64 = 1.5;
const GOAL_POST_MS: f64 = 50.0;
const GOAL_RSS_MB: f64 = 60.0;

/// Deliveries in flight at the default settings: `delivery.workers` (4 in
/// config/default.toml) × `jobs::pool::SLOTS_PER_WORKER`.
const DEFAULT_WORKERS: usize = 4;

struct Size {
    followers: usize,
    servers: usize,
    /// The fake inboxes' latency is drawn from 0..max_latency.
    max_latency: Duration,
    bursts: usize,
    /// How long after a burst RSS is read again.
    settle: Duration,
    sign_span: Duration,
}

const FULL: Size = Size {
    followers: 10_000,
    servers: 2_000,
    max_latency: Duration::from_millis(300),
    bursts: 2,
    settle: Duration::from_secs(30),
    sign_span: Duration::from_secs(2),
};
const SMOKE: Size = Size {
    followers: 300,
    servers: 60,
    max_latency: Duration::from_millis(300),
    bursts: 2,
    settle: Duration::from_secs(1),
    sign_span: Duration::from_millis(200),
};

fn main() {
    // `cargo bench` passes --bench; `cargo test` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let size = if full { FULL } else { SMOKE };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(&size, full));
}

/// What the fake inboxes saw: per activity id, per host, each arrival.
#[derive(Default)]
struct Sink {
    arrivals: Mutex<HashMap<String, HashMap<String, Vec<Instant>>>>,
    latencies: Mutex<Vec<Duration>>,
    max_latency: Duration,
    unsigned: Mutex<usize>,
}

async fn inbox(State(sink): State<Arc<Sink>>, headers: HeaderMap, body: String) -> StatusCode {
    let arrived = Instant::now();
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // Signed in either scheme: draft-cavage (Digest) or RFC 9421
    // (Content-Digest), whichever the double-knock settled on.
    if !headers.contains_key("signature")
        || !(headers.contains_key("digest") || headers.contains_key("content-digest"))
    {
        *sink.unsigned.lock().unwrap() += 1;
    }
    let id = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .unwrap_or_default();
    sink.arrivals
        .lock()
        .unwrap()
        .entry(id)
        .or_default()
        .entry(host)
        .or_default()
        .push(arrived);
    let latency = rand::thread_rng().gen_range(Duration::ZERO..sink.max_latency);
    sink.latencies.lock().unwrap().push(latency);
    tokio::time::sleep(latency).await;
    StatusCode::ACCEPTED
}

/// A process's CPU seconds (user + system) from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 here.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A process's resident set (VmRSS) in MB.
fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// RSA-2048 signs per second on one core.
fn sign_rate(span: Duration) -> f64 {
    let pair = activitypub_federation::http_signatures::generate_actor_keypair().unwrap();
    let key = SigningKey::from_pkcs8_pem("k", &pair.private_key).unwrap();
    let message = b"(request-target): post /inbox\nhost: a.example\ndate: x\ndigest: y";
    let start = Instant::now();
    let mut signs = 0u32;
    while start.elapsed() < span {
        std::hint::black_box(key.sign(message));
        signs += 1;
    }
    f64::from(signs) / start.elapsed().as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "meets the goal"
    } else {
        "MISSES the goal"
    }
}

async fn run(size: &Size, full: bool) {
    println!(
        "fan-out benchmark ({} size): {} followers on {} servers, inboxes answering in 0-{} ms",
        if full { "full" } else { "smoke" },
        size.followers,
        size.servers,
        size.max_latency.as_millis()
    );
    let signs = sign_rate(size.sign_span);
    println!("limit   RSA-2048 signs on one core: {signs:.0}/s (measured now)");

    // The fake servers: one listener for every host name.
    let sink = Arc::new(Sink {
        max_latency: size.max_latency,
        ..Sink::default()
    });
    let app = axum::Router::new()
        .route("/inbox", axum::routing::post(inbox))
        .with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sink_port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut bench = Bench::start().await;
    bench.run(&["user", "create", "alice", "--email", "alice@bench.example"]);
    let token = bench.run(&["token", "create", "alice"]).trim().to_string();

    // Followers by SQL: `followers` remote accounts spread over `servers`
    // host names, each with the shared inbox of its server.
    let alice: i64 =
        sqlx::query_scalar("select id from actors where username = 'alice' and domain is null")
            .fetch_one(&bench.pool)
            .await
            .unwrap();
    sqlx::query(
        "insert into actors (ap_id, username, domain, inbox_url, shared_inbox_url,
                             public_key_id, public_key_pem)
         select 'http://' || host || '/users/f' || n, 'f' || n, host,
                'http://' || host || '/users/f' || n || '/inbox', 'http://' || host || '/inbox',
                'http://' || host || '/users/f' || n || '#main-key', 'pem'
         from (select n, 'h' || (n % $2) || '.sink.test:' || $3 as host
               from generate_series(0, $1 - 1) as n) as t",
    )
    .bind(size.followers as i64)
    .bind(size.servers as i64)
    .bind(i64::from(sink_port))
    .execute(&bench.pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into follows (follower_id, followee_id, state)
         select id, $1, 'accepted' from actors where domain like '%.sink.test:%'",
    )
    .bind(alice)
    .execute(&bench.pool)
    .await
    .unwrap();
    let inboxes = size.servers;

    // The yardstick of the posting call: one durable commit of one row.
    sqlx::query("create table bench_commits (n int)")
        .execute(&bench.pool)
        .await
        .unwrap();
    let mut commits = Vec::new();
    for n in 0..20 {
        let began = Instant::now();
        sqlx::query("insert into bench_commits values ($1)")
            .bind(n)
            .execute(&bench.pool)
            .await
            .unwrap();
        commits.push(began.elapsed());
    }
    commits.sort();
    println!(
        "limit   one durable single-row commit on the same cluster: p50 {:.1} ms, max {:.1} ms",
        ms(percentile(&commits, 0.5)),
        ms(percentile(&commits, 1.0))
    );

    bench.serve().await;
    let pid = bench.pid();
    // Idle: the server up, nothing asked of it yet but /health.
    tokio::time::sleep(Duration::from_secs(if full { 3 } else { 1 })).await;
    let idle_rss = rss_mb(pid);
    println!("memory  RSS idle: {idle_rss:.1} MB");

    let slots = DEFAULT_WORKERS * 32;
    for burst in 1..=size.bursts {
        sink.latencies.lock().unwrap().clear();
        let cpu_before = cpu_seconds(pid);
        let began = Instant::now();
        let response = bench
            .client
            .post(bench.url("/api/v1/statuses"))
            .bearer_auth(&token)
            .json(&json!({ "status": format!("burst {burst}"), "visibility": "public" }))
            .send()
            .await
            .unwrap();
        let posting = began.elapsed();
        assert_eq!(response.status(), 200, "alice posts");
        let status: Value = response.json().await.unwrap();
        let activity = format!("{}/activity", status["uri"].as_str().unwrap());

        // Wait for every inbox, sampling RSS meanwhile.
        let mut peak_rss: f64 = 0.0;
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            peak_rss = peak_rss.max(rss_mb(pid));
            let reached = sink
                .arrivals
                .lock()
                .unwrap()
                .get(&activity)
                .map_or(0, |hosts| hosts.len());
            if reached >= inboxes {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "only {reached} of {inboxes} inboxes got burst {burst}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Let the last answers be recorded before reading the CPU.
        tokio::time::sleep(size.max_latency + Duration::from_millis(200)).await;
        peak_rss = peak_rss.max(rss_mb(pid));
        let cpu = cpu_seconds(pid) - cpu_before;

        let arrivals = sink.arrivals.lock().unwrap().remove(&activity).unwrap();
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for times in arrivals.values() {
            *counts.entry(times.len()).or_default() += 1;
        }
        let mut times: Vec<Duration> = arrivals
            .values()
            .flat_map(|t| t.iter().map(|at| *at - began))
            .collect();
        times.sort();
        let latencies = sink.latencies.lock().unwrap().clone();
        let mean = latencies.iter().sum::<Duration>() / latencies.len().max(1) as u32;
        let floor = Duration::from_secs_f64(inboxes as f64 * mean.as_secs_f64() / slots as f64);
        let t95 = percentile(&times, 0.95);
        let sign_cpu = inboxes as f64 / signs;

        println!("burst {burst}: one post to {inboxes} inboxes");
        let mut per_inbox: Vec<_> = counts.iter().collect();
        per_inbox.sort();
        println!(
            "  POSTs per inbox: {}",
            per_inbox
                .iter()
                .map(|(posts, inboxes)| format!("{inboxes} inboxes got {posts}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "  arrival after the posting call began: t50 {:.0} ms, t95 {:.0} ms, t100 {:.0} ms",
            ms(percentile(&times, 0.5)),
            ms(t95),
            ms(percentile(&times, 1.0))
        );
        println!(
            "  floor: {inboxes} × {:.0} ms mean latency ÷ {slots} in flight = {:.0} ms; t95 = {:.2} × floor (goal ≤ {GOAL_T95_FLOOR}: {})",
            ms(mean),
            ms(floor),
            t95.as_secs_f64() / floor.as_secs_f64(),
            verdict(t95.as_secs_f64() <= GOAL_T95_FLOOR * floor.as_secs_f64())
        );
        println!(
            "  CPU: {cpu:.2} s of Skein's process; {inboxes} ÷ {signs:.0} signs/s = {sign_cpu:.2} s; {:.2} × (goal ≤ {GOAL_CPU_SIGN}: {})",
            cpu / sign_cpu,
            verdict(cpu <= GOAL_CPU_SIGN * sign_cpu)
        );
        println!(
            "  posting call: {:.1} ms (goal ≤ {GOAL_POST_MS} ms: {})",
            ms(posting),
            verdict(ms(posting) <= GOAL_POST_MS)
        );
        println!(
            "  memory: RSS under load (peak seen) {peak_rss:.1} MB (goal ≤ {GOAL_RSS_MB} MB: {})",
            verdict(peak_rss <= GOAL_RSS_MB)
        );
        tokio::time::sleep(size.settle).await;
        let after = rss_mb(pid);
        println!(
            "  memory: RSS {} s after the burst {after:.1} MB (goal ≤ {GOAL_RSS_MB} MB: {})",
            size.settle.as_secs(),
            verdict(after <= GOAL_RSS_MB)
        );
        let unsigned = *sink.unsigned.lock().unwrap();
        assert_eq!(unsigned, 0, "every delivery is signed");
        assert_eq!(
            counts.get(&1).copied().unwrap_or(0),
            inboxes,
            "exactly one POST per inbox: {counts:?}"
        );
    }
}
