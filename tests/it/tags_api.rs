//! Hashtags and accounts as Mastodon 4.5's client API shows them: followed
//! hashtags (and their posts in home timelines), featured hashtags (and
//! their federation), endorsements, private notes, familiar followers,
//! muted threads, reposting twice and bot accounts, between real
//! instances where federation is involved.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Options, TestApp};

async fn post(app: &TestApp, token: &str, text: &str, visibility: &str) -> String {
    let (status, body) = app
        .api_post(
            token,
            "/api/v1/statuses",
            json!({"status": text, "visibility": visibility}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["id"].as_str().unwrap().to_string()
}

async fn home_ids(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let (status, body) = app
        .api_get(token, &format!("/api/v1/timelines/home{query}"))
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn account_id(app: &TestApp, name: &str) -> String {
    app.local(name).await.id.to_string()
}

#[tokio::test]
async fn followed_hashtags_bring_public_posts_into_the_home_timeline() {
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol", "dave"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let dave = app.token("dave").await;

    let before = post(&app, &bob, "#Rust before the follow", "public").await;
    let (status, tag) = app
        .api_post(&alice, "/api/v1/tags/Rust/follow", json!({}))
        .await;
    assert_eq!(status, 200, "{tag}");
    assert_eq!(tag["name"], "Rust");
    assert_eq!(tag["following"], true);
    assert_eq!(tag["featuring"], false);
    assert!(!tag["id"].as_str().unwrap().is_empty());
    assert_eq!(tag["url"], app.url("/tags/rust"));
    let history = tag["history"].as_array().unwrap();
    assert_eq!(history.len(), 7);
    // Today first: one post by one account.
    assert_eq!(history[0]["uses"], "1");
    assert_eq!(history[0]["accounts"], "1");
    assert!(history[0]["day"].as_str().unwrap().parse::<i64>().unwrap() % 86_400 == 0);

    let muted = account_id(&app, "carol").await;
    let (status, _) = app
        .api_post(&alice, &format!("/api/v1/accounts/{muted}/mute"), json!({}))
        .await;
    assert_eq!(status, 200);

    let public = post(&app, &bob, "hello #rust", "public").await;
    let unlisted = post(&app, &bob, "quiet #rust", "unlisted").await;
    let by_muted = post(&app, &carol, "#rust from carol", "public").await;
    let naming_muted = post(&app, &dave, "#rust with @carol", "public").await;
    let other_tag = post(&app, &dave, "#go elsewhere", "public").await;
    let from_dave = post(&app, &dave, "#RUST from dave", "public").await;

    // Read per followed hashtag (the page is not filled by the newest posts).
    let home = home_ids(&app, &alice, "").await;
    assert_eq!(home, vec![from_dave.clone(), public.clone()], "{home:?}");
    for absent in [&before, &unlisted, &by_muted, &naming_muted, &other_tag] {
        assert!(!home.contains(absent));
    }
    // Read from the newest posts (a page of one is filled at once).
    assert_eq!(
        home_ids(&app, &alice, "?limit=1").await,
        vec![from_dave.clone()]
    );
    assert_eq!(
        home_ids(&app, &alice, &format!("?limit=1&max_id={from_dave}")).await,
        vec![public.clone()]
    );
    // A filter of the home context applies to them too.
    let (status, _) = app
        .api_post(
            &alice,
            "/api/v2/filters",
            json!({"title": "dave", "context": ["home"], "filter_action": "hide",
                   "keywords_attributes": [{"keyword": "dave"}]}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(home_ids(&app, &alice, "").await, vec![public.clone()]);

    // The list of followed hashtags, paged by the follows in Link headers.
    let (status, _) = app
        .api_post(&alice, "/api/v1/tags/%23Go/follow", json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, headers, page) = app
        .api(
            Method::GET,
            "/api/v1/followed_tags?limit=1",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["name"], "Go", "as first written");
    assert_eq!(page[0]["following"], true);
    let link = headers["link"].to_str().unwrap().to_string();
    assert!(link.contains("rel=\"next\""), "{link}");
    let next = link
        .split(['<', '>'])
        .nth(1)
        .unwrap()
        .trim_start_matches(&app.base)
        .to_string();
    let (_, page) = app.api_get(&alice, &next).await;
    assert_eq!(page[0]["name"], "Rust", "{page}");

    // Others do not see alice's follow; anonymous callers get no flags.
    let (_, seen) = app.api_get(&bob, "/api/v1/tags/rust").await;
    assert_eq!(seen["following"], false);
    let (status, _, anonymous) = app.api(Method::GET, "/api/v1/tags/rust", None, None).await;
    assert_eq!(status, 200);
    assert!(anonymous.get("following").is_none(), "{anonymous}");
    let (status, _) = app.api_get(&alice, "/api/v1/tags/not-a-tag").await;
    assert_eq!(status, 404);

    let (status, tag) = app
        .api_post(&alice, "/api/v1/tags/rust/unfollow", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(tag["following"], false);
    assert!(home_ids(&app, &alice, "").await.is_empty());
    let follows: i64 = sqlx::query_scalar("select count(*) from tag_follows")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(follows, 1, "only #go is still followed");
}

#[tokio::test]
async fn featured_hashtags_are_counted_listed_and_federated() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let alice_actor = alpha.local("alice").await;
    let bob_actor = beta.local("bob").await;
    let alice_on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    skein::service::follows::follow(&beta.state, &bob_actor, &alice_on_beta)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;

    post(&alpha, &alice, "one #Rust", "public").await;
    post(&alpha, &alice, "two #rust #other", "public").await;
    post(&alpha, &alice, "private #rust", "private").await;

    let (status, featured) = alpha
        .api_post(&alice, "/api/v1/featured_tags", json!({"name": "#Rust"}))
        .await;
    assert_eq!(status, 200, "{featured}");
    assert_eq!(featured["name"], "Rust");
    assert_eq!(
        featured["statuses_count"], "2",
        "private posts are not counted"
    );
    let today = skein::clock::Clock::now(&*alpha.clock)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(featured["last_status_at"], today.as_str());
    assert_eq!(featured["url"], alpha.url("/tags/rust"));
    let id = featured["id"].as_str().unwrap().to_string();

    // Featuring it again changes nothing; a name that is no hashtag is 422.
    let (status, again) = alpha
        .api_post(&alice, "/api/v1/featured_tags", json!({"name": "rust"}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["id"], id.as_str());
    let (status, _) = alpha
        .api_post(&alice, "/api/v1/featured_tags", json!({"name": "no way"}))
        .await;
    assert_eq!(status, 422);

    // Suggestions: used and not featured yet.
    let (status, suggestions) = alpha
        .api_get(&alice, "/api/v1/featured_tags/suggestions")
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = suggestions
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["other"]);

    // Anyone may read an account's featured hashtags.
    let (status, _, public) = alpha
        .api(
            Method::GET,
            &format!("/api/v1/accounts/{}/featured_tags", alice_actor.id),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(public[0]["name"], "Rust");

    // The actor names its featuredTags collection, which lists them.
    let document: Value = alpha.get_ap("/users/alice").await.json().await.unwrap();
    let collection_url = document["featuredTags"].as_str().unwrap().to_string();
    assert_eq!(collection_url, alpha.url("/users/alice/collections/tags"));
    let collection: Value = alpha
        .get_ap("/users/alice/collections/tags")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(collection["type"], "Collection");
    assert_eq!(collection["totalItems"], 1);
    assert_eq!(collection["items"][0]["type"], "Hashtag");
    assert_eq!(collection["items"][0]["name"], "#Rust");
    assert_eq!(collection["items"][0]["href"], alpha.url("/tags/rust"));

    // Followers' servers got an Add of the Hashtag, and took it (202).
    alpha.deliver().await;
    let adds: Vec<String> = sqlx::query_scalar(
        "select payload from outbound_activities where payload::jsonb ->> 'type' = 'Add'",
    )
    .fetch_all(&alpha.db)
    .await
    .unwrap();
    assert_eq!(adds.len(), 1);
    let add: Value = serde_json::from_str(&adds[0]).unwrap();
    assert_eq!(add["target"], collection_url.as_str());
    assert_eq!(add["object"]["type"], "Hashtag");
    let received: i64 =
        sqlx::query_scalar("select count(*) from inbox_activities where activity_id = $1")
            .bind(add["id"].as_str().unwrap())
            .fetch_one(&beta.db)
            .await
            .unwrap();
    assert_eq!(received, 1, "beta received the Add");

    // Through /api/v1/tags: featuring, then at the limit of ten, 422.
    let (status, tag) = alpha
        .api_post(&alice, "/api/v1/tags/other/feature", json!({}))
        .await;
    assert_eq!(status, 200, "{tag}");
    assert_eq!(tag["featuring"], true);
    for i in 0..8 {
        let (status, _) = alpha
            .api_post(&alice, &format!("/api/v1/tags/t{i}/feature"), json!({}))
            .await;
        assert_eq!(status, 200);
    }
    let (status, refused) = alpha
        .api_post(&alice, "/api/v1/tags/eleventh/feature", json!({}))
        .await;
    assert_eq!(status, 422, "{refused}");
    let (status, tag) = alpha
        .api_post(&alice, "/api/v1/tags/other/unfeature", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(tag["featuring"], false);

    // Deleting by id: gone, and a Remove goes out; an unknown id is 404.
    let (status, _) = alpha
        .api_delete(&alice, &format!("/api/v1/featured_tags/{id}"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = alpha
        .api_delete(&alice, &format!("/api/v1/featured_tags/{id}"))
        .await;
    assert_eq!(status, 404);
    let (_, list) = alpha.api_get(&alice, "/api/v1/featured_tags").await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|f| f["name"] != "Rust" && f["name"] != "other")
    );
    let removes: i64 = sqlx::query_scalar(
        "select count(*) from outbound_activities where payload::jsonb ->> 'type' = 'Remove'",
    )
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert_eq!(removes, 2);
}

#[tokio::test]
async fn endorsements_notes_and_familiar_followers_show_in_relationships() {
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol", "dave"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let bob_id = account_id(&app, "bob").await;
    let carol_id = account_id(&app, "carol").await;
    let dave_id = account_id(&app, "dave").await;

    // Only followed accounts can be endorsed.
    let (status, refused) = app
        .api_post(&alice, &format!("/api/v1/accounts/{bob_id}/pin"), json!({}))
        .await;
    assert_eq!(status, 422, "{refused}");
    for id in [&bob_id, &carol_id] {
        let (status, _) = app
            .api_post(&alice, &format!("/api/v1/accounts/{id}/follow"), json!({}))
            .await;
        assert_eq!(status, 200);
    }
    let (status, rel) = app
        .api_post(&alice, &format!("/api/v1/accounts/{bob_id}/pin"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(rel["endorsed"], true);
    let (status, rel) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{carol_id}/endorse"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rel["endorsed"], true);

    let (status, headers, list) = app
        .api(
            Method::GET,
            "/api/v1/endorsements?limit=1",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["id"], carol_id.as_str(), "newest first");
    assert!(headers["link"].to_str().unwrap().contains("max_id="));
    let alice_id = account_id(&app, "alice").await;
    let (status, _, public) = app
        .api(
            Method::GET,
            &format!("/api/v1/accounts/{alice_id}/endorsements"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(public.as_array().unwrap().len(), 2);

    // Unendorsing, and unfollowing (which ends the endorsement too).
    let (_, rel) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{carol_id}/unendorse"),
            json!({}),
        )
        .await;
    assert_eq!(rel["endorsed"], false);
    let (_, rel) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{bob_id}/unfollow"),
            json!({}),
        )
        .await;
    assert_eq!(rel["endorsed"], false);
    let endorsements: i64 = sqlx::query_scalar("select count(*) from endorsements")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(endorsements, 0);

    // A private note: set, shown to its writer only, cleared by an empty one.
    let (status, rel) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{dave_id}/note"),
            json!({"comment": "met at the conference"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rel["note"], "met at the conference");
    let (_, rels) = app
        .api_get(
            &alice,
            &format!("/api/v1/accounts/relationships?id[]={dave_id}"),
        )
        .await;
    assert_eq!(rels[0]["note"], "met at the conference");
    let (_, rels) = app
        .api_get(
            &bob,
            &format!("/api/v1/accounts/relationships?id[]={dave_id}"),
        )
        .await;
    assert_eq!(rels[0]["note"], "");
    let (_, rel) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{dave_id}/note"),
            json!({"comment": ""}),
        )
        .await;
    assert_eq!(rel["note"], "");
    let (status, _) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{dave_id}/note"),
            json!({"comment": "x".repeat(2001)}),
        )
        .await;
    assert_eq!(status, 422);

    // Familiar followers: carol (followed by alice) follows dave.
    let carol = app.token("carol").await;
    let (status, _) = app
        .api_post(
            &carol,
            &format!("/api/v1/accounts/{dave_id}/follow"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, familiar) = app
        .api_get(
            &alice,
            &format!("/api/v1/accounts/familiar_followers?id[]={dave_id}&id[]={bob_id}"),
        )
        .await;
    assert_eq!(status, 200, "{familiar}");
    let familiar = familiar.as_array().unwrap();
    assert_eq!(familiar.len(), 2);
    let of = |id: &str| {
        familiar.iter().find(|f| f["id"] == id).unwrap()["accounts"]
            .as_array()
            .unwrap()
            .clone()
    };
    let of_dave = of(&dave_id);
    assert_eq!(of_dave.len(), 1);
    assert_eq!(of_dave[0]["id"], carol_id.as_str());
    assert!(of(&bob_id).is_empty());
}

#[tokio::test]
async fn a_muted_thread_sends_no_notifications_and_shows_as_muted() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let root = post(&app, &alice, "a thread", "public").await;
    let (status, reply) = app
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "a reply", "in_reply_to_id": root}),
        )
        .await;
    assert_eq!(status, 200);
    let reply = reply["id"].as_str().unwrap().to_string();

    // Muting through the reply mutes the whole thread.
    let (status, muted) = app
        .api_post(&alice, &format!("/api/v1/statuses/{reply}/mute"), json!({}))
        .await;
    assert_eq!(status, 200, "{muted}");
    assert_eq!(muted["muted"], true);
    let (_, shown) = app
        .api_get(&alice, &format!("/api/v1/statuses/{root}"))
        .await;
    assert_eq!(shown["muted"], true);
    let (_, to_bob) = app.api_get(&bob, &format!("/api/v1/statuses/{root}")).await;
    assert_eq!(to_bob["muted"], false);

    let notifications = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select count(*) from notifications")
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let before = notifications(&app).await;
    let (status, _) = app
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{root}/favourite"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "deeper", "in_reply_to_id": reply}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        notifications(&app).await,
        before,
        "nothing from the muted thread"
    );

    // Another thread still notifies; unmuting brings the thread back.
    let other = post(&app, &alice, "another", "public").await;
    app.api_post(
        &bob,
        &format!("/api/v1/statuses/{other}/favourite"),
        json!({}),
    )
    .await;
    assert_eq!(notifications(&app).await, before + 1);
    let (status, unmuted) = app
        .api_post(
            &alice,
            &format!("/api/v1/statuses/{root}/unmute"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(unmuted["muted"], false);
    app.api_post(&bob, &format!("/api/v1/statuses/{root}/reblog"), json!({}))
        .await;
    assert_eq!(notifications(&app).await, before + 2);
}

#[tokio::test]
async fn reblogging_twice_answers_with_the_same_reblog() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let original = post(&app, &alice, "boost me", "public").await;
    let (status, first) = app
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{original}/reblog"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, second) = app
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{original}/reblog"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["id"], first["id"]);
    assert_eq!(second["reblog"]["id"], original.as_str());
    assert_eq!(second["reblog"]["reblogs_count"], 1);
    let (_, shown) = app
        .api_get(&alice, &format!("/api/v1/statuses/{original}"))
        .await;
    assert_eq!(shown["reblogs_count"], 1);
    let notifications: i64 =
        sqlx::query_scalar("select count(*) from notifications where kind = 'reblog'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(notifications, 1);
}

#[tokio::test]
async fn a_bot_account_is_a_service_actor_on_both_instances() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob_actor = beta.local("bob").await;
    let alice_on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    assert_eq!(alice_on_beta.kind, "Person");
    skein::service::follows::follow(&beta.state, &bob_actor, &alice_on_beta)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;

    let (status, _, me) = alpha
        .api(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice),
            Some(json!({"bot": true})),
        )
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["bot"], true);
    let document: Value = alpha.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(document["type"], "Service");
    // Still found by WebFinger and as a local account.
    let (_, looked_up) = alpha
        .api_get(&alice, "/api/v1/accounts/lookup?acct=alice")
        .await;
    assert_eq!(looked_up["bot"], true);

    // The Update reached beta, which shows alice as a bot.
    alpha.deliver().await;
    let stored = beta.resolve(&alpha.url("/users/alice")).await;
    assert_eq!(stored.kind, "Service");
    let bob = beta.token("bob").await;
    let (_, shown) = beta
        .api_get(&bob, &format!("/api/v1/accounts/{}", stored.id))
        .await;
    assert_eq!(shown["bot"], true);

    // And back to a person.
    let (_, _, me) = alpha
        .api(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice),
            Some(json!({"bot": false})),
        )
        .await;
    assert_eq!(me["bot"], false);
    assert_eq!(alpha.local("alice").await.kind, "Person");
}

#[tokio::test]
async fn the_profile_settings_page_marks_an_account_as_a_bot() {
    use crate::web::{Browser, csrf};
    use reqwest::multipart;

    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let form = browser.get("/settings/profile").await;
    assert!(form.body.contains("name=\"bot\" value=\"1\">"), "unchecked");
    let save = |bot: bool, token: String| {
        let mut form = multipart::Form::new()
            .text("csrf_token", token)
            .text("display_name", "Alice")
            .text("note", "");
        if bot {
            form = form.text("bot", "1");
        }
        form
    };
    let saved = browser
        .post_multipart("/settings/profile", save(true, csrf(&form.body)))
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(app.local("alice").await.kind, "Service");
    let form = browser.get("/settings/profile").await;
    assert!(form.body.contains("name=\"bot\" value=\"1\" checked>"));
    let document: Value = app.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(document["type"], "Service");

    // Unchecked: a person again.
    let saved = browser
        .post_multipart("/settings/profile", save(false, csrf(&form.body)))
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(app.local("alice").await.kind, "Person");
}
