//! Federation benchmarks: inbox ingest and delivery fan-out, each printed
//! beside the RSA speed of this machine measured in the same run.
//!
//!   cargo bench --bench federation          full size
//!   cargo test --bench federation           smoke size (CI runs this)
//!
//! (a) Inbox ingest: signed activities from many distinct remote actors,
//!     posted concurrently to one instance; accepted-and-stored per second
//!     and p50/p99 latency. The first activity of each actor (which makes
//!     Skein fetch the actor and its key) is reported apart from the rest.
//! (b) Fan-out: one activity to many inboxes on as many distinct host names,
//!     served by one local sink; time until every delivery is acknowledged,
//!     with the worker pool doing the work.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/it/fake.rs"]
mod fake;
#[path = "../tests/it/harness.rs"]
mod harness;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use skein::clock::Clock;
use skein::federation::signatures::{SigningKey, VerifyingKey};
use tokio::sync::Semaphore;

use fake::FakeServer;
use harness::{Options, TestApp};

struct Size {
    actors: usize,
    per_actor: usize,
    concurrency: usize,
    fanout_hosts: usize,
}

const FULL: Size = Size {
    actors: 200,
    per_actor: 10,
    concurrency: 32,
    fanout_hosts: 2000,
};
const SMOKE: Size = Size {
    actors: 4,
    per_actor: 3,
    concurrency: 4,
    fanout_hosts: 20,
};

fn main() {
    // `cargo bench` passes --bench; `cargo test` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let size = if full { FULL } else { SMOKE };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!(
            "federation benchmark ({} size)",
            if full { "full" } else { "smoke" }
        );
        let rsa = rsa_limits(if full {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(200)
        });
        println!(
            "limit   RSA-2048 (aws-lc-rs, one core): {:.0} signs/s, {:.0} verifies/s; {} cores",
            rsa.signs, rsa.verifies, rsa.cores
        );
        ingest(&size, &rsa).await;
        fanout(&size, &rsa).await;
    });
}

struct Rsa {
    signs: f64,
    verifies: f64,
    cores: usize,
}

