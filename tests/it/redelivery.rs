//! Activities that servers send again: a repeat whose effect still stands
//! changes nothing, one that arrives after its effect was undone takes
//! effect again (servers reuse ids), and a Delete reaches those who saw the
//! post through a repost.

use serde_json::{Value, json};
use skein::domain::visibility::Visibility;
use skein::service::{follows, interactions, posts};

use crate::fake::{FakeActor, FakeServer};
use crate::harness::{Options, TestApp};

fn draft(text: &str) -> posts::Draft<'_> {
    crate::harness::draft(text, Visibility::Public)
}

async fn counts(app: &TestApp, ap_id: &str) -> (i32, i32) {
    let post = app.post(ap_id).await;
    (post.likes_count, post.reposts_count)
}

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

fn activity(fake: &FakeServer, actor: &FakeActor, kind: &str, id: &str, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/{id}", fake.base),
        "type": kind,
        "actor": actor.id,
        "object": object,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    })
}

/// An instance with alice and a public post of hers (`text`), and a fake
/// server's mallory.
async fn alice_post_and_mallory(
    text: &str,
) -> (
    TestApp,
    skein::db::actors::Actor,
    skein::db::posts::Post,
    FakeServer,
    FakeActor,
) {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let post = posts::create(&app.state, &alice, draft(text))
        .await
        .unwrap();
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    (app, alice, post, fake, mallory)
}

#[tokio::test]
async fn a_like_or_repost_whose_id_is_reused_after_its_undo_counts_again() {
    let (app, alice, post, fake, mallory) = alice_post_and_mallory("like me twice").await;
    let send = |a: Value| app.post_signed(&fake, &mallory, "/inbox", a);
    let like = activity(&fake, &mallory, "Like", "likes/1", json!(post.ap_id));
    let announce = activity(
        &fake,
        &mallory,
        "Announce",
        "announces/1",
        json!(post.ap_id),
    );
    let undo =
        |n: u32, of: &Value| activity(&fake, &mallory, "Undo", &format!("undo/{n}"), of.clone());

    assert_eq!(send(like.clone()).await, 202);
    assert_eq!(send(announce.clone()).await, 202);
    assert_eq!(counts(&app, &post.ap_id).await, (1, 1));
    // The same activities again, while they stand: nothing more.
    assert_eq!(send(like.clone()).await, 202);
    assert_eq!(send(announce.clone()).await, 202);
    assert_eq!(counts(&app, &post.ap_id).await, (1, 1));

    assert_eq!(send(undo(1, &like)).await, 202);
    assert_eq!(send(undo(2, &announce)).await, 202);
    assert_eq!(counts(&app, &post.ap_id).await, (0, 0));
    // The Undos delivered again find nothing, and must not swallow what
    // comes next.
    assert_eq!(send(undo(1, &like)).await, 202);
    assert_eq!(send(undo(2, &announce)).await, 202);

    // The same ids, liked and reposted again: they count.
    assert_eq!(send(like.clone()).await, 202);
    assert_eq!(send(announce.clone()).await, 202);
    assert_eq!(counts(&app, &post.ap_id).await, (1, 1));
    let reposts = count(
        &app,
        "select count(*) from posts where reblog_of_id = $1",
        post.id,
    )
    .await;
    assert_eq!(reposts, 1);
    let notified = count(
        &app,
        "select count(*) from notifications where recipient_id = $1 and kind in ('favourite', 'reblog')",
        alice.id,
    )
    .await;
    assert!(notified >= 2, "{notified}");
}

#[tokio::test]
async fn a_follow_sent_again_while_it_stands_notifies_once_and_after_an_undo_follows_again() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let send = |a: Value| app.post_signed(&fake, &mallory, "/inbox", a);
    let follow = activity(&fake, &mallory, "Follow", "follows/1", json!(alice.ap_id));
    let followers = || {
        count(
            &app,
            "select count(*) from follows where followee_id = $1 and state = 'accepted'",
            alice.id,
        )
    };
    let notifications = || {
        count(
            &app,
            "select count(*) from notifications where recipient_id = $1 and kind = 'follow'",
            alice.id,
        )
    };

    assert_eq!(send(follow.clone()).await, 202);
    assert_eq!(send(follow.clone()).await, 202);
    assert_eq!((followers().await, notifications().await), (1, 1));
    let accepts = || {
        fake.received()
            .iter()
            .filter(|r| r.body["type"] == "Accept")
            .count()
    };
    app.deliver().await;
    assert_eq!(
        accepts(),
        1,
        "a retry of the same Follow was answered already"
    );
    // A Follow with a new id for a follow that stands: its server lost it,
    // and gets a new Accept (as Mastodon fast-forwards it), but no one is
    // notified again.
    let again = activity(&fake, &mallory, "Follow", "follows/2", json!(alice.ap_id));
    assert_eq!(send(again).await, 202);
    app.deliver().await;
    assert_eq!(accepts(), 2);
    assert_eq!((followers().await, notifications().await), (1, 1));
    let follow = activity(&fake, &mallory, "Follow", "follows/2", json!(alice.ap_id));

    assert_eq!(
        send(activity(&fake, &mallory, "Undo", "undo/1", follow.clone())).await,
        202
    );
    assert_eq!(followers().await, 0);
    // The same id again after its Undo: a follow again. (One account's
    // follow notification is kept once.)
    assert_eq!(send(follow.clone()).await, 202);
    assert_eq!((followers().await, notifications().await), (1, 1));
}

