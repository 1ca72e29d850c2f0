//! Process roles: web processes serve, worker processes run the jobs, and
//! timed work runs once whatever the number of workers.

use serde_json::json;
use skein::jobs::WorkerLock;
use skein::jobs::timed::{self, Work};

use crate::fake::FakeServer;
use crate::harness::{TestApp, queue_activity};
use crate::process::{Instance, free_port, wait_until};

#[tokio::test]
async fn a_web_process_serves_and_a_worker_process_runs_the_jobs() {
    let alpha = Instance::new().await;
    let alice = alpha.create_user("alice").await;
    let port = alpha.port;
    let pool = alpha.db.clone();

    let web = alpha.start("web", port);
    web.ready().await;

    // Something for the jobs: a delivery to several inboxes.
    let sink = FakeServer::spawn("sink").await;
    let inboxes: Vec<String> = (0..6)
        .map(|i| format!("{}/users/u{i}/inbox", sink.base))
        .collect();
    let activity_id = format!("http://alpha.test:{port}/activities/roles-test");
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

    // The worker binds nothing: its configured address stays free.
    let worker_listen = free_port();
    let worker = alpha.start("worker", worker_listen);
    wait_until("the worker delivered to every inbox", async || {
        sink.received().len() >= inboxes.len()
    })
    .await;
    wait_until("the worker ran the timed work", async || {
        let runs: i64 = sqlx::query_scalar("select count(*) from timed_work where runs > 0")
            .fetch_one(&pool)
            .await
            .unwrap();
        runs == Work::ALL.len() as i64
    })
    .await;
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", worker_listen)).is_ok(),
        "a worker process listens on nothing"
    );
    assert!(worker.stop().await.success(), "stopped cleanly on SIGTERM");
    assert!(web.stop().await.success(), "stopped cleanly on SIGTERM");
    let mut received: Vec<String> = sink.received().into_iter().map(|r| r.path).collect();
    received.sort();
    let mut expected: Vec<String> = (0..6).map(|i| format!("/users/u{i}/inbox")).collect();
    expected.sort();
    assert_eq!(received, expected, "once to each inbox");
}

async fn runs(app: &TestApp, work: Work) -> i64 {
    sqlx::query_scalar("select runs from timed_work where name = $1")
        .bind(work.name())
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn timed_work_runs_once_across_processes_and_is_taken_over_from_a_dead_one() {
    let first = TestApp::spawn().await;
    let second = first.spawn_beside().await;
    let one = WorkerLock::acquire(&first.db).await.unwrap();
    let two = WorkerLock::acquire(&first.db).await.unwrap();

    // Both processes look at once: each kind of work runs once.
    let (a, b) = tokio::join!(
        timed::run_due(&first.state, one.id),
        timed::run_due(&second.state, two.id)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), Work::ALL.len(), "{a:?} {b:?}");
    for work in Work::ALL {
        assert_eq!(runs(&first, work).await, 1, "{work:?}");
    }
    // Nothing is due again until its time comes, on the instance's clock.
    assert!(
        timed::run_due(&second.state, two.id)
            .await
            .unwrap()
            .is_empty()
    );
    first.clock.advance(Work::PollEndings.every());
    second.clock.advance(Work::PollEndings.every());
    // What comes round at least as often as poll endings runs again.
    let often: Vec<Work> = Work::ALL
        .into_iter()
        .filter(|w| w.every() <= Work::PollEndings.every())
        .collect();
    assert!(often.contains(&Work::PollEndings) && !often.contains(&Work::Cleanup));
    assert_eq!(timed::run_due(&second.state, two.id).await.unwrap(), often);
    assert_eq!(runs(&first, Work::PollEndings).await, 2);

    // A live process's claim holds: the other does not run the work too.
    first.clock.advance(Work::Cleanup.every());
    second.clock.advance(Work::Cleanup.every());
    let now = first.state.clock.now();
    assert!(
        skein::db::timed_work::claim(
            &first.db,
            "cleanup",
            one.id,
            now,
            now + chrono::Duration::minutes(30)
        )
        .await
        .unwrap()
    );
    assert!(
        !timed::run_due(&second.state, two.id)
            .await
            .unwrap()
            .contains(&Work::Cleanup)
    );
    // Once that process is gone (its worker lock with it), the run is
    // taken over at once, lease or not.
    one.release().await;
    assert!(
        timed::run_due(&second.state, two.id)
            .await
            .unwrap()
            .contains(&Work::Cleanup)
    );
    assert_eq!(runs(&first, Work::Cleanup).await, 2);
    two.release().await;
}

#[tokio::test]
async fn voters_and_the_author_are_told_once_when_a_poll_ends() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    app.create_user("carol").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let (status, poll) = app
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "lunch?", "poll": {"options": ["soup", "salad"], "expires_in": 300}}),
        )
        .await;
    assert_eq!(status, 200, "{poll}");
    let poll_id = poll["poll"]["id"].as_str().unwrap().to_string();
    let (status, voted) = app
        .api_post(
            &bob,
            &format!("/api/v1/polls/{poll_id}/votes"),
            json!({"choices": [0]}),
        )
        .await;
    assert_eq!(status, 200, "{voted}");
    let lock = WorkerLock::acquire(&app.db).await.unwrap();
    let polls = async |token: &str| -> Vec<String> {
        let (status, list) = app
            .api_get(token, "/api/v1/notifications?types[]=poll")
            .await;
        assert_eq!(status, 200, "{list}");
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| n["status"]["id"].as_str().unwrap().to_string())
            .collect()
    };

    // Before the end, nobody is told.
    timed::run_due(&app.state, lock.id).await.unwrap();
    assert!(polls(&bob).await.is_empty());

    app.clock.advance(chrono::Duration::minutes(6));
    timed::run_due(&app.state, lock.id).await.unwrap();
    let post_id = poll["id"].as_str().unwrap().to_string();
    assert_eq!(polls(&bob).await, vec![post_id.clone()], "the voter");
    assert_eq!(polls(&alice).await, vec![post_id.clone()], "the author");
    assert!(polls(&carol).await.is_empty(), "not a voter");

    // Told once, however often the work runs.
    app.clock.advance(chrono::Duration::minutes(6));
    timed::run_due(&app.state, lock.id).await.unwrap();
    assert_eq!(polls(&bob).await.len(), 1);
    let noticed: i64 =
        sqlx::query_scalar("select count(*) from polls where end_noticed_at is not null")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(noticed, 1);
    lock.release().await;
}
