//! The inbox against signed requests from a fake server: what is accepted,
//! what is refused with which status, and that a refusal changes nothing.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use skein::clock::Clock;
use skein::federation::signatures::{self, IncomingRequest, SigningKey, VerifyingKey};

use crate::fake::{FakeActor, FakeServer};
use crate::harness::{Options, TestApp};

async fn post(app: &TestApp, path: &str, headers: &[(&str, String)], body: Vec<u8>) -> StatusCode {
    let mut request = app.client.post(app.url(path)).body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap().status()
}

/// POSTs `activity` to `path`, signed by `actor` as Mastodon signs.
async fn post_signed(
    app: &TestApp,
    fake: &FakeServer,
    actor: &FakeActor,
    path: &str,
    activity: &Value,
) -> StatusCode {
    StatusCode::from_u16(app.post_signed(fake, actor, path, activity.clone()).await).unwrap()
}

fn follow(fake: &FakeServer, actor: &FakeActor, app: &TestApp, target: &str, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/follow-{n}", fake.base),
        "type": "Follow",
        "actor": actor.id,
        "object": app.url(&format!("/users/{target}")),
    })
}

async fn follow_rows(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as(
        "select a.ap_id, f.state from follows f join actors a on a.id = f.follower_id order by f.id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_signed_follow_is_accepted_and_the_accept_is_signed_by_the_followee() {
    // Deliveries signed with draft-cavage only (RFC 9421 deliveries:
    // `message_signatures`).
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_FEDERATION__SIGNATURES", "cavage"))
            .await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);

    let activity = follow(&fake, &mallory, &app, "alice", 1);
    assert_eq!(
        post_signed(&app, &fake, &mallory, "/users/alice/inbox", &activity).await,
        202
    );
    assert_eq!(
        follow_rows(&app).await,
        vec![(mallory.id.clone(), "accepted".to_string())]
    );
    let stored: Value = sqlx::query_scalar("select payload from inbox_activities")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, activity);
    // The remote actor's profile was stored, its HTML summary sanitised.
    let copy = skein::db::actors::find_by_ap_id(&app.db, &mallory.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(copy.domain.as_deref(), Some(fake.domain.as_str()));
    assert!(!copy.summary.contains("script"), "{}", copy.summary);

    assert_eq!(app.deliver().await, 1);
    let received = fake.received();
    assert_eq!(received.len(), 1);
    let accept = &received[0];
    assert_eq!(accept.path, "/users/mallory/inbox");
    assert_eq!(accept.body["type"], "Accept");
    assert_eq!(accept.body["actor"], alice.ap_id);
    assert_eq!(accept.body["object"]["id"], activity["id"]);
    assert_eq!(accept.body["object"]["actor"], mallory.id);
    assert_eq!(accept.headers["content-type"], "application/activity+json");

    // The delivery's signature verifies with alice's published key.
    let header = |name: &str| {
        accept
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let params = signatures::parse_signature(&header("signature").unwrap()).unwrap();
    assert_eq!(params.key_id, format!("{}#main-key", alice.ap_id));
    assert_eq!(
        params.headers,
        vec!["(request-target)", "host", "date", "digest"]
    );
    let strings = signatures::check_request(
        &params,
        &IncomingRequest {
            method: "POST",
            path: "/users/mallory/inbox",
            query: None,
            host: &fake.domain,
            header: &header,
            body: &accept.raw,
        },
        chrono::Utc::now(),
    )
    .unwrap();
    let key = VerifyingKey::from_pem(&alice.public_key_pem).unwrap();
    assert!(signatures::verify(&strings, &params.signature, &key));
}

#[tokio::test]
async fn gotosocial_style_key_ids_without_a_fragment_are_accepted() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("gts").await;
    let ghost = fake.add_actor("ghost", true);
    assert!(ghost.key_id.ends_with("/main-key"));
    let activity = follow(&fake, &ghost, &app, "alice", 1);
    assert_eq!(
        post_signed(&app, &fake, &ghost, "/inbox", &activity).await,
        202
    );
    assert_eq!(
        follow_rows(&app).await,
        vec![(ghost.id.clone(), "accepted".to_string())]
    );
}