#[tokio::test]
async fn an_accept_whose_id_names_only_the_follower_completes_a_second_follow() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let remote = app.resolve(&mallory.id).await;
    // This server names its Accepts after the follower alone.
    let accept_id = format!("{}/users/mallory#accepts/follows/{}", fake.base, alice.id);
    let follow_and_accept = async || {
        follows::follow(&app.state, &alice, &remote).await.unwrap();
        app.deliver().await;
        let follow = fake
            .received()
            .into_iter()
            .rev()
            .find(|r| r.body["type"] == "Follow")
            .expect("the Follow reached the fake server");
        let accept = json!({
            "id": accept_id, "type": "Accept", "actor": mallory.id, "object": follow.body,
        });
        assert_eq!(
            app.post_signed(&fake, &mallory, "/inbox", accept).await,
            202
        );
        let state: String = sqlx::query_scalar(
            "select state from follows where follower_id = $1 and followee_id = $2",
        )
        .bind(alice.id)
        .bind(remote.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        state
    };
    assert_eq!(follow_and_accept().await, "accepted");
    follows::unfollow(&app.state, &alice, &remote)
        .await
        .unwrap();
    assert_eq!(follow_and_accept().await, "accepted");
}

#[tokio::test]
async fn an_undo_that_overtakes_its_like_wins_once_and_is_used_up() {
    let (app, _, post, fake, mallory) = alice_post_and_mallory("early undo").await;
    let send = |a: Value| app.post_signed(&fake, &mallory, "/inbox", a);
    let like = activity(&fake, &mallory, "Like", "likes/1", json!(post.ap_id));
    assert_eq!(
        send(activity(
            &fake,
            &mallory,
            "Undo",
            "undo/1",
            json!(like["id"])
        ))
        .await,
        202
    );
    assert_eq!(send(like.clone()).await, 202);
    assert_eq!(counts(&app, &post.ap_id).await, (0, 0));
    // The Undo was used up: the id liked again later counts.
    assert_eq!(send(like).await, 202);
    assert_eq!(counts(&app, &post.ap_id).await, (1, 0));
}

/// alice on alpha posts; bob on beta follows her and reposts it; carol on
/// gamma follows only bob.
#[tokio::test]
async fn a_delete_reaches_those_who_saw_the_post_through_a_repost() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let gamma = TestApp::spawn_with(Options::named("gamma")).await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let carol = gamma.create_user("carol").await.actor;

    let alice_at_beta = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &alice_at_beta)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;
    let bob_at_gamma = gamma.resolve(&beta.handle("bob")).await;
    follows::follow(&gamma.state, &carol, &bob_at_gamma)
        .await
        .unwrap();
    gamma.deliver().await;
    beta.deliver().await;

    let post = posts::create(&alpha.state, &alice, draft("soon gone"))
        .await
        .unwrap();
    alpha.deliver().await;
    let at_beta = beta.post(&post.ap_id).await;
    interactions::repost(&beta.state, &bob, &at_beta)
        .await
        .unwrap();
    beta.deliver().await;
    let at_gamma = gamma.post(&post.ap_id).await;
    assert!(at_gamma.deleted_at.is_none());
    let token = gamma.token("carol").await;
    let home = async || {
        let (status, body) = gamma.api_get(&token, "/api/v1/timelines/home").await;
        assert_eq!(status, 200);
        body
    };
    let before = home().await;
    assert!(
        before.to_string().contains(&post.ap_id),
        "carol sees the repost: {before}"
    );

    posts::delete(&alpha.state, &alice, &alpha.post(&post.ap_id).await)
        .await
        .unwrap();
    alpha.deliver().await;
    assert!(beta.post(&post.ap_id).await.deleted_at.is_some());
    // Beta forwarded the Delete to carol's server, which confirmed it at
    // alpha (410) and deleted its copy.
    beta.deliver().await;
    let gone = gamma.post(&post.ap_id).await;
    assert!(gone.deleted_at.is_some(), "gamma deleted its copy");
    let after = home().await;
    assert!(
        !after.to_string().contains(&post.ap_id),
        "carol no longer sees it: {after}"
    );
    let (status, _) = gamma
        .api_get(&token, &format!("/api/v1/statuses/{}", gone.id))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_forwarded_delete_of_a_post_that_still_exists_changes_nothing() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let alice = alpha.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let eve = FakeServer::spawn("forwarder").await;
    let forwarder = eve.add_actor("eve", false);
    alpha.follow_fake(&fake, &alice, &mallory).await;
    let note_id = fake.add_note(
        "1",
        json!({
            "id": format!("{}/notes/1", fake.base),
            "type": "Note", "attributedTo": mallory.id, "content": "still here",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        }),
    );
    let create = activity(&fake, &mallory, "Create", "create/1", json!(note_id));
    assert_eq!(
        alpha.post_signed(&fake, &mallory, "/inbox", create).await,
        202
    );
    assert!(alpha.post(&note_id).await.deleted_at.is_none());

    // Eve forwards a Delete in mallory's name; the note is still at its
    // origin, so nothing happens.
    let delete = activity(&fake, &mallory, "Delete", "delete/1", json!(note_id));
    assert_eq!(
        alpha.post_signed(&eve, &forwarder, "/inbox", delete).await,
        202
    );
    assert!(alpha.post(&note_id).await.deleted_at.is_none());
}
