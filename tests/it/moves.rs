//! Moving accounts between instances (Mastodon's account migration):
//! aliases, Move sent and received, followers carried over, and the Moves
//! that are refused.

use serde_json::{Value, json};
use skein::service::{follows, moves};

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};

const PASSWORD: &str = "correct horse battery";

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

async fn moved_to(app: &TestApp, ap_id: &str) -> Option<String> {
    sqlx::query_scalar("select moved_to from actors where ap_id = $1")
        .bind(ap_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The activities of `kind` an instance received, as recorded by its inbox.
async fn received(app: &TestApp, kind: &str) -> Vec<Value> {
    sqlx::query_scalar("select payload from inbox_activities where kind = $1 order by received_at")
        .bind(kind)
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// `follower` (local on `from`) follows `handle` and both servers deliver
/// until the follow is accepted.
async fn follow_across(from: &TestApp, to: &TestApp, follower: &str, handle: &str) {
    let follower = from.local(follower).await;
    let target = from.resolve(handle).await;
    follows::follow(&from.state, &follower, &target)
        .await
        .unwrap();
    from.deliver().await;
    to.deliver().await;
    assert_eq!(
        follow_state(from, &follower.ap_id, &target.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
}

#[tokio::test]
async fn a_move_to_another_instance_carries_the_followers_of_a_third_and_of_the_new_instance_over()
{
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let gamma = TestApp::spawn_with(Options::named("gamma")).await;
    let old = alpha.create_user("alice").await;
    let new = beta.create_user("alice2").await.actor;
    gamma.create_user("carol").await;
    beta.create_user("dave").await;
    let dave = beta.local("dave").await;
    let carol = gamma.local("carol").await;

    follow_across(&gamma, &alpha, "carol", &alpha.handle("alice")).await;
    follow_across(&beta, &alpha, "dave", &alpha.handle("alice")).await;
    // Gil, on gamma, blocks the old account: the block carries over.
    let gil = gamma.create_user("gil").await.actor;
    let old_on_gamma = gamma.resolve(&alpha.handle("alice")).await;
    skein::service::blocks::block(&gamma.state, &gil, &old_on_gamma)
        .await
        .unwrap();
    gamma.deliver().await;

    // The new account names the old one first.
    let new = moves::set_aliases(&beta.state, &new, &[alpha.handle("alice")])
        .await
        .unwrap();
    assert_eq!(new.also_known_as, vec![old.actor.ap_id.clone()]);
    let doc: Value = beta.get_ap("/users/alice2").await.json().await.unwrap();
    assert_eq!(doc["alsoKnownAs"], json!([old.actor.ap_id]));

    let moved = moves::move_to(
        &alpha.state,
        &old.user,
        &old.actor,
        &beta.handle("alice2"),
        PASSWORD,
    )
    .await
    .unwrap();
    assert_eq!(moved.moved_to.as_deref(), Some(new.ap_id.as_str()));
    let doc: Value = alpha.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(doc["movedTo"], json!(new.ap_id));
    // The old account no longer posts.
    let token = alpha.token("alice").await;
    let (status, _) = alpha
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({ "status": "still here?" }),
        )
        .await;
    assert_eq!(status, 403);

    // Update(Person) and Move go to beta and gamma.
    alpha.deliver().await;
    for app in [&beta, &gamma] {
        let moves = received(app, "Move").await;
        assert_eq!(moves.len(), 1);
        assert_eq!(moves[0]["actor"], json!(old.actor.ap_id));
        assert_eq!(moves[0]["object"], json!(old.actor.ap_id));
        assert_eq!(moves[0]["target"], json!(new.ap_id));
        assert_eq!(
            moved_to(app, &old.actor.ap_id).await.as_deref(),
            Some(new.ap_id.as_str())
        );
    }

    // Dave, on the new account's own instance, follows it at once and no
    // longer follows the old one.
    assert_eq!(
        follow_state(&beta, &dave.ap_id, &new.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    assert_eq!(
        follow_state(&beta, &dave.ap_id, &old.actor.ap_id).await,
        None
    );

    // Carol, on gamma, sent a Follow to the new account and an Undo to the
    // old one.
    assert_eq!(
        follow_state(&gamma, &carol.ap_id, &new.ap_id)
            .await
            .as_deref(),
        Some("pending")
    );
    assert_eq!(
        follow_state(&gamma, &carol.ap_id, &old.actor.ap_id).await,
        None
    );
    gamma.deliver().await;
    let blocks = received(&beta, "Block").await;
    assert!(
        blocks
            .iter()
            .any(|b| b["actor"] == json!(gil.ap_id) && b["object"] == json!(new.ap_id)),
        "beta received gil's Block: {blocks:?}"
    );
    let follows = received(&beta, "Follow").await;
    assert!(
        follows
            .iter()
            .any(|f| f["actor"] == json!(carol.ap_id) && f["object"] == json!(new.ap_id)),
        "beta received carol's Follow: {follows:?}"
    );
    beta.deliver().await;
    assert_eq!(
        follow_state(&gamma, &carol.ap_id, &new.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    assert_eq!(
        follow_state(&beta, &carol.ap_id, &new.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    // The Undos reached alpha: the old account has no followers left.
    assert_eq!(
        follow_state(&alpha, &carol.ap_id, &old.actor.ap_id).await,
        None
    );
    assert_eq!(
        follow_state(&alpha, &dave.ap_id, &old.actor.ap_id).await,
        None
    );

    // The client API and the web profile on gamma say where it moved.
    let token = gamma.token("carol").await;
    let old_here = gamma.resolve(&old.actor.ap_id).await;
    let (status, account) = gamma
        .api_get(&token, &format!("/api/v1/accounts/{}", old_here.id))
        .await;
    assert_eq!(status, 200);
    assert_eq!(account["moved"]["uri"], json!(new.ap_id));
    let page = gamma
        .get(&format!("/@{}", alpha.handle("alice")))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("has moved to"), "{page}");
}

#[tokio::test]
async fn a_move_to_an_account_that_does_not_list_the_old_one_is_refused() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let old = alpha.create_user("alice").await;
    beta.create_user("alice2").await;
    beta.create_user("dave").await;
    follow_across(&beta, &alpha, "dave", &alpha.handle("alice")).await;

    let refused = moves::move_to(
        &alpha.state,
        &old.user,
        &old.actor,
        &beta.handle("alice2"),
        PASSWORD,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.status(), 422);
    assert!(refused.public_message().contains("alsoKnownAs"));
    // A wrong password is refused too, even with the alias in place.
    let new = beta.local("alice2").await;
    moves::set_aliases(&beta.state, &new, &[alpha.handle("alice")])
        .await
        .unwrap();
    let refused = moves::move_to(
        &alpha.state,
        &old.user,
        &old.actor,
        &beta.handle("alice2"),
        "not the password",
    )
    .await
    .unwrap_err();
    assert_eq!(refused.status(), 422);

    assert_eq!(moved_to(&alpha, &old.actor.ap_id).await, None);
    assert_eq!(alpha.deliver().await, 0, "nothing was sent");
    assert!(received(&beta, "Move").await.is_empty());
}

#[tokio::test]
async fn a_received_move_is_applied_only_when_the_target_lists_the_mover_as_an_alias() {
    let fake = FakeServer::spawn("fake").await;
    let old = fake.add_actor("old", false);
    let app = TestApp::spawn().await;
    let carol = app.create_user("carol").await.actor;
    let bob = app.create_user("bob").await.actor;
    app.create_user("eve").await;
    let eve = app.local("eve").await;
    app.follow_fake(&fake, &carol, &old).await;
    let old_here = app.resolve(&old.id).await;
    // Eve muted the old account: the mute carries over with the move.
    skein::db::mutes::upsert(
        &app.db,
        eve.id,
        old_here.id,
        true,
        None,
        skein::clock::Clock::now(&*app.clock),
    )
    .await
    .unwrap();

    let move_to_bob = |n: u32| {
        json!({
            "id": format!("{}/activities/move-{n}", fake.base),
            "type": "Move",
            "actor": old.id,
            "object": old.id,
            "target": bob.ap_id,
        })
    };
    // Bob does not list the old account: the Move changes nothing.
    assert_eq!(
        app.post_signed(&fake, &old, "/inbox", move_to_bob(1)).await,
        202
    );
    assert_eq!(
        follow_state(&app, &carol.ap_id, &old.id).await.as_deref(),
        Some("accepted")
    );
    assert_eq!(follow_state(&app, &carol.ap_id, &bob.ap_id).await, None);
    assert_eq!(moved_to(&app, &old.id).await, None);

    // A Move of someone else is refused outright.
    let mut other = move_to_bob(2);
    other["object"] = json!(bob.ap_id);
    assert_eq!(app.post_signed(&fake, &old, "/inbox", other).await, 403);

    // Once bob names the old account, carol follows bob and leaves the old
    // account with an Undo.
    moves::set_aliases(&app.state, &bob, std::slice::from_ref(&old.id))
        .await
        .unwrap();
    assert_eq!(
        app.post_signed(&fake, &old, "/inbox", move_to_bob(3)).await,
        202
    );
    assert_eq!(
        follow_state(&app, &carol.ap_id, &bob.ap_id)
            .await
            .as_deref(),
        Some("accepted")
    );
    assert_eq!(follow_state(&app, &carol.ap_id, &old.id).await, None);
    assert_eq!(
        moved_to(&app, &old.id).await.as_deref(),
        Some(bob.ap_id.as_str())
    );
    let muted: bool = sqlx::query_scalar(
        "select exists (select 1 from mutes where actor_id = $1 and target_id = $2)",
    )
    .bind(eve.id)
    .bind(bob.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(muted);
    app.deliver().await;
    assert!(
        fake.received().iter().any(|r| r.body["type"] == "Undo"
            && r.body["object"]["type"] == "Follow"
            && r.body["actor"] == json!(carol.ap_id)),
        "the old account's server got carol's Undo(Follow)"
    );
}

#[tokio::test]
async fn aliases_and_a_move_are_made_from_the_web_settings_and_the_move_needs_the_password() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let old = alpha.create_user("alice").await.actor;
    let new = beta.create_user("alice2").await.actor;

    let mut there = crate::web::Browser::new(&beta);
    there.sign_in("alice2").await;
    let token = crate::web::csrf(&there.get("/settings/aliases").await.body);
    let alias = alpha.handle("alice");
    let page = there
        .post(
            "/settings/aliases",
            &[("csrf_token", &token), ("aliases", &alias)],
        )
        .await;
    assert_eq!(page.status, 303);
    assert!(
        there
            .get("/settings/aliases")
            .await
            .body
            .contains(&old.ap_id)
    );

    let mut here = crate::web::Browser::new(&alpha);
    here.sign_in("alice").await;
    let token = crate::web::csrf(&here.get("/settings/move").await.body);
    let target = beta.handle("alice2");
    let page = here
        .post(
            "/settings/move",
            &[
                ("csrf_token", &token),
                ("target", &target),
                ("current_password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("password"));
    assert_eq!(moved_to(&alpha, &old.ap_id).await, None);
    let page = here
        .post(
            "/settings/move",
            &[
                ("csrf_token", &token),
                ("target", &target),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(
        moved_to(&alpha, &old.ap_id).await.as_deref(),
        Some(new.ap_id.as_str())
    );
    assert!(
        here.get("/settings/move")
            .await
            .body
            .contains("has moved to")
    );
}

#[tokio::test]
async fn aliases_and_a_move_through_the_api_carry_followers_over_and_a_wrong_password_changes_nothing()
 {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let old = alpha.create_user("alice").await;
    let new = beta.create_user("alice2").await;
    beta.create_user("dave").await;
    let dave = beta.local("dave").await;
    follow_across(&beta, &alpha, "dave", &alpha.handle("alice")).await;
    let old_token = alpha.token("alice").await;
    let new_token = beta.token("alice2").await;

    let (status, account) = beta
        .api_post(
            &new_token,
            "/api/v1/accounts/alias",
            json!({"also_known_as_uris": [alpha.handle("alice")]}),
        )
        .await;
    assert_eq!(status, 200, "{account}");
    let aliases: Vec<String> = sqlx::query_scalar("select also_known_as from actors where id = $1")
        .bind(new.actor.id)
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(aliases, std::slice::from_ref(&old.actor.ap_id));

    let (status, body) = alpha
        .api_post(
            &old_token,
            "/api/v1/accounts/move",
            json!({"moved_to_uri": beta.handle("alice2"), "password": "not it"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(moved_to(&alpha, &old.actor.ap_id).await, None);
    assert_eq!(alpha.deliver().await, 0, "nothing was sent");

    let (status, body) = alpha
        .api_post(
            &old_token,
            "/api/v1/accounts/move",
            json!({"moved_to_uri": new.actor.ap_id, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(
        moved_to(&alpha, &old.actor.ap_id).await.as_deref(),
        Some(new.actor.ap_id.as_str())
    );
    alpha.deliver().await;
    beta.deliver().await;
    assert!(
        follow_state(&beta, &dave.ap_id, &new.actor.ap_id)
            .await
            .is_some(),
        "dave follows the new account"
    );
    assert_eq!(
        follow_state(&beta, &dave.ap_id, &old.actor.ap_id).await,
        None,
        "and no longer the old one"
    );
}