#[tokio::test]
async fn the_same_activity_twice_or_concurrently_has_one_effect() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let activity = follow(&fake, &mallory, &app, "alice", 1);

    // Concurrently through the shared and the personal inbox, then again.
    let (a, b) = tokio::join!(
        post_signed(&app, &fake, &mallory, "/inbox", &activity),
        post_signed(&app, &fake, &mallory, "/users/alice/inbox", &activity),
    );
    assert_eq!((a, b), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    assert_eq!(
        post_signed(&app, &fake, &mallory, "/inbox", &activity).await,
        202
    );

    assert_eq!(follow_rows(&app).await.len(), 1);
    let counts = app.table_counts().await;
    assert_eq!(counts["inbox_activities"], 1);
    assert_eq!(counts["deliveries"], 1, "one Accept");
}

#[tokio::test]
async fn forged_malformed_and_oversized_requests_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let eve = fake.add_actor("eve", false);
    // Mallory follows alice for real, so that an Undo has something to undo.
    let real = follow(&fake, &mallory, &app, "alice", 1);
    assert_eq!(
        post_signed(&app, &fake, &mallory, "/inbox", &real).await,
        202
    );
    // Eve's signatures are valid: verifying them stores her actor, which is
    // a cache, not an effect of her requests. Fetch it beforehand.
    app.resolve(&eve.id).await;
    let before = app.table_counts().await;
    let url = app.url("/inbox");

    let activity = follow(&fake, &mallory, &app, "alice", 2);
    let body = serde_json::to_vec(&activity).unwrap();

    // Unsigned.
    assert_eq!(post(&app, "/inbox", &[], body.clone()).await, 401);

    // Signed for one body, sent with another.
    let headers = fake.sign(&mallory, &url, &body);
    let mut other = activity.clone();
    other["id"] = json!(format!("{}/activities/other", fake.base));
    assert_eq!(
        post(
            &app,
            "/inbox",
            &headers,
            serde_json::to_vec(&other).unwrap()
        )
        .await,
        401
    );

    // A Digest header the signature does not cover.
    let key = SigningKey::from_pkcs8_pem(&mallory.key_id, &mallory.private_pem).unwrap();
    let date = signatures::http_date(chrono::Utc::now());
    let signed = format!(
        "(request-target): post /inbox\nhost: {}\ndate: {date}",
        app.domain
    );
    let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(signed.as_bytes()));
    let headers = vec![
        ("host", app.domain.clone()),
        ("date", date),
        ("digest", signatures::digest_header(&body)),
        (
            "signature",
            format!(
                "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{signature}\"",
                mallory.key_id
            ),
        ),
    ];
    assert_eq!(post(&app, "/inbox", &headers, body.clone()).await, 401);

    // Dated two hours ahead, and thirteen hours ago.
    for offset in [chrono::Duration::hours(2), chrono::Duration::hours(-13)] {
        let headers = signatures::sign_request(
            "POST",
            &url::Url::parse(&url).unwrap(),
            Some(&body),
            &key,
            chrono::Utc::now() + offset,
        );
        assert_eq!(
            post(&app, "/inbox", &headers, body.clone()).await,
            401,
            "{offset}"
        );
    }

    // Signed by eve's key, claiming to be mallory.
    let headers = fake.sign(&eve, &url, &body);
    assert_eq!(post(&app, "/inbox", &headers, body.clone()).await, 401);

    // An activity id on another host than its actor.
    let mut foreign = activity.clone();
    foreign["id"] = json!("https://elsewhere.example/activities/1");
    assert_eq!(
        post_signed(&app, &fake, &mallory, "/inbox", &foreign).await,
        403
    );

    // An embedded object that belongs to someone else: eve updating
    // mallory's profile, and eve undoing mallory's follow.
    let update = json!({
        "id": format!("{}/activities/update-1", fake.base),
        "type": "Update",
        "actor": eve.id,
        "object": {
            "id": mallory.id, "type": "Person", "preferredUsername": "mallory",
            "name": "pwned", "inbox": format!("{}/inbox", mallory.id),
            "publicKey": { "id": eve.key_id, "owner": mallory.id, "publicKeyPem": eve.public_pem }
        }
    });
    assert_eq!(post_signed(&app, &fake, &eve, "/inbox", &update).await, 403);
    let undo_embedded = json!({
        "id": format!("{}/activities/undo-1", fake.base),
        "type": "Undo",
        "actor": eve.id,
        "object": real,
    });
    assert_eq!(
        post_signed(&app, &fake, &eve, "/inbox", &undo_embedded).await,
        403
    );
    let undo_by_id = json!({
        "id": format!("{}/activities/undo-2", fake.base),
        "type": "Undo",
        "actor": eve.id,
        "object": real["id"],
    });
    assert_eq!(
        post_signed(&app, &fake, &eve, "/inbox", &undo_by_id).await,
        403
    );

    // Over 1 MiB, and absurdly nested.
    let huge = vec![b' '; 1024 * 1024 + 1];
    let headers = fake.sign(&mallory, &url, &huge);
    assert_eq!(post(&app, "/inbox", &headers, huge).await, 413);
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    let headers = fake.sign(&mallory, &url, &nested);
    assert_eq!(post(&app, "/inbox", &headers, nested).await, 400);
    let garbage = b"{not json".to_vec();
    let headers = fake.sign(&mallory, &url, &garbage);
    assert_eq!(post(&app, "/inbox", &headers, garbage).await, 400);

    // An inbox of nobody.
    assert_eq!(
        post_signed(&app, &fake, &mallory, "/users/nobody/inbox", &activity).await,
        404
    );

    assert_eq!(app.table_counts().await, before, "nothing changed");
    assert_eq!(
        follow_rows(&app).await,
        vec![(mallory.id.clone(), "accepted".to_string())]
    );
    let name: String = sqlx::query_scalar("select display_name from actors where ap_id = $1")
        .bind(&mallory.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(name, "pwned");
}

