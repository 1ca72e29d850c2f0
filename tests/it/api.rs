//! The client API as apps use it, between two real instances: entities in
//! Mastodon's shapes, paging, errors, and every change checked in the
//! database and on the other instance.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Options, TestApp};

async fn two_instances() -> (TestApp, TestApp) {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    (alpha, beta)
}

/// `bob` on beta follows `alice` on alpha through the API: search with
/// resolve, then follow; alpha accepts. Returns alice's account id on beta.
async fn bob_follows_alice(alpha: &TestApp, beta: &TestApp, bob: &str) -> String {
    let (status, found) = beta
        .api_get(
            bob,
            &format!(
                "/api/v2/search?q=%40{}&resolve=true&type=accounts",
                alpha.handle("alice")
            ),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let account = &found["accounts"][0];
    assert_eq!(account["acct"], alpha.handle("alice"));
    let id = account["id"].as_str().unwrap().to_string();
    let (status, relationship) = beta
        .api_post(bob, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200, "{relationship}");
    assert_eq!(relationship["requested"], true);
    beta.deliver().await;
    alpha.deliver().await;
    let (_, relationships) = beta
        .api_get(bob, &format!("/api/v1/accounts/relationships?id[]={id}"))
        .await;
    assert_eq!(relationships[0]["following"], true, "{relationships}");
    id
}

fn assert_status_shape(status: &Value) {
    for key in [
        "id",
        "uri",
        "created_at",
        "account",
        "content",
        "visibility",
        "sensitive",
        "spoiler_text",
        "media_attachments",
        "mentions",
        "tags",
        "emojis",
        "reblogs_count",
        "favourites_count",
        "replies_count",
        "url",
        "in_reply_to_id",
        "in_reply_to_account_id",
        "reblog",
        "poll",
        "card",
        "language",
        "edited_at",
    ] {
        assert!(status.get(key).is_some(), "a status has `{key}`: {status}");
    }
    assert!(status["id"].is_string());
    let created = status["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.contains('.'), "{created}");
    for key in [
        "id",
        "username",
        "acct",
        "url",
        "avatar",
        "header",
        "followers_count",
    ] {
        assert!(
            status["account"].get(key).is_some(),
            "an account has `{key}`"
        );
    }
}

#[tokio::test]
async fn a_post_made_through_the_api_reaches_a_follower_on_another_instance() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let alice_on_beta = bob_follows_alice(&alpha, &beta, &bob).await;

    let (status, created) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({
                "status": "Hello #fediverse from @alice",
                "spoiler_text": "greeting",
                "language": "en",
                "visibility": "public",
            }),
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert_status_shape(&created);
    assert_eq!(created["spoiler_text"], "greeting");
    assert_eq!(
        created["sensitive"], true,
        "a content warning makes it sensitive"
    );
    assert_eq!(created["tags"][0]["name"], "fediverse");
    assert_eq!(created["favourited"], false);
    let uri = created["uri"].as_str().unwrap().to_string();
    let stored = alpha.post(&uri).await;
    assert_eq!(stored.summary, "greeting");
    assert_eq!(stored.language.as_deref(), Some("en"));

    alpha.deliver().await;
    let (status, home) = beta.api_get(&bob, "/api/v1/timelines/home").await;
    assert_eq!(status, 200);
    let arrived = home
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uri"] == uri.as_str())
        .unwrap_or_else(|| panic!("alice's post is on bob's home timeline: {home}"));
    assert_status_shape(arrived);
    assert_eq!(arrived["account"]["id"], alice_on_beta.as_str());
    assert_eq!(arrived["account"]["acct"], alpha.handle("alice"));
    assert_eq!(arrived["spoiler_text"], "greeting");

    // Bob replies, favourites and reblogs from beta; alpha sees all three.
    let beta_id = arrived["id"].as_str().unwrap();
    let (status, reply) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "hi back", "in_reply_to_id": beta_id}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["in_reply_to_id"], beta_id);
    assert_eq!(reply["in_reply_to_account_id"], alice_on_beta.as_str());
    let (status, faved) = beta
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{beta_id}/favourite"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(faved["favourited"], true);
    assert_eq!(faved["favourites_count"], 1);
    let (status, reblog) = beta
        .api_post(
            &bob,
            &format!("/api/v1/statuses/{beta_id}/reblog"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{reblog}");
    assert_eq!(reblog["reblog"]["id"], beta_id);
    assert_eq!(reblog["reblog"]["reblogged"], true);
    beta.deliver().await;

    let alpha_id = created["id"].as_str().unwrap();
    let (_, seen) = alpha
        .api_get(&alice, &format!("/api/v1/statuses/{alpha_id}"))
        .await;
    assert_eq!(seen["favourites_count"], 1, "{seen}");
    assert_eq!(seen["reblogs_count"], 1);
    assert_eq!(seen["replies_count"], 1);
    let (_, context) = alpha
        .api_get(&alice, &format!("/api/v1/statuses/{alpha_id}/context"))
        .await;
    assert_eq!(
        context["descendants"][0]["content"], "<p>hi back</p>",
        "{context}"
    );
    let (_, favouriters) = alpha
        .api_get(
            &alice,
            &format!("/api/v1/statuses/{alpha_id}/favourited_by"),
        )
        .await;
    assert_eq!(favouriters[0]["acct"], beta.handle("bob"));
}

#[tokio::test]
async fn edits_keep_history_and_deletes_return_the_source_for_redrafting() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    bob_follows_alice(&alpha, &beta, &bob).await;
    let (_, created) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "first version"}),
        )
        .await;
    let id = created["id"].as_str().unwrap();
    let uri = created["uri"].as_str().unwrap().to_string();
    alpha.deliver().await;
    alpha.clock.advance(chrono::Duration::minutes(1));

    let (status, edited) = alpha
        .api(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&alice),
            Some(json!({"status": "second version"})),
        )
        .await
        .pipe(|(s, _, b)| (s, b));
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["content"], "<p>second version</p>");
    assert!(edited["edited_at"].is_string());
    let (_, history) = alpha
        .api_get(&alice, &format!("/api/v1/statuses/{id}/history"))
        .await;
    let contents: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents, ["<p>first version</p>", "<p>second version</p>"]);
    let (_, source) = alpha
        .api_get(&alice, &format!("/api/v1/statuses/{id}/source"))
        .await;
    assert_eq!(source["text"], "second version");
    alpha.deliver().await;
    assert_eq!(beta.post(&uri).await.content, "<p>second version</p>");

    let (status, _, deleted) = alpha
        .api(
            Method::DELETE,
            &format!("/api/v1/statuses/{id}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(deleted["text"], "second version");
    let (status, _) = alpha
        .api_get(&alice, &format!("/api/v1/statuses/{id}"))
        .await;
    assert_eq!(status, 404);
    alpha.deliver().await;
    assert!(beta.post(&uri).await.deleted_at.is_some());
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl<T> Pipe for T {}

#[tokio::test]
async fn an_idempotency_key_makes_one_post_however_often_it_is_sent() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let alice = app.token("alice").await;
    let send = || async {
        let response = app
            .client
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&alice)
            .header("Idempotency-Key", "5c6b0f4e-retry")
            .form(&[("status", "only once")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()
    };
    let (first, second) = tokio::join!(send(), send());
    assert_eq!(first["id"], second["id"]);
    let posts: i64 = sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn a_post_is_written_with_the_application_of_its_token() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let alice = app.token("alice").await;
    let (status, posted) = app
        .api_post(&alice, "/api/v1/statuses", json!({"status": "from an app"}))
        .await;
    assert_eq!(status, 200, "{posted}");
    let (stored, name): (Option<i64>, Option<String>) = sqlx::query_as(
        "select p.app_id, a.name from posts p left join oauth_apps a on a.id = p.app_id
         where p.id = $1",
    )
    .bind(posted["id"].as_str().unwrap().parse::<i64>().unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    let name = name.expect("the post's application is stored with it");
    assert!(stored.is_some());
    assert_eq!(posted["application"]["name"], name.as_str(), "{posted}");
    let (_, shown) = app
        .api_get(
            &alice,
            &format!("/api/v1/statuses/{}", posted["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(shown["application"]["name"], name.as_str(), "{shown}");
}

#[tokio::test]
async fn timelines_page_with_link_headers_and_rate_limit_headers() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let alice = app.token("alice").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let (_, s) = app
            .api_post(
                &alice,
                "/api/v1/statuses",
                json!({"status": format!("post {n}")}),
            )
            .await;
        ids.push(s["id"].as_str().unwrap().to_string());
    }
    let (status, headers, page) = app
        .api(
            Method::GET,
            "/api/v1/timelines/home?limit=2",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let got: Vec<&str> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[4].as_str(), ids[3].as_str()]);
    let link = headers["link"].to_str().unwrap();
    assert!(
        link.contains(&format!("max_id={}>; rel=\"next\"", ids[3])),
        "{link}"
    );
    assert!(
        link.contains(&format!("min_id={}>; rel=\"prev\"", ids[4])),
        "{link}"
    );
    assert!(link.contains("limit=2"));
    assert_eq!(headers["x-ratelimit-limit"], "300");
    assert!(headers.contains_key("x-ratelimit-remaining"));

    let next = format!("/api/v1/timelines/home?limit=2&max_id={}", ids[3]);
    let (_, older) = app.api_get(&alice, &next).await;
    let got: Vec<&str> = older
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    let (_, newer) = app
        .api_get(
            &alice,
            &format!("/api/v1/timelines/home?min_id={}&limit=2", ids[1]),
        )
        .await;
    let got: Vec<&str> = newer
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        [ids[3].as_str(), ids[2].as_str()],
        "min_id gives the posts right after it"
    );

    let (_, public) = app
        .api_get(&alice, "/api/v1/timelines/public?local=true")
        .await;
    assert_eq!(public.as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn private_posts_are_not_found_by_others_and_errors_have_mastodons_shape() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let (_, secret) = app
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "followers only", "visibility": "private"}),
        )
        .await;
    assert_eq!(secret["visibility"], "private");
    let id = secret["id"].as_str().unwrap();
    let (status, body) = app.api_get(&carol, &format!("/api/v1/statuses/{id}")).await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"error": "Record not found"}));
    let (status, _, _) = app
        .api(Method::GET, &format!("/api/v1/statuses/{id}"), None, None)
        .await;
    assert_eq!(status, 404);
    let (status, body) = app
        .api_post(
            &carol,
            &format!("/api/v1/statuses/{id}/favourite"),
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let likes: i64 = sqlx::query_scalar("select count(*) from likes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(likes, 0);
    let (status, body) = app
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "x".repeat(501)}),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"].as_str().unwrap().contains("500"));
    let (status, _, body) = app
        .api(Method::GET, "/api/v1/timelines/home", None, None)
        .await;
    assert_eq!(status, 401);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn muting_hides_an_account_from_home_until_the_mute_ends() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let carol_id = app.local("carol").await.id.to_string();
    app.api_post(
        &alice,
        &format!("/api/v1/accounts/{carol_id}/follow"),
        json!({}),
    )
    .await;
    app.api_post(
        &carol,
        "/api/v1/statuses",
        json!({"status": "carol speaks"}),
    )
    .await;
    let home_count = |body: Value| body.as_array().unwrap().len();
    let (_, home) = app.api_get(&alice, "/api/v1/timelines/home").await;
    assert_eq!(home_count(home), 1);
    let (status, rel) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{carol_id}/mute"),
            json!({"duration": 3600}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rel["muting"], true);
    assert_eq!(rel["muting_notifications"], true);
    let (_, home) = app.api_get(&alice, "/api/v1/timelines/home").await;
    assert_eq!(home_count(home), 0);
    let (_, mutes) = app.api_get(&alice, "/api/v1/mutes").await;
    assert_eq!(mutes[0]["id"], carol_id.as_str());
    app.clock.advance(chrono::Duration::hours(1));
    let (_, home) = app.api_get(&alice, "/api/v1/timelines/home").await;
    assert_eq!(
        home_count(home),
        1,
        "the mute ended on the instance's clock"
    );
}

