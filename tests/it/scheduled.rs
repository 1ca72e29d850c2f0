//! Scheduled posts (`POST /api/v1/statuses` with `scheduled_at`,
//! `/api/v1/scheduled_statuses`): kept until due, published by the timed
//! work on the instance's clock with their media, and federated as any post.

use chrono::{Duration, SecondsFormat, Utc};
use serde_json::{Value, json};
use skein::jobs::WorkerLock;
use skein::jobs::timed;
use skein::service::follows;

use crate::harness::{Options, TestApp};

fn at(app: &TestApp, ahead: Duration) -> String {
    (skein::clock::Clock::now(&*app.clock) + ahead).to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn upload(app: &TestApp, token: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(crate::media::png(40, 30))
                .file_name("photo.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .text("description", "a gradient");
    let response = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_string()
}

async fn run_timed_work(app: &TestApp) {
    let lock = WorkerLock::acquire(&app.db).await.unwrap();
    timed::run_due(&app.state, lock.id).await.unwrap();
}

async fn posts_of(app: &TestApp, username: &str) -> Vec<(i64, String, Option<i64>)> {
    sqlx::query_as(
        "select p.id, p.content, p.app_id from posts p join actors a on a.id = p.author_id
         where a.username = $1 and a.domain is null and p.deleted_at is null order by p.id",
    )
    .bind(username)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn scheduled_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from scheduled_statuses")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_scheduled_post_is_published_with_its_media_when_due_and_reaches_followers() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let bob = beta.local("bob").await;
    let alice_there = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &alice_there)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;

    let token = alpha.token("alice").await;
    let media_id = upload(&alpha, &token).await;
    let when = at(&alpha, Duration::minutes(10));
    let (status, scheduled) = alpha
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({
                "status": "Good morning #coffee",
                "media_ids": [media_id],
                "visibility": "public",
                "scheduled_at": when,
            }),
        )
        .await;
    assert_eq!(status, 200, "{scheduled}");
    assert_eq!(scheduled["scheduled_at"], when.as_str());
    assert_eq!(scheduled["params"]["text"], "Good morning #coffee");
    assert_eq!(scheduled["params"]["media_ids"], json!([media_id]));
    assert_eq!(scheduled["params"]["visibility"], "public");
    assert_eq!(scheduled["params"]["scheduled_at"], Value::Null);
    assert_eq!(scheduled["params"]["in_reply_to_id"], Value::Null);
    assert_eq!(scheduled["params"]["with_rate_limit"], false);
    assert!(scheduled["params"].get("application_id").is_none());
    assert_eq!(scheduled["media_attachments"][0]["id"], media_id.as_str());
    assert_eq!(
        scheduled["media_attachments"][0]["description"],
        "a gradient"
    );
    let id = scheduled["id"].as_str().unwrap().to_string();
    assert!(posts_of(&alpha, "alice").await.is_empty());
    let reserved: Option<i64> =
        sqlx::query_scalar("select scheduled_status_id from uploads where id = $1")
            .bind(media_id.parse::<i64>().unwrap())
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    assert_eq!(reserved, Some(id.parse().unwrap()));

    // Listed and shown to its author only.
    let (status, list) = alpha.api_get(&token, "/api/v1/scheduled_statuses").await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    let (status, one) = alpha
        .api_get(&token, &format!("/api/v1/scheduled_statuses/{id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["params"]["text"], "Good morning #coffee");
    alpha.create_user("carol").await;
    let carol = alpha.token("carol").await;
    let (status, _) = alpha
        .api_get(&carol, &format!("/api/v1/scheduled_statuses/{id}"))
        .await;
    assert_eq!(status, 404);

    // Its upload is not another post's to take.
    let (status, _) = alpha
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "now", "media_ids": [media_id]}),
        )
        .await;
    assert_eq!(status, 422);

    // Not before its time.
    run_timed_work(&alpha).await;
    alpha.clock.advance(Duration::minutes(9));
    run_timed_work(&alpha).await;
    assert!(posts_of(&alpha, "alice").await.is_empty());
    assert_eq!(scheduled_count(&alpha).await, 1);

    // On time: published once, with its media, and the scheduled status
    // gone.
    alpha.clock.advance(Duration::minutes(1));
    beta.clock.advance(Duration::minutes(10));
    run_timed_work(&alpha).await;
    run_timed_work(&alpha).await;
    let published = posts_of(&alpha, "alice").await;
    assert_eq!(published.len(), 1, "{published:?}");
    assert!(published[0].1.contains("Good morning"));
    assert_eq!(scheduled_count(&alpha).await, 0);
    let carried: (Option<i64>, Option<i64>) =
        sqlx::query_as("select post_id, scheduled_status_id from uploads where id = $1")
            .bind(media_id.parse::<i64>().unwrap())
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    assert_eq!(carried, (Some(published[0].0), None));
    let (status, shown) = alpha
        .api_get(&token, &format!("/api/v1/statuses/{}", published[0].0))
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown["media_attachments"][0]["id"], media_id.as_str());
    assert_eq!(shown["tags"][0]["name"], "coffee");
    let (status, _) = alpha
        .api_get(&token, &format!("/api/v1/scheduled_statuses/{id}"))
        .await;
    assert_eq!(status, 404);

    // Followers elsewhere get it as any post.
    alpha.deliver().await;
    let remote: Vec<(String, i64)> = sqlx::query_as(
        "select p.content, (select count(*) from attachments t where t.post_id = p.id)
         from posts p where p.author_id = $1",
    )
    .bind(alice_there.id)
    .fetch_all(&beta.db)
    .await
    .unwrap();
    assert_eq!(remote.len(), 1, "{remote:?}");
    assert!(remote[0].0.contains("Good morning"));
    assert_eq!(remote[0].1, 1);
}

