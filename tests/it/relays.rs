//! Relays, against a relay played by a fake server speaking Mastodon's
//! relay protocol: the admin subscribes by the relay's inbox; the instance
//! actor's Follow of the Public collection goes out and the relay's Accept
//! completes it; local public posts go to the relay, other posts don't;
//! what the relay announces (LitePub) or passes on (Mastodon-style) is
//! fetched from its origin into the fediverse timeline; unsubscribing
//! sends Undo(Follow) and ends it.

use serde_json::{Value, json};

use crate::fake::{FakeActor, FakeServer};
use crate::harness::TestApp;
use crate::web::Browser;

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn note(origin: &FakeServer, author: &FakeActor, name: &str) -> Value {
    json!({
        "id": origin.note_url(name),
        "type": "Note",
        "attributedTo": author.id,
        "content": format!("<p>relayed {name}</p>"),
        "to": [PUBLIC],
        "published": "2026-12-01T12:00:00Z",
    })
}

/// What the relay's inbox received, by activity type.
fn received(relay: &FakeServer, kind: &str) -> Vec<Value> {
    relay
        .received()
        .into_iter()
        .filter(|r| r.path == "/inbox" && r.body["type"] == kind)
        .map(|r| r.body)
        .collect()
}

async fn relay_row(app: &TestApp) -> Option<(String, Option<i64>)> {
    sqlx::query_as("select state, actor_id from relays")
        .fetch_optional(&app.db)
        .await
        .unwrap()
}

