//! RFC 9421 HTTP Message Signatures beside draft-cavage: signed POSTs from
//! a fake server accepted or refused by the inbox, the deliveries'
//! double-knock with its memory per host, and two Skein instances
//! federating in each outbound mode.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use skein::clock::Clock;
use skein::federation::rfc9421;
use skein::federation::signatures::VerifyingKey;

use crate::fake::{FakeActor, FakeServer, Received};
use crate::harness::{Options, TestApp};

fn follow(fake: &FakeServer, actor: &FakeActor, app: &TestApp, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/follow-{n}", fake.base),
        "type": "Follow",
        "actor": actor.id,
        "object": app.url("/users/alice"),
    })
}

/// POSTs `body` to `path` with `headers`.
async fn post(app: &TestApp, path: &str, headers: &[(&str, String)], body: &[u8]) -> StatusCode {
    let mut request = app.client.post(app.url(path)).body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap().status()
}

async fn followers_of_alice(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "select a.ap_id from follows f join actors a on a.id = f.follower_id
         join actors b on b.id = f.followee_id
         where b.username = 'alice' and b.domain is null order by a.ap_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn remembered_mode(app: &TestApp, host: &str) -> Option<String> {
    sqlx::query_scalar("select mode from host_signature_modes where host = $1")
        .bind(host)
        .fetch_optional(&app.db)
        .await
        .unwrap()
}

fn header(received: &Received, name: &str) -> Option<String> {
    received
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

fn is_rfc9421(received: &Received) -> bool {
    header(received, "signature-input").is_some() && header(received, "content-digest").is_some()
}

fn is_cavage(received: &Received) -> bool {
    header(received, "signature-input").is_none()
        && header(received, "digest").is_some()
        && header(received, "signature").is_some_and(|s| s.starts_with("keyId="))
}

#[tokio::test]
async fn an_rfc9421_signed_follow_is_accepted_and_tampered_ones_are_refused() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("nine").await;
    let mallory = fake.add_actor("mallory", false);
    let inbox = app.url("/users/alice/inbox");
    let now = app.clock.now();

    // Tampered: the body is not the one signed (Content-Digest).
    let signed = serde_json::to_vec(&follow(&fake, &mallory, &app, 1)).unwrap();
    let headers = fake.sign_rfc9421_at(&mallory, &inbox, &signed, now);
    let other = serde_json::to_vec(&follow(&fake, &mallory, &app, 2)).unwrap();
    assert_eq!(
        post(&app, "/users/alice/inbox", &headers, &other).await,
        StatusCode::UNAUTHORIZED
    );
    // The Content-Digest changed with the body: the signature breaks.
    let mut swapped = headers.clone();
    for (name, value) in &mut swapped {
        if *name == "content-digest" {
            *value = rfc9421::content_digest(&other);
        }
    }
    assert_eq!(
        post(&app, "/users/alice/inbox", &swapped, &other).await,
        StatusCode::UNAUTHORIZED
    );
    // Another target: signed for alice's inbox, posted to the shared one.
    assert_eq!(
        post(&app, "/inbox", &headers, &signed).await,
        StatusCode::UNAUTHORIZED
    );
    // Created two hours ago: expired.
    let old = fake.sign_rfc9421_at(&mallory, &inbox, &signed, now - Duration::hours(2));
    assert_eq!(
        post(&app, "/users/alice/inbox", &old, &signed).await,
        StatusCode::UNAUTHORIZED
    );
    // Signed by a key that is not the actor's.
    let impostor = fake.add_actor("impostor", false);
    let mut forged = fake.sign_rfc9421_at(&impostor, &inbox, &signed, now);
    for (name, value) in &mut forged {
        if *name == "signature-input" {
            *value = value.replace(&impostor.key_id, &mallory.key_id);
        }
    }
    assert_eq!(
        post(&app, "/users/alice/inbox", &forged, &signed).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(followers_of_alice(&app).await.is_empty());
    let recorded: i64 = sqlx::query_scalar("select count(*) from inbox_activities")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(recorded, 0);

    // The untouched request is accepted and followed through.
    assert_eq!(
        post(&app, "/users/alice/inbox", &headers, &signed).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(followers_of_alice(&app).await, vec![mallory.id.clone()]);
}

#[tokio::test]
async fn rfc9421_signed_fetches_of_authorized_documents_are_accepted() {
    let app = TestApp::spawn_with(
        Options::named("secure").env("SKEIN_FEDERATION__AUTHORIZED_FETCH", "true"),
    )
    .await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("reader").await;
    let reader = fake.add_actor("reader", false);
    let url = url::Url::parse(&app.url("/users/alice")).unwrap();
    let key = skein::federation::signatures::SigningKey::from_pkcs8_pem(
        &reader.key_id,
        &reader.private_pem,
    )
    .unwrap();
    let get = |headers: Vec<(&'static str, String)>| {
        let mut request = app
            .client
            .get(url.as_str())
            .header("accept", "application/activity+json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.send()
    };
    assert_eq!(get(Vec::new()).await.unwrap().status(), 401);
    let signed = rfc9421::sign_request("GET", &url, None, &key, app.clock.now());
    let answer = get(signed).await.unwrap();
    assert_eq!(answer.status(), 200);
    let document: Value = answer.json().await.unwrap();
    assert_eq!(document["id"], app.url("/users/alice"));
    // Signed for another path: refused.
    let elsewhere = url::Url::parse(&app.url("/users/bob")).unwrap();
    let signed = rfc9421::sign_request("GET", &elsewhere, None, &key, app.clock.now());
    assert_eq!(get(signed).await.unwrap().status(), 401);
}

/// `mallory` of `fake` follows alice (signed with cavage), and alice's
/// Accept is delivered.
async fn mallory_follows_alice(app: &TestApp, fake: &FakeServer) -> FakeActor {
    let mallory = fake.add_actor("mallory", false);
    let status = app
        .post_signed(
            fake,
            &mallory,
            "/users/alice/inbox",
            follow(fake, &mallory, app, 1),
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(app.deliver().await, 1);
    mallory
}

async fn alice_posts(app: &TestApp, text: &str) -> String {
    let token = app.token("alice").await;
    let (status, created) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({ "status": text, "visibility": "public" }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    created["uri"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_server_that_refuses_rfc9421_gets_cavage_at_once_and_is_remembered() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("oldschool").await;
    fake.refuse_rfc9421();
    mallory_follows_alice(&app, &fake).await;

    // The Accept knocked with RFC 9421, got 401, and went again with
    // cavage in the same attempt.
    let received = fake.received();
    assert_eq!(received.len(), 2);
    assert!(is_rfc9421(&received[0]));
    assert!(is_cavage(&received[1]));
    assert_eq!(received[0].raw, received[1].raw);
    assert_eq!(received[1].body["type"], "Accept");
    assert_eq!(
        remembered_mode(&app, &fake.domain).await.as_deref(),
        Some("cavage")
    );
    let states: Vec<String> = sqlx::query_scalar("select state from deliveries")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(states, vec!["delivered".to_string()]);

    // The next delivery to that server goes with cavage first, and only.
    let uri = alice_posts(&app, "Hello, old school").await;
    assert_eq!(app.deliver().await, 1);
    let received = fake.received();
    assert_eq!(received.len(), 3);
    assert!(is_cavage(&received[2]));
    assert_eq!(received[2].body["object"]["id"], uri);
    assert!(
        header(&received[2], "signature")
            .unwrap()
            .contains(&format!("keyId=\"{}#main-key\"", alice.ap_id))
    );

    // After 30 days it is asked to take RFC 9421 again.
    app.clock.advance(Duration::days(31));
    alice_posts(&app, "A month later").await;
    assert_eq!(app.deliver().await, 1);
    let received = fake.received();
    assert_eq!(received.len(), 5);
    assert!(is_rfc9421(&received[3]));
    assert!(is_cavage(&received[4]));
}

#[tokio::test]
async fn a_server_that_takes_rfc9421_gets_it_signed_by_the_sender_and_is_remembered() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("modern").await;
    let mallory = mallory_follows_alice(&app, &fake).await;

    let received = fake.received();
    assert_eq!(received.len(), 1);
    let accept = &received[0];
    assert!(is_rfc9421(accept));
    assert!(header(accept, "digest").is_none());
    assert_eq!(
        remembered_mode(&app, &fake.domain).await.as_deref(),
        Some("rfc9421")
    );
    // The signature verifies with alice's published key, for the inbox it
    // was sent to, and covers what Mastodon requires.
    let signature = rfc9421::parse(
        &header(accept, "signature-input").unwrap(),
        &header(accept, "signature").unwrap(),
    )
    .unwrap();
    assert_eq!(signature.key_id, format!("{}#main-key", alice.ap_id));
    assert_eq!(
        signature.components,
        vec!["@method", "@target-uri", "content-digest"]
    );
    let lookup = |name: &str| header(accept, name);
    let base = rfc9421::check_request(
        &signature,
        &skein::federation::signatures::IncomingRequest {
            method: "POST",
            path: &accept.path,
            query: None,
            host: &fake.domain,
            header: &lookup,
            body: &accept.raw,
        },
        "http",
        app.clock.now(),
    )
    .unwrap();
    assert!(base.contains(&format!("\"@target-uri\": {}/inbox\n", mallory.id)));
    let key = VerifyingKey::from_pem(&alice.public_key_pem).unwrap();
    assert!(key.verify(base.as_bytes(), &signature.signature));

    // Later deliveries go RFC 9421 first, once.
    alice_posts(&app, "Hello, modern world").await;
    assert_eq!(app.deliver().await, 1);
    let received = fake.received();
    assert_eq!(received.len(), 2);
    assert!(is_rfc9421(&received[1]));
}

#[tokio::test]
async fn with_cavage_configured_deliveries_are_signed_with_cavage_only() {
    let app =
        TestApp::spawn_with(Options::named("plain").env("SKEIN_FEDERATION__SIGNATURES", "cavage"))
            .await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("any").await;
    mallory_follows_alice(&app, &fake).await;
    let received = fake.received();
    assert_eq!(received.len(), 1);
    assert!(is_cavage(&received[0]));
    assert_eq!(remembered_mode(&app, &fake.domain).await, None);
}

/// `bob` on beta follows `alice` on alpha through the client API, and the
/// follow is accepted.
async fn bob_follows_alice(alpha: &TestApp, beta: &TestApp) {
    let bob = beta.token("bob").await;
    let (status, found) = beta
        .api_get(
            &bob,
            &format!(
                "/api/v2/search?q=%40{}&resolve=true&type=accounts",
                alpha.handle("alice")
            ),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let id = found["accounts"][0]["id"].as_str().unwrap().to_string();
    let (status, relationship) = beta
        .api_post(&bob, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200, "{relationship}");
    assert_eq!(beta.deliver().await, 1);
    assert_eq!(alpha.deliver().await, 1);
    let (_, relationships) = beta
        .api_get(&bob, &format!("/api/v1/accounts/relationships?id[]={id}"))
        .await;
    assert_eq!(relationships[0]["following"], true, "{relationships}");
}

#[tokio::test]
async fn two_instances_federate_a_post_in_each_signature_mode() {
    for (mode, remembered) in [("double-knock", Some("rfc9421")), ("cavage", None)] {
        let alpha =
            TestApp::spawn_with(Options::named("alpha").env("SKEIN_FEDERATION__SIGNATURES", mode))
                .await;
        let beta =
            TestApp::spawn_with(Options::named("beta").env("SKEIN_FEDERATION__SIGNATURES", mode))
                .await;
        alpha.create_user("alice").await;
        beta.create_user("bob").await;
        bob_follows_alice(&alpha, &beta).await;

        let uri = alice_posts(&alpha, &format!("Hello over {mode}")).await;
        assert_eq!(alpha.deliver().await, 1, "{mode}");
        let post = beta.post(&uri).await;
        assert!(
            post.content.contains(&format!("Hello over {mode}")),
            "{mode}"
        );

        // Each side learnt (or, with cavage, never asked) how the other
        // takes signatures: RFC 9421 at the first knock.
        assert_eq!(
            remembered_mode(&alpha, &beta.domain).await.as_deref(),
            remembered,
            "{mode}"
        );
        assert_eq!(
            remembered_mode(&beta, &alpha.domain).await.as_deref(),
            remembered,
            "{mode}"
        );
    }
}
