//! The web interface across two instances: a user's own controls (block,
//! mute and block a server from a profile's menu, list and lift them under
//! settings); profiles' link previews and tabs; threads drawn in one
//! column; quoting from the composer; the home page's tabs.

use serde_json::json;

use crate::harness::{Options, TestApp};
use crate::web::{Browser, csrf};

async fn count(app: &TestApp, sql: &str, id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn blocking_muting_and_blocking_a_server_from_a_profile_reach_the_database_and_the_other_instance()
 {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let alice = alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    // Bob follows alice (accepted), so that blocking him has follows to end.
    let alice_there = beta.resolve(&alpha.url("/users/alice")).await;
    skein::service::follows::follow(&beta.state, &bob.actor, &alice_there)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;
    let bob_here = alpha.resolve(&beta.url("/users/bob")).await;
    let follows_sql = "select count(*) from follows where follower_id = $1";
    assert_eq!(count(&alpha, follows_sql, bob_here.id).await, 1);

    let mut browser = Browser::new(&alpha);
    browser.sign_in("alice").await;
    let profile_path = format!("/@{}", beta.handle("bob"));
    let profile = browser.get(&profile_path).await;
    assert_eq!(profile.status, 200);
    for action in ["block", "mute", "block_domain", "report"] {
        assert!(
            profile
                .body
                .contains(&format!("/web/accounts/{}/{action}", bob_here.id)),
            "the menu offers {action}"
        );
    }
    let token = csrf(&profile.body);
    let act = |action: &str| format!("/web/accounts/{}/{action}", bob_here.id);

    // A mute for an hour, notifications too; a duration not offered is
    // refused and changes nothing.
    let refused = browser
        .post(
            &act("mute"),
            &[("csrf_token", &token), ("duration", "12345")],
        )
        .await;
    assert_eq!(refused.status, 422);
    let mutes_sql = "select count(*) from mutes where target_id = $1";
    assert_eq!(count(&alpha, mutes_sql, bob_here.id).await, 0);
    let muted = browser
        .post(
            &act("mute"),
            &[
                ("csrf_token", &token),
                ("back", &profile_path),
                ("duration", "3600"),
                ("notifications", "1"),
            ],
        )
        .await;
    assert_eq!(muted.status, 303);
    assert_eq!(muted.location.as_deref(), Some(profile_path.as_str()));
    let (notifications, lasts): (bool, f64) = sqlx::query_as(
        "select notifications, extract(epoch from expires_at - created_at)::float8
         from mutes where actor_id = $1 and target_id = $2",
    )
    .bind(alice.actor.id)
    .bind(bob_here.id)
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert!(notifications);
    assert!((lasts - 3600.0).abs() < 5.0, "{lasts}");
    let mutes = browser.get("/settings/mutes").await;
    assert!(
        mutes
            .body
            .contains(&format!("id=\"account-{}\"", bob_here.id))
    );
    assert!(mutes.body.contains(&act("unmute")));
    let unmuted = browser
        .post(
            &act("unmute"),
            &[("csrf_token", &token), ("back", "/settings/mutes")],
        )
        .await;
    assert_eq!(unmuted.location.as_deref(), Some("/settings/mutes"));
    assert_eq!(count(&alpha, mutes_sql, bob_here.id).await, 0);

    // A block: the follow ends here and on beta, which learns of the block.
    let blocked = browser
        .post(
            &act("block"),
            &[("csrf_token", &token), ("back", &profile_path)],
        )
        .await;
    assert_eq!(blocked.status, 303);
    let blocks_sql = "select count(*) from blocks where blocked_id = $1";
    assert_eq!(count(&alpha, blocks_sql, bob_here.id).await, 1);
    assert_eq!(count(&alpha, follows_sql, bob_here.id).await, 0);
    alpha.deliver().await;
    let blocked_on_beta = || async {
        sqlx::query_scalar::<_, i64>(
            "select count(*) from blocks where blocker_id = $1 and blocked_id = $2",
        )
        .bind(alice_there.id)
        .bind(bob.actor.id)
        .fetch_one(&beta.db)
        .await
        .unwrap()
    };
    assert_eq!(blocked_on_beta().await, 1, "beta stored alice's Block");
    assert_eq!(count(&beta, follows_sql, bob.actor.id).await, 0);
    let profile = browser.get(&profile_path).await;
    assert!(profile.body.contains("id=\"unblock-button\""));
    assert!(
        !profile.body.contains("id=\"follow-button\""),
        "no follow while blocked"
    );
    let blocks = browser.get("/settings/blocks").await;
    assert!(blocks.body.contains(&act("unblock")));
    browser
        .post(
            &act("unblock"),
            &[("csrf_token", &token), ("back", "/settings/blocks")],
        )
        .await;
    assert_eq!(count(&alpha, blocks_sql, bob_here.id).await, 0);
    alpha.deliver().await;
    assert_eq!(blocked_on_beta().await, 0, "beta applied the Undo(Block)");

    // Bob's server, blocked for alice alone from his profile; listed under
    // settings, where a server is also blocked by name and lifted.
    let blocked = browser
        .post(
            &act("block_domain"),
            &[("csrf_token", &token), ("back", &profile_path)],
        )
        .await;
    assert_eq!(blocked.status, 303);
    let domains = |app: &TestApp| {
        let db = app.db.clone();
        let id = alice.actor.id;
        async move {
            sqlx::query_scalar::<_, String>(
                "select domain from user_domain_blocks where actor_id = $1 order by domain",
            )
            .bind(id)
            .fetch_all(&db)
            .await
            .unwrap()
        }
    };
    assert_eq!(domains(&alpha).await, std::slice::from_ref(&beta.domain));
    let page = browser.get("/settings/domain_blocks").await;
    assert!(page.body.contains(&beta.domain), "{}", page.body);
    let refused = browser
        .post(
            "/settings/domain_blocks",
            &[("csrf_token", &token), ("domain", "not a domain")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("not a valid domain"),
        "{}",
        refused.body
    );
    assert_eq!(domains(&alpha).await, std::slice::from_ref(&beta.domain));
    let added = browser
        .post(
            "/settings/domain_blocks",
            &[
                ("csrf_token", &token),
                ("domain", "https://Spam.Example/@x"),
            ],
        )
        .await;
    assert_eq!(
        added.location.as_deref(),
        Some("/settings/domain_blocks?saved=1")
    );
    assert_eq!(
        domains(&alpha).await,
        [beta.domain.clone(), "spam.example".to_string()]
    );
    browser
        .post(
            "/settings/domain_blocks/remove",
            &[("csrf_token", &token), ("domain", &beta.domain)],
        )
        .await;
    assert_eq!(domains(&alpha).await, ["spam.example".to_string()]);

    // Without the session's token nothing changes.
    let forged = browser
        .post(&act("block"), &[("csrf_token", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(count(&alpha, blocks_sql, bob_here.id).await, 0);
}

#[tokio::test]
async fn a_profile_previews_its_bio_and_a_thread_reads_in_one_column_as_on_threads() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    alpha.create_user("dave").await;
    let alice = alpha.token("alice").await;
    let carol = alpha.token("carol").await;
    let dave = alpha.token("dave").await;
    let (status, _, _) = alpha
        .api(
            reqwest::Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice),
            Some(json!({"note": "Knits & purls <every> day"})),
        )
        .await;
    assert_eq!(status, 200);
    let signed_out = alpha
        .get_with_accept("/@alice", "text/html")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        signed_out.contains(
            r#"<meta property="og:description" content="Knits &#38; purls &#60;every&#62; day">"#
        ),
        "{signed_out}"
    );

    let post = |token: String, body: serde_json::Value| {
        let alpha = &alpha;
        async move {
            let (status, status_json) = alpha.api_post(&token, "/api/v1/statuses", body).await;
            assert_eq!(status, 200, "{status_json}");
            status_json["id"].as_str().unwrap().to_string()
        }
    };
    let root = post(alice.clone(), json!({"status": "What are you making?"})).await;
    let from_carol = post(
        carol.clone(),
        json!({"status": "A scarf", "in_reply_to_id": root}),
    )
    .await;
    let alice_again = post(
        alice.clone(),
        json!({"status": "What colour?", "in_reply_to_id": from_carol}),
    )
    .await;
    let from_dave = post(
        dave.clone(),
        json!({"status": "Socks", "in_reply_to_id": root}),
    )
    .await;
    let late = post(
        dave.clone(),
        json!({"status": "Also a hat", "in_reply_to_id": from_carol}),
    )
    .await;

    let page = alpha
        .get_with_accept(&format!("/@alice/{root}"), "text/html")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"replies-heading\""));
    let card = |id: &str| {
        let start = page
            .find(&format!("id=\"post-{id}\""))
            .unwrap_or_else(|| panic!("post {id} is on the page"));
        let open = page[..start].rfind("<article").unwrap();
        let end = start + page[start..].find("</article>").unwrap();
        page[open..end].to_string()
    };
    let order: Vec<usize> = [&from_carol, &alice_again, &late, &from_dave]
        .iter()
        .map(|id| page.find(&format!("id=\"post-{id}\"")).unwrap())
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "depth first: {order:?}"
    );
    // Carol's reply is joined by a line to alice's answer below it.
    assert!(card(&from_carol).contains("class=\"post line depth-1\""));
    // Alice's answer needs no "Replying to": it sits under what it answers.
    let answer = card(&alice_again);
    assert!(answer.contains("class=\"post depth-2\""), "{answer}");
    assert!(!answer.contains("Replying to"), "{answer}");
    // Dave's late answer to carol is not under carol's reply: it says whom
    // it answers.
    assert!(card(&late).contains("Replying to"));
    assert!(card(&from_dave).contains("class=\"post depth-1\""));
}

