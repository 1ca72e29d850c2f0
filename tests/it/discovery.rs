//! WebFinger, host-meta and NodeInfo, with their error answers.

use serde_json::Value;

use crate::harness::{TestApp, insert_remote_actor};

async fn webfinger(app: &TestApp, resource: &str) -> reqwest::Response {
    app.client
        .get(app.url("/.well-known/webfinger"))
        .query(&[("resource", resource)])
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn webfinger_describes_a_local_account_as_mastodon_expects() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;

    let response = webfinger(&app, &format!("acct:alice@{}", app.domain)).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/jrd+json")
    );
    assert_eq!(headers["access-control-allow-origin"], "*");
    let jrd: Value = response.json().await.unwrap();
    let actor = app.url("/users/alice");
    let profile = app.url("/@alice");
    assert_eq!(jrd["subject"], format!("acct:alice@{}", app.domain));
    assert_eq!(jrd["aliases"], serde_json::json!([profile, actor]));
    let links = jrd["links"].as_array().unwrap();
    let link = |rel: &str| {
        links
            .iter()
            .find(|l| l["rel"] == rel)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(link("self")["type"], "application/activity+json");
    assert_eq!(link("self")["href"], actor);
    assert_eq!(
        link("http://webfinger.net/rel/profile-page")["href"],
        profile
    );
    assert_eq!(
        link("http://webfinger.net/rel/profile-page")["type"],
        "text/html"
    );
    assert_eq!(
        link("http://ostatus.org/schema/1.0/subscribe")["template"],
        app.url("/authorize_interaction?uri={uri}")
    );

    // The self link leads to the actor, whose preferredUsername round-trips.
    let person: Value = app.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(person["id"], actor);
    assert_eq!(person["preferredUsername"], "alice");
}

#[tokio::test]
async fn webfinger_accepts_every_form_of_the_resource() {
    let app = TestApp::spawn().await;
    app.create_user("Alice").await;
    let subject = format!("acct:Alice@{}", app.domain);
    for resource in [
        format!("acct:alice@{}", app.domain),
        format!("alice@{}", app.domain),
        format!("acct:ALICE@{}", app.domain.to_uppercase()),
        app.url("/users/Alice"),
        app.url("/@alice"),
    ] {
        let response = webfinger(&app, &resource).await;
        assert_eq!(response.status(), 200, "{resource}");
        let jrd: Value = response.json().await.unwrap();
        assert_eq!(jrd["subject"], subject, "{resource}");
    }
}

#[tokio::test]
async fn webfinger_finds_the_instance_actor_by_domain_and_by_server_url() {
    let app = TestApp::spawn().await;
    let actor = app.url("/actor");

    let by_acct = webfinger(&app, &format!("acct:{0}@{0}", app.domain)).await;
    assert_eq!(by_acct.status(), 200);
    let jrd: Value = by_acct.json().await.unwrap();
    assert_eq!(jrd["subject"], format!("acct:{0}@{0}", app.domain));
    let self_link = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap();
    assert_eq!(self_link["href"], actor);

    // FEP-d556: the server's own URL as the resource.
    let by_url = webfinger(&app, &format!("{}/", app.base)).await;
    assert_eq!(by_url.status(), 200);
    let jrd: Value = by_url.json().await.unwrap();
    assert_eq!(jrd["subject"], format!("{}/", app.base));
    let service = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "https://www.w3.org/ns/activitystreams#Service")
        .expect("FEP-d556 link");
    assert_eq!(service["href"], actor);
    assert_eq!(service["type"], "application/activity+json");
}

#[tokio::test]
async fn webfinger_answers_400_for_malformed_and_404_for_unknown_resources() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;

    let missing = app.get("/.well-known/webfinger").await;
    assert_eq!(missing.status(), 400);
    assert_eq!(missing.headers()["access-control-allow-origin"], "*");
    let body: Value = missing.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("resource"));

    for bad in [
        "",
        "acct:",
        "acct:alice",
        "acct:@host",
        "mailto:alice",
        "https://[bad",
    ] {
        assert_eq!(webfinger(&app, bad).await.status(), 400, "{bad:?}");
    }
    for unknown in [
        format!("acct:bob@{}", app.domain),
        "acct:alice@elsewhere.example".to_string(),
        "https://elsewhere.example/users/alice".to_string(),
        app.url("/users/bob"),
        app.url("/some/other/page"),
    ] {
        assert_eq!(webfinger(&app, &unknown).await.status(), 404, "{unknown}");
    }

    // A remote account with the same name is not ours to describe.
    insert_remote_actor(&app.db, "remote.example", "carol").await;
    assert_eq!(
        webfinger(&app, &format!("acct:carol@{}", app.domain))
            .await
            .status(),
        404
    );
    assert_eq!(
        webfinger(&app, "acct:carol@remote.example").await.status(),
        404
    );
}

