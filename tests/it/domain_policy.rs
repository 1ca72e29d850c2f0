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

    // As in Mastodon, a silenced server's mentions reach only those who
    // follow its accounts, and its follows wait for approval.
    post(
        &beta,
        &bob,
        json!({"status": format!("@{} @{} hello", alpha.handle("carol"), alpha.handle("dave"))}),
    )
    .await;
    beta.deliver().await;
    let notifications = |list: Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, for_carol) = alpha.api_get(&carol, "/api/v1/notifications").await;
    assert_eq!(notifications(for_carol), ["mention"], "carol follows bob");
    let (_, for_dave) = alpha.api_get(&dave, "/api/v1/notifications").await;
    assert!(
        notifications(for_dave).is_empty(),
        "dave does not follow bob"
    );
    follow(&beta, &bob, &alpha.handle("dave")).await;
    beta.deliver().await;
    let state: String = sqlx::query_scalar(
        "select f.state from follows f join actors a on a.id = f.followee_id
         where a.username = 'dave'",
    )
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert_eq!(state, "pending", "a limited account's follow waits");
    // Mastodon's default policy filters what a limited account does to
    // those who do not follow it, its follow request's notification too.
    let (_, for_dave) = alpha.api_get(&dave, "/api/v1/notifications").await;
    assert!(notifications(for_dave).is_empty());
    let (_, for_dave) = alpha
        .api_get(&dave, "/api/v1/notifications?include_filtered=true")
        .await;
    assert_eq!(notifications(for_dave), ["follow_request", "mention"]);
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
    domain_policy::block(
        &alpha.state,
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
    // What a domain not allowed sends is refused and changes nothing.
    let gina = gamma.create_user("gina").await;
    let before = gamma.table_counts().await;
    let follow = json!({
        "id": format!("{}#follows/1", stranger.id),
        "type": "Follow",
        "actor": stranger.id,
        "object": gina.actor.ap_id,
    });
    assert_eq!(
        gamma.post_signed(&fake, &stranger, "/inbox", follow).await,
        403
    );
    assert_eq!(gamma.table_counts().await, before);
    assert_eq!(fake.actor_fetches(), 0);
    let gamma_root = gamma.create_staff("root", "admin").await;
    let staff = skein::service::audit::Staff::of(
        &gamma_root.user,
        &gamma_root.actor,
        skein::service::audit::Role::Admin,
        skein::service::audit::Via::Api,
    )
    .unwrap();
    domain_policy::allow(&gamma.state, &staff, "stranger.test")
        .await
        .unwrap();
    let eve = skein::service::remote_actors::resolve(&gamma.state, &stranger.id)
        .await
        .expect("allowed now");
    assert_eq!(eve.username, "eve");
}

/// Waits until `done` holds: another process hears of a change through
/// PostgreSQL, shortly after the commit.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_block_made_through_the_admin_api_takes_effect_on_the_inbox_of_a_second_process_without_restart()
 {
    let first = TestApp::spawn().await;
    let second = first.spawn_beside().await;
    let alice = first.create_user("alice").await;
    first.create_staff("root", "admin").await;
    let root = first.token("root").await;
    let fake = FakeServer::spawn("bad").await;
    let eve = fake.add_actor("eve", false);
    let follow = |n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#follows/{n}", eve.id),
            "type": "Follow",
            "actor": eve.id,
            "object": alice.actor.ap_id,
        })
    };
    // The second process takes eve's activities before the block.
    assert_eq!(
        second
            .post_signed_here(&fake, &eve, "/inbox", follow(1))
            .await,
        202
    );
    assert_eq!(count(&first, "select count(*) from follows").await, 1);

    let (status, block) = first
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "bad.test", "severity": "suspend"}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    assert!(
        first.state.domain_policy.get().refuses(&fake.domain),
        "the process that blocked refuses at once"
    );
    eventually("the second process hears of the block", || {
        second.state.domain_policy.get().refuses(&fake.domain)
    })
    .await;
    let before = first.table_counts().await;
    assert_eq!(
        second
            .post_signed_here(&fake, &eve, "/inbox", follow(2))
            .await,
        403,
        "the second process refuses the blocked domain"
    );
    assert_eq!(first.table_counts().await, before, "nothing changed");

    // Lifting the block reaches the second process too.
    let id = block["id"].as_str().unwrap();
    let (status, _) = first
        .api_delete(&root, &format!("/api/v1/admin/domain_blocks/{id}"))
        .await;
    assert_eq!(status, 200);
    eventually("the second process hears the block was lifted", || {
        !second.state.domain_policy.get().refuses(&fake.domain)
    })
    .await;
    assert_eq!(
        second
            .post_signed_here(&fake, &eve, "/inbox", follow(3))
            .await,
        202
    );
    assert_eq!(count(&first, "select count(*) from follows").await, 1);
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

    let (status, _) = alpha
        .api_delete(&root, &format!("/api/v1/admin/domain_blocks/{id}"))
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
    // Documents that are JSON only are refused whatever the request
    // accepts: no Accept header and `*/*` get no way around the check.
    let replies_path = format!("{note_path}/replies");
    for path in [
        "/users/alice/outbox?page=true",
        "/users/alice/followers",
        "/users/alice/following",
        "/users/alice/collections/featured",
        replies_path.as_str(),
    ] {
        assert_eq!(alpha.get(path).await.status(), 401, "{path} without Accept");
        assert_eq!(
            alpha.get_with_accept(path, "*/*").await.status(),
            401,
            "{path} with */*"
        );
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
    let html = page.text().await.unwrap();
    assert!(html.contains("<html") && html.contains("@alice"), "{html}");
    let post_page = alpha.get_with_accept(&note_path, "text/html").await;
    assert_eq!(post_page.status(), 200);
    assert!(
        post_page
            .text()
            .await
            .unwrap()
            .contains("signed readers only")
    );

    // Another server signs its fetches: it gets the documents.
    let on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    assert_eq!(on_beta.username, "alice");
    let post_on_beta =
        skein::service::inbox::resolve(&beta.state, &url::Url::parse(&note_url).unwrap())
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

/// A Create from `actor` of `object` (a document or a reference).
fn create(fake: &FakeServer, actor: &crate::fake::FakeActor, object: Value) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/{}", fake.base, uuid::Uuid::new_v4()),
        "type": "Create",
        "actor": actor.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": object,
    })
}

