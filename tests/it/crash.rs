//! Deliveries survive a crash: the built binary is killed with SIGKILL in
//! the middle of a batch, or right after answering a post whose audience
//! it had not expanded yet, and started again; every inbox still receives
//! the activity, with the same id (and, when the crash came before any
//! sending, once).

use std::time::Duration;

use serde_json::json;

use crate::fake::FakeServer;
use crate::harness::queue_activity;
use crate::process::{Instance, wait_for_quiet_queue, wait_until};

/// An instance whose processes run `workers` delivery workers, one
/// request at a time per host.
async fn instance(workers: usize) -> Instance {
    let mut alpha = Instance::new().await;
    alpha.set("SKEIN_DELIVERY__WORKERS", workers.to_string());
    alpha.set("SKEIN_DELIVERY__PER_HOST", "1");
    alpha
}

#[tokio::test]
async fn a_delivery_batch_killed_midway_is_finished_after_a_restart() {
    let alpha = instance(1).await;
    let alice = alpha.create_user("alice").await;
    let (pool, port) = (alpha.db.clone(), alpha.port);

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

    let first = alpha.start("all", port);
    wait_until("a few inboxes received the activity", async || {
        sink.received().len() >= 3
    })
    .await;
    assert!(!first.kill().await.success(), "the process was killed");
    let before_restart = sink.received().len();
    assert!(
        before_restart < inboxes.len(),
        "killed in the middle of the batch"
    );

    let second = alpha.start("all", port);
    wait_until("every inbox received the activity", async || {
        let received = sink.received();
        inboxes
            .iter()
            .all(|inbox| received.iter().any(|r| inbox.ends_with(&r.path)))
    })
    .await;
    for received in sink.received() {
        assert_eq!(received.body["id"], activity_id, "the same activity id");
    }
    wait_for_quiet_queue(&pool).await;
    assert!(second.stop().await.success());
}

#[tokio::test]
async fn a_post_whose_fan_out_was_cut_by_a_crash_reaches_every_inbox_once_after_a_restart() {
    let mut alpha = instance(0).await;
    let alice = alpha.create_user("alice").await;
    let token = alpha.token("alice").await;
    let (pool, port) = (alpha.db.clone(), alpha.port);
    let sink = FakeServer::spawn("sink").await;
    let hosts = crate::fanout::sink_followers(&pool, &sink, alice.id, 1500, 300).await;

    // The first process runs no workers: it answers the post and dies
    // before anything expands the rest of its audience.
    let first = alpha.start("all", port);
    let client = reqwest::Client::builder()
        .resolve("alpha.test", ([127, 0, 0, 1], port).into())
        .no_proxy()
        .build()
        .unwrap();
    first.ready().await;
    let response = client
        .post(format!("http://alpha.test:{port}/api/v1/statuses"))
        .bearer_auth(&token)
        .json(&json!({ "status": "before the crash", "visibility": "public" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the post was accepted");
    let post: serde_json::Value = response.json().await.unwrap();
    first.kill().await;
    let waiting: i64 = sqlx::query_scalar("select count(*) from fanouts")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(waiting, 1, "the fan-out was cut short");
    assert!(sink.received().is_empty());

    alpha.set("SKEIN_DELIVERY__WORKERS", "1");
    let second = alpha.start("all", port);
    wait_until("every inbox received the post", async || {
        crate::fanout::by_host(&sink.received()).len() == hosts.len()
    })
    .await;
    wait_for_quiet_queue(&pool).await;
    let activity = format!("{}/activity", post["uri"].as_str().unwrap());
    let received = crate::fanout::by_host(&sink.received());
    for host in &hosts {
        assert_eq!(received[host].len(), 1, "{host} got the post once");
        assert_eq!(received[host][0].body["id"], activity);
    }
    assert!(second.stop().await.success());
}