#[tokio::test]
async fn actors_on_loopback_are_refused_outside_the_test_network_mode() {
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_TEST_NETWORK__ENABLED", "false")
            .env("SKEIN_SCHEME", "https"),
    )
    .await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let before = app.table_counts().await;
    // The actor's host resolves to 127.0.0.1.
    let port = fake.domain.rsplit(':').next().unwrap();
    let actor_id = format!("https://localhost:{port}/users/mallory");
    let activity = json!({
        "id": format!("https://localhost:{port}/activities/1"),
        "type": "Follow",
        "actor": actor_id,
        "object": format!("https://{}/users/alice", app.domain),
    });
    let body = serde_json::to_vec(&activity).unwrap();
    let mut signer = mallory.clone();
    signer.key_id = format!("{actor_id}#main-key");
    let headers = fake.sign(&signer, &app.url("/inbox"), &body);
    assert_eq!(post(&app, "/inbox", &headers, body).await, 401);
    assert_eq!(
        fake.actor_fetches(),
        0,
        "no request left for a loopback address"
    );
    assert_eq!(app.table_counts().await, before);
}

#[tokio::test]
async fn a_rotated_key_is_refetched_once_and_then_rate_limited() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    assert_eq!(
        post_signed(
            &app,
            &fake,
            &mallory,
            "/inbox",
            &follow(&fake, &mallory, &app, "alice", 1)
        )
        .await,
        202
    );
    let fetches = fake.actor_fetches();

    let rotated = fake.rotate_key("mallory");
    let undo = json!({
        "id": format!("{}/activities/undo-1", fake.base),
        "type": "Undo",
        "actor": mallory.id,
        "object": format!("{}/activities/follow-1", fake.base),
    });
    assert_eq!(
        post_signed(&app, &fake, &rotated, "/inbox", &undo).await,
        202
    );
    assert_eq!(
        fake.actor_fetches(),
        fetches + 1,
        "one refetch for the new key"
    );
    assert!(follow_rows(&app).await.is_empty(), "the Undo took effect");

    // A signature by an unknown key right after: no second refetch.
    let stranger = fake.add_actor("stranger", false);
    let mut forged = stranger.clone();
    forged.key_id = rotated.key_id.clone();
    let again = follow(&fake, &mallory, &app, "alice", 2);
    assert_eq!(
        post_signed(&app, &fake, &forged, "/inbox", &again).await,
        401
    );
    assert_eq!(
        fake.actor_fetches(),
        fetches + 1,
        "no second refetch within the limit"
    );
    assert!(follow_rows(&app).await.is_empty());
}

