//! Followers, following, outbox and featured as paged OrderedCollections.

use serde_json::Value;

use crate::harness::{TestApp, insert_remote_actor};

async fn json(app: &TestApp, path: &str) -> Value {
    let response = app.get_ap(path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/activity+json; charset=utf-8"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn empty_collections_are_well_formed() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let featured = json(&app, "/users/alice/collections/featured").await;
    assert_eq!(featured["type"], "OrderedCollection");
    assert_eq!(featured["totalItems"], 0);
    assert_eq!(featured["orderedItems"], serde_json::json!([]));
    for name in ["followers", "following", "outbox"] {
        let id = app.url(&format!("/users/alice/{name}"));
        let collection = json(&app, &format!("/users/alice/{name}")).await;
        assert_eq!(
            collection["@context"],
            "https://www.w3.org/ns/activitystreams"
        );
        assert_eq!(collection["id"], id);
        assert_eq!(collection["type"], "OrderedCollection");
        assert_eq!(collection["totalItems"], 0);
        let first = collection["first"].as_str().unwrap();
        assert_eq!(first, format!("{id}?page=true"));

        let page = json(&app, first.strip_prefix(&app.base).unwrap()).await;
        assert_eq!(page["type"], "OrderedCollectionPage");
        assert_eq!(page["id"], first);
        assert_eq!(page["partOf"], id);
        assert_eq!(page["totalItems"], 0);
        assert_eq!(page["orderedItems"], serde_json::json!([]));
        assert!(page.get("next").is_none());
    }
}

#[tokio::test]
async fn followers_and_following_page_through_accepted_relations_only() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let mut followers = Vec::new();
    for i in 0..41 {
        let remote = insert_remote_actor(&app.db, "remote.example", &format!("f{i}")).await;
        skein::db::follows::insert_accepted(&app.db, remote, alice.actor.id, None)
            .await
            .unwrap();
        followers.push(format!("https://remote.example/users/f{i}"));
    }
    // A pending request is not a follower yet.
    let pending = insert_remote_actor(&app.db, "remote.example", "pending").await;
    sqlx::query("insert into follows (follower_id, followee_id, state) values ($1, $2, 'pending')")
        .bind(pending)
        .bind(alice.actor.id)
        .execute(&app.db)
        .await
        .unwrap();
    let followee = insert_remote_actor(&app.db, "other.example", "star").await;
    skein::db::follows::insert_accepted(&app.db, alice.actor.id, followee, None)
        .await
        .unwrap();

    let collection = json(&app, "/users/alice/followers").await;
    assert_eq!(collection["totalItems"], 41);

    let first = json(&app, "/users/alice/followers?page=true").await;
    let items: Vec<String> = serde_json::from_value(first["orderedItems"].clone()).unwrap();
    assert_eq!(items.len(), 40);
    // Newest first.
    assert_eq!(items[0], followers[40]);
    let next = first["next"].as_str().expect("a full page links the next");
    let second = json(&app, next.strip_prefix(&app.base).unwrap()).await;
    let rest: Vec<String> = serde_json::from_value(second["orderedItems"].clone()).unwrap();
    assert_eq!(rest, vec![followers[0].clone()]);
    assert!(second.get("next").is_none());
    assert!(!items.contains(&"https://remote.example/users/pending".to_string()));

    let following = json(&app, "/users/alice/following?page=true").await;
    assert_eq!(following["totalItems"], 1);
    assert_eq!(
        following["orderedItems"],
        serde_json::json!(["https://other.example/users/star"])
    );

    let profile = app.get("/@alice").await.text().await.unwrap();
    assert!(profile.contains("<strong>41</strong> followers"));
    assert!(profile.contains("<strong>1</strong> following"));
}

#[tokio::test]
async fn the_outbox_lists_public_and_unlisted_posts_as_create_activities() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    for (n, visibility) in ["public", "unlisted", "private", "direct"]
        .iter()
        .enumerate()
    {
        skein::db::posts::insert(
            &mut app.db.acquire().await.unwrap(),
            &skein::db::posts::NewPost {
                id: None,
                ap_id: &app.url(&format!("/users/alice/statuses/{n}")),
                author_id: alice.actor.id,
                url: None,
                content: &format!("<p>{visibility} post</p>"),
                visibility: skein::domain::visibility::Visibility::parse(visibility)
                    .expect("a visibility"),
                source: None,
                summary: "",
                sensitive: false,
                language: Some("en"),
                in_reply_to_ap_id: None,
                published: chrono::Utc::now(),
                quote_policy: Default::default(),
                reply_policy: Default::default(),
                interaction_policy: None,
            },
            &[],
            &[],
        )
        .await
        .unwrap();
    }
    let collection = json(&app, "/users/alice/outbox").await;
    assert_eq!(collection["totalItems"], 2);
    let page = json(&app, "/users/alice/outbox?page=true").await;
    let items = page["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let unlisted = &items[0];
    let public = &items[1];
    assert_eq!(public["type"], "Create");
    assert_eq!(public["actor"], app.url("/users/alice"));
    assert_eq!(public["object"]["type"], "Note");
    assert_eq!(public["object"]["id"], app.url("/users/alice/statuses/0"));
    assert_eq!(public["object"]["attributedTo"], app.url("/users/alice"));
    assert_eq!(public["object"]["content"], "<p>public post</p>");
    assert_eq!(
        public["to"],
        serde_json::json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(
        public["cc"],
        serde_json::json!([app.url("/users/alice/followers")])
    );
    assert_eq!(
        unlisted["to"],
        serde_json::json!([app.url("/users/alice/followers")])
    );
    assert_eq!(
        unlisted["cc"],
        serde_json::json!(["https://www.w3.org/ns/activitystreams#Public"])
    );

    let html = app.get("/@alice").await.text().await.unwrap();
    assert!(html.contains("<p>public post</p>"));
    assert!(!html.contains("private post"));
    assert!(!html.contains("direct post"));
}

#[tokio::test]
async fn a_malformed_cursor_is_a_400() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    for path in [
        "/users/alice/followers?page=true&max_id=abc",
        "/users/alice/outbox?max_id=1e3",
    ] {
        let response = app.get_ap(path).await;
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("max_id"));
    }
}
