//! Following across two Skein instances with real signatures and the durable
//! queue: auto-accept, follow requests, unfollow, blocks, profile updates and
//! the fediverse-sharing switch.

use serde_json::Value;
use skein::clock::Clock;
use skein::service::{blocks, follows, profiles};

use crate::harness::TestApp;

async fn pair() -> (TestApp, TestApp) {
    let alpha = TestApp::spawn_with(crate::harness::Options::named("alpha")).await;
    let beta = TestApp::spawn_with(crate::harness::Options::named("beta")).await;
    (alpha, beta)
}

async fn follow_state(app: &TestApp, follower: &str, followee: &str) -> Option<String> {
    sqlx::query_scalar(
        "select f.state from follows f
         join actors a on a.id = f.follower_id join actors b on b.id = f.followee_id
         where a.ap_id = $1 and b.ap_id = $2",
    )
    .bind(follower)
    .bind(followee)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

async fn collection_total(app: &TestApp, path: &str) -> i64 {
    let v: Value = app.get_ap(path).await.json().await.unwrap();
    v["totalItems"].as_i64().unwrap()
}

#[tokio::test]
async fn alice_follows_bob_on_another_instance_and_is_accepted() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob_local = beta.create_user("bob").await.actor;

    let bob = alpha.resolve(&format!("@{}", beta.handle("bob"))).await;
    assert_eq!(bob.ap_id, bob_local.ap_id);
    assert_eq!(bob.domain.as_deref(), Some(beta.domain.as_str()));
    assert_eq!(bob.public_key_pem, bob_local.public_key_pem);

    let state = follows::follow(&alpha.state, &alice, &bob).await.unwrap();
    assert_eq!(state, follows::FollowState::Requested);
    assert_eq!(
        follow_state(&alpha, &alice.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("pending")
    );

    // The Follow reaches beta, which accepts at once and queues the Accept.
    assert_eq!(alpha.deliver().await, 1);
    assert_eq!(
        follow_state(&beta, &alice.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    assert_eq!(
        follow_state(&alpha, &alice.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("pending")
    );
    assert_eq!(beta.deliver().await, 1);
    assert_eq!(
        follow_state(&alpha, &alice.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );

    // Both sides' collections agree.
    assert_eq!(collection_total(&beta, "/users/bob/followers").await, 1);
    let page: Value = beta
        .get_ap("/users/bob/followers?page=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["orderedItems"], serde_json::json!([alice.ap_id]));
    assert_eq!(collection_total(&alpha, "/users/alice/following").await, 1);

    // Every delivery is recorded as delivered, none pending.
    let states: Vec<String> = sqlx::query_scalar("select state from deliveries")
        .fetch_all(&alpha.db)
        .await
        .unwrap();
    assert_eq!(states, vec!["delivered"]);

    // Unfollow: the Undo removes the follower on beta.
    follows::unfollow(&alpha.state, &alice, &bob).await.unwrap();
    assert_eq!(follow_state(&alpha, &alice.ap_id, &bob.ap_id).await, None);
    alpha.deliver().await;
    assert_eq!(follow_state(&beta, &alice.ap_id, &bob.ap_id).await, None);
    assert_eq!(collection_total(&beta, "/users/bob/followers").await, 0);
}

#[tokio::test]
async fn a_locked_account_approves_or_rejects_follow_requests() {
    let (alpha, beta) = pair().await;
    let carol = alpha.create_user("carol").await.actor;
    let erin = alpha.create_user("erin").await.actor;
    let dave = beta.create_user("dave").await.actor;
    let dave = profiles::update(
        &beta.state,
        &dave,
        profiles::ProfileUpdate {
            locked: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let person: Value = beta.get_ap("/users/dave").await.json().await.unwrap();
    assert_eq!(person["manuallyApprovesFollowers"], true);

    let remote_dave = alpha.resolve(&beta.handle("dave")).await;
    assert!(remote_dave.manually_approves_followers);
    for follower in [&carol, &erin] {
        follows::follow(&alpha.state, follower, &remote_dave)
            .await
            .unwrap();
    }
    alpha.deliver().await;
    assert_eq!(
        follow_state(&beta, &carol.ap_id, &dave.ap_id)
            .await
            .as_deref(),
        Some("pending")
    );
    let mut requests = follows::requests(&beta.state, &dave).await.unwrap();
    // The two Follows were delivered concurrently: their order is not fixed.
    requests.sort_by(|a, b| a.username.cmp(&b.username));
    let names: Vec<&str> = requests.iter().map(|a| a.username.as_str()).collect();
    assert_eq!(names, vec!["carol", "erin"]);
    assert_eq!(
        beta.deliver().await,
        0,
        "nothing is sent before dave decides"
    );
    assert_eq!(collection_total(&beta, "/users/dave/followers").await, 0);

    // Dave approves carol and rejects erin.
    follows::approve(&beta.state, &dave, &requests[0])
        .await
        .unwrap();
    follows::reject(&beta.state, &dave, &requests[1])
        .await
        .unwrap();
    assert_eq!(beta.deliver().await, 2);
    assert_eq!(
        follow_state(&alpha, &carol.ap_id, &dave.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    assert_eq!(follow_state(&alpha, &erin.ap_id, &dave.ap_id).await, None);
    assert_eq!(follow_state(&beta, &erin.ap_id, &dave.ap_id).await, None);
    assert_eq!(collection_total(&beta, "/users/dave/followers").await, 1);

    // Approving a request that is not there is a 404-shaped error.
    let err = follows::approve(&beta.state, &dave, &requests[1])
        .await
        .unwrap_err();
    assert!(matches!(err, skein::error::Error::NotFound));
}

#[tokio::test]
async fn a_block_from_another_instance_ends_follows_both_ways() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let remote_bob = alpha.resolve(&beta.handle("bob")).await;
    let remote_alice = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    follows::follow(&beta.state, &bob, &remote_alice)
        .await
        .unwrap();
    alpha.deliver().await;
    beta.deliver().await;
    alpha.deliver().await;
    assert_eq!(
        follow_state(&alpha, &alice.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    assert_eq!(
        follow_state(&alpha, &bob.ap_id, &alice.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );

    blocks::block(&beta.state, &bob, &remote_alice)
        .await
        .unwrap();
    assert_eq!(follow_state(&beta, &alice.ap_id, &bob.ap_id).await, None);
    beta.deliver().await;
    assert_eq!(follow_state(&alpha, &alice.ap_id, &bob.ap_id).await, None);
    assert_eq!(follow_state(&alpha, &bob.ap_id, &alice.ap_id).await, None);
    let blocked: bool = sqlx::query_scalar(
        "select exists (select 1 from blocks b join actors a on a.id = b.blocker_id where a.ap_id = $1)",
    )
    .bind(&bob.ap_id)
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert!(blocked, "alpha records bob's block");
    // Alice can no longer follow bob.
    let err = follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap_err();
    assert!(matches!(err, skein::error::Error::Forbidden(_)));

    // Unblocking lifts it on alpha too.
    blocks::unblock(&beta.state, &bob, &remote_alice)
        .await
        .unwrap();
    beta.deliver().await;
    follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    alpha.deliver().await;
    beta.deliver().await;
    assert_eq!(
        follow_state(&alpha, &alice.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
}

/// alice on alpha and bob on beta follow each other; returns bob as alpha
/// knows him.
async fn mutual_follows(
    alpha: &TestApp,
    beta: &TestApp,
    alice: &skein::db::actors::Actor,
    bob: &skein::db::actors::Actor,
) -> skein::db::actors::Actor {
    let remote_bob = alpha.resolve(&beta.handle("bob")).await;
    let remote_alice = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&alpha.state, alice, &remote_bob)
        .await
        .unwrap();
    follows::follow(&beta.state, bob, &remote_alice)
        .await
        .unwrap();
    alpha.deliver().await;
    beta.deliver().await;
    alpha.deliver().await;
    for (follower, followee) in [(alice, bob), (bob, alice)] {
        for app in [alpha, beta] {
            assert_eq!(
                follow_state(app, &follower.ap_id, &followee.ap_id)
                    .await
                    .as_deref(),
                Some("accepted")
            );
        }
    }
    remote_bob
}

/// The types of what alpha queued for beta's inboxes, in queue order.
async fn queued_types(app: &TestApp, sender: &skein::db::actors::Actor) -> Vec<String> {
    sqlx::query_scalar(
        "select o.payload::jsonb ->> 'type'
         from deliveries d join outbound_activities o on o.id = d.outbound_id
         where d.sender_id = $1 order by d.id",
    )
    .bind(sender.id)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn blocking_an_account_elsewhere_undoes_and_rejects_the_follows_before_the_block() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let remote_bob = mutual_follows(&alpha, &beta, &alice, &bob).await;
    let before = queued_types(&alpha, &alice).await.len();

    blocks::block(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    assert_eq!(follow_state(&alpha, &alice.ap_id, &bob.ap_id).await, None);
    assert_eq!(follow_state(&alpha, &bob.ap_id, &alice.ap_id).await, None);
    let queued = queued_types(&alpha, &alice).await;
    assert_eq!(queued[before..], ["Undo", "Reject", "Block"]);

    // A server that ignored Block would still end both follows: hold the
    // Block back and deliver the rest.
    sqlx::query(
        "update deliveries d set next_attempt_at = 'infinity'
         from outbound_activities o
         where o.id = d.outbound_id and o.payload::jsonb ->> 'type' = 'Block'",
    )
    .execute(&alpha.db)
    .await
    .unwrap();
    assert_eq!(alpha.deliver().await, 2);
    assert_eq!(follow_state(&beta, &alice.ap_id, &bob.ap_id).await, None);
    assert_eq!(follow_state(&beta, &bob.ap_id, &alice.ap_id).await, None);
    let blocks: i64 = sqlx::query_scalar("select count(*) from blocks")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(blocks, 0, "the Block has not arrived yet");

    sqlx::query("update deliveries set next_attempt_at = $1 where state = 'pending'")
        .bind(alpha.clock.now())
        .execute(&alpha.db)
        .await
        .unwrap();
    assert_eq!(alpha.deliver().await, 1);
    let blocks: i64 = sqlx::query_scalar("select count(*) from blocks")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(blocks, 1);
    // Beta took them in that order (transaction ids grow with each one).
    let received: Vec<String> = sqlx::query_scalar(
        "select i.kind from inbox_activities i join actors a on a.id = i.actor_id
         where a.ap_id = $1 and i.kind in ('Undo', 'Reject', 'Block')
         order by i.xmin::text::bigint",
    )
    .bind(&alice.ap_id)
    .fetch_all(&beta.db)
    .await
    .unwrap();
    assert_eq!(received, ["Undo", "Reject", "Block"]);

    // Unblocked, alice follows bob again: the follow completes on both
    // sides.
    blocks::unblock(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    alpha.deliver().await;
    beta.deliver().await;
    assert_eq!(
        follow_state(&beta, &alice.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    assert_eq!(
        follow_state(&alpha, &alice.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
}

#[tokio::test]
async fn a_block_reaches_a_remote_server_after_the_undo_and_the_reject_in_queue_order() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = crate::fake::FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    app.follow_fake(&fake, &alice, &mallory).await;
    let follow = serde_json::json!({
        "id": format!("{}/activities/follow-1", fake.base), "type": "Follow",
        "actor": mallory.id, "object": alice.ap_id,
    });
    assert_eq!(
        app.post_signed(&fake, &mallory, "/inbox", follow.clone())
            .await,
        202
    );
    app.deliver().await;
    let remote = app.resolve(&mallory.id).await;
    assert_eq!(
        follow_state(&app, &mallory.id, &alice.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    // Slow answers: deliveries sent at once would overtake each other.
    fake.set_delay(std::time::Duration::from_millis(100));
    let before = fake.received().len();

    blocks::block(&app.state, &alice, &remote).await.unwrap();
    assert_eq!(app.deliver().await, 3);
    let received = fake.received();
    let bodies: Vec<&Value> = received[before..].iter().map(|r| &r.body).collect();
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["Undo", "Reject", "Block"]);
    assert_eq!(bodies[0]["object"]["type"], "Follow");
    assert_eq!(bodies[0]["object"]["actor"], alice.ap_id);
    assert_eq!(bodies[0]["object"]["object"], mallory.id);
    assert_eq!(bodies[1]["object"]["id"], follow["id"]);
    assert_eq!(bodies[1]["object"]["actor"], mallory.id);
    assert_eq!(bodies[2]["object"], mallory.id);
    assert_eq!(fake.max_in_flight(), 1, "one after the other");
}

#[tokio::test]
async fn profile_edits_reach_the_servers_that_follow() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let remote_alice = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &remote_alice)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;

    profiles::update(
        &alpha.state,
        &alice,
        profiles::ProfileUpdate {
            display_name: Some("Alice <3".into()),
            bio: Some("Hello\n\nfediverse & friends".into()),
            fields: Some(vec![("Pronouns".into(), "she/her".into())]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(alpha.deliver().await, 1);
    let copy = beta.resolve(&alice.ap_id).await;
    assert_eq!(copy.display_name, "Alice <3");
    assert_eq!(copy.summary, "<p>Hello</p><p>fediverse &amp; friends</p>");
    assert_eq!(copy.fields.0[0].name, "Pronouns");
    assert_eq!(copy.fields.0[0].value, "she/her");

    // Bad input changes nothing and sends nothing.
    let too_long = "x".repeat(31);
    let err = profiles::update(
        &alpha.state,
        &alice,
        profiles::ProfileUpdate {
            display_name: Some(too_long),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, skein::error::Error::Validation(_)));
    assert_eq!(alpha.local("alice").await.display_name, "Alice <3");
    assert_eq!(alpha.deliver().await, 0);
}

#[tokio::test]
async fn switching_fediverse_sharing_off_makes_the_account_unknown_and_on_again_findable() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let remote_bob = alpha.resolve(&beta.handle("bob")).await;
    let remote_alice = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &remote_alice)
        .await
        .unwrap();
    follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;
    beta.deliver().await;
    assert_eq!(
        follow_state(&beta, &bob.ap_id, &alice.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );

    profiles::set_fediverse_sharing(&alpha.state, &alice, false)
        .await
        .unwrap();
    // One Delete to beta's shared inbox reaches every copy there.
    assert_eq!(alpha.deliver().await, 1);
    let gone: Option<i64> = sqlx::query_scalar("select id from actors where ap_id = $1")
        .bind(&alice.ap_id)
        .fetch_optional(&beta.db)
        .await
        .unwrap();
    assert_eq!(gone, None, "beta deleted its copy of alice");
    assert_eq!(follow_state(&beta, &bob.ap_id, &alice.ap_id).await, None);
    assert_eq!(follow_state(&alpha, &bob.ap_id, &alice.ap_id).await, None);
    assert_eq!(follow_state(&alpha, &alice.ap_id, &bob.ap_id).await, None);

    // Alpha answers as for an unknown account.
    let webfinger = alpha
        .client
        .get(alpha.url("/.well-known/webfinger"))
        .query(&[("resource", format!("acct:{}", alpha.handle("alice")))])
        .send()
        .await
        .unwrap();
    assert_eq!(webfinger.status(), 404);
    assert_eq!(alpha.get_ap("/users/alice").await.status(), 404);
    assert_eq!(alpha.get_ap("/users/alice/outbox").await.status(), 404);
    let err = skein::service::remote_actors::resolve(&beta.state, &alpha.handle("alice"))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        skein::service::remote_actors::ResolveError::NotFound
    ));
    // Nothing more is delivered for alice, and she cannot follow out.
    let err = follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap_err();
    assert!(matches!(err, skein::error::Error::Forbidden(_)));
    profiles::update(&alpha.state, &alice, profiles::ProfileUpdate::default())
        .await
        .unwrap();
    assert_eq!(alpha.deliver().await, 0);

    // On again: beta finds her and can follow again.
    profiles::set_fediverse_sharing(&alpha.state, &alice, true)
        .await
        .unwrap();
    let found = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &found).await.unwrap();
    beta.deliver().await;
    alpha.deliver().await;
    assert_eq!(
        follow_state(&beta, &bob.ap_id, &alice.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
}
