//! A larger instance's topology, with the built binary: two web processes
//! and one worker on one PostgreSQL database and one S3 bucket. A post made
//! through one web process streams to a client of the other; media uploaded
//! through one is served by both; sign-in guesses count across both; the
//! worker delivers each post once per inbox, and a SIGKILL in the middle of
//! a fan-out loses nothing and sends nothing again that it had finished.

use std::collections::HashSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::fake::FakeServer;
use crate::process::{Instance, PASSWORD, Process, free_port, wait_for_quiet_queue, wait_until};
use crate::streaming::{connect_to, next, payload};

/// A client of one process that names the instance in its requests, as a
/// load balancer in front of the processes would pass them on.
fn client(process: &Process) -> reqwest::Client {
    reqwest::Client::builder()
        .resolve("alpha.test", ([127, 0, 0, 1], process.listen).into())
        .no_proxy()
        .build()
        .unwrap()
}

async fn sign_in(alpha: &Instance, process: &Process, password: &str) -> StatusCode {
    reqwest::Client::builder()
        .resolve("alpha.test", ([127, 0, 0, 1], process.listen).into())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("http://{}/auth/sign_in", alpha.domain()))
        .header(reqwest::header::COOKIE, "skein_csrf=abcdefghijklmnop")
        .form(&[
            ("csrf_token", "abcdefghijklmnop"),
            ("login", "bob"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

/// Every file under `dir`, however deep.
fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[tokio::test]
async fn two_web_processes_and_a_worker_serve_one_instance() {
    let s3 = crate::s3::start_s3_server().await;
    let mut alpha = Instance::new().await;
    for (key, value) in s3.env("stream") {
        alpha.set(&key, value);
    }
    alpha.set("SKEIN_DELIVERY__WORKERS", "1");
    alpha.set("SKEIN_DELIVERY__PER_HOST", "1");
    let alice = alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice_token = alpha.token("alice").await;
    let bob_token = alpha.token("bob").await;
    let sink = FakeServer::spawn("sink").await;
    sink.set_delay(Duration::from_millis(150));
    let hosts = crate::fanout::sink_followers(&alpha.db, &sink, alice.id, 600, 200).await;

    // Each web process has a data directory of its own: media can only be
    // shared through the bucket.
    let (own_one, own_two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let one = alpha.start_with(
        "web",
        alpha.port,
        &[("SKEIN_DATA_DIR", own_one.path().display().to_string())],
    );
    let two = alpha.start_with(
        "web",
        free_port(),
        &[("SKEIN_DATA_DIR", own_two.path().display().to_string())],
    );
    one.ready().await;
    two.ready().await;
    let base = format!("http://{}", alpha.domain());

    // A post made through the first web process streams to a client of
    // the second.
    let mut socket = connect_to(
        ([127, 0, 0, 1], two.listen).into(),
        &bob_token,
        "stream=public:local",
    )
    .await;
    let response = client(&one)
        .post(format!("{base}/api/v1/statuses"))
        .bearer_auth(&alice_token)
        .json(&json!({"status": "made on one, seen on two", "visibility": "public"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let post: serde_json::Value = response.json().await.unwrap();
    let message = next(&mut socket).await;
    assert_eq!(message["event"], "update", "{message}");
    assert_eq!(payload(&message)["id"], post["id"], "{message}");

    // Media uploaded through one is in the bucket, and both serve it.
    let image = crate::media::png(64, 48);
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(image)
            .file_name("photo.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let response = client(&one)
        .post(format!("{base}/api/v2/media"))
        .bearer_auth(&alice_token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let media: serde_json::Value = response.json().await.unwrap();
    let url = url::Url::parse(media["url"].as_str().unwrap()).unwrap();
    let file = url.path().rsplit('/').next().unwrap().to_string();
    let names = s3.names().await;
    assert!(
        names.iter().any(|name| name.ends_with(&file)),
        "{file} is in the bucket: {names:?}"
    );
    for dir in [&own_one, &own_two, &alpha.data_dir] {
        assert!(
            files_under(dir.path())
                .iter()
                .all(|path| !path.ends_with(&file)),
            "not on a process's own disk"
        );
    }
    let mut served = Vec::new();
    for process in [&one, &two] {
        let response = client(process)
            .get(format!("{base}/media/{file}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "served by {}", process.listen);
        served.push(response.bytes().await.unwrap());
    }
    assert_eq!(served[0], served[1], "the same file from both");
    let decoded = image::load_from_memory(&served[0]).expect("an image");
    assert_eq!((decoded.width(), decoded.height()), (64, 48));

    // Wrong passwords sent to both count against one account: five to
    // each spend its ten guesses, and then even the right one is refused
    // by either process.
    for n in 0..10 {
        let process = if n % 2 == 0 { &one } else { &two };
        assert_eq!(
            sign_in(&alpha, process, "wrong password").await,
            StatusCode::UNAUTHORIZED,
            "guess {n}"
        );
    }
    for process in [&one, &two] {
        assert_eq!(
            sign_in(&alpha, process, PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }

    // Web processes deliver nothing: the post waits for a worker.
    assert!(sink.received().is_empty(), "no worker yet");

    // The worker starts the fan-out and is killed in the middle of it.
    let worker = alpha.start("worker", free_port());
    wait_until("a part of the audience received the post", async || {
        crate::fanout::by_host(&sink.received()).len() >= hosts.len() / 5
    })
    .await;
    assert!(!worker.kill().await.success());
    wait_until("the requests it had under way ended", async || {
        sink.in_flight() == 0
    })
    .await;
    let recorded: HashSet<String> =
        sqlx::query_scalar("select host from deliveries where state = 'delivered'")
            .fetch_all(&alpha.db)
            .await
            .unwrap()
            .into_iter()
            .collect();
    let received_before: HashSet<String> = crate::fanout::by_host(&sink.received())
        .into_keys()
        .collect();
    assert!(
        received_before.len() < hosts.len(),
        "killed before the end: {} of {}",
        received_before.len(),
        hosts.len()
    );

    let worker = alpha.start("worker", free_port());
    wait_until("every inbox received the post", async || {
        crate::fanout::by_host(&sink.received()).len() == hosts.len()
    })
    .await;
    wait_for_quiet_queue(&alpha.db).await;
    let activity = format!("{}/activity", post["uri"].as_str().unwrap());
    let received = crate::fanout::by_host(&sink.received());
    for host in &hosts {
        let copies = &received[host];
        assert!(
            copies.iter().all(|r| r.body["id"] == activity),
            "{host} got only the post's activity"
        );
        if recorded.contains(host) || !received_before.contains(host) {
            // Finished before the crash, or never begun: exactly once.
            assert_eq!(copies.len(), 1, "{host} got the post once");
        } else {
            // Answered while the worker died, before it could write that
            // down: sent again with the same id, which the receiver drops
            // as a repeat.
            assert!(copies.len() <= 2, "{host}: {}", copies.len());
        }
    }
    let rows: i64 = sqlx::query_scalar("select count(*) from deliveries where activity_id = $1")
        .bind(&activity)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(rows, hosts.len() as i64, "one delivery per shared inbox");

    for process in [worker, one, two] {
        assert!(process.stop().await.success(), "stopped cleanly on SIGTERM");
    }
}