#[tokio::test]
async fn a_quote_from_the_composer_reaches_the_quoted_server_and_profiles_and_home_have_their_tabs()
{
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    beta.create_user("bob").await;
    let bob = beta.token("bob").await;
    let carol = alpha.token("carol").await;
    let (_, worth) = beta
        .api_post(&bob, "/api/v1/statuses", json!({"status": "Worth quoting"}))
        .await;
    let worth_uri = worth["uri"].as_str().unwrap().to_string();

    let mut browser = Browser::new(&alpha);
    browser.sign_in("alice").await;
    let found = browser
        .get(&format!(
            "/search?q={}",
            url::form_urlencoded::byte_serialize(worth_uri.as_bytes()).collect::<String>()
        ))
        .await;
    assert!(found.body.contains("Worth quoting"), "{}", found.body);
    let here: i64 = sqlx::query_scalar("select id from posts where ap_id = $1")
        .bind(&worth_uri)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    let compose = browser.get(&format!("/compose?quote_id={here}")).await;
    assert_eq!(compose.status, 200);
    assert!(
        compose
            .body
            .contains(&format!("name=\"quote_id\" value=\"{here}\""))
    );
    assert!(
        compose.body.contains("Worth quoting"),
        "the quoted post is shown"
    );
    let token = csrf(&compose.body);
    let posted = browser
        .post_multipart(
            "/compose",
            reqwest::multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("text", "So true")
                .text("quote_id", here.to_string())
                .text("visibility", "public"),
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let (quote_id, quote_of): (i64, Option<i64>) = sqlx::query_as(
        "select p.id, p.quote_of_id from posts p join actors a on a.id = p.author_id
         where a.username = 'alice' and a.domain is null and p.content like '%So true%'",
    )
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert_eq!(quote_of, Some(here));
    // Beta approves the quote of bob's public post; both sides agree.
    for _ in 0..2 {
        alpha.deliver().await;
        beta.deliver().await;
    }
    let state: Option<String> = sqlx::query_scalar("select quote_state from posts where id = $1")
        .bind(quote_id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(state.as_deref(), Some("accepted"));
    let on_beta: Option<String> = sqlx::query_scalar(
        "select q.ap_id from posts p join posts q on q.id = p.quote_of_id
         where p.content like '%So true%'",
    )
    .fetch_optional(&beta.db)
    .await
    .unwrap();
    assert_eq!(on_beta.as_deref(), Some(worth_uri.as_str()));

    // Alice replies to carol and reposts her; each profile tab holds its own.
    let (_, carols) = alpha
        .api_post(
            &carol,
            "/api/v1/statuses",
            json!({"status": "Carol's thought"}),
        )
        .await;
    let carols_id = carols["id"].as_str().unwrap().to_string();
    let alice = alpha.token("alice").await;
    alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({"status": "Alice agrees", "in_reply_to_id": carols_id}),
        )
        .await;
    alpha
        .api_post(
            &alice,
            &format!("/api/v1/statuses/{carols_id}/reblog"),
            json!({}),
        )
        .await;
    let tab = |body: &str, text: &str| body.contains(text);
    let posts = browser.get("/@alice").await.body;
    assert!(tab(&posts, "So true") && !tab(&posts, "Alice agrees"));
    let replies = browser.get("/@alice?tab=replies").await.body;
    assert!(tab(&replies, "Alice agrees") && !tab(&replies, "So true"));
    let reposts = browser.get("/@alice?tab=reposts").await.body;
    assert!(tab(&reposts, "Carol&#39;s thought") || tab(&reposts, "Carol's thought"));
    assert!(!tab(&reposts, "Alice agrees"));

    // Home: the following tab has what alice follows (nobody but herself);
    // the fediverse tab has bob's post, which she found.
    let following = browser.get("/home?tab=following").await.body;
    assert!(following.contains("So true"), "her own posts are there");
    let fediverse = browser.get("/home?tab=fediverse").await.body;
    assert!(
        fediverse.contains("aria-current=\"page\">Fediverse"),
        "{fediverse}"
    );
    assert!(
        fediverse.contains(&format!("id=\"post-{here}\"")),
        "{fediverse}"
    );
    assert!(!following.contains(&format!("id=\"post-{here}\"")));
}

#[tokio::test]
async fn posts_are_saved_and_unsaved_from_their_cards_and_listed_for_their_saver_alone() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    let carol = alpha.token("carol").await;
    let (_, saved) = alpha
        .api_post(
            &carol,
            "/api/v1/statuses",
            json!({"status": "Keep this pattern"}),
        )
        .await;
    let id = saved["id"].as_str().unwrap().to_string();
    let mut browser = Browser::new(&alpha);
    browser.sign_in("alice").await;
    let empty = browser.get("/bookmarks").await;
    assert!(empty.body.contains("Posts you save appear here"));
    let page = browser.get(&format!("/@carol/{id}")).await;
    assert!(page.body.contains(&format!("/web/statuses/{id}/bookmark")));
    let token = csrf(&page.body);
    let done = browser
        .post(
            &format!("/web/statuses/{id}/bookmark"),
            &[("csrf_token", &token), ("back", "/home")],
        )
        .await;
    assert_eq!(done.status, 303);
    let bookmarks = "select count(*) from bookmarks where actor_id = $1";
    assert_eq!(count(&alpha, bookmarks, alice.actor.id).await, 1);
    let list = browser.get("/bookmarks").await;
    assert!(list.body.contains("Keep this pattern"));
    assert!(
        list.body
            .contains(&format!("/web/statuses/{id}/unbookmark"))
    );
    // Carol does not see alice's saved posts.
    let mut other = Browser::new(&alpha);
    other.sign_in("carol").await;
    assert!(
        !other
            .get("/bookmarks")
            .await
            .body
            .contains("Keep this pattern")
    );
    browser
        .post(
            &format!("/web/statuses/{id}/unbookmark"),
            &[("csrf_token", &token), ("back", "/bookmarks")],
        )
        .await;
    assert_eq!(count(&alpha, bookmarks, alice.actor.id).await, 0);
    // Signed out, there is nothing to save with and no list.
    let visitor = alpha
        .get_with_accept(&format!("/@carol/{id}"), "text/html")
        .await
        .text()
        .await
        .unwrap();
    assert!(!visitor.contains("/bookmark\""));
    let mut stranger = Browser::new(&alpha);
    assert_eq!(stranger.get("/bookmarks").await.status, 303);
}