#[tokio::test]
async fn a_block_through_the_api_reaches_the_other_instance_and_ends_follows() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    bob_follows_alice(&alpha, &beta, &bob).await;
    let bob_on_alpha = alpha.resolve(&format!("@{}", beta.handle("bob"))).await;
    let (status, rel) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{}/block", bob_on_alpha.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(rel["blocking"], true);
    assert_eq!(rel["followed_by"], false);
    alpha.deliver().await;
    let alice_on_beta = beta.resolve(&format!("@{}", alpha.handle("alice"))).await;
    let blocked: i64 = sqlx::query_scalar("select count(*) from blocks where blocker_id = $1")
        .bind(alice_on_beta.id)
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(blocked, 1);
    let follows: i64 = sqlx::query_scalar("select count(*) from follows")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(follows, 0);
    let (_, blocks) = alpha.api_get(&alice, "/api/v1/blocks").await;
    assert_eq!(blocks[0]["acct"], beta.handle("bob"));
}

#[tokio::test]
async fn bookmarks_and_favourites_list_what_was_marked() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let alice = app.token("alice").await;
    let (_, a) = app
        .api_post(&alice, "/api/v1/statuses", json!({"status": "a"}))
        .await;
    let (_, b) = app
        .api_post(&alice, "/api/v1/statuses", json!({"status": "b"}))
        .await;
    let (a, b) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let (_, marked) = app
        .api_post(&alice, &format!("/api/v1/statuses/{a}/bookmark"), json!({}))
        .await;
    assert_eq!(marked["bookmarked"], true);
    app.api_post(
        &alice,
        &format!("/api/v1/statuses/{b}/favourite"),
        json!({}),
    )
    .await;
    let (_, bookmarks) = app.api_get(&alice, "/api/v1/bookmarks").await;
    assert_eq!(bookmarks.as_array().unwrap().len(), 1);
    assert_eq!(bookmarks[0]["id"], a);
    let (_, favourites) = app.api_get(&alice, "/api/v1/favourites").await;
    assert_eq!(favourites[0]["id"], b);
    let (_, unmarked) = app
        .api_post(
            &alice,
            &format!("/api/v1/statuses/{a}/unbookmark"),
            json!({}),
        )
        .await;
    assert_eq!(unmarked["bookmarked"], false);
    let rows: i64 = sqlx::query_scalar("select count(*) from bookmarks")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn credentials_update_the_profile_and_posting_defaults() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    bob_follows_alice(&alpha, &beta, &bob).await;
    let response = alpha
        .client
        .patch(alpha.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .form(&[
            ("display_name", "Alice A."),
            ("note", "Hello #world"),
            ("locked", "true"),
            ("fields_attributes[0][name]", "Site"),
            ("fields_attributes[0][value]", "alice.example"),
            ("source[privacy]", "unlisted"),
            ("source[language]", "de"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["display_name"], "Alice A.");
    assert_eq!(me["locked"], true);
    assert_eq!(me["source"]["note"], "Hello #world");
    assert_eq!(me["source"]["privacy"], "unlisted");
    assert_eq!(me["source"]["language"], "de");
    assert_eq!(me["fields"][0]["name"], "Site");
    let (_, post) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "defaults apply"}),
        )
        .await;
    assert_eq!(post["visibility"], "unlisted");
    assert_eq!(post["language"], "de");
    alpha.deliver().await;
    let on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    assert_eq!(on_beta.display_name, "Alice A.");
    assert!(on_beta.manually_approves_followers);
}

