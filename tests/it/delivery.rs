//! The durable delivery queue: fan-out once per shared inbox, Mastodon's
//! judgement of answers, backoff and giving up, dead domains, crash recovery
//! and the per-host cap, all on the injectable clock.

use chrono::Duration;
use serde_json::{Value, json};
use skein::clock::Clock;
use skein::service::profiles;

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};

/// Queues one activity from `sender` to each inbox, as a service would.
async fn enqueue(app: &TestApp, sender: i64, inboxes: &[String]) -> String {
    let id = format!("{}/activities/{}", app.base, uuid::Uuid::new_v4());
    let payload = json!({ "id": id, "type": "Update", "actor": "x", "object": "y" }).to_string();
    crate::harness::queue_activity(&app.db, &id, sender, &payload, inboxes, app.clock.now()).await;
    id
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    inbox_url: String,
    state: String,
    attempts: i32,
    last_status: Option<i32>,
    last_error: Option<String>,
    next_attempt_at: chrono::DateTime<chrono::Utc>,
}

async fn rows(app: &TestApp) -> Vec<Row> {
    sqlx::query_as(
        "select inbox_url, state, attempts, last_status, last_error, next_attempt_at
         from deliveries order by inbox_url",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// Makes `count` actors of `fake` follow `followee` on `app` for real.
async fn remote_followers(app: &TestApp, fake: &FakeServer, names: &[&str], followee: &str) {
    for name in names {
        let actor = fake.add_actor(name, false);
        let follow = json!({
            "id": format!("{}/activities/follow-{name}", fake.base),
            "type": "Follow",
            "actor": actor.id,
            "object": app.url(&format!("/users/{followee}")),
        });
        assert_eq!(app.post_signed(fake, &actor, "/inbox", follow).await, 202);
    }
}

#[tokio::test]
async fn an_activity_goes_once_to_each_shared_inbox_and_to_personal_inboxes_otherwise() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let shared = FakeServer::spawn("mastodon").await;
    let personal = FakeServer::spawn_with("mitra", false).await;
    remote_followers(&app, &shared, &["m1", "m2", "m3"], "alice").await;
    remote_followers(&app, &personal, &["p1", "p2"], "alice").await;
    app.deliver().await; // the five Accepts
    let accepts = shared.received().len() + personal.received().len();
    assert_eq!(accepts, 5);

    profiles::update(
        &app.state,
        &alice,
        profiles::ProfileUpdate {
            display_name: Some("Alice".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(app.deliver().await, 3);
    let updates = |fake: &FakeServer| -> Vec<(String, Value)> {
        fake.received()
            .into_iter()
            .filter(|r| r.body["type"] == "Update")
            .map(|r| (r.path, r.body))
            .collect()
    };
    let to_shared = updates(&shared);
    assert_eq!(to_shared.len(), 1);
    assert_eq!(to_shared[0].0, "/inbox");
    let mut to_personal: Vec<String> = updates(&personal).into_iter().map(|(p, _)| p).collect();
    to_personal.sort();
    assert_eq!(to_personal, vec!["/users/p1/inbox", "/users/p2/inbox"]);
    let update = &to_shared[0].1;
    assert_eq!(update["object"]["name"], "Alice");
    assert_eq!(update["object"]["publicKey"]["owner"], alice.ap_id);
    // Every copy carries the same activity id.
    assert_eq!(updates(&personal)[0].1["id"], update["id"]);
}

#[tokio::test]
async fn answers_are_judged_as_mastodon_judges_them() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let cases = [
        ("ok", 202, None),
        ("missing", 404, None),
        ("gone", 410, None),
        ("unimplemented", 501, None),
        ("stale-key", 401, None),
        ("busy", 503, None),
        ("slow-down", 429, Some("3600")),
    ];
    let mut inboxes = Vec::new();
    for (name, status, retry_after) in cases {
        let path = format!("/users/{name}/inbox");
        fake.answer_path(&path, status, retry_after);
        inboxes.push(format!("{}{path}", fake.base));
    }
    enqueue(&app, alice.id, &inboxes).await;
    let now = app.clock.now();
    assert_eq!(app.deliver().await, cases.len());
    // The 401 was knocked at twice in its attempt: RFC 9421, then cavage.
    assert_eq!(fake.received().len(), cases.len() + 1);

    let by_name = |rows: &[Row], name: &str| {
        let row = rows
            .iter()
            .find(|r| r.inbox_url.contains(&format!("/users/{name}/")))
            .unwrap();
        (
            row.state.clone(),
            row.last_status,
            row.next_attempt_at,
            row.last_error.clone(),
        )
    };
    let rows = rows(&app).await;
    assert_eq!(by_name(&rows, "ok").0, "delivered");
    for permanent in ["missing", "gone", "unimplemented"] {
        let (state, status, _, error) = by_name(&rows, permanent);
        assert_eq!(state, "failed", "{permanent}");
        assert!(status.is_some());
        assert!(error.unwrap().starts_with("HTTP "), "the reason is kept");
    }
    for transient in ["stale-key", "busy"] {
        let (state, _, next, _) = by_name(&rows, transient);
        assert_eq!(state, "pending", "{transient}");
        assert!(
            next > now && next <= now + Duration::seconds(40),
            "{transient}: {next}"
        );
    }
    let (state, status, next, _) = by_name(&rows, "slow-down");
    assert_eq!((state.as_str(), status), ("pending", Some(429)));
    // PostgreSQL keeps microseconds.
    assert!(
        next >= now + Duration::seconds(3600) - Duration::milliseconds(1),
        "Retry-After is honoured: {next} vs {now}"
    );

    // Nothing is due until the clock moves.
    assert_eq!(app.deliver().await, 0);
}

#[tokio::test]
async fn retries_back_off_until_they_give_up_after_two_days() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    fake.set_default_status(503);
    let start = app.clock.now();
    enqueue(&app, alice.id, &[format!("{}/inbox", fake.base)]).await;

    let mut gaps = Vec::new();
    loop {
        assert_eq!(app.deliver().await, 1);
        let row = rows(&app).await.remove(0);
        assert_eq!(row.attempts as usize, gaps.len() + 1);
        if row.state == "failed" {
            assert!(row.last_error.unwrap().starts_with("gave up after"));
            break;
        }
        assert_eq!(row.state, "pending");
        gaps.push(row.next_attempt_at - app.clock.now());
        app.clock.set(row.next_attempt_at);
        assert!(gaps.len() < 100, "retries end");
    }
    let elapsed = app.clock.now() - start;
    assert!(
        elapsed >= Duration::hours(40) && elapsed <= Duration::hours(48),
        "{elapsed}"
    );
    assert!(gaps.len() >= 10, "{} retries", gaps.len());
    // Exponential: each of the first gaps is longer than the one before.
    for pair in gaps[..6].windows(2) {
        assert!(pair[1] > pair[0], "{gaps:?}");
    }
    assert_eq!(fake.received().len(), gaps.len() + 1);
}

#[tokio::test]
async fn a_domain_failing_on_seven_days_is_skipped_until_it_is_heard_from() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    app.create_user("bob").await;
    let fake = FakeServer::spawn("flaky").await;
    let mallory = fake.add_actor("mallory", false);
    fake.set_default_status(500);
    let inbox = format!("{}/users/mallory/inbox", fake.base);
    let host = fake.domain.clone();

    for day in 0..7 {
        enqueue(&app, alice.id, std::slice::from_ref(&inbox)).await;
        app.deliver().await;
        let days: i64 = sqlx::query_scalar("select count(*) from domain_failures where host = $1")
            .bind(&host)
            .fetch_one(&app.db)
            .await
            .unwrap();
        assert_eq!(days, day + 1);
        app.clock.advance(Duration::days(1));
    }
    let unavailable: bool =
        sqlx::query_scalar("select exists (select 1 from unavailable_domains where host = $1)")
            .bind(&host)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(unavailable);

    // Now deliveries there are dropped without a request.
    let sent = fake.received().len();
    let id = enqueue(&app, alice.id, std::slice::from_ref(&inbox)).await;
    app.deliver().await;
    assert_eq!(fake.received().len(), sent);
    let (state, error): (String, Option<String>) =
        sqlx::query_as("select state, last_error from deliveries where activity_id = $1")
            .bind(&id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(state, "failed");
    assert_eq!(error.as_deref(), Some("the domain is unavailable"));

    // The domain speaks to us: it is available again.
    fake.set_default_status(202);
    let follow = json!({
        "id": format!("{}/activities/follow-1", fake.base),
        "type": "Follow",
        "actor": mallory.id,
        "object": app.url("/users/bob"),
    });
    let body = serde_json::to_vec(&follow).unwrap();
    let mut request = app.client.post(app.url("/inbox")).body(body.clone());
    for (k, v) in fake.sign_at(&mallory, &app.url("/inbox"), &body, app.clock.now()) {
        request = request.header(k, v);
    }
    assert_eq!(request.send().await.unwrap().status(), 202);
    let counts = app.table_counts().await;
    assert_eq!(counts["unavailable_domains"], 0);
    assert_eq!(counts["domain_failures"], 0);
    let id = enqueue(&app, alice.id, std::slice::from_ref(&inbox)).await;
    app.deliver().await;
    let state: String = sqlx::query_scalar("select state from deliveries where activity_id = $1")
        .bind(&id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(state, "delivered");
}

#[tokio::test]
async fn claims_of_a_dead_process_are_taken_over_at_once_and_live_ones_are_not() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let dead = enqueue(&app, alice.id, &[format!("{}/users/a/inbox", fake.base)]).await;
    let live = enqueue(&app, alice.id, &[format!("{}/users/b/inbox", fake.base)]).await;
    // Another process, alive, holds its lock; a dead one held 4242.
    let other = skein::jobs::WorkerLock::acquire(&app.db).await.unwrap();
    let lease = app.clock.now() + Duration::hours(1);
    for (id, worker) in [(&dead, 4242), (&live, other.id)] {
        sqlx::query(
            "update deliveries set locked_by = $2, locked_until = $3 where activity_id = $1",
        )
        .bind(id)
        .bind(worker)
        .bind(lease)
        .execute(&app.db)
        .await
        .unwrap();
    }
    assert_eq!(app.deliver().await, 1);
    let received: Vec<String> = fake.received().into_iter().map(|r| r.path).collect();
    assert_eq!(received, vec!["/users/a/inbox"]);

    // When the other process dies, its claim is taken over too.
    other.release().await;
    assert_eq!(app.deliver().await, 1);
    assert_eq!(fake.received().len(), 2);
}

#[tokio::test]
async fn concurrency_per_host_is_capped() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_DELIVERY__PER_HOST", "2")).await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    fake.set_delay(std::time::Duration::from_millis(50));
    let inboxes: Vec<String> = (0..8)
        .map(|i| format!("{}/users/u{i}/inbox", fake.base))
        .collect();
    enqueue(&app, alice.id, &inboxes).await;
    assert_eq!(app.deliver().await, 8);
    assert_eq!(fake.received().len(), 8);
    assert_eq!(fake.max_in_flight(), 2);
}

#[tokio::test]
async fn the_worker_pool_delivers_without_being_asked() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_DELIVERY__WORKERS", "2")).await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    enqueue(&app, alice.id, &[format!("{}/inbox", fake.base)]).await;
    app.state.delivery_wakeup.notify_waiters();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while fake.received().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the pool delivered");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn queued_deliveries_are_announced_to_every_process_when_their_transaction_commits_and_only_then()
 {
    use skein::domain::events::{CHANNEL, Change};
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let mut listener = sqlx::postgres::PgListener::connect_with(&app.db)
        .await
        .unwrap();
    listener.listen(CHANNEL).await.unwrap();
    let inboxes = vec!["http://remote.test:1/inbox".to_string()];
    let now = app.clock.now();
    let queue = |commit: bool| {
        let (db, inboxes) = (app.db.clone(), inboxes.clone());
        async move {
            let mut tx = db.begin().await.unwrap();
            let id = "http://alpha.test/activities/1";
            let (outbound, _) = skein::db::outbound::store(&mut tx, id, alice.id, "{}", now)
                .await
                .unwrap();
            let queued =
                skein::db::deliveries::enqueue(&mut tx, id, outbound, alice.id, &inboxes, now)
                    .await
                    .unwrap();
            if commit {
                tx.commit().await.unwrap();
            } else {
                tx.rollback().await.unwrap();
            }
            queued
        }
    };
    assert_eq!(queue(false).await, 1, "queued, then rolled back");
    assert_eq!(queue(true).await, 1, "queued and committed");
    assert_eq!(queue(true).await, 0, "a duplicate queues nothing");
    let sentinel = serde_json::to_string(&Change::Posted { post: 0 }).unwrap();
    sqlx::query("select pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(&sentinel)
        .execute(&app.db)
        .await
        .unwrap();
    let first = listener.recv().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Change>(first.payload()).unwrap(),
        Change::Queued,
        "the committed queueing is announced"
    );
    let second = listener.recv().await.unwrap();
    assert_eq!(
        second.payload(),
        sentinel,
        "neither the rolled back queueing nor the duplicate was announced"
    );
}