#[tokio::test]
async fn the_header_counts_unread_notifications_until_they_are_read() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    let carol = alpha.token("carol").await;
    let mut browser = Browser::new(&alpha);
    browser.sign_in("alice").await;
    assert!(
        !browser
            .get("/home")
            .await
            .body
            .contains("id=\"unread-count\"")
    );
    for text in ["@alice one", "@alice two"] {
        let (status, _) = alpha
            .api_post(&carol, "/api/v1/statuses", json!({"status": text}))
            .await;
        assert_eq!(status, 200);
    }
    let home = browser.get("/home").await.body;
    assert!(
        home.contains("id=\"unread-count\">2<"),
        "two mentions unread: {home}"
    );
    // Reading them moves the notifications marker, which apps share.
    let read = browser.get("/notifications").await.body;
    assert!(!read.contains("id=\"unread-count\""), "{read}");
    let marker: String = sqlx::query_scalar(
        "select last_read_id from markers m join users u on u.id = m.user_id
         where u.actor_id = $1 and m.timeline = 'notifications'",
    )
    .bind(alice.actor.id)
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    let newest: i64 =
        sqlx::query_scalar("select max(id) from notifications where recipient_id = $1")
            .bind(alice.actor.id)
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    assert_eq!(marker, newest.to_string());
    assert!(
        !browser
            .get("/home")
            .await
            .body
            .contains("id=\"unread-count\"")
    );
}
