//! The last of Mastodon 4.5's client API (issue #17): domain autocompletion
//! (`/api/v1/peers/search`), the e-mail confirmation check, the old direct
//! timeline, translation through a LibreTranslate server, trending links
//! and the link timeline (with one id per hashtag everywhere), the async
//! refresh of a remote thread's replies between two instances, and annual
//! reports.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use chrono::{TimeZone, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::cards::{Site, opengraph, png};
use crate::harness::{Options, TestApp, insert_remote_actor};

async fn post_status(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, posted) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{posted}");
    posted
}

fn ids(body: &Value) -> Vec<String> {
    body.as_array()
        .unwrap_or_else(|| panic!("not a list: {body}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn scalar_i64(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn peers_search_matches_known_domains_by_prefix_busiest_first_without_blocked_ones() {
    let app = TestApp::spawn().await;
    insert_remote_actor(&app.db, "mastodon.social", "a").await;
    insert_remote_actor(&app.db, "mastodon.social", "b").await;
    insert_remote_actor(&app.db, "mast.example", "c").await;
    insert_remote_actor(&app.db, "mastodon.online", "d").await;
    insert_remote_actor(&app.db, "pleroma.example", "e").await;
    app.create_staff("root", "admin").await;
    let admin = app.token("root").await;
    let (status, body) = app
        .api_post(
            &admin,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "mastodon.online", "severity": "silence"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Public: no token needed.
    let get = |q: &'static str| {
        let app = &app;
        async move {
            let response = app
                .client
                .get(app.url(&format!("/api/v1/peers/search{q}")))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(
        get("?q=mast").await,
        (200, json!(["mastodon.social", "mast.example"]))
    );
    assert_eq!(
        get("?q=MASTODON.S").await,
        (200, json!(["mastodon.social"]))
    );
    assert_eq!(get("?q=pler").await, (200, json!(["pleroma.example"])));
    assert_eq!(get("?q=nothing").await, (200, json!([])));
    // Not a domain: nothing; blank: Mastodon's null.
    assert_eq!(get("?q=a%20b").await, (200, json!([])));
    assert_eq!(get("?q=").await, (200, Value::Null));
    assert_eq!(get("").await, (200, Value::Null));
}

#[tokio::test]
async fn check_confirmation_answers_for_the_tokens_user_even_unconfirmed() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let token = app.token("alice").await;
    let (status, body) = app
        .api_get(&token, "/api/v1/emails/check_confirmation")
        .await;
    assert_eq!((status, body), (200, json!(true)));

    sqlx::query("update users set confirmed_at = null where id = $1")
        .bind(alice.user.id)
        .execute(&app.db)
        .await
        .unwrap();
    let (status, body) = app
        .api_get(&token, "/api/v1/emails/check_confirmation")
        .await;
    assert_eq!((status, body), (200, json!(false)));

    let (status, _, _) = app
        .api(Method::GET, "/api/v1/emails/check_confirmation", None, None)
        .await;
    assert_eq!(status, 401);
    let (status, _) = app
        .api_get("not-a-token", "/api/v1/emails/check_confirmation")
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_direct_timeline_holds_direct_posts_to_and_from_the_viewer() {
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol", "dave"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let dave = app.token("dave").await;

    let to_bob = post_status(
        &app,
        &alice,
        json!({"status": "@bob psst", "visibility": "direct"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let from_bob = post_status(
        &app,
        &bob,
        json!({"status": "@carol hush", "visibility": "direct"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    post_status(
        &app,
        &carol,
        json!({"status": "@bob in public", "visibility": "public"}),
    )
    .await;
    post_status(
        &app,
        &carol,
        json!({"status": "@dave not for bob", "visibility": "direct"}),
    )
    .await;

    let (status, body) = app.api_get(&bob, "/api/v1/timelines/direct").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), vec![from_bob.clone(), to_bob.clone()]);
    assert_eq!(body[0]["visibility"], "direct");
    let (_, body) = app.api_get(&bob, "/api/v1/timelines/direct?limit=1").await;
    assert_eq!(ids(&body), vec![from_bob.clone()]);
    let (_, body) = app
        .api_get(&bob, &format!("/api/v1/timelines/direct?max_id={from_bob}"))
        .await;
    assert_eq!(ids(&body), vec![to_bob.clone()]);
    let (_, body) = app.api_get(&alice, "/api/v1/timelines/direct").await;
    assert_eq!(ids(&body), vec![to_bob.clone()]);

    // Muting alice takes her messages out of bob's.
    let alice_id = app.local("alice").await.id;
    let (status, _) = app
        .api_post(
            &bob,
            &format!("/api/v1/accounts/{alice_id}/mute"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = app.api_get(&bob, "/api/v1/timelines/direct").await;
    assert_eq!(ids(&body), vec![from_bob]);

    let (_, body) = app.api_get(&dave, "/api/v1/timelines/direct").await;
    assert_eq!(ids(&body).len(), 1);
    let (status, _, _) = app
        .api(Method::GET, "/api/v1/timelines/direct", None, None)
        .await;
    assert_eq!(status, 401);
}

/// What the fake LibreTranslate server saw, and how it answers.
#[derive(Default)]
struct Translator {
    requests: Vec<Value>,
    failing: bool,
}

/// A LibreTranslate server on loopback: English into German and French,
/// German into English; it "translates" by prefixing the target code.
async fn libretranslate() -> (String, Arc<Mutex<Translator>>) {
    let state: Arc<Mutex<Translator>> = Arc::default();
    async fn languages() -> Json<Value> {
        Json(json!([
            {"code": "en", "name": "English", "targets": ["de", "en", "fr"]},
            {"code": "de", "name": "German", "targets": ["en"]},
        ]))
    }
    async fn translate(
        State(state): State<Arc<Mutex<Translator>>>,
        Json(body): Json<Value>,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        let mut seen = state.lock().unwrap();
        seen.requests.push(body.clone());
        if seen.failing {
            return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
        }
        let target = body["target"].as_str().unwrap().to_uppercase();
        let texts: Vec<Value> = body["q"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| json!(format!("{target}:{}", q.as_str().unwrap())))
            .collect();
        let detected: Vec<Value> = texts
            .iter()
            .map(|_| json!({"confidence": 90.0, "language": "en"}))
            .collect();
        Json(json!({"translatedText": texts, "detectedLanguage": detected})).into_response()
    }
    let router = Router::new()
        .route("/languages", get(languages))
        .route("/translate", post(translate))
        .with_state(state.clone());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (format!("http://{addr}"), state)
}

#[tokio::test]
async fn without_a_translation_server_translation_is_off_and_answers_503() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let alice = app.token("alice").await;
    let (_, instance) = app.api_get(&alice, "/api/v2/instance").await;
    assert_eq!(instance["configuration"]["translation"]["enabled"], false);
    let (_, languages) = app
        .api_get(&alice, "/api/v1/instance/translation_languages")
        .await;
    assert_eq!(languages, json!({}));
    let id = post_status(&app, &alice, json!({"status": "Hello", "language": "en"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = app
        .api_post(
            &alice,
            &format!("/api/v1/statuses/{id}/translate"),
            json!({"lang": "de"}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn posts_are_translated_through_libretranslate_with_media_and_poll() {
    let (endpoint, translator) = libretranslate().await;
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_TRANSLATION__LIBRE_TRANSLATE_ENDPOINT", &endpoint)
            .env("SKEIN_TRANSLATION__LIBRE_TRANSLATE_API_KEY", "sekrit"),
    )
    .await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;

    let (_, instance) = app.api_get(&bob, "/api/v2/instance").await;
    assert_eq!(instance["configuration"]["translation"]["enabled"], true);
    let (_, languages) = app
        .api_get(&bob, "/api/v1/instance/translation_languages")
        .await;
    assert_eq!(languages["en"], json!(["de", "fr"]));
    assert_eq!(languages["de"], json!(["en"]));
    assert_eq!(languages["und"], json!(["de", "en", "fr"]));

    // A picture with a description, through the client API.
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(png(20, 20))
                .file_name("p.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .text("description", "A blue square & more");
    let uploaded: Value = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let media_id = uploaded["id"].as_str().unwrap().to_string();
    let with_media = post_status(
        &app,
        &alice,
        json!({"status": "Good morning <friends>", "spoiler_text": "Careful", "language": "en",
               "media_ids": [media_id]}),
    )
    .await;
    let id = with_media["id"].as_str().unwrap();
    let (status, body) = app
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{id}/translate"),
            json!({"lang": "de"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["detected_source_language"], "en");
    assert_eq!(body["language"], "de");
    assert_eq!(body["provider"], "LibreTranslate");
    assert_eq!(body["spoiler_text"], "DE:Careful");
    let content = body["content"].as_str().unwrap();
    assert!(content.starts_with("DE:"), "{content}");
    assert!(
        content.contains("Good morning &lt;friends&gt;"),
        "{content}"
    );
    assert_eq!(
        body["media_attachments"],
        json!([{"id": media_id, "description": "DE:A blue square & more"}])
    );
    assert!(body["poll"].is_null());
    {
        let seen = translator.lock().unwrap();
        let request = seen.requests.last().unwrap();
        assert_eq!(request["source"], "en");
        assert_eq!(request["target"], "de");
        assert_eq!(request["format"], "html");
        assert_eq!(request["api_key"], "sekrit");
        // Plain texts travel escaped, as HTML.
        assert_eq!(request["q"][2], "A blue square &amp; more");
    }

    // A poll's options; the language from Accept-Language when none is asked.
    let with_poll = post_status(
        &app,
        &alice,
        json!({"status": "Tea or coffee?", "language": "en",
               "poll": {"options": ["tea", "coffee"], "expires_in": 3600}}),
    )
    .await;
    let poll_post = with_poll["id"].as_str().unwrap();
    let response = app
        .client
        .post(app.url(&format!("/api/v1/statuses/{poll_post}/translate")))
        .bearer_auth(&bob)
        .header("Accept-Language", "fr-CA, en;q=0.5")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["language"], "fr");
    assert_eq!(body["poll"]["id"], with_poll["poll"]["id"]);
    assert_eq!(
        body["poll"]["options"],
        json!([{"title": "FR:tea"}, {"title": "FR:coffee"}])
    );
    assert_eq!(body["media_attachments"], json!([]));
    assert_eq!(body["spoiler_text"], "");

    // Mastodon's rules: not into its own language, not into one the server
    // lacks, not a followers-only post.
    let requests_before = translator.lock().unwrap().requests.len();
    for lang in ["en", "xx"] {
        let (status, body) = app
            .api_post(
                &bob,
                &format!("/api/v1/statuses/{id}/translate"),
                json!({"lang": lang}),
            )
            .await;
        assert_eq!(status, 403, "{lang}: {body}");
    }
    let private = post_status(
        &app,
        &alice,
        json!({"status": "Only followers", "language": "en", "visibility": "private"}),
    )
    .await;
    let private_id = private["id"].as_str().unwrap();
    let (status, _) = app
        .api_post(
            &alice,
            &format!("/api/v1/statuses/{private_id}/translate"),
            json!({"lang": "de"}),
        )
        .await;
    assert_eq!(status, 403);
    // Someone who may not see it gets 404.
    let (status, _) = app
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{private_id}/translate"),
            json!({"lang": "de"}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(translator.lock().unwrap().requests.len(), requests_before);

    // A post without a language: the server detects it.
    let unknown = post_status(&app, &alice, json!({"status": "Bonjour"})).await;
    sqlx::query("update posts set language = null where id = $1")
        .bind(unknown["id"].as_str().unwrap().parse::<i64>().unwrap())
        .execute(&app.db)
        .await
        .unwrap();
    let unknown_id = unknown["id"].as_str().unwrap();
    let (status, body) = app
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{unknown_id}/translate"),
            json!({"lang": "de"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["detected_source_language"], "en");
    assert_eq!(
        translator.lock().unwrap().requests.last().unwrap()["source"],
        "auto"
    );

    // The server failing: 503, nothing internal said.
    translator.lock().unwrap().failing = true;
    let (status, body) = app
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{id}/translate"),
            json!({"lang": "de"}),
        )
        .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"], "Service Unavailable");
}

async fn admin_links(app: &TestApp, admin: &str) -> Value {
    let (status, body) = app.api_get(admin, "/api/v1/admin/trends/links").await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn links_shared_by_many_trend_once_reviewed_and_have_a_timeline() {
    let app = TestApp::spawn().await;
    let site = Site::spawn("news").await;
    site.put("/lead.png", "image/png", png(1200, 600));
    let story = site.page("/story", &opengraph("Big news", "/lead.png"));
    let quiet = site.page("/quiet", &opengraph("Small news", "/lead.png"));
    app.create_staff("mod", "moderator").await;
    let moderator = app.token("mod").await;
    let mut sharers = Vec::new();
    for i in 0..6 {
        let name = format!("user{i}");
        let created = app.create_user(&name).await;
        sqlx::query("update actors set discoverable = true where id = $1")
            .bind(created.actor.id)
            .execute(&app.db)
            .await
            .unwrap();
        let token = app.token(&name).await;
        let posted = post_status(
            &app,
            &token,
            json!({"status": format!("Read {story} #news")}),
        )
        .await;
        sharers.push(posted["id"].as_str().unwrap().to_string());
    }
    // One more share that does not count for the timeline: followers only.
    let user0 = app.token("user0").await;
    post_status(
        &app,
        &user0,
        json!({"status": format!("Also {story}"), "visibility": "private"}),
    )
    .await;
    post_status(&app, &user0, json!({"status": format!("Meh {quiet}")})).await;
    while skein::service::cards::run_due(&app.state).await.unwrap() > 0 {}

    let refreshed = skein::service::trends::refresh(&app.state).await.unwrap();
    assert_eq!(refreshed.links, 1);
    let card_id: i64 = sqlx::query_scalar("select id from preview_cards where url = $1")
        .bind(&story)
        .fetch_one(&app.db)
        .await
        .unwrap();
    let score: f64 = sqlx::query_scalar("select score from link_trends where card_id = $1")
        .bind(card_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(score > 0.0);

    // Review is required: not public yet, nor its timeline.
    let (status, body) = app.api_get(&user0, "/api/v1/trends/links").await;
    assert_eq!((status, body), (200, json!([])));
    let encoded: String = url::form_urlencoded::byte_serialize(story.as_bytes()).collect();
    let (status, _) = app
        .api_get(&user0, &format!("/api/v1/timelines/link?url={encoded}"))
        .await;
    assert_eq!(status, 404);

    // Moderators see it, with its history and the publisher to review.
    let listed = admin_links(&app, &moderator).await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], card_id.to_string());
    assert_eq!(listed[0]["url"], story.as_str());
    assert_eq!(listed[0]["title"], "Big news");
    assert_eq!(listed[0]["requires_review"], true);
    assert_eq!(listed[0]["history"].as_array().unwrap().len(), 7);
    assert_eq!(listed[0]["history"][0]["accounts"], "6");
    assert_eq!(listed[0]["history"][0]["uses"], "6");
    let (status, publishers) = app
        .api_get(&moderator, "/api/v1/admin/trends/links/publishers")
        .await;
    assert_eq!(status, 200, "{publishers}");
    let host = url::Url::parse(&story)
        .unwrap()
        .host_str()
        .unwrap()
        .to_string();
    assert_eq!(publishers[0]["domain"], host.as_str());
    assert_eq!(publishers[0]["requires_review"], true);
    let publisher_id = publishers[0]["id"].as_str().unwrap().to_string();
    // Someone else may not review.
    let (status, _) = app
        .api_post(
            &user0,
            &format!("/api/v1/admin/trends/links/{card_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);

    // Approving the publisher lets its links trend.
    let (status, body) = app
        .api_post(
            &moderator,
            &format!("/api/v1/admin/trends/links/publishers/{publisher_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["trendable"], true);
    let (status, body) = app.api_get(&user0, "/api/v1/trends/links").await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body[0]["url"], story.as_str());
    assert_eq!(body[0]["type"], "link");
    assert!(
        body[0]["image"]
            .as_str()
            .unwrap()
            .starts_with(&app.url("/media/"))
    );
    assert_eq!(body[0]["history"][0]["accounts"], "6");
    assert!(body[0].get("requires_review").is_none());

    // The link timeline: the public posts sharing it, newest first.
    let (status, timeline) = app
        .api_get(&user0, &format!("/api/v1/timelines/link?url={encoded}"))
        .await;
    assert_eq!(status, 200, "{timeline}");
    let mut expected = sharers.clone();
    expected.reverse();
    assert_eq!(ids(&timeline), expected);
    let (_, page) = app
        .api_get(
            &user0,
            &format!("/api/v1/timelines/link?url={encoded}&limit=2"),
        )
        .await;
    assert_eq!(ids(&page), expected[..2].to_vec());
    let quiet_encoded: String = url::form_urlencoded::byte_serialize(quiet.as_bytes()).collect();
    let (status, _) = app
        .api_get(
            &user0,
            &format!("/api/v1/timelines/link?url={quiet_encoded}"),
        )
        .await;
    assert_eq!(status, 404);

    // Rejecting the link itself wins over its publisher; audit-logged.
    let (status, body) = app
        .api_post(
            &moderator,
            &format!("/api/v1/admin/trends/links/{card_id}/reject"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["requires_review"], false);
    let (_, body) = app.api_get(&user0, "/api/v1/trends/links").await;
    assert_eq!(body, json!([]));
    let (status, _) = app
        .api_get(&user0, &format!("/api/v1/timelines/link?url={encoded}"))
        .await;
    assert_eq!(status, 404);
    let logged: i64 = sqlx::query_scalar(
        "select count(*) from admin_actions where action in ('trends.reject_link', 'trends.approve_publisher')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(logged, 2);

    // The hashtag of those posts trends too, under the one id it has
    // everywhere.
    let (_, tags) = app.api_get(&moderator, "/api/v1/admin/trends/tags").await;
    let news = tags
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "news")
        .unwrap_or_else(|| panic!("{tags}"))
        .clone();
    let (status, tag) = app.api_get(&user0, "/api/v1/tags/news").await;
    assert_eq!(status, 200, "{tag}");
    assert_eq!(news["id"], tag["id"]);
    let same: i64 = scalar_i64(
        &app,
        "select count(*) from tag_trends tt join tags t on t.id = tt.id and t.tag = tt.tag where tt.id = $1",
        news["id"].as_str().unwrap().parse().unwrap(),
    )
    .await;
    assert_eq!(same, 1);
}

#[tokio::test]
async fn opening_a_remote_thread_fetches_its_replies_in_the_background() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    for name in ["bob", "carol", "dave"] {
        beta.create_user(name).await;
    }
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let carol = beta.token("carol").await;
    let dave = beta.token("dave").await;

    let root = post_status(&beta, &bob, json!({"status": "What do you think?"})).await;
    let root_id = root["id"].as_str().unwrap();
    let reply = post_status(
        &beta,
        &carol,
        json!({"status": "I agree", "in_reply_to_id": root_id}),
    )
    .await;
    post_status(
        &beta,
        &dave,
        json!({"status": "Me too", "in_reply_to_id": reply["id"]}),
    )
    .await;
    post_status(
        &beta,
        &dave,
        json!({"status": "secret", "in_reply_to_id": root_id, "visibility": "private"}),
    )
    .await;

    // Alice finds bob's post on alpha: the post, not its replies.
    let uri = root["uri"].as_str().unwrap();
    let encoded: String = url::form_urlencoded::byte_serialize(uri.as_bytes()).collect();
    let (status, found) = alpha
        .api_get(
            &alice,
            &format!("/api/v2/search?q={encoded}&resolve=true&type=statuses"),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let here = found["statuses"][0]["id"].as_str().unwrap().to_string();
    let post_id: i64 = here.parse().unwrap();

    let path = format!("/api/v1/statuses/{here}/context");
    let (status, headers, context) = alpha.api(Method::GET, &path, Some(&alice), None).await;
    assert_eq!(status, 200, "{context}");
    assert_eq!(context["descendants"], json!([]));
    let header = headers["mastodon-async-refresh"]
        .to_str()
        .unwrap()
        .to_string();
    let refresh_id: i64 = sqlx::query_scalar("select id from reply_fetches where post_id = $1")
        .bind(post_id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(
        header,
        format!("id=\"{refresh_id}\", retry=3, result_count=0")
    );
    // Asked again while it runs: the same refresh.
    let (_, headers, _) = alpha.api(Method::GET, &path, Some(&alice), None).await;
    assert_eq!(headers["mastodon-async-refresh"].to_str().unwrap(), header);
    // Visitors start nothing.
    let (_, headers, _) = alpha.api(Method::GET, &path, None, None).await;
    assert!(headers.get("mastodon-async-refresh").is_none());

    let refresh_path = format!("/api/v1/async_refreshes/{refresh_id}");
    let (status, body) = alpha.api_get(&alice, &refresh_path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"async_refresh": {"id": refresh_id.to_string(), "status": "running", "result_count": 0}})
    );

    // A worker runs it: the public replies, nested ones too.
    assert_eq!(
        skein::service::reply_fetches::run_due(&alpha.state)
            .await
            .unwrap(),
        1
    );
    let (_, body) = alpha.api_get(&alice, &refresh_path).await;
    assert_eq!(
        body,
        json!({"async_refresh": {"id": refresh_id.to_string(), "status": "finished", "result_count": 2}})
    );
    let (status, headers, context) = alpha.api(Method::GET, &path, Some(&alice), None).await;
    assert_eq!(status, 200);
    let texts: Vec<&str> = context["descendants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2, "{context}");
    assert!(
        texts[0].contains("I agree") && texts[1].contains("Me too"),
        "{texts:?}"
    );
    // Fetched lately: nothing new is started.
    assert!(headers.get("mastodon-async-refresh").is_none());
    assert_eq!(
        scalar_i64(
            &alpha,
            "select count(*) from reply_fetches where post_id = $1",
            post_id
        )
        .await,
        1
    );
    // After the cooldown, opening the thread fetches again.
    alpha.clock.advance(chrono::Duration::minutes(16));
    let (_, headers, _) = alpha.api(Method::GET, &path, Some(&alice), None).await;
    assert!(headers.get("mastodon-async-refresh").is_some());
    skein::service::reply_fetches::run_due(&alpha.state)
        .await
        .unwrap();
    let (result,): (i32,) = sqlx::query_as(
        "select result_count from reply_fetches where post_id = $1 order by created_at desc limit 1",
    )
    .bind(post_id)
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert_eq!(result, 0);

    // Finished refreshes are reported for an hour; unknown ids are 404.
    alpha.clock.advance(chrono::Duration::minutes(61));
    let (status, _) = alpha.api_get(&alice, &refresh_path).await;
    assert_eq!(status, 404);
    let (status, _) = alpha.api_get(&alice, "/api/v1/async_refreshes/12345").await;
    assert_eq!(status, 404);
    // A local thread starts nothing.
    let mine = post_status(&alpha, &alice, json!({"status": "mine"})).await;
    let (_, headers, _) = alpha
        .api(
            Method::GET,
            &format!("/api/v1/statuses/{}/context", mine["id"].as_str().unwrap()),
            Some(&alice),
            None,
        )
        .await;
    assert!(headers.get("mastodon-async-refresh").is_none());
}

#[tokio::test]
async fn annual_reports_are_made_from_the_years_activity_during_the_campaign() {
    let app = TestApp::spawn().await;
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap());
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let bob_id = app.local("bob").await.id.to_string();

    let first = post_status(&app, &alice, json!({"status": "Hello #Cats"})).await;
    post_status(&app, &alice, json!({"status": "More #cats"})).await;
    let by_bob = post_status(&app, &bob, json!({"status": "bob one"})).await;
    let by_bob2 = post_status(&app, &bob, json!({"status": "bob two"})).await;
    for post in [&by_bob, &by_bob2] {
        let (status, _) = app
            .api_post(
                &alice,
                &format!("/api/v1/statuses/{}/reblog", post["id"].as_str().unwrap()),
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        post_status(
            &app,
            &alice,
            json!({"status": "@bob nice", "in_reply_to_id": post["id"]}),
        )
        .await;
    }
    let (status, _) = app
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{}/reblog", first["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    // Before the campaign: nothing is made.
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 9, 12, 0, 0).unwrap());
    let (status, body) = app.api_get(&alice, "/api/v1/annual_reports").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["annual_reports"], json!([]));
    let (status, _) = app.api_get(&alice, "/api/v1/annual_reports/2026").await;
    assert_eq!(status, 404);

    app.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 10, 12, 0, 0).unwrap());
    let (status, body) = app.api_get(&alice, "/api/v1/annual_reports").await;
    assert_eq!(status, 200, "{body}");
    let reports = body["annual_reports"].as_array().unwrap();
    assert_eq!(reports.len(), 1, "{body}");
    let report = &reports[0];
    assert_eq!(report["year"], 2026);
    assert_eq!(report["schema_version"], 1);
    let data = &report["data"];
    assert_eq!(data["archetype"], "lurker");
    assert_eq!(
        data["type_distribution"],
        json!({"total": 6, "reblogs": 2, "replies": 2, "standalone": 2})
    );
    assert_eq!(data["top_statuses"]["by_reblogs"], first["id"]);
    assert_eq!(data["top_hashtags"], json!([{"name": "cats", "count": 2}]));
    assert_eq!(
        data["most_reblogged_accounts"],
        json!([{"account_id": bob_id, "count": 2}])
    );
    assert_eq!(
        data["commonly_interacted_with_accounts"],
        json!([{"account_id": bob_id, "count": 2}])
    );
    let months = data["time_series"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    assert_eq!(
        months[5],
        json!({"month": 6, "statuses": 6, "following": 0, "followers": 0})
    );
    assert_eq!(months[0]["statuses"], 0);
    // Alice posted more than bob: above half of the posters who posted.
    assert!(data["percentiles"]["statuses"].as_f64().unwrap() > 0.0);
    assert!(data["most_used_apps"].is_array());
    assert_eq!(body["accounts"][0]["id"], bob_id.as_str());
    assert!(
        ids(&body["statuses"]).contains(&first["id"].as_str().unwrap().to_string()),
        "{body}"
    );

    // Kept as made: later activity does not change it.
    post_status(&app, &alice, json!({"status": "December"})).await;
    let (status, one) = app.api_get(&alice, "/api/v1/annual_reports/2026").await;
    assert_eq!(status, 200);
    assert_eq!(one["annual_reports"][0]["data"], *data);
    let (status, _) = app.api_get(&alice, "/api/v1/annual_reports/2025").await;
    assert_eq!(status, 404);

    // Read: it leaves the list, stays at its year.
    let (status, body) = app
        .api_post(&alice, "/api/v1/annual_reports/2026/read", json!({}))
        .await;
    assert_eq!((status, body), (200, json!({})));
    let viewed: Option<chrono::DateTime<Utc>> = sqlx::query_scalar(
        "select viewed_at from annual_reports r join actors a on a.id = r.actor_id
         where a.username = 'alice' and a.domain is null and r.year = 2026",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(viewed.is_some());
    let (_, body) = app.api_get(&alice, "/api/v1/annual_reports").await;
    assert_eq!(body["annual_reports"], json!([]));
    let (status, _) = app.api_get(&alice, "/api/v1/annual_reports/2026").await;
    assert_eq!(status, 200);
    let (status, _) = app
        .api_post(&alice, "/api/v1/annual_reports/2025/read", json!({}))
        .await;
    assert_eq!(status, 404);

    // Someone who posted nothing this year gets no report.
    app.create_user("carol").await;
    let carol = app.token("carol").await;
    let (_, body) = app.api_get(&carol, "/api/v1/annual_reports").await;
    assert_eq!(body["annual_reports"], json!([]));
}