#[tokio::test]
async fn update_and_delete_of_a_remote_account_by_itself() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    assert_eq!(
        post_signed(
            &app,
            &fake,
            &mallory,
            "/inbox",
            &follow(&fake, &mallory, &app, "alice", 1)
        )
        .await,
        202
    );

    let update = json!({
        "id": format!("{}/activities/update-1", fake.base),
        "type": "Update",
        "actor": mallory.id,
        "object": {
            "id": mallory.id, "type": "Person", "preferredUsername": "mallory",
            "name": "Mallory, renamed", "summary": "<p>new <b>bio</b></p>",
            "inbox": format!("{}/inbox", mallory.id),
            "publicKey": { "id": mallory.key_id, "owner": mallory.id, "publicKeyPem": mallory.public_pem }
        }
    });
    assert_eq!(
        post_signed(&app, &fake, &mallory, "/inbox", &update).await,
        202
    );
    let copy = skein::db::actors::find_by_ap_id(&app.db, &mallory.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(copy.display_name, "Mallory, renamed");
    assert_eq!(copy.summary, "<p>new <b>bio</b></p>");

    // The account is deleted: its document answers 410, and the Delete is
    // checked with the key we kept.
    fake.set_gone("mallory");
    let delete = json!({
        "id": format!("{}#delete", mallory.id),
        "type": "Delete",
        "actor": mallory.id,
        "object": mallory.id,
    });
    // The stored copy is stale, so the gone document is noticed first.
    app.clock.advance(chrono::Duration::days(2));
    let body = serde_json::to_vec(&delete).unwrap();
    let key = SigningKey::from_pkcs8_pem(&mallory.key_id, &mallory.private_pem).unwrap();
    let headers = signatures::sign_request(
        "POST",
        &url::Url::parse(&app.url("/inbox")).unwrap(),
        Some(&body),
        &key,
        app.clock.now(),
    );
    assert_eq!(post(&app, "/inbox", &headers, body).await, 202);
    assert!(
        skein::db::actors::find_by_ap_id(&app.db, &mallory.id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(follow_rows(&app).await.is_empty());
    let followers: Value = app
        .get_ap("/users/alice/followers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followers["totalItems"], 0);
    let _ = alice;
}

#[tokio::test]
async fn an_actor_answering_410_is_marked_gone() {
    let app = TestApp::spawn().await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let found = app.resolve(&mallory.id).await;
    assert!(found.gone_at.is_none());
    fake.set_gone("mallory");
    app.clock.advance(chrono::Duration::days(2));
    let err = skein::service::remote_actors::get_or_fetch(
        &app.state,
        &url::Url::parse(&mallory.id).unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        skein::service::remote_actors::ResolveError::Gone
    ));
    let gone: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select gone_at from actors where ap_id = $1")
            .bind(&mallory.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(gone.is_some());
}

#[tokio::test]
async fn only_the_followee_can_accept_or_reject_our_follow() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let carol = app.create_user("carol").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let eve = fake.add_actor("eve", false);
    let remote_mallory = app.resolve(&mallory.id).await;
    app.resolve(&eve.id).await;
    for follower in [&alice, &carol] {
        skein::service::follows::follow(&app.state, follower, &remote_mallory)
            .await
            .unwrap();
    }
    app.deliver().await;
    let follows: Vec<Value> = fake.received().into_iter().map(|r| r.body).collect();
    assert_eq!(follows.len(), 2);
    let follow_of = |who: &str| follows.iter().find(|f| f["actor"] == who).unwrap().clone();
    let state = |who: String| {
        let app = &app;
        async move {
            sqlx::query_scalar::<_, String>(
                "select f.state from follows f join actors a on a.id = f.follower_id where a.ap_id = $1",
            )
            .bind(who)
            .fetch_optional(&app.db)
            .await
            .unwrap()
        }
    };

    // Eve cannot accept a follow addressed to mallory.
    let forged = json!({
        "id": format!("{}/activities/accept-forged", fake.base),
        "type": "Accept", "actor": eve.id, "object": follow_of(&alice.ap_id)["id"],
    });
    assert_eq!(post_signed(&app, &fake, &eve, "/inbox", &forged).await, 403);
    assert_eq!(state(alice.ap_id.clone()).await.as_deref(), Some("pending"));

    // Mallory accepts alice's (by id) and rejects carol's (embedded).
    let accept = json!({
        "id": format!("{}/activities/accept-1", fake.base),
        "type": "Accept", "actor": mallory.id, "object": follow_of(&alice.ap_id)["id"],
    });
    assert_eq!(
        post_signed(&app, &fake, &mallory, "/inbox", &accept).await,
        202
    );
    assert_eq!(
        state(alice.ap_id.clone()).await.as_deref(),
        Some("accepted")
    );
    let mut embedded = follow_of(&carol.ap_id);
    embedded.as_object_mut().unwrap().remove("@context");
    let reject = json!({
        "id": format!("{}/activities/reject-1", fake.base),
        "type": "Reject", "actor": mallory.id, "object": embedded,
    });
    assert_eq!(
        post_signed(&app, &fake, &mallory, "/inbox", &reject).await,
        202
    );
    assert_eq!(state(carol.ap_id.clone()).await, None);
    let following: Value = app
        .get_ap("/users/alice/following")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(following["totalItems"], 1);
}

/// POSTs `activity` signed by `actor` as of the instance's clock.
async fn post_signed_now(
    app: &TestApp,
    fake: &FakeServer,
    actor: &FakeActor,
    activity: &Value,
) -> StatusCode {
    let body = serde_json::to_vec(activity).unwrap();
    let headers = fake.sign_at(actor, &app.url("/inbox"), &body, app.clock.now());
    post(app, "/inbox", &headers, body).await
}

#[tokio::test]
async fn a_signer_whose_document_cannot_be_fetched_is_not_fetched_again_for_a_few_minutes() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    fake.set_quirk("mallory", crate::fake::Quirk::ServerError);
    let before = app.table_counts().await;

    for n in 1..=2 {
        let activity = follow(&fake, &mallory, &app, "alice", n);
        assert_eq!(
            post_signed_now(&app, &fake, &mallory, &activity).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(fake.actor_fetches(), 1, "the failure was remembered");
    assert_eq!(app.table_counts().await, before);

    // Still inside the window, even once the server is back.
    fake.clear_quirk("mallory");
    app.clock
        .advance(skein::service::fetch_failures::REMEMBER_FOR - chrono::Duration::seconds(1));
    let activity = follow(&fake, &mallory, &app, "alice", 3);
    assert_eq!(
        post_signed_now(&app, &fake, &mallory, &activity).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(fake.actor_fetches(), 1);

    // Past it, the document is fetched again, and the follow taken.
    app.clock.advance(chrono::Duration::seconds(2));
    let activity = follow(&fake, &mallory, &app, "alice", 4);
    assert_eq!(
        post_signed_now(&app, &fake, &mallory, &activity).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(fake.actor_fetches(), 2);
    assert_eq!(follow_rows(&app).await.len(), 1);
}

#[tokio::test]
async fn an_activity_with_a_duplicate_key_is_refused_with_400_and_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let eve = fake.add_actor("eve", false);
    let before = app.table_counts().await;

    // A reader keeping the first `actor` and one keeping the last would
    // disagree on who follows.
    let body = format!(
        r#"{{"@context":"https://www.w3.org/ns/activitystreams","id":"{base}/activities/dup-1","type":"Follow","actor":"{mallory}","actor":"{eve}","object":"{object}"}}"#,
        base = fake.base,
        mallory = mallory.id,
        eve = eve.id,
        object = app.url("/users/alice"),
    )
    .into_bytes();
    let headers = fake.sign_at(&eve, &app.url("/inbox"), &body, app.clock.now());
    assert_eq!(
        post(&app, "/inbox", &headers, body).await,
        StatusCode::BAD_REQUEST
    );

    // Nested, too.
    let body = format!(
        r#"{{"@context":"https://www.w3.org/ns/activitystreams","id":"{base}/activities/dup-2","type":"Create","actor":"{mallory}","object":{{"id":"{base}/notes/dup","type":"Note","content":"a","content":"b","attributedTo":"{mallory}"}}}}"#,
        base = fake.base,
        mallory = mallory.id,
    )
    .into_bytes();
    let headers = fake.sign_at(&mallory, &app.url("/inbox"), &body, app.clock.now());
    assert_eq!(
        post(&app, "/inbox", &headers, body).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(app.table_counts().await, before);
    assert_eq!(
        fake.actor_fetches(),
        0,
        "nothing fetched for a refused body"
    );
}
