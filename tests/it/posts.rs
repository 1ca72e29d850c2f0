//! Posts between two instances: writing, mentions, hashtags, replies,
//! deletes, who may fetch what, and forged posts.

use serde_json::{Value, json};
use skein::domain::visibility::Visibility;
use skein::federation::signatures::{SigningKey, sign_request};
use skein::service::{follows, posts};

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp, draft};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

async fn pair() -> (TestApp, TestApp) {
    (
        TestApp::spawn_with(Options::named("alpha")).await,
        TestApp::spawn_with(Options::named("beta")).await,
    )
}

#[derive(Debug, sqlx::FromRow)]
struct Stored {
    id: i64,
    content: String,
    visibility: String,
    in_reply_to_id: Option<i64>,
    replies_count: i32,
    deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

async fn stored(app: &TestApp, ap_id: &str) -> Option<Stored> {
    sqlx::query_as(
        "select id, content, visibility, in_reply_to_id, replies_count, deleted_at
         from posts where ap_id = $1",
    )
    .bind(ap_id)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

async fn notifications(app: &TestApp, recipient: i64) -> Vec<String> {
    sqlx::query_scalar("select kind from notifications where recipient_id = $1 order by id")
        .bind(recipient)
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// bob@beta follows alice@alpha, for real.
async fn bob_follows_alice(alpha: &TestApp, beta: &TestApp) {
    let bob = beta.local("bob").await;
    let alice = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &alice).await.unwrap();
    beta.deliver().await;
    alpha.deliver().await;
}

#[tokio::test]
async fn a_post_reaches_followers_and_mentioned_accounts_with_tags_and_replies_come_back() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    beta.create_user("bob").await;
    let carol = beta.create_user("carol").await.actor;
    bob_follows_alice(&alpha, &beta).await;

    let text = format!(
        "Hello @carol@{} and #Skein fans: https://example.com/page",
        beta.domain
    );
    let post = posts::create(&alpha.state, &alice, draft(&text, Visibility::Public))
        .await
        .unwrap();
    assert!(
        post.content.contains("class=\"u-url mention\""),
        "{}",
        post.content
    );
    assert!(post.content.contains("class=\"mention hashtag\""));
    // Bob and carol live on one server: one delivery to its shared inbox.
    assert_eq!(alpha.deliver().await, 1);

    let copy = stored(&beta, &post.ap_id)
        .await
        .expect("beta stored the post");
    assert_eq!(copy.visibility, "public");
    assert!(copy.content.contains("@<span>carol</span>"));
    assert!(
        copy.content
            .contains("rel=\"nofollow noopener noreferrer\"")
    );
    let tags: Vec<String> = sqlx::query_scalar("select tag from post_tags where post_id = $1")
        .bind(copy.id)
        .fetch_all(&beta.db)
        .await
        .unwrap();
    assert_eq!(tags, vec!["skein"]);
    assert_eq!(notifications(&beta, carol.id).await, vec!["mention"]);

    // The Note as alpha serves it.
    let note: Value = alpha
        .get_ap(post.ap_id.strip_prefix(&alpha.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(note["type"], "Note");
    assert_eq!(note["attributedTo"], alice.ap_id);
    assert_eq!(
        note["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(
        note["cc"],
        json!([alice.followers_url.clone().unwrap(), carol.ap_id])
    );
    let tag_types: Vec<&str> = note["tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["type"].as_str().unwrap())
        .collect();
    assert_eq!(tag_types, vec!["Mention", "Hashtag"]);
    assert_eq!(note["tag"][0]["name"], format!("@carol@{}", beta.domain));
    assert_eq!(note["contentMap"]["en"], post.content);

    // Carol replies from beta; alpha links the reply and tells alice.
    let reply_text = format!("@alice@{} thanks!", alpha.domain);
    let reply = posts::create(
        &beta.state,
        &carol,
        posts::Draft {
            in_reply_to: Some(&post.ap_id),
            ..draft(&reply_text, Visibility::Public)
        },
    )
    .await
    .unwrap();
    assert_eq!(beta.deliver().await, 1);
    let at_alpha = stored(&alpha, &reply.ap_id)
        .await
        .expect("alpha stored the reply");
    assert_eq!(at_alpha.in_reply_to_id, Some(post.id));
    assert_eq!(stored(&alpha, &post.ap_id).await.unwrap().replies_count, 1);
    let replies: Value = alpha
        .get_ap(&format!(
            "{}/replies",
            post.ap_id.strip_prefix(&alpha.base).unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(replies["id"], note["replies"]["id"]);
    assert_eq!(replies["totalItems"], 1);
    assert_eq!(replies["orderedItems"], json!([reply.ap_id]));
    assert_eq!(
        notifications(&alpha, alice.id).await,
        vec!["follow", "mention"]
    );

    // Alice deletes her post: beta keeps a tombstone, alpha answers 410.
    posts::delete(&alpha.state, &alice, &post).await.unwrap();
    assert_eq!(alpha.deliver().await, 1);
    let gone = stored(&beta, &post.ap_id).await.unwrap();
    assert!(gone.deleted_at.is_some());
    assert_eq!(gone.content, "");
    let path = post.ap_id.strip_prefix(&alpha.base).unwrap().to_string();
    assert_eq!(alpha.get_ap(&path).await.status(), 410);
    assert_eq!(alpha.get(&path).await.status(), 410);
}

#[tokio::test]
async fn followers_only_posts_are_fetched_only_by_followers() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let carol = beta.create_user("carol").await.actor;
    bob_follows_alice(&alpha, &beta).await;
    let post = posts::create(
        &alpha.state,
        &alice,
        draft("for my followers", Visibility::Private),
    )
    .await
    .unwrap();
    alpha.deliver().await;
    assert_eq!(
        stored(&beta, &post.ap_id).await.unwrap().visibility,
        "private"
    );
    let note: Value = serde_json::from_value(
        sqlx::query_scalar::<_, Value>(
            "select payload from inbox_activities where kind = 'Create'",
        )
        .fetch_one(&beta.db)
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        note["object"]["to"],
        json!([alice.followers_url.clone().unwrap()])
    );

    let path = post.ap_id.strip_prefix(&alpha.base).unwrap().to_string();
    assert_eq!(alpha.get_ap(&path).await.status(), 404, "unsigned");
    assert_eq!(alpha.get(&path).await.status(), 404, "no public page");
    let signed_get = |who: &skein::db::actors::Actor| {
        let key =
            SigningKey::from_pkcs8_pem(&who.public_key_id, who.private_key_pem.as_deref().unwrap())
                .unwrap();
        sign_request(
            "GET",
            &url::Url::parse(&post.ap_id).unwrap(),
            None,
            &key,
            chrono::Utc::now(),
        )
    };
    let fetch = |headers: Vec<(&'static str, String)>| {
        let mut request = alpha
            .client
            .get(&post.ap_id)
            .header("accept", "application/activity+json");
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send()
    };
    let as_bob = fetch(signed_get(&bob)).await.unwrap();
    assert_eq!(as_bob.status(), 200);
    let body: Value = as_bob.json().await.unwrap();
    assert_eq!(body["content"], "<p>for my followers</p>");
    assert_eq!(
        fetch(signed_get(&carol)).await.unwrap().status(),
        404,
        "not a follower"
    );
}

#[tokio::test]
async fn bad_drafts_are_refused_and_change_nothing() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_POSTS__MAX_CHARACTERS", "20")).await;
    let alice = app.create_user("alice").await.actor;
    let before = app.table_counts().await;
    for (text, reply) in [
        ("", None),
        ("this text is longer than twenty characters", None),
        ("fine", Some("https://nowhere.example/notes/1")),
    ] {
        let err = posts::create(
            &app.state,
            &alice,
            posts::Draft {
                in_reply_to: reply,
                ..draft(text, Visibility::Public)
            },
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, skein::error::Error::Validation(_)),
            "{text}: {err:?}"
        );
    }
    // A link counts as 23 characters: short text with a long link is over 20.
    let err = posts::create(
        &app.state,
        &alice,
        draft("https://example.com/a", Visibility::Public),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, skein::error::Error::Validation(_)));
    assert_eq!(app.table_counts().await, before);
}

#[tokio::test]
async fn forged_creates_and_deletes_are_refused_and_a_delete_before_its_create_wins() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let post = posts::create(&app.state, &alice, draft("mine", Visibility::Public))
        .await
        .unwrap();
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    // Alice follows mallory, so mallory's posts concern this instance.
    app.follow_fake(&fake, &alice, &mallory).await;
    let send = |activity: Value| app.post_signed(&fake, &mallory, "/inbox", activity);

    let note = |id: &str, author: &str| {
        json!({
            "id": id, "type": "Note", "attributedTo": author, "content": "<p>hi</p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        })
    };
    let before = app.table_counts().await;
    // A Create whose object claims another author.
    let forged = json!({
        "id": format!("{}/activities/c1", fake.base), "type": "Create", "actor": mallory.id,
        "object": note(&format!("{}/notes/1", fake.base), &alice.ap_id),
    });
    assert_eq!(send(forged).await, 403);
    // A Delete of alice's post.
    let delete = json!({
        "id": format!("{}/activities/d1", fake.base), "type": "Delete", "actor": mallory.id,
        "object": post.ap_id,
    });
    assert_eq!(send(delete).await, 403);
    assert_eq!(app.table_counts().await, before);
    assert!(
        stored(&app, &post.ap_id)
            .await
            .unwrap()
            .deleted_at
            .is_none()
    );

    // Delete first, Create after: the post never appears.
    let late = format!("{}/notes/2", fake.base);
    let delete = json!({
        "id": format!("{}/activities/d2", fake.base), "type": "Delete", "actor": mallory.id,
        "object": { "id": late, "type": "Tombstone" },
    });
    assert_eq!(send(delete).await, 202);
    let create = json!({
        "id": format!("{}/activities/c2", fake.base), "type": "Create", "actor": mallory.id,
        "object": note(&late, &mallory.id),
    });
    assert_eq!(send(create).await, 202);
    let tomb = stored(&app, &late).await.unwrap();
    assert!(tomb.deleted_at.is_some());
    assert_eq!(tomb.content, "");

    // An honest Create is stored, sanitised.
    let honest = json!({
        "id": format!("{}/activities/c3", fake.base), "type": "Create", "actor": mallory.id,
        "object": {
            "id": format!("{}/notes/3", fake.base), "type": "Note", "attributedTo": mallory.id,
            "content": "<p>hello <script>x()</script><b>world</b></p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        },
    });
    assert_eq!(send(honest).await, 202);
    let kept = stored(&app, &format!("{}/notes/3", fake.base))
        .await
        .unwrap();
    assert_eq!(kept.content, "<p>hello <b>world</b></p>");
    assert_eq!(kept.visibility, "public");
}

async fn counts(app: &TestApp, ap_id: &str) -> (i32, i32) {
    sqlx::query_as("select likes_count, reposts_count from posts where ap_id = $1")
        .bind(ap_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn likes_and_reposts_flow_back_and_can_be_undone() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let dave = beta.create_user("dave").await.actor;
    bob_follows_alice(&alpha, &beta).await;
    // Dave follows bob locally, so bob's repost reaches dave's home.
    follows::follow(&beta.state, &dave, &bob).await.unwrap();
    let post = posts::create(&alpha.state, &alice, draft("like me", Visibility::Public))
        .await
        .unwrap();
    alpha.deliver().await;
    let copy = beta.post(&post.ap_id).await;

    skein::service::interactions::like(&beta.state, &bob, &copy)
        .await
        .unwrap();
    skein::service::interactions::like(&beta.state, &bob, &copy)
        .await
        .unwrap();
    let repost = skein::service::interactions::repost(&beta.state, &bob, &copy)
        .await
        .unwrap();
    assert_eq!(repost.reblog_of_id, Some(copy.id));
    assert_eq!(counts(&beta, &post.ap_id).await, (1, 1));
    assert_eq!(beta.deliver().await, 2, "one Like, one Announce");
    assert_eq!(counts(&alpha, &post.ap_id).await, (1, 1));
    // The Like and the Announce travel concurrently: compare without order.
    let mut kinds = notifications(&alpha, alice.id).await;
    kinds.sort();
    assert_eq!(kinds, vec!["favourite", "follow", "reblog"]);
    let reposted: i64 = sqlx::query_scalar("select count(*) from posts where reblog_of_id = $1")
        .bind(post.id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(reposted, 1);

    skein::service::interactions::unlike(&beta.state, &bob, &copy)
        .await
        .unwrap();
    skein::service::interactions::unrepost(&beta.state, &bob, &copy)
        .await
        .unwrap();
    assert_eq!(beta.deliver().await, 2);
    assert_eq!(counts(&alpha, &post.ap_id).await, (0, 0));
    assert_eq!(counts(&beta, &post.ap_id).await, (0, 0));
}

#[tokio::test]
async fn an_undo_before_its_like_wins_and_duplicates_count_once() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let post = posts::create(&app.state, &alice, draft("count me", Visibility::Public))
        .await
        .unwrap();
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let send = |activity: Value| app.post_signed(&fake, &mallory, "/inbox", activity);
    let like = |n: u32| {
        json!({
            "id": format!("{}/likes/{n}", fake.base), "type": "Like",
            "actor": mallory.id, "object": post.ap_id,
        })
    };
    // The Undo arrives first.
    let undo = json!({
        "id": format!("{}/undo/1", fake.base), "type": "Undo", "actor": mallory.id,
        "object": format!("{}/likes/1", fake.base),
    });
    assert_eq!(send(undo).await, 202);
    assert_eq!(send(like(1)).await, 202);
    assert_eq!(counts(&app, &post.ap_id).await, (0, 0));

    // The same like twice, concurrently: counted once.
    let (a, b) = tokio::join!(send(like(2)), send(like(2)));
    assert_eq!((a, b), (202, 202));
    assert_eq!(counts(&app, &post.ap_id).await, (1, 0));
    // A second Like of the same post with another id changes nothing either.
    assert_eq!(send(like(3)).await, 202);
    assert_eq!(counts(&app, &post.ap_id).await, (1, 0));
    assert_eq!(notifications(&app, alice.id).await, vec!["favourite"]);
}

#[tokio::test]
async fn edits_travel_with_their_history_and_an_older_update_never_wins() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    beta.create_user("bob").await;
    bob_follows_alice(&alpha, &beta).await;
    let post = posts::create(
        &alpha.state,
        &alice,
        draft("first version", Visibility::Public),
    )
    .await
    .unwrap();
    alpha.deliver().await;
    alpha.clock.advance(chrono::Duration::minutes(5));
    let edited = posts::edit(
        &alpha.state,
        &alice,
        &post,
        draft("second #version", Visibility::Public),
    )
    .await
    .unwrap();
    assert!(edited.updated.is_some());
    assert_eq!(alpha.deliver().await, 1);
    let copy = stored(&beta, &post.ap_id).await.unwrap();
    assert!(copy.content.contains("second"), "{}", copy.content);
    let history = skein::db::posts::history(&beta.db, copy.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].0, "<p>first version</p>");
    let note: Value = alpha
        .get_ap(post.ap_id.strip_prefix(&alpha.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert!(note["updated"].is_string());
    assert_eq!(note["tag"][0]["name"], "#version");

    // Out of order from a fake server: the newer Update first, then an older one.
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    alpha.follow_fake(&fake, &alice, &mallory).await;
    let send = |activity: Value| alpha.post_signed(&fake, &mallory, "/inbox", activity);
    let note_id = format!("{}/notes/1", fake.base);
    let version = |content: &str, updated: Option<&str>| {
        let mut note = json!({
            "id": note_id, "type": "Note", "attributedTo": mallory.id, "content": content,
            "published": "2026-01-01T00:00:00Z",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        });
        if let Some(updated) = updated {
            note["updated"] = json!(updated);
        }
        note
    };
    let activity = |kind: &str, n: u32, object: Value| json!({ "id": format!("{}/activities/{kind}-{n}", fake.base), "type": kind, "actor": mallory.id, "object": object });
    assert_eq!(
        send(activity("Create", 1, version("<p>v1</p>", None))).await,
        202
    );
    assert_eq!(
        send(activity(
            "Update",
            3,
            version("<p>v3</p>", Some("2026-01-03T00:00:00Z"))
        ))
        .await,
        202
    );
    assert_eq!(
        send(activity(
            "Update",
            2,
            version("<p>v2</p>", Some("2026-01-02T00:00:00Z"))
        ))
        .await,
        202
    );
    assert_eq!(stored(&alpha, &note_id).await.unwrap().content, "<p>v3</p>");
    // Someone else's Update of it is refused.
    let eve = fake.add_actor("eve", false);
    let forged = json!({
        "id": format!("{}/activities/eve-update", fake.base), "type": "Update", "actor": eve.id,
        "object": version("<p>pwned</p>", Some("2026-01-04T00:00:00Z")),
    });
    assert_eq!(alpha.post_signed(&fake, &eve, "/inbox", forged).await, 403);
    assert_eq!(stored(&alpha, &note_id).await.unwrap().content, "<p>v3</p>");
}

#[tokio::test]
async fn pinned_posts_are_featured_and_followers_learn_of_them() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    bob_follows_alice(&alpha, &beta).await;
    let mut all = Vec::new();
    for n in 0..6 {
        let text = format!("post {n}");
        all.push(
            posts::create(&alpha.state, &alice, draft(&text, Visibility::Public))
                .await
                .unwrap(),
        );
    }
    alpha.deliver().await;
    posts::pin(&alpha.state, &alice, &all[0]).await.unwrap();
    assert_eq!(alpha.deliver().await, 1);
    let featured: Value = alpha
        .get_ap("/users/alice/collections/featured")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(featured["totalItems"], 1);
    assert_eq!(featured["orderedItems"][0]["id"], all[0].ap_id);
    assert_eq!(featured["orderedItems"][0]["type"], "Note");
    let pinned_on_beta = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "select p.ap_id from pins x join posts p on p.id = x.post_id order by p.id",
            )
            .fetch_all(&db)
            .await
            .unwrap()
        }
    };
    assert_eq!(pinned_on_beta(&beta).await, vec![all[0].ap_id.clone()]);

    for post in &all[1..5] {
        posts::pin(&alpha.state, &alice, post).await.unwrap();
    }
    let err = posts::pin(&alpha.state, &alice, &all[5]).await.unwrap_err();
    assert!(
        matches!(err, skein::error::Error::Validation(_)),
        "at most five pins"
    );
    posts::unpin(&alpha.state, &alice, &all[0]).await.unwrap();
    alpha.deliver().await;
    assert_eq!(pinned_on_beta(&beta).await.len(), 4);
    assert!(!pinned_on_beta(&beta).await.contains(&all[0].ap_id));

    // Reposts appear in the reposter's outbox as Announces.
    let copy = skein::db::posts::find_by_ap_id(&beta.db, &all[1].ap_id)
        .await
        .unwrap()
        .unwrap();
    skein::service::interactions::repost(&beta.state, &bob, &copy)
        .await
        .unwrap();
    let outbox: Value = beta
        .get_ap("/users/bob/outbox?page=true")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(outbox["orderedItems"][0]["type"], "Announce");
    assert_eq!(outbox["orderedItems"][0]["object"], all[1].ap_id);
}

#[tokio::test]
async fn missing_reply_parents_are_fetched_within_bounds_and_loops_end() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    app.follow_fake(&fake, &alice, &mallory).await;
    let note = |name: &str, parent: Option<String>| {
        json!({
            "id": fake.note_url(name), "type": "Note", "attributedTo": mallory.id,
            "content": format!("<p>{name}</p>"), "inReplyTo": parent,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
        })
    };
    // A chain of eight posts above the reply: only five are fetched.
    for n in 0..8 {
        let parent = (n > 0).then(|| fake.note_url(&format!("chain{}", n - 1)));
        fake.add_note(&format!("chain{n}"), note(&format!("chain{n}"), parent));
    }
    let reply = note("reply", Some(fake.note_url("chain7")));
    let create = json!({
        "id": format!("{}/activities/create-reply", fake.base), "type": "Create",
        "actor": mallory.id, "object": reply,
    });
    assert_eq!(
        app.post_signed(&fake, &mallory, "/inbox", create).await,
        202
    );
    let kept: Vec<String> = sqlx::query_scalar(
        "select ap_id from posts where ap_id like '%/notes/chain%' order by ap_id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    let expected: Vec<String> = (3..8)
        .map(|n| fake.note_url(&format!("chain{n}")))
        .collect();
    assert_eq!(kept, expected);
    let thread = skein::service::timelines::thread(
        &app.state,
        None,
        &skein::db::posts::find_by_ap_id(&app.db, &fake.note_url("reply"))
            .await
            .unwrap()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(thread.ancestors.len(), 5);

    // A loop: a replies to b, b replies to a.
    fake.add_note("a", note("a", Some(fake.note_url("b"))));
    fake.add_note("b", note("b", Some(fake.note_url("a"))));
    let create = json!({
        "id": format!("{}/activities/create-loop", fake.base), "type": "Create",
        "actor": mallory.id, "object": note("c", Some(fake.note_url("a"))),
    });
    assert_eq!(
        app.post_signed(&fake, &mallory, "/inbox", create).await,
        202
    );
    let looped: i64 = sqlx::query_scalar("select count(*) from posts where ap_id = any($1)")
        .bind(vec![
            fake.note_url("a"),
            fake.note_url("b"),
            fake.note_url("c"),
        ])
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(looped, 3);
    let c = skein::db::posts::find_by_ap_id(&app.db, &fake.note_url("c"))
        .await
        .unwrap()
        .unwrap();
    let thread = skein::service::timelines::thread(&app.state, None, &c)
        .await
        .unwrap();
    assert!(thread.ancestors.len() <= 2, "the loop ends");
}

#[tokio::test]
async fn remote_attachments_and_custom_emoji_are_kept_and_shown() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    app.follow_fake(&fake, &alice, &mallory).await;
    let note_id = format!("{}/notes/media", fake.base);
    let create = json!({
        "id": format!("{}/activities/create-media", fake.base), "type": "Create",
        "actor": mallory.id,
        "object": {
            "id": note_id, "type": "Note", "attributedTo": mallory.id,
            "content": "<p>look :blobcat: <a href=\"https://remote.example/tags/cats\" class=\"mention hashtag\" rel=\"tag\">#<span>cats</span></a></p>",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "attachment": [
                {
                    "type": "Document", "mediaType": "image/png",
                    "url": "https://media.example/cat.png", "name": "A cat <on a mat>",
                    "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH", "focalPoint": [-0.5, 0.25],
                    "width": 640, "height": 480
                },
                {
                    "type": "Video", "url": [{ "type": "Link", "href": "https://media.example/cat.mp4", "mediaType": "video/mp4" }]
                },
                { "type": "Document", "url": "javascript:alert(1)" }
            ],
            "tag": [
                { "type": "Emoji", "name": ":blobcat:", "icon": { "type": "Image", "url": "https://media.example/blobcat.png" } },
                { "type": "Emoji", "name": ":bad\"code:", "icon": { "type": "Image", "url": "https://media.example/x.png" } },
                { "type": "Hashtag", "name": "#cats", "href": "https://remote.example/tags/cats" }
            ]
        }
    });
    assert_eq!(
        app.post_signed(&fake, &mallory, "/inbox", create).await,
        202
    );
    let post = app.post(&note_id).await;
    let media = posts::attachments(&app.state, &post).await.unwrap();
    assert_eq!(media.len(), 2, "the javascript: link is dropped");
    assert_eq!(media[0].kind, "image");
    assert_eq!(media[0].url, "https://media.example/cat.png");
    assert_eq!(media[0].description, "A cat <on a mat>");
    assert_eq!(
        media[0].blurhash.as_deref(),
        Some("UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH")
    );
    assert_eq!(
        (media[0].focal_x, media[0].focal_y),
        (Some(-0.5), Some(0.25))
    );
    assert_eq!((media[0].width, media[0].height), (Some(640), Some(480)));
    assert_eq!(media[1].kind, "video");
    assert_eq!(media[1].url, "https://media.example/cat.mp4");
    let emojis = posts::emojis(&app.state, &post).await.unwrap();
    assert_eq!(
        emojis,
        vec![(
            "blobcat".to_string(),
            "https://media.example/blobcat.png".to_string()
        )]
    );

    let page = app.get("/tags/cats").await.text().await.unwrap();
    assert!(
        page.contains("<img src=\"https://media.example/blobcat.png\" alt=\":blobcat:\""),
        "{page}"
    );
}

#[tokio::test]
async fn a_public_post_addressed_to_a_local_account_is_kept_without_a_mention_tag() {
    // As fediverse-pasture sends its inputs, and as Mastodon keeps them.
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let create = |name: &str, to: Value| {
        json!({
            "id": format!("{}/activities/create-{name}", fake.base), "type": "Create",
            "actor": mallory.id,
            "object": {
                "id": fake.note_url(name), "type": "Note", "attributedTo": mallory.id,
                "content": "<p>hello</p>", "to": to,
            }
        })
    };
    let addressed = create("addressed", json!([PUBLIC, alice.ap_id]));
    let unaddressed = create("unaddressed", json!([PUBLIC]));
    let direct = create("direct", json!([alice.ap_id]));
    for activity in [addressed, unaddressed, direct] {
        let status = app
            .post_signed(&fake, &mallory, "/users/alice/inbox", activity)
            .await;
        assert_eq!(status, 202);
    }

    let kept = stored(&app, &fake.note_url("addressed"))
        .await
        .expect("the addressed post is kept");
    assert_eq!(kept.visibility, "public");
    assert!(stored(&app, &fake.note_url("unaddressed")).await.is_none());
    // Only mentioned accounts see a direct post: without the tag, nobody here.
    assert!(stored(&app, &fake.note_url("direct")).await.is_none());
    assert!(notifications(&app, alice.id).await.is_empty());
}

#[tokio::test]
async fn remote_posts_are_read_as_mastodon_reads_them() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    app.follow_fake(&fake, &alice, &mallory).await;
    let note_id = fake.note_url("mastodon-reading");
    let create = json!({
        "id": format!("{}/activities/create-reading", fake.base), "type": "Create",
        "actor": mallory.id,
        "object": {
            "id": note_id, "type": ["Note", "Article"], "attributedTo": mallory.id,
            "to": [PUBLIC],
            "contentMap": { "en": "<p>English</p>", "de": "<p>Deutsch</p>" },
            "url": "https://elsewhere.example/pages/1",
            "tag": [
                { "type": "Hashtag", "name": "#with white-space" },
                { "type": "Hashtag", "name": "#1234" },
                { "type": "Hashtag", "name": "#🐄" }
            ],
            "attachment": [
                { "type": "Image", "url": "https://media.example/a.png", "name": "name", "summary": "summary" },
                { "type": "Link", "href": "https://funfedi.dev" },
                { "type": "Link", "name": "Donate", "href": "payto://iban/DE75512108001245126199", "rel": "payment" }
            ]
        }
    });
    assert_eq!(
        app.post_signed(&fake, &mallory, "/inbox", create).await,
        202
    );

    let post = app.post(&note_id).await;
    // A list of types with Note in it is a Note; without `content`, the first
    // language of `contentMap` is the content and the language.
    assert_eq!(post.content, "<p>English</p>");
    assert_eq!(post.language.as_deref(), Some("en"));
    // A page on another host than the author's is not the post's page.
    assert_eq!(post.url, None);
    let tags: Vec<String> = sqlx::query_scalar("select tag from post_tags where post_id = $1")
        .bind(post.id)
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(tags, vec!["withwhitespace"]);
    let page = app.get("/tags/withwhitespace").await.text().await.unwrap();
    assert!(page.contains("English"), "{page}");
    // Alt text is `summary`, then `name`; links are not media.
    let media = posts::attachments(&app.state, &post).await.unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].description, "summary");
}

