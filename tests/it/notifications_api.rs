//! Notifications, markers, preferences, domain blocks and conversations
//! through the client API, between two real instances: entities in
//! Mastodon's shapes, and every change checked in the database and on the
//! other instance.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Options, TestApp};

async fn two_instances() -> (TestApp, TestApp) {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    (alpha, beta)
}

/// The account id on `app` of the account `handle` (resolved over
/// WebFinger, as a search with `resolve=true` does).
async fn account_id(app: &TestApp, handle: &str) -> String {
    app.resolve(&format!("@{handle}")).await.id.to_string()
}

/// `token`'s user on `from` follows `handle` on the other instance through
/// the API; the other instance accepts.
async fn follow_across(from: &TestApp, to: &TestApp, token: &str, handle: &str) -> String {
    let id = account_id(from, handle).await;
    let (status, rel) = from
        .api_post(token, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200, "{rel}");
    from.deliver().await;
    to.deliver().await;
    let (_, rels) = from
        .api_get(token, &format!("/api/v1/accounts/relationships?id[]={id}"))
        .await;
    assert_eq!(rels[0]["following"], true, "{rels}");
    id
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

fn kinds(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|n| n["type"].as_str().unwrap().to_string())
        .collect()
}

async fn count(app: &TestApp, sql: &str, bind: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// The `rel="next"` URL of a Link header, as a path and query.
fn next_link(headers: &reqwest::header::HeaderMap, base: &str) -> String {
    let link = headers
        .get("link")
        .expect("a Link header")
        .to_str()
        .unwrap();
    let next = link
        .split(", ")
        .find(|part| part.ends_with("rel=\"next\""))
        .expect("a next link");
    let url = next.trim_start_matches('<').split('>').next().unwrap();
    url.strip_prefix(base).unwrap().to_string()
}

/// Alice on alpha, Bob on beta: Bob follows Alice, Alice posts, Bob
/// favourites, reposts and mentions her. Returns (alice's token, bob's
/// token, alice's post id on alpha, bob's account id on alpha).
async fn bob_interacts_with_alice(
    alpha: &TestApp,
    beta: &TestApp,
) -> (String, String, String, String) {
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    follow_across(beta, alpha, &bob, &alpha.handle("alice")).await;
    let (status, post) = alpha
        .api_post(&alice, "/api/v1/statuses", json!({"status": "a thought"}))
        .await;
    assert_eq!(status, 200, "{post}");
    alpha.deliver().await;
    let (_, home) = beta.api_get(&bob, "/api/v1/timelines/home").await;
    let on_beta = home[0]["id"].as_str().expect("alice's post reached bob");
    for action in ["favourite", "reblog"] {
        let (status, body) = beta
            .api_post(
                &bob,
                &format!("/api/v1/statuses/{on_beta}/{action}"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        // One at a time, so that alpha records them in this order.
        beta.deliver().await;
    }
    let (status, body) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": format!("@{} have you seen this?", alpha.handle("alice"))}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    beta.deliver().await;
    let bob_on_alpha = account_id(alpha, &beta.handle("bob")).await;
    (
        alice,
        bob,
        post["id"].as_str().unwrap().to_string(),
        bob_on_alpha,
    )
}

#[tokio::test]
async fn a_remote_follow_favourite_reblog_and_mention_are_listed_in_mastodon_shapes() {
    let (alpha, beta) = two_instances().await;
    let (alice, _, post_id, bob_id) = bob_interacts_with_alice(&alpha, &beta).await;

    let (status, list) = alpha.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(kinds(&list), ["mention", "reblog", "favourite", "follow"]);
    for n in list.as_array().unwrap() {
        assert!(n["id"].is_string());
        assert_eq!(n["account"]["id"], bob_id.as_str());
        assert_eq!(n["account"]["acct"], beta.handle("bob"));
        let created = n["created_at"].as_str().unwrap();
        assert!(created.ends_with('Z') && created.contains('.'), "{created}");
        assert!(n["group_key"].is_string(), "{n}");
    }
    let [mention, reblog, favourite, follow] = list.as_array().unwrap().as_slice() else {
        panic!("four notifications: {list}");
    };
    assert!(
        follow.get("status").is_none(),
        "a follow is not about a post: {follow}"
    );
    assert_eq!(
        follow["group_key"].as_str().unwrap().split('-').next(),
        Some("follow")
    );
    assert_eq!(favourite["status"]["id"], post_id.as_str());
    assert_eq!(favourite["status"]["favourites_count"], 1);
    assert_eq!(reblog["status"]["id"], post_id.as_str());
    assert!(
        reblog["status"]["reblog"].is_null(),
        "the reposted post itself, not the repost"
    );
    assert_eq!(mention["status"]["account"]["id"], bob_id.as_str());
    assert_eq!(mention["status"]["mentions"][0]["acct"], "alice");
    assert!(
        mention["status"]["content"]
            .as_str()
            .unwrap()
            .contains("have you seen this?")
    );
    assert_eq!(
        mention["group_key"],
        format!("ungrouped-{}", mention["id"].as_str().unwrap()).as_str()
    );

    let (status, one) = alpha
        .api_get(
            &alice,
            &format!(
                "/api/v1/notifications/{}",
                favourite["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(one, *favourite);

    // Filters: types[], exclude_types[] (unknown types are ignored), account_id.
    let (_, only) = alpha
        .api_get(
            &alice,
            "/api/v1/notifications?types[]=favourite&types[]=reblog&types[]=nonsense",
        )
        .await;
    assert_eq!(kinds(&only), ["reblog", "favourite"]);
    let (_, without) = alpha
        .api_get(
            &alice,
            "/api/v1/notifications?exclude_types[]=follow&exclude_types[]=mention",
        )
        .await;
    assert_eq!(kinds(&without), ["reblog", "favourite"]);
    let (_, from_bob) = alpha
        .api_get(
            &alice,
            &format!("/api/v1/notifications?account_id={bob_id}"),
        )
        .await;
    assert_eq!(from_bob.as_array().unwrap().len(), 4);
    let (_, from_nobody) = alpha
        .api_get(&alice, "/api/v1/notifications?account_id=1")
        .await;
    assert_eq!(from_nobody, json!([]));

    // Paging: two at a time through the Link header, filters kept.
    let (status, headers, first) = alpha
        .api(
            Method::GET,
            "/api/v1/notifications?limit=2&exclude_types[]=poll",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(kinds(&first), ["mention", "reblog"]);
    let next = next_link(&headers, &alpha.base);
    assert!(next.contains("exclude_types"), "{next}");
    let (_, second) = alpha.api_get(&alice, &next).await;
    assert_eq!(kinds(&second), ["favourite", "follow"]);
    let (_, newer) = alpha
        .api_get(
            &alice,
            &format!(
                "/api/v1/notifications?min_id={}&limit=1",
                second[0]["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(
        kinds(&newer),
        ["reblog"],
        "min_id pages forward from the cursor"
    );

    // Bob deletes the mentioning post: alice's mention goes with it.
    let alice_actor = alpha.local("alice").await;
    let bob_token = beta.token("bob").await;
    let (_, bob_posts) = beta
        .api_get(
            &bob_token,
            &format!(
                "/api/v1/accounts/{}/statuses?exclude_reblogs=true",
                beta.local("bob").await.id
            ),
        )
        .await;
    let mentioning = bob_posts[0]["id"].as_str().unwrap();
    let (status, _, _) = beta
        .api(
            Method::DELETE,
            &format!("/api/v1/statuses/{mentioning}"),
            Some(&bob_token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    beta.deliver().await;
    let (_, list) = alpha.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(kinds(&list), ["reblog", "favourite", "follow"]);
    let (status, _) = alpha
        .api_get(
            &alice,
            &format!("/api/v1/notifications/{}", mention["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 404, "a notification about a deleted post is gone");
    assert_eq!(
        count(
            &alpha,
            "select count(*) from notifications where recipient_id = $1",
            alice_actor.id
        )
        .await,
        4,
        "the row stays; it is only not shown"
    );
}

#[tokio::test]
async fn dismissing_and_clearing_remove_the_rows_and_the_unread_count_follows_the_marker() {
    let (alpha, beta) = two_instances().await;
    let (alice, _, _, _) = bob_interacts_with_alice(&alpha, &beta).await;
    let alice_id = alpha.local("alice").await.id;
    let (_, list) = alpha.api_get(&alice, "/api/v1/notifications").await;
    let all = ids(&list);
    assert_eq!(all.len(), 4);

    let (_, unread) = alpha
        .api_get(&alice, "/api/v1/notifications/unread_count")
        .await;
    assert_eq!(
        unread,
        json!({"count": 4}),
        "without a marker, all are unread"
    );
    let (_, capped) = alpha
        .api_get(&alice, "/api/v1/notifications/unread_count?limit=3")
        .await;
    assert_eq!(capped["count"], 3);
    let (status, _) = alpha
        .api_post(
            &alice,
            "/api/v1/markers",
            json!({"notifications": {"last_read_id": all[2]}}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, unread) = alpha
        .api_get(&alice, "/api/v1/notifications/unread_count")
        .await;
    assert_eq!(unread["count"], 2);
    let (_, unread) = alpha
        .api_get(
            &alice,
            "/api/v1/notifications/unread_count?exclude_types[]=mention",
        )
        .await;
    assert_eq!(unread["count"], 1);

    // Someone else cannot see or dismiss alice's notifications.
    alpha.create_user("carol").await;
    let carol = alpha.token("carol").await;
    let (status, _) = alpha
        .api_get(&carol, &format!("/api/v1/notifications/{}", all[0]))
        .await;
    assert_eq!(status, 404);
    let (status, body) = alpha
        .api_post(
            &carol,
            &format!("/api/v1/notifications/{}/dismiss", all[0]),
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "Record not found");

    let (status, body) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/notifications/{}/dismiss", all[0]),
            json!({}),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let left: i64 = sqlx::query_scalar("select count(*) from notifications where id = $1")
        .bind(all[0].parse::<i64>().unwrap())
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let (_, list) = alpha.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(ids(&list), all[1..]);

    let (status, body) = alpha
        .api_post(&alice, "/api/v1/notifications/clear", json!({}))
        .await;
    assert_eq!((status, body), (200, json!({})));
    let sql = "select count(*) from notifications where recipient_id = $1";
    assert_eq!(count(&alpha, sql, alice_id).await, 0);
    let (_, list) = alpha.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn a_muted_account_s_notifications_are_hidden_until_the_mute_ends() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    app.create_user("dave").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let dave = app.token("dave").await;
    let (_, post) = app
        .api_post(&alice, "/api/v1/statuses", json!({"status": "like me"}))
        .await;
    let post_id = post["id"].as_str().unwrap();
    for token in [&carol, &dave] {
        app.api_post(
            token,
            &format!("/api/v1/statuses/{post_id}/favourite"),
            json!({}),
        )
        .await;
    }
    let carol_id = app.local("carol").await.id;
    let dave_id = app.local("dave").await.id;
    let (_, list) = app.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(list.as_array().unwrap().len(), 2);

    // Carol muted for an hour with her notifications; dave muted without.
    app.api_post(
        &alice,
        &format!("/api/v1/accounts/{carol_id}/mute"),
        json!({"duration": 3600}),
    )
    .await;
    app.api_post(
        &alice,
        &format!("/api/v1/accounts/{dave_id}/mute"),
        json!({"notifications": false}),
    )
    .await;
    let (_, list) = app.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["account"]["id"], dave_id.to_string().as_str());
    let (_, unread) = app
        .api_get(&alice, "/api/v1/notifications/unread_count")
        .await;
    assert_eq!(unread["count"], 1);

    app.clock.advance(chrono::Duration::hours(1));
    let (_, list) = app.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(list.as_array().unwrap().len(), 2, "the mute ended: {list}");

    // Blocking hides them too.
    app.api_post(
        &alice,
        &format!("/api/v1/accounts/{dave_id}/block"),
        json!({}),
    )
    .await;
    let (_, list) = app.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(list[0]["account"]["id"], carol_id.to_string().as_str());
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn markers_round_trip_and_count_their_versions() {
    let app = TestApp::spawn().await;
    let created = app.create_user("alice").await;
    let alice = app.token("alice").await;
    let (status, empty) = app
        .api_get(
            &alice,
            "/api/v1/markers?timeline[]=home&timeline[]=notifications",
        )
        .await;
    assert_eq!((status, empty), (200, json!({})));

    let (status, saved) = app
        .api_post(
            &alice,
            "/api/v1/markers",
            json!({"home": {"last_read_id": "103194548672408537"}}),
        )
        .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["home"]["last_read_id"], "103194548672408537");
    assert_eq!(saved["home"]["version"], 0);
    assert!(saved["home"]["updated_at"].as_str().unwrap().ends_with('Z'));
    assert!(saved.get("notifications").is_none());

    // As a form, both at once.
    let response = app
        .client
        .post(app.url("/api/v1/markers"))
        .bearer_auth(&alice)
        .form(&[
            ("home[last_read_id]", "103194548672408538"),
            ("notifications[last_read_id]", "35098814"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let saved: Value = response.json().await.unwrap();
    assert_eq!(saved["home"]["version"], 1);
    assert_eq!(saved["notifications"]["version"], 0);

    // The same position again is no change.
    let (_, same) = app
        .api_post(
            &alice,
            "/api/v1/markers",
            json!({"home": {"last_read_id": "103194548672408538"}}),
        )
        .await;
    assert_eq!(same["home"]["version"], 1);

    let (_, both) = app
        .api_get(
            &alice,
            "/api/v1/markers?timeline[]=home&timeline[]=notifications",
        )
        .await;
    assert_eq!(both["home"]["last_read_id"], "103194548672408538");
    assert_eq!(both["notifications"]["last_read_id"], "35098814");
    let (_, one) = app
        .api_get(&alice, "/api/v1/markers?timeline[]=notifications")
        .await;
    assert_eq!(one.as_object().unwrap().len(), 1);
    let rows: Vec<(String, String, i32)> = sqlx::query_as(
        "select timeline, last_read_id, version from markers where user_id = $1 order by timeline",
    )
    .bind(created.user.id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            ("home".into(), "103194548672408538".into(), 1),
            ("notifications".into(), "35098814".into(), 0)
        ]
    );

    let (status, _) = app
        .api_post(
            &alice,
            "/api/v1/markers",
            json!({"home": {"last_read_id": ""}}),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn preferences_show_the_posting_defaults() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let alice = app.token("alice").await;
    let (status, prefs) = app.api_get(&alice, "/api/v1/preferences").await;
    assert_eq!(status, 200);
    assert_eq!(
        prefs,
        json!({
            "posting:default:visibility": "public",
            "posting:default:sensitive": false,
            "posting:default:language": null,
            "posting:default:quote_policy": "public",
            "reading:expand:media": "default",
            "reading:expand:spoilers": false,
        })
    );
    let response = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .form(&[
            ("source[privacy]", "private"),
            ("source[sensitive]", "true"),
            ("source[language]", "fr"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, prefs) = app.api_get(&alice, "/api/v1/preferences").await;
    assert_eq!(prefs["posting:default:visibility"], "private");
    assert_eq!(prefs["posting:default:sensitive"], true);
    assert_eq!(prefs["posting:default:language"], "fr");
    assert_eq!(prefs["posting:default:quote_policy"], "nobody");
}

#[tokio::test]
async fn blocking_a_domain_ends_follows_both_ways_and_tells_the_other_server() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    follow_across(&beta, &alpha, &bob, &alpha.handle("alice")).await;
    let bob_id = follow_across(&alpha, &beta, &alice, &beta.handle("bob")).await;
    let (_, bob_post) = beta
        .api_post(&bob, "/api/v1/statuses", json!({"status": "from beta"}))
        .await;
    beta.deliver().await;
    let (_, public) = alpha.api_get(&alice, "/api/v1/timelines/public").await;
    assert_eq!(public[0]["uri"], bob_post["uri"]);
    let alice_actor = alpha.local("alice").await;
    let notified = "select count(*) from notifications where recipient_id = $1";
    assert_eq!(
        count(&alpha, notified, alice_actor.id).await,
        1,
        "bob's follow"
    );

    // Typed with a scheme, a path and capitals: normalised.
    let typed = format!("HTTP://{}/@bob", beta.domain.to_uppercase());
    let (status, body) = alpha
        .api_post(&alice, "/api/v1/domain_blocks", json!({"domain": typed}))
        .await;
    assert_eq!((status, body), (200, json!({})));
    let stored: Vec<String> =
        sqlx::query_scalar("select domain from user_domain_blocks where actor_id = $1")
            .bind(alice_actor.id)
            .fetch_all(&alpha.db)
            .await
            .unwrap();
    assert_eq!(stored, [beta.domain.as_str()]);
    let follows_sql = "select count(*) from follows where follower_id = $1 or followee_id = $1";
    assert_eq!(count(&alpha, follows_sql, alice_actor.id).await, 0);
    assert_eq!(
        count(&alpha, notified, alice_actor.id).await,
        0,
        "notifications from the domain are removed"
    );
    let (_, rels) = alpha
        .api_get(
            &alice,
            &format!("/api/v1/accounts/relationships?id[]={bob_id}"),
        )
        .await;
    assert_eq!(rels[0]["domain_blocking"], true);
    assert_eq!(rels[0]["following"], false);
    assert_eq!(rels[0]["followed_by"], false);
    let (_, public) = alpha.api_get(&alice, "/api/v1/timelines/public").await;
    assert_eq!(public, json!([]), "the domain's posts are hidden");

    // Beta hears of it: alice's follow undone, bob's follow refused.
    alpha.deliver().await;
    let received: Vec<(String, Value)> = sqlx::query_as(
        "select kind, payload from inbox_activities where kind in ('Undo', 'Reject') order by kind",
    )
    .fetch_all(&beta.db)
    .await
    .unwrap();
    let kinds: Vec<&str> = received.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["Reject", "Undo"]);
    let (_, reject) = &received[0];
    assert_eq!(reject["object"]["type"], "Follow");
    assert_eq!(reject["object"]["actor"], beta.url("/users/bob").as_str());
    let (_, undo) = &received[1];
    assert_eq!(undo["object"]["type"], "Follow");
    assert_eq!(undo["object"]["object"], beta.url("/users/bob").as_str());
    let beta_follows: i64 = sqlx::query_scalar("select count(*) from follows")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(beta_follows, 0);

    // A new follow from the blocked domain is refused.
    let alice_on_beta = account_id(&beta, &alpha.handle("alice")).await;
    beta.api_post(
        &bob,
        &format!("/api/v1/accounts/{alice_on_beta}/follow"),
        json!({}),
    )
    .await;
    beta.deliver().await;
    assert_eq!(count(&alpha, follows_sql, alice_actor.id).await, 0);
    alpha.deliver().await;
    let beta_follows: i64 = sqlx::query_scalar("select count(*) from follows")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(beta_follows, 0, "the refusal reached beta");

    // Listed, paged, and lifted.
    alpha
        .api_post(
            &alice,
            "/api/v1/domain_blocks",
            json!({"domain": "bücher.example"}),
        )
        .await;
    let (status, headers, list) = alpha
        .api(
            Method::GET,
            "/api/v1/domain_blocks?limit=1",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list, json!(["xn--bcher-kva.example"]));
    let (_, older) = alpha
        .api_get(&alice, &next_link(&headers, &alpha.base))
        .await;
    assert_eq!(older, json!([beta.domain]));
    for bad in ["", "not a domain", "under_score.example"] {
        let (status, body) = alpha
            .api_post(&alice, "/api/v1/domain_blocks", json!({"domain": bad}))
            .await;
        assert_eq!(status, 422, "{bad:?}: {body}");
    }
    let (status, _, body) = alpha
        .api(
            Method::DELETE,
            "/api/v1/domain_blocks",
            Some(&alice),
            Some(json!({"domain": beta.domain})),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let (_, list) = alpha.api_get(&alice, "/api/v1/domain_blocks").await;
    assert_eq!(list, json!(["xn--bcher-kva.example"]));
    let (_, public) = alpha.api_get(&alice, "/api/v1/timelines/public").await;
    assert_eq!(public[0]["uri"], bob_post["uri"], "shown again");
}

#[tokio::test]
async fn direct_messages_make_conversations_on_both_sides_that_can_be_read_and_removed() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let bob_on_alpha = account_id(&alpha, &beta.handle("bob")).await;

    let (status, dm) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({
                "status": format!("@{} just between us", beta.handle("bob")),
                "visibility": "direct",
            }),
        )
        .await;
    assert_eq!(status, 200, "{dm}");
    let (_, mine) = alpha.api_get(&alice, "/api/v1/conversations").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["unread"], false, "one's own post is read");
    assert_eq!(mine[0]["accounts"][0]["id"], bob_on_alpha.as_str());
    assert_eq!(mine[0]["last_status"]["id"], dm["id"]);
    assert_eq!(mine[0]["last_status"]["visibility"], "direct");
    assert!(mine[0]["id"].is_string());

    alpha.deliver().await;
    let (_, theirs) = beta.api_get(&bob, "/api/v1/conversations").await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "{theirs}");
    assert_eq!(theirs[0]["unread"], true);
    assert_eq!(theirs[0]["accounts"][0]["acct"], alpha.handle("alice"));
    assert_eq!(theirs[0]["last_status"]["uri"], dm["uri"]);
    let bob_conversation = theirs[0]["id"].as_str().unwrap().to_string();

    // Bob answers in the thread: one conversation on each side. (Each
    // instance's clock stands still; his answer is written a minute later.)
    beta.clock.advance(chrono::Duration::minutes(1));
    let (status, reply) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({
                "status": format!("@{} agreed", alpha.handle("alice")),
                "visibility": "direct",
                "in_reply_to_id": theirs[0]["last_status"]["id"],
            }),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let (_, theirs) = beta.api_get(&bob, "/api/v1/conversations").await;
    assert_eq!(ids(&theirs), [bob_conversation.as_str()]);
    assert_eq!(theirs[0]["unread"], false);
    assert_eq!(theirs[0]["last_status"]["id"], reply["id"]);
    beta.deliver().await;
    let (_, mine) = alpha.api_get(&alice, "/api/v1/conversations").await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["unread"], true);
    assert_eq!(mine[0]["last_status"]["uri"], reply["uri"]);
    let conversation = mine[0]["id"].as_str().unwrap().to_string();

    let (status, read) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/conversations/{conversation}/read"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["unread"], false);
    assert_eq!(read["id"], conversation.as_str());
    let unread: bool = sqlx::query_scalar("select unread from account_conversations where id = $1")
        .bind(conversation.parse::<i64>().unwrap())
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert!(!unread);

    // A second, separate conversation pages before the first. Local
    // recipients get it too, except one who mutes the sender.
    alpha.create_user("carol").await;
    alpha.create_user("dave").await;
    let carol = alpha.token("carol").await;
    let dave = alpha.token("dave").await;
    let alice_id = alpha.local("alice").await.id;
    alpha
        .api_post(
            &dave,
            &format!("/api/v1/accounts/{alice_id}/mute"),
            json!({}),
        )
        .await;
    let (_, second) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "@carol @dave hi", "visibility": "direct"}),
        )
        .await;
    let (_, carols) = alpha.api_get(&carol, "/api/v1/conversations").await;
    assert_eq!(carols[0]["unread"], true);
    let with: Vec<&str> = carols[0]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["acct"].as_str().unwrap())
        .collect();
    assert_eq!(with, ["alice", "dave"]);
    let (_, daves) = alpha.api_get(&dave, "/api/v1/conversations").await;
    assert_eq!(daves, json!([]));
    let (_, headers, page) = alpha
        .api(
            Method::GET,
            "/api/v1/conversations?limit=1",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(page[0]["last_status"]["id"], second["id"]);
    let (_, older) = alpha
        .api_get(&alice, &next_link(&headers, &alpha.base))
        .await;
    assert_eq!(ids(&older), [conversation.as_str()]);

    // Removing it hides it (the posts stay); others cannot touch it.
    let (status, _, _) = alpha
        .api(
            Method::DELETE,
            &format!("/api/v1/conversations/{conversation}"),
            Some(&carol),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _, body) = alpha
        .api(
            Method::DELETE,
            &format!("/api/v1/conversations/{conversation}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    let (_, mine) = alpha.api_get(&alice, "/api/v1/conversations").await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["last_status"]["id"], second["id"]);
    let left: i64 = sqlx::query_scalar("select count(*) from account_conversations where id = $1")
        .bind(conversation.parse::<i64>().unwrap())
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(
        alpha.post(dm["uri"].as_str().unwrap()).await.deleted_at,
        None
    );
}

#[tokio::test]
async fn a_hide_filter_for_notifications_drops_a_mention_that_matches() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("carol").await;
    let alice = app.token("alice").await;
    let carol = app.token("carol").await;
    let (status, _) = app
        .api_post(
            &alice,
            "/api/v2/filters",
            json!({"title": "spoilers", "context": ["notifications"], "filter_action": "hide",
                   "keywords_attributes": [{"keyword": "finale"}]}),
        )
        .await;
    assert_eq!(status, 200);
    app.api_post(
        &carol,
        "/api/v1/statuses",
        json!({"status": "@alice the finale!"}),
    )
    .await;
    app.api_post(
        &carol,
        "/api/v1/statuses",
        json!({"status": "@alice lunch?"}),
    )
    .await;
    let (_, list) = app.api_get(&alice, "/api/v1/notifications").await;
    let contents: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["status"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(contents.len(), 1, "{list}");
    assert!(contents[0].contains("lunch?"));
    let rows: i64 = sqlx::query_scalar("select count(*) from notifications where kind = 'mention'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(rows, 2, "the row stays; it is only not shown");
}

#[tokio::test]
async fn a_users_domain_block_hides_the_domain_everywhere_for_that_user() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let carol = alpha.token("carol").await;
    let bob = beta.token("bob").await;
    // Carol follows bob; alice follows carol; bob follows alice.
    follow_across(&alpha, &beta, &carol, &beta.handle("bob")).await;
    let carol_id = alpha.local("carol").await.id.to_string();
    alpha
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{carol_id}/follow"),
            json!({}),
        )
        .await;
    follow_across(&beta, &alpha, &bob, &alpha.handle("alice")).await;

    let (_, alice_post) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "what do you think?"}),
        )
        .await;
    alpha.deliver().await;
    // Bob answers alice (a mention) and posts with a hashtag; carol reposts it.
    let (_, found) = beta
        .api_get(
            &bob,
            &format!(
                "/api/v2/search?q={}&resolve=true&type=statuses",
                alice_post["uri"].as_str().unwrap()
            ),
        )
        .await;
    let (_, reply) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": format!("@{} I think so", alpha.handle("alice")), "in_reply_to_id": found["statuses"][0]["id"]}),
        )
        .await;
    let (_, tagged) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "all about #cats"}),
        )
        .await;
    beta.deliver().await;
    let tagged_here = alpha.post(tagged["uri"].as_str().unwrap()).await;
    alpha
        .api_post(
            &carol,
            &format!("/api/v1/statuses/{}/reblog", tagged_here.id),
            json!({}),
        )
        .await;

    let seen = |token: String| {
        let alpha = &alpha;
        let post_id = alice_post["id"].as_str().unwrap().to_string();
        async move {
            let (_, notifications) = alpha.api_get(&token, "/api/v1/notifications").await;
            let mentions = notifications
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| n["type"] == "mention")
                .count();
            let (_, context) = alpha
                .api_get(&token, &format!("/api/v1/statuses/{post_id}/context"))
                .await;
            let (_, tag) = alpha.api_get(&token, "/api/v1/timelines/tag/cats").await;
            let (_, home) = alpha.api_get(&token, "/api/v1/timelines/home").await;
            let reposts = home
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["reblog"].is_object())
                .count();
            (
                mentions,
                context["descendants"].as_array().unwrap().len(),
                tag.as_array().unwrap().len(),
                reposts,
            )
        }
    };
    assert_eq!(seen(alice.clone()).await, (1, 1, 1, 1), "before the block");
    let (status, _) = alpha
        .api_post(
            &alice,
            "/api/v1/domain_blocks",
            json!({"domain": beta.domain}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        seen(alice.clone()).await,
        (0, 0, 0, 0),
        "the mention, the reply in the thread, the hashtag post and carol's repost of it"
    );
    // Only for alice: carol still sees bob's posts.
    let (_, tag) = alpha.api_get(&carol, "/api/v1/timelines/tag/cats").await;
    assert_eq!(tag.as_array().unwrap().len(), 1);
    let (_, context) = alpha
        .api_get(
            &carol,
            &format!(
                "/api/v1/statuses/{}/context",
                alice_post["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(context["descendants"][0]["uri"], reply["uri"]);
}

#[tokio::test]
async fn follow_options_choose_reposts_languages_and_notifications_and_travel_in_the_export() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    alpha.create_user("nina").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let bob_id = follow_across(&alpha, &beta, &alice, &beta.handle("bob")).await;
    let (status, rel) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{bob_id}/follow"),
            json!({"reblogs": false, "notify": true, "languages": ["en"]}),
        )
        .await;
    assert_eq!(status, 200, "{rel}");
    assert_eq!(rel["showing_reblogs"], false);
    assert_eq!(rel["notifying"], true);
    assert_eq!(rel["languages"], json!(["en"]));
    let (status, refused) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/accounts/{bob_id}/follow"),
            json!({"languages": ["not a language"]}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");

    // Bob writes in English and in German, and reposts someone's post.
    let (_, english) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "hello", "language": "en"}),
        )
        .await;
    let (_, german) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "hallo", "language": "de"}),
        )
        .await;
    beta.create_user("cleo").await;
    let cleo = beta.token("cleo").await;
    let (_, cleos) = beta
        .api_post(
            &cleo,
            "/api/v1/statuses",
            json!({"status": "worth sharing", "language": "en"}),
        )
        .await;
    beta.api_post(
        &bob,
        &format!("/api/v1/statuses/{}/reblog", cleos["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    beta.deliver().await;

    let (_, home) = alpha.api_get(&alice, "/api/v1/timelines/home").await;
    let uris: Vec<&str> = home
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [english["uri"].as_str().unwrap()],
        "no German post, no repost"
    );
    let (_, notifications) = alpha.api_get(&alice, "/api/v1/notifications").await;
    let mut statuses: Vec<&str> = notifications
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "status")
        .map(|n| n["status"]["uri"].as_str().unwrap())
        .collect();
    // Notified of each new post of bob's (the languages are for the home
    // timeline), not of his repost.
    statuses.sort_unstable();
    let mut expected = [
        german["uri"].as_str().unwrap(),
        english["uri"].as_str().unwrap(),
    ];
    expected.sort_unstable();
    assert_eq!(statuses, expected);

    // The export keeps the options; nina's import takes them.
    let mut browser = crate::web::Browser::new(&alpha);
    browser.sign_in("alice").await;
    let csv = browser
        .get("/settings/export/following_accounts.csv")
        .await
        .body;
    assert_eq!(
        csv,
        format!(
            "Account address,Show boosts,Notify on new posts,Languages\n{},false,true,en\n",
            beta.handle("bob")
        )
    );
    let nina = alpha.local("nina").await;
    let mut nina_browser = crate::web::Browser::new(&alpha);
    nina_browser.sign_in("nina").await;
    let token = crate::web::csrf(&nina_browser.get("/settings/import").await.body);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("kind", "following")
        .text("mode", "merge")
        .part(
            "data",
            reqwest::multipart::Part::text(csv)
                .file_name("following_accounts.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    let imported = nina_browser.post_multipart("/settings/import", form).await;
    assert_eq!(imported.status, 303);
    assert_eq!(
        skein::service::portability::run_pending(&alpha.state)
            .await
            .unwrap(),
        1
    );
    let bob_here = alpha.resolve(&format!("@{}", beta.handle("bob"))).await;
    let options = skein::db::follows::options(&alpha.db, nina.id, bob_here.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!options.show_reblogs && options.notify);
    assert_eq!(options.languages, Some(vec!["en".to_string()]));
}
