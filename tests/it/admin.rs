//! The admin area and the audit log: who may enter, and what it shows.
//! Each moderation feature's own tests (domain policy, reports, accounts)
//! check that its actions land in the log.

use crate::harness::TestApp;
use crate::web::Browser;
use skein::service::audit::{self, Staff};

#[tokio::test]
async fn only_moderators_and_admins_enter_the_admin_area() {
    let app = TestApp::spawn().await;
    app.create_user("plain").await;
    app.create_staff("mod", "moderator").await;
    app.create_staff("root", "admin").await;

    let mut anonymous = Browser::new(&app);
    let page = anonymous.get("/admin").await;
    assert_eq!(page.status, 303);
    assert!(page.location.unwrap().starts_with("/auth/sign_in"));

    let mut plain = Browser::new(&app);
    assert_eq!(plain.sign_in("plain").await.status, 303);
    let page = plain.get("/admin/audit_log").await;
    assert_eq!(page.status, 403);
    assert!(!plain.get("/home").await.body.contains(r#"href="/admin""#));

    for name in ["mod", "root"] {
        let mut staff = Browser::new(&app);
        assert_eq!(staff.sign_in(name).await.status, 303);
        let page = staff.get("/admin").await;
        assert_eq!(page.status, 200, "{name}");
        assert!(page.body.contains("Audit log"));
        assert!(staff.get("/home").await.body.contains(r#"href="/admin""#));
    }
}

#[tokio::test]
async fn the_audit_log_lists_actions_newest_first_with_who_and_how() {
    let app = TestApp::spawn().await;
    let root = app.create_staff("root", "admin").await;
    let staff = Staff::of(
        &root.user,
        &root.actor,
        audit::Role::Moderator,
        audit::Via::Web,
    )
    .unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let now = skein::clock::Clock::now(&*app.clock);
    audit::record(
        &mut tx,
        now,
        &staff,
        "domain_block.create",
        "domain",
        "spam.example",
        serde_json::json!({"severity": "suspend"}),
    )
    .await
    .unwrap();
    audit::record(
        &mut tx,
        now,
        &Staff::cli(),
        "account.suspend",
        "account",
        "troll@spam.example",
        serde_json::json!({}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut browser = Browser::new(&app);
    browser.sign_in("root").await;
    let page = browser.get("/admin/audit_log").await;
    assert_eq!(page.status, 200);
    let newest = page.body.find("account.suspend").expect("the CLI's action");
    let older = page
        .body
        .find("domain_block.create")
        .expect("the web's action");
    assert!(newest < older, "newest first");
    assert!(page.body.contains("command line"));
    assert!(page.body.contains("root"));
    assert!(page.body.contains("spam.example"));
    assert!(page.body.contains("severity"));

    let rows: i64 = sqlx::query_scalar("select count(*) from admin_actions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn a_disabled_or_plain_account_is_not_staff() {
    let app = TestApp::spawn().await;
    let plain = app.create_user("plain").await;
    assert!(
        Staff::of(
            &plain.user,
            &plain.actor,
            audit::Role::Moderator,
            audit::Via::Api
        )
        .is_err()
    );
    let moderator = app.create_staff("mod", "moderator").await;
    let mut user = moderator.user.clone();
    let staff = Staff::of(
        &user,
        &moderator.actor,
        audit::Role::Moderator,
        audit::Via::Api,
    )
    .unwrap();
    assert!(!staff.is_admin());
    assert!(staff.require_admin().is_err());
    assert!(Staff::of(&user, &moderator.actor, audit::Role::Admin, audit::Via::Api).is_err());
    user.disabled = true;
    assert!(
        Staff::of(
            &user,
            &moderator.actor,
            audit::Role::Moderator,
            audit::Via::Api
        )
        .is_err()
    );
}

#[tokio::test]
async fn admins_block_import_export_and_lift_domains_from_the_admin_area() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;

    let mut moderator = Browser::new(&app);
    moderator.sign_in("mod").await;
    assert_eq!(moderator.get("/admin/domains").await.status, 403);

    let mut admin = Browser::new(&app);
    admin.sign_in("root").await;
    let page = admin.get("/admin/domains").await;
    assert_eq!(page.status, 200);
    let token = crate::web::csrf(&page.body);
    let done = admin
        .post(
            "/admin/domains",
            &[
                ("csrf_token", &token),
                ("domain", "Spam.Example"),
                ("severity", "suspend"),
                ("reject_media", "1"),
                ("private_comment", "seen in reports"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    let page = admin.get(done.location.as_deref().unwrap()).await;
    assert!(page.body.contains("spam.example is blocked."));
    assert!(page.body.contains("seen in reports"));
    let refused = admin
        .post(
            "/admin/domains",
            &[
                ("csrf_token", &token),
                ("domain", "spam.example"),
                ("severity", "silence"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("already blocked"));

    let csv = admin.get("/admin/domains/export.csv").await;
    assert_eq!(csv.status, 200);
    assert!(csv.body.starts_with("#domain,#severity,#reject_media"));
    assert!(csv.body.contains("spam.example,suspend,true,false,,false"));

    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                b"#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
                  loud.example,silence,false,false,Too loud,false\n\
                  spam.example,silence,false,false,,false\n"
                    .to_vec(),
            )
            .file_name("blocks.csv")
            .mime_str("text/csv")
            .unwrap(),
        );
    let imported = admin.post_multipart("/admin/domains/import", form).await;
    assert_eq!(imported.status, 303);
    let page = admin.get(imported.location.as_deref().unwrap()).await;
    assert!(
        page.body.contains("1 blocked, 1 already blocked."),
        "{}",
        page.body
    );
    let severities: Vec<(String, String)> =
        sqlx::query_as("select domain, severity from domain_blocks order by domain")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        severities,
        [
            ("loud.example".to_string(), "silence".to_string()),
            ("spam.example".to_string(), "suspend".to_string())
        ],
        "an import keeps existing blocks as they are"
    );

    let id: i64 = sqlx::query_scalar("select id from domain_blocks where domain = 'loud.example'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let lifted = admin
        .post(
            &format!("/admin/domains/{id}/remove"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(lifted.status, 303);
    let actions: Vec<String> = sqlx::query_scalar(
        "select action || ' ' || target || ' ' || via from admin_actions order by id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "domain_block.create spam.example web",
            "domain_block.create loud.example web",
            "domain_block.destroy loud.example web"
        ]
    );
}

#[tokio::test]
async fn moderators_act_on_accounts_and_reported_posts_from_the_admin_area() {
    let app = TestApp::spawn().await;
    app.create_staff("mod", "moderator").await;
    let spammer = app.create_user("spammer").await;
    app.create_user("reporter").await;
    let waiting = app.create_user("waiting").await;
    sqlx::query("update users set approved = false where id = $1")
        .bind(waiting.user.id)
        .execute(&app.db)
        .await
        .unwrap();
    let spammer_token = app.token("spammer").await;
    let reporter_token = app.token("reporter").await;
    let (_, post) = app
        .api_post(
            &spammer_token,
            "/api/v1/statuses",
            serde_json::json!({"status": "cheap pills"}),
        )
        .await;
    let post_id = post["id"].as_str().unwrap().to_string();
    let (_, report) = app
        .api_post(
            &reporter_token,
            "/api/v1/reports",
            serde_json::json!({"account_id": spammer.actor.id.to_string(), "status_ids": [post_id]}),
        )
        .await;
    let report_id = report["id"].as_str().unwrap().to_string();

    let mut moderator = Browser::new(&app);
    moderator.sign_in("mod").await;
    let page = moderator.get("/admin/accounts?filter=pending").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("@waiting@"), "{}", page.body);
    assert!(!page.body.contains("@spammer@"));
    let token = crate::web::csrf(&page.body);
    let approved = moderator
        .post(
            &format!("/admin/accounts/{}/approve", waiting.actor.id),
            &[
                ("csrf_token", &token),
                ("back", "/admin/accounts?filter=pending"),
            ],
        )
        .await;
    assert_eq!(approved.status, 303);
    assert_eq!(
        approved.location.as_deref(),
        Some("/admin/accounts?filter=pending")
    );
    let approved: bool = sqlx::query_scalar("select approved from users where id = $1")
        .bind(waiting.user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(approved);

    // From the report: the post goes, then the account is suspended; both
    // resolve the report.
    let reports = moderator.get("/admin/reports").await;
    assert!(
        reports
            .body
            .contains(&format!("/admin/posts/{post_id}/delete"))
    );
    let deleted = moderator
        .post(
            &format!("/admin/posts/{post_id}/delete"),
            &[
                ("csrf_token", &token),
                ("report_id", &report_id),
                ("back", "/admin/reports"),
            ],
        )
        .await;
    assert_eq!(deleted.status, 303);
    let gone: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select deleted_at from posts where id = $1")
            .bind(post_id.parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(gone.is_some());
    let suspended = moderator
        .post(
            &format!("/admin/accounts/{}/suspend", spammer.actor.id),
            &[("csrf_token", &token), ("report_id", &report_id)],
        )
        .await;
    assert_eq!(suspended.status, 303);
    let page = moderator.get("/admin/accounts?filter=suspended").await;
    assert!(page.body.contains("@spammer@"), "{}", page.body);
    assert!(page.body.contains("Unsuspend"));
    let resolved: bool =
        sqlx::query_scalar("select resolved_at is not null from reports where id = $1")
            .bind(report_id.parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(resolved);
    // Signed out of the web too.
    let mut spam_browser = Browser::new(&app);
    let refused = spam_browser.sign_in("spammer").await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("suspended"), "{}", refused.body);

    let actions: Vec<String> =
        sqlx::query_scalar("select action || ' ' || via from admin_actions order by id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            "account.approve web",
            "status.destroy web",
            "account.suspend web"
        ]
    );
}
