//! Smaller parts of Mastodon's client API: the profile directory, oEmbed,
//! OpenID Connect's UserInfo, deleting an unused upload, and writing v1
//! filters onto the v2 filters.

use serde_json::{Value, json};

use crate::harness::{Options, TestApp};

async fn set_discoverable(app: &TestApp, id: i64, discoverable: bool) {
    sqlx::query("update actors set discoverable = $2 where id = $1")
        .bind(id)
        .bind(discoverable)
        .execute(&app.db)
        .await
        .unwrap();
}

fn usernames(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["acct"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_directory_lists_discoverable_accounts_by_activity_or_age() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    for name in ["alice", "bob", "carol", "dave"] {
        let created = alpha.create_user(name).await;
        set_discoverable(&alpha, created.actor.id, name != "carol").await;
    }
    beta.create_user("eve").await;
    let eve = alpha.resolve(&beta.handle("eve")).await;
    set_discoverable(&alpha, eve.id, true).await;
    let dave = alpha.local("dave").await;
    sqlx::query("update actors set suspended_at = now() where id = $1")
        .bind(dave.id)
        .execute(&alpha.db)
        .await
        .unwrap();
    let bob = alpha.token("bob").await;
    let (status, _) = alpha
        .api_post(&bob, "/api/v1/statuses", json!({"status": "hello"}))
        .await;
    assert_eq!(status, 200);

    let eve_acct = beta.handle("eve");
    let (status, _, list) = alpha
        .api(reqwest::Method::GET, "/api/v1/directory", None, None)
        .await;
    assert_eq!(status, 200);
    let names = usernames(&list);
    assert_eq!(names[0], "bob", "the latest poster first: {names:?}");
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(names.contains(&"alice".to_string()) && names.contains(&eve_acct));

    let (_, _, list) = alpha
        .api(
            reqwest::Method::GET,
            "/api/v1/directory?local=true&order=new",
            None,
            None,
        )
        .await;
    assert_eq!(usernames(&list), vec!["bob", "alice"]);
    let (_, _, list) = alpha
        .api(
            reqwest::Method::GET,
            "/api/v1/directory?local=true&order=new&offset=1&limit=1",
            None,
            None,
        )
        .await;
    assert_eq!(usernames(&list), vec!["alice"]);

    // A reader does not see the accounts it blocks.
    let alice = alpha.token("alice").await;
    let bob_id = alpha.local("bob").await.id;
    let (status, _) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{bob_id}/block"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, list) = alpha.api_get(&alice, "/api/v1/directory").await;
    assert!(!usernames(&list).contains(&"bob".to_string()));
}

#[tokio::test]
async fn oembed_quotes_public_posts_and_userinfo_names_the_account() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (_, public) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "Look at this"}),
        )
        .await;
    let (_, private) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "Just friends", "visibility": "private"}),
        )
        .await;
    let url = public["url"].as_str().unwrap();
    let encoded: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
    let (status, _, embed) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/oembed?url={encoded}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(embed["type"], "rich");
    assert_eq!(embed["version"], "1.0");
    assert_eq!(embed["author_url"], app.url("/@alice"));
    assert_eq!(embed["provider_name"], app.domain.as_str());
    let html = embed["html"].as_str().unwrap();
    assert!(
        html.contains("Look at this") && html.contains(url),
        "{html}"
    );
    let private_url = private["url"].as_str().unwrap();
    let encoded: String = url::form_urlencoded::byte_serialize(private_url.as_bytes()).collect();
    let (status, _, _) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/oembed?url={encoded}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _, _) = app
        .api(
            reqwest::Method::GET,
            "/api/oembed?url=https%3A%2F%2Felsewhere.example%2F%40x%2F1",
            None,
            None,
        )
        .await;
    assert_eq!(status, 404);

    let alice = app.local("alice").await;
    let (status, info) = app.api_get(&token, "/oauth/userinfo").await;
    assert_eq!(status, 200);
    assert_eq!(info["sub"], alice.ap_id.as_str());
    assert_eq!(info["preferred_username"], "alice");
    assert_eq!(info["iss"], app.url("/"));
    assert!(info["picture"].as_str().unwrap().starts_with("http"));
    let (status, _, _) = app
        .api(reqwest::Method::GET, "/oauth/userinfo", None, None)
        .await;
    assert_eq!(status, 401);
}