#[tokio::test]
async fn scheduling_is_held_to_mastodons_times_and_limits() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;

    // Less than five minutes ahead: refused as Mastodon refuses it.
    let (status, body) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "soon", "scheduled_at": at(&app, Duration::minutes(2))}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "Validation failed: Scheduled at The scheduled date must be in the future"
    );
    // A time already past posts at once.
    let (status, body) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "late", "scheduled_at": at(&app, -Duration::minutes(1))}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body["content"].as_str().unwrap().contains("late"));
    assert_eq!(posts_of(&app, "alice").await.len(), 1);
    // A text too long is refused when scheduling, not when publishing.
    let (status, _) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "x".repeat(600), "scheduled_at": at(&app, Duration::hours(1))}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(scheduled_count(&app).await, 0);

    // 25 on one day.
    let day = (skein::clock::Clock::now(&*app.clock) + Duration::days(2))
        .date_naive()
        .and_hms_opt(1, 0, 0)
        .unwrap()
        .and_utc();
    for n in 0..25 {
        let (status, body) = app
            .api_post(
                &token,
                "/api/v1/statuses",
                json!({
                    "status": format!("post {n}"),
                    "scheduled_at": (day + Duration::minutes(n)).to_rfc3339(),
                }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "one more", "scheduled_at": (day + Duration::hours(5)).to_rfc3339()}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "Validation failed: You have exceeded the limit of 25 scheduled posts for today"
    );
    // The next day is free.
    let (status, next_day) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "tomorrow", "scheduled_at": (day + Duration::days(1)).to_rfc3339()}),
        )
        .await;
    assert_eq!(status, 200);
    let next_id = next_day["id"].as_str().unwrap().to_string();

    // Moving one: onto the full day is refused, too soon is refused, later
    // is fine.
    let path = format!("/api/v1/scheduled_statuses/{next_id}");
    let (status, _, _) = app
        .api(
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(json!({"scheduled_at": (day + Duration::hours(9)).to_rfc3339()})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _, _) = app
        .api(
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(json!({"scheduled_at": at(&app, Duration::minutes(1))})),
        )
        .await;
    assert_eq!(status, 422);
    let later = at(&app, Duration::days(5));
    let (status, _, moved) = app
        .api(
            reqwest::Method::PUT,
            &path,
            Some(&token),
            Some(json!({"scheduled_at": later})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(moved["scheduled_at"], later.as_str());
    let stored: chrono::DateTime<Utc> =
        sqlx::query_scalar("select scheduled_at from scheduled_statuses where id = $1")
            .bind(next_id.parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(e_time(stored), later);

    // Paginated by id, newest first.
    let (status, headers, page) = app
        .api(
            reqwest::Method::GET,
            "/api/v1/scheduled_statuses?limit=10",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page.as_array().unwrap().len(), 10);
    assert_eq!(page[0]["id"], next_id.as_str());
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains("max_id="), "{link}");

    // 300 in all.
    let alice = app.local("alice").await;
    sqlx::query(
        "insert into scheduled_statuses (account_id, scheduled_at, params, created_at)
         select $1, now() + make_interval(days => 10 + n), '{\"text\": \"filler\"}', now()
         from generate_series(1, 274) n",
    )
    .bind(alice.id)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(scheduled_count(&app).await, 300);
    let (status, body) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "too many", "scheduled_at": at(&app, Duration::days(400))}),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"],
        "Validation failed: You have exceeded the limit of 300 scheduled posts"
    );

    // Cancelling: gone, and never published.
    let (status, body) = app.api_delete(&token, &path).await;
    assert_eq!((status, body), (200, json!({})));
    let (status, _) = app.api_delete(&token, &path).await;
    assert_eq!(status, 404);
    assert_eq!(scheduled_count(&app).await, 299);
}

#[tokio::test]
async fn a_cancelled_post_is_not_published_and_its_media_are_freed() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let media_id = upload(&app, &token).await;
    let (status, scheduled) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "", "media_ids": [media_id], "scheduled_at": at(&app, Duration::minutes(30))}),
        )
        .await;
    assert_eq!(status, 200, "{scheduled}");
    let id = scheduled["id"].as_str().unwrap();
    let (status, _) = app
        .api_delete(&token, &format!("/api/v1/scheduled_statuses/{id}"))
        .await;
    assert_eq!(status, 200);
    app.clock.advance(Duration::hours(1));
    run_timed_work(&app).await;
    assert!(posts_of(&app, "alice").await.is_empty());
    // The upload is free again for a post written now.
    let (status, body) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "after all", "media_ids": [media_id]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["media_attachments"][0]["id"], media_id.as_str());
}

#[tokio::test]
async fn a_scheduled_reply_whose_parent_was_deleted_is_dropped() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (_, parent) = app
        .api_post(&token, "/api/v1/statuses", json!({"status": "first"}))
        .await;
    let parent_id = parent["id"].as_str().unwrap();
    let (status, scheduled) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({
                "status": "second",
                "in_reply_to_id": parent_id,
                "scheduled_at": at(&app, Duration::minutes(6)),
            }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        scheduled["params"]["in_reply_to_id"],
        json!(parent_id.parse::<i64>().unwrap())
    );
    app.api_delete(&token, &format!("/api/v1/statuses/{parent_id}"))
        .await;
    app.clock.advance(Duration::minutes(7));
    run_timed_work(&app).await;
    assert!(posts_of(&app, "alice").await.is_empty());
    assert_eq!(scheduled_count(&app).await, 0);
}

fn e_time(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}