async fn federated_timeline(app: &TestApp, token: &str) -> Vec<String> {
    let (status, page) = app
        .api_get(token, "/api/v1/timelines/public?remote=true")
        .await;
    assert_eq!(status, 200, "{page}");
    page.as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_subscribed_relay_gets_public_posts_and_fills_the_fediverse_timeline() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("alice").await;
    alpha.create_staff("root", "admin").await;
    let alice = alpha.token("alice").await;
    let relay = FakeServer::spawn("relay").await;
    let relay_actor = relay.add_actor("relay", false);
    // A relay's actor is a Service (LitePub relays: an Application).
    relay.serve(
        "/users/relay",
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": relay_actor.id, "type": "Service", "preferredUsername": "relay",
            "inbox": format!("{}/inbox", relay.base),
            "publicKey": {
                "id": relay_actor.key_id, "owner": relay_actor.id,
                "publicKeyPem": relay_actor.public_pem,
            },
        }),
    );
    let origin = FakeServer::spawn("origin").await;
    let bob = origin.add_actor("bob", false);

    // The admin subscribes from the federation page.
    let mut admin = Browser::new(&alpha);
    admin.sign_in("root").await;
    let page = admin.get("/admin/federation").await;
    assert!(page.body.contains("No relay."));
    let token = crate::web::csrf(&page.body);
    let inbox = format!("{}/inbox", relay.base);
    let done = admin
        .post(
            "/admin/relays",
            &[
                ("csrf_token", token.as_str()),
                ("inbox_url", inbox.as_str()),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    alpha.deliver().await;
    let follows = received(&relay, "Follow");
    assert_eq!(follows.len(), 1, "{follows:?}");
    let follow = &follows[0];
    assert_eq!(follow["object"], PUBLIC);
    assert_eq!(follow["actor"], alpha.url("/actor"));
    assert_eq!(relay_row(&alpha).await.unwrap().0, "pending");

    // Nothing goes to the relay until it accepts.
    let (status, _) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "before the relay accepted", "visibility": "public"}),
        )
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    assert!(received(&relay, "Create").is_empty());

    // An Accept from another host does not complete it; the relay's does.
    let stranger = origin.add_actor("stranger", false);
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/accepts/forged", origin.base),
        "type": "Accept", "actor": stranger.id, "object": follow["id"],
    });
    assert_eq!(
        alpha
            .post_signed(&origin, &stranger, "/inbox", forged)
            .await,
        202
    );
    assert_eq!(relay_row(&alpha).await.unwrap().0, "pending");
    let accept = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/accepts/1", relay.base),
        "type": "Accept", "actor": relay_actor.id, "object": follow.clone(),
    });
    assert_eq!(
        alpha
            .post_signed(&relay, &relay_actor, "/inbox", accept)
            .await,
        202
    );
    let (state, actor_id) = relay_row(&alpha).await.unwrap();
    assert_eq!(state, "accepted");
    let relay_local: i64 = sqlx::query_scalar("select id from actors where ap_id = $1")
        .bind(&relay_actor.id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(actor_id, Some(relay_local));

    // Public posts go to the relay; unlisted and followers-only ones don't.
    for (text, visibility) in [
        ("for everyone", "public"),
        ("quietly", "unlisted"),
        ("for followers", "private"),
    ] {
        let (status, _) = alpha
            .api_post(
                &alice,
                "/api/v1/statuses",
                json!({"status": text, "visibility": visibility}),
            )
            .await;
        assert_eq!(status, 200);
    }
    alpha.deliver().await;
    let creates = received(&relay, "Create");
    assert_eq!(creates.len(), 1, "{creates:?}");
    assert_eq!(creates[0]["object"]["content"], "<p>for everyone</p>");

    // A LitePub relay announces a post: fetched from its origin, in the
    // fediverse timeline, and not a repost by the relay.
    let announced = origin.add_note("announced", note(&origin, &bob, "announced"));
    let announce = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/announces/1", relay.base),
        "type": "Announce", "actor": relay_actor.id, "object": announced,
        "to": [PUBLIC],
    });
    assert_eq!(
        alpha
            .post_signed(&relay, &relay_actor, "/inbox", announce)
            .await,
        202
    );
    assert!(
        federated_timeline(&alpha, &alice)
            .await
            .contains(&announced)
    );
    let reposts: i64 = sqlx::query_scalar(
        "select count(*) from posts where author_id = $1 and reblog_of_id is not null",
    )
    .bind(relay_local)
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert_eq!(reposts, 0, "the relay reposts nothing");

    // A Mastodon-style relay passes the author's Create on, signed with
    // its own key: the post is taken from its origin, not from the body.
    let passed = origin.add_note("passed", note(&origin, &bob, "passed"));
    let mut lying = note(&origin, &bob, "passed");
    lying["content"] = json!("<p>rewritten on the way</p>");
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{passed}/activity"),
        "type": "Create", "actor": bob.id, "object": lying, "to": [PUBLIC],
    });
    assert_eq!(
        alpha
            .post_signed(&relay, &relay_actor, "/inbox", create)
            .await,
        202
    );
    let content: String = sqlx::query_scalar("select content from posts where ap_id = $1")
        .bind(&passed)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(content, "<p>relayed passed</p>");
    assert!(federated_timeline(&alpha, &alice).await.contains(&passed));

    // Another relay, never subscribed to, is not taken.
    let other = FakeServer::spawn("otherrelay").await;
    let other_actor = other.add_actor("relay", false);
    let unasked = origin.add_note("unasked", note(&origin, &bob, "unasked"));
    let announce = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/announces/1", other.base),
        "type": "Announce", "actor": other_actor.id, "object": unasked, "to": [PUBLIC],
    });
    alpha
        .post_signed(&other, &other_actor, "/inbox", announce)
        .await;
    let stored: i64 = sqlx::query_scalar("select count(*) from posts where ap_id = $1")
        .bind(&unasked)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Unsubscribing sends Undo(Follow) and ends the relaying.
    let page = admin.get("/admin/federation").await;
    assert!(page.body.contains("subscribed"));
    let id: i64 = sqlx::query_scalar("select id from relays")
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    let done = admin
        .post(
            &format!("/admin/relays/{id}/remove"),
            &[("csrf_token", token.as_str())],
        )
        .await;
    assert_eq!(done.status, 303);
    alpha.deliver().await;
    let undos = received(&relay, "Undo");
    assert_eq!(undos.len(), 1);
    assert_eq!(undos[0]["object"]["id"], follow["id"]);
    assert!(relay_row(&alpha).await.is_none());
    let (status, _) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "after the relay", "visibility": "public"}),
        )
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    assert_eq!(received(&relay, "Create").len(), 1, "nothing more relayed");
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from admin_actions where target_type = 'relay' order by id",
    )
    .fetch_all(&alpha.db)
    .await
    .unwrap();
    assert_eq!(actions, ["relay.subscribe", "relay.unsubscribe"]);
}
