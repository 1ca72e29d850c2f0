//! The instance's about pages and figures for apps: the extended
//! description, privacy policy and dated terms of service written in the
//! web admin area, the weekly activity, peers, languages and translation
//! languages.

use chrono::Duration;
use serde_json::{Value, json};

use crate::harness::{Options, TestApp};
use crate::web::{Browser, csrf};

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let (status, _, body) = app.api(reqwest::Method::GET, path, None, None).await;
    (status, body)
}

#[tokio::test]
async fn admins_write_the_about_texts_that_apps_and_visitors_read() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;

    // Nothing written yet.
    let (status, body) = get(&app, "/api/v1/instance/extended_description").await;
    assert_eq!(
        (status, body),
        (200, json!({"updated_at": null, "content": ""}))
    );
    let (status, _) = get(&app, "/api/v1/instance/terms_of_service").await;
    assert_eq!(status, 404);
    assert_eq!(app.get("/privacy-policy").await.status(), 404);

    let mut admin = Browser::new(&app);
    admin.sign_in("root").await;
    let page = admin.get("/admin/about").await;
    assert_eq!(page.status, 200);
    let token = csrf(&page.body);
    let saved = admin
        .post(
            "/admin/about/texts",
            &[
                ("csrf_token", &token),
                (
                    "extended_description",
                    "A small server.\n\nBe <b>nice</b>.<script>x()</script>",
                ),
                (
                    "privacy_policy",
                    "We keep little.\n\nSee https://example.com/privacy",
                ),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);

    let (status, body) = get(&app, "/api/v1/instance/extended_description").await;
    assert_eq!(status, 200);
    let content = body["content"].as_str().unwrap();
    assert!(content.contains("<b>nice</b>"), "{content}");
    assert!(!content.contains("script"), "sanitised: {content}");
    assert!(body["updated_at"].is_string());
    let (_, body) = get(&app, "/api/v1/instance/privacy_policy").await;
    assert_eq!(
        body["content"].as_str().unwrap().matches("<p>").count(),
        2,
        "{body}"
    );
    assert!(
        body["content"]
            .as_str()
            .unwrap()
            .contains("href=\"https://example.com/privacy\"")
    );
    let about = app.get("/about").await.text().await.unwrap();
    assert!(about.contains("<b>nice</b>"));
    assert!(about.contains("href=\"/privacy-policy\""));
    let policy = app.get("/privacy-policy").await;
    assert_eq!(policy.status(), 200);
    assert!(policy.text().await.unwrap().contains("We keep little."));

    // Terms in dated versions: the one in force, the one to come.
    let today = skein::clock::Clock::now(&*app.clock).date_naive();
    let earlier = (today - Duration::days(10)).to_string();
    let coming = (today + Duration::days(20)).to_string();
    for (text, date) in [("First terms.", &earlier), ("Second terms.", &coming)] {
        let added = admin
            .post(
                "/admin/about/terms",
                &[
                    ("csrf_token", &token),
                    ("text", text),
                    ("effective_date", date),
                ],
            )
            .await;
        assert_eq!(added.status, 303, "{}", added.body);
    }
    let twice = admin
        .post(
            "/admin/about/terms",
            &[
                ("csrf_token", &token),
                ("text", "Again."),
                ("effective_date", &coming),
            ],
        )
        .await;
    assert_eq!(twice.status, 422);
    let (status, body) = get(&app, "/api/v1/instance/terms_of_service").await;
    assert_eq!(status, 200);
    assert_eq!(body["effective_date"], earlier.as_str());
    assert_eq!(body["effective"], true);
    assert_eq!(body["succeeded_by"], coming.as_str());
    assert!(body["content"].as_str().unwrap().contains("First terms."));
    let (status, body) = get(&app, &format!("/api/v1/instance/terms_of_service/{coming}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["effective"], false);
    assert_eq!(body["succeeded_by"], Value::Null);
    let (status, _) = get(&app, "/api/v1/instance/terms_of_service/2001-01-01").await;
    assert_eq!(status, 404);
    assert_eq!(app.get("/terms-of-service").await.status(), 200);

    let logged: Vec<String> = sqlx::query_scalar(
        "select action from admin_actions
         where target_type in ('instance_text', 'terms_of_service') order by id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        logged,
        vec![
            "instance_text.update",
            "instance_text.update",
            "terms_of_service.create",
            "terms_of_service.create",
        ]
    );
}

#[tokio::test]
async fn activity_peers_and_languages_are_served_as_mastodon_serves_them() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let token = alpha.token("alice").await;
    for text in ["one", "two"] {
        let (status, _) = alpha
            .api_post(&token, "/api/v1/statuses", json!({"status": text}))
            .await;
        assert_eq!(status, 200);
    }
    // A remote account makes its server a peer.
    alpha.resolve(&beta.handle("bob")).await;

    let (status, weeks) = get(&alpha, "/api/v1/instance/activity").await;
    assert_eq!(status, 200);
    let weeks = weeks.as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    assert_eq!(weeks[0]["statuses"], "2");
    assert_eq!(weeks[0]["registrations"], "1");
    assert_eq!(weeks[0]["logins"], "1");
    assert_eq!(weeks[1]["statuses"], "0");
    let first: i64 = weeks[0]["week"].as_str().unwrap().parse().unwrap();
    let second: i64 = weeks[1]["week"].as_str().unwrap().parse().unwrap();
    assert_eq!(first - second, 7 * 24 * 3600);
    let now = skein::clock::Clock::now(&*alpha.clock).timestamp();
    assert!(first <= now && now - first < 7 * 24 * 3600);

    let (status, peers) = get(&alpha, "/api/v1/instance/peers").await;
    assert_eq!(status, 200);
    assert_eq!(peers, json!(["beta.test"]));

    let (status, languages) = get(&alpha, "/api/v1/instance/languages").await;
    assert_eq!(status, 200);
    assert!(
        languages
            .as_array()
            .unwrap()
            .contains(&json!({"code": "fr", "name": "French"}))
    );
    let (status, translations) = get(&alpha, "/api/v1/instance/translation_languages").await;
    assert_eq!((status, translations), (200, json!({})));
}
