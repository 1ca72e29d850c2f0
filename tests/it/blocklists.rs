//! Subscribed domain block lists: served on loopback in Mastodon's CSV,
//! GoToSocial's JSON and as a plain list; applied on demand and by the
//! daily timed work; a dry run that changes nothing; removed entries lift
//! only the list's own blocks; blocks made by hand are never touched; a
//! list that fails to download keeps the last good state.

use serde_json::{Value, json};
use skein::jobs::WorkerLock;
use skein::jobs::timed;

use crate::fake::FakeServer;
use crate::harness::TestApp;
use crate::web::Browser;

/// Every block: domain, severity, and the list that made it.
async fn blocks(app: &TestApp) -> Vec<(String, String, Option<i64>)> {
    sqlx::query_as("select domain, severity, subscription_id from domain_blocks order by domain")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

async fn subscribe(app: &TestApp, token: &str, body: Value) -> (i64, Value) {
    let (status, created) = app
        .api_post(token, "/api/v1/admin/domain_permission_subscriptions", body)
        .await;
    assert_eq!(status, 200, "{created}");
    (created["id"].as_str().unwrap().parse().unwrap(), created)
}

/// `POST …/domain_permission_subscriptions/{id}/{action}` (`test`,
/// `refresh`).
async fn act(app: &TestApp, token: &str, id: i64, action: &str) -> (u16, Value) {
    app.api_post(
        token,
        &format!("/api/v1/admin/domain_permission_subscriptions/{id}/{action}"),
        json!({}),
    )
    .await
}

async fn admin(app: &TestApp) -> String {
    app.create_staff("root", "admin").await;
    app.token("root").await
}

#[tokio::test]
async fn a_csv_list_blocks_its_domains_and_leaves_blocks_made_by_hand_alone() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let lists = FakeServer::spawn("lists").await;
    lists.serve_file(
        "/blocklist.csv",
        "text/csv",
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
         spam.example,suspend,false,false,Spam,false\n\
         loud.example,silence,true,false,,false\n\
         manual.example,suspend,false,false,,false\n",
    );
    // A block made by hand before the list came.
    let (status, manual) = app
        .api_post(
            &token,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "manual.example", "severity": "silence"}),
        )
        .await;
    assert_eq!(status, 200, "{manual}");
    let url = format!("{}/blocklist.csv", lists.base);
    let (id, created) = subscribe(&app, &token, json!({"uri": url, "title": "Shared"})).await;
    assert_eq!(created["permission_type"], "block");
    assert_eq!(created["uri"], url);
    assert!(created["fetched_at"].is_null(), "nothing fetched yet");

    // The dry run shows what would change and changes nothing.
    let (status, plan) = act(&app, &token, id, "test").await;
    assert_eq!(status, 200, "{plan}");
    let added: Vec<&str> = plan["add"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["domain"].as_str().unwrap())
        .collect();
    assert_eq!(added, ["spam.example", "loud.example"]);
    assert_eq!(
        plan["kept"],
        json!([{"domain": "manual.example", "reason": "blocked by hand"}])
    );
    assert_eq!(plan["content_type"], "text/csv");
    assert_eq!(blocks(&app).await.len(), 1, "a dry run blocks nothing");

    // Applied: the list's domains are blocked and marked as its own; the
    // block made by hand keeps its severity and stays unmarked.
    let (status, applied) = act(&app, &token, id, "refresh").await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(
        blocks(&app).await,
        vec![
            ("loud.example".into(), "silence".into(), Some(id)),
            ("manual.example".into(), "silence".into(), None),
            ("spam.example".into(), "suspend".into(), Some(id)),
        ]
    );
    let (_, public) = app.api_get(&token, "/api/v1/instance/domain_blocks").await;
    assert!(
        public
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["domain"] == "spam.example" && b["comment"] == "Spam"),
        "{public}"
    );
    let (_, shown) = app
        .api_get(
            &token,
            &format!("/api/v1/admin/domain_permission_subscriptions/{id}"),
        )
        .await;
    assert_eq!(shown["count"], 3);
    assert!(shown["error"].is_null());
    assert!(shown["successfully_fetched_at"].is_string());

    // The list changes: an entry leaves, another changes. Only the list's
    // own blocks follow; the manual block stays even once the list no
    // longer names it.
    lists.serve_file(
        "/blocklist.csv",
        "text/csv",
        "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
         spam.example,silence,false,false,Spam,false\n",
    );
    let (status, applied) = act(&app, &token, id, "refresh").await;
    assert_eq!(status, 200, "{applied}");
    assert_eq!(applied["lift"], json!(["loud.example"]));
    assert_eq!(
        blocks(&app).await,
        vec![
            ("manual.example".into(), "silence".into(), None),
            ("spam.example".into(), "silence".into(), Some(id)),
        ]
    );
    let logged: i64 = sqlx::query_scalar(
        "select count(*) from admin_actions where action like 'domain_block.%' and via = 'api'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(logged, 5, "every change of a block is in the audit log");

    // A list that fails to download keeps the last good state, and says why.
    lists.remove_file("/blocklist.csv");
    let (status, failed) = act(&app, &token, id, "refresh").await;
    assert_eq!(status, 422, "{failed}");
    assert_eq!(blocks(&app).await.len(), 2, "nothing lifted");
    let (_, shown) = app
        .api_get(
            &token,
            &format!("/api/v1/admin/domain_permission_subscriptions/{id}"),
        )
        .await;
    assert!(shown["error"].as_str().unwrap().contains("404"), "{shown}");
    // So does one that cannot be read.
    lists.serve_file("/blocklist.csv", "application/json", "{ not json");
    let (status, _) = act(&app, &token, id, "refresh").await;
    assert_eq!(status, 422);
    assert_eq!(blocks(&app).await.len(), 2);

    // Unsubscribing with its blocks lifts only the list's own.
    let (status, _) = app
        .api_post(
            &token,
            &format!("/api/v1/admin/domain_permission_subscriptions/{id}/remove"),
            json!({"remove_children": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        blocks(&app).await,
        vec![("manual.example".into(), "silence".into(), None)]
    );
}

#[tokio::test]
async fn json_and_plain_lists_are_read_and_refreshed_daily_by_the_timed_work() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let lists = FakeServer::spawn("lists").await;
    lists.serve_file(
        "/gts.json",
        "application/json",
        r#"[{"domain": "json.example", "public_comment": "from json", "obfuscate": true}]"#,
    );
    lists.serve_file(
        "/plain.txt",
        "",
        "# a plain list\nplain.example\n\nother.example # trailing comment\n",
    );
    let (json_list, _) = subscribe(
        &app,
        &token,
        json!({"uri": format!("{}/gts.json", lists.base)}),
    )
    .await;
    let (plain_list, _) = subscribe(
        &app,
        &token,
        json!({"uri": format!("{}/plain.txt", lists.base), "content_type": "text/plain"}),
    )
    .await;
    // The same URL twice, a draft, or an allow list are refused.
    let (status, _) = app
        .api_post(
            &token,
            "/api/v1/admin/domain_permission_subscriptions",
            json!({"uri": format!("{}/gts.json", lists.base)}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .api_post(
            &token,
            "/api/v1/admin/domain_permission_subscriptions",
            json!({"uri": format!("{}/allow.csv", lists.base), "permission_type": "allow"}),
        )
        .await;
    assert_eq!(status, 422);
    // Not an admin: refused.
    app.create_staff("mod", "moderator").await;
    let moderator = app.token("mod").await;
    let (status, _) = app
        .api_get(&moderator, "/api/v1/admin/domain_permission_subscriptions")
        .await;
    assert_eq!(status, 403);

    // The timed work fetches every list when it is due.
    let lock = WorkerLock::acquire(&app.db).await.unwrap();
    timed::run_due(&app.state, lock.id).await.unwrap();
    assert_eq!(
        blocks(&app).await,
        vec![
            ("json.example".into(), "suspend".into(), Some(json_list)),
            ("other.example".into(), "suspend".into(), Some(plain_list)),
            ("plain.example".into(), "suspend".into(), Some(plain_list)),
        ]
    );
    let obfuscated: bool =
        sqlx::query_scalar("select obfuscate from domain_blocks where domain = 'json.example'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(obfuscated);
    let scheduled: i64 =
        sqlx::query_scalar("select count(*) from admin_actions where via = 'schedule'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(scheduled, 3, "the refresh is in the audit log");

    // A domain both lists name is blocked by the first and kept by the
    // second; the next day's run follows the lists' changes.
    lists.serve_file("/plain.txt", "", "plain.example\njson.example\n");
    timed::run_due(&app.state, lock.id).await.unwrap();
    assert_eq!(blocks(&app).await.len(), 3, "not due before a day");
    app.clock.advance(chrono::Duration::hours(24));
    timed::run_due(&app.state, lock.id).await.unwrap();
    assert_eq!(
        blocks(&app).await,
        vec![
            ("json.example".into(), "suspend".into(), Some(json_list)),
            ("plain.example".into(), "suspend".into(), Some(plain_list)),
        ]
    );

    // Unsubscribing and keeping the blocks makes them blocks made by hand.
    let (status, _) = app
        .api_delete(
            &token,
            &format!("/api/v1/admin/domain_permission_subscriptions/{plain_list}"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        blocks(&app).await,
        vec![
            ("json.example".into(), "suspend".into(), Some(json_list)),
            ("plain.example".into(), "suspend".into(), None),
        ]
    );
    lock.release().await;
}

#[tokio::test]
async fn admins_subscribe_preview_refresh_and_unsubscribe_in_the_admin_area() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    let lists = FakeServer::spawn("lists").await;
    lists.serve_file("/list.txt", "text/plain", "web.example\nsecond.example\n");
    let mut admin = Browser::new(&app);
    admin.sign_in("root").await;
    let page = admin.get("/admin/domains").await;
    assert!(page.body.contains("No list is subscribed."));
    let token = crate::web::csrf(&page.body);
    let url = format!("{}/list.txt", lists.base);
    let done = admin
        .post(
            "/admin/blocklists",
            &[
                ("csrf_token", token.as_str()),
                ("url", url.as_str()),
                ("title", "Neighbours"),
                ("content_type", ""),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    let id: i64 = sqlx::query_scalar("select id from blocklist_subscriptions")
        .fetch_one(&app.db)
        .await
        .unwrap();

    let preview = admin
        .post(
            &format!("/admin/blocklists/{id}/preview"),
            &[("csrf_token", token.as_str())],
        )
        .await;
    assert_eq!(preview.status, 200);
    assert!(
        preview
            .body
            .contains("Blocked: web.example (suspend), second.example (suspend)."),
        "{}",
        preview.body
    );
    assert!(blocks(&app).await.is_empty(), "a preview blocks nothing");

    let refreshed = admin
        .post(
            &format!("/admin/blocklists/{id}/refresh"),
            &[("csrf_token", token.as_str())],
        )
        .await;
    assert_eq!(refreshed.status, 303);
    let page = admin.get(refreshed.location.as_deref().unwrap()).await;
    assert!(
        page.body
            .contains("Neighbours: 2 blocked, 0 changed, 0 lifted, 0 left as they were."),
        "{}",
        page.body
    );
    assert_eq!(blocks(&app).await.len(), 2);

    // A list that fails shows why, and its blocks stay.
    lists.remove_file("/list.txt");
    let failed = admin
        .post(
            &format!("/admin/blocklists/{id}/refresh"),
            &[("csrf_token", token.as_str())],
        )
        .await;
    assert_eq!(failed.status, 422);
    assert!(failed.body.contains("Its blocks stay as they were."));
    assert_eq!(blocks(&app).await.len(), 2);

    let removed = admin
        .post(
            &format!("/admin/blocklists/{id}/remove"),
            &[("csrf_token", token.as_str()), ("lift", "1")],
        )
        .await;
    assert_eq!(removed.status, 303);
    assert!(blocks(&app).await.is_empty());
    let left: i64 = sqlx::query_scalar("select count(*) from blocklist_subscriptions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_web_page_or_an_empty_list_lifts_nothing_and_a_block_edited_by_hand_leaves_the_list() {
    let app = TestApp::spawn().await;
    let token = admin(&app).await;
    let lists = FakeServer::spawn("lists").await;
    lists.serve_file("/list.txt", "text/plain", "one.example\ntwo.example\n");
    let (id, _) = subscribe(
        &app,
        &token,
        json!({"uri": format!("{}/list.txt", lists.base)}),
    )
    .await;
    let (status, _) = act(&app, &token, id, "refresh").await;
    assert_eq!(status, 200);
    assert_eq!(blocks(&app).await.len(), 2);

    // An error page answered with 200, then an empty file: both failures
    // that keep the list's blocks.
    lists.serve_file(
        "/list.txt",
        "text/html; charset=utf-8",
        "<html><body>Checking your browser</body></html>",
    );
    let (status, failed) = act(&app, &token, id, "refresh").await;
    assert_eq!(status, 422, "{failed}");
    lists.serve_file("/list.txt", "text/plain", "\n");
    let (status, failed) = act(&app, &token, id, "refresh").await;
    assert_eq!(status, 422, "{failed}");
    assert_eq!(blocks(&app).await.len(), 2, "nothing lifted");

    // An admin makes one of the list's blocks stricter by hand: it is the
    // admin's from then on, and the list's refresh leaves it.
    let block_id: i64 =
        sqlx::query_scalar("select id from domain_blocks where domain = 'one.example'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    let (status, _, edited) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/domain_blocks/{block_id}"),
            Some(&token),
            Some(json!({"severity": "suspend", "reject_media": true})),
        )
        .await;
    assert_eq!(status, 200, "{edited}");
    lists.serve_file("/list.txt", "text/plain", "two.example\n");
    let (status, _) = act(&app, &token, id, "refresh").await;
    assert_eq!(status, 200);
    assert_eq!(
        blocks(&app).await,
        vec![
            ("one.example".into(), "suspend".into(), None),
            ("two.example".into(), "suspend".into(), Some(id)),
        ]
    );
}
