//! Accounts' counts (followers, following, posts, latest post) are kept as
//! the rows they count change, whatever changes them, and match a count
//! from scratch; `skein maintenance recount` repairs them.

use serde_json::{Value, json};

use crate::harness::{TestApp, insert_remote_actor};

async fn account(app: &TestApp, token: &str, id: i64) -> Value {
    let (status, body) = app.api_get(token, &format!("/api/v1/accounts/{id}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn counts(account: &Value) -> (i64, i64, i64) {
    (
        account["followers_count"].as_i64().expect("followers"),
        account["following_count"].as_i64().expect("following"),
        account["statuses_count"].as_i64().expect("statuses"),
    )
}

/// Everything kept equals a count from scratch: the repair finds nothing.
async fn assert_counts_are_true(app: &TestApp) {
    let wrong = skein::service::maintenance::recount_account_stats(&app.db)
        .await
        .expect("recount");
    assert_eq!(wrong, 0, "the kept counts match a count from scratch");
}

#[tokio::test]
async fn counts_follow_posts_follows_deletes_and_cascades() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let bob = app.create_user("bob").await.actor;
    let alice_token = app.token("alice").await;
    let bob_token = app.token("bob").await;
    assert_eq!(
        counts(&account(&app, &bob_token, alice.id).await),
        (0, 0, 0)
    );
    assert!(account(&app, &bob_token, alice.id).await["last_status_at"].is_null());

    // Posts: direct ones are not counted but are the latest post.
    let mut ids = Vec::new();
    for visibility in ["public", "unlisted", "private", "direct"] {
        let (status, post) = app
            .api_post(
                &alice_token,
                "/api/v1/statuses",
                json!({ "status": format!("a {visibility} post @bob"), "visibility": visibility }),
            )
            .await;
        assert_eq!(status, 200, "{post}");
        ids.push(post["id"].as_str().unwrap().to_string());
    }
    let shown = account(&app, &bob_token, alice.id).await;
    assert_eq!(counts(&shown), (0, 0, 3));
    let today = chrono::Utc::now().date_naive().to_string();
    let latest = shown["last_status_at"].as_str().expect("a latest post");
    assert!(latest.starts_with(&today), "{latest}");

    // A follow, accepted at once, counts on both sides.
    let (status, body) = app
        .api_post(
            &bob_token,
            &format!("/api/v1/accounts/{}/follow", alice.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        counts(&account(&app, &bob_token, alice.id).await),
        (1, 0, 3)
    );
    assert_eq!(counts(&account(&app, &bob_token, bob.id).await), (0, 1, 0));
    // The followers collection says the same.
    let collection: Value = app
        .get_ap("/users/alice/followers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(collection["totalItems"], 1);

    // Deleting a counted post and the direct one.
    for id in [&ids[0], &ids[3]] {
        let (status, body) = app
            .api_delete(&alice_token, &format!("/api/v1/statuses/{id}"))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        counts(&account(&app, &bob_token, alice.id).await),
        (1, 0, 2)
    );

    // An unfollow.
    let (status, body) = app
        .api_post(
            &bob_token,
            &format!("/api/v1/accounts/{}/unfollow", alice.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        counts(&account(&app, &bob_token, alice.id).await),
        (0, 0, 2)
    );
    assert_eq!(counts(&account(&app, &bob_token, bob.id).await), (0, 0, 0));
    assert_counts_are_true(&app).await;

    // A remote account that follows alice and posted goes away whole (the
    // rows cascade): alice's count falls and nothing fails.
    let remote = insert_remote_actor(&app.db, "gone.example", "carol").await;
    sqlx::query(
        "insert into follows (follower_id, followee_id, state, ap_id)
         values ($1, $2, 'accepted', 'https://gone.example/follows/1')",
    )
    .bind(remote)
    .bind(alice.id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "insert into posts (id, ap_id, author_id, content, visibility, published)
         values (next_post_id(now()), 'https://gone.example/notes/1', $1, '<p>hi</p>',
                 'public', now())",
    )
    .bind(remote)
    .execute(&app.db)
    .await
    .unwrap();
    let (followers, posts): (i64, i64) = sqlx::query_as(
        "select (select followers from account_stats where actor_id = $1),
                (select posts from account_stats where actor_id = $2)",
    )
    .bind(alice.id)
    .bind(remote)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((followers, posts), (1, 1));
    sqlx::query("delete from actors where id = $1")
        .bind(remote)
        .execute(&app.db)
        .await
        .expect("the account and its rows go, counts kept");
    assert_eq!(
        counts(&account(&app, &bob_token, alice.id).await),
        (0, 0, 2)
    );
    let left: i64 = sqlx::query_scalar("select count(*) from account_stats where actor_id = $1")
        .bind(remote)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_counts_are_true(&app).await;
}

#[tokio::test]
async fn deleting_the_latest_post_makes_the_one_before_the_latest() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let days_ago = |n: i64| chrono::Utc::now() - chrono::Duration::days(n);
    for (n, at) in [(1, days_ago(3)), (2, days_ago(1))] {
        sqlx::query(
            "insert into posts (id, ap_id, author_id, content, visibility, published)
             values (next_post_id($3), $1, $2, '<p>hi</p>', 'public', $3)",
        )
        .bind(app.url(&format!("/users/alice/statuses/{n}")))
        .bind(alice.id)
        .bind(at)
        .execute(&app.db)
        .await
        .unwrap();
    }
    let latest = || async {
        sqlx::query_scalar::<_, Option<chrono::DateTime<chrono::Utc>>>(
            "select last_post_at from account_stats where actor_id = $1",
        )
        .bind(alice.id)
        .fetch_one(&app.db)
        .await
        .unwrap()
        .expect("a latest post")
    };
    assert_eq!(latest().await.date_naive(), days_ago(1).date_naive());
    sqlx::query("update posts set deleted_at = now() where ap_id = $1")
        .bind(app.url("/users/alice/statuses/2"))
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(latest().await.date_naive(), days_ago(3).date_naive());
    assert_counts_are_true(&app).await;
}

#[tokio::test]
async fn the_repair_rebuilds_wrong_counts_and_says_how_many() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let token = app.token("alice").await;
    let (status, _) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({ "status": "hello", "visibility": "public" }),
        )
        .await;
    assert_eq!(status, 200);
    sqlx::query("update account_stats set posts = 41, followers = 7 where actor_id = $1")
        .bind(alice.id)
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(counts(&account(&app, &token, alice.id).await), (7, 0, 41));
    let wrong = skein::service::maintenance::recount_account_stats(&app.db)
        .await
        .unwrap();
    assert_eq!(wrong, 1);
    assert_eq!(counts(&account(&app, &token, alice.id).await), (0, 0, 1));
    assert_counts_are_true(&app).await;
}
