//! Deliveries survive a crash: the built binary is killed with SIGKILL in
//! the middle of a batch, or right after answering a post whose audience
//! it had not expanded yet, and started again; every inbox still receives
//! the activity, with the same id (and, when the crash came before any
//! sending, once).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use skein::federation::urls::Urls;
use skein::service::accounts::{self, NewAccount, Role};

use crate::fake::FakeServer;
use crate::harness::{fresh_database_url, queue_activity};

const BIN: &str = env!("CARGO_BIN_EXE_skein");

fn start(database_url: &str, port: u16) -> Child {
    start_with(database_url, port, 1)
}

fn start_with(database_url: &str, port: u16, workers: usize) -> Child {
    Command::new(BIN)
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("SKEIN_DATABASE_URL", database_url)
        .env("SKEIN_DOMAIN", format!("alpha.test:{port}"))
        .env("SKEIN_SCHEME", "http")
        .env("SKEIN_LISTEN", format!("127.0.0.1:{port}"))
        .env("SKEIN_TEST_NETWORK__ENABLED", "true")
        .env(
            "SKEIN_TEST_NETWORK__HOSTS",
            "{ \"*.test\" = \"127.0.0.1\" }",
        )
        .env("SKEIN_DELIVERY__WORKERS", workers.to_string())
        .env("SKEIN_DELIVERY__PER_HOST", "1")
        .env("SKEIN_LOG__LEVEL", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts")
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_delivery_batch_killed_midway_is_finished_after_a_restart() {
    let (pool, database_url) = fresh_database_url().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let urls = Urls::new(url::Url::parse(&format!("http://alpha.test:{port}/")).unwrap());
    let alice = accounts::create(
        &pool,
        &urls,
        NewAccount {
            username: "alice",
            email: None,
            password: "correct horse battery",
            role: Role::User,
            approved: true,
            fediverse_sharing: true,
        },
    )
    .await
    .unwrap()
    .actor;

    let sink = FakeServer::spawn("sink").await;
    sink.set_delay(Duration::from_millis(100));
    let inboxes: Vec<String> = (0..24)
        .map(|i| format!("{}/users/u{i}/inbox", sink.base))
        .collect();
    let activity_id = format!("http://alpha.test:{port}/activities/crash-test");
    let payload = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": activity_id, "type": "Update", "actor": alice.ap_id, "object": alice.ap_id,
    })
    .to_string();
    queue_activity(
        &pool,
        &activity_id,
        alice.id,
        &payload,
        &inboxes,
        chrono::Utc::now(),
    )
    .await;

    let first = start(&database_url, port);
    wait_until("a few inboxes received the activity", || {
        sink.received().len() >= 3
    })
    .await;
    kill(Pid::from_raw(first.id() as i32), Signal::SIGKILL).unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let mut first = first;
        first.wait()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(!status.success(), "the process was killed");
    let before_restart = sink.received().len();
    assert!(
        before_restart < inboxes.len(),
        "killed in the middle of the batch"
    );

    let second = start(&database_url, port);
    wait_until("every inbox received the activity", || {
        let received = sink.received();
        inboxes
            .iter()
            .all(|inbox| received.iter().any(|r| inbox.ends_with(&r.path)))
    })
    .await;
    for received in sink.received() {
        assert_eq!(received.body["id"], activity_id, "the same activity id");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending: i64 =
            sqlx::query_scalar("select count(*) from deliveries where state <> 'delivered'")
                .fetch_one(&pool)
                .await
                .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} deliveries never finished"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    kill(Pid::from_raw(second.id() as i32), Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let mut second = second;
        second.wait()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn a_post_whose_fan_out_was_cut_by_a_crash_reaches_every_inbox_once_after_a_restart() {
    let (pool, database_url) = fresh_database_url().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let urls = Urls::new(url::Url::parse(&format!("http://alpha.test:{port}/")).unwrap());
    let alice = accounts::create(
        &pool,
        &urls,
        NewAccount {
            username: "alice",
            email: None,
            password: "correct horse battery",
            role: Role::User,
            approved: true,
            fediverse_sharing: true,
        },
    )
    .await
    .unwrap()
    .actor;
    let token = skein::service::oauth::create_script_token(&pool, chrono::Utc::now(), "alice")
        .await
        .unwrap();
    let sink = FakeServer::spawn("sink").await;
    let hosts = crate::fanout::sink_followers(&pool, &sink, alice.id, 1500, 300).await;

    // The first process runs no workers: it answers the post and dies
    // before anything expands the rest of its audience.
    let first = start_with(&database_url, port, 0);
    let client = reqwest::Client::builder()
        .resolve("alpha.test", ([127, 0, 0, 1], port).into())
        .no_proxy()
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let response = loop {
        let sent = client
            .post(format!("http://alpha.test:{port}/api/v1/statuses"))
            .bearer_auth(&token)
            .json(&json!({ "status": "before the crash", "visibility": "public" }))
            .send()
            .await;
        if let Ok(response) = sent {
            break response;
        }
        assert!(
            Instant::now() < deadline,
            "the first process never answered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(response.status(), 200, "the post was accepted");
    let post: serde_json::Value = response.json().await.unwrap();
    kill(Pid::from_raw(first.id() as i32), Signal::SIGKILL).unwrap();
    tokio::task::spawn_blocking(move || {
        let mut first = first;
        first.wait()
    })
    .await
    .unwrap()
    .unwrap();
    let waiting: i64 = sqlx::query_scalar("select count(*) from fanouts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(waiting, 1, "the fan-out was cut short");
    assert!(sink.received().is_empty());

    let second = start(&database_url, port);
    wait_until("every inbox received the post", || {
        crate::fanout::by_host(&sink.received()).len() == hosts.len()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pending: i64 = sqlx::query_scalar(
            "select (select count(*) from deliveries where state <> 'delivered')
                  + (select count(*) from fanouts)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        if pending == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{pending} never finished");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let activity = format!("{}/activity", post["uri"].as_str().unwrap());
    let received = crate::fanout::by_host(&sink.received());
    for host in &hosts {
        assert_eq!(received[host].len(), 1, "{host} got the post once");
        assert_eq!(received[host][0].body["id"], activity);
    }
    kill(Pid::from_raw(second.id() as i32), Signal::SIGTERM).unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let mut second = second;
        second.wait()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(status.success());
}