fn note(fake: &FakeServer, actor: &crate::fake::FakeActor, name: &str, extra: Value) -> Value {
    let mut note = json!({
        "id": fake.note_url(name),
        "type": "Note",
        "attributedTo": actor.id,
        "content": format!("<p>{name}</p>"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "published": "2026-11-30T12:00:00Z",
    });
    for (key, value) in extra.as_object().unwrap() {
        note[key] = value.clone();
    }
    note
}

#[tokio::test]
async fn a_block_holds_whatever_form_the_blocked_host_comes_in() {
    let alpha = TestApp::spawn().await;
    let alice = alpha.create_user("alice").await;
    alpha.create_staff("root", "admin").await;
    let root = alpha.token("root").await;
    let friendly = FakeServer::spawn("friendly").await;
    let fred = friendly.add_actor("fred", false);
    let evil = FakeServer::spawn("evil").await;
    let eve = evil.add_actor("eve", false);
    alpha.follow_fake(&friendly, &alice.actor, &fred).await;
    let (status, _) = alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "evil.test", "severity": "suspend"}),
        )
        .await;
    assert_eq!(status, 200);
    let evil_note = evil.add_note("bad", note(&evil, &eve, "bad", json!({})));
    let before = alpha.table_counts().await;

    // A followed account on an open server quotes a post of the blocked one:
    // as an embedded object, as a FEP-e232 link only, and inside a post that
    // came by reference and was fetched.
    let embedded = note(
        &friendly,
        &fred,
        "embedded",
        json!({"quote": {"id": evil_note, "type": "Note"}}),
    );
    let linked = note(
        &friendly,
        &fred,
        "linked",
        json!({"tag": [{
            "type": "Link",
            "mediaType": "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "href": evil_note,
            "name": "RE: bad",
        }]}),
    );
    let by_reference = friendly.add_note(
        "by-reference",
        note(
            &friendly,
            &fred,
            "by-reference",
            json!({"quoteUri": evil_note}),
        ),
    );
    for (what, object) in [
        ("embedded quote", embedded),
        ("FEP-e232 link", linked),
        ("fetched by reference", json!(by_reference)),
    ] {
        let status = alpha
            .post_signed(&friendly, &fred, "/inbox", create(&friendly, &fred, object))
            .await;
        assert_eq!(status, 403, "{what}");
    }
    assert_eq!(alpha.table_counts().await, before, "nothing was stored");

    // The blocked host written as a fully qualified name (a trailing dot) is
    // the same server: refused before anything is fetched from it.
    let dotted = eve.id.replacen("evil.test", "evil.test.", 1);
    let activity = json!({
        "id": format!("{dotted}#follows/1"),
        "type": "Follow",
        "actor": dotted,
        "object": alice.actor.ap_id,
    });
    let body = serde_json::to_vec(&activity).unwrap();
    let mut request = alpha.client.post(alpha.url("/inbox")).body(body.clone());
    for (name, value) in evil.sign(&eve, &alpha.url("/inbox"), &body) {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 403);
    assert_eq!(
        evil.actor_fetches(),
        0,
        "nothing was fetched from evil.test"
    );
    assert_eq!(alpha.table_counts().await, before);

    // A subdomain of the blocked domain is refused as the domain is.
    let sub = FakeServer::spawn("sub.evil").await;
    let sam = sub.add_actor("sam", false);
    let follow = json!({
        "id": format!("{}#follows/1", sam.id),
        "type": "Follow",
        "actor": sam.id,
        "object": alice.actor.ap_id,
    });
    assert_eq!(alpha.post_signed(&sub, &sam, "/inbox", follow).await, 403);
    assert_eq!(
        sub.actor_fetches(),
        0,
        "nothing was fetched from sub.evil.test"
    );
    assert_eq!(alpha.table_counts().await, before);

    // A fetch that an open server redirects to the blocked one stops at the
    // redirect: the blocked server is never asked.
    friendly.redirect("/users/hop", &eve.id);
    let hop = format!("{}/users/hop", friendly.base);
    let resolved = skein::service::remote_actors::resolve(&alpha.state, &hop).await;
    assert!(resolved.is_err(), "{resolved:?}");
    assert_eq!(evil.actor_fetches(), 0, "the redirect was not followed");

    // A redirect to a third server cannot pass off that server's document
    // as the first one's.
    let other = FakeServer::spawn("other").await;
    let claimed = format!("{}/notes/claimed", friendly.base);
    let forged = other.add_note(
        "forged",
        json!({"id": claimed, "type": "Note", "attributedTo": fred.id,
               "content": "<p>forged</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"]}),
    );
    friendly.redirect("/notes/claimed", &forged);
    let found = skein::service::inbox::resolve(&alpha.state, &url::Url::parse(&claimed).unwrap())
        .await
        .unwrap();
    assert!(found.is_none(), "the forged document was refused");

    // A redirect within the open server is followed.
    let moved_note = friendly.add_note("moved", note(&friendly, &fred, "moved", json!({})));
    friendly.redirect("/notes/old-address", &moved_note);
    let found = skein::service::inbox::resolve(
        &alpha.state,
        &url::Url::parse(&format!("{}/notes/old-address", friendly.base)).unwrap(),
    )
    .await
    .unwrap()
    .expect("a redirect to an allowed server is followed");
    assert_eq!(found.ap_id, moved_note);
}

