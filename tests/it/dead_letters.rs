//! Poison activities: one whose processing fails here again and again is
//! kept for the admins after five failures (answered 202 so that its sender
//! stops), while the others go on; an admin replays it once the cause is
//! fixed.

use serde_json::{Value, json};

use crate::fake::{FakeActor, FakeServer};
use crate::harness::TestApp;
use crate::web::{Browser, csrf};

fn create(fake: &FakeServer, actor: &FakeActor, name: &str, text: &str) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/{name}", fake.base),
        "type": "Create",
        "actor": actor.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": fake.note_url(name),
            "type": "Note",
            "attributedTo": actor.id,
            "content": format!("<p>{text}</p>"),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "published": "2026-11-30T12:00:00Z",
        },
    })
}

async fn posts_saying(app: &TestApp, text: &str) -> i64 {
    sqlx::query_scalar("select count(*) from posts where content like '%' || $1 || '%'")
        .bind(text)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_activity_that_keeps_failing_is_kept_and_replayed_by_an_admin() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    let fake = FakeServer::spawn("remote").await;
    let bob = fake.add_actor("bob", false);
    // Alice follows bob, so that his posts are for this instance.
    let alice = app.create_user("alice").await;
    app.follow_fake(&fake, &alice.actor, &bob).await;
    // A fault here that trips on one post: storing it fails inside Skein.
    sqlx::raw_sql(
        "create function poison() returns trigger language plpgsql as $$
         begin
             if new.content like '%poison%' then raise exception 'poisoned row'; end if;
             return new;
         end $$;
         create trigger poison before insert on posts for each row execute function poison();",
    )
    .execute(&app.db)
    .await
    .unwrap();

    let poisoned = create(&fake, &bob, "poisoned", "poison");
    for attempt in 1..5 {
        let status = app
            .post_signed(&fake, &bob, "/inbox", poisoned.clone())
            .await;
        assert_eq!(
            status, 500,
            "attempt {attempt}: the sender is asked to retry"
        );
    }
    // Other work goes on meanwhile.
    assert_eq!(
        app.post_signed(&fake, &bob, "/inbox", create(&fake, &bob, "fine", "fine"))
            .await,
        202
    );
    assert_eq!(posts_saying(&app, "fine").await, 1);
    // The fifth failure keeps it: the sender is told it arrived.
    assert_eq!(
        app.post_signed(&fake, &bob, "/inbox", poisoned.clone())
            .await,
        202
    );
    let (attempts, dead): (i32, bool) = sqlx::query_as(
        "select attempts, dead_at is not null from inbox_dead_letters where activity_id = $1",
    )
    .bind(poisoned["id"].as_str().unwrap())
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((attempts, dead), (5, true));
    assert_eq!(posts_saying(&app, "poison").await, 0);

    // The admin sees it, with its error; replaying before the fix fails
    // again and keeps it.
    let mut root = Browser::new(&app);
    root.sign_in("root").await;
    let page = root.get("/admin/federation").await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains(poisoned["id"].as_str().unwrap()),
        "{}",
        page.body
    );
    let id: i64 = sqlx::query_scalar("select id from inbox_dead_letters")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let token = csrf(&page.body);
    let replay = format!("/admin/federation/kept/{id}/replay");
    let answer = root.post(&replay, &[("csrf_token", token.as_str())]).await;
    assert_eq!(answer.status, 303);
    assert!(answer.location.unwrap().contains("failed+again"));
    assert_eq!(posts_saying(&app, "poison").await, 0);

    // Fixed, replayed: stored, and no longer kept.
    sqlx::raw_sql("drop trigger poison on posts")
        .execute(&app.db)
        .await
        .unwrap();
    let answer = root.post(&replay, &[("csrf_token", token.as_str())]).await;
    assert_eq!(answer.status, 303);
    assert!(answer.location.unwrap().contains("processed"));
    assert_eq!(posts_saying(&app, "poison").await, 1);
    let left: i64 = sqlx::query_scalar("select count(*) from inbox_dead_letters")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let audited: i64 =
        sqlx::query_scalar("select count(*) from admin_actions where action = 'replay_activity'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(audited, 2);
}
