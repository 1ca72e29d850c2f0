//! Announcements: written, edited, published, unpublished and deleted by
//! admins in the web admin area (each change audit-logged), published and
//! ended on their times by the timed work, read, dismissed and reacted to
//! through `/api/v1/announcements`.

use chrono::Duration;
use serde_json::{Value, json};
use skein::jobs::WorkerLock;
use skein::jobs::timed;

use crate::harness::TestApp;
use crate::web::{Browser, csrf};

async fn run_timed_work(app: &TestApp) {
    let lock = WorkerLock::acquire(&app.db).await.unwrap();
    timed::run_due(&app.state, lock.id).await.unwrap();
}

async fn announcement_ids(app: &TestApp) -> Vec<(i64, bool)> {
    sqlx::query_as("select id, published from announcements order by id")
        .fetch_all(&app.db)
        .await
        .unwrap()
}

fn local(app: &TestApp, ahead: Duration) -> String {
    (skein::clock::Clock::now(&*app.clock) + ahead)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test]
async fn admins_write_announcements_that_accounts_read_dismiss_and_react_to() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;

    // Moderators do not write announcements.
    let mut moderator = Browser::new(&app);
    moderator.sign_in("mod").await;
    assert_eq!(moderator.get("/admin/announcements").await.status, 403);

    let mut admin = Browser::new(&app);
    admin.sign_in("root").await;
    let page = admin.get("/admin/announcements").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No announcements yet."));
    let token = csrf(&page.body);

    // An empty one is refused; an end without a start too.
    let refused = admin
        .post(
            "/admin/announcements",
            &[("csrf_token", &token), ("text", " ")],
        )
        .await;
    assert_eq!(refused.status, 422);
    let ends = local(&app, Duration::days(2));
    let refused = admin
        .post(
            "/admin/announcements",
            &[
                ("csrf_token", &token),
                ("text", "Maintenance"),
                ("ends_at", &ends),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Maintenance"), "what was typed stays");
    assert!(announcement_ids(&app).await.is_empty());

    // Published at once.
    let written = admin
        .post(
            "/admin/announcements",
            &[
                ("csrf_token", &token),
                (
                    "text",
                    "Welcome @alice! See https://example.com/notes #news",
                ),
            ],
        )
        .await;
    assert_eq!(written.status, 303, "{}", written.body);
    // One for later, and one that lasts a day.
    let later = local(&app, Duration::hours(2));
    admin
        .post(
            "/admin/announcements",
            &[
                ("csrf_token", &token),
                ("text", "Upgrade tonight"),
                ("scheduled_at", &later),
            ],
        )
        .await;
    let starts = local(&app, -Duration::hours(1));
    let ends = local(&app, Duration::hours(23));
    admin
        .post(
            "/admin/announcements",
            &[
                ("csrf_token", &token),
                ("text", "Meetup today"),
                ("starts_at", &starts),
                ("ends_at", &ends),
                ("all_day", "1"),
            ],
        )
        .await;
    let stored = announcement_ids(&app).await;
    assert_eq!(
        stored.iter().map(|(_, p)| *p).collect::<Vec<_>>(),
        vec![true, false, true]
    );
    let (welcome, upgrade, meetup) = (stored[0].0, stored[1].0, stored[2].0);

    let (status, list) = app.api_get(&alice, "/api/v1/announcements").await;
    assert_eq!(status, 200);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 2, "{list:?}");
    // Chronological: the meetup (by its start) before the welcome.
    assert_eq!(list[0]["id"], meetup.to_string());
    assert_eq!(list[0]["all_day"], true);
    assert!(list[0]["starts_at"].is_string() && list[0]["ends_at"].is_string());
    let first: &Value = &list[1];
    assert_eq!(first["id"], welcome.to_string());
    let content = first["content"].as_str().unwrap();
    assert!(
        content.contains("href=\"https://example.com/notes\""),
        "{content}"
    );
    assert!(content.contains("class=\"u-url mention\""), "{content}");
    assert_eq!(first["mentions"][0]["username"], "alice");
    assert_eq!(first["tags"][0]["name"], "news");
    assert_eq!(first["read"], false);
    assert_eq!(first["reactions"], json!([]));
    assert!(first["published_at"].is_string());

    // Reactions: Unicode emoji, counted per name, "me" per reader.
    let path = format!("/api/v1/announcements/{welcome}/reactions/%F0%9F%91%8D");
    let (status, _, body) = app
        .api(reqwest::Method::PUT, &path, Some(&alice), None)
        .await;
    assert_eq!((status, body), (200, json!({})));
    app.api(reqwest::Method::PUT, &path, Some(&alice), None)
        .await;
    app.api(reqwest::Method::PUT, &path, Some(&bob), None).await;
    let (status, _, body) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/announcements/{welcome}/reactions/bongoCat"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "Validation failed: Name is not a recognized emoji"
    );
    let (_, list) = app.api_get(&bob, "/api/v1/announcements").await;
    assert_eq!(
        list[1]["reactions"],
        json!([{"name": "👍", "count": 2, "me": true}])
    );
    let (status, _) = app.api_delete(&bob, &path).await;
    assert_eq!(status, 200);
    let (status, _) = app.api_delete(&bob, &path).await;
    assert_eq!(status, 404);
    let (_, list) = app.api_get(&bob, "/api/v1/announcements").await;
    assert_eq!(
        list[1]["reactions"],
        json!([{"name": "👍", "count": 1, "me": false}])
    );
    // Not on an unpublished one.
    let (status, _, _) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/announcements/{upgrade}/reactions/%F0%9F%91%8D"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Dismissed: gone from the reader's list unless asked for.
    let (status, body) = app
        .api_post(
            &alice,
            &format!("/api/v1/announcements/{welcome}/dismiss"),
            json!({}),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let (_, list) = app.api_get(&alice, "/api/v1/announcements").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = app
        .api_get(&alice, "/api/v1/announcements?with_dismissed=true")
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert_eq!(list[1]["read"], true);
    let (_, list) = app.api_get(&bob, "/api/v1/announcements").await;
    assert_eq!(list.as_array().unwrap().len(), 2, "others still see it");

    // On its time the scheduled one is published; past its end the meetup
    // is unpublished.
    app.clock.advance(Duration::hours(3));
    run_timed_work(&app).await;
    let (_, list) = app.api_get(&bob, "/api/v1/announcements").await;
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&upgrade.to_string()), "{ids:?}");
    app.clock.advance(Duration::days(1));
    run_timed_work(&app).await;
    assert_eq!(
        announcement_ids(&app).await,
        vec![(welcome, true), (upgrade, true), (meetup, false)]
    );

    // Edited, unpublished, published again, deleted, from the admin area.
    let edited = admin
        .post(
            &format!("/admin/announcements/{welcome}/edit"),
            &[("csrf_token", &token), ("text", "Welcome, everyone")],
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let text: String = sqlx::query_scalar("select text from announcements where id = $1")
        .bind(welcome)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(text, "Welcome, everyone");
    admin
        .post(
            &format!("/admin/announcements/{welcome}/unpublish"),
            &[("csrf_token", &token)],
        )
        .await;
    let (_, list) = app.api_get(&bob, "/api/v1/announcements").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    admin
        .post(
            &format!("/admin/announcements/{welcome}/publish"),
            &[("csrf_token", &token)],
        )
        .await;
    admin
        .post(
            &format!("/admin/announcements/{upgrade}/delete"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(
        announcement_ids(&app).await,
        vec![(welcome, true), (meetup, false)]
    );
    let logged: Vec<String> = sqlx::query_scalar(
        "select action from admin_actions where target_type = 'announcement' order by id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        logged,
        vec![
            "announcement.create",
            "announcement.create",
            "announcement.create",
            "announcement.update",
            "announcement.unpublish",
            "announcement.publish",
            "announcement.destroy",
        ]
    );
}

#[tokio::test]
async fn announcements_and_their_reactions_are_streamed_to_every_local_account() {
    use futures::SinkExt;
    use tokio_tungstenite::tungstenite::Message as Frame;

    use crate::streaming::{connect_to, next, payload};

    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let mut stream = connect_to(app.addr, &bob, "stream=user").await;
    // Everything sent before the error was read: the stream is live.
    let command = json!({"type": "subscribe", "stream": "no-such-stream"}).to_string();
    stream.send(Frame::Text(command.into())).await.unwrap();
    assert_eq!(next(&mut stream).await["status"], 400);

    let mut admin = Browser::new(&app);
    admin.sign_in("root").await;
    let token = csrf(&admin.get("/admin/announcements").await.body);
    admin
        .post(
            "/admin/announcements",
            &[("csrf_token", &token), ("text", "Hello all")],
        )
        .await;
    let id = announcement_ids(&app).await[0].0;
    let published = next(&mut stream).await;
    assert_eq!(published["event"], "announcement");
    assert_eq!(published["stream"], json!(["user"]));
    assert_eq!(payload(&published)["id"], id.to_string());
    assert!(
        payload(&published)["content"]
            .as_str()
            .unwrap()
            .contains("Hello all")
    );

    app.api(
        reqwest::Method::PUT,
        &format!("/api/v1/announcements/{id}/reactions/%F0%9F%8E%89"),
        Some(&alice),
        None,
    )
    .await;
    let reacted = next(&mut stream).await;
    assert_eq!(reacted["event"], "announcement.reaction");
    assert_eq!(
        payload(&reacted),
        json!({"name": "🎉", "count": 1, "announcement_id": id.to_string()})
    );

    admin
        .post(
            &format!("/admin/announcements/{id}/delete"),
            &[("csrf_token", &token)],
        )
        .await;
    let deleted = next(&mut stream).await;
    assert_eq!(deleted["event"], "announcement.delete");
    assert_eq!(deleted["payload"], id.to_string());
}
