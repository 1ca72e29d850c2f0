//! Deliveries survive a crash: the built binary is killed with SIGKILL in
//! the middle of a batch and started again, and every inbox still receives
//! the activity, with the same id.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use skein::federation::urls::Urls;
use skein::service::accounts::{self, NewAccount, Role};

use crate::fake::FakeServer;
use crate::harness::fresh_database_url;

const BIN: &str = env!("CARGO_BIN_EXE_skein");

fn start(database_url: &str, port: u16) -> Child {
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
        .env("SKEIN_DELIVERY__WORKERS", "1")
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
    let mut conn = pool.acquire().await.unwrap();
    skein::db::deliveries::enqueue(
        &mut conn,
        &activity_id,
        &payload,
        alice.id,
        &inboxes,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    drop(conn);

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