#[tokio::test]
async fn host_meta_points_to_webfinger_in_xml_and_json() {
    let app = TestApp::spawn().await;
    let template = app.url("/.well-known/webfinger?resource={uri}");

    let xrd = app.get("/.well-known/host-meta").await;
    assert_eq!(xrd.status(), 200);
    assert!(
        xrd.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xrd+xml")
    );
    assert_eq!(xrd.headers()["access-control-allow-origin"], "*");
    let body = xrd.text().await.unwrap();
    assert!(body.contains("<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">"));
    assert!(body.contains(&format!("<Link rel=\"lrdd\" template=\"{template}\"/>")));

    for response in [
        app.get("/.well-known/host-meta.json").await,
        app.get_with_accept("/.well-known/host-meta", "application/json")
            .await,
    ] {
        assert_eq!(response.status(), 200);
        let json: Value = response.json().await.unwrap();
        assert_eq!(json["links"][0]["rel"], "lrdd");
        assert_eq!(json["links"][0]["template"], template);
    }
}

#[tokio::test]
async fn nodeinfo_links_both_versions_and_the_instance_actor() {
    let app = TestApp::spawn().await;
    let response = app.get("/.well-known/nodeinfo").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let links: Value = response.json().await.unwrap();
    let href = |rel: &str| {
        links["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == rel)
            .map(|l| l["href"].as_str().unwrap().to_string())
    };
    assert_eq!(
        href("http://nodeinfo.diaspora.software/ns/schema/2.0"),
        Some(app.url("/nodeinfo/2.0"))
    );
    assert_eq!(
        href("http://nodeinfo.diaspora.software/ns/schema/2.1"),
        Some(app.url("/nodeinfo/2.1"))
    );
    assert_eq!(
        href("https://www.w3.org/ns/activitystreams#Application"),
        Some(app.url("/actor"))
    );
}

#[tokio::test]
async fn nodeinfo_reports_real_usage() {
    let app = TestApp::spawn_with(
        crate::harness::Options::named("alpha").env("SKEIN_REGISTRATIONS", "approval"),
    )
    .await;
    let alice = app.create_user("alice").await;
    app.create_user("bob").await;
    // A sign-up still in the approval queue is not a user yet.
    let pending = app.create_user("pending").await;
    sqlx::query("update users set approved = false where id = $1")
        .bind(pending.user.id)
        .execute(&app.db)
        .await
        .unwrap();
    // Alice posted today: she is active. Remote posts are not local posts.
    skein::db::posts::insert(
        &mut app.db.acquire().await.unwrap(),
        &skein::db::posts::NewPost {
            id: None,
            ap_id: &app.url("/users/alice/statuses/1"),
            author_id: alice.actor.id,
            url: None,
            content: "<p>hello</p>",
            source: Some("hello"),
            summary: "",
            sensitive: false,
            language: Some("en"),
            visibility: skein::domain::visibility::Visibility::Public,
            in_reply_to_ap_id: None,
            published: chrono::Utc::now(),
            quote_policy: Default::default(),
            reply_policy: Default::default(),
            interaction_policy: None,
        },
        &[],
        &[],
    )
    .await
    .unwrap();
    let remote = insert_remote_actor(&app.db, "remote.example", "carol").await;
    skein::db::posts::insert(
        &mut app.db.acquire().await.unwrap(),
        &skein::db::posts::NewPost {
            id: None,
            ap_id: "https://remote.example/notes/1",
            author_id: remote,
            url: None,
            content: "<p>hi</p>",
            source: None,
            summary: "",
            sensitive: false,
            language: None,
            visibility: skein::domain::visibility::Visibility::Public,
            in_reply_to_ap_id: None,
            published: chrono::Utc::now(),
            quote_policy: Default::default(),
            reply_policy: Default::default(),
            interaction_policy: None,
        },
        &[],
        &[],
    )
    .await
    .unwrap();

    for version in ["2.0", "2.1"] {
        let response = app.get(&format!("/nodeinfo/{version}")).await;
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            content_type.starts_with("application/json"),
            "{content_type}"
        );
        assert!(
            content_type.contains(&format!("schema/{version}#")),
            "{content_type}"
        );
        let info: Value = response.json().await.unwrap();
        assert_eq!(info["version"], version);
        assert_eq!(info["software"]["name"], "skein");
        let name = info["software"]["name"].as_str().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert_eq!(info["software"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(info["protocols"], serde_json::json!(["activitypub"]));
        assert_eq!(info["openRegistrations"], true);
        assert_eq!(info["metadata"]["approvalRequired"], true);
        assert_eq!(info["usage"]["users"]["total"], 2);
        assert_eq!(info["usage"]["users"]["activeMonth"], 1);
        assert_eq!(info["usage"]["users"]["activeHalfyear"], 1);
        assert_eq!(info["usage"]["localPosts"], 1);
    }
    assert_eq!(app.get("/nodeinfo/3.0").await.status(), 404);
}

#[tokio::test]
async fn closed_registrations_are_reported_as_closed() {
    let app = TestApp::spawn().await;
    let info: Value = app.get("/nodeinfo/2.1").await.json().await.unwrap();
    assert_eq!(info["openRegistrations"], false);
    assert_eq!(info["usage"]["users"]["total"], 0);
    assert_eq!(info["usage"]["localPosts"], 0);
}
