//! HTTP hygiene: health, request ids, errors, the HTTPS listener and
//! graceful shutdown.

use serde_json::Value;

use crate::harness::{Options, TestApp};

#[tokio::test]
async fn health_checks_the_database() {
    let app = TestApp::spawn().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");

    // With the database gone, health says so.
    app.db.close().await;
    let response = app.get("/health").await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["database"], "unreachable");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::spawn().await;
    let response = app.get("/health").await;
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let other = app.get("/health").await;
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);

    // An id set by a proxy in front is kept.
    let response = app
        .client
        .get(app.url("/nowhere"))
        .header("x-request-id", "proxy-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-request-id"], "proxy-123");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "Record not found");
}

#[tokio::test]
async fn the_built_in_https_listener_serves_the_same_app() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["alpha.test".to_string()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();

    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_TLS__LISTEN", "127.0.0.1:0")
            .env("SKEIN_TLS__CERT_FILE", cert.to_str().unwrap())
            .env("SKEIN_TLS__KEY_FILE", key.to_str().unwrap()),
    )
    .await;
    app.create_user("alice").await;
    let tls_addr = app.tls_addr.expect("an HTTPS listener");
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap()])
        .resolve("alpha.test", tls_addr)
        .build()
        .unwrap();
    let response = client
        .get(format!(
            "https://alpha.test:{}/.well-known/webfinger?resource=acct:alice@{}",
            tls_addr.port(),
            app.domain
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let jrd: Value = response.json().await.unwrap();
    assert_eq!(jrd["subject"], format!("acct:alice@{}", app.domain));
    // The public address is http here: the plain listener serves it too.
    assert_eq!(app.get("/@alice").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn stopping_drains_and_closes_the_listener() {
    let app = TestApp::spawn().await;
    let addr = app.addr;
    assert_eq!(app.get("/health").await.status(), 200);
    app.stop().await;
    let refused = reqwest::Client::new()
        .get(format!("http://{addr}/health"))
        .send()
        .await;
    assert!(refused.is_err(), "nothing listens after the stop");
}

#[tokio::test]
async fn paths_with_a_trailing_slash_answer_as_without_one() {
    // Mastodon.py asks for `/api/v1/instance/`; Mastodon answers it.
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let alice = app.token("alice").await;
    let response = app.get("/api/v1/instance/").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["uri"], app.domain);
    let (status, me) = app
        .api_get(&alice, "/api/v1/accounts/verify_credentials/")
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "alice");
    // The root is still the front page, and unknown paths are still 404.
    assert_eq!(app.get("/").await.status(), 200);
    assert_eq!(app.get("/api/v1/nowhere/").await.status(), 404);
}
