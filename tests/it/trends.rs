//! Trends and follow suggestions: hashtags and posts scored from this
//! instance's activity (local accounts and a second instance) by the timed
//! work, hidden until a moderator approves them (admin API and web admin
//! page), rejected ones never shown, scores decaying as the clock moves;
//! suggestions from follows and interactions, without what they must leave
//! out.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use skein::domain::trends::day_start;
use skein::jobs::WorkerLock;
use skein::jobs::timed::{self, Work};
use skein::service::trends;

use crate::harness::{Options, TestApp};
use crate::web::{Browser, csrf};

/// Two instances whose clocks both stand at noon (UTC) today, so a test's
/// day does not end midway.
async fn pair() -> (TestApp, TestApp) {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let noon = day_start(Utc::now()) + Duration::hours(12);
    alpha.clock.set(noon);
    beta.clock.set(noon);
    (alpha, beta)
}

async fn user(app: &TestApp, name: &str) -> String {
    app.create_user(name).await;
    app.token(name).await
}

/// Posts `text` publicly; the status.
async fn post(app: &TestApp, token: &str, text: &str) -> Value {
    let (status, body) = app
        .api_post(
            token,
            "/api/v1/statuses",
            json!({"status": text, "visibility": "public"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn public_get(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, Value) {
    app.api(reqwest::Method::GET, path, None, None).await
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

async fn tag_row(app: &TestApp, tag: &str) -> (i64, f64, Option<bool>) {
    sqlx::query_as("select id, score, trendable from tag_trends where tag = $1")
        .bind(tag)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hashtag_many_accounts_use_trends_once_approved_and_its_score_decays() {
    let (alpha, beta) = pair().await;
    alpha.create_staff("mod", "moderator").await;
    let moderator = alpha.token("mod").await;
    let mut locals = Vec::new();
    for name in ["ann", "ben", "cat", "dan"] {
        locals.push(user(&alpha, name).await);
    }
    let zoe = user(&beta, "zoe").await;
    crate::streaming::follow(&alpha, &locals[0], &beta, "zoe").await;

    // Four local accounts and one of the other instance use #rust (and
    // #spam); one of them twice, and a followers-only post does not count.
    for token in &locals {
        post(&alpha, token, "Learning #Rust and #spam today").await;
    }
    post(&alpha, &locals[0], "More #rust").await;
    let (status, _) = alpha
        .api_post(
            &locals[1],
            "/api/v1/statuses",
            json!({"status": "#rust for friends", "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 200);
    post(&beta, &zoe, "#rust is great #spam").await;
    beta.deliver().await;
    let remote: i64 = sqlx::query_scalar(
        "select count(*) from post_tags t join posts p on p.id = t.post_id
         join actors a on a.id = p.author_id where a.domain is not null and t.tag = 'rust'",
    )
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert_eq!(remote, 1, "the other instance's post arrived");

    // The timed work scores them: five accounts today, none yesterday.
    alpha.clock.advance(Duration::minutes(1));
    let lock = WorkerLock::acquire(&alpha.db).await.unwrap();
    let ran = timed::run_due(&alpha.state, lock.id).await.unwrap();
    assert!(ran.contains(&Work::Trends), "{ran:?}");
    let (rust_id, score, trendable) = tag_row(&alpha, "rust").await;
    assert_eq!(score, 16.0);
    assert_eq!(trendable, None);
    let (spam_id, spam_score, _) = tag_row(&alpha, "spam").await;
    assert_eq!(spam_score, 16.0);

    // Not reviewed: nobody sees them.
    let (status, _, list) = public_get(&alpha, "/api/v1/trends/tags").await;
    assert_eq!(status, 200);
    assert_eq!(list, json!([]));

    // Moderators see both, awaiting review, with their history.
    let (status, candidates) = alpha.api_get(&moderator, "/api/v1/admin/trends/tags").await;
    assert_eq!(status, 200, "{candidates}");
    let mut seen = names(&candidates);
    seen.sort();
    assert_eq!(seen, ["rust", "spam"]);
    let rust = candidates
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "rust")
        .unwrap();
    assert_eq!(rust["id"], rust_id.to_string());
    assert_eq!(rust["requires_review"], true);
    assert_eq!(rust["trendable"], false);
    assert_eq!(rust["usable"], true);
    let history = rust["history"].as_array().unwrap();
    assert_eq!(history.len(), 7);
    let today = day_start(skein::clock::Clock::now(&*alpha.clock));
    assert_eq!(history[0]["day"], today.timestamp().to_string());
    assert_eq!(history[0]["accounts"], "5");
    assert_eq!(history[0]["uses"], "6");
    assert_eq!(
        history[1]["day"],
        (today - Duration::days(1)).timestamp().to_string()
    );
    assert_eq!(history[1]["uses"], "0");

    // Someone else's token has no admin scope: refused, and may not review.
    let (status, _) = alpha.api_get(&locals[0], "/api/v1/admin/trends/tags").await;
    assert_eq!(status, 403);
    let (status, _) = alpha
        .api_post(
            &locals[0],
            &format!("/api/v1/admin/trends/tags/{rust_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(tag_row(&alpha, "rust").await.2, None);

    // A moderator approves #rust through the API...
    let (status, approved) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/trends/tags/{rust_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["trendable"], true);
    assert_eq!(approved["requires_review"], false);
    // ... and rejects #spam on the web admin page.
    let mut browser = Browser::new(&alpha);
    browser.sign_in("mod").await;
    let page = browser.get("/admin/trends").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("#spam"), "{}", page.body);
    assert!(page.body.contains("Pending review"));
    let token = csrf(&page.body);
    let done = browser
        .post(
            &format!("/admin/trends/tags/{spam_id}/reject"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(tag_row(&alpha, "spam").await.2, Some(false));
    let actions: Vec<(String, String, String)> = sqlx::query_as(
        "select action, target, via from admin_actions where target_type = 'tag' order by id",
    )
    .fetch_all(&alpha.db)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            (
                "trends.approve_tag".to_string(),
                rust_id.to_string(),
                "api".to_string()
            ),
            (
                "trends.reject_tag".to_string(),
                spam_id.to_string(),
                "web".to_string()
            ),
        ]
    );

    // Everyone sees #rust now, under both names; #spam stays hidden, also
    // after the next refresh.
    trends::refresh(&alpha.state).await.unwrap();
    let (_, _, list) = public_get(&alpha, "/api/v1/trends/tags").await;
    assert_eq!(names(&list), ["rust"]);
    assert_eq!(list[0]["id"], rust_id.to_string());
    assert_eq!(list[0]["url"], format!("{}/tags/rust", alpha.base));
    assert_eq!(list[0]["history"][0]["accounts"], "5");
    let (_, _, old_name) = public_get(&alpha, "/api/v1/trends").await;
    assert_eq!(old_name, list);
    // A full page links to the next one by offset.
    let (_, headers, page) = public_get(&alpha, "/api/v1/trends/tags?limit=1").await;
    assert_eq!(names(&page), ["rust"]);
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains("limit=1&offset=1>; rel=\"next\""), "{link}");
    let (_, _, beyond) = public_get(&alpha, "/api/v1/trends/tags?offset=1").await;
    assert_eq!(beyond, json!([]));

    // Taking #rust out of use hides it; putting it back shows it again.
    let (status, _, changed) = alpha
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/tags/{rust_id}"),
            Some(&moderator),
            Some(json!({"usable": false})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["usable"], false);
    assert_eq!(changed["trendable"], true);
    let (_, _, list) = public_get(&alpha, "/api/v1/trends/tags").await;
    assert_eq!(list, json!([]));
    let (status, _, _) = alpha
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/tags/{rust_id}"),
            Some(&moderator),
            Some(json!({"usable": true})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, shown) = alpha
        .api_get(&moderator, &format!("/api/v1/admin/tags/{rust_id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(shown["usable"], true);
    let (status, all) = alpha.api_get(&moderator, "/api/v1/admin/tags").await;
    assert_eq!(status, 200);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, _) = alpha.api_get(&moderator, "/api/v1/admin/tags/1").await;
    assert_eq!(status, 404);

    // Nobody uses it the next day: the peak decays by half every four
    // hours, and below 1 the hashtag no longer trends.
    alpha.clock.advance(Duration::hours(16));
    trends::refresh(&alpha.state).await.unwrap();
    let (_, score, _) = tag_row(&alpha, "rust").await;
    assert!((score - 1.0).abs() < 1e-9, "{score}");
    let (_, _, list) = public_get(&alpha, "/api/v1/trends/tags").await;
    assert_eq!(names(&list), ["rust"]);
    assert_eq!(list[0]["history"][0]["uses"], "0");
    assert_eq!(list[0]["history"][1]["uses"], "6");
    alpha.clock.advance(Duration::hours(4));
    trends::refresh(&alpha.state).await.unwrap();
    assert_eq!(tag_row(&alpha, "rust").await.1, 0.0);
    let (_, _, list) = public_get(&alpha, "/api/v1/trends/tags").await;
    assert_eq!(list, json!([]));
    let (_, candidates) = alpha.api_get(&moderator, "/api/v1/admin/trends/tags").await;
    assert_eq!(candidates, json!([]));
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

async fn post_score(app: &TestApp, id: &str) -> Option<f64> {
    sqlx::query_scalar("select score from post_trends where post_id = $1")
        .bind(id.parse::<i64>().unwrap())
        .fetch_optional(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn posts_gaining_favourites_and_reposts_trend_once_approved_and_decay() {
    let (alpha, beta) = pair().await;
    alpha.create_staff("mod", "moderator").await;
    let moderator = alpha.token("mod").await;
    let alice = user(&alpha, "alice").await;
    let quinn = user(&alpha, "quinn").await;
    let mut fans = Vec::new();
    for name in ["f1", "f2", "f3", "f4"] {
        fans.push(user(&alpha, name).await);
    }
    let yan = user(&beta, "yan").await;

    let liked = post(&alpha, &alice, "Look at this").await;
    let liked_id = liked["id"].as_str().unwrap().to_string();
    let other = post(&alpha, &alice, "And this").await;
    let other_id = other["id"].as_str().unwrap().to_string();
    let hidden = post(&alpha, &quinn, "Nobody should find me").await;
    let hidden_id = hidden["id"].as_str().unwrap().to_string();
    sqlx::query("update actors set discoverable = false where username = 'quinn'")
        .execute(&alpha.db)
        .await
        .unwrap();
    let few = post(&alpha, &alice, "Only four").await;
    let few_id = few["id"].as_str().unwrap().to_string();

    for fan in &fans {
        favourite(&alpha, fan, &liked_id).await;
        favourite(&alpha, fan, &other_id).await;
        favourite(&alpha, fan, &hidden_id).await;
        favourite(&alpha, fan, &few_id).await;
    }
    let (status, _) = alpha
        .api_post(
            &fans[0],
            &format!("/api/v1/statuses/{liked_id}/reblog"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    for id in [&other_id, &hidden_id] {
        let (status, _) = alpha
            .api_post(
                &fans[1],
                &format!("/api/v1/statuses/{id}/reblog"),
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
    }
    // Someone on the other instance favourites the first post too.
    let uri = liked["uri"].as_str().unwrap();
    let query: String = url::form_urlencoded::byte_serialize(uri.as_bytes()).collect();
    let (status, found) = beta
        .api_get(
            &yan,
            &format!("/api/v2/search?q={query}&resolve=true&type=statuses"),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let there = found["statuses"][0]["id"].as_str().unwrap().to_string();
    favourite(&beta, &yan, &there).await;
    beta.deliver().await;
    let likes: i32 = sqlx::query_scalar("select likes_count from posts where id = $1")
        .bind(liked_id.parse::<i64>().unwrap())
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(likes, 5, "the other instance's favourite arrived");

    // Scored: six interactions (25) and five (16), a minute old; the
    // undiscoverable author's post and the one with four are not.
    alpha.clock.advance(Duration::minutes(1));
    trends::refresh(&alpha.state).await.unwrap();
    let halving = 0.5f64.powf(1.0 / 120.0);
    let first = post_score(&alpha, &liked_id).await.unwrap();
    assert!((first - 25.0 * halving).abs() < 1e-9, "{first}");
    let second = post_score(&alpha, &other_id).await.unwrap();
    assert!((second - 16.0 * halving).abs() < 1e-9, "{second}");
    assert_eq!(post_score(&alpha, &hidden_id).await, None);
    assert_eq!(post_score(&alpha, &few_id).await, None);

    let (status, _, list) = public_get(&alpha, "/api/v1/trends/statuses").await;
    assert_eq!((status, list), (200, json!([])));
    let (status, candidates) = alpha
        .api_get(&moderator, "/api/v1/admin/trends/statuses")
        .await;
    assert_eq!(status, 200, "{candidates}");
    assert_eq!(ids(&candidates), [liked_id.clone(), other_id.clone()]);
    assert_eq!(candidates[0]["requires_review"], true);
    assert_eq!(candidates[0]["content"], liked["content"]);

    let (status, approved) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/trends/statuses/{liked_id}/approve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["id"], liked_id.as_str());
    assert_eq!(approved["requires_review"], false);
    let (status, _) = alpha
        .api_post(
            &moderator,
            &format!("/api/v1/admin/trends/statuses/{other_id}/reject"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let reviews: Vec<(i64, bool)> =
        sqlx::query_as("select post_id, trendable from post_trend_reviews order by post_id")
            .fetch_all(&alpha.db)
            .await
            .unwrap();
    assert_eq!(
        reviews,
        [
            (liked_id.parse().unwrap(), true),
            (other_id.parse().unwrap(), false)
        ]
    );

    let (_, _, list) = public_get(&alpha, "/api/v1/trends/statuses").await;
    assert_eq!(ids(&list), std::slice::from_ref(&liked_id));
    assert_eq!(list[0]["favourites_count"], 5);
    // Someone who blocks the author does not see it.
    let alice_id = liked["account"]["id"].as_str().unwrap();
    let (status, _) = alpha
        .api_post(
            &fans[2],
            &format!("/api/v1/accounts/{alice_id}/block"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, list) = alpha.api_get(&fans[2], "/api/v1/trends/statuses").await;
    assert_eq!(list, json!([]));
    let (_, list) = alpha.api_get(&fans[3], "/api/v1/trends/statuses").await;
    assert_eq!(ids(&list), std::slice::from_ref(&liked_id));
    // No links trend without preview cards.
    let (status, _, links) = public_get(&alpha, "/api/v1/trends/links").await;
    assert_eq!((status, links), (200, json!([])));

    // Two hours later the score has halved; a day later it is gone.
    alpha.clock.advance(Duration::hours(2));
    trends::refresh(&alpha.state).await.unwrap();
    let later = post_score(&alpha, &liked_id).await.unwrap();
    assert!((later - first / 2.0).abs() < 1e-9, "{later} {first}");
    alpha.clock.advance(Duration::hours(24));
    trends::refresh(&alpha.state).await.unwrap();
    assert_eq!(post_score(&alpha, &liked_id).await, None);
    let (_, _, list) = public_get(&alpha, "/api/v1/trends/statuses").await;
    assert_eq!(list, json!([]));
}

async fn account_id(app: &TestApp, name: &str) -> String {
    app.local(name).await.id.to_string()
}

async fn follow(app: &TestApp, token: &str, name: &str) {
    let id = account_id(app, name).await;
    let (status, body) = app
        .api_post(token, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
}

fn accounts_of(list: &Value, key: Option<&str>) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let account = match key {
                Some(k) => &s[k],
                None => s,
            };
            account["username"].as_str().unwrap().to_string()
        })
        .collect()
}

#[tokio::test]
async fn suggestions_come_from_follows_and_interactions_without_what_they_must_leave_out() {
    let app = TestApp::spawn().await;
    let mut tokens = std::collections::HashMap::new();
    for name in [
        "alice", "bob", "carol", "dave", "erin", "frank", "gina", "iris", "jack",
    ] {
        tokens.insert(name, user(&app, name).await);
    }
    let t = |name: &str| tokens[name].clone();
    follow(&app, &t("alice"), "bob").await;
    follow(&app, &t("alice"), "carol").await;
    for target in ["dave", "frank", "gina", "iris"] {
        follow(&app, &t("bob"), target).await;
    }
    for target in ["dave", "erin", "gina", "bob", "alice"] {
        follow(&app, &t("carol"), target).await;
    }
    // Frank is not discoverable; alice mutes gina and blocks iris.
    sqlx::query("update actors set discoverable = false where username = 'frank'")
        .execute(&app.db)
        .await
        .unwrap();
    let gina = account_id(&app, "gina").await;
    let (status, _) = app
        .api_post(
            &t("alice"),
            &format!("/api/v1/accounts/{gina}/mute"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let iris = account_id(&app, "iris").await;
    let (status, _) = app
        .api_post(
            &t("alice"),
            &format!("/api/v1/accounts/{iris}/block"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    // Jack's post is liked by people here.
    let jacks = post(&app, &t("jack"), "Hello").await;
    favourite(&app, &t("bob"), jacks["id"].as_str().unwrap()).await;

    let (status, suggestions) = app.api_get(&t("alice"), "/api/v2/suggestions").await;
    assert_eq!(status, 200, "{suggestions}");
    // Dave is followed by both accounts alice follows, erin by one; then
    // those followed most here, then jack for the favourite.
    assert_eq!(
        accounts_of(&suggestions, Some("account")),
        ["dave", "erin", "jack"]
    );
    assert_eq!(suggestions[0]["source"], "past_interactions");
    assert_eq!(
        suggestions[0]["sources"],
        json!(["friends_of_friends", "most_followed"])
    );
    assert_eq!(suggestions[2]["source"], "global");
    assert_eq!(suggestions[2]["sources"], json!(["most_interactions"]));

    let (status, v1) = app.api_get(&t("alice"), "/api/v1/suggestions").await;
    assert_eq!(status, 200);
    assert_eq!(accounts_of(&v1, None), ["dave", "erin", "jack"]);
    let (_, paged) = app
        .api_get(&t("alice"), "/api/v2/suggestions?limit=1&offset=1")
        .await;
    assert_eq!(accounts_of(&paged, Some("account")), ["erin"]);

    // Dismissed for good.
    let erin = account_id(&app, "erin").await;
    let (status, body) = app
        .api_delete(&t("alice"), &format!("/api/v1/suggestions/{erin}"))
        .await;
    assert_eq!((status, body), (200, json!({})));
    let dismissed: i64 = sqlx::query_scalar("select count(*) from suggestion_dismissals")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(dismissed, 1);
    let (_, v1) = app.api_get(&t("alice"), "/api/v1/suggestions").await;
    assert_eq!(accounts_of(&v1, None), ["dave", "jack"]);
    // Following dave takes him out too.
    follow(&app, &t("alice"), "dave").await;
    let (_, v2) = app.api_get(&t("alice"), "/api/v2/suggestions").await;
    assert_eq!(accounts_of(&v2, Some("account")), ["jack"]);
    let (status, _) = app.api_delete(&t("alice"), "/api/v1/suggestions/1").await;
    assert_eq!(status, 404);
}
