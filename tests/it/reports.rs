//! Reports between two real instances: a user reports a remote account and
//! one of its posts; forwarded, the report reaches the other instance's
//! admin queue as a Flag from this instance's actor; not forwarded, it
//! stays here. Moderators list, resolve and reopen reports through
//! Mastodon's admin API, and every such action is in the audit log.

use serde_json::json;

use crate::harness::{Options, TestApp};

#[tokio::test]
async fn a_forwarded_report_reaches_the_other_instances_admin_queue_as_a_flag() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("carol").await;
    alpha.create_staff("watcher", "moderator").await;
    let bob = beta.create_user("bob").await;
    beta.create_staff("root", "admin").await;
    beta.create_user("plain").await;
    let carol = alpha.token("carol").await;
    let alpha_mod = alpha.token("watcher").await;
    let bob_token = beta.token("bob").await;
    let beta_admin = beta.token("root").await;
    let beta_plain = beta.token("plain").await;

    let (_, bad) = beta
        .api_post(
            &bob_token,
            "/api/v1/statuses",
            json!({"status": "buy cheap pills"}),
        )
        .await;
    let bad_uri = bad["uri"].as_str().unwrap().to_string();
    let (_, found) = alpha
        .api_get(
            &carol,
            &format!("/api/v2/search?q={bad_uri}&resolve=true&type=statuses"),
        )
        .await;
    let post_here = found["statuses"][0]["id"].as_str().unwrap().to_string();
    let bob_here = found["statuses"][0]["account"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let (status, report) = alpha
        .api_post(
            &carol,
            "/api/v1/reports",
            json!({
                "account_id": bob_here,
                "status_ids": [post_here],
                "comment": "spam in my replies",
                "category": "spam",
                "forward": true
            }),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["forwarded"], true);
    assert_eq!(report["category"], "spam");
    assert_eq!(report["status_ids"][0], post_here.as_str());
    // Not forwarded: stays on alpha.
    let (status, _) = alpha
        .api_post(
            &carol,
            "/api/v1/reports",
            json!({"account_id": bob_here, "comment": "only for my admins"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(alpha.deliver().await, 1, "one Flag goes out");

    // On beta: one report, from alpha's instance actor, about bob and his post.
    let (reporter, target, posts, comment): (String, i64, Vec<i64>, String) = sqlx::query_as(
        "select a.ap_id, r.target_id, r.post_ids, r.comment
         from reports r join actors a on a.id = r.reporter_id",
    )
    .fetch_one(&beta.db)
    .await
    .unwrap();
    assert_eq!(
        reporter,
        alpha.url("/actor"),
        "the reporter stays anonymous"
    );
    assert_eq!(target, bob.actor.id);
    assert_eq!(
        posts,
        vec![bad["id"].as_str().unwrap().parse::<i64>().unwrap()]
    );
    assert_eq!(comment, "spam in my replies");

    let (status, _) = beta.api_get(&beta_plain, "/api/v1/admin/reports").await;
    assert_eq!(status, 403);
    let (status, queue) = beta.api_get(&beta_admin, "/api/v1/admin/reports").await;
    assert_eq!(status, 200);
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0]["target_account"]["username"], "bob");
    assert_eq!(queue[0]["statuses"][0]["content"], bad["content"]);
    let id = queue[0]["id"].as_str().unwrap().to_string();
    // Beta's staff hear of it (Mastodon's admin.report); plain users do not.
    let (_, told) = beta
        .api_get(&beta_admin, "/api/v1/notifications?types[]=admin.report")
        .await;
    assert_eq!(told.as_array().unwrap().len(), 1, "{told}");
    assert_eq!(told[0]["type"], "admin.report");
    assert_eq!(told[0]["report"]["id"], id.as_str());
    assert_eq!(told[0]["report"]["target_account"]["username"], "bob");
    let (_, plain_told) = beta.api_get(&beta_plain, "/api/v1/notifications").await;
    assert_eq!(plain_told, json!([]));

    // Filed under another category; one that does not exist is refused.
    let put = |category: &'static str| {
        let (beta, token, id) = (&beta, beta_admin.clone(), id.clone());
        async move {
            beta.api(
                reqwest::Method::PUT,
                &format!("/api/v1/admin/reports/{id}"),
                Some(&token),
                Some(json!({ "category": category })),
            )
            .await
        }
    };
    let (status, _, updated) = put("spam").await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["category"], "spam");
    let (status, _, _) = put("boring").await;
    assert_eq!(status, 422);
    let category: String = sqlx::query_scalar("select category from reports")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(category, "spam");

    let (status, resolved) = beta
        .api_post(
            &beta_admin,
            &format!("/api/v1/admin/reports/{id}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(resolved["action_taken"], true);
    assert_eq!(resolved["action_taken_by_account"]["username"], "root");
    let (_, open) = beta.api_get(&beta_admin, "/api/v1/admin/reports").await;
    assert_eq!(open.as_array().unwrap().len(), 0);
    let (_, closed) = beta
        .api_get(&beta_admin, "/api/v1/admin/reports?resolved=true")
        .await;
    assert_eq!(closed.as_array().unwrap().len(), 1);
    let actions: Vec<String> = sqlx::query_scalar("select action from admin_actions order by id")
        .fetch_all(&beta.db)
        .await
        .unwrap();
    assert_eq!(actions, ["report.update", "report.resolve"]);

    // Alpha's moderators see both of carol's reports, and were told of each.
    let (_, alpha_queue) = alpha.api_get(&alpha_mod, "/api/v1/admin/reports").await;
    assert_eq!(alpha_queue.as_array().unwrap().len(), 2);
    assert_eq!(alpha_queue[0]["account"]["username"], "carol");
    let (_, told) = alpha.api_get(&alpha_mod, "/api/v1/notifications").await;
    let kinds: Vec<&str> = told
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["admin.report", "admin.report"]);
    assert_eq!(told[0]["account"]["username"], "carol");
}

