//! The web as Threads draws it, over real HTTP as a browser without
//! JavaScript uses it: threads written at once from the composer, the For
//! you feed (its candidates, its score, and the home timeline's mutes,
//! blocks and filters), the Activity page's groups and filter tabs,
//! following a hashtag from its page, reporting from a post's menu, and
//! Explore. Each checks the database, not only the page.

use reqwest::multipart;
use serde_json::json;

use crate::harness::TestApp;
use crate::web::{Browser, png};

/// Posts `text` as `token`'s account through the client API; its id.
async fn post(app: &TestApp, token: &str, body: serde_json::Value) -> i64 {
    let (status, post) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{post}");
    post["id"].as_str().unwrap().parse().unwrap()
}

async fn public(app: &TestApp, token: &str, text: &str) -> i64 {
    post(app, token, json!({"status": text, "visibility": "public"})).await
}

async fn call(app: &TestApp, token: &str, path: &str) {
    let (status, body) = app.api_post(token, path, json!({})).await;
    assert_eq!(status, 200, "{path}: {body}");
}

/// Where `id`'s card is on the page (None when it is not there).
fn position(body: &str, id: i64) -> Option<usize> {
    body.find(&format!("id=\"post-{id}\""))
}

#[tokio::test]
async fn a_thread_written_at_once_is_stored_as_a_reply_chain_and_the_feed_shows_it_on_top() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let home = browser.get("/home").await;
    assert_eq!(home.status, 200);
    // Collapsed to "Start a thread…", with a place for the thread's next
    // posts, four attachments with their alt text, and a poll.
    assert!(
        home.body.contains("<details class=\"composer-box\""),
        "{}",
        home.body
    );
    assert!(home.body.contains("Start a thread…"));
    assert!(home.body.contains("name=\"thread[]\""));
    assert!(home.body.contains("name=\"media_3\""));
    assert!(home.body.contains("name=\"media_description_3\""));
    assert!(home.body.contains("name=\"poll[]\""));
    let token = crate::web::csrf(&home.body);

    let form = multipart::Form::new()
        .text("csrf_token", token.clone())
        .text("back", "/home?tab=following")
        .text("text", "One: a thread in three posts")
        .text("thread[]", "Two: the middle")
        .text("thread[]", "   ")
        .text("thread[]", "Three: the end")
        .text("visibility", "unlisted")
        .text("reply_policy", "following");
    let done = browser.post_multipart("/compose", form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let rows: Vec<(i64, Option<i64>, String, String)> = sqlx::query_as(
        "select id, in_reply_to_id, visibility, coalesce(source, '') from posts order by id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    let (first, second, third) = (&rows[0], &rows[1], &rows[2]);
    assert_eq!(first.1, None);
    assert_eq!(second.1, Some(first.0));
    assert_eq!(third.1, Some(second.0));
    assert!(rows.iter().all(|r| r.2 == "unlisted"), "{rows:?}");
    assert_eq!(
        (first.3.as_str(), second.3.as_str(), third.3.as_str()),
        (
            "One: a thread in three posts",
            "Two: the middle",
            "Three: the end"
        )
    );
    let policies: Vec<String> = sqlx::query_scalar("select reply_policy from posts order by id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert!(policies.iter().all(|p| p == "following"), "{policies:?}");
    // Back on the feed, the new post on top.
    let first_id = first.0;
    assert_eq!(
        done.location.as_deref(),
        Some(format!("/home?tab=following&posted={first_id}#post-{first_id}").as_str())
    );
    let feed = browser
        .get(&format!("/home?tab=following&posted={first_id}"))
        .await;
    assert_eq!(feed.status, 200);
    let top = feed.body.find("id=\"post-").unwrap();
    assert_eq!(
        Some(top),
        position(&feed.body, first_id),
        "the new post is on top"
    );

    // Two images with their alt texts, then a poll.
    let form = multipart::Form::new()
        .text("csrf_token", token.clone())
        .text("back", "/home?tab=for_you")
        .text("text", "Two pictures")
        .text("visibility", "public")
        .text("media_description", "The first picture")
        .text("media_description_2", "The second picture")
        .part(
            "media",
            multipart::Part::bytes(png())
                .file_name("a.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .part(
            "media_2",
            multipart::Part::bytes(png())
                .file_name("b.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let done = browser.post_multipart("/compose", form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let pictures: Vec<String> = sqlx::query_scalar(
        "select a.description from attachments a
         where a.post_id = (select max(id) from posts) order by a.id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(pictures, ["The first picture", "The second picture"]);
    assert!(
        done.location
            .unwrap()
            .starts_with("/home?tab=for_you&posted=")
    );

    let form = multipart::Form::new()
        .text("csrf_token", token.clone())
        .text("text", "Tea or coffee?")
        .text("visibility", "public")
        .text("poll[]", "Tea")
        .text("poll[]", "Coffee")
        .text("poll[]", "")
        .text("poll_expires_in", "3600")
        .text("poll_multiple", "1");
    let done = browser.post_multipart("/compose", form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (options, multiple): (serde_json::Value, bool) = sqlx::query_as(
        "select (select jsonb_agg(o->'title') from jsonb_array_elements(options) o), multiple
         from polls where post_id = (select max(id) from posts)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(options, json!(["Tea", "Coffee"]));
    assert!(multiple);

    // A thread with a post over the limit is refused whole, what was typed
    // kept.
    let before: i64 = sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let long = "x".repeat(app.config.posts.max_characters + 1);
    let form = multipart::Form::new()
        .text("csrf_token", token)
        .text("text", "A fine first post")
        .text("thread[]", long);
    let refused = browser.post_multipart("/compose", form).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("post 2 of the thread"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("A fine first post"));
    let after: i64 = sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(before, after);
}

/// What the composer on `body` sends people back to.
fn composer_back(body: &str) -> String {
    let re = regex::Regex::new(r#"name="back" value="([^"]*)""#).unwrap();
    re.captures(body)
        .map(|c| c[1].replace("&#38;", "&").replace("&amp;", "&"))
        .expect("the page's composer says where it goes back to")
}

#[tokio::test]
async fn home_opens_on_for_you_and_posting_returns_to_the_tab_posted_from_with_the_post_on_top() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let bob_id = app.local("bob").await.id;
    call(&app, &alice, &format!("/api/v1/accounts/{bob_id}/follow")).await;
    let bobs = public(&app, &bob, "bob, worth reading").await;

    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    // Without a tab (and with one it does not know), /home is For you, as
    // Threads opens on it; the tabs link to each feed.
    for path in ["/home", "/home?tab=nonsense"] {
        let home = browser.get(path).await;
        assert_eq!(home.status, 200);
        assert!(
            home.body
                .contains(r#"<a href="/home?tab=for_you" aria-current="page">For you</a>"#),
            "{path}: {}",
            home.body
        );
        assert!(
            home.body
                .contains(r#"<a href="/home?tab=following">Following</a>"#)
        );
        assert!(
            home.body
                .contains(r#"<a href="/home?tab=fediverse">Fediverse</a>"#)
        );
        assert!(home.body.contains("How this feed is ranked"));
        assert!(
            position(&home.body, bobs).is_some(),
            "bob's post is for alice"
        );
        assert_eq!(composer_back(&home.body), "/home?tab=for_you");
    }
    let token = crate::web::csrf(&browser.get("/home").await.body);

    // From each tab, a post goes back to that tab with the post on top
    // (For you leaves one's own posts out, and shows this one anyway).
    for tab in ["for_you", "following", "fediverse"] {
        let feed = browser.get(&format!("/home?tab={tab}")).await;
        assert!(
            feed.body.contains(&format!(
                r#"<a href="/home?tab={tab}" aria-current="page">"#
            )),
            "{tab}: {}",
            feed.body
        );
        let back = composer_back(&feed.body);
        assert_eq!(back, format!("/home?tab={tab}"));
        let text = format!("alice writes on {tab}");
        let form = multipart::Form::new()
            .text("csrf_token", token.clone())
            .text("back", back)
            .text("text", text.clone())
            .text("visibility", "public");
        let done = browser.post_multipart("/compose", form).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let id: i64 = sqlx::query_scalar(
            "select id from posts where source = $1
             and author_id = (select id from actors where username = 'alice' and domain is null)",
        )
        .bind(&text)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(
            done.location.as_deref(),
            Some(format!("/home?tab={tab}&posted={id}#post-{id}").as_str())
        );
        let after = browser.get(&format!("/home?tab={tab}&posted={id}")).await;
        assert_eq!(after.status, 200);
        let top = after.body.find("id=\"post-").unwrap();
        assert_eq!(
            Some(top),
            position(&after.body, id),
            "{tab}: the post is on top"
        );
        assert!(
            after.body.matches(&format!("id=\"post-{id}\"")).count() == 1,
            "{tab}: the post is shown once"
        );
        assert!(
            position(&after.body, bobs).is_some(),
            "{tab}: the feed is still there"
        );
        assert!(
            after.body.contains(&format!(
                r#"<a href="/home?tab={tab}" aria-current="page">"#
            )),
            "{tab}: still on the same tab"
        );
    }
    // For you itself still leaves alice's own posts out.
    let ranked = browser.get("/home").await;
    let own: i64 = sqlx::query_scalar(
        "select count(*) from posts where author_id =
         (select id from actors where username = 'alice' and domain is null)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(own, 3);
    assert!(!ranked.body.contains("alice writes on"), "{}", ranked.body);
}

#[tokio::test]
async fn for_you_ranks_as_documented_and_leaves_out_what_is_muted_blocked_or_filtered() {
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol", "dave", "erin", "frank"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let dave = app.token("dave").await;
    let erin = app.token("erin").await;
    let frank = app.token("frank").await;
    let bob_id = app.local("bob").await.id;
    let dave_id = app.local("dave").await.id;
    let erin_id = app.local("erin").await.id;
    call(&app, &alice, &format!("/api/v1/accounts/{bob_id}/follow")).await;
    call(&app, &alice, &format!("/api/v1/accounts/{dave_id}/follow")).await;

    // Two days ago, bob posted: followed (3 points), halved twice: 0.75.
    let now = skein::clock::Clock::now(&*app.clock);
    app.clock.set(now - chrono::Duration::hours(48));
    let bob_old = public(&app, &bob, "bob, two days ago").await;
    app.clock.set(now);
    // carol is not followed; alice liked her post: I = 2 × 0.1, and the
    // like counts ln(1 + 1): about 0.89.
    let carol_post = public(&app, &carol, "carol, liked by alice").await;
    call(
        &app,
        &alice,
        &format!("/api/v1/statuses/{carol_post}/favourite"),
    )
    .await;
    // bob, now: 3 points.
    let bob_new = public(&app, &bob, "bob, just now").await;
    // Followed but filtered, followed but muted, interacted with but
    // blocked, neither followed nor interacted with, followers only, and
    // alice's own.
    let filtered = public(&app, &bob, "bob writes spoilers here").await;
    let muted = public(&app, &dave, "dave, muted").await;
    let blocked = public(&app, &erin, "erin, blocked").await;
    call(
        &app,
        &alice,
        &format!("/api/v1/statuses/{blocked}/favourite"),
    )
    .await;
    call(&app, &alice, &format!("/api/v1/accounts/{erin_id}/block")).await;
    call(&app, &alice, &format!("/api/v1/accounts/{dave_id}/mute")).await;
    let stranger = public(&app, &frank, "frank, a stranger").await;
    let private = post(
        &app,
        &bob,
        json!({"status": "bob, followers only", "visibility": "private"}),
    )
    .await;
    let own = public(&app, &alice, "alice's own").await;
    let (status, filter) = app
        .api_post(
            &alice,
            "/api/v2/filters",
            json!({
                "title": "No spoilers",
                "context": ["home"],
                "filter_action": "hide",
                "keywords_attributes": [{"keyword": "spoilers"}],
            }),
        )
        .await;
    assert_eq!(status, 200, "{filter}");

    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let page = browser.get("/home?tab=for_you").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("aria-current=\"page\">For you</a>"));
    assert!(page.body.contains("How this feed is ranked"));
    let shown: Vec<usize> = [bob_new, carol_post, bob_old]
        .iter()
        .map(|id| position(&page.body, *id).unwrap_or_else(|| panic!("post {id} is not shown")))
        .collect();
    assert!(
        shown[0] < shown[1] && shown[1] < shown[2],
        "ranked bob now (3), carol liked (≈0.89), bob two days ago (0.75): {shown:?}"
    );
    for (what, id) in [
        ("filtered", filtered),
        ("muted", muted),
        ("blocked", blocked),
        ("a stranger's", stranger),
        ("followers only", private),
        ("alice's own", own),
    ] {
        assert_eq!(position(&page.body, id), None, "the {what} post is shown");
    }

    // The same service, directly: the order is the score's.
    let viewer = app.local("alice").await;
    let ranked = skein::service::timelines::for_you(&app.state, &viewer, 0, 20)
        .await
        .unwrap();
    let ids: Vec<i64> = ranked.iter().map(|p| p.id).collect();
    // (The filter is the presentation's, as on the home timeline. bob's
    // two new posts score the same: the newer first.)
    assert_eq!(ids, [filtered, bob_new, carol_post, bob_old]);

    // A trending post of a stranger comes in with its 2 points.
    sqlx::query("insert into post_trends (post_id, score, scored_at) values ($1, 1, now())")
        .bind(stranger)
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query(
        "insert into post_trend_reviews (post_id, trendable, reviewed_at) values ($1, true, now())",
    )
    .bind(stranger)
    .execute(&app.db)
    .await
    .unwrap();
    let ranked = skein::service::timelines::for_you(&app.state, &viewer, 0, 20)
        .await
        .unwrap();
    let ids: Vec<i64> = ranked.iter().map(|p| p.id).collect();
    assert_eq!(ids, [filtered, bob_new, stranger, carol_post, bob_old]);
}

#[tokio::test]
async fn activity_groups_likes_and_its_tabs_filter_follows_replies_mentions_reposts_and_verified() {
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol", "dave", "erin", "frank", "gina"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let liked = public(&app, &alice, "alice's post").await;
    let alice_id = app.local("alice").await.id;
    for name in ["bob", "carol"] {
        let t = app.token(name).await;
        call(&app, &t, &format!("/api/v1/statuses/{liked}/favourite")).await;
    }
    let dave = app.token("dave").await;
    call(&app, &dave, &format!("/api/v1/accounts/{alice_id}/follow")).await;
    let erin = app.token("erin").await;
    post(
        &app,
        &erin,
        json!({"status": "@alice an answer", "in_reply_to_id": liked.to_string()}),
    )
    .await;
    let frank = app.token("frank").await;
    post(&app, &frank, json!({"status": "hello @alice"})).await;
    let gina = app.token("gina").await;
    call(&app, &gina, &format!("/api/v1/statuses/{liked}/reblog")).await;
    // frank's profile has a verified link.
    sqlx::query("update actors set fields = $1 where username = 'frank' and domain is null")
        .bind(
            json!([{"name": "Site", "value": "<a href=\"https://frank.example/\">frank.example</a>",
                  "verified_at": "2026-01-01T00:00:00Z"}]),
        )
        .execute(&app.db)
        .await
        .unwrap();

    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let all = browser.get("/notifications").await;
    assert_eq!(all.status, 200);
    assert_eq!(
        all.body.matches("liked your post").count(),
        1,
        "{}",
        all.body
    );
    assert!(all.body.contains("and 1 other"), "{}", all.body);
    for words in [
        "followed you",
        "replied to you",
        "mentioned you",
        "reposted your post",
    ] {
        assert!(all.body.contains(words), "{words} is missing");
    }
    let tab = |filter: &'static str| format!("/notifications?filter={filter}");
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "follows",
            &["followed you"],
            &["liked your post", "mentioned you"],
        ),
        (
            "replies",
            &["replied to you"],
            &["mentioned you", "liked your post"],
        ),
        (
            "mentions",
            &["mentioned you"],
            &["replied to you", "followed you"],
        ),
        (
            "reposts",
            &["reposted your post"],
            &["liked your post", "followed you"],
        ),
        (
            "verified",
            &["mentioned you"],
            &["liked your post", "replied to you", "followed you"],
        ),
    ];
    for (filter, present, absent) in cases {
        let page = browser.get(&tab(filter)).await;
        assert_eq!(page.status, 200, "{filter}");
        assert!(
            page.body.contains(&format!(
                "href=\"/notifications?filter={filter}\" aria-current=\"page\""
            )),
            "{filter} is not the current tab"
        );
        for words in present {
            assert!(page.body.contains(words), "{filter}: {words} is missing");
        }
        for words in absent {
            assert!(!page.body.contains(words), "{filter}: {words} is shown");
        }
    }
    let quotes = browser.get(&tab("quotes")).await;
    assert_eq!(quotes.status, 200);
    assert!(!quotes.body.contains("liked your post"));
    // Reading the newest page of all moved the notifications marker.
    let marker: i64 =
        sqlx::query_scalar("select count(*) from markers where timeline = 'notifications'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(marker, 1);
}

/// The Activity page's groups (how many), the posts their cards show, and
/// its "Older activity" link.
fn activity_page(body: &str) -> (usize, Vec<i64>, Option<String>) {
    let groups = body.matches("class=\"notification group").count();
    let posts = regex::Regex::new(r#"<article[^>]* id="post-(\d+)""#)
        .unwrap()
        .captures_iter(body)
        .map(|c| c[1].parse().unwrap())
        .collect();
    let older = regex::Regex::new(r#"<a href="(/notifications\?[^"]*)">Older activity</a>"#)
        .unwrap()
        .captures(body)
        .map(|c| c[1].replace("&amp;", "&").replace("&#38;", "&"));
    (groups, posts, older)
}

#[tokio::test]
async fn every_activity_tab_comes_in_full_pages_with_older_links_that_reach_the_rest() {
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let answered = public(&app, &alice, "alice asks").await;
    // bob answers alice 45 times, carol mentions her 45 times, in turns:
    // more of each than a page (40) holds, and no page of all of them is
    // only one kind.
    let (mut replies, mut mentions) = (Vec::new(), Vec::new());
    for i in 0..45 {
        replies.push(
            post(
                &app,
                &bob,
                json!({"status": format!("@alice answer {i}"),
                       "in_reply_to_id": answered.to_string()}),
            )
            .await,
        );
        mentions.push(post(&app, &carol, json!({"status": format!("@alice hello {i}")})).await);
    }
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from notifications n join actors a on a.id = n.recipient_id
         where a.username = 'alice' and a.domain is null and n.kind = 'mention'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(stored, 90);
    // bob's profile has a verified link: Verified is his 45.
    sqlx::query("update actors set fields = $1 where username = 'bob' and domain is null")
        .bind(
            json!([{"name": "Site", "value": "<a href=\"https://bob.example/\">bob.example</a>",
                  "verified_at": "2026-01-01T00:00:00Z"}]),
        )
        .execute(&app.db)
        .await
        .unwrap();

    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    for (filter, expected, words) in [
        ("replies", &replies, "replied to you"),
        ("mentions", &mentions, "mentioned you"),
        ("verified", &replies, "replied to you"),
    ] {
        let first = browser
            .get(&format!("/notifications?filter={filter}"))
            .await;
        assert_eq!(first.status, 200, "{filter}");
        let (groups, mut seen, older) = activity_page(&first.body);
        assert_eq!(groups, 40, "{filter}: a full first page");
        assert_eq!(first.body.matches(words).count(), 40, "{filter}");
        let older = older.unwrap_or_else(|| panic!("{filter}: no older link"));
        assert!(
            older.starts_with(&format!("/notifications?filter={filter}&max_id=")),
            "{filter}: {older}"
        );
        let second = browser.get(&older).await;
        assert_eq!(second.status, 200, "{filter}");
        let (groups, rest, older) = activity_page(&second.body);
        assert_eq!(groups, 5, "{filter}: the rest");
        assert_eq!(
            older, None,
            "{filter}: the last page links to nothing older"
        );
        seen.extend(rest);
        seen.sort_unstable();
        let mut expected = expected.clone();
        expected.sort_unstable();
        assert_eq!(seen, expected, "{filter}: each exactly once");
    }
    // All: full pages too (90 mentions and alice's own post's nothing).
    let all = browser.get("/notifications").await;
    let (groups, _, older) = activity_page(&all.body);
    assert_eq!(groups, 40);
    let second = browser.get(&older.expect("an older link on all")).await;
    let (groups, _, older) = activity_page(&second.body);
    assert_eq!(groups, 40);
    let third = browser.get(&older.expect("a third page of all")).await;
    let (groups, _, older) = activity_page(&third.body);
    assert_eq!((groups, older), (10, None));
}

#[tokio::test]
async fn a_hashtag_is_followed_from_its_page_and_a_post_is_reported_from_its_menu() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let bob = app.token("bob").await;
    let tagged = public(&app, &bob, "Casting on #Knitting").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let page = browser.get("/tags/knitting").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("action=\"/web/tags/knitting/follow\""),
        "{}",
        page.body
    );
    let token = crate::web::csrf(&page.body);
    let follows = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from tag_follows f join actors a on a.id = f.actor_id
             where a.username = 'alice' and f.tag = 'knitting'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    // A wrong token changes nothing.
    let refused = browser
        .post("/web/tags/knitting/follow", &[("csrf_token", "wrong")])
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(follows().await, 0);
    let done = browser
        .post("/web/tags/knitting/follow", &[("csrf_token", &token)])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/tags/knitting"));
    assert_eq!(follows().await, 1);
    let page = browser.get("/tags/knitting").await;
    assert!(page.body.contains("Unfollow #knitting"));
    let done = browser
        .post("/web/tags/knitting/unfollow", &[("csrf_token", &token)])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(follows().await, 0);

    // The post's menu links to the report form with the post ticked.
    let bob_id = app.local("bob").await.id;
    let report = format!("/web/accounts/{bob_id}/report?status_id={tagged}");
    assert!(page.body.contains(&report.replace('&', "&amp;")) || page.body.contains(&report));
    let form = browser.get(&report).await;
    assert_eq!(form.status, 200);
    assert!(
        form.body
            .contains(&format!("name=\"post\" value=\"{tagged}\" checked")),
        "{}",
        form.body
    );

    // Explore: the search box, trends and who to follow.
    let explore = browser.get("/explore").await;
    assert_eq!(explore.status, 200);
    for words in [
        "Trending hashtags",
        "Who to follow",
        "Trending posts",
        "Trending links",
    ] {
        assert!(explore.body.contains(words), "{words}");
    }
    // The autocomplete finds accounts and hashtags known here.
    let found = browser.get("/web/autocomplete?q=%40bo").await;
    assert_eq!(found.status, 200);
    let found: serde_json::Value = serde_json::from_str(&found.body).unwrap();
    assert_eq!(found["accounts"][0]["acct"], "bob");
    let found = browser.get("/web/autocomplete?q=%23knit").await;
    let found: serde_json::Value = serde_json::from_str(&found.body).unwrap();
    assert_eq!(found["hashtags"], json!(["knitting"]));
}
