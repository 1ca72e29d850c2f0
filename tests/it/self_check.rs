//! The start-up self-check: a signed POST to the instance's own public
//! address, checked as the inbox checks activities; the clock beside the
//! database's; both in `/health?detailed=true` for admins.

use std::time::{Duration, Instant};

use skein::federation::signatures;

use crate::harness::{Options, TestApp, queue_activity};

#[tokio::test]
async fn the_instance_verifies_its_own_signature_through_its_public_address() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_HTTP__SELF_CHECK", "true")).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        let report = app.state.self_checks.report();
        if report.signature.is_some() {
            break report;
        }
        assert!(Instant::now() < deadline, "the self-check ran at start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let signature = report.signature.unwrap();
    assert!(signature.ok, "{}", signature.detail);
    assert!(report.clock.unwrap().ok);
    assert!(report.clock_skew_seconds.unwrap().abs() < 60.0);

    // Admins read it; nobody else does.
    app.create_staff("root", "admin").await;
    app.create_user("alice").await;
    let root = app.token("root").await;
    let alice = app.token("alice").await;
    let (status, body) = app.api_get(&root, "/health?detailed=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["self_checks"]["signature"]["ok"], true);
    assert_eq!(body["self_checks"]["clock"]["ok"], true);
    assert_eq!(body["queues"]["deliveries"], 0);
    let (status, _) = app.api_get(&alice, "/health?detailed=true").await;
    assert_eq!(status, 403);
    let response = app
        .client
        .get(app.url("/health?detailed=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // The plain check stays open.
    let (status, body) = app.api_get(&alice, "/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
}

#[tokio::test]
async fn a_probe_changed_on_the_way_does_not_verify() {
    let app = TestApp::spawn().await;
    let url = url::Url::parse(&app.url("/actor/self_check")).unwrap();
    let send = async |signed_for: &url::Url, body: &[u8]| {
        let headers = signatures::sign_request(
            "POST",
            signed_for,
            Some(b"{\"text\": \"caf\\u00e9\"}"),
            &app.state.instance_key,
            app.state.clock.now(),
        );
        let mut request = app.client.post(url.clone()).body(body.to_vec());
        for (name, value) in headers {
            if name != "host" {
                request = request.header(name, value);
            }
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.unwrap();
        (
            status,
            body["error"].as_str().unwrap_or_default().to_string(),
        )
    };
    let original = b"{\"text\": \"caf\\u00e9\"}";
    assert_eq!(send(&url, original).await.0, 200);
    // A proxy that re-encodes the body breaks the digest.
    let (status, error) = send(&url, "{\"text\":\"café\"}".as_bytes()).await;
    assert_eq!(status, 401);
    assert!(error.to_lowercase().contains("digest"), "{error}");
    // One that rewrites the path breaks the signature.
    let elsewhere = url::Url::parse(&app.url("/prefix/actor/self_check")).unwrap();
    let (status, error) = send(&elsewhere, original).await;
    assert_eq!(status, 401);
    assert!(error.contains("does not verify"), "{error}");
}

#[tokio::test]
async fn other_servers_answers_tell_whether_the_clock_agrees_with_theirs() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let sink = crate::fake::FakeServer::spawn("sink").await;
    let inboxes: Vec<String> = (0..6)
        .map(|i| format!("{}/users/u{i}/inbox", sink.base))
        .collect();
    let activity_id = app.url("/activities/clock-check");
    let payload = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": activity_id, "type": "Update",
        "actor": alice.actor.ap_id, "object": alice.actor.ap_id,
    })
    .to_string();
    queue_activity(
        &app.db,
        &activity_id,
        alice.actor.id,
        &payload,
        &inboxes,
        app.state.clock.now(),
    )
    .await;
    assert_eq!(app.state.self_checks.report().remote_clock_ok, None);
    assert_eq!(app.deliver().await, inboxes.len());
    let report = app.state.self_checks.report();
    assert_eq!(report.remote_clock_ok, Some(true), "{report:?}");
    assert!(report.remote_clock_skew_seconds.unwrap().abs() < 5.0);

    // The same answers judged by a clock ten minutes ahead: reported.
    app.clock.advance(chrono::Duration::minutes(10));
    let later = app.url("/activities/clock-check-2");
    queue_activity(
        &app.db,
        &later,
        alice.actor.id,
        &payload,
        &inboxes,
        app.state.clock.now(),
    )
    .await;
    assert_eq!(app.deliver().await, inboxes.len());
    let report = app.state.self_checks.report();
    assert_eq!(report.remote_clock_ok, Some(false), "{report:?}");
}
