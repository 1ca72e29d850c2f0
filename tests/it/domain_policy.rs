//! The instance's domain policy between two real instances: a suspended
//! domain's activities are refused and change nothing, what was stored from
//! it is purged and follows end; silence keeps a domain out of public
//! timelines but not from its followers; subdomains are covered; the
//! allow-list mode refuses everything else, fetches included; the admin API
//! is for admins only and every change is in the audit log.

use serde_json::{Value, json};

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// `follower` on `from` follows `target` (`user@host`) through the API.
async fn follow(from: &TestApp, token: &str, target: &str) {
    let (status, found) = from
        .api_get(
            token,
            &format!("/api/v1/accounts/search?q={target}&resolve=true"),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let id = found[0]["id"].as_str().unwrap().to_string();
    let (status, _) = from
        .api_post(token, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200);
}

async fn post(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, status_json) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{status_json}");
    status_json
}

#[tokio::test]
async fn a_suspended_domains_create_like_announce_and_follow_are_refused_and_change_nothing() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    alpha.create_staff("root", "admin").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let root = alpha.token("root").await;
    let bob = beta.token("bob").await;

    // Before the block: bob follows alice and alice follows bob; bob posts.
    follow(&beta, &bob, &alpha.handle("alice")).await;
    beta.deliver().await;
    alpha.deliver().await;
    follow(&alpha, &alice, &beta.handle("bob")).await;
    alpha.deliver().await;
    beta.deliver().await;
    post(&beta, &bob, json!({"status": "before the block"})).await;
    beta.deliver().await;
    let alice_post = post(&alpha, &alice, json!({"status": "hello fediverse"})).await;
    alpha.deliver().await;
    assert_eq!(
        count(&alpha, "select count(*) from follows").await,
        2,
        "both follows are in place"
    );
    assert_eq!(
        count(&alpha, "select count(*) from posts p join actors a on a.id = p.author_id where a.username = 'bob' and p.deleted_at is null").await,
        1
    );

    let (status, block) = alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "BETA.test", "severity": "suspend", "private_comment": "spam"}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    assert_eq!(block["domain"], "beta.test");
    assert_eq!(block["severity"], "suspend");

    // Follows are severed both ways, bob's stored posts are gone.
    assert_eq!(count(&alpha, "select count(*) from follows").await, 0);
    assert_eq!(
        count(&alpha, "select count(*) from posts p join actors a on a.id = p.author_id where a.username = 'bob' and p.deleted_at is null").await,
        0
    );
    let (_, home) = alpha.api_get(&alice, "/api/v1/timelines/home").await;
    assert!(
        home.as_array()
            .unwrap()
            .iter()
            .all(|s| s["account"]["username"] != "bob")
    );

    // Everything bob's server sends now is refused and changes nothing.
    let before = alpha.table_counts().await;
    let inbox_rows = count(&alpha, "select count(*) from inbox_activities").await;
    post(
        &beta,
        &bob,
        json!({"status": format!("@{} hi", alpha.handle("alice"))}),
    )
    .await;
    let (_, found) = beta
        .api_get(
            &bob,
            &format!(
                "/api/v2/search?q={}&resolve=true&type=statuses",
                alice_post["uri"].as_str().unwrap()
            ),
        )
        .await;
    let remote_id = found["statuses"][0]["id"].as_str().unwrap().to_string();
    beta.api_post(
        &bob,
        &format!("/api/v1/statuses/{remote_id}/favourite"),
        json!({}),
    )
    .await;
    beta.api_post(
        &bob,
        &format!("/api/v1/statuses/{remote_id}/reblog"),
        json!({}),
    )
    .await;
    beta.deliver().await;
    let refused: i64 = sqlx::query_scalar(
        "select count(*) from deliveries where state = 'failed' and last_status = 403",
    )
    .fetch_one(&beta.db)
    .await
    .unwrap();
    assert!(
        refused >= 3,
        "alpha refused the Create, Like and Announce ({refused})"
    );
    assert_eq!(alpha.table_counts().await, before);
    assert_eq!(
        count(&alpha, "select count(*) from inbox_activities").await,
        inbox_rows
    );

    // A new Follow from the domain is refused too.
    let (status, _) = beta
        .api_post(
            &bob,
            &format!(
                "/api/v1/accounts/{}/unfollow",
                beta.resolve(&alpha.url("/users/alice")).await.id
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    follow(&beta, &bob, &alpha.handle("alice")).await;
    beta.deliver().await;
    assert_eq!(count(&alpha, "select count(*) from follows").await, 0);

    // Nothing is delivered to the domain any more.
    post(&alpha, &alice, json!({"status": "after the block"})).await;
    assert_eq!(
        count(
            &alpha,
            "select count(*) from deliveries where state = 'pending' and host like 'beta.test%'"
        )
        .await,
        0
    );

    // The block is in the audit log, with who made it.
    let (who, action): (String, String) =
        sqlx::query_as("select actor_name, action from admin_actions where target = 'beta.test'")
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    assert_eq!(
        (who.as_str(), action.as_str()),
        ("root", "domain_block.create")
    );
}

#[tokio::test]
async fn silence_keeps_a_domain_out_of_public_timelines_but_not_from_its_followers() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("carol").await;
    alpha.create_user("dave").await;
    alpha.create_staff("root", "admin").await;
    beta.create_user("bob").await;
    let carol = alpha.token("carol").await;
    let dave = alpha.token("dave").await;
    let root = alpha.token("root").await;
    let bob = beta.token("bob").await;
    follow(&alpha, &carol, &beta.handle("bob")).await;
    alpha.deliver().await;
    beta.deliver().await;

    let (status, _) = alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "beta.test", "severity": "silence"}),
        )
        .await;
    assert_eq!(status, 200);
    beta.clock.advance(chrono::Duration::minutes(1));
    post(&beta, &bob, json!({"status": "quiet please"})).await;
    beta.deliver().await;

    let texts = |timeline: &Value| -> Vec<String> {
        timeline
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["content"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let (_, public_for_dave) = alpha.api_get(&dave, "/api/v1/timelines/public").await;
    assert!(
        !texts(&public_for_dave)
            .iter()
            .any(|t| t.contains("quiet please")),
        "silenced: not in public timelines"
    );
    let (_, public_for_carol) = alpha.api_get(&carol, "/api/v1/timelines/public").await;
    assert!(
        texts(&public_for_carol)
            .iter()
            .any(|t| t.contains("quiet please"))
    );
    let (_, home) = alpha.api_get(&carol, "/api/v1/timelines/home").await;
    assert!(
        texts(&home).iter().any(|t| t.contains("quiet please")),
        "followers still get it"
    );
    assert_eq!(count(&alpha, "select count(*) from follows").await, 1);
}

#[tokio::test]
async fn blocks_cover_subdomains_and_the_allow_list_mode_refuses_every_other_domain() {
    let alpha = TestApp::spawn().await;
    let root = alpha.create_staff("root", "admin").await;
    let staff = skein::service::audit::Staff::of(
        &root.user,
        &root.actor,
        skein::service::audit::Role::Admin,
        skein::service::audit::Via::Api,
    )
    .unwrap();
    use skein::service::domain_policy::{self, BlockRequest, Severity};
    let now = chrono::Utc::now();
    domain_policy::block(
        &alpha.db,
        now,
        &staff,
        &BlockRequest {
            domain: "https://Bad.Example./@someone".into(),
            severity: Severity::Suspend,
            reject_media: false,
            reject_reports: false,
            private_comment: String::new(),
            public_comment: String::new(),
            obfuscate: false,
        },
    )
    .await
    .unwrap();
    for host in ["bad.example", "sub.bad.example", "a.b.bad.example:8443"] {
        assert!(
            domain_policy::refuses(&alpha.state, host).await.unwrap(),
            "{host}"
        );
    }
    for host in ["notbad.example", "bad.example.org", "example"] {
        assert!(
            !domain_policy::refuses(&alpha.state, host).await.unwrap(),
            "{host}"
        );
    }

    // Allow-list mode: only allowed domains federate; nothing is fetched
    // from the others.
    let gamma =
        TestApp::spawn_with(Options::named("gamma").env("SKEIN_FEDERATION__MODE", "allowlist"))
            .await;
    let fake = FakeServer::spawn("stranger").await;
    let stranger = fake.add_actor("eve", false);
    let result = skein::service::remote_actors::resolve(&gamma.state, &stranger.id).await;
    assert!(result.is_err());
    assert_eq!(
        fake.actor_fetches(),
        0,
        "no request to a domain not allowed"
    );
    let gamma_root = gamma.create_staff("root", "admin").await;
    let staff = skein::service::audit::Staff::of(
        &gamma_root.user,
        &gamma_root.actor,
        skein::service::audit::Role::Admin,
        skein::service::audit::Via::Api,
    )
    .unwrap();
    domain_policy::allow(&gamma.db, now, &staff, "stranger.test")
        .await
        .unwrap();
    let eve = skein::service::remote_actors::resolve(&gamma.state, &stranger.id)
        .await
        .expect("allowed now");
    assert_eq!(eve.username, "eve");
}

#[tokio::test]
async fn the_domain_block_api_is_for_admins_and_speaks_mastodons_shapes() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("plain").await;
    alpha.create_staff("mod", "moderator").await;
    alpha.create_staff("root", "admin").await;
    let plain = alpha.token("plain").await;
    let moderator = alpha.token("mod").await;
    let root = alpha.token("root").await;
    for token in [&plain, &moderator] {
        let (status, _) = alpha
            .api_post(
                token,
                "/api/v1/admin/domain_blocks",
                json!({"domain": "spam.example"}),
            )
            .await;
        assert_eq!(status, 403);
    }
    assert_eq!(count(&alpha, "select count(*) from domain_blocks").await, 0);

    let (status, created) = alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "spam.example", "reject_media": true, "public_comment": "spam", "obfuscate": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(created["severity"], "silence", "Mastodon's default");
    assert_eq!(created["reject_media"], true);
    assert_eq!(created["digest"].as_str().unwrap().len(), 64);
    let id = created["id"].as_str().unwrap().to_string();
    let (status, _) = alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "spam.example"}),
        )
        .await;
    assert_eq!(status, 422, "one block per domain");
    let (status, _) = alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "not a domain"}),
        )
        .await;
    assert_eq!(status, 422);

    let (status, _, updated) = alpha
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/domain_blocks/{id}"),
            Some(&root),
            Some(json!({"severity": "suspend"})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["severity"], "suspend");
    assert_eq!(updated["reject_media"], true, "kept");

    let (status, public) = alpha
        .api_get(&plain, "/api/v1/instance/domain_blocks")
        .await;
    assert_eq!(status, 200);
    assert_eq!(public[0]["severity"], "suspend");
    assert_eq!(public[0]["comment"], "spam");
    assert_ne!(public[0]["domain"], "spam.example", "obfuscated");

    let (status, _, _) = alpha
        .api(
            reqwest::Method::DELETE,
            &format!("/api/v1/admin/domain_blocks/{id}"),
            Some(&root),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(count(&alpha, "select count(*) from domain_blocks").await, 0);
    let actions: Vec<String> = sqlx::query_scalar("select action from admin_actions order by id")
        .fetch_all(&alpha.db)
        .await
        .unwrap();
    assert_eq!(
        actions,
        [
            "domain_block.create",
            "domain_block.update",
            "domain_block.destroy"
        ]
    );
}

