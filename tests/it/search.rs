//! Searching for this instance's own addresses: a profile (`/@alice`,
//! `/users/alice`) or a post (its page `/@alice/ID` or its id
//! `/users/alice/statuses/ID`) pasted into the web search box or sent to
//! `/api/v2/search` finds the account or post from the database, without
//! fetching, as far as the searcher may see it.

use skein::domain::visibility::Visibility;

use crate::harness::{Options, TestApp, draft};
use crate::web::Browser;

/// An instance that cannot reach itself over the network: whatever it
/// finds of its own addresses, it found without fetching them.
async fn isolated() -> TestApp {
    TestApp::spawn_with(
        Options::named("alpha").env("SKEIN_TEST_NETWORK__HOSTS", r#"{ "*.test" = "127.0.0.2" }"#),
    )
    .await
}

fn encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What the web search page shows for `query`: the account and post ids
/// found.
async fn web_search(browser: &mut Browser<'_>, query: &str) -> (Vec<i64>, Vec<i64>) {
    let page = browser.get(&format!("/search?q={}", encoded(query))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let ids = |pattern: &str| -> Vec<i64> {
        regex::Regex::new(pattern)
            .unwrap()
            .captures_iter(&page.body)
            .map(|c| c[1].parse().unwrap())
            .collect()
    };
    (
        ids(r#"class="account-row" id="account-(\d+)""#),
        ids(r#"<article[^>]* id="post-(\d+)""#),
    )
}

/// What `/api/v2/search` answers for `query`: account and status ids.
async fn api_search(
    app: &TestApp,
    token: &str,
    query: &str,
    resolve: bool,
) -> (Vec<i64>, Vec<i64>) {
    let (status, found) = app
        .api_get(
            token,
            &format!("/api/v2/search?q={}&resolve={resolve}", encoded(query)),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let ids = |key: &str| -> Vec<i64> {
        found[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    (ids("accounts"), ids("statuses"))
}

#[tokio::test]
async fn local_profile_and_post_addresses_find_the_account_and_post_without_fetching() {
    let app = isolated().await;
    let alice = app.create_user("alice").await;
    app.create_user("bob").await;
    let carol = app.create_user("carol").await;
    skein::service::follows::follow(&app.state, &carol.actor, &alice.actor)
        .await
        .unwrap();
    let public = skein::service::posts::create(
        &app.state,
        &alice.actor,
        draft("Casting on a new scarf", Visibility::Public),
    )
    .await
    .unwrap();
    let private = skein::service::posts::create(
        &app.state,
        &alice.actor,
        draft("Only for my followers", Visibility::Private),
    )
    .await
    .unwrap();
    let base = &app.base;
    let profiles = [
        format!("{base}/@alice"),
        format!("{base}/users/alice"),
        format!("{base}/@alice@{}", app.domain),
        // Pasted with a trailing slash, or from the https address.
        format!("{base}/@alice/"),
        format!("https://{}/users/alice", app.domain),
    ];
    let public_links = [format!("{base}/@alice/{}", public.id), public.ap_id.clone()];
    assert_eq!(
        public.ap_id,
        format!("{base}/users/alice/statuses/{}", public.id)
    );
    let private_links = [
        format!("{base}/@alice/{}", private.id),
        private.ap_id.clone(),
    ];

    // The web search box: visitors, a signed-in stranger, a follower.
    let mut visitor = Browser::new(&app);
    let mut bob = Browser::new(&app);
    bob.sign_in("bob").await;
    let mut follower = Browser::new(&app);
    follower.sign_in("carol").await;
    for browser in [&mut visitor, &mut bob, &mut follower] {
        for link in &profiles {
            assert_eq!(
                web_search(browser, link).await,
                (vec![alice.actor.id], vec![]),
                "{link}"
            );
        }
        for link in &public_links {
            assert_eq!(
                web_search(browser, link).await,
                (vec![], vec![public.id]),
                "{link}"
            );
        }
    }
    for link in &private_links {
        assert_eq!(
            web_search(&mut visitor, link).await,
            (vec![], vec![]),
            "{link}"
        );
        assert_eq!(web_search(&mut bob, link).await, (vec![], vec![]), "{link}");
        assert_eq!(
            web_search(&mut follower, link).await,
            (vec![], vec![private.id]),
            "{link}"
        );
    }
    // A local address that names nothing finds nothing.
    for link in [
        format!("{base}/@nobody"),
        format!("{base}/@alice/123"),
        format!("{base}/tags/knitting/more"),
    ] {
        assert_eq!(
            web_search(&mut bob, &link).await,
            (vec![], vec![]),
            "{link}"
        );
    }

    // The client API, with and without resolve.
    let bob_token = app.token("bob").await;
    let carol_token = app.token("carol").await;
    for resolve in [true, false] {
        for link in &profiles {
            assert_eq!(
                api_search(&app, &bob_token, link, resolve).await,
                (vec![alice.actor.id], vec![]),
                "{link}"
            );
        }
        for link in &public_links {
            assert_eq!(
                api_search(&app, &bob_token, link, resolve).await,
                (vec![], vec![public.id]),
                "{link}"
            );
        }
        for link in &private_links {
            assert_eq!(
                api_search(&app, &bob_token, link, resolve).await,
                (vec![], vec![]),
                "{link}"
            );
            assert_eq!(
                api_search(&app, &carol_token, link, resolve).await,
                (vec![], vec![private.id]),
                "{link}"
            );
        }
    }
    // `type` still narrows what is answered.
    let (status, found) = app
        .api_get(
            &bob_token,
            &format!(
                "/api/v2/search?q={}&resolve=true&type=accounts",
                encoded(&public.ap_id)
            ),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["statuses"], serde_json::json!([]));

    // Remote-interaction links to local addresses lead to the page.
    let led = bob
        .get(&format!(
            "/authorize_interaction?uri={}",
            encoded(&public.ap_id)
        ))
        .await;
    assert_eq!(led.status, 303);
    assert_eq!(
        led.location.as_deref(),
        Some(format!("/@alice/{}", public.id).as_str())
    );
    let led = bob
        .get(&format!(
            "/authorize_interaction?uri={}",
            encoded(&format!("{base}/@alice"))
        ))
        .await;
    assert_eq!(led.location.as_deref(), Some("/@alice"));
}

#[tokio::test]
async fn a_blocked_or_deleted_local_address_is_not_found() {
    let app = isolated().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let gone = skein::service::posts::create(
        &app.state,
        &alice.actor,
        draft("About to go", Visibility::Public),
    )
    .await
    .unwrap();
    skein::service::posts::delete(&app.state, &alice.actor, &gone)
        .await
        .unwrap();
    let bob_token = app.token("bob").await;
    assert_eq!(
        api_search(&app, &bob_token, &gone.ap_id, true).await,
        (vec![], vec![])
    );
    skein::service::blocks::block(&app.state, &alice.actor, &bob.actor)
        .await
        .unwrap();
    assert_eq!(
        api_search(&app, &bob_token, &app.url("/@alice"), true).await,
        (vec![], vec![])
    );
}

// ---------------------------------------------------------------------
// Full-text search of posts (Mastodon 4.5's status search).
// ---------------------------------------------------------------------

/// What `/api/v2/search?type=statuses` answers `token` for `query` (and
/// more parameters, already encoded): the status ids, or the error.
async fn find_posts(app: &TestApp, token: &str, query: &str, more: &str) -> Vec<String> {
    let (status, found) = app
        .api_get(
            token,
            &format!("/api/v2/search?type=statuses&q={}{more}", encoded(query)),
        )
        .await;
    assert_eq!(status, 200, "{query} {more}: {found}");
    found["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// Posts a status through the API and returns its id.
async fn post_status(app: &TestApp, token: &str, body: serde_json::Value) -> String {
    let (status, posted) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{posted}");
    posted["id"].as_str().unwrap().to_string()
}

/// Sets `indexable` through update_credentials; returns the account.
async fn set_indexable(app: &TestApp, token: &str, on: bool) -> serde_json::Value {
    let response = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(token)
        .form(&[("indexable", if on { "true" } else { "false" })])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn indexable_in_db(app: &TestApp, username: &str) -> bool {
    sqlx::query_scalar("select indexable from actors where username = $1 and domain is null")
        .bind(username)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

fn set_of(ids: &[&String]) -> std::collections::BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn as_set(ids: Vec<String>) -> std::collections::BTreeSet<String> {
    ids.into_iter().collect()
}

#[tokio::test]
async fn posts_are_found_by_their_words_when_own_interacted_with_or_indexable() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let dave = app.token("dave").await;
    let erin = app.token("erin").await;

    // Mastodon's default: not indexable, until the account opts in.
    assert!(!indexable_in_db(&app, "alice").await);
    let me = set_indexable(&app, &alice, true).await;
    assert_eq!(me["indexable"], true);
    assert_eq!(me["source"]["indexable"], true);
    assert!(indexable_in_db(&app, "alice").await);
    set_indexable(&app, &dave, true).await;
    set_indexable(&app, &erin, true).await;

    // Alice (indexable): her public post is found by anyone signed in, her
    // unlisted one is not.
    let alice_public = post_status(&app, &alice, json!({"status": "A merino scarf pattern"})).await;
    let alice_unlisted = post_status(
        &app,
        &alice,
        json!({"status": "Merino yarn, quietly", "visibility": "unlisted"}),
    )
    .await;
    // Bob (not indexable): found only through interactions.
    let bob_plain = post_status(&app, &bob, json!({"status": "Merino nobody touched"})).await;
    let bob_liked = post_status(&app, &bob, json!({"status": "Merino socks, liked"})).await;
    let bob_bookmarked = post_status(&app, &bob, json!({"status": "Merino hat, bookmarked"})).await;
    let bob_reposted = post_status(&app, &bob, json!({"status": "Merino mitts, reposted"})).await;
    let bob_poll = post_status(
        &app,
        &bob,
        json!({"status": "Merino or not?", "poll": {"options": ["alpaca", "cashmere"], "expires_in": 3600}}),
    )
    .await;
    let bob_mention = post_status(
        &app,
        &bob,
        json!({"status": "@carol merino for you", "visibility": "direct"}),
    )
    .await;
    let bob_private = post_status(
        &app,
        &bob,
        json!({"status": "Merino secrets", "visibility": "private"}),
    )
    .await;
    let bob_asked = post_status(&app, &bob, json!({"status": "Merino question"})).await;
    let carol_own = post_status(
        &app,
        &carol,
        json!({"status": "My merino notes", "visibility": "private"}),
    )
    .await;
    let carol_thread = post_status(&app, &carol, json!({"status": "A thread about yarn"})).await;
    let bob_reply = post_status(
        &app,
        &bob,
        json!({"status": "Merino answer", "in_reply_to_id": carol_thread}),
    )
    .await;
    // Blocked and muted accounts' posts stay out, indexable or not.
    let dave_post = post_status(&app, &dave, json!({"status": "Merino from dave"})).await;
    let erin_post = post_status(&app, &erin, json!({"status": "Merino from erin"})).await;

    for (path, body) in [
        (format!("/api/v1/statuses/{bob_liked}/favourite"), json!({})),
        (
            format!("/api/v1/statuses/{bob_bookmarked}/bookmark"),
            json!({}),
        ),
        (format!("/api/v1/statuses/{bob_reposted}/reblog"), json!({})),
    ] {
        let (status, body) = app.api_post(&carol, &path, body).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (_, poll) = app
        .api_get(&carol, &format!("/api/v1/statuses/{bob_poll}"))
        .await;
    let poll_id = poll["poll"]["id"].as_str().unwrap().to_string();
    let (status, voted) = app
        .api_post(
            &carol,
            &format!("/api/v1/polls/{poll_id}/votes"),
            json!({"choices": [0]}),
        )
        .await;
    assert_eq!(status, 200, "{voted}");
    let carol_answer = post_status(
        &app,
        &carol,
        json!({"status": "An answer without the word", "in_reply_to_id": bob_asked}),
    )
    .await;
    let dave_id = app.local("dave").await.id;
    let erin_id = app.local("erin").await.id;
    let (status, _) = app
        .api_post(
            &carol,
            &format!("/api/v1/accounts/{dave_id}/block"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .api_post(
            &carol,
            &format!("/api/v1/accounts/{erin_id}/mute"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    let carol_finds = as_set(find_posts(&app, &carol, "merino", "&limit=40").await);
    assert_eq!(
        carol_finds,
        set_of(&[
            &alice_public,
            &bob_liked,
            &bob_bookmarked,
            &bob_reposted,
            &bob_poll,
            &bob_mention,
            &bob_asked,
            &carol_own,
            &bob_reply,
        ]),
    );
    for absent in [
        &alice_unlisted,
        &bob_plain,
        &bob_private,
        &dave_post,
        &erin_post,
        &carol_answer,
    ] {
        assert!(!carol_finds.contains(absent));
    }
    // Newest first, the repost found as the post reposted, once.
    let ordered = find_posts(&app, &carol, "merino", "&limit=40").await;
    let mut sorted = ordered.clone();
    sorted.sort_by_key(|id| std::cmp::Reverse(id.parse::<i64>().unwrap()));
    assert_eq!(ordered, sorted);
    // Poll options are searched too.
    assert_eq!(
        find_posts(&app, &carol, "alpaca", "").await,
        vec![bob_poll.clone()]
    );

    // The library alone, and the indexable public posts alone.
    let library = as_set(find_posts(&app, &carol, "merino in:library", "&limit=40").await);
    assert!(!library.contains(&alice_public) && library.contains(&bob_liked));
    assert_eq!(
        find_posts(&app, &carol, "merino in:public", "&limit=40").await,
        vec![alice_public.clone()]
    );

    // Someone else finds the indexable post and its own, not carol's.
    let bob_finds = as_set(find_posts(&app, &bob, "merino", "&limit=40").await);
    assert!(bob_finds.contains(&alice_public) && bob_finds.contains(&bob_plain));
    assert!(bob_finds.contains(&dave_post), "dave did not block bob");
    assert!(!bob_finds.contains(&carol_own));

    // Without a token: accounts and hashtags, never posts; no paging, no
    // resolving (Mastodon's 401s).
    let anonymous = app
        .client
        .get(app.url("/api/v2/search?q=merino"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 200);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["statuses"], json!([]));
    for more in ["&offset=1", "&resolve=true"] {
        let refused = app
            .client
            .get(app.url(&format!("/api/v2/search?q=merino{more}")))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401, "{more}");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert!(body["error"].is_string());
    }

    // Edits and deletions follow at once; opting out takes the post away
    // from strangers, not from those who interacted with it.
    let (status, _, _) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/statuses/{alice_public}"),
            Some(&alice),
            Some(json!({"status": "A cashmere scarf pattern"})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        !find_posts(&app, &carol, "merino scarf", "")
            .await
            .contains(&alice_public)
    );
    assert_eq!(
        find_posts(&app, &carol, "cashmere scarf", "").await,
        vec![alice_public.clone()]
    );
    set_indexable(&app, &alice, false).await;
    assert!(!indexable_in_db(&app, "alice").await);
    assert_eq!(
        find_posts(&app, &carol, "cashmere scarf", "").await,
        Vec::<String>::new()
    );
    assert_eq!(
        find_posts(&app, &alice, "cashmere scarf", "").await,
        vec![alice_public.clone()]
    );
    let (status, _) = app
        .api_delete(&bob, &format!("/api/v1/statuses/{bob_liked}"))
        .await;
    assert_eq!(status, 200);
    assert!(!as_set(find_posts(&app, &carol, "merino", "&limit=40").await).contains(&bob_liked));
    let documents: i64 =
        sqlx::query_scalar("select count(*) from post_search_documents where post_id = $1")
            .bind(bob_liked.parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(documents, 0);
}

/// Attaches a medium of `kind` to post `id` as the inbox stores a remote
/// post's media.
async fn attach(app: &TestApp, id: &str, kind: &str, description: &str) {
    sqlx::query(
        "insert into attachments (post_id, position, kind, url, description)
         values ($1, 0, $2, 'https://media.example/file', $3)",
    )
    .bind(id.parse::<i64>().unwrap())
    .bind(kind)
    .bind(description)
    .execute(&app.db)
    .await
    .unwrap();
}

#[tokio::test]
async fn search_operators_phrases_negation_and_paging() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    set_indexable(&app, &alice, true).await;
    let post = |body: serde_json::Value| {
        let app = &app;
        let carol = &carol;
        async move { post_status(app, carol, body).await }
    };
    let plain = post(json!({"status": "wool plain words", "language": "en"})).await;
    let french = post(json!({"status": "wool en français", "language": "fr"})).await;
    let warned = post(json!({"status": "hidden text", "spoiler_text": "wool warning"})).await;
    let polled = post(
        json!({"status": "wool vote", "poll": {"options": ["yes", "no"], "expires_in": 3600}}),
    )
    .await;
    let linked = post(json!({"status": "wool link https://example.com/page"})).await;
    let image = post(json!({"status": "wool image"})).await;
    let video = post(json!({"status": "wool video"})).await;
    let audio = post(json!({"status": "wool audio"})).await;
    let embed = post(json!({"status": "wool embed"})).await;
    let reply = post(json!({"status": "wool reply", "in_reply_to_id": plain})).await;
    let phrase = post(json!({"status": "cable knit wool"})).await;
    let scrambled = post(json!({"status": "knit the cable wool"})).await;
    let tagged = post(json!({"status": "wool #Fibre"})).await;
    let acrylic = post(json!({"status": "wool acrylic blend"})).await;
    let from_alice = post_status(&app, &alice, json!({"status": "wool from alice"})).await;
    attach(&app, &image, "image", "sheep photo").await;
    attach(&app, &video, "video", "").await;
    attach(&app, &audio, "audio", "").await;
    let card: i64 = sqlx::query_scalar(
        "insert into preview_cards (url, kind, fetched_at, created_at)
         values ('https://video.example/v', 'video', now(), now()) returning id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query("insert into post_preview_cards (post_id, card_id, url) values ($1, $2, 'https://video.example/v')")
        .bind(embed.parse::<i64>().unwrap())
        .bind(card)
        .execute(&app.db)
        .await
        .unwrap();
    for (id, at) in [
        (&plain, "2026-03-01T12:00:00Z"),
        (&french, "2026-02-15T08:00:00Z"),
    ] {
        sqlx::query("update posts set published = $2::timestamptz where id = $1")
            .bind(id.parse::<i64>().unwrap())
            .bind(at)
            .execute(&app.db)
            .await
            .unwrap();
    }
    let mine = [
        &plain, &french, &warned, &polled, &linked, &image, &video, &audio, &embed, &reply,
        &phrase, &scrambled, &tagged, &acrylic,
    ];
    let all_wool: Vec<&String> = mine.iter().copied().chain([&from_alice]).collect();
    let without = |gone: &[&String]| -> std::collections::BTreeSet<String> {
        all_wool
            .iter()
            .filter(|id| !gone.contains(id))
            .map(|id| id.to_string())
            .collect()
    };
    let find = |q: &'static str| {
        let app = &app;
        let carol = &carol;
        async move { as_set(find_posts(app, carol, q, "&limit=40").await) }
    };

    assert_eq!(find("wool").await, set_of(&all_wool));
    // from:
    assert_eq!(find("wool from:me").await, set_of(&mine));
    assert_eq!(find("wool -from:me").await, set_of(&[&from_alice]));
    for q in ["wool from:alice", "wool from:@alice", "wool from:nobody"] {
        let expected = if q.ends_with("nobody") {
            set_of(&[])
        } else {
            set_of(&[&from_alice])
        };
        assert_eq!(find(q).await, expected, "{q}");
    }
    let full = format!("wool from:alice@{}", app.domain);
    assert_eq!(
        as_set(find_posts(&app, &carol, &full, "").await),
        set_of(&[&from_alice])
    );
    // has:
    assert_eq!(find("has:poll").await, set_of(&[&polled]));
    assert_eq!(
        find("wool has:media").await,
        set_of(&[&image, &video, &audio])
    );
    assert_eq!(find("wool has:image").await, set_of(&[&image]));
    assert_eq!(find("wool has:video").await, set_of(&[&video]));
    assert_eq!(find("wool has:audio").await, set_of(&[&audio]));
    assert_eq!(find("wool has:link").await, set_of(&[&linked, &embed]));
    assert_eq!(find("wool has:embed").await, set_of(&[&embed]));
    assert_eq!(
        find("wool -has:media").await,
        without(&[&image, &video, &audio])
    );
    assert_eq!(find("wool has:nonsense").await, set_of(&[]));
    assert_eq!(find("wool -has:nonsense").await, set_of(&all_wool));
    // Alt text and content warnings are searched.
    assert_eq!(find("sheep photo").await, set_of(&[&image]));
    assert_eq!(find("warning").await, set_of(&[&warned]));
    // is:
    assert_eq!(find("wool is:reply").await, set_of(&[&reply]));
    assert_eq!(find("wool -is:reply").await, without(&[&reply]));
    assert_eq!(find("wool is:sensitive").await, set_of(&[&warned]));
    // language:
    assert_eq!(find("wool language:fr").await, set_of(&[&french]));
    assert_eq!(find("wool language:FR-ca").await, set_of(&[&french]));
    // Dates (UTC days).
    assert_eq!(find("wool before:2026-03-01").await, set_of(&[&french]));
    assert_eq!(find("wool during:2026-03-01").await, set_of(&[&plain]));
    assert_eq!(
        find("wool after:2026-02-28 before:2026-06-01").await,
        set_of(&[&plain])
    );
    assert_eq!(
        find("wool after:2026-03-01").await,
        without(&[&plain, &french])
    );
    // Phrases, negation, hashtags.
    assert_eq!(find("\"cable knit\"").await, set_of(&[&phrase]));
    assert_eq!(find("cable knit").await, set_of(&[&phrase, &scrambled]));
    assert_eq!(find("knit -\"cable knit\"").await, set_of(&[&scrambled]));
    assert_eq!(find("wool -acrylic").await, without(&[&acrylic]));
    assert_eq!(find("wool #fibre").await, set_of(&[&tagged]));
    assert_eq!(find("wool -#fibre").await, without(&[&tagged]));
    // A hashtag or a handle alone finds hashtags and accounts, not posts.
    assert_eq!(find("#fibre").await, set_of(&[]));
    assert_eq!(find("@alice").await, set_of(&[]));

    // Bad input: a clear 4xx for a malformed date or too many words,
    // nothing at all for junk.
    for (query, more) in [
        ("wool before:yesterday", ""),
        ("wool during:2026-02-30", ""),
        (&*"wool ".repeat(40), ""),
        ("wool", "&limit=abc"),
        ("wool", "&max_id=abc"),
    ] {
        let (status, body) = app
            .api_get(
                &carol,
                &format!("/api/v2/search?type=statuses&q={}{more}", encoded(query)),
            )
            .await;
        assert!(
            (400..500).contains(&status),
            "{query} {more}: {status} {body}"
        );
        assert!(body["error"].is_string(), "{body}");
    }
    for junk in [
        "\"",
        "'",
        "\\",
        "&|!():*<->",
        "- -- +",
        "from:",
        "in:",
        "\"unclosed wool",
    ] {
        let found = find_posts(&app, &carol, junk, "").await;
        assert!(found.len() <= 40, "{junk}");
    }

    // Paging: newest first, limit, offset, max_id, min_id, account_id.
    let mut pages = Vec::new();
    for n in 1..=5 {
        pages.push(post(json!({"status": format!("skein page {n}")})).await);
    }
    let [p1, p2, p3, p4, p5] = <[String; 5]>::try_from(pages).unwrap();
    assert_eq!(
        find_posts(&app, &carol, "skein", "&limit=2").await,
        vec![p5.clone(), p4.clone()]
    );
    assert_eq!(
        find_posts(&app, &carol, "skein", "&limit=2&offset=2").await,
        vec![p3.clone(), p2.clone()]
    );
    assert_eq!(
        find_posts(&app, &carol, "skein", &format!("&max_id={p3}")).await,
        vec![p2.clone(), p1.clone()]
    );
    assert_eq!(
        find_posts(&app, &carol, "skein", &format!("&min_id={p3}")).await,
        vec![p5.clone(), p4.clone()]
    );
    let alice_id = app.local("alice").await.id;
    assert_eq!(
        find_posts(&app, &carol, "wool", &format!("&account_id={alice_id}")).await,
        vec![from_alice.clone()]
    );
    // No type: statuses are searched with the rest.
    let (_, everything) = app
        .api_get(
            &carol,
            &format!("/api/v2/search?q={}", encoded("skein page")),
        )
        .await;
    assert_eq!(everything["statuses"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn the_web_search_page_shows_posts_found_by_their_words() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let carol = app.create_user("carol").await;
    let mut own = Vec::new();
    for n in 0..21 {
        let post = skein::service::posts::create(
            &app.state,
            &carol.actor,
            draft(&format!("fleece number {n}"), Visibility::Private),
        )
        .await
        .unwrap();
        own.push(post.id);
    }
    let hidden = skein::service::posts::create(
        &app.state,
        &alice.actor,
        draft("fleece by a stranger", Visibility::Public),
    )
    .await
    .unwrap();

    // Visitors find no posts by their words.
    let mut visitor = Browser::new(&app);
    assert_eq!(web_search(&mut visitor, "fleece").await, (vec![], vec![]));

    let mut browser = Browser::new(&app);
    browser.sign_in("carol").await;
    let (_, first) = web_search(&mut browser, "fleece").await;
    let newest: Vec<i64> = own.iter().rev().take(20).copied().collect();
    assert_eq!(first, newest);
    assert!(!first.contains(&hidden.id), "alice is not indexable");
    let page = browser
        .get(&format!("/search?q={}", encoded("fleece")))
        .await;
    let older = regex::Regex::new(r#"<a rel="next" href="([^"]+)">"#)
        .unwrap()
        .captures(&page.body)
        .map(|c| c[1].replace("&#38;", "&").replace("&amp;", "&"))
        .expect("a link to older posts");
    let next = browser.get(&older).await;
    assert_eq!(next.status, 200);
    assert!(
        next.body.contains(&format!("id=\"post-{}\"", own[0])),
        "{}",
        next.body
    );
    assert!(!next.body.contains("rel=\"next\""));

    // The privacy settings opt in to search; then alice's public post is
    // found by carol.
    let mut alice_browser = Browser::new(&app);
    alice_browser.sign_in("alice").await;
    let form = alice_browser.get("/settings/privacy").await;
    assert!(form.body.contains("name=\"indexable\""));
    let csrf = crate::web::csrf(&form.body);
    let saved = alice_browser
        .post(
            "/settings/privacy",
            &[
                ("csrf_token", &csrf),
                ("indexable", "1"),
                ("fediverse_sharing", "1"),
                ("default_visibility", "public"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(indexable_in_db(&app, "alice").await);
    let (_, found) = web_search(&mut browser, "stranger").await;
    assert_eq!(found, vec![hidden.id]);

    // A malformed operator is a 4xx page, never a server error.
    let bad = browser
        .get(&format!("/search?q={}", encoded("fleece before:soon")))
        .await;
    assert!((400..500).contains(&bad.status), "{}", bad.status);
}

/// An actor's `indexable` travels in its document (`toot:indexable`), and
/// the other instance's search follows it.
#[tokio::test]
async fn a_remote_accounts_indexable_flag_comes_from_its_actor_document() {
    use serde_json::json;
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.create_user("carol").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let carol = beta.token("carol").await;
    set_indexable(&alpha, &alice, true).await;

    let document: serde_json::Value = alpha.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(document["indexable"], true, "{document}");
    let context = document["@context"].to_string();
    assert!(
        context.contains("\"indexable\":\"toot:indexable\""),
        "{context}"
    );

    // Bob follows alice, so her posts reach beta.
    let on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    assert!(on_beta.indexable);
    let (status, _) = beta
        .api_post(
            &bob,
            &format!("/api/v1/accounts/{}/follow", on_beta.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    beta.deliver().await;
    alpha.deliver().await;
    let posted = post_status(&alpha, &alice, json!({"status": "Remote angora fluff"})).await;
    alpha.deliver().await;
    let stored = beta
        .post(&alpha.url(&format!("/users/alice/statuses/{posted}")))
        .await;

    // Carol on beta never met alice: she finds the post because alice is
    // indexable.
    assert_eq!(
        find_posts(&beta, &carol, "angora", "").await,
        vec![stored.id.to_string()]
    );

    // Alice opts out: the Update reaches beta, carol no longer finds the
    // post; bob, who liked it, still does.
    let (status, _) = beta
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{}/favourite", stored.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    set_indexable(&alpha, &alice, false).await;
    alpha.settle().await;
    alpha.deliver().await;
    let indexable: bool = sqlx::query_scalar("select indexable from actors where ap_id = $1")
        .bind(&on_beta.ap_id)
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert!(!indexable, "the Update(Person) carried indexable: false");
    assert_eq!(
        find_posts(&beta, &carol, "angora", "").await,
        Vec::<String>::new()
    );
    assert_eq!(
        find_posts(&beta, &bob, "angora", "").await,
        vec![stored.id.to_string()]
    );
}

/// A new post's document is written from its row alone (a cheaper trigger
/// on the inbox's path, see the migration `post_search_cheaper`): after
/// media and polls were added, each document is the one the full refresh
/// makes, and a repost or a tombstone has none.
#[tokio::test]
async fn a_new_posts_document_is_the_one_the_refresh_makes() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    app.create_user("carol").await;
    let carol = app.token("carol").await;
    let plain = post_status(&app, &carol, json!({"status": "Tweed & \"linen\" yarn"})).await;
    let warned = post_status(
        &app,
        &carol,
        json!({"status": "hidden text", "spoiler_text": "mohair warning"}),
    )
    .await;
    let polled = post_status(
        &app,
        &carol,
        json!({"status": "alpaca vote", "poll": {"options": ["silk", "jute"], "expires_in": 3600}}),
    )
    .await;
    let image = post_status(&app, &carol, json!({"status": "cotton image"})).await;
    attach(&app, &image, "image", "a skein of cotton").await;
    let (status, _, _) = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/statuses/{plain}/reblog"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let author: i64 = sqlx::query_scalar("select author_id from posts where id = $1")
        .bind(plain.parse::<i64>().unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "insert into posts (ap_id, author_id, content, visibility, deleted_at)
         values ('https://gone.example/notes/1', $1, 'gone words', 'public', now())",
    )
    .bind(author)
    .execute(&app.db)
    .await
    .unwrap();

    let rows: Vec<(i64, bool, bool)> = sqlx::query_as(
        "select p.id, d.post_id is not null,
                d.document is not distinct from post_search_document(p.id, p.summary, p.content)
         from posts p left join post_search_documents d on d.post_id = p.id
         where p.author_id = $1",
    )
    .bind(author)
    .fetch_all(&app.db)
    .await
    .unwrap();
    let originals: Vec<i64> = [&plain, &warned, &polled, &image]
        .iter()
        .map(|id| id.parse().unwrap())
        .collect();
    assert_eq!(rows.len(), 6, "four posts, a repost and a tombstone");
    for (id, has_document, same) in rows {
        if originals.contains(&id) {
            assert!(
                has_document && same,
                "post {id}'s document is the refresh's"
            );
        } else {
            assert!(!has_document, "a repost or a tombstone has no document");
        }
    }
    assert_eq!(
        find_posts(&app, &carol, "linen yarn", "").await,
        vec![plain.clone()]
    );
    assert_eq!(find_posts(&app, &carol, "mohair", "").await, vec![warned]);
    assert_eq!(find_posts(&app, &carol, "jute", "").await, vec![polled]);
    assert_eq!(
        find_posts(&app, &carol, "skein cotton", "").await,
        vec![image]
    );
}
