//! Federation benchmarks: inbox ingest through the real binary, beside the
//! single-row insert rate of the same database.
//!
//!   cargo bench --bench federation          full size
//!   cargo test --bench federation           smoke size (CI runs this)
//!
//! (a) Ingest. A private PostgreSQL cluster is started for the run, durable
//!     (fsync and synchronous commit on, checked). The built `skein` binary
//!     serves on loopback with its delivery workers on and the default
//!     configuration otherwise. Remote actors on several fake servers (real
//!     keys, on loopback through the test-network host map) send signed
//!     activities to the shared inbox, signed before the clock starts:
//!     Creates of Notes that mention a local account and carry a hashtag,
//!     and Likes of the local account's posts, at 32 concurrent senders.
//!     Every answer must be 2xx and every activity must be stored afterwards
//!     (rows counted), or the benchmark fails. Beside the figures: pgbench's
//!     single-row insert rate (16 clients) on the same cluster in the same
//!     run, and the ratio of the two.
//! (b) Key-miss storm: concurrent signed POSTs from an actor never seen
//!     before; how many times its document was fetched.
//! (c) Statements: with `log_statement = all` for a moment, how many SQL
//!     statements one more Create and one more Like cost (everything the
//!     server ran in the meantime, workers and listener included).
//!
//! Fan-out (one post to many inboxes) is `benches/fanout.rs`.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "../tests/it/fake.rs"]
mod fake;
#[path = "../tests/it/harness.rs"]
mod harness;

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use skein::federation::signatures::{SigningKey, VerifyingKey};

use common::{Bench, percentile};
use tokio::sync::Semaphore;

use fake::{FakeActor, FakeServer};

/// The goals, printed beside the figures.
const GOAL_RATIO: f64 = 0.25;
const GOAL_P99_MS: f64 = 100.0;

struct Size {
    /// Fake servers, and remote actors on each.
    servers: usize,
    actors_per_server: usize,
    /// Activities in the timed run; one in three is a Like.
    activities: usize,
    /// Local posts the Likes are spread over.
    local_posts: usize,
    concurrency: usize,
    pgbench_seconds: u32,
    storm: usize,
}

