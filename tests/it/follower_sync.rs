//! Followers synchronisation (FEP-8fcf) between two Skein instances:
//! deliveries to followers carry the digest of the receiving server's
//! followers, the partial collection answers only signed requests, and a
//! follow broken on each side is repaired by the resynchronisation.

use serde_json::json;
use skein::service::follower_sync::{self, digest_of};

use crate::harness::{Options, TestApp};
use crate::streaming::follow;

async fn follows(app: &TestApp, followee: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select a.ap_id from follows f join actors a on a.id = f.follower_id
         join actors b on b.id = f.followee_id
         where b.ap_id = $1 and f.state = 'accepted' order by a.ap_id",
    )
    .bind(followee)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

/// The header of the last POST `beta` received from alpha, as the fake
/// would see it: read back from alpha's own computation for beta.
async fn header_for(alpha: &TestApp, alice: &skein::db::actors::Actor, beta: &TestApp) -> String {
    let followers = alice.followers_url.clone().unwrap();
    let payload = format!("{{\"to\": [\"{followers}\"]}}");
    follower_sync::outgoing_header(
        &alpha.db,
        &alpha.state.urls,
        alice,
        &payload,
        &beta.url("/inbox"),
    )
    .await
    .unwrap()
    .expect("a header for followers")
}

#[tokio::test]
async fn a_follow_broken_on_either_side_is_repaired_by_the_followers_digest() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.create_user("carol").await;
    let alice_token = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let carol = beta.token("carol").await;
    follow(&beta, &bob, &alpha, "alice").await;
    follow(&beta, &carol, &alpha, "alice").await;
    let alice = alpha.local("alice").await;
    let (bob_id, carol_id) = (beta.url("/users/bob"), beta.url("/users/carol"));

    // Alpha keeps the digest of alice's followers on beta as they change.
    let header = header_for(&alpha, &alice, &beta).await;
    let parsed = follower_sync::parse_header(&header).unwrap();
    assert_eq!(
        parsed.digest,
        digest_of([bob_id.as_str(), carol_id.as_str()])
    );
    assert_eq!(parsed.collection_id, alice.followers_url.clone().unwrap());
    assert_eq!(
        parsed.url,
        alpha.url("/users/alice/followers_synchronization")
    );

    // The partial collection: signed requests only, and only the signer's
    // server's followers.
    let (status, _, _) = alpha
        .api(
            reqwest::Method::GET,
            "/users/alice/followers_synchronization",
            None,
            None,
        )
        .await;
    assert_eq!(status, 401);

    // A post with both sides agreeing: delivered with the header, nothing
    // resynchronised.
    let (status, _) = alpha
        .api_post(
            &alice_token,
            "/api/v1/statuses",
            json!({"status": "all good"}),
        )
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    beta.settle().await;
    let resyncs: i64 = sqlx::query_scalar("select count(*) from follower_resyncs")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(resyncs, 0, "the digests agree");

    // Broken on each side: alpha lost carol's follow; beta lost bob's.
    sqlx::query("delete from follows where follower_id = (select id from actors where ap_id = $1)")
        .bind(&carol_id)
        .execute(&alpha.db)
        .await
        .unwrap();
    sqlx::query("delete from follows where follower_id = (select id from actors where ap_id = $1)")
        .bind(&bob_id)
        .execute(&beta.db)
        .await
        .unwrap();
    assert_eq!(
        follower_sync::parse_header(&header_for(&alpha, &alice, &beta).await)
            .unwrap()
            .digest,
        digest_of([bob_id.as_str()]),
        "the trigger kept the digest"
    );

    // Alice's next post carries a digest beta disagrees with: beta fetches
    // the partial collection and repairs both follows.
    let (status, _) = alpha
        .api_post(&alice_token, "/api/v1/statuses", json!({"status": "again"}))
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    beta.settle().await;
    // Carol's follow, which alpha no longer lists, ended on beta; bob, whom
    // alpha lists without a follow on beta, had an Undo(Follow) sent.
    assert!(follows(&beta, &alice.ap_id).await.is_empty());
    beta.deliver().await;
    assert!(
        follows(&alpha, &alice.ap_id).await.is_empty(),
        "alpha took bob's Undo"
    );
    let (status, _) = alpha
        .api_post(&alice_token, "/api/v1/statuses", json!({"status": "alone"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(alpha.deliver().await, 0, "no follower on beta any more");

    // Resynchronised at most hourly.
    let at: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select synced_at from follower_resyncs")
            .fetch_optional(&beta.db)
            .await
            .unwrap();
    assert!(at.is_some());
}

#[tokio::test]
async fn a_lost_accept_is_taken_from_the_digest_and_a_waiting_request_is_left_alone() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    beta.create_user("dave").await;
    beta.create_user("erin").await;
    let alice_token = alpha.token("alice").await;
    let dave = beta.token("dave").await;
    follow(&beta, &dave, &alpha, "alice").await;
    let alice = alpha.local("alice").await;
    let on_beta: i64 = sqlx::query_scalar("select id from actors where ap_id = $1")
        .bind(&alice.ap_id)
        .fetch_one(&beta.db)
        .await
        .unwrap();
    // Dave's Accept was lost: beta still waits. Erin's request waits too,
    // and alpha has not seen it yet.
    sqlx::query("update follows set state = 'pending' where followee_id = $1")
        .bind(on_beta)
        .execute(&beta.db)
        .await
        .unwrap();
    let erin = beta.local("erin").await;
    sqlx::query(
        "insert into follows (follower_id, followee_id, state, ap_id)
         values ($1, $2, 'pending', $3)",
    )
    .bind(erin.id)
    .bind(on_beta)
    .bind(beta.url("/follows/erin-waits"))
    .execute(&beta.db)
    .await
    .unwrap();

    let (status, _) = alpha
        .api_post(&alice_token, "/api/v1/statuses", json!({"status": "hello"}))
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    beta.settle().await;
    let states: Vec<(String, String)> = sqlx::query_as(
        "select a.username, f.state from follows f join actors a on a.id = f.follower_id
         where f.followee_id = $1 order by a.username",
    )
    .bind(on_beta)
    .fetch_all(&beta.db)
    .await
    .unwrap();
    assert_eq!(
        states,
        [
            ("dave".to_string(), "accepted".to_string()),
            ("erin".to_string(), "pending".to_string())
        ],
        "the listed request is taken as accepted; the unlisted one still waits"
    );
    assert_eq!(beta.deliver().await, 0, "nothing undone");
    assert_eq!(
        follows(&alpha, &alice.ap_id).await,
        [beta.url("/users/dave")]
    );
}