#[tokio::test]
async fn rejecting_a_domains_media_drops_its_attachments_emoji_avatars_and_headers() {
    let alpha = TestApp::spawn().await;
    let alice = alpha.create_user("alice").await;
    alpha.create_staff("root", "admin").await;
    let root = alpha.token("root").await;
    let pics = FakeServer::spawn("pics").await;
    let pat = pics.add_actor("pat", false);
    alpha.follow_fake(&pics, &alice.actor, &pat).await;
    sqlx::query("update actors set avatar_url = $2, header_url = $2 where ap_id = $1")
        .bind(&pat.id)
        .bind(format!("{}/avatar.png", pics.base))
        .execute(&alpha.db)
        .await
        .unwrap();
    let with_media = |name: &str| {
        note(
            &pics,
            &pat,
            name,
            json!({
                "content": format!("<p>{name} :blob:</p>"),
                "attachment": [{"type": "Document", "mediaType": "image/png",
                                "url": format!("{}/{name}.png", pics.base), "name": "a cat"}],
                "tag": [{"type": "Emoji", "name": ":blob:",
                         "icon": {"type": "Image", "url": format!("{}/blob.png", pics.base)}}],
            }),
        )
    };
    let first = with_media("first");
    assert_eq!(
        alpha
            .post_signed(&pics, &pat, "/inbox", create(&pics, &pat, first))
            .await,
        202
    );
    let media = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let row: (i64, i64, i64) = sqlx::query_as(
                "select (select count(*) from attachments),
                        (select count(*) from post_emojis),
                        (select count(*) from actors
                         where avatar_url is not null or header_url is not null)",
            )
            .fetch_one(&db)
            .await
            .unwrap();
            row
        }
    };
    assert_eq!(media(&alpha).await, (1, 1, 1), "stored before the block");

    let (status, block) = alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "pics.test", "severity": "noop", "reject_media": true}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    assert_eq!(media(&alpha).await, (0, 0, 0), "dropped by the block");

    // New posts keep their text without media; a profile update keeps no
    // pictures; follows go on.
    let second = with_media("second");
    assert_eq!(
        alpha
            .post_signed(&pics, &pat, "/inbox", create(&pics, &pat, second))
            .await,
        202
    );
    let stored = alpha.post(&pics.note_url("second")).await;
    assert!(stored.content.contains("second"));
    // The fake server's own document, read over loopback, with pictures.
    let port = pics.domain.rsplit(':').next().unwrap();
    let mut person: Value = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/users/pat"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    person["icon"] = json!({"type": "Image", "url": format!("{}/new-avatar.png", pics.base)});
    person["image"] = json!({"type": "Image", "url": format!("{}/new-header.png", pics.base)});
    let update = json!({
        "id": format!("{}#updates/1", pat.id),
        "type": "Update",
        "actor": pat.id,
        "object": person,
    });
    assert_eq!(alpha.post_signed(&pics, &pat, "/inbox", update).await, 202);
    assert_eq!(media(&alpha).await, (0, 0, 0), "nothing new was kept");
    assert_eq!(
        count(
            &alpha,
            "select count(*) from follows where state = 'accepted'"
        )
        .await,
        1
    );
}