const FULL: Size = Size {
    servers: 4,
    actors_per_server: 16,
    activities: 3000,
    local_posts: 20,
    concurrency: 32,
    pgbench_seconds: 10,
    storm: 1000,
};
const SMOKE: Size = Size {
    servers: 2,
    actors_per_server: 3,
    activities: 60,
    local_posts: 4,
    concurrency: 32,
    pgbench_seconds: 2,
    storm: 50,
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
        ingest(&size).await;
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A signed request: its headers and body.
type Signed = (Vec<(&'static str, String)>, Vec<u8>);

/// Posts signed requests to the shared inbox, at most `concurrency` at a
/// time; each request's latency (sorted) and the wall time. Every answer
/// must be 2xx.
async fn fire(
    bench: &Bench,
    requests: Vec<Signed>,
    concurrency: usize,
) -> (Vec<Duration>, Duration) {
    let limit = Arc::new(Semaphore::new(concurrency));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (headers, body) in requests {
        let permit = limit.clone().acquire_owned().await.unwrap();
        let client = bench.client.clone();
        let url = bench.url("/inbox");
        tasks.push(tokio::spawn(async move {
            let began = Instant::now();
            let mut request = client.post(url).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await.expect("the inbox answers");
            let latency = began.elapsed();
            drop(permit);
            let status = response.status();
            assert!(
                status.is_success(),
                "the inbox accepts the activity: {status} {}",
                response.text().await.unwrap_or_default()
            );
            latency
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.push(task.await.unwrap());
    }
    let wall = start.elapsed();
    latencies.sort();
    (latencies, wall)
}

/// What the remote side sends.
struct Remote {
    servers: Vec<FakeServer>,
    actors: Vec<(usize, FakeActor)>,
}

impl Remote {
    fn sign(&self, bench: &Bench, sender: usize, activity: &Value) -> Signed {
        let (server, actor) = &self.actors[sender];
        let body = serde_json::to_vec(activity).unwrap();
        let headers = self.servers[*server].sign(actor, &bench.url("/inbox"), &body);
        (headers, body)
    }

    fn create(&self, bench: &Bench, sender: usize, n: usize, alice: &str) -> Value {
        let (server, actor) = &self.actors[sender];
        let base = &self.servers[*server].base;
        let note = format!("{base}/notes/{}-{n}", actor.name);
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{note}/activity"),
            "type": "Create",
            "actor": actor.id,
            "published": chrono::Utc::now().to_rfc3339(),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{}/followers", actor.id), alice],
            "object": {
                "id": note,
                "type": "Note",
                "attributedTo": actor.id,
                "published": chrono::Utc::now().to_rfc3339(),
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [format!("{}/followers", actor.id), alice],
                "content": format!(
                    "<p><span class=\"h-card\"><a href=\"{alice}\" class=\"u-url mention\">@<span>alice</span></a></span> note {n} from {} <a href=\"{base}/tags/skeinbench\" class=\"mention hashtag\" rel=\"tag\">#<span>skeinbench</span></a></p>",
                    actor.name
                ),
                "tag": [
                    { "type": "Mention", "href": alice, "name": format!("@alice@{}", bench.domain) },
                    { "type": "Hashtag", "href": format!("{base}/tags/skeinbench"), "name": "#skeinbench" },
                ],
            },
        })
    }

    fn like(&self, sender: usize, n: usize, post: &str) -> Value {
        let (server, actor) = &self.actors[sender];
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/likes/{}-{n}", self.servers[*server].base, actor.name),
            "type": "Like",
            "actor": actor.id,
            "object": post,
        })
    }
}

async fn ingest(size: &Size) {
    let mut bench = Bench::start().await;
    bench.run(&["user", "create", "alice", "--email", "alice@bench.example"]);
    let token = bench.run(&["token", "create", "alice"]).trim().to_string();
    bench.serve().await;
    let alice = bench.url("/users/alice");

    // The local posts that remote actors like (the last one is kept for
    // counting statements).
    let mut posts = Vec::new();
    for n in 0..=size.local_posts {
        let response = bench
            .client
            .post(bench.url("/api/v1/statuses"))
            .bearer_auth(&token)
            .json(&json!({ "status": format!("local post {n}"), "visibility": "public" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "alice posts");
        let status: Value = response.json().await.unwrap();
        posts.push(status["uri"].as_str().unwrap().to_string());
    }

    let mut servers = Vec::new();
    for s in 0..size.servers {
        servers.push(FakeServer::spawn(&format!("remote{s}")).await);
    }
    let actors = (0..size.servers)
        .flat_map(|s| (0..size.actors_per_server).map(move |a| (s, a)))
        .map(|(s, a)| (s, servers[s].add_actor(&format!("a{a}"), false)))
        .collect();
    let remote = Remote { servers, actors };
    let senders = remote.actors.len();

    // Untimed: each actor's first activity makes Skein fetch its document.
    let warmup: Vec<Signed> = (0..senders)
        .map(|s| remote.sign(&bench, s, &remote.create(&bench, s, 0, &alice)))
        .collect();
    fire(&bench, warmup, size.concurrency).await;

    // Signed before the clock starts: Creates and Likes, interleaved, each
    // Like of a local post its sender has not liked yet.
    assert!(
        size.activities / 3 <= senders * size.local_posts,
        "enough distinct likes"
    );
    let mut creates = 0;
    let mut likes = 0;
    let requests: Vec<Signed> = (0..size.activities)
        .map(|i| {
            let sender = i % senders;
            if i % 3 == 2 {
                // Each actor in turn likes the next post it has not liked.
                let (liker, n) = (likes % senders, likes / senders);
                likes += 1;
                remote.sign(&bench, liker, &remote.like(liker, n, &posts[n]))
            } else {
                creates += 1;
                remote.sign(
                    &bench,
                    sender,
                    &remote.create(&bench, sender, 1 + i, &alice),
                )
            }
        })
        .collect();
    let profile = Profile::start();
    let (latencies, wall) = fire(&bench, requests, size.concurrency).await;
    drop(profile);
    let spare = posts.pop().expect("a post kept aside");

    // A 2xx means stored: count the rows.
    let stored_posts = bench
        .count("select count(*) from posts p join actors a on a.id = p.author_id where a.domain is not null")
        .await;
    assert_eq!(
        stored_posts,
        senders + creates,
        "every accepted Create is stored as a post"
    );
    let stored_likes = bench.count("select count(*) from likes").await;
    if stored_likes != likes {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "select kind, payload->>'object', payload->>'id' from inbox_activities where kind = 'Like' limit 3",
        )
        .fetch_all(&bench.pool)
        .await
        .unwrap_or_default();
        eprintln!("posts liked: {:?}; recorded Likes: {rows:?}", &posts[..1]);
    }
    assert_eq!(stored_likes, likes, "every accepted Like is stored");
    let notifications = bench.count("select count(*) from notifications").await;
    assert_eq!(
        notifications,
        senders + creates + likes,
        "every mention and like notified alice"
    );
    let tagged = bench
        .count("select count(*) from post_tags where tag = 'skeinbench'")
        .await;
    assert_eq!(
        tagged,
        senders + creates,
        "every Create's hashtag is stored"
    );

    let pgbench = pgbench(&bench, size.pgbench_seconds).await;
    let rate = latencies.len() as f64 / wall.as_secs_f64();
    let p50 = ms(percentile(&latencies, 0.5));
    let p99 = ms(percentile(&latencies, 0.99));
    println!(
        "ingest: {rate:.0} activities/s  p50 {p50:.0} ms  p99 {p99:.0} ms | pgbench single-row inserts (16 clients): {pgbench:.0}/s | ratio {:.2} (goal >= {GOAL_RATIO})  p99 goal <= {GOAL_P99_MS:.0} ms",
        rate / pgbench,
    );
    println!(
        "        {} activities ({creates} Creates with a mention and a hashtag, {likes} Likes) from {senders} actors on {} servers, {} concurrent senders, in {:.2}s; durable cluster, delivery workers on",
        latencies.len(),
        remote.servers.len(),
        size.concurrency,
        wall.as_secs_f64(),
    );

    storm(&bench, &posts, size.storm).await;
    statements(&bench, &remote, &alice, &spare).await;
}

/// With `SKEIN_BENCH_PERF=<file>`, a whole-machine `perf record` of the
/// timed ingest, for finding where its time goes.
struct Profile(Option<Child>);

impl Profile {
    fn start() -> Profile {
        Profile(std::env::var_os("SKEIN_BENCH_PERF").map(|out| {
            Command::new("perf")
                .args(["record", "-e", "cpu-clock", "-F", "999", "-a", "-g", "-o"])
                .arg(out)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("perf runs")
        }))
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        if let Some(mut perf) = self.0.take() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(perf.id() as i32),
                nix::sys::signal::Signal::SIGINT,
            );
            let _ = perf.wait();
        }
    }
}

/// pgbench's rate of single-row inserts (16 clients) on the bench's cluster.
async fn pgbench(bench: &Bench, seconds: u32) -> f64 {
    sqlx::query(
        "create table pgbench_single_row (
             id bigint generated always as identity primary key,
             body text not null,
             at timestamptz not null)",
    )
    .execute(&bench.pool)
    .await
    .unwrap();
    let script = bench.tmp.path().join("single-row.sql");
    std::fs::write(
        &script,
        "insert into pgbench_single_row (body, at) values ('a row of text, as a post would have', now());\n",
    )
    .unwrap();
    let output = Command::new("pgbench")
        .arg("-h")
        .arg(&bench.socket_dir)
        .args(["-U", "skein", "-n", "-c", "16", "-j", "4", "-T"])
        .arg(seconds.to_string())
        .arg("-f")
        .arg(&script)
        .arg("skein")
        .env("PATH", pgbench_path())
        .output()
        .expect("pgbench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pgbench failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let inserted = bench.count("select count(*) from pgbench_single_row").await;
    assert!(inserted > 0, "pgbench inserted rows");
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("tps = "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("pgbench printed its rate: {stdout}"))
}

/// PATH with the PostgreSQL client binaries.
fn pgbench_path() -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/usr/bin"));
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        dirs.extend(entries.flatten().map(|e| e.path().join("bin")));
    }
    std::env::join_paths(dirs).unwrap()
}

