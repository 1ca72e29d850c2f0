//! Filters (v2, with the v1 list) and lists through the client API:
//! Mastodon's shapes, what a filter does to the statuses a timeline shows,
//! list timelines (with a member on another instance) and their rules,
//! checked in the database as well as in the answers.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Options, TestApp};

async fn alpha() -> TestApp {
    TestApp::spawn_with(Options::named("alpha")).await
}

/// A local user with a token; returns (token, actor id).
async fn user(app: &TestApp, name: &str) -> (String, i64) {
    app.create_user(name).await;
    (app.token(name).await, app.local(name).await.id)
}

async fn follow(app: &TestApp, token: &str, id: i64) {
    let (status, rel) = app
        .api_post(token, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200, "{rel}");
    assert_eq!(rel["following"], true, "{rel}");
}

/// Posts through the API; returns the status.
async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, created) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{created}");
    created
}

async fn say(app: &TestApp, token: &str, text: &str) -> String {
    post(app, token, json!({"status": text})).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn reply(app: &TestApp, token: &str, text: &str, to: &str) -> String {
    post(app, token, json!({"status": text, "in_reply_to_id": to})).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = app.api(Method::PUT, path, Some(token), Some(body)).await;
    (status, body)
}

async fn delete(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let (status, _, body) = app.api(Method::DELETE, path, Some(token), body).await;
    (status, body)
}

/// The statuses of a timeline, by id.
async fn timeline(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let (status, page) = app.api_get(token, path).await;
    assert_eq!(status, 200, "{page}");
    page.as_array().unwrap().clone()
}

fn find<'a>(statuses: &'a [Value], id: &str) -> Option<&'a Value> {
    statuses.iter().find(|s| s["id"] == id)
}

