//! Grouped notifications (`/api/v2/notifications`) and the notification
//! policy with its requests, as Mastodon 4.5 answers them, between two real
//! instances: group keys and filtered notifications checked in the
//! database, requests accepted and dismissed.

use reqwest::Method;
use serde_json::{Value, json};

use skein::clock::Clock;

use crate::harness::{Options, TestApp};

async fn two_instances() -> (TestApp, TestApp) {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    (alpha, beta)
}

async fn account_id(app: &TestApp, handle: &str) -> String {
    app.resolve(&format!("@{handle}")).await.id.to_string()
}

/// Posts `body` as `token` and returns the status.
async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, post) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{post}");
    post
}

async fn favourite(app: &TestApp, token: &str, id: &str) {
    let (status, body) = app
        .api_post(
            token,
            &format!("/api/v1/statuses/{id}/favourite"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

async fn follow(app: &TestApp, token: &str, id: &str) {
    let (status, body) = app
        .api_post(token, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
}

/// The id on `app` of the post `uri`.
async fn local_post_id(app: &TestApp, uri: &str) -> String {
    app.post(uri).await.id.to_string()
}

fn group_keys(results: &Value) -> Vec<String> {
    results["notification_groups"]
        .as_array()
        .unwrap_or_else(|| panic!("groups: {results}"))
        .iter()
        .map(|g| g["group_key"].as_str().unwrap().to_string())
        .collect()
}

fn kinds(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|n| n["type"].as_str().unwrap().to_string())
        .collect()
}

/// The `rel` URL of a Link header, as a path and query.
fn link(headers: &reqwest::header::HeaderMap, base: &str, rel: &str) -> String {
    let link = headers
        .get("link")
        .expect("a Link header")
        .to_str()
        .unwrap();
    let part = link
        .split(", ")
        .find(|part| part.ends_with(&format!("rel=\"{rel}\"")))
        .expect("the link");
    let url = part.trim_start_matches('<').split('>').next().unwrap();
    url.strip_prefix(base).unwrap().to_string()
}

/// (kind, filtered, group_key) of the recipient's notifications, oldest
/// first.
async fn rows(app: &TestApp, recipient: &str) -> Vec<(String, bool, Option<String>)> {
    sqlx::query_as(
        "select n.kind, n.filtered, n.group_key from notifications n
         join actors a on a.id = n.recipient_id
         where a.username = $1 and a.domain is null order by n.id",
    )
    .bind(recipient)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn likes_and_follows_group_by_post_within_twelve_hours_and_page_by_notification_ids() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    alpha.create_user("dave").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let carol = alpha.token("carol").await;
    let dave = alpha.token("dave").await;
    let bob = beta.token("bob").await;
    let alice_id = alpha.local("alice").await.id.to_string();

    // Bob (remote) follows and likes; carol and dave (local) like and
    // follow; bob mentions alice.
    let alice_on_beta = account_id(&beta, &alpha.handle("alice")).await;
    follow(&beta, &bob, &alice_on_beta).await;
    beta.deliver().await;
    alpha.deliver().await;
    let mine = post(&alpha, &alice, json!({"status": "group me"})).await;
    let post_id = mine["id"].as_str().unwrap().to_string();
    alpha.deliver().await;
    let on_beta = local_post_id(&beta, mine["uri"].as_str().unwrap()).await;
    favourite(&beta, &bob, &on_beta).await;
    beta.deliver().await;
    alpha.clock.advance(chrono::Duration::minutes(1));
    favourite(&alpha, &carol, &post_id).await;
    follow(&alpha, &carol, &alice_id).await;
    alpha.clock.advance(chrono::Duration::minutes(1));
    favourite(&alpha, &dave, &post_id).await;
    follow(&alpha, &dave, &alice_id).await;
    let mention = post(
        &beta,
        &bob,
        json!({"status": format!("@{} hello", alpha.handle("alice"))}),
    )
    .await;
    beta.deliver().await;

    let stored = rows(&alpha, "alice").await;
    let hour = alpha.clock.now().timestamp() / 3600;
    let hour_then = (alpha.clock.now() - chrono::Duration::minutes(2)).timestamp() / 3600;
    let favourite_key = format!("favourite-{post_id}-{hour_then}");
    let follow_key = format!("follow-{hour_then}");
    assert_eq!(
        stored,
        vec![
            ("follow".to_string(), false, Some(follow_key.clone())),
            ("favourite".to_string(), false, Some(favourite_key.clone())),
            ("favourite".to_string(), false, Some(favourite_key.clone())),
            ("follow".to_string(), false, Some(follow_key.clone())),
            ("favourite".to_string(), false, Some(favourite_key.clone())),
            ("follow".to_string(), false, Some(follow_key.clone())),
            ("mention".to_string(), false, None),
        ],
        "one bucket for the series, even across an hour ({hour})"
    );
    let mention_id: i64 = scalar(
        &alpha,
        "select id from notifications where kind = 'mention'",
    )
    .await;

    let (status, headers, page) = alpha
        .api(Method::GET, "/api/v2/notifications", Some(&alice), None)
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(
        group_keys(&page),
        [
            format!("ungrouped-{mention_id}"),
            follow_key.clone(),
            favourite_key.clone()
        ]
    );
    let groups = page["notification_groups"].as_array().unwrap();
    let bob_on_alpha = account_id(&alpha, &beta.handle("bob")).await;
    let carol_id = alpha.local("carol").await.id.to_string();
    let dave_id = alpha.local("dave").await.id.to_string();
    assert_eq!(groups[0]["type"], "mention");
    assert_eq!(groups[0]["notifications_count"], 1);
    assert_eq!(groups[0]["sample_account_ids"], json!([bob_on_alpha]));
    assert_eq!(groups[0]["page_min_id"], mention_id.to_string());
    assert_eq!(groups[0]["page_max_id"], mention_id.to_string());
    assert_eq!(
        groups[0]["most_recent_notification_id"],
        mention_id.to_string()
    );
    let on_alpha = local_post_id(&alpha, mention["uri"].as_str().unwrap()).await;
    assert_eq!(groups[0]["status_id"], on_alpha.as_str());
    assert_eq!(groups[1]["type"], "follow");
    assert_eq!(groups[1]["notifications_count"], 3);
    assert_eq!(
        groups[1]["sample_account_ids"],
        json!([dave_id, carol_id, bob_on_alpha]),
        "newest first"
    );
    assert!(groups[1].get("status_id").is_none(), "{}", groups[1]);
    assert_eq!(groups[2]["type"], "favourite");
    assert_eq!(groups[2]["notifications_count"], 3);
    assert_eq!(groups[2]["status_id"], post_id.as_str());
    assert!(groups[2]["latest_page_notification_at"].is_string());
    // The page's oldest notification of the group: bob's like.
    let bobs_like: i64 = scalar(
        &alpha,
        "select min(id) from notifications where kind = 'favourite'",
    )
    .await;
    assert_eq!(groups[2]["page_min_id"], bobs_like.to_string());
    // Each account and status once.
    let accounts: Vec<&str> = page["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(accounts.len(), 3, "{accounts:?}");
    let statuses: Vec<&str> = page["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, [on_alpha.as_str(), post_id.as_str()]);
    assert!(page.get("partial_accounts").is_none());
    assert!(headers.get("link").is_some());

    // Pages of two groups, by notification ids.
    let base = alpha.url("");
    let (_, headers, first) = alpha
        .api(
            Method::GET,
            "/api/v2/notifications?limit=2",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(group_keys(&first).len(), 2);
    let next = link(&headers, &base, "next");
    let (_, _, second) = alpha.api(Method::GET, &next, Some(&alice), None).await;
    // The follows below the first page show again, counted up to the
    // page's newest notification (Mastodon's clients merge them).
    assert_eq!(
        group_keys(&second),
        [favourite_key.clone(), follow_key.clone()]
    );
    assert_eq!(second["notification_groups"][0]["notifications_count"], 3);
    assert_eq!(second["notification_groups"][1]["notifications_count"], 2);
    assert_eq!(
        second["notification_groups"][1]["sample_account_ids"],
        json!([carol_id, bob_on_alpha])
    );

    // Partial avatars: each group's newest account in full.
    let (_, _, partial) = alpha
        .api(
            Method::GET,
            "/api/v2/notifications?expand_accounts=partial_avatars",
            Some(&alice),
            None,
        )
        .await;
    let full: Vec<&str> = partial["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(full, [bob_on_alpha.as_str(), dave_id.as_str()]);
    let partials = partial["partial_accounts"].as_array().unwrap();
    assert_eq!(partials.len(), 1, "{partial}");
    assert_eq!(partials[0]["id"], carol_id.as_str());
    assert!(partials[0].get("display_name").is_none());
    assert!(partials[0]["avatar"].is_string());
    let (status, _, refused) = alpha
        .api(
            Method::GET,
            "/api/v2/notifications?expand_accounts=everything",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(status, 400, "{refused}");

    // Clients that group only follows see each like alone.
    let (_, _, follows_only) = alpha
        .api(
            Method::GET,
            "/api/v2/notifications?grouped_types[]=follow",
            Some(&alice),
            None,
        )
        .await;
    let keys = group_keys(&follows_only);
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert!(keys.contains(&follow_key));
    assert_eq!(
        keys.iter().filter(|k| k.starts_with("ungrouped-")).count(),
        4
    );

    // One group, its accounts; unread counts of groups against
    // notifications.
    let (status, one) = alpha
        .api_get(&alice, &format!("/api/v2/notifications/{favourite_key}"))
        .await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(group_keys(&one), std::slice::from_ref(&favourite_key));
    assert_eq!(one["notification_groups"][0]["notifications_count"], 3);
    assert!(one["notification_groups"][0].get("page_min_id").is_none());
    assert_eq!(one["statuses"][0]["id"], post_id.as_str());
    let (status, members) = alpha
        .api_get(
            &alice,
            &format!("/api/v2/notifications/{favourite_key}/accounts"),
        )
        .await;
    assert_eq!(status, 200, "{members}");
    let member_ids: Vec<&str> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        member_ids,
        [dave_id.as_str(), carol_id.as_str(), bob_on_alpha.as_str()]
    );
    let (status, _) = alpha
        .api_get(&alice, "/api/v2/notifications/favourite-1-1")
        .await;
    assert_eq!(status, 404);
    let (_, v2_unread) = alpha
        .api_get(&alice, "/api/v2/notifications/unread_count")
        .await;
    assert_eq!(v2_unread["count"], 3);
    let (_, v1_unread) = alpha
        .api_get(&alice, "/api/v1/notifications/unread_count")
        .await;
    assert_eq!(v1_unread["count"], 7);
    let (_, v1) = alpha.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(v1[0]["group_key"], format!("ungrouped-{mention_id}"));
    assert_eq!(v1[1]["group_key"], follow_key.as_str());

    // Ten hours on, a like still joins the group; thirteen hours after
    // that one, the next starts its own.
    alpha.create_user("erin").await;
    alpha.create_user("fred").await;
    let erin = alpha.token("erin").await;
    let fred = alpha.token("fred").await;
    alpha.clock.advance(chrono::Duration::hours(10));
    favourite(&alpha, &erin, &post_id).await;
    alpha.clock.advance(chrono::Duration::hours(13));
    favourite(&alpha, &fred, &post_id).await;
    let later_hour = alpha.clock.now().timestamp() / 3600;
    let keys: Vec<Option<String>> = sqlx::query_scalar(
        "select group_key from notifications where kind = 'favourite' order by id desc limit 2",
    )
    .fetch_all(&alpha.db)
    .await
    .unwrap();
    assert_eq!(
        keys,
        [
            Some(format!("favourite-{post_id}-{later_hour}")),
            Some(favourite_key.clone())
        ]
    );

    // Dismissing a group removes all its notifications.
    let (status, body) = alpha
        .api_post(
            &alice,
            &format!("/api/v2/notifications/{favourite_key}/dismiss"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        scalar(
            &alpha,
            &format!("select count(*) from notifications where group_key = '{favourite_key}'")
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            &alpha,
            "select count(*) from notifications where kind = 'favourite'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_remote_mention_from_an_account_not_followed_waits_as_a_request_until_accepted() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    // A Web Push subscription that wants mentions.
    sqlx::query(
        "insert into web_push_subscriptions (token_id, actor_id, endpoint, key_p256dh, key_auth,
                                             alerts, policy, access_token, created_at, updated_at)
         select t.id, a.id, 'https://push.test/alice', 'k', 'a', '{mention}', 'all', 'x', now(), now()
         from oauth_tokens t, actors a where a.username = 'alice' and a.domain is null",
    )
    .execute(&alpha.db)
    .await
    .unwrap();

    let (status, policy) = alpha.api_get(&alice, "/api/v2/notifications/policy").await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(
        policy,
        json!({
            "for_not_following": "accept",
            "for_not_followers": "accept",
            "for_new_accounts": "accept",
            "for_private_mentions": "filter",
            "for_limited_accounts": "filter",
            "summary": {"pending_requests_count": 0, "pending_notifications_count": 0}
        })
    );
    let (status, _, policy) = alpha
        .api(
            Method::PATCH,
            "/api/v2/notifications/policy",
            Some(&alice),
            Some(json!({"for_not_following": "filter"})),
        )
        .await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(policy["for_not_following"], "filter");
    assert_eq!(policy["for_private_mentions"], "filter");
    let (status, _, refused) = alpha
        .api(
            Method::PATCH,
            "/api/v2/notifications/policy",
            Some(&alice),
            Some(json!({"for_new_accounts": "ignore"})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");

    for text in ["first", "second"] {
        beta.clock.advance(chrono::Duration::minutes(1));
        post(
            &beta,
            &bob,
            json!({"status": format!("@{} {text}", alpha.handle("alice"))}),
        )
        .await;
        beta.deliver().await;
    }
    assert_eq!(
        rows(&alpha, "alice").await,
        vec![
            ("mention".to_string(), true, None),
            ("mention".to_string(), true, None)
        ]
    );
    assert_eq!(
        scalar(&alpha, "select count(*) from push_deliveries").await,
        0,
        "nothing pushed"
    );
    let (_, list) = alpha.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(list, json!([]));
    let (_, list) = alpha
        .api_get(&alice, "/api/v1/notifications?include_filtered=true")
        .await;
    assert_eq!(kinds(&list), ["mention", "mention"]);
    let (_, grouped) = alpha.api_get(&alice, "/api/v2/notifications").await;
    assert_eq!(grouped["notification_groups"], json!([]));
    let (_, grouped) = alpha
        .api_get(&alice, "/api/v2/notifications?include_filtered=true")
        .await;
    assert_eq!(group_keys(&grouped).len(), 2);
    let (_, unread) = alpha
        .api_get(&alice, "/api/v1/notifications/unread_count")
        .await;
    assert_eq!(unread["count"], 0);

    let (_, policy) = alpha.api_get(&alice, "/api/v1/notifications/policy").await;
    assert_eq!(
        policy,
        json!({
            "filter_not_following": true,
            "filter_not_followers": false,
            "filter_new_accounts": false,
            "filter_private_mentions": true,
            "summary": {"pending_requests_count": 1, "pending_notifications_count": 2}
        })
    );
    let bob_on_alpha = account_id(&alpha, &beta.handle("bob")).await;
    let (status, requests) = alpha
        .api_get(&alice, "/api/v1/notifications/requests")
        .await;
    assert_eq!(status, 200, "{requests}");
    assert_eq!(requests.as_array().unwrap().len(), 1, "{requests}");
    assert_eq!(requests[0]["account"]["id"], bob_on_alpha.as_str());
    assert_eq!(requests[0]["notifications_count"], "2");
    assert!(
        requests[0]["last_status"]["content"]
            .as_str()
            .unwrap()
            .contains("second")
    );
    let request_id = requests[0]["id"].as_str().unwrap().to_string();
    let (status, one) = alpha
        .api_get(
            &alice,
            &format!("/api/v1/notifications/requests/{request_id}"),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["id"], request_id.as_str());

    // Accepting merges them in and lets bob through from now on.
    let (status, body) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/notifications/requests/{request_id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, merged) = alpha
        .api_get(&alice, "/api/v1/notifications/requests/merged")
        .await;
    assert_eq!(merged, json!({"merged": true}));
    assert_eq!(
        scalar(&alpha, "select count(*) from notification_requests").await,
        0
    );
    assert_eq!(
        scalar(&alpha, "select count(*) from notification_permissions").await,
        1
    );
    let (_, list) = alpha.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(kinds(&list), ["mention", "mention"]);
    beta.clock.advance(chrono::Duration::minutes(1));
    post(
        &beta,
        &bob,
        json!({"status": format!("@{} third", alpha.handle("alice"))}),
    )
    .await;
    beta.deliver().await;
    assert_eq!(
        rows(&alpha, "alice").await.last().unwrap(),
        &("mention".to_string(), false, None)
    );
    assert_eq!(
        scalar(&alpha, "select count(*) from push_deliveries").await,
        1,
        "pushed once accepted"
    );
    let (status, _) = alpha
        .api_post(
            &alice,
            &format!("/api/v1/notifications/requests/{request_id}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "the request is gone");

    // The v1 policy writes booleans.
    let (status, _, policy) = alpha
        .api(
            Method::PUT,
            "/api/v1/notifications/policy",
            Some(&alice),
            Some(json!({"filter_not_following": false})),
        )
        .await;
    assert_eq!(status, 200, "{policy}");
    assert_eq!(policy["filter_not_following"], false);
    let (_, policy) = alpha.api_get(&alice, "/api/v2/notifications/policy").await;
    assert_eq!(policy["for_not_following"], "accept");
}

#[tokio::test]
async fn private_mentions_are_filtered_unless_they_answer_and_new_accounts_can_be_dropped() {
    let (alpha, beta) = two_instances().await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.create_user("carol").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    let carol = beta.token("carol").await;

    // Bob writes privately out of the blue: filtered (Mastodon's default).
    post(
        &beta,
        &bob,
        json!({"status": format!("@{} psst", alpha.handle("alice")), "visibility": "direct"}),
    )
    .await;
    beta.deliver().await;
    assert_eq!(
        rows(&alpha, "alice").await,
        vec![("mention".to_string(), true, None)]
    );
    assert_eq!(
        scalar(
            &alpha,
            "select notifications_count from notification_requests"
        )
        .await,
        1
    );

    // Alice writes privately to carol, whose private answer is let through.
    alpha.clock.advance(chrono::Duration::minutes(1));
    let asked = post(
        &alpha,
        &alice,
        json!({"status": format!("@{} a question", beta.handle("carol")), "visibility": "direct"}),
    )
    .await;
    alpha.deliver().await;
    let on_beta = local_post_id(&beta, asked["uri"].as_str().unwrap()).await;
    beta.clock.advance(chrono::Duration::minutes(1));
    post(
        &beta,
        &carol,
        json!({
            "status": format!("@{} an answer", alpha.handle("alice")),
            "visibility": "direct",
            "in_reply_to_id": on_beta,
        }),
    )
    .await;
    beta.deliver().await;
    assert_eq!(
        rows(&alpha, "alice").await.last().unwrap(),
        &("mention".to_string(), false, None),
        "an answer to alice's own private mention"
    );
    let (_, list) = alpha.api_get(&alice, "/api/v1/notifications").await;
    assert_eq!(kinds(&list), ["mention"]);

    // New accounts dropped: carol's public mention leaves no row; thirty
    // days on she is no longer new.
    let (status, _, _) = alpha
        .api(
            Method::PATCH,
            "/api/v2/notifications/policy",
            Some(&alice),
            Some(json!({"for_new_accounts": "drop"})),
        )
        .await;
    assert_eq!(status, 200);
    post(
        &beta,
        &carol,
        json!({"status": format!("@{} hi all", alpha.handle("alice"))}),
    )
    .await;
    beta.deliver().await;
    assert_eq!(rows(&alpha, "alice").await.len(), 2, "dropped");
    alpha.clock.advance(chrono::Duration::days(31));
    beta.clock.advance(chrono::Duration::days(31));
    post(
        &beta,
        &carol,
        json!({"status": format!("@{} hi again", alpha.handle("alice"))}),
    )
    .await;
    beta.deliver().await;
    assert_eq!(
        rows(&alpha, "alice").await.last().unwrap(),
        &("mention".to_string(), false, None)
    );

    // Dismissing bob's request deletes what it held.
    let (_, requests) = alpha
        .api_get(&alice, "/api/v1/notifications/requests")
        .await;
    let id = requests[0]["id"].as_str().unwrap().to_string();
    let (status, body) = alpha
        .api_post(
            &alice,
            "/api/v1/notifications/requests/dismiss",
            json!({"id": [id]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        scalar(&alpha, "select count(*) from notification_requests").await,
        0
    );
    assert_eq!(
        scalar(&alpha, "select count(*) from notifications where filtered").await,
        0
    );
    let (_, policy) = alpha.api_get(&alice, "/api/v2/notifications/policy").await;
    assert_eq!(
        policy["summary"],
        json!({"pending_requests_count": 0, "pending_notifications_count": 0})
    );
}
