//! Fan-out: a post to many followers is stored once with a fan-out job, a
//! first step queued with the post and the rest expanded by the workers in
//! batches; every inbox gets it once, signed, and one sender's activities
//! reach each inbox in the order they were made.

use std::collections::HashMap;

use serde_json::json;
use skein::federation::rfc9421;
use skein::federation::signatures::{self, IncomingRequest, VerifyingKey};
use sqlx::PgPool;

use crate::fake::{FakeServer, Received};
use crate::harness::TestApp;

/// Inserts `followers` remote accounts spread over `hosts` host names, all
/// served by `sink` (each host with the shared inbox `/inbox`), following
/// `followee`; returns the host names.
pub async fn sink_followers(
    db: &PgPool,
    sink: &FakeServer,
    followee: i64,
    followers: usize,
    hosts: usize,
) -> Vec<String> {
    let port: i64 = sink.domain.rsplit(':').next().unwrap().parse().unwrap();
    sqlx::query(
        "insert into actors (ap_id, username, domain, inbox_url, shared_inbox_url,
                             public_key_id, public_key_pem)
         select 'http://' || host || '/users/f' || n, 'f' || n, host,
                'http://' || host || '/users/f' || n || '/inbox', 'http://' || host || '/inbox',
                'http://' || host || '/users/f' || n || '#main-key', 'pem'
         from (select n, 'h' || (n % $2) || '.sink.test:' || $3 as host
               from generate_series(0, $1 - 1) as n) as t",
    )
    .bind(followers as i64)
    .bind(hosts as i64)
    .bind(port)
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "insert into follows (follower_id, followee_id, state)
         select id, $1, 'accepted' from actors where domain like '%.sink.test:%'",
    )
    .bind(followee)
    .execute(db)
    .await
    .unwrap();
    (0..hosts)
        .map(|h| format!("h{h}.sink.test:{port}"))
        .collect()
}

/// What each host name received, in order.
pub fn by_host(received: &[Received]) -> HashMap<String, Vec<Received>> {
    let mut hosts: HashMap<String, Vec<Received>> = HashMap::new();
    for r in received {
        let host = r.headers["host"].to_str().unwrap().to_string();
        hosts.entry(host).or_default().push(r.clone());
    }
    hosts
}

async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

/// The delivery is signed by `key_id`, in either scheme (RFC 9421 for a
/// server that takes it, as this fake one does, or draft-cavage).
fn assert_signed_by(received: &Received, key: &VerifyingKey, key_id: &str) {
    let header = |name: &str| {
        received
            .headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let host = header("host").unwrap();
    let request = IncomingRequest {
        method: "POST",
        path: &received.path,
        query: None,
        host: &host,
        header: &header,
        body: &received.raw,
    };
    let (params, strings) = match header("signature-input") {
        Some(input) => {
            let signature = rfc9421::parse(&input, &header("signature").unwrap()).unwrap();
            let base =
                rfc9421::check_request(&signature, &request, "http", chrono::Utc::now()).unwrap();
            (signature.as_params(), vec![base])
        }
        None => {
            let params = signatures::parse_signature(&header("signature").unwrap()).unwrap();
            let strings = signatures::check_request(&params, &request, chrono::Utc::now()).unwrap();
            (params, strings)
        }
    };
    assert_eq!(params.key_id, key_id);
    assert!(signatures::verify(&strings, &params.signature, key));
}

#[tokio::test]
async fn a_post_to_many_followers_is_expanded_in_the_background_and_reaches_each_inbox_once() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let token = app.token("alice").await;
    let sink = FakeServer::spawn("sink").await;
    let hosts = sink_followers(&app.db, &sink, alice.id, 1500, 300).await;

    let (status, post) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({ "status": "to everyone", "visibility": "public" }),
        )
        .await;
    assert_eq!(status, 200);
    // The post's transaction stored the activity once, queued a first step
    // (its newest follows) and left a job for the rest.
    assert_eq!(
        count(&app.db, "select count(*) from outbound_activities").await,
        1
    );
    assert_eq!(count(&app.db, "select count(*) from fanouts").await, 1);
    let queued = count(&app.db, "select count(*) from deliveries").await;
    assert!(
        queued > 0 && queued <= 100,
        "{queued} deliveries queued with the post"
    );

    assert_eq!(app.deliver().await, 300);
    assert_eq!(count(&app.db, "select count(*) from fanouts").await, 0);
    assert_eq!(
        count(
            &app.db,
            "select count(*) from deliveries where state = 'delivered'"
        )
        .await,
        300
    );
    let received = by_host(&sink.received());
    assert_eq!(received.len(), hosts.len(), "every server got it");
    let key = VerifyingKey::from_pem(&alice.public_key_pem).unwrap();
    let activity = format!("{}/activity", post["uri"].as_str().unwrap());
    for host in &hosts {
        let got = &received[host];
        assert_eq!(got.len(), 1, "{host} got the post once");
        assert_eq!(got[0].path, "/inbox", "the shared inbox");
        assert_eq!(got[0].body["id"], activity);
        assert_eq!(got[0].body["type"], "Create");
        assert_signed_by(&got[0], &key, &alice.public_key_id);
    }
    // Nothing is left to send.
    assert_eq!(app.deliver().await, 0);
}