fn rsa_limits(span: Duration) -> Rsa {
    let pair = activitypub_federation::http_signatures::generate_actor_keypair().unwrap();
    let key = SigningKey::from_pkcs8_pem("k", &pair.private_key).unwrap();
    let public = VerifyingKey::from_pem(&pair.public_key).unwrap();
    let message = b"(request-target): post /inbox\nhost: a.example\ndate: x\ndigest: y";
    let start = Instant::now();
    let mut signs = 0u32;
    let mut signature = Vec::new();
    while start.elapsed() < span {
        signature = key.sign(message);
        signs += 1;
    }
    let signs = f64::from(signs) / start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut verifies = 0u32;
    while start.elapsed() < span {
        assert!(public.verify(message, &signature));
        verifies += 1;
    }
    Rsa {
        signs,
        verifies: f64::from(verifies) / start.elapsed().as_secs_f64(),
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// A signed request: its headers and body.
type Signed = (Vec<(&'static str, String)>, Vec<u8>);

/// Posts pre-signed requests with bounded concurrency; returns each
/// request's latency and the wall time.
async fn fire(
    app: &TestApp,
    requests: Vec<Signed>,
    concurrency: usize,
) -> (Vec<Duration>, Duration) {
    let limit = Arc::new(Semaphore::new(concurrency));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (headers, body) in requests {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let client = app.client.clone();
        let url = app.url("/inbox");
        tasks.push(tokio::spawn(async move {
            let began = Instant::now();
            let mut request = client.post(url).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let status = request.send().await.unwrap().status();
            drop(permit);
            assert_eq!(status, 202, "the inbox accepts the activity");
            began.elapsed()
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    latencies.sort();
    (latencies, start.elapsed())
}

async fn ingest(size: &Size, rsa: &Rsa) {
    let app = TestApp::spawn_with(Options::named("alpha").env("SKEIN_LOG__LEVEL", "error")).await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let actors: Vec<_> = (0..size.actors)
        .map(|i| fake.add_actor(&format!("a{i}"), false))
        .collect();
    let request = |actor: &fake::FakeActor, n: usize| {
        let activity = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/{}-{n}", fake.base, actor.name),
            "type": "Like",
            "actor": actor.id,
            "object": app.url("/users/alice"),
        });
        let body = serde_json::to_vec(&activity).unwrap();
        (fake.sign(actor, &app.url("/inbox"), &body), body)
    };

    let cold: Vec<_> = actors.iter().map(|a| request(a, 0)).collect();
    let (cold_latency, cold_wall) = fire(&app, cold, size.concurrency).await;
    let warm: Vec<_> = (1..size.per_actor)
        .flat_map(|n| actors.iter().map(move |a| (a, n)))
        .map(|(a, n)| request(a, n))
        .collect();
    let (warm_latency, warm_wall) = fire(&app, warm, size.concurrency).await;
    let stored: i64 = sqlx::query_scalar("select count(*) from inbox_activities")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        stored as usize,
        size.actors * size.per_actor,
        "every activity was stored"
    );

    let report = |label: &str, latencies: &[Duration], wall: Duration| {
        println!(
            "ingest  {label}: {} activities from {} actors in {:.2}s = {:.0}/s, p50 {:.1} ms, p99 {:.1} ms (concurrency {})",
            latencies.len(),
            size.actors,
            wall.as_secs_f64(),
            latencies.len() as f64 / wall.as_secs_f64(),
            percentile(latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(latencies, 0.99).as_secs_f64() * 1000.0,
            size.concurrency,
        );
    };
    report("cold (actor fetched first)", &cold_latency, cold_wall);
    report("warm (key known)", &warm_latency, warm_wall);
    println!(
        "limit   one RSA verify per activity: at most {:.0}/s on {} cores",
        rsa.verifies * rsa.cores as f64,
        rsa.cores
    );
    app.stop().await;
}

async fn fanout(size: &Size, rsa: &Rsa) {
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_LOG__LEVEL", "error")
            .env("SKEIN_DELIVERY__WORKERS", "8"),
    )
    .await;
    let alice = app.create_user("alice").await.actor;
    let sink = FakeServer::spawn("sink").await;
    let port = sink.domain.rsplit(':').next().unwrap().to_string();
    let inboxes: Vec<String> = (0..size.fanout_hosts)
        .map(|i| format!("http://h{i}.sink.test:{port}/inbox"))
        .collect();
    let id = format!("{}/activities/fanout", app.base);
    let payload = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id, "type": "Update", "actor": alice.ap_id, "object": alice.ap_id,
    })
    .to_string();

    let start = Instant::now();
    let mut conn = app.db.acquire().await.unwrap();
    skein::db::deliveries::enqueue(
        &mut conn,
        &id,
        &payload,
        alice.id,
        &inboxes,
        app.clock.now(),
    )
    .await
    .unwrap();
    drop(conn);
    app.state.delivery_wakeup.notify_waiters();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let done: i64 =
            sqlx::query_scalar("select count(*) from deliveries where state = 'delivered'")
                .fetch_one(&app.db)
                .await
                .unwrap();
        if done as usize == inboxes.len() {
            break;
        }
        assert!(Instant::now() < deadline, "fan-out did not finish");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let wall = start.elapsed();
    let mut hosts: Vec<String> = sink
        .received()
        .iter()
        .map(|r| r.headers["host"].to_str().unwrap().to_string())
        .collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), inboxes.len(), "every host got it");
    println!(
        "fanout  one activity to {} inboxes on {} host names: all acknowledged in {:.2}s = {:.0} deliveries/s (8 workers)",
        inboxes.len(),
        hosts.len(),
        wall.as_secs_f64(),
        inboxes.len() as f64 / wall.as_secs_f64()
    );
    println!(
        "limit   one RSA sign per delivery: at least {:.2}s on one core ({:.0} signs/s)",
        inboxes.len() as f64 / rsa.signs,
        rsa.signs
    );
    app.stop().await;
}
