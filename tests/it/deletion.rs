//! Deleting an account: Delete(Person) to the servers that knew it, which
//! drop what they stored; the data gone here; a tombstone that answers 410
//! and keeps the username.

use serde_json::json;

use crate::harness::{Options, TestApp};

async fn count(app: &TestApp, sql: &str, id: &str) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn deleting_an_account_sends_delete_person_that_the_other_instance_applies() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let remote_alice = beta.resolve(&alpha.handle("alice")).await;
    skein::service::follows::follow(&beta.state, &bob, &remote_alice)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;

    let token = alpha.token("alice").await;
    let (status, _) = alpha
        .api_post(&token, "/api/v1/statuses", json!({ "status": "so long" }))
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    let posts_by =
        "select count(*) from posts p join actors a on a.id = p.author_id where a.ap_id = $1";
    assert_eq!(count(&beta, posts_by, &alice.ap_id).await, 1);
    // A server whose account only liked the post knows alice too.
    let fans = crate::fake::FakeServer::spawn("fans").await;
    let fan = fans.add_actor("fan", false);
    let liked: String = sqlx::query_scalar(
        "select p.ap_id from posts p join actors a on a.id = p.author_id where a.ap_id = $1",
    )
    .bind(&alice.ap_id)
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    let like = json!({
        "id": format!("{}/likes/1", fans.base), "type": "Like",
        "actor": fan.id, "object": liked,
    });
    assert_eq!(alpha.post_signed(&fans, &fan, "/inbox", like).await, 202);

    // The wrong password changes nothing.
    let (status, _) = alpha
        .api_post(
            &token,
            "/api/v1/accounts/delete",
            json!({ "password": "nope" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(count(&alpha, posts_by, &alice.ap_id).await, 1);

    let (status, _) = alpha
        .api_post(
            &token,
            "/api/v1/accounts/delete",
            json!({ "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(status, 202);

    // Here: the data, the user, its tokens are gone; a tombstone stays.
    assert_eq!(count(&alpha, posts_by, &alice.ap_id).await, 0);
    let users =
        "select count(*) from users u join actors a on a.id = u.actor_id where a.ap_id = $1";
    assert_eq!(count(&alpha, users, &alice.ap_id).await, 0);
    let follows = "select count(*) from follows f join actors a on a.id in (f.follower_id, f.followee_id) where a.ap_id = $1";
    assert_eq!(count(&alpha, follows, &alice.ap_id).await, 0);
    let gone = "select count(*) from actors where ap_id = $1 and gone_at is not null";
    assert_eq!(count(&alpha, gone, &alice.ap_id).await, 1);
    assert_eq!(alpha.get_ap("/users/alice").await.status(), 410);
    let (status, _) = alpha
        .api_get(&token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 401);
    let again = skein::service::accounts::create(
        &alpha.db,
        &alpha.state.urls,
        skein::service::accounts::NewAccount {
            username: "alice",
            email: None,
            password: "another long password",
            role: skein::service::accounts::Role::User,
            approved: true,
            fediverse_sharing: true,
        },
    )
    .await;
    assert!(again.is_err(), "the username stays taken");

    // There: Delete(Person) arrives and what beta stored of alice goes.
    assert!(alpha.deliver().await >= 1);
    let deletes: Vec<serde_json::Value> =
        sqlx::query_scalar("select payload from inbox_activities where kind = 'Delete'")
            .fetch_all(&beta.db)
            .await
            .unwrap();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0]["object"], json!(alice.ap_id));
    assert!(
        fans.received()
            .iter()
            .any(|r| r.body["type"] == "Delete" && r.body["object"] == json!(alice.ap_id)),
        "the server of an account that liked a post got the Delete too"
    );
    let actors = "select count(*) from actors where ap_id = $1";
    assert_eq!(count(&beta, actors, &alice.ap_id).await, 0);
    assert_eq!(count(&beta, posts_by, &alice.ap_id).await, 0);
}

#[tokio::test]
async fn an_account_deleted_from_the_web_settings_is_signed_out_and_its_profile_is_gone() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut browser = crate::web::Browser::new(&app);
    browser.sign_in("alice").await;
    let token = crate::web::csrf(&browser.get("/settings/delete").await.body);
    let page = browser
        .post(
            "/settings/delete",
            &[("csrf_token", &token), ("current_password", "wrong")],
        )
        .await;
    assert_eq!(page.status, 422);
    let page = browser
        .post(
            "/settings/delete",
            &[
                ("csrf_token", &token),
                ("current_password", crate::web::PASSWORD),
            ],
        )
        .await;
    assert_eq!(page.status, 303);
    let sessions: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    assert_eq!(browser.get("/@alice").await.status, 410);
    assert_eq!(
        browser.get("/settings/profile").await.status,
        303,
        "signed out"
    );
}