/// Concurrent signed POSTs from an actor Skein has never seen: how many
/// times its document is fetched.
async fn storm(bench: &Bench, posts: &[String], n: usize) {
    let server = FakeServer::spawn("storm").await;
    let actor = server.add_actor("newcomer", false);
    let requests: Vec<Signed> = (0..n)
        .map(|i| {
            let body = serde_json::to_vec(&json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": format!("{}/likes/storm-{i}", server.base),
                "type": "Like",
                "actor": actor.id,
                "object": posts[i % posts.len()],
            }))
            .unwrap();
            (server.sign(&actor, &bench.url("/inbox"), &body), body)
        })
        .collect();
    let start = Instant::now();
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(headers, body)| {
            let client = bench.client.clone();
            let url = bench.url("/inbox");
            tokio::spawn(async move {
                let mut request = client.post(url).body(body);
                for (name, value) in headers {
                    request = request.header(name, value);
                }
                request
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for task in tasks {
        *statuses.entry(task.await.unwrap()).or_default() += 1;
    }
    let statuses: Vec<String> = statuses
        .iter()
        .map(|(status, count)| format!("{count}x {status}"))
        .collect();
    println!(
        "key-miss storm: {n} concurrent signed POSTs from an actor never seen: its document fetched {} times (goal 1) in {:.2}s; answers {}",
        server.actor_fetches(),
        start.elapsed().as_secs_f64(),
        statuses.join(", ")
    );
}

/// The SQL statements one Create and one Like cost, from the server's
/// statement log.
async fn statements(bench: &Bench, remote: &Remote, alice: &str, post: &str) {
    let set = |value: &'static str| async move {
        sqlx::query(&format!("alter system set log_statement = '{value}'"))
            .execute(&bench.pool)
            .await
            .unwrap();
        sqlx::query("select pg_reload_conf()")
            .execute(&bench.pool)
            .await
            .unwrap();
        // The reload reaches each backend at its next command.
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    set("all").await;
    let mut report = Vec::new();
    let kinds = [
        ("Create", remote.create(bench, 0, 1_000_000, alice)),
        ("Like", remote.like(1, 1_000_000, post)),
    ];
    let mut excerpt = String::new();
    for (kind, activity) in kinds {
        let start = log_length(&bench.server_log);
        let request = remote.sign(bench, if kind == "Create" { 0 } else { 1 }, &activity);
        let (latencies, _) = fire(bench, vec![request], 1).await;
        // The listener and the workers act after the commit.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let text = log_since(&bench.server_log, start);
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("LOG:  statement: ") || l.contains("LOG:  execute "))
            .filter(|l| !l.contains("alter system") && !l.contains("pg_reload_conf"))
            .collect();
        report.push(format!(
            "{kind} {} ({:.0} ms)",
            lines.len(),
            ms(latencies[0])
        ));
        excerpt.push_str(&format!("== {kind}: {} statements\n", lines.len()));
        for line in lines {
            excerpt.push_str(line);
            excerpt.push('\n');
        }
    }
    set("none").await;
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("federation-statements.log");
    std::fs::write(&out, excerpt).unwrap();
    println!(
        "statements per activity (everything the server ran meanwhile, workers and listener too): {}; listed in {}",
        report.join(", "),
        out.display()
    );
}

fn log_length(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn log_since(path: &Path, offset: u64) -> String {
    let mut file = std::fs::File::open(path).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    text
}