fn ids(statuses: &[Value]) -> Vec<String> {
    statuses
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn create_filter(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, filter) = app.api_post(token, "/api/v2/filters", body).await;
    assert_eq!(status, 200, "{filter}");
    filter
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn filters_are_created_read_updated_and_deleted_in_mastodons_shapes() {
    let app = alpha().await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, _) = user(&app, "bob").await;
    let now = skein::clock::Clock::now(&*app.clock);

    let filter = create_filter(
        &app,
        &alice,
        json!({
            "title": "Spoilers",
            "context": ["home", "public"],
            "filter_action": "hide",
            "expires_in": 3600,
            "keywords_attributes": [
                {"keyword": "finale", "whole_word": false},
                {"keyword": "bad word"},
            ],
        }),
    )
    .await;
    let id = filter["id"].as_str().unwrap().to_string();
    assert_eq!(filter["title"], "Spoilers");
    assert_eq!(filter["context"], json!(["home", "public"]));
    assert_eq!(filter["filter_action"], "hide");
    let expires_at = chrono::DateTime::parse_from_rfc3339(filter["expires_at"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let off = expires_at - (now + chrono::Duration::seconds(3600));
    assert!(
        off.num_milliseconds().abs() <= 1,
        "expires in an hour: {off}"
    );
    assert_eq!(filter["statuses"], json!([]));
    let keywords = filter["keywords"].as_array().unwrap();
    assert_eq!(keywords.len(), 2);
    assert_eq!(keywords[0]["keyword"], "finale");
    assert_eq!(keywords[0]["whole_word"], false);
    assert_eq!(
        keywords[1]["whole_word"], true,
        "whole_word defaults to true"
    );
    assert!(keywords[0]["id"].is_string());
    let (owner, action): (i64, String) =
        sqlx::query_as("select actor_id, action from filters where id = $1")
            .bind(id.parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((owner, action.as_str()), (alice_id, "hide"));
    assert_eq!(count(&app, "select count(*) from filter_keywords").await, 2);

    // The docs' form of the call: everything in the query string.
    let (status, second) = app
        .api_post(
            &alice,
            "/api/v2/filters?title=test&context[]=thread\
             &keywords_attributes[][keyword]=foo&keywords_attributes[][whole_word]=false\
             &keywords_attributes[][keyword]=bar&keywords_attributes[][whole_word]=true",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["filter_action"], "warn");
    assert_eq!(second["expires_at"], Value::Null);
    let words: Vec<(String, bool)> = second["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["keyword"].as_str().unwrap().to_string(),
                k["whole_word"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        words,
        vec![("foo".to_string(), false), ("bar".to_string(), true)]
    );

    let (status, all) = app.api_get(&alice, "/api/v2/filters").await;
    assert_eq!(status, 200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["id"], id.as_str());
    let (status, one) = app.api_get(&alice, &format!("/api/v2/filters/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(one, filter);

    // v1 compatibility: one entry per keyword.
    let (status, v1) = app.api_get(&alice, "/api/v1/filters").await;
    assert_eq!(status, 200, "{v1}");
    assert_eq!(v1.as_array().unwrap().len(), 4);
    assert_eq!(v1[0]["phrase"], "finale");
    assert_eq!(v1[0]["id"], keywords[0]["id"]);
    assert_eq!(v1[0]["irreversible"], true);
    assert_eq!(v1[0]["whole_word"], false);
    assert_eq!(v1[0]["context"], json!(["home", "public"]));

    // Update: drop one keyword, rename another, add a third, and let it
    // never expire.
    let (k1, k2) = (
        keywords[0]["id"].as_str().unwrap(),
        keywords[1]["id"].as_str().unwrap(),
    );
    let (status, updated) = put(
        &app,
        &alice,
        &format!("/api/v2/filters/{id}"),
        json!({
            "title": "Finale",
            "filter_action": "warn",
            "expires_in": "",
            "keywords_attributes": [
                {"id": k1, "_destroy": true},
                {"id": k2, "keyword": "baz"},
                {"keyword": "qux", "whole_word": false},
            ],
        }),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["title"], "Finale");
    assert_eq!(updated["context"], json!(["home", "public"]), "unchanged");
    assert_eq!(updated["filter_action"], "warn");
    assert_eq!(updated["expires_at"], Value::Null);
    let kept: Vec<(&str, &str, bool)> = updated["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["id"].as_str().unwrap(),
                k["keyword"].as_str().unwrap(),
                k["whole_word"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(kept[0], (k2, "baz", true));
    assert_eq!(kept[1].1, "qux");
    assert_eq!(kept.len(), 2);
    let stored: Vec<String> =
        sqlx::query_scalar("select keyword from filter_keywords where filter_id = $1 order by id")
            .bind(id.parse::<i64>().unwrap())
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, vec!["baz", "qux"]);

    // Mastodon's refusals.
    for (body, code) in [
        (json!({"title": "", "context": ["home"]}), 422),
        (json!({"title": "x", "context": []}), 422),
        (json!({"title": "x", "context": ["everywhere"]}), 422),
        (
            json!({"title": "x", "context": ["home"], "filter_action": "explode"}),
            422,
        ),
        (
            json!({"title": "x", "context": ["home"], "keywords_attributes": [{"id": k2, "keyword": "y"}]}),
            404,
        ),
    ] {
        let (status, error) = app.api_post(&alice, "/api/v2/filters", body).await;
        assert_eq!(status, code, "{error}");
        assert!(error["error"].is_string());
    }
    let (status, error) = put(
        &app,
        &alice,
        &format!("/api/v2/filters/{id}"),
        json!({"keywords_attributes": [{"id": "1", "_destroy": true}]}),
    )
    .await;
    assert_eq!(status, 404, "a keyword of no filter of hers: {error}");
    assert_eq!(count(&app, "select count(*) from filters").await, 2);

    // Someone else's filter does not exist for bob.
    let path = format!("/api/v2/filters/{id}");
    assert_eq!(app.api_get(&bob, &path).await.0, 404);
    assert_eq!(
        put(&app, &bob, &path, json!({"title": "mine"})).await.0,
        404
    );
    assert_eq!(delete(&app, &bob, &path, None).await.0, 404);
    assert_eq!(
        app.api_get(&bob, "/api/v2/filters").await.1,
        json!([]),
        "bob has no filters"
    );

    let (status, body) = delete(&app, &alice, &path, None).await;
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(app.api_get(&alice, &path).await.0, 404);
    assert_eq!(count(&app, "select count(*) from filters").await, 1);
    assert_eq!(
        count(&app, "select count(*) from filter_keywords").await,
        2,
        "the deleted filter's keywords went with it"
    );
}

#[tokio::test]
async fn a_warn_filter_marks_matching_statuses_where_its_context_applies() {
    let app = alpha().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    follow(&app, &alice, bob_id).await;
    follow(&app, &alice, carol_id).await;
    let spoiler = say(&app, &bob, "Big SPOILERS for the finale").await;
    let plain = say(&app, &bob, "Nothing to see here").await;
    let own = say(&app, &alice, "my own spoiler").await;
    let (status, boost) = app
        .api_post(
            &carol,
            &format!("/api/v1/statuses/{spoiler}/reblog"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{boost}");
    let boost = boost["id"].as_str().unwrap().to_string();

    let filter = create_filter(
        &app,
        &alice,
        json!({
            "title": "No spoilers",
            "context": ["home"],
            "keywords_attributes": [{"keyword": "spoiler", "whole_word": false}],
        }),
    )
    .await;
    let filter_id = filter["id"].as_str().unwrap();

    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    let marked = &find(&home, &spoiler).expect("a warned status stays")["filtered"];
    assert_eq!(marked.as_array().unwrap().len(), 1, "{marked}");
    assert_eq!(marked[0]["filter"]["id"], filter_id);
    assert_eq!(marked[0]["filter"]["title"], "No spoilers");
    assert_eq!(marked[0]["filter"]["filter_action"], "warn");
    assert_eq!(marked[0]["filter"]["context"], json!(["home"]));
    assert!(
        marked[0]["filter"].get("keywords").is_none(),
        "a FilterResult's filter leaves out its keywords"
    );
    assert_eq!(marked[0]["keyword_matches"], json!(["SPOILER"]));
    assert_eq!(marked[0]["status_matches"], Value::Null);
    assert_eq!(find(&home, &plain).unwrap()["filtered"], json!([]));
    assert_eq!(
        find(&home, &own).unwrap()["filtered"],
        json!([]),
        "one's own posts are not filtered"
    );
    let reblog = find(&home, &boost).expect("the reblog is in home");
    assert_eq!(reblog["filtered"][0]["filter"]["id"], filter_id);
    assert_eq!(reblog["reblog"]["filtered"][0]["filter"]["id"], filter_id);

    // Not a public-context filter: the public timeline shows it unmarked.
    let public = timeline(&app, &alice, "/api/v1/timelines/public").await;
    assert_eq!(find(&public, &spoiler).unwrap()["filtered"], json!([]));

    let (status, _) = put(
        &app,
        &alice,
        &format!("/api/v2/filters/{filter_id}"),
        json!({"context": ["home", "public"]}),
    )
    .await;
    assert_eq!(status, 200);
    let public = timeline(&app, &alice, "/api/v1/timelines/public").await;
    assert_eq!(
        find(&public, &spoiler).unwrap()["filtered"][0]["filter"]["id"],
        filter_id
    );
    // Others (and signed-out visitors) are untouched by alice's filters.
    let for_bob = timeline(&app, &bob, "/api/v1/timelines/public").await;
    assert_eq!(find(&for_bob, &spoiler).unwrap()["filtered"], json!([]));
    let (_, _, anonymous) = app
        .api(Method::GET, "/api/v1/timelines/public", None, None)
        .await;
    assert_eq!(
        find(anonymous.as_array().unwrap(), &spoiler).unwrap()["filtered"],
        json!([])
    );
}

#[tokio::test]
async fn a_hide_filter_removes_matching_statuses_from_timelines_and_threads() {
    let app = alpha().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    follow(&app, &alice, bob_id).await;
    let root = say(&app, &bob, "A thread about #films").await;
    let hidden = reply(&app, &bob, "the finale: everyone dies", &root).await;
    let kept = reply(&app, &bob, "also the music was nice", &root).await;
    let tagged = say(&app, &bob, "#films finale talk").await;

    create_filter(
        &app,
        &alice,
        json!({
            "title": "Finale",
            "context": ["home", "public", "thread", "account"],
            "filter_action": "hide",
            "keywords_attributes": [{"keyword": "finale"}],
        }),
    )
    .await;

    for path in [
        "/api/v1/timelines/home".to_string(),
        "/api/v1/timelines/public".to_string(),
        format!("/api/v1/accounts/{bob_id}/statuses"),
    ] {
        let shown = ids(&timeline(&app, &alice, &path).await);
        assert!(!shown.contains(&hidden), "{path}: {shown:?}");
        assert!(!shown.contains(&tagged), "{path}: {shown:?}");
        assert!(shown.contains(&root), "{path}: {shown:?}");
    }
    let tag = ids(&timeline(&app, &alice, "/api/v1/timelines/tag/films").await);
    assert_eq!(tag, vec![root.clone()]);
    let (status, context) = app
        .api_get(&alice, &format!("/api/v1/statuses/{root}/context"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(context["descendants"].as_array().unwrap()), vec![kept]);

    // Bob still sees everything; the filter is alice's alone.
    let bobs = ids(&timeline(&app, &bob, "/api/v1/timelines/home").await);
    assert!(bobs.contains(&hidden) && bobs.contains(&tagged));
}

#[tokio::test]
async fn whole_word_keywords_match_words_in_the_text_warning_and_poll() {
    let app = alpha().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    follow(&app, &alice, bob_id).await;
    let inside = say(&app, &bob, "concatenate the categories").await;
    let word = say(&app, &bob, "my <b>Cat</b> & I").await;
    let warned = post(
        &app,
        &bob,
        json!({"status": "behind a warning", "spoiler_text": "cat pictures"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let poll = post(
        &app,
        &bob,
        json!({"status": "which pet?", "poll": {"options": ["dog", "cat"], "expires_in": 3600}}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    create_filter(
        &app,
        &alice,
        json!({
            "title": "Cats",
            "context": ["home"],
            "keywords_attributes": [{"keyword": "cat", "whole_word": true}],
        }),
    )
    .await;

    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert_eq!(find(&home, &inside).unwrap()["filtered"], json!([]));
    assert_eq!(
        find(&home, &word).unwrap()["filtered"][0]["keyword_matches"],
        json!(["Cat"])
    );
    assert_eq!(
        find(&home, &warned).unwrap()["filtered"][0]["keyword_matches"],
        json!(["cat"])
    );
    assert_eq!(
        find(&home, &poll).unwrap()["filtered"][0]["keyword_matches"],
        json!(["cat"])
    );
}

#[tokio::test]
async fn an_expired_filter_stops_applying_when_the_clock_passes_its_expiry() {
    let app = alpha().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    follow(&app, &alice, bob_id).await;
    let noisy = say(&app, &bob, "election results").await;
    let filter = create_filter(
        &app,
        &alice,
        json!({
            "title": "Election",
            "context": ["home"],
            "filter_action": "hide",
            "expires_in": 600,
            "keywords_attributes": [{"keyword": "election"}],
        }),
    )
    .await;
    let home = ids(&timeline(&app, &alice, "/api/v1/timelines/home").await);
    assert!(!home.contains(&noisy), "hidden while the filter lives");

    app.clock.advance(chrono::Duration::seconds(599));
    let home = ids(&timeline(&app, &alice, "/api/v1/timelines/home").await);
    assert!(
        !home.contains(&noisy),
        "still hidden a second before expiry"
    );

    app.clock.advance(chrono::Duration::seconds(1));
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert_eq!(
        find(&home, &noisy).expect("back once expired")["filtered"],
        json!([])
    );
    // The expired filter is still listed, with its expiry.
    let (_, all) = app.api_get(&alice, "/api/v2/filters").await;
    assert_eq!(all[0]["id"], filter["id"]);
    assert_eq!(all[0]["expires_at"], filter["expires_at"]);
}

#[tokio::test]
async fn keywords_and_statuses_of_a_filter_are_managed_on_their_own() {
    let app = alpha().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, _) = user(&app, "carol").await;
    follow(&app, &alice, bob_id).await;
    let filter = create_filter(&app, &alice, json!({"title": "Misc", "context": ["home"]})).await;
    let fid = filter["id"].as_str().unwrap().to_string();
    assert_eq!(filter["keywords"], json!([]));

    // Keywords.
    let (status, keyword) = app
        .api_post(
            &alice,
            &format!("/api/v2/filters/{fid}/keywords"),
            json!({"keyword": "crypto", "whole_word": "false"}),
        )
        .await;
    assert_eq!(status, 200, "{keyword}");
    assert_eq!(keyword["keyword"], "crypto");
    assert_eq!(keyword["whole_word"], false);
    let kid = keyword["id"].as_str().unwrap().to_string();
    let (status, listed) = app
        .api_get(&alice, &format!("/api/v2/filters/{fid}/keywords"))
        .await;
    assert_eq!((status, listed), (200, json!([keyword.clone()])));
    let kpath = format!("/api/v2/filters/keywords/{kid}");
    assert_eq!(app.api_get(&alice, &kpath).await, (200, keyword.clone()));
    let (status, edited) = put(&app, &alice, &kpath, json!({"keyword": "nft"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        edited,
        json!({"id": kid, "keyword": "nft", "whole_word": false})
    );
    let (status, error) = app
        .api_post(
            &alice,
            &format!("/api/v2/filters/{fid}/keywords"),
            json!({"keyword": " "}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert_eq!(app.api_get(&carol, &kpath).await.0, 404);
    assert_eq!(
        put(&app, &carol, &kpath, json!({"keyword": "x"})).await.0,
        404
    );
    assert_eq!(delete(&app, &carol, &kpath, None).await.0, 404);

    // Statuses.
    let target = say(&app, &bob, "an innocent post").await;
    let (status, entry) = app
        .api_post(
            &alice,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": target}),
        )
        .await;
    assert_eq!(status, 200, "{entry}");
    assert_eq!(entry["status_id"], target.as_str());
    let sid = entry["id"].as_str().unwrap().to_string();
    let (status, again) = app
        .api_post(
            &alice,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": target}),
        )
        .await;
    assert_eq!(status, 422, "{again}");
    let (status, listed) = app
        .api_get(&alice, &format!("/api/v2/filters/{fid}/statuses"))
        .await;
    assert_eq!((status, listed), (200, json!([entry.clone()])));
    let spath = format!("/api/v2/filters/statuses/{sid}");
    assert_eq!(app.api_get(&alice, &spath).await, (200, entry.clone()));
    let (_, whole) = app.api_get(&alice, &format!("/api/v2/filters/{fid}")).await;
    assert_eq!(whole["statuses"], json!([entry]));
    assert_eq!(whole["keywords"][0]["keyword"], "nft");

    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    let marked = &find(&home, &target).unwrap()["filtered"][0];
    assert_eq!(marked["status_matches"], json!([target]));
    assert_eq!(marked["keyword_matches"], Value::Null);

    // A status alice cannot see is not found.
    let secret = post(
        &app,
        &carol,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, _) = app
        .api_post(
            &alice,
            &format!("/api/v2/filters/{fid}/statuses"),
            json!({"status_id": secret}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(app.api_get(&carol, &spath).await.0, 404);
    assert_eq!(delete(&app, &carol, &spath, None).await.0, 404);
    assert_eq!(
        app.api_get(&carol, &format!("/api/v2/filters/{fid}/statuses"))
            .await
            .0,
        404
    );

    assert_eq!(delete(&app, &alice, &spath, None).await, (200, json!({})));
    assert_eq!(delete(&app, &alice, &kpath, None).await, (200, json!({})));
    assert_eq!(count(&app, "select count(*) from filter_statuses").await, 0);
    assert_eq!(count(&app, "select count(*) from filter_keywords").await, 0);
    let home = timeline(&app, &alice, "/api/v1/timelines/home").await;
    assert_eq!(find(&home, &target).unwrap()["filtered"], json!([]));
}

#[tokio::test]
async fn lists_are_created_read_updated_and_deleted_by_their_owner_only() {
    let app = alpha().await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, _) = user(&app, "bob").await;

    let (status, list) = app
        .api_post(&alice, "/api/v1/lists", json!({"title": "Friends"}))
        .await;
    assert_eq!(status, 200, "{list}");
    let id = list["id"].as_str().unwrap().to_string();
    assert_eq!(
        list,
        json!({"id": id, "title": "Friends", "replies_policy": "list", "exclusive": false})
    );
    let (status, second) = app
        .api_post(
            &alice,
            "/api/v1/lists",
            json!({"title": "Work", "replies_policy": "followed", "exclusive": "true"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(second["replies_policy"], "followed");
    assert_eq!(second["exclusive"], true);
    let (owner, exclusive): (i64, bool) =
        sqlx::query_as("select actor_id, exclusive from lists where id = $1")
            .bind(second["id"].as_str().unwrap().parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((owner, exclusive), (alice_id, true));

    let (status, error) = app
        .api_post(
            &alice,
            "/api/v1/lists",
            json!({"title": "x", "replies_policy": "some"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["error"], "'some' is not a valid replies_policy");
    let (status, error) = app
        .api_post(&alice, "/api/v1/lists", json!({"title": " "}))
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["error"], "Validation failed: Title can't be blank");

    let (_, all) = app.api_get(&alice, "/api/v1/lists").await;
    assert_eq!(all, json!([list.clone(), second.clone()]));
    let path = format!("/api/v1/lists/{id}");
    assert_eq!(app.api_get(&alice, &path).await, (200, list.clone()));
    let (status, renamed) = put(
        &app,
        &alice,
        &path,
        json!({"title": "Close friends", "replies_policy": "none"}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(renamed["title"], "Close friends");
    assert_eq!(renamed["replies_policy"], "none");
    assert_eq!(renamed["exclusive"], false);

    // Bob cannot see, change, read or delete alice's list.
    assert_eq!(app.api_get(&bob, &path).await.0, 404);
    assert_eq!(
        put(&app, &bob, &path, json!({"title": "mine"})).await.0,
        404
    );
    assert_eq!(app.api_get(&bob, &format!("{path}/accounts")).await.0, 404);
    assert_eq!(
        app.api_get(&bob, &format!("/api/v1/timelines/list/{id}"))
            .await
            .0,
        404
    );
    assert_eq!(delete(&app, &bob, &path, None).await.0, 404);
    assert_eq!(app.api_get(&bob, "/api/v1/lists").await.1, json!([]));
    let title: String = sqlx::query_scalar("select title from lists where id = $1")
        .bind(id.parse::<i64>().unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title, "Close friends");

    assert_eq!(delete(&app, &alice, &path, None).await, (200, json!({})));
    assert_eq!(app.api_get(&alice, &path).await.0, 404);
    assert_eq!(count(&app, "select count(*) from lists").await, 1);
}

#[tokio::test]
async fn only_followed_accounts_join_a_list_and_unfollowing_takes_them_off() {
    let app = alpha().await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (_, bob_id) = user(&app, "bob").await;
    let (_, carol_id) = user(&app, "carol").await;
    follow(&app, &alice, bob_id).await;
    let (_, list) = app
        .api_post(&alice, "/api/v1/lists", json!({"title": "Friends"}))
        .await;
    let id = list["id"].as_str().unwrap().to_string();
    let accounts = format!("/api/v1/lists/{id}/accounts");

    let (status, body) = app
        .api_post(
            &alice,
            &accounts,
            json!({"account_ids": [bob_id.to_string()]}),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let (status, _) = app
        .api_post(
            &alice,
            &accounts,
            json!({"account_ids": [alice_id.to_string(), carol_id.to_string()]}),
        )
        .await;
    assert_eq!(status, 404, "carol is not followed");
    let (status, error) = app
        .api_post(
            &alice,
            &accounts,
            json!({"account_ids": [bob_id.to_string()]}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        error["error"],
        "Validation failed: Account has already been taken"
    );
    let members: Vec<i64> = sqlx::query_scalar("select actor_id from list_accounts order by id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(members, vec![bob_id], "all or nothing");

    let (status, shown) = app.api_get(&alice, &accounts).await;
    assert_eq!(status, 200);
    assert_eq!(shown.as_array().unwrap().len(), 1);
    assert_eq!(shown[0]["id"], bob_id.to_string());
    assert_eq!(shown[0]["acct"], "bob");
    let (status, lists) = app
        .api_get(&alice, &format!("/api/v1/accounts/{bob_id}/lists"))
        .await;
    assert_eq!((status, lists), (200, json!([list.clone()])));
    assert_eq!(
        app.api_get(&alice, &format!("/api/v1/accounts/{carol_id}/lists"))
            .await
            .1,
        json!([])
    );

    // Unfollowing ends the membership.
    let (status, _) = app
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{bob_id}/unfollow"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(count(&app, "select count(*) from list_accounts").await, 0);
    assert_eq!(app.api_get(&alice, &accounts).await.1, json!([]));

    // Removing, with the ids in the body of a DELETE.
    follow(&app, &alice, bob_id).await;
    app.api_post(
        &alice,
        &accounts,
        json!({"account_ids": [bob_id.to_string()]}),
    )
    .await;
    assert_eq!(count(&app, "select count(*) from list_accounts").await, 1);
    let (status, body) = delete(
        &app,
        &alice,
        &accounts,
        Some(json!({"account_ids": [bob_id.to_string()]})),
    )
    .await;
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(count(&app, "select count(*) from list_accounts").await, 0);
    let follows = count(&app, "select count(*) from follows").await;
    assert_eq!(follows, 1, "leaving a list leaves the follow alone");
}

#[tokio::test]
async fn a_list_timeline_shows_its_members_posts_including_one_from_another_instance() {
    let alpha = alpha().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let (alice, _) = user(&alpha, "alice").await;
    let (carol, carol_id) = user(&alpha, "carol").await;
    let (dave, dave_id) = user(&alpha, "dave").await;
    beta.create_user("bob").await;
    let bob = beta.token("bob").await;
    follow(&alpha, &alice, carol_id).await;
    follow(&alpha, &alice, dave_id).await;

    // Alice follows bob on beta; beta accepts.
    let (status, found) = alpha
        .api_get(
            &alice,
            &format!(
                "/api/v2/search?q=%40{}&resolve=true&type=accounts",
                beta.handle("bob")
            ),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let bob_id = found["accounts"][0]["id"].as_str().unwrap().to_string();
    alpha
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{bob_id}/follow"),
            json!({}),
        )
        .await;
    alpha.deliver().await;
    beta.deliver().await;

    let (_, list) = alpha
        .api_post(&alice, "/api/v1/lists", json!({"title": "Mixed"}))
        .await;
    let id = list["id"].as_str().unwrap().to_string();
    let (status, body) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/lists/{id}/accounts"),
            json!({"account_ids": [bob_id, carol_id.to_string()]}),
        )
        .await;
    assert_eq!(status, 200, "a remote account she follows can join: {body}");

    let from_carol = say(&alpha, &carol, "local news").await;
    let from_dave = say(&alpha, &dave, "not on the list").await;
    // Each instance's clock stands still: bob writes a minute later.
    beta.clock.advance(chrono::Duration::minutes(1));
    let remote = post(&beta, &bob, json!({"status": "hello from beta"})).await;
    beta.deliver().await;
    let arrived = alpha.post(remote["uri"].as_str().unwrap()).await;

    let shown = timeline(&alpha, &alice, &format!("/api/v1/timelines/list/{id}")).await;
    assert_eq!(
        ids(&shown),
        vec![arrived.id.to_string(), from_carol.clone()],
        "newest first, members only"
    );
    assert_eq!(shown[0]["account"]["acct"], beta.handle("bob"));
    assert_eq!(shown[0]["content"], remote["content"]);
    assert!(!ids(&shown).contains(&from_dave));

    // Paging: one at a time, with Mastodon's Link header.
    let (status, headers, page) = alpha
        .api(
            Method::GET,
            &format!("/api/v1/timelines/list/{id}?limit=1"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(ids(page.as_array().unwrap()), vec![arrived.id.to_string()]);
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains(&format!("max_id={}", arrived.id)), "{link}");
    let older = timeline(
        &alpha,
        &alice,
        &format!("/api/v1/timelines/list/{id}?max_id={}", arrived.id),
    )
    .await;
    assert_eq!(ids(&older), vec![from_carol]);

    // A list's timeline is part of "home" for filters.
    create_filter(
        &alpha,
        &alice,
        json!({"title": "beta", "context": ["home"], "filter_action": "hide",
               "keywords_attributes": [{"keyword": "beta"}]}),
    )
    .await;
    let shown = timeline(&alpha, &alice, &format!("/api/v1/timelines/list/{id}")).await;
    assert!(!ids(&shown).contains(&arrived.id.to_string()));
}

#[tokio::test]
async fn an_exclusive_list_keeps_its_members_out_of_home() {
    let app = alpha().await;
    let (alice, _) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    follow(&app, &alice, bob_id).await;
    follow(&app, &alice, carol_id).await;
    let (_, list) = app
        .api_post(
            &alice,
            "/api/v1/lists",
            json!({"title": "Bob only", "exclusive": true}),
        )
        .await;
    let id = list["id"].as_str().unwrap().to_string();
    app.api_post(
        &alice,
        &format!("/api/v1/lists/{id}/accounts"),
        json!({"account_ids": [bob_id.to_string()]}),
    )
    .await;
    let from_bob = say(&app, &bob, "bob speaks").await;
    let from_carol = say(&app, &carol, "carol speaks").await;
    let own = say(&app, &alice, "alice speaks").await;

    let home = ids(&timeline(&app, &alice, "/api/v1/timelines/home").await);
    assert_eq!(home, vec![own.clone(), from_carol.clone()]);
    let listed = ids(&timeline(&app, &alice, &format!("/api/v1/timelines/list/{id}")).await);
    assert_eq!(listed, vec![from_bob.clone()]);

    let (status, _) = put(
        &app,
        &alice,
        &format!("/api/v1/lists/{id}"),
        json!({"exclusive": false}),
    )
    .await;
    assert_eq!(status, 200);
    let home = ids(&timeline(&app, &alice, "/api/v1/timelines/home").await);
    assert_eq!(home, vec![own, from_carol, from_bob]);
}

#[tokio::test]
async fn replies_policy_decides_which_replies_a_list_shows() {
    let app = alpha().await;
    let (alice, alice_id) = user(&app, "alice").await;
    let (bob, bob_id) = user(&app, "bob").await;
    let (carol, carol_id) = user(&app, "carol").await;
    let (erin, erin_id) = user(&app, "erin").await;
    let (dave, _) = user(&app, "dave").await;
    for id in [bob_id, carol_id, erin_id] {
        follow(&app, &alice, id).await;
    }
    let (_, list) = app
        .api_post(&alice, "/api/v1/lists", json!({"title": "Bob and Erin"}))
        .await;
    let id = list["id"].as_str().unwrap().to_string();
    app.api_post(
        &alice,
        &format!("/api/v1/lists/{id}/accounts"),
        json!({"account_ids": [bob_id.to_string(), erin_id.to_string()]}),
    )
    .await;
    let _ = alice_id;

    let by_alice = say(&app, &alice, "alice asks").await;
    let by_carol = say(&app, &carol, "carol asks").await;
    let by_erin = say(&app, &erin, "erin asks").await;
    let by_dave = say(&app, &dave, "dave asks").await;
    let by_bob = say(&app, &bob, "bob starts a thread").await;
    let to_alice = reply(&app, &bob, "to the owner", &by_alice).await;
    let to_carol = reply(&app, &bob, "to someone followed", &by_carol).await;
    let to_erin = reply(&app, &bob, "to a member", &by_erin).await;
    let to_dave = reply(&app, &bob, "to a stranger", &by_dave).await;
    let to_self = reply(&app, &bob, "continuing my thread", &by_bob).await;

    let path = format!("/api/v1/timelines/list/{id}");
    let shown = |list: Vec<Value>| {
        let mut v = ids(&list);
        v.sort();
        v
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // `list`, the default: replies to members.
    assert_eq!(
        shown(timeline(&app, &alice, &path).await),
        sorted(vec![
            by_erin.clone(),
            by_bob.clone(),
            to_alice.clone(),
            to_erin.clone(),
            to_self.clone()
        ])
    );
    put(
        &app,
        &alice,
        &format!("/api/v1/lists/{id}"),
        json!({"replies_policy": "followed"}),
    )
    .await;
    assert_eq!(
        shown(timeline(&app, &alice, &path).await),
        sorted(vec![
            by_erin.clone(),
            by_bob.clone(),
            to_alice.clone(),
            to_carol,
            to_erin,
            to_self.clone()
        ])
    );
    put(
        &app,
        &alice,
        &format!("/api/v1/lists/{id}"),
        json!({"replies_policy": "none"}),
    )
    .await;
    let none = shown(timeline(&app, &alice, &path).await);
    assert_eq!(none, sorted(vec![by_erin, by_bob, to_alice, to_self]));
    assert!(!none.contains(&to_dave));
}

#[tokio::test]
async fn a_list_title_beyond_its_limit_is_refused_with_422_and_nothing_is_stored() {
    let app = alpha().await;
    let (alice, _) = user(&app, "alice").await;
    let max = skein::domain::limits::LIST_TITLE;

    let (status, error) = app
        .api_post(
            &alice,
            "/api/v1/lists",
            json!({"title": "é".repeat(max + 1)}),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["error"].as_str().unwrap().contains("too long"),
        "{error}"
    );
    assert_eq!(count(&app, "select count(*) from lists").await, 0);

    // At the limit (in characters, not bytes) it is taken.
    let (status, list) = app
        .api_post(&alice, "/api/v1/lists", json!({"title": "é".repeat(max)}))
        .await;
    assert_eq!(status, 200, "{list}");
    let id = list["id"].as_str().unwrap();
    let (status, error) = put(
        &app,
        &alice,
        &format!("/api/v1/lists/{id}"),
        json!({"title": "x".repeat(max + 1)}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    let title: String = sqlx::query_scalar("select title from lists")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title, "é".repeat(max));
}

#[tokio::test]
async fn a_filter_title_beyond_its_limit_is_refused_with_422_and_nothing_is_stored() {
    let app = alpha().await;
    let (alice, _) = user(&app, "alice").await;
    let max = skein::domain::limits::FILTER_TITLE;

    let (status, error) = app
        .api_post(
            &alice,
            "/api/v2/filters",
            json!({
                "title": "t".repeat(max + 1),
                "context": ["home"],
                "keywords_attributes": [{"keyword": "finale"}],
            }),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .contains("Title is too long"),
        "{error}"
    );
    assert_eq!(count(&app, "select count(*) from filters").await, 0);
    assert_eq!(count(&app, "select count(*) from filter_keywords").await, 0);

    let filter = create_filter(
        &app,
        &alice,
        json!({"title": "Spoilers", "context": ["home"]}),
    )
    .await;
    let id = filter["id"].as_str().unwrap();
    let (status, error) = put(
        &app,
        &alice,
        &format!("/api/v2/filters/{id}"),
        json!({"title": "t".repeat(max + 1)}),
    )
    .await;
    assert_eq!(status, 422, "{error}");
    let title: String = sqlx::query_scalar("select title from filters")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(title, "Spoilers");
}