#[tokio::test]
async fn authorized_fetch_serves_documents_only_to_signed_gets_from_servers_it_federates_with() {
    let alpha = TestApp::spawn_with(
        Options::named("alpha").env("SKEIN_FEDERATION__AUTHORIZED_FETCH", "true"),
    )
    .await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    alpha.create_staff("root", "admin").await;
    let alice = alpha.token("alice").await;
    let root = alpha.token("root").await;
    let note = post(&alpha, &alice, json!({"status": "signed readers only"})).await;
    let note_url = note["uri"].as_str().unwrap().to_string();
    let note_path = note_url.trim_start_matches(&alpha.base).to_string();

    // Unsigned: refused. Keys, discovery and web pages stay open.
    for path in [
        "/users/alice",
        "/users/alice/outbox",
        "/users/alice/followers",
        note_path.as_str(),
    ] {
        assert_eq!(alpha.get_ap(path).await.status(), 401, "{path}");
    }
    assert_eq!(alpha.get_ap("/actor").await.status(), 200);
    let finger = alpha
        .get(&format!(
            "/.well-known/webfinger?resource=acct:alice@{}",
            alpha.domain
        ))
        .await;
    assert_eq!(finger.status(), 200);
    let page = alpha.get_with_accept("/users/alice", "text/html").await;
    assert_eq!(page.status(), 200);

    // Another server signs its fetches: it gets the documents.
    let on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    assert_eq!(on_beta.username, "alice");
    let post_on_beta =
        skein::service::inbox_posts::resolve(&beta.state, &url::Url::parse(&note_url).unwrap())
            .await
            .unwrap();
    assert!(post_on_beta.is_some(), "the post is fetched and stored");

    // Once its domain is suspended, its signed fetches are refused too.
    let (status, _) = alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "beta.test", "severity": "suspend"}),
        )
        .await;
    assert_eq!(status, 200);
    let fetched = skein::federation::fetch::fetch_object(
        &beta.state,
        &url::Url::parse(&alpha.url("/users/alice")).unwrap(),
    )
    .await;
    assert!(fetched.is_err(), "{fetched:?}");
}
