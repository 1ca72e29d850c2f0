//! Account moderation between real instances: suspending a remote account
//! ends its relations (its server is told), purges what was stored of it
//! and refuses what it sends next; suspending a local account signs it out,
//! hides its posts and tells its followers' servers; silencing keeps an
//! account out of public timelines except for its followers; moderators
//! delete posts and handle sign-ups. Every action is in the audit log.

use serde_json::{Value, json};

use crate::harness::{Options, TestApp};

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as("select action, target from admin_actions order by id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

/// The holder of `token` on `from` follows `acct` on `to`; both deliver.
async fn follow_across(from: &TestApp, to: &TestApp, token: &str, acct: &str) {
    let there = find_remote(from, token, acct).await;
    from.api_post(
        token,
        &format!("/api/v1/accounts/{}/follow", there["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    from.deliver().await;
    to.deliver().await;
}

async fn find_remote(app: &TestApp, token: &str, acct: &str) -> Value {
    let (_, found) = app
        .api_get(
            token,
            &format!("/api/v2/search?q=@{acct}&resolve=true&type=accounts"),
        )
        .await;
    found["accounts"][0].clone()
}

#[tokio::test]
async fn suspending_a_remote_account_severs_purges_and_refuses_it() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("ann").await;
    alpha.create_staff("mod", "moderator").await;
    beta.create_user("bob").await;
    let ann = alpha.token("ann").await;
    let moderator = alpha.token("mod").await;
    let bob = beta.token("bob").await;

    // Ann follows bob; bob follows ann back; bob posts and likes ann's post.
    let bob_here = find_remote(&alpha, &ann, &beta.handle("bob")).await;
    let bob_id = bob_here["id"].as_str().unwrap().to_string();
    alpha
        .api_post(
            &ann,
            &format!("/api/v1/accounts/{bob_id}/follow"),
            json!({}),
        )
        .await;
    alpha.deliver().await;
    beta.deliver().await;
    let ann_there = find_remote(&beta, &bob, &alpha.handle("ann")).await;
    beta.api_post(
        &bob,
        &format!(
            "/api/v1/accounts/{}/follow",
            ann_there["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    let (_, ann_post) = alpha
        .api_post(&ann, "/api/v1/statuses", json!({"status": "hello world"}))
        .await;
    let ann_post_uri = ann_post["uri"].as_str().unwrap().to_string();
    let (_, bob_post) = beta
        .api_post(&bob, "/api/v1/statuses", json!({"status": "buy my stuff"}))
        .await;
    let bob_post_uri = bob_post["uri"].as_str().unwrap().to_string();
    beta.deliver().await;
    alpha.deliver().await;
    let (_, seen) = beta
        .api_get(
            &bob,
            &format!("/api/v2/search?q={ann_post_uri}&resolve=true&type=statuses"),
        )
        .await;
    let seen_id = seen["statuses"][0]["id"].as_str().unwrap().to_string();
    beta.api_post(
        &bob,
        &format!("/api/v1/statuses/{seen_id}/favourite"),
        json!({}),
    )
    .await;
    beta.deliver().await;
    assert_eq!(alpha.post(&ann_post_uri).await.likes_count, 1);
    assert!(alpha.post(&bob_post_uri).await.deleted_at.is_none());
    let follows: i64 = sqlx::query_scalar("select count(*) from follows")
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(follows, 2);

    // Ann reports bob; a plain user cannot act on accounts.
    let (_, report) = alpha
        .api_post(
            &ann,
            "/api/v1/reports",
            json!({"account_id": bob_id, "comment": "spam"}),
        )
        .await;
    let report_id = report["id"].as_str().unwrap().to_string();
    let (status, _) = alpha
        .api_post(
            &ann,
            &format!("/api/v1/admin/accounts/{bob_id}/action"),
            json!({"type": "suspend"}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, refused) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{bob_id}/action"),
            json!({"type": "disable"}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");

    let (status, body) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{bob_id}/action"),
            json!({"type": "suspend", "report_id": report_id, "text": "spam wave"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Relations end, what was stored is purged, the report is resolved.
    let follows: i64 = sqlx::query_scalar("select count(*) from follows")
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(follows, 0);
    assert!(alpha.post(&bob_post_uri).await.deleted_at.is_some());
    assert_eq!(alpha.post(&ann_post_uri).await.likes_count, 0);
    let resolved: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select resolved_at from reports where id = $1")
            .bind(report_id.parse::<i64>().unwrap())
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    assert!(resolved.is_some());
    let (_, shown) = alpha
        .api_get(&moderator, &format!("/api/v1/admin/accounts/{bob_id}"))
        .await;
    assert_eq!(shown["suspended"], true);
    assert_eq!(shown["domain"], beta.domain.as_str());
    let (_, listed) = alpha
        .api_get(&moderator, "/api/v1/admin/accounts?suspended=true")
        .await;
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![bob_id.as_str()]);

    // Beta is told: ann's follow is undone, bob's follow of ann rejected.
    alpha.deliver().await;
    let follows_on_beta: i64 = sqlx::query_scalar("select count(*) from follows")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(follows_on_beta, 0);

    // What bob sends next is refused and stored nowhere here.
    let (_, again) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": format!("@{} hello again", alpha.handle("ann"))}),
        )
        .await;
    beta.deliver().await;
    let stored = skein::db::posts::find_by_ap_id(&alpha.db, again["uri"].as_str().unwrap())
        .await
        .unwrap();
    assert!(stored.is_none());
    let state: String = sqlx::query_scalar(
        "select d.state from deliveries d join outbound_activities o on o.id = d.outbound_id
         where o.payload::jsonb->>'type' = 'Create'
         order by d.id desc limit 1",
    )
    .fetch_one(&beta.db)
    .await
    .unwrap();
    assert_eq!(state, "failed", "alpha answered 403");

    // Lifted: bob's account can be followed again; the purge stays.
    let (status, lifted) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{bob_id}/unsuspend"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{lifted}");
    assert_eq!(lifted["suspended"], false);
    assert!(alpha.post(&bob_post_uri).await.deleted_at.is_some());
    let bob_handle = format!("bob@{}", beta.domain);
    assert_eq!(
        audit_actions(&alpha).await,
        vec![
            ("account.suspend".to_string(), bob_handle.clone()),
            ("account.unsuspend".to_string(), bob_handle),
        ]
    );
}

#[tokio::test]
async fn a_suspended_local_account_is_signed_out_hidden_and_marked_for_other_servers() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("carl").await;
    alpha.create_staff("root", "admin").await;
    alpha.create_staff("mod", "moderator").await;
    beta.create_user("bea").await;
    let carl = alpha.token("carl").await;
    let admin = alpha.token("root").await;
    let moderator = alpha.token("mod").await;
    let bea = beta.token("bea").await;

    // Bea (beta) follows carl; carl posts.
    follow_across(&beta, &alpha, &bea, &alpha.handle("carl")).await;
    let (_, post) = alpha
        .api_post(&carl, "/api/v1/statuses", json!({"status": "my words"}))
        .await;
    let post_id = post["id"].as_str().unwrap().to_string();
    alpha.deliver().await;
    let carl_id = alpha.local("carl").await.id.to_string();

    // A moderator cannot suspend an admin, nor themselves.
    let root_id = alpha.local("root").await.id.to_string();
    let (status, _) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{root_id}/action"),
            json!({"type": "suspend"}),
        )
        .await;
    assert_eq!(status, 403);

    let (status, _) = alpha
        .api_post(
            &admin,
            &format!("/api/v1/admin/accounts/{carl_id}/action"),
            json!({"type": "suspend"}),
        )
        .await;
    assert_eq!(status, 200);

    // Signed out: the token is refused; the post is hidden from everyone.
    let (status, _) = alpha
        .api_get(&carl, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 401);
    let (status, _) = alpha
        .api_get(&admin, &format!("/api/v1/statuses/{post_id}"))
        .await;
    assert_eq!(status, 404);
    let public: Value = alpha
        .get("/api/v1/timelines/public")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(public, json!([]));
    // Its actor document says so, with the profile emptied.
    let actor: Value = alpha.get_ap("/users/carl").await.json().await.unwrap();
    assert_eq!(actor["suspended"], true);
    assert_eq!(actor["name"], "");
    assert!(actor["publicKey"]["publicKeyPem"].is_string());
    // Bea's server got Update(Person) with the mark.
    alpha.deliver().await;
    let updates: Vec<Value> = sqlx::query_scalar(
        "select o.payload::jsonb from deliveries d join outbound_activities o on o.id = d.outbound_id
         where o.payload::jsonb->>'type' = 'Update' and d.state = 'delivered'",
    )
    .fetch_all(&alpha.db)
    .await
    .unwrap();
    assert!(
        updates.iter().any(|u| u["object"]["suspended"] == true),
        "{updates:?}"
    );

    // Lifted: the token works again and the post is back.
    let (status, _) = alpha
        .api_post(
            &admin,
            &format!("/api/v1/admin/accounts/{carl_id}/unsuspend"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = alpha
        .api_get(&carl, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 200);
    let (status, _) = alpha
        .api_get(&admin, &format!("/api/v1/statuses/{post_id}"))
        .await;
    assert_eq!(status, 200);
    // Freezing sign-in (Mastodon's disable) refuses the token and keeps
    // the posts; lifted, the token works again.
    let (status, _) = alpha
        .api_post(
            &admin,
            &format!("/api/v1/admin/accounts/{carl_id}/action"),
            json!({"type": "disable"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = alpha
        .api_get(&carl, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 401);
    let (status, _) = alpha
        .api_get(&admin, &format!("/api/v1/statuses/{post_id}"))
        .await;
    assert_eq!(status, 200);
    let (_, shown) = alpha
        .api_get(&admin, &format!("/api/v1/admin/accounts/{carl_id}"))
        .await;
    assert_eq!(shown["disabled"], true);
    let (status, _) = alpha
        .api_post(
            &admin,
            &format!("/api/v1/admin/accounts/{carl_id}/enable"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = alpha
        .api_get(&carl, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn silence_keeps_an_account_out_of_public_timelines_but_not_from_followers() {
    let alpha = TestApp::spawn().await;
    for name in ["loud", "fan", "stranger"] {
        alpha.create_user(name).await;
    }
    alpha.create_staff("mod", "moderator").await;
    let loud = alpha.token("loud").await;
    let fan = alpha.token("fan").await;
    let stranger = alpha.token("stranger").await;
    let moderator = alpha.token("mod").await;
    let loud_id = alpha.local("loud").await.id.to_string();
    alpha
        .api_post(
            &fan,
            &format!("/api/v1/accounts/{loud_id}/follow"),
            json!({}),
        )
        .await;
    let (_, post) = alpha
        .api_post(
            &loud,
            "/api/v1/statuses",
            json!({"status": "#news shouting"}),
        )
        .await;
    let post_id = post["id"].as_str().unwrap().to_string();

    let (status, _) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{loud_id}/action"),
            json!({"type": "silence"}),
        )
        .await;
    assert_eq!(status, 200);
    let ids = |v: Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, for_stranger) = alpha.api_get(&stranger, "/api/v1/timelines/public").await;
    assert_eq!(ids(for_stranger), Vec::<String>::new());
    let (_, tag_for_stranger) = alpha.api_get(&stranger, "/api/v1/timelines/tag/news").await;
    assert_eq!(ids(tag_for_stranger), Vec::<String>::new());
    let (_, for_fan) = alpha.api_get(&fan, "/api/v1/timelines/public").await;
    assert_eq!(ids(for_fan), vec![post_id.clone()]);
    // The post itself stays readable.
    let (status, _) = alpha
        .api_get(&stranger, &format!("/api/v1/statuses/{post_id}"))
        .await;
    assert_eq!(status, 200);
    let (_, shown) = alpha
        .api_get(&moderator, &format!("/api/v1/admin/accounts/{loud_id}"))
        .await;
    assert_eq!(shown["silenced"], true);

    alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{loud_id}/unsilence"),
            json!({}),
        )
        .await;
    let (_, for_stranger) = alpha.api_get(&stranger, "/api/v1/timelines/public").await;
    assert_eq!(ids(for_stranger), vec![post_id]);
}

#[tokio::test]
async fn moderators_delete_posts_and_handle_sign_ups() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("eve").await;
    alpha.create_staff("mod", "moderator").await;
    beta.create_user("bea").await;
    let eve = alpha.token("eve").await;
    let moderator = alpha.token("mod").await;
    let bea = beta.token("bea").await;

    // Bea follows eve; eve posts something that has to go.
    let eve_there = find_remote(&beta, &bea, &alpha.handle("eve")).await;
    beta.api_post(
        &bea,
        &format!(
            "/api/v1/accounts/{}/follow",
            eve_there["id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    beta.deliver().await;
    alpha.deliver().await;
    let (_, bad) = alpha
        .api_post(
            &eve,
            "/api/v1/statuses",
            json!({"status": "something illegal"}),
        )
        .await;
    let bad_id = bad["id"].as_str().unwrap().to_string();
    let bad_uri = bad["uri"].as_str().unwrap().to_string();
    alpha.deliver().await;
    assert!(beta.post(&bad_uri).await.deleted_at.is_none());

    let (status, _) = alpha
        .api_delete(&eve, &format!("/api/v1/admin/statuses/{bad_id}"))
        .await;
    assert_eq!(status, 403, "not staff");
    let (status, deleted) = alpha
        .api_delete(&moderator, &format!("/api/v1/admin/statuses/{bad_id}"))
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(deleted["id"], bad_id.as_str());
    assert!(alpha.post(&bad_uri).await.deleted_at.is_some());
    alpha.deliver().await;
    assert!(
        beta.post(&bad_uri).await.deleted_at.is_some(),
        "the Delete reached the follower's server"
    );

    // Sign-ups waiting for approval.
    let waiting = alpha.create_user("newbie").await;
    let doubtful = alpha.create_user("doubtful").await;
    sqlx::query("update users set approved = false where id = any($1)")
        .bind(vec![waiting.user.id, doubtful.user.id])
        .execute(&alpha.db)
        .await
        .unwrap();
    let (_, pending) = alpha
        .api_get(
            &moderator,
            "/api/v2/admin/accounts?status=pending&origin=local",
        )
        .await;
    let mut names: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["doubtful", "newbie"]);
    let (status, approved) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{}/approve", waiting.actor.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["approved"], true);
    let (status, _) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{}/reject", doubtful.actor.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let left: i64 = sqlx::query_scalar("select count(*) from actors where username = 'doubtful'")
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(left, 0, "a rejected sign-up is removed");
    let actions: Vec<String> = audit_actions(&alpha)
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(
        actions,
        vec!["status.destroy", "account.approve", "account.reject"]
    );
}

#[tokio::test]
async fn an_admin_deletes_a_suspended_local_accounts_data_and_other_servers_are_told() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("carl").await;
    alpha.create_staff("root", "admin").await;
    alpha.create_staff("mod", "moderator").await;
    beta.create_user("bea").await;
    let carl = alpha.token("carl").await;
    let admin = alpha.token("root").await;
    let moderator = alpha.token("mod").await;
    let bea = beta.token("bea").await;
    follow_across(&beta, &alpha, &bea, &alpha.handle("carl")).await;
    alpha
        .api_post(&carl, "/api/v1/statuses", json!({"status": "spam spam"}))
        .await;
    alpha.deliver().await;
    let carl_actor = alpha.local("carl").await;
    let path = format!("/api/v1/admin/accounts/{}", carl_actor.id);
    let posts_of = "select count(*) from posts where author_id = $1";
    let posts = |app: &TestApp, id: i64| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>(posts_of)
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };

    // Not suspended: refused, nothing changes.
    let (status, _) = alpha.api_delete(&admin, &path).await;
    assert_eq!(status, 403);
    assert_eq!(posts(&alpha, carl_actor.id).await, 1);
    alpha
        .api_post(
            &admin,
            &format!("{path}/action"),
            json!({"type": "suspend"}),
        )
        .await;
    // A moderator may not; an admin may.
    let (status, _) = alpha.api_delete(&moderator, &path).await;
    assert_eq!(status, 403);
    let (status, body) = alpha.api_delete(&admin, &path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], "carl");
    assert_eq!(posts(&alpha, carl_actor.id).await, 0);
    let gone: bool = sqlx::query_scalar("select gone_at is not null from actors where ap_id = $1")
        .bind(&carl_actor.ap_id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert!(gone, "a tombstone keeps the name");
    assert!(
        audit_actions(&alpha)
            .await
            .contains(&("account.destroy".to_string(), alpha.handle("carl")))
    );
    // Beta is told with Delete(Person) and forgets carl.
    alpha.deliver().await;
    let there: i64 = sqlx::query_scalar("select count(*) from actors where ap_id = $1")
        .bind(&carl_actor.ap_id)
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(there, 0);
}

#[tokio::test]
async fn accounts_made_and_passwords_set_from_the_command_line_are_in_the_audit_log() {
    let app = TestApp::spawn().await;
    use skein::clock::Clock;
    let cli = skein::service::audit::Staff::cli();
    let now = app.clock.now();
    let created = skein::service::accounts::create_by(
        &app.db,
        &app.state.urls,
        skein::service::accounts::NewAccount {
            username: "boss",
            email: None,
            password: crate::web::PASSWORD,
            role: skein::service::accounts::Role::Admin,
            approved: true,
            fediverse_sharing: true,
        },
        now,
        &cli,
    )
    .await
    .unwrap();
    assert_eq!(created.user.role, "admin");
    let sessions = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("select count(*) from sessions")
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let mut boss = crate::web::Browser::new(&app);
    assert_eq!(boss.sign_in("boss").await.status, 303);
    assert_eq!(sessions(&app).await, 1);
    skein::service::accounts::set_password(&app.db, now, &cli, "boss", "another long password")
        .await
        .unwrap();
    assert_eq!(sessions(&app).await, 0, "the old password's sessions end");
    let actions: Vec<(String, String)> =
        sqlx::query_as("select action, target from admin_actions order by id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            ("user.create".to_string(), "boss".to_string()),
            ("user.set_password".to_string(), "boss".to_string())
        ]
    );
}
