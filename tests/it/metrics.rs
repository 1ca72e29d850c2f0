//! The Prometheus endpoint: closed unless configured, behind a token on the
//! main listener or open on a listener of its own, with the figures an
//! admin's dashboard reads.

use serde_json::json;

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};

const TOKEN: &str = "a-metrics-token-of-some-length";

/// The value of the first series of `name` whose labels include every pair
/// in `labels`; 0 when there is none yet.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().unwrap())
}

async fn scrape(app: &TestApp) -> String {
    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_are_closed_unless_configured() {
    let app = TestApp::spawn().await;
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_token_opens_metrics_of_requests_inbox_activities_and_queues() {
    let app = TestApp::spawn_with(Options::named("alpha").env("SKEIN_METRICS__TOKEN", TOKEN)).await;
    for token in [None, Some("wrong-token-wrong-token")] {
        let mut request = app.client.get(app.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status(), 401);
    }

    let before = scrape(&app).await;
    let health = |text: &str| {
        value(
            text,
            "skein_http_requests_total",
            &[("route", "/health"), ("status", "200"), ("method", "GET")],
        )
    };
    assert_eq!(app.get("/health").await.status(), 200);
    assert_eq!(app.get("/health").await.status(), 200);

    // An unsigned Follow is refused; a signed one applied.
    let alice = app.create_user("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let bob = fake.add_actor("bob", false);
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#follow", bob.id),
        "type": "Follow", "actor": bob.id, "object": alice.actor.ap_id,
    });
    let unsigned = app
        .client
        .post(app.url("/inbox"))
        .header("content-type", "application/activity+json")
        .body(follow.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(app.post_signed(&fake, &bob, "/inbox", follow).await, 202);

    // Alice posts: one delivery to bob's server waits in the queue.
    let token = app.token("alice").await;
    let (status, _) = app
        .api_post(&token, "/api/v1/statuses", json!({"status": "hello"}))
        .await;
    assert_eq!(status, 200);
    let pending: i64 =
        sqlx::query_scalar("select count(*) from deliveries where state = 'pending'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(pending >= 1);

    let after = scrape(&app).await;
    assert_eq!(health(&after) - health(&before), 2.0, "{after}");
    let inbox = |text: &str, outcome: &str| {
        value(
            text,
            "skein_inbox_activities_total",
            &[("type", "Follow"), ("outcome", outcome)],
        )
    };
    // The recorder is the test process's: tests running beside this one
    // may count Follows too, so at least this test's own are there.
    assert!(inbox(&after, "refused") - inbox(&before, "refused") >= 1.0);
    assert!(inbox(&after, "applied") - inbox(&before, "applied") >= 1.0);
    assert!(
        value(
            &after,
            "skein_http_request_duration_seconds_count",
            &[("route", "/health")]
        ) >= 2.0
    );
    assert_eq!(
        value(&after, "skein_queue_depth", &[("queue", "deliveries")]),
        pending as f64
    );
    assert!(value(&after, "skein_process_resident_memory_bytes", &[]) > 1e6);
    assert!(value(&after, "skein_db_pool_connections", &[("state", "idle")]) >= 0.0);

    // The post reaches bob's server: a delivery counted by its outcome.
    let delivered = |text: &str| value(text, "skein_deliveries_total", &[("outcome", "delivered")]);
    assert!(app.deliver().await >= 1);
    let later = scrape(&app).await;
    assert!(delivered(&later) - delivered(&after) >= 1.0, "{later}");
    assert_eq!(
        value(&later, "skein_queue_depth", &[("queue", "deliveries")]),
        0.0
    );
}

#[tokio::test]
async fn a_listener_of_its_own_serves_metrics_without_a_token() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_METRICS__LISTEN", "127.0.0.1:0"))
            .await;
    let addr = app.metrics_addr.expect("a metrics listener");
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("skein_queue_depth"), "{text}");
    // Not on the main listener: no token is configured.
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_admin_area_shows_the_queues_and_the_failing_servers() {
    let app = TestApp::spawn().await;
    app.create_staff("mod", "moderator").await;
    app.create_user("alice").await;
    let today = app.state.clock.now().date_naive();
    for (host, days) in [("flaky.test", 2), ("gone.test", 7)] {
        for d in 0..days {
            sqlx::query("insert into domain_failures (host, day) values ($1, $2)")
                .bind(host)
                .bind(today - chrono::Duration::days(d))
                .execute(&app.db)
                .await
                .unwrap();
        }
    }
    sqlx::query("insert into unavailable_domains (host, since) values ('gone.test', $1)")
        .bind(app.state.clock.now())
        .execute(&app.db)
        .await
        .unwrap();

    let mut browser = crate::web::Browser::new(&app);
    browser.sign_in("mod").await;
    let page = browser.get("/admin/federation").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let gone = page.body.find("gone.test").expect("the unavailable host");
    let flaky = page.body.find("flaky.test").expect("the failing host");
    assert!(gone < flaky, "given-up servers first");
    assert!(
        page.body
            .contains("<dt>Servers failing in the last day</dt>\n  <dd>1</dd>"),
        "{}",
        page.body
    );

    // Not for other accounts.
    let mut alice = crate::web::Browser::new(&app);
    alice.sign_in("alice").await;
    assert_eq!(alice.get("/admin/federation").await.status, 403);
}