#[tokio::test]
async fn instance_documents_give_real_limits() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_POSTS__MAX_CHARACTERS", "777"))
            .await;
    let (status, _, v2) = app.api(Method::GET, "/api/v2/instance", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(v2["domain"], app.domain.as_str());
    assert_eq!(v2["configuration"]["statuses"]["max_characters"], 777);
    assert_eq!(v2["configuration"]["polls"]["max_options"], 4);
    let vapid = v2["configuration"]["vapid"]["public_key"].as_str().unwrap();
    assert_eq!(vapid.len(), 87, "an uncompressed P-256 point in base64url");
    let (status, _, v1) = app.api(Method::GET, "/api/v1/instance", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(v1["uri"], app.domain.as_str());
    assert!(v1["version"].as_str().unwrap().starts_with("4."));
}

async fn upload_image(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    description: &str,
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("photo.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .text("description", description.to_string())
        .text("focus", "0.5,-0.25");
    let response = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn an_image_uploaded_with_alt_text_goes_out_with_the_status() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    bob_follows_alice(&alpha, &beta, &bob).await;

    let (status, media) =
        upload_image(&alpha, &alice, crate::media::png(800, 600), "A red square").await;
    assert_eq!(status, 200, "{media}");
    assert_eq!(media["type"], "image");
    assert_eq!(media["description"], "A red square");
    assert_eq!(media["meta"]["original"]["width"], 800);
    assert_eq!(media["meta"]["focus"]["x"], 0.5);
    assert!(media["blurhash"].is_string());
    let media_id = media["id"].as_str().unwrap();
    let (status, _, described) = alpha
        .api(
            Method::PUT,
            &format!("/api/v1/media/{media_id}"),
            Some(&alice),
            Some(json!({"description": "A red square on white"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(described["description"], "A red square on white");

    let (status, posted) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "", "media_ids": [media_id]}),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(posted["media_attachments"][0]["id"], media_id);
    assert_eq!(
        posted["media_attachments"][0]["description"],
        "A red square on white"
    );
    let image = alpha
        .client
        .get(posted["media_attachments"][0]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(image.headers()["x-content-type-options"], "nosniff");
    alpha.deliver().await;
    let (_, home) = beta.api_get(&bob, "/api/v1/timelines/home").await;
    let arrived = &home[0]["media_attachments"][0];
    assert_eq!(arrived["description"], "A red square on white", "{home}");
    assert!(arrived["blurhash"].is_string());

    // Someone else's upload cannot be attached.
    beta.create_user("carol").await;
    let carol = beta.token("carol").await;
    let (_, theirs) = upload_image(&beta, &carol, crate::media::png(10, 10), "").await;
    let (status, _) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "stolen", "media_ids": [theirs["id"]]}),
        )
        .await;
    assert_eq!(status, 422);
    let posts: i64 = sqlx::query_scalar("select count(*) from posts where content like '%stolen%'")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(posts, 0);
}

#[tokio::test]
async fn an_avatar_set_through_update_credentials_reaches_followers() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    bob_follows_alice(&alpha, &beta, &bob).await;
    let form = reqwest::multipart::Form::new()
        .part(
            "avatar",
            reqwest::multipart::Part::bytes(crate::media::jpeg(500, 500))
                .file_name("me.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
        .text("display_name", "Alice with a face");
    let response = alpha
        .client
        .patch(alpha.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    let avatar = me["avatar"].as_str().unwrap().to_string();
    assert!(avatar.contains("/media/"), "{avatar}");
    assert_eq!(me["display_name"], "Alice with a face");
    let fetched = alpha.client.get(&avatar).send().await.unwrap();
    assert_eq!(fetched.status(), 200);
    alpha.deliver().await;
    let on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    assert_eq!(on_beta.avatar_url.as_deref(), Some(avatar.as_str()));
    // The avatar is never swept as an unattached upload.
    alpha.clock.advance(chrono::Duration::days(3));
    skein::service::media::remove_stale(&alpha.state)
        .await
        .unwrap();
    assert_eq!(
        alpha.client.get(&avatar).send().await.unwrap().status(),
        200
    );

    // Removed (Mastodon's DELETE /api/v1/profile/avatar): the default
    // picture again, the file gone, and followers' servers told.
    let (status, _, me) = alpha
        .api(Method::DELETE, "/api/v1/profile/avatar", Some(&alice), None)
        .await;
    assert_eq!(status, 200, "{me}");
    assert!(
        me["avatar"]
            .as_str()
            .unwrap()
            .ends_with("/static/avatar.png"),
        "{me}"
    );
    let (avatar_url, profile_uploads): (Option<String>, i64) = sqlx::query_as(
        "select a.avatar_url, (select count(*) from uploads u
                               where u.owner_id = a.id and u.profile_image = 'avatar')
         from actors a where a.username = 'alice' and a.domain is null",
    )
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert_eq!((avatar_url, profile_uploads), (None, 0));
    assert_eq!(
        alpha.client.get(&avatar).send().await.unwrap().status(),
        404
    );
    // Both servers' clocks agree again (alpha's went three days ahead),
    // so that beta accepts the signature's date.
    beta.clock.advance(chrono::Duration::days(3));
    alpha.deliver().await;
    let on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    assert_eq!(on_beta.avatar_url, None, "beta got the Update");
    let (status, _, _) = alpha
        .api(Method::DELETE, "/api/v1/profile/banner", Some(&alice), None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_edit_in_the_second_a_post_was_written_still_reaches_followers() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    bob_follows_alice(&alpha, &beta, &bob).await;
    // The instance's clock stands still: the edit carries the very second
    // of `published`, as a quick fix of a typo does.
    let (_, created) = alpha
        .api_post(&alice, "/api/v1/statuses", json!({"status": "teh typo"}))
        .await;
    let id = created["id"].as_str().unwrap();
    alpha.deliver().await;
    let (status, _, _) = alpha
        .api(
            Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&alice),
            Some(json!({"status": "the typo"})),
        )
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    let stored = beta.post(created["uri"].as_str().unwrap()).await;
    assert_eq!(stored.content, "<p>the typo</p>");
}

#[tokio::test]
async fn the_hashtag_timeline_keeps_to_local_or_remote_authors_when_asked() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    bob_follows_alice(&alpha, &beta, &bob).await;
    alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "from alpha #walk"}),
        )
        .await;
    alpha.deliver().await;
    beta.api_post(
        &bob,
        "/api/v1/statuses",
        json!({"status": "from beta #walk"}),
    )
    .await;
    let content = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|s| s["content"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, all) = beta.api_get(&bob, "/api/v1/timelines/tag/walk").await;
    assert_eq!(content(&all).len(), 2, "{all}");
    let (_, local) = beta
        .api_get(&bob, "/api/v1/timelines/tag/walk?local=true")
        .await;
    assert_eq!(content(&local).len(), 1);
    assert!(content(&local)[0].contains("from beta"));
    let (_, remote) = beta
        .api_get(&bob, "/api/v1/timelines/tag/walk?remote=true")
        .await;
    assert_eq!(content(&remote).len(), 1);
    assert!(content(&remote)[0].contains("from alpha"));
}