#[tokio::test]
async fn one_senders_activities_reach_each_inbox_in_the_order_they_were_made() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let token = app.token("alice").await;
    let sink = FakeServer::spawn("sink").await;
    let hosts = sink_followers(&app.db, &sink, alice.id, 400, 120).await;

    let (status, post) = app
        .api_post(&token, "/api/v1/statuses", json!({ "status": "soon gone" }))
        .await;
    assert_eq!(status, 200);
    let id = post["id"].as_str().unwrap();
    let (status, _) = app
        .api_delete(&token, &format!("/api/v1/statuses/{id}"))
        .await;
    assert_eq!(status, 200);
    // The Delete waits behind the Create's job: nothing of it is queued yet.
    assert_eq!(count(&app.db, "select count(*) from fanouts").await, 2);

    assert_eq!(app.deliver().await, 240);
    let received = by_host(&sink.received());
    assert_eq!(received.len(), hosts.len());
    for host in &hosts {
        let types: Vec<&str> = received[host]
            .iter()
            .map(|r| r.body["type"].as_str().unwrap())
            .collect();
        assert_eq!(types, ["Create", "Delete"], "{host}");
    }
}

#[tokio::test]
async fn an_account_that_stops_sharing_drops_its_waiting_fan_out() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let token = app.token("alice").await;
    let sink = FakeServer::spawn("sink").await;
    sink_followers(&app.db, &sink, alice.id, 600, 200).await;
    let (status, _) = app
        .api_post(&token, "/api/v1/statuses", json!({ "status": "hello" }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(count(&app.db, "select count(*) from fanouts").await, 1);

    skein::service::profiles::set_fediverse_sharing(&app.state, &alice, false)
        .await
        .unwrap();
    // The post's job is gone; what waits is the Delete(Person) to the
    // servers that knew the account.
    let waiting: Vec<String> = sqlx::query_scalar(
        "select o.payload::jsonb ->> 'type' from fanouts f
         join outbound_activities o on o.id = f.outbound_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(waiting, ["Delete"]);
    app.deliver().await;
    let received = sink.received();
    assert_eq!(received.len(), 200, "each server is told once");
    assert!(
        received.iter().all(|r| r.body["type"] == "Delete"),
        "the post never went out"
    );
}

#[tokio::test]
async fn two_processes_expand_one_job_without_queueing_an_inbox_twice() {
    let app = TestApp::spawn().await;
    let beside = app.spawn_beside().await;
    let alice = app.create_user("alice").await.actor;
    let token = app.token("alice").await;
    let sink = FakeServer::spawn("sink").await;
    sink_followers(&app.db, &sink, alice.id, 3000, 500).await;
    let (status, _) = app
        .api_post(&token, "/api/v1/statuses", json!({ "status": "hello" }))
        .await;
    assert_eq!(status, 200);

    let expand = |state: skein::state::AppState| async move {
        let mut batches = 0;
        while skein::service::outbox::expand_next(&state).await.unwrap() {
            batches += 1;
        }
        batches
    };
    let (a, b) = tokio::join!(expand(app.state.clone()), expand(beside.state.clone()));
    assert!(a + b >= 3, "3000 follows take three batches or more");
    assert_eq!(count(&app.db, "select count(*) from fanouts").await, 0);
    assert_eq!(
        count(
            &app.db,
            "select count(*) from (select distinct inbox_url from deliveries) as d"
        )
        .await,
        500
    );
    assert_eq!(count(&app.db, "select count(*) from deliveries").await, 500);
}