#[tokio::test]
async fn reports_are_checked_and_flags_from_domains_whose_reports_are_rejected_are_dropped() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let carol = alpha.create_user("carol").await;
    alpha.create_user("dave").await;
    beta.create_user("bob").await;
    beta.create_staff("root", "admin").await;
    let carol_token = alpha.token("carol").await;
    let beta_admin = beta.token("root").await;
    let dave_id = alpha.local("dave").await.id;

    for (body, expected) in [
        (json!({"account_id": carol.actor.id.to_string()}), 422),
        (
            json!({"account_id": dave_id.to_string(), "category": "gossip"}),
            422,
        ),
        (json!({"account_id": "999999"}), 404),
        (
            json!({"account_id": dave_id.to_string(), "comment": "x".repeat(1001)}),
            422,
        ),
    ] {
        let (status, _) = alpha.api_post(&carol_token, "/api/v1/reports", body).await;
        assert_eq!(status, expected);
    }
    let count: i64 = sqlx::query_scalar("select count(*) from reports")
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(count, 0, "refused reports change nothing");

    // Beta rejects alpha's reports: a forwarded Flag is accepted and dropped.
    let (status, _) = beta
        .api_post(
            &beta_admin,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "alpha.test", "severity": "noop", "reject_reports": true}),
        )
        .await;
    assert_eq!(status, 200);
    let bob_here = alpha.resolve(&beta.url("/users/bob")).await;
    let (status, _) = alpha
        .api_post(
            &carol_token,
            "/api/v1/reports",
            json!({"account_id": bob_here.id.to_string(), "forward": true}),
        )
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    let count: i64 = sqlx::query_scalar("select count(*) from reports")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn reports_are_made_and_resolved_from_the_web() {
    use crate::web::{Browser, csrf};
    let app = TestApp::spawn().await;
    app.create_user("carol").await;
    app.create_user("dave").await;
    app.create_staff("watcher", "moderator").await;
    let dave_token = app.token("dave").await;
    let (_, rude) = app
        .api_post(
            &dave_token,
            "/api/v1/statuses",
            json!({"status": "a rude post"}),
        )
        .await;
    let dave_id = app.local("dave").await.id;

    let mut carol = Browser::new(&app);
    carol.sign_in("carol").await;
    let profile = carol.get("/@dave").await;
    assert!(
        profile
            .body
            .contains(&format!("/web/accounts/{dave_id}/report"))
    );
    let form = carol.get(&format!("/web/accounts/{dave_id}/report")).await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("a rude post"));
    let token = csrf(&form.body);
    let sent = carol
        .post(
            &format!("/web/accounts/{dave_id}/report"),
            &[
                ("csrf_token", token.as_str()),
                ("category", "violation"),
                ("comment", "rude to everyone"),
                ("post", rude["id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(sent.status, 303);
    assert!(
        carol
            .get(sent.location.as_deref().unwrap())
            .await
            .body
            .contains("Thank you")
    );
    let (category, posts): (String, Vec<i64>) =
        sqlx::query_as("select category, post_ids from reports")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(category, "violation");
    assert_eq!(posts.len(), 1);

    assert_eq!(carol.get("/admin/reports").await.status, 403);
    let mut moderator = Browser::new(&app);
    moderator.sign_in("watcher").await;
    let queue = moderator.get("/admin/reports").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("rude to everyone"));
    assert!(queue.body.contains("a rude post"));
    let id: i64 = sqlx::query_scalar("select id from reports")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let token = csrf(&queue.body);
    let done = moderator
        .post(
            &format!("/admin/reports/{id}/resolve"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(done.status, 303);
    let resolved_by: Option<i64> = sqlx::query_scalar("select resolved_by_id from reports")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(resolved_by, Some(app.local("watcher").await.id));
    assert!(
        moderator
            .get("/admin/reports")
            .await
            .body
            .contains("No open reports.")
    );
}

/// The posts a report form offers, and whether each is ticked.
fn offered(body: &str) -> Vec<(i64, bool)> {
    regex::Regex::new(r#"name="post" value="(\d+)"( checked)?"#)
        .unwrap()
        .captures_iter(body)
        .map(|c| (c[1].parse().unwrap(), c.get(2).is_some()))
        .collect()
}

async fn post_as(app: &TestApp, token: &str, body: serde_json::Value) -> i64 {
    let (status, post) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{post}");
    post["id"].as_str().unwrap().parse().unwrap()
}

async fn report_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from reports")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_report_form_offers_only_the_accounts_own_posts_that_the_reporter_may_see() {
    use crate::web::Browser;
    let app = TestApp::spawn().await;
    let carol = app.create_user("carol").await;
    let dave = app.create_user("dave").await;
    let erin = app.create_user("erin").await;
    let carol_token = app.token("carol").await;
    let dave_token = app.token("dave").await;
    let carols = post_as(&app, &carol_token, json!({"status": "carol's own words"})).await;
    // Dave reposts carol's post: the repost is not his to be reported for.
    let (status, _) = app
        .api_post(
            &dave_token,
            &format!("/api/v1/statuses/{carols}/reblog"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let public = post_as(&app, &dave_token, json!({"status": "dave in public"})).await;
    let reply = post_as(
        &app,
        &dave_token,
        json!({"status": "@carol dave answers", "in_reply_to_id": carols.to_string()}),
    )
    .await;
    let private = post_as(
        &app,
        &dave_token,
        json!({"status": "dave for his followers", "visibility": "private"}),
    )
    .await;
    let deleted = post_as(&app, &dave_token, json!({"status": "dave regrets this"})).await;
    let (status, _) = app
        .api_delete(&dave_token, &format!("/api/v1/statuses/{deleted}"))
        .await;
    assert_eq!(status, 200);

    let mut browser = Browser::new(&app);
    browser.sign_in("carol").await;
    let form = browser
        .get(&format!("/web/accounts/{}/report", dave.actor.id))
        .await;
    assert_eq!(form.status, 200);
    assert_eq!(offered(&form.body), [(reply, false), (public, false)]);
    assert!(
        !form.body.contains("own words"),
        "the repost is not offered"
    );
    assert!(!form.body.contains("dave for his followers"));
    assert!(!form.body.contains("dave regrets this"));
    // Nor does muting him hide them from the report.
    skein::service::mutes::mute(&app.state, &carol.actor, &dave.actor, true, None)
        .await
        .unwrap();
    let form = browser
        .get(&format!("/web/accounts/{}/report", dave.actor.id))
        .await;
    assert_eq!(offered(&form.body), [(reply, false), (public, false)]);

    // A follower also sees, and may report, the followers-only post.
    skein::service::follows::follow(&app.state, &erin.actor, &dave.actor)
        .await
        .unwrap();
    let mut follower = Browser::new(&app);
    follower.sign_in("erin").await;
    let form = follower
        .get(&format!("/web/accounts/{}/report", dave.actor.id))
        .await;
    assert_eq!(
        offered(&form.body),
        [(private, false), (reply, false), (public, false)]
    );
    let token = crate::web::csrf(&form.body);
    let sent = follower
        .post(
            &format!("/web/accounts/{}/report", dave.actor.id),
            &[
                ("csrf_token", token.as_str()),
                ("category", "other"),
                ("post", &private.to_string()),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let stored: Vec<i64> = sqlx::query_scalar("select post_ids from reports")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, [private]);
}

#[tokio::test]
async fn a_report_naming_a_post_that_cannot_be_attached_comes_back_with_everything_kept() {
    use crate::web::{Browser, csrf};
    use skein::service::{audit::Staff, rules};
    let app = TestApp::spawn().await;
    app.create_user("carol").await;
    let dave = app.create_user("dave").await;
    let carol_token = app.token("carol").await;
    let dave_token = app.token("dave").await;
    let kind = rules::add(&app.state, &Staff::cli(), "Be kind", "")
        .await
        .unwrap();
    let spam = rules::add(&app.state, &Staff::cli(), "No spam", "")
        .await
        .unwrap();
    let first = post_as(&app, &dave_token, json!({"status": "first insult"})).await;
    let second = post_as(&app, &dave_token, json!({"status": "second insult"})).await;
    let carols = post_as(&app, &carol_token, json!({"status": "carol's post"})).await;
    let (_, repost) = app
        .api_post(
            &dave_token,
            &format!("/api/v1/statuses/{carols}/reblog"),
            json!({}),
        )
        .await;
    let repost_id = repost["id"].as_str().unwrap().to_string();

    let mut browser = Browser::new(&app);
    browser.sign_in("carol").await;
    let path = format!("/web/accounts/{}/report", dave.actor.id);
    let form = browser.get(&path).await;
    assert!(
        form.body
            .contains(&format!(r#"name="rule" value="{}""#, kind.id))
    );
    let token = csrf(&form.body);
    // Dave deletes the second post while carol writes.
    let (status, _) = app
        .api_delete(&dave_token, &format!("/api/v1/statuses/{second}"))
        .await;
    assert_eq!(status, 200);
    let (first_id, second_id, kind_id) =
        (first.to_string(), second.to_string(), kind.id.to_string());
    let back = browser
        .post(
            &path,
            &[
                ("csrf_token", token.as_str()),
                ("category", "violation"),
                ("rule", &kind_id),
                ("comment", "He keeps insulting people <3"),
                ("post", &first_id),
                ("post", &second_id),
            ],
        )
        .await;
    assert_eq!(back.status, 422, "{}", back.body);
    assert!(
        back.body.contains("can no longer be included"),
        "{}",
        back.body
    );
    assert!(back.body.contains("He keeps insulting people &#60;3"));
    assert!(back.body.contains(r#"<option value="violation" selected>"#));
    assert!(
        back.body
            .contains(&format!(r#"name="rule" value="{}" checked"#, kind.id))
    );
    assert!(
        back.body
            .contains(&format!(r#"name="rule" value="{}">"#, spam.id))
    );
    assert_eq!(offered(&back.body), [(first, true)]);
    assert_eq!(report_count(&app).await, 0);

    // Carol's own post, or dave's repost of it, cannot be attached either.
    for foreign in [carols.to_string(), repost_id, "not-a-number".to_string()] {
        let back = browser
            .post(
                &path,
                &[
                    ("csrf_token", token.as_str()),
                    ("category", "spam"),
                    ("comment", "spam"),
                    ("post", &first_id),
                    ("post", &foreign),
                ],
            )
            .await;
        assert_eq!(back.status, 422, "{foreign}");
        assert!(back.body.contains(r#"<option value="spam" selected>"#));
        assert_eq!(offered(&back.body), [(first, true)], "{foreign}");
    }
    // A violation names rules; rules go with a violation.
    let back = browser
        .post(
            &path,
            &[
                ("csrf_token", token.as_str()),
                ("category", "violation"),
                ("post", &first_id),
            ],
        )
        .await;
    assert_eq!(back.status, 422);
    assert!(back.body.contains("Choose the rules that are broken."));
    assert_eq!(report_count(&app).await, 0);

    // Sent again as it came back: filed, with what was kept.
    let sent = browser
        .post(
            &path,
            &[
                ("csrf_token", token.as_str()),
                ("category", "violation"),
                ("rule", &kind_id),
                ("comment", "He keeps insulting people <3"),
                ("post", &first_id),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let (category, comment, posts, rules): (String, String, Vec<i64>, Vec<i64>) =
        sqlx::query_as("select category, comment, post_ids, rule_ids from reports")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(category, "violation");
    assert_eq!(comment, "He keeps insulting people <3");
    assert_eq!(posts, [first]);
    assert_eq!(rules, [kind.id]);
}

#[tokio::test]
async fn reports_from_apps_name_rules_that_exist_and_moderators_see_them() {
    use skein::service::{audit::Staff, rules};
    let app = TestApp::spawn().await;
    app.create_user("carol").await;
    let dave = app.create_user("dave").await;
    app.create_staff("watcher", "moderator").await;
    let carol = app.token("carol").await;
    let moderator = app.token("watcher").await;
    let kind = rules::add(&app.state, &Staff::cli(), "Be kind", "Really.")
        .await
        .unwrap();
    let gone = rules::add(&app.state, &Staff::cli(), "Old rule", "")
        .await
        .unwrap();
    rules::remove(&app.state, &Staff::cli(), gone.id)
        .await
        .unwrap();
    let target = dave.actor.id.to_string();

    for bad in [json!(["999"]), json!([gone.id.to_string()]), json!(["x"])] {
        let (status, body) = app
            .api_post(
                &carol,
                "/api/v1/reports",
                json!({"account_id": target, "category": "violation", "rule_ids": bad}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(body["error"].as_str().unwrap().contains("valid rules"));
    }
    assert_eq!(report_count(&app).await, 0);

    // Rules named make it a violation, whatever the category sent.
    let (status, report) = app
        .api_post(
            &carol,
            "/api/v1/reports",
            json!({"account_id": target, "category": "spam", "rule_ids": [kind.id.to_string()]}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["category"], "violation");
    assert_eq!(report["rule_ids"], json!([kind.id.to_string()]));
    let stored: Vec<i64> = sqlx::query_scalar("select rule_ids from reports")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, [kind.id]);

    let (_, queue) = app.api_get(&moderator, "/api/v1/admin/reports").await;
    assert_eq!(
        queue[0]["rules"],
        json!([{"id": kind.id.to_string(), "text": "Be kind", "hint": "Really."}])
    );
    let mut browser = crate::web::Browser::new(&app);
    browser.sign_in("watcher").await;
    let page = browser.get("/admin/reports").await;
    assert!(page.body.contains("Rules broken:"), "{}", page.body);
    assert!(page.body.contains("Be kind"));
}