async fn upload(app: &TestApp, token: &str) -> String {
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(crate::media::png(20, 20))
            .file_name("a.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let response = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn only_uploads_no_post_uses_are_deleted() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let token = app.token("alice").await;
    let bob = app.token("bob").await;
    let unused = upload(&app, &token).await;
    let used = upload(&app, &token).await;
    let (status, _) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "with media", "media_ids": [used]}),
        )
        .await;
    assert_eq!(status, 200);

    let (status, _) = app
        .api_delete(&bob, &format!("/api/v1/media/{unused}"))
        .await;
    assert_eq!(status, 404);
    let (status, body) = app
        .api_delete(&token, &format!("/api/v1/media/{used}"))
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "Media attachment is currently used by a status"
    );
    let (status, body) = app
        .api_delete(&token, &format!("/api/v1/media/{unused}"))
        .await;
    assert_eq!((status, body), (200, json!({})));
    let left: Vec<i64> = sqlx::query_scalar("select id from uploads order by id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(left, vec![used.parse::<i64>().unwrap()]);
    let (status, _) = app
        .api_get(&token, &format!("/api/v1/media/{unused}"))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn v1_filters_are_written_as_one_keyword_filters() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (status, v1) = app
        .api_post(
            &token,
            "/api/v1/filters",
            json!({"phrase": "spoilers", "context": ["home", "public"], "irreversible": true, "whole_word": false}),
        )
        .await;
    assert_eq!(status, 200, "{v1}");
    assert_eq!(v1["phrase"], "spoilers");
    assert_eq!(v1["context"], json!(["home", "public"]));
    assert_eq!(v1["irreversible"], true);
    assert_eq!(v1["whole_word"], false);
    let id = v1["id"].as_str().unwrap().to_string();
    let stored: (String, String, Vec<String>) =
        sqlx::query_as("select title, action, context from filters")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        stored,
        (
            "spoilers".into(),
            "hide".into(),
            vec!["home".into(), "public".into()]
        )
    );
    let (_, v2) = app.api_get(&token, "/api/v2/filters").await;
    assert_eq!(v2[0]["keywords"][0]["id"], id.as_str());

    // Changed through v1 while the filter has one keyword.
    let (status, _, changed) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/filters/{id}"),
            Some(&token),
            Some(json!({"phrase": "leaks", "context": ["notifications"], "irreversible": false})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["phrase"], "leaks");
    assert_eq!(changed["context"], json!(["notifications"]));
    assert_eq!(changed["irreversible"], false);
    let (status, shown) = app.api_get(&token, &format!("/api/v1/filters/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["phrase"], "leaks");

    // With a second keyword, the shared settings are refused.
    let filter_id = v2[0]["id"].as_str().unwrap();
    let (status, _) = app
        .api_post(
            &token,
            &format!("/api/v2/filters/{filter_id}/keywords"),
            json!({"keyword": "trailer"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, refused) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/filters/{id}"),
            Some(&token),
            Some(json!({"context": ["home"]})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("more than one filter keyword")
    );
    let (status, _, _) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/filters/{id}"),
            Some(&token),
            Some(json!({"whole_word": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, all) = app.api_get(&token, "/api/v1/filters").await;
    assert_eq!(all.as_array().unwrap().len(), 2);

    let (status, body) = app
        .api_delete(&token, &format!("/api/v1/filters/{id}"))
        .await;
    assert_eq!((status, body), (200, json!({})));
    let (_, all) = app.api_get(&token, "/api/v1/filters").await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["phrase"], "trailer");
    let (status, _) = app
        .api_delete(&token, &format!("/api/v1/filters/{id}"))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_conversation_is_marked_read_and_unread_again() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let (status, _) = app
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "@alice just us", "visibility": "direct"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, mine) = app.api_get(&alice, "/api/v1/conversations").await;
    let id = mine[0]["id"].as_str().unwrap().to_string();
    let stored = |app: &TestApp, id: &str| {
        let id: i64 = id.parse().unwrap();
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, bool>("select unread from account_conversations where id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let (status, read) = app
        .api_post(
            &alice,
            &format!("/api/v1/conversations/{id}/read"),
            json!({}),
        )
        .await;
    assert_eq!((status, read["unread"].clone()), (200, json!(false)));
    assert!(!stored(&app, &id).await);
    let (status, unread) = app
        .api_post(
            &alice,
            &format!("/api/v1/conversations/{id}/unread"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{unread}");
    assert_eq!(unread["unread"], true);
    assert_eq!(unread["id"], id.as_str());
    assert!(stored(&app, &id).await);
    let (status, _) = app
        .api_post(
            &bob,
            &format!("/api/v1/conversations/{id}/unread"),
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "another account's conversation");
}

#[tokio::test]
async fn identity_proofs_are_an_empty_list_for_accounts_shown_and_404_otherwise() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let (status, _, proofs) = app
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/accounts/{}/identity_proofs", alice.id),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(proofs, serde_json::json!([]));
    let (status, _, _) = app
        .api(
            reqwest::Method::GET,
            "/api/v1/accounts/987654321/identity_proofs",
            None,
            None,
        )
        .await;
    assert_eq!(status, 404);
}
