//! The instance's rules: written by admins in the web admin area (each
//! change in the audit log), served to apps (`/api/v1/instance/rules`,
//! both instance documents), shown on the about page, and agreed to at
//! sign-up when there are any.

use serde_json::json;
use skein::service::audit::Staff;
use skein::service::rules;

use crate::harness::{Options, TestApp};
use crate::web::{Browser, PASSWORD, csrf};

/// The rules in force, in their order: (id, text, hint).
async fn stored(app: &TestApp) -> Vec<(i64, String, String)> {
    sqlx::query_as(
        "select id, text, hint from instance_rules where deleted_at is null
         order by position, id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn rule_actions(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as(
        "select action, target, actor_name from admin_actions
         where target_type = 'rule' order by id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn admins_add_edit_reorder_and_remove_rules_from_the_web_and_each_change_is_logged() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;

    // Moderators do not set the rules.
    let mut moderator = Browser::new(&app);
    moderator.sign_in("mod").await;
    assert_eq!(moderator.get("/admin/rules").await.status, 403);
    let token = moderator.token().await;
    let refused = moderator
        .post(
            "/admin/rules",
            &[("csrf_token", &token), ("text", "Moderators' rule")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(stored(&app).await.is_empty());

    let mut admin = Browser::new(&app);
    admin.sign_in("root").await;
    let page = admin.get("/admin/rules").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("This server has no rules yet."));
    assert!(
        page.body
            .contains(r#"href="/admin/rules" aria-current="page""#)
    );
    let token = csrf(&page.body);
    for (text, hint) in [
        ("Be kind", "No harassment, no slurs."),
        ("No spam", ""),
        ("No advertising", "Unless asked for."),
    ] {
        let added = admin
            .post(
                "/admin/rules",
                &[("csrf_token", &token), ("text", text), ("hint", hint)],
            )
            .await;
        assert_eq!(added.status, 303, "{}", added.body);
    }
    // An empty rule is refused; what was typed stays in the form.
    let empty = admin
        .post(
            "/admin/rules",
            &[
                ("csrf_token", &token),
                ("text", "   "),
                ("hint", "a hint typed with care"),
            ],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("A rule needs a text"));
    assert!(empty.body.contains("a hint typed with care"));
    let rules = stored(&app).await;
    let texts: Vec<&str> = rules.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(texts, ["Be kind", "No spam", "No advertising"]);
    assert_eq!(rules[0].2, "No harassment, no slurs.");
    let (kind, spam, ads) = (rules[0].0, rules[1].0, rules[2].0);

    // Edited: text and hint.
    let edited = admin
        .post(
            &format!("/admin/rules/{kind}/edit"),
            &[
                ("csrf_token", &token),
                ("text", "Be kind to everyone"),
                ("hint", ""),
            ],
        )
        .await;
    assert_eq!(edited.status, 303);
    // Too long: refused, the typed text shown again in that rule's form.
    let long = "x".repeat(301);
    let refused = admin
        .post(
            &format!("/admin/rules/{spam}/edit"),
            &[("csrf_token", &token), ("text", &long), ("hint", "")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("at most 300 characters"));
    assert!(refused.body.contains(&long));

    // Reordered: the last one up; the first one cannot go higher.
    let moved = admin
        .post(&format!("/admin/rules/{ads}/up"), &[("csrf_token", &token)])
        .await;
    assert_eq!(moved.status, 303);
    let first = admin
        .post(
            &format!("/admin/rules/{kind}/up"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(first.status, 303);
    let rules = stored(&app).await;
    assert_eq!(
        rules,
        vec![
            (kind, "Be kind to everyone".to_string(), String::new()),
            (
                ads,
                "No advertising".to_string(),
                "Unless asked for.".to_string()
            ),
            (spam, "No spam".to_string(), String::new()),
        ]
    );

    // Removed: gone from the page and the list, kept for old reports.
    let removed = admin
        .post(
            &format!("/admin/rules/{spam}/remove"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(removed.status, 303);
    let ids: Vec<i64> = stored(&app).await.iter().map(|r| r.0).collect();
    assert_eq!(ids, [kind, ads]);
    let kept: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select deleted_at from instance_rules where id = $1")
            .bind(spam)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(kept.is_some());
    let page = admin.get("/admin/rules").await;
    assert!(page.body.contains("Be kind to everyone"));
    assert!(!page.body.contains("No spam"));

    // Refused changes are not in the log; the others are, by the admin.
    let actions = rule_actions(&app).await;
    let names: Vec<&str> = actions.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "rule.create",
            "rule.create",
            "rule.create",
            "rule.update",
            "rule.move",
            "rule.destroy"
        ]
    );
    assert!(actions.iter().all(|a| a.2 == "root"));
    assert_eq!(actions[4].1, ads.to_string());
    assert!(
        admin
            .get("/admin/audit_log")
            .await
            .body
            .contains("rule.move")
    );
}

#[tokio::test]
async fn apps_and_the_about_page_get_the_rules_contact_and_registration_mode() {
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_REGISTRATIONS", "approval")
            .env("SKEIN_INSTANCE__NAME", "Knitters")
            .env(
                "SKEIN_INSTANCE__DESCRIPTION",
                "A place for people who knit.",
            )
            .env("SKEIN_INSTANCE__CONTACT_EMAIL", "admin@knit.example"),
    )
    .await;

    // No rules yet: an empty list, and the about page says so.
    let (status, _, none) = app
        .api(reqwest::Method::GET, "/api/v1/instance/rules", None, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(none, json!([]));
    let about = app.get("/about").await;
    assert_eq!(about.status(), 200);
    assert!(
        about.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = about.text().await.unwrap();
    assert!(
        body.contains("This server has not set any rules."),
        "{body}"
    );
    assert!(
        body.contains(r#"href="mailto:admin@knit.example""#),
        "{body}"
    );

    let root = app.create_staff("root", "admin").await;
    let staff = Staff::cli();
    let kind = rules::add(&app.state, &staff, "Be kind", "No harassment.")
        .await
        .unwrap();
    let markup = rules::add(&app.state, &staff, "No <script> please", "")
        .await
        .unwrap();

    let expected = json!([
        {"id": kind.id.to_string(), "text": "Be kind", "hint": "No harassment."},
        {"id": markup.id.to_string(), "text": "No <script> please", "hint": ""},
    ]);
    let (_, _, listed) = app
        .api(reqwest::Method::GET, "/api/v1/instance/rules", None, None)
        .await;
    assert_eq!(listed, expected);
    let (_, _, v2) = app
        .api(reqwest::Method::GET, "/api/v2/instance", None, None)
        .await;
    assert_eq!(v2["rules"], expected);
    assert_eq!(v2["contact"]["email"], "admin@knit.example");
    assert_eq!(v2["contact"]["account"]["username"], "root");
    assert_eq!(v2["contact"]["account"]["id"], root.actor.id.to_string());
    assert_eq!(v2["registrations"]["approval_required"], true);
    let (_, _, v1) = app
        .api(reqwest::Method::GET, "/api/v1/instance", None, None)
        .await;
    assert_eq!(v1["rules"], expected);
    assert_eq!(v1["contact_account"]["username"], "root");

    let mut visitor = Browser::new(&app);
    let about = visitor.get("/about").await;
    assert_eq!(about.status, 200);
    let body = &about.body;
    assert!(body.contains("About Knitters"), "{body}");
    assert!(body.contains("A place for people who knit."));
    assert!(body.contains(r#"href="mailto:admin@knit.example""#));
    assert!(
        body.contains(r#"href="/@root""#),
        "the admin's profile: {body}"
    );
    assert!(body.contains("a moderator reviews each request"));
    assert!(body.contains(r#"href="/auth/sign_up""#));
    let be_kind = body.find("Be kind").expect("the first rule");
    let second = body.find("No &#60;script&#62; please").expect("escaped");
    assert!(be_kind < second, "in their order");
    assert!(body.contains("No harassment."));
    assert!(!body.contains("<script> please"));
    // Every page links to it.
    assert!(visitor.get("/").await.body.contains(r#"href="/about""#));
    assert!(
        visitor
            .get("/auth/sign_in")
            .await
            .body
            .contains(r#"href="/about""#)
    );
}

async fn account_exists(app: &TestApp, username: &str) -> bool {
    sqlx::query_scalar("select exists (select 1 from actors where username = $1)")
        .bind(username)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_up_asks_to_agree_to_the_rules_only_when_there_are_rules() {
    let app = TestApp::spawn_with(Options::named("alpha").env("SKEIN_REGISTRATIONS", "open")).await;

    // No rules: no checkbox, and none needed.
    let mut first = Browser::new(&app);
    let form = first.get("/auth/sign_up").await;
    assert!(!form.body.contains(r#"name="agreement""#), "{}", form.body);
    let token = csrf(&form.body);
    let done = first
        .post(
            "/auth/sign_up",
            &[
                ("csrf_token", &token),
                ("username", "alice"),
                ("email", "alice@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(account_exists(&app, "alice").await);

    // With rules: shown with a required checkbox, and held to it.
    rules::add(&app.state, &Staff::cli(), "Be kind", "No harassment.")
        .await
        .unwrap();
    let mut second = Browser::new(&app);
    let form = second.get("/auth/sign_up").await;
    assert!(form.body.contains("Be kind"));
    assert!(form.body.contains("No harassment."));
    assert!(
        form.body
            .contains(r#"<input type="checkbox" name="agreement" value="1" required>"#),
        "{}",
        form.body
    );
    let token = csrf(&form.body);
    let fields = [
        ("csrf_token", token.as_str()),
        ("username", "bob"),
        ("email", "bob@example.com"),
        ("password", PASSWORD),
    ];
    let refused = second.post("/auth/sign_up", &fields).await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("accept the server"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains(r#"value="bob""#),
        "the username is kept"
    );
    assert!(!account_exists(&app, "bob").await);

    let token = csrf(&refused.body);
    let mut agreed = fields.to_vec();
    agreed[0] = ("csrf_token", &token);
    agreed.push(("agreement", "1"));
    let done = second.post("/auth/sign_up", &agreed).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(account_exists(&app, "bob").await);
}