#[tokio::test]
async fn polls_travel_votes_come_back_and_results_are_sent() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    bob_follows_alice(&alpha, &beta).await;
    let poll = posts::create(
        &alpha.state,
        &alice,
        posts::Draft {
            poll: Some(posts::PollDraft {
                options: vec!["tea".into(), "coffee".into()],
                multiple: false,
                expires_in: chrono::Duration::hours(1),
            }),
            ..draft("what do you drink?", Visibility::Public)
        },
    )
    .await
    .unwrap();
    alpha.deliver().await;
    let note: Value = alpha
        .get_ap(poll.ap_id.strip_prefix(&alpha.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(note["type"], "Question");
    assert_eq!(note["oneOf"][1]["name"], "coffee");
    assert!(note["endTime"].is_string());
    assert!(note.get("closed").is_none());

    let copy = beta.post(&poll.ap_id).await;
    let remote_poll = skein::db::polls::find(&beta.db, copy.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!remote_poll.multiple);
    assert_eq!(remote_poll.options.0.len(), 2);

    // Bob votes coffee: alpha counts it and sends the results back.
    skein::service::polls::vote(&beta.state, &bob, &copy, &[1])
        .await
        .unwrap();
    let err = skein::service::polls::vote(&beta.state, &bob, &copy, &[0])
        .await
        .unwrap_err();
    assert!(
        matches!(err, skein::error::Error::Validation(_)),
        "one vote per account"
    );
    assert_eq!(beta.deliver().await, 1);
    let counted = skein::db::polls::find(&alpha.db, poll.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counted.options.0[1].votes, 1);
    assert_eq!(counted.voters_count, 1);
    assert_eq!(alpha.deliver().await, 1, "the Update with the results");
    let results = skein::db::polls::find(&beta.db, copy.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(results.options.0[1].votes, 1);
    assert_eq!(results.voters_count, 1);

    // A local vote on a local poll, then the poll ends.
    let carol = alpha.create_user("carol").await.actor;
    let err = skein::service::polls::vote(&alpha.state, &carol, &poll, &[0, 1])
        .await
        .unwrap_err();
    assert!(
        matches!(err, skein::error::Error::Validation(_)),
        "single choice"
    );
    skein::service::polls::vote(&alpha.state, &carol, &poll, &[0])
        .await
        .unwrap();
    alpha.clock.advance(chrono::Duration::hours(2));
    let dave = alpha.create_user("dave").await.actor;
    let err = skein::service::polls::vote(&alpha.state, &dave, &poll, &[0])
        .await
        .unwrap_err();
    assert!(matches!(err, skein::error::Error::Validation(_)), "ended");
    let note: Value = alpha
        .get_ap(poll.ap_id.strip_prefix(&alpha.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert!(note["closed"].is_string());
    assert_eq!(note["votersCount"], 2);

    // Bad polls are refused.
    for options in [
        vec!["only one"],
        vec!["same", "same"],
        vec!["a", "b", "c", "d", "e"],
    ] {
        let err = posts::create(
            &alpha.state,
            &alice,
            posts::Draft {
                poll: Some(posts::PollDraft {
                    options: options.into_iter().map(String::from).collect(),
                    multiple: true,
                    expires_in: chrono::Duration::hours(1),
                }),
                ..draft("bad poll", Visibility::Public)
            },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, skein::error::Error::Validation(_)));
    }
}

#[tokio::test]
async fn quotes_ask_the_quoted_author_and_follow_its_policy() {
    use skein::domain::visibility::QuotePolicy;
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let carol = beta.create_user("carol").await.actor;
    bob_follows_alice(&alpha, &beta).await;
    let open = posts::create(&alpha.state, &alice, draft("quote me", Visibility::Public))
        .await
        .unwrap();
    let closed = posts::create(
        &alpha.state,
        &alice,
        posts::Draft {
            quote_policy: QuotePolicy::Nobody,
            reply_policy: Default::default(),
            ..draft("do not quote me", Visibility::Public)
        },
    )
    .await
    .unwrap();
    alpha.deliver().await;
    let note: Value = alpha
        .get_ap(closed.ap_id.strip_prefix(&alpha.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        note["interactionPolicy"]["canQuote"]["automaticApproval"],
        json!([alice.ap_id])
    );

    // Bob quotes the open post: alpha approves, beta records the approval.
    let quote = posts::create(
        &beta.state,
        &bob,
        posts::Draft {
            quote_of: Some(&open.ap_id),
            ..draft("so true", Visibility::Public)
        },
    )
    .await
    .unwrap();
    assert_eq!(
        quote.quote_state,
        Some(skein::domain::visibility::QuoteState::Pending)
    );
    assert!(quote.content.contains("RE: <a href="), "{}", quote.content);
    beta.deliver().await;
    alpha.deliver().await;
    beta.deliver().await;
    let at_beta = beta.post(&quote.ap_id).await;
    assert_eq!(
        at_beta.quote_state,
        Some(skein::domain::visibility::QuoteState::Accepted)
    );
    let grant = at_beta.quote_authorization.clone().unwrap();
    let at_alpha = alpha.post(&quote.ap_id).await;
    assert_eq!(at_alpha.quote_of_id, Some(open.id));
    assert_eq!(
        at_alpha.quote_state,
        Some(skein::domain::visibility::QuoteState::Accepted)
    );
    let authorization: Value = alpha
        .get_ap(grant.strip_prefix(&alpha.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(authorization["type"], "QuoteAuthorization");
    assert_eq!(authorization["attributedTo"], alice.ap_id);
    assert_eq!(authorization["interactingObject"], quote.ap_id);
    assert_eq!(authorization["interactionTarget"], open.ap_id);
    let kinds = notifications(&alpha, alice.id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "quote").count(),
        1,
        "{kinds:?}"
    );
    let note: Value = beta
        .get_ap(quote.ap_id.strip_prefix(&beta.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(note["quote"], open.ap_id);
    assert_eq!(note["_misskey_quote"], open.ap_id);
    assert_eq!(note["quoteAuthorization"], grant);
    assert!(
        note["tag"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "Link" && t["href"] == open.ap_id)
    );

    // Carol quotes the closed post: refused.
    let refused = posts::create(
        &beta.state,
        &carol,
        posts::Draft {
            quote_of: Some(&closed.ap_id),
            ..draft("quoting anyway", Visibility::Public)
        },
    )
    .await
    .unwrap();
    beta.deliver().await;
    alpha.deliver().await;
    let at_beta = beta.post(&refused.ap_id).await;
    assert_eq!(
        at_beta.quote_state,
        Some(skein::domain::visibility::QuoteState::Rejected)
    );
    assert!(at_beta.quote_authorization.is_none());

    // Locally, a followers-only policy refuses a non-follower at once.
    let zed = alpha.create_user("zed").await.actor;
    let guarded = posts::create(
        &alpha.state,
        &alice,
        posts::Draft {
            quote_policy: QuotePolicy::Followers,
            reply_policy: Default::default(),
            ..draft("followers may quote", Visibility::Public)
        },
    )
    .await
    .unwrap();
    let err = posts::create(
        &alpha.state,
        &zed,
        posts::Draft {
            quote_of: Some(&guarded.ap_id),
            ..draft("me too", Visibility::Public)
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, skein::error::Error::Validation(_)));
}

#[tokio::test]
async fn an_announce_embedding_a_forged_copy_changes_nothing_but_the_repost() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let post = posts::create(
        &app.state,
        &alice,
        draft("the real words", Visibility::Public),
    )
    .await
    .unwrap();
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let announce = json!({
        "id": format!("{}/activities/announce-1", fake.base), "type": "Announce",
        "actor": mallory.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": post.ap_id, "type": "Note", "attributedTo": alice.ap_id,
            "content": "<p>words alice never wrote</p>",
        },
    });
    assert_eq!(
        app.post_signed(&fake, &mallory, "/inbox", announce).await,
        202
    );
    let stored = skein::db::posts::find_by_id(&app.db, post.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.content, "<p>the real words</p>");
    assert_eq!(stored.reposts_count, 1, "a repost of the real post");
}

#[tokio::test]
async fn likes_reposts_votes_and_quotes_also_flow_from_alpha_to_beta() {
    let (alpha, beta) = pair().await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    // Alice follows bob this time.
    let remote_bob = alpha.resolve(&beta.handle("bob")).await;
    follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    alpha.deliver().await;
    beta.deliver().await;
    let post = posts::create(&beta.state, &bob, draft("from beta", Visibility::Public))
        .await
        .unwrap();
    let poll = posts::create(
        &beta.state,
        &bob,
        posts::Draft {
            poll: Some(posts::PollDraft {
                options: vec!["yes".into(), "no".into(), "maybe".into()],
                multiple: true,
                expires_in: chrono::Duration::days(1),
            }),
            ..draft("vote!", Visibility::Public)
        },
    )
    .await
    .unwrap();
    beta.deliver().await;
    let copy = alpha.post(&post.ap_id).await;
    let poll_copy = alpha.post(&poll.ap_id).await;

    skein::service::interactions::like(&alpha.state, &alice, &copy)
        .await
        .unwrap();
    skein::service::interactions::repost(&alpha.state, &alice, &copy)
        .await
        .unwrap();
    skein::service::polls::vote(&alpha.state, &alice, &poll_copy, &[0, 2])
        .await
        .unwrap();
    let quote = posts::create(
        &alpha.state,
        &alice,
        posts::Draft {
            quote_of: Some(&post.ap_id),
            ..draft("quoting bob", Visibility::Public)
        },
    )
    .await
    .unwrap();
    alpha.deliver().await;
    beta.deliver().await;
    alpha.deliver().await;

    assert_eq!(counts(&beta, &post.ap_id).await, (1, 1));
    let counted = skein::db::polls::find(&beta.db, poll.id)
        .await
        .unwrap()
        .unwrap();
    let votes: Vec<i32> = counted.options.0.iter().map(|o| o.votes).collect();
    assert_eq!(votes, vec![1, 0, 1]);
    assert_eq!(counted.voters_count, 1);
    let results = skein::db::polls::find(&alpha.db, poll_copy.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        results
            .options
            .0
            .iter()
            .map(|o| o.votes)
            .collect::<Vec<_>>(),
        vec![1, 0, 1]
    );
    let at_alpha = alpha.post(&quote.ap_id).await;
    assert_eq!(
        at_alpha.quote_state,
        Some(skein::domain::visibility::QuoteState::Accepted)
    );
    let at_beta = beta.post(&quote.ap_id).await;
    assert_eq!(at_beta.quote_of_id, Some(post.id));
    let mut kinds = notifications(&beta, bob.id).await;
    kinds.sort();
    assert_eq!(kinds, vec!["favourite", "follow", "quote", "reblog"]);
}
