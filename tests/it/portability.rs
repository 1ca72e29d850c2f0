//! Export and import in Mastodon's formats through the web settings: the
//! CSV lists round-trip to another instance, imports run as jobs, overwrite
//! removes what a file does not list, and failures are shown.

use reqwest::multipart;
use serde_json::Value;
use skein::service::{blocks, domain_blocks, follows, mutes, portability};

use crate::harness::{Options, TestApp};
use crate::web::{Browser, csrf};

async fn exists(app: &TestApp, sql: &str, a: i64, b: i64) -> bool {
    sqlx::query_scalar(sql)
        .bind(a)
        .bind(b)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

const FOLLOWS: &str =
    "select exists (select 1 from follows where follower_id = $1 and followee_id = $2)";
const BLOCKS: &str =
    "select exists (select 1 from blocks where blocker_id = $1 and blocked_id = $2)";

async fn import(browser: &mut Browser<'_>, kind: &str, mode: &str, csv: String) -> u16 {
    let token = csrf(&browser.get("/settings/import").await.body);
    let form = multipart::Form::new()
        .text("csrf_token", token)
        .text("kind", kind.to_string())
        .text("mode", mode.to_string())
        .part(
            "data",
            multipart::Part::text(csv)
                .file_name("list.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    browser
        .post_multipart("/settings/import", form)
        .await
        .status
}

#[tokio::test]
async fn exported_lists_round_trip_through_import_on_another_instance() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let alice = alpha.create_user("alice").await.actor;
    let carol = alpha.create_user("carol").await.actor;
    let dave = alpha.create_user("dave").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let erin = beta.create_user("erin").await.actor;
    let frank = beta.create_user("frank").await.actor;

    follows::follow(&alpha.state, &alice, &carol).await.unwrap();
    let remote_bob = alpha.resolve(&beta.handle("bob")).await;
    follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    blocks::block(&alpha.state, &alice, &dave).await.unwrap();
    let remote_erin = alpha.resolve(&beta.handle("erin")).await;
    mutes::mute(&alpha.state, &alice, &remote_erin, false, None)
        .await
        .unwrap();
    domain_blocks::block(&alpha.state, &alice, "spam.example")
        .await
        .unwrap();

    let mut browser = Browser::new(&alpha);
    browser.sign_in("alice").await;
    let page = browser.get("/settings/export").await;
    assert!(page.body.contains("following_accounts.csv"));
    let mut files = std::collections::HashMap::new();
    for name in [
        "following_accounts.csv",
        "blocked_accounts.csv",
        "muted_accounts.csv",
        "blocked_domains.csv",
    ] {
        let page = browser.get(&format!("/settings/export/{name}")).await;
        assert_eq!(page.status, 200);
        assert!(
            page.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        files.insert(name, page.body);
    }
    assert_eq!(
        files["following_accounts.csv"],
        format!(
            "Account address,Show boosts,Notify on new posts,Languages\n{},true,false,\n{},true,false,\n",
            alpha.handle("carol"),
            beta.handle("bob")
        )
    );
    assert_eq!(
        files["blocked_accounts.csv"],
        format!("{}\n", alpha.handle("dave"))
    );
    assert_eq!(
        files["muted_accounts.csv"],
        format!(
            "Account address,Hide notifications\n{},false\n",
            beta.handle("erin")
        )
    );
    assert_eq!(files["blocked_domains.csv"], "spam.example\n");
    // Lists: title and member, as Mastodon writes them.
    let (_, list) = alpha
        .api_post(
            &alpha.token("alice").await,
            "/api/v1/lists",
            serde_json::json!({ "title": "Friends, mostly" }),
        )
        .await;
    let list_id = list["id"].as_str().unwrap().to_string();
    let (status, _) = alpha
        .api_post(
            &alpha.token("alice").await,
            &format!("/api/v1/lists/{list_id}/accounts"),
            serde_json::json!({ "account_ids": [carol.id.to_string()] }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        browser.get("/settings/export/lists.csv").await.body,
        format!("\"Friends, mostly\",{}\n", alpha.handle("carol"))
    );
    // The archive keeps every post of alice's, whatever its visibility.
    let alice_token = alpha.token("alice").await;
    for (text, visibility) in [
        ("for everyone", "public"),
        ("for my followers", "private"),
        ("just between us", "direct"),
    ] {
        let (status, _) = alpha
            .api_post(
                &alice_token,
                "/api/v1/statuses",
                serde_json::json!({ "status": text, "visibility": visibility }),
            )
            .await;
        assert_eq!(status, 200);
    }
    let outbox: Value =
        serde_json::from_str(&browser.get("/settings/export/outbox.json").await.body).unwrap();
    assert_eq!(outbox["type"], "OrderedCollection");
    let contents: Vec<&str> = outbox["orderedItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["object"]["content"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(contents.len(), 3, "{contents:?}");
    assert!(
        contents[0].contains("just between us"),
        "newest first: {contents:?}"
    );
    assert!(contents[1].contains("for my followers"));
    assert!(contents[2].contains("for everyone"));
    let followers_only = &outbox["orderedItems"][1];
    assert_eq!(
        followers_only["to"],
        serde_json::json!([format!("{}/followers", alice.ap_id)])
    );
    let actor: Value =
        serde_json::from_str(&browser.get("/settings/export/actor.json").await.body).unwrap();
    assert_eq!(actor["id"], serde_json::json!(alice.ap_id));

    // Frank, on beta, imports them all.
    let mut there = Browser::new(&beta);
    there.sign_in("frank").await;
    for (kind, name) in [
        ("following", "following_accounts.csv"),
        ("blocking", "blocked_accounts.csv"),
        ("muting", "muted_accounts.csv"),
        ("domain_blocking", "blocked_domains.csv"),
    ] {
        assert_eq!(
            import(&mut there, kind, "merge", files[name].clone()).await,
            303
        );
    }
    let queued: i64 = sqlx::query_scalar("select count(*) from imports where state = 'pending'")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(queued, 4, "imports wait as jobs");
    assert_eq!(portability::run_pending(&beta.state).await.unwrap(), 4);

    let carol_there = beta.resolve(&alpha.handle("carol")).await;
    let dave_there = beta.resolve(&alpha.handle("dave")).await;
    assert!(exists(&beta, FOLLOWS, frank.id, bob.id).await);
    assert!(exists(&beta, FOLLOWS, frank.id, carol_there.id).await);
    assert!(exists(&beta, BLOCKS, frank.id, dave_there.id).await);
    let mute: Option<bool> = sqlx::query_scalar(
        "select notifications from mutes where actor_id = $1 and target_id = $2",
    )
    .bind(frank.id)
    .bind(erin.id)
    .fetch_optional(&beta.db)
    .await
    .unwrap();
    assert_eq!(mute, Some(false));
    let domains: Vec<String> =
        sqlx::query_scalar("select domain from user_domain_blocks where actor_id = $1")
            .bind(frank.id)
            .fetch_all(&beta.db)
            .await
            .unwrap();
    assert_eq!(domains, ["spam.example"]);
    // The Follow of carol went over federation and was accepted.
    beta.deliver().await;
    alpha.deliver().await;
    let frank_there = alpha.resolve(&beta.handle("frank")).await;
    assert!(exists(&alpha, FOLLOWS, frank_there.id, carol.id).await);
    let page = there.get("/settings/import").await;
    assert!(page.body.contains("2 applied"), "{}", page.body);
}

#[tokio::test]
async fn an_overwrite_import_removes_what_the_file_does_not_list_and_reports_failures() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let bob = app.create_user("bob").await.actor;
    let carol = app.create_user("carol").await.actor;
    follows::follow(&app.state, &alice, &bob).await.unwrap();
    follows::follow(&app.state, &alice, &carol).await.unwrap();

    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let csv = format!(
        "Account address,Show boosts,Notify on new posts,Languages\n{},true,false,\n{},true,false,\n",
        app.handle("carol"),
        app.handle("nobody")
    );
    assert_eq!(
        import(&mut browser, "following", "overwrite", csv).await,
        303
    );
    portability::run_pending(&app.state).await.unwrap();

    assert!(
        !exists(&app, FOLLOWS, alice.id, bob.id).await,
        "bob is not in the file"
    );
    assert!(exists(&app, FOLLOWS, alice.id, carol.id).await);
    let page = browser.get("/settings/import").await;
    assert!(page.body.contains("1 applied, 1 failed"), "{}", page.body);
    assert!(page.body.contains(&format!("{}: ", app.handle("nobody"))));

    // A file that is not a list of addresses is refused at once.
    assert_eq!(
        import(&mut browser, "blocking", "merge", "not an address\n".into()).await,
        422
    );
}

#[tokio::test]
async fn the_import_api_queues_a_csv_as_the_web_form_does() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let bob = app.create_user("bob").await.actor;
    let token = app.token("alice").await;
    let form = multipart::Form::new()
        .text("type", "blocks")
        .text("mode", "merge")
        .part(
            "data",
            multipart::Part::text(format!("{}\n", app.handle("bob")))
                .file_name("blocked_accounts.csv"),
        );
    let response = app
        .client
        .post(app.url("/api/v1/import"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(portability::run_pending(&app.state).await.unwrap(), 1);
    assert!(exists(&app, BLOCKS, alice.id, bob.id).await);
}

#[tokio::test]
async fn the_export_api_serves_the_same_csv_files_as_the_web() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let bob = app.create_user("bob").await.actor;
    skein::service::blocks::block(&app.state, &alice, &bob)
        .await
        .unwrap();
    let token = app.token("alice").await;
    let get = |path: &'static str, token: String| {
        let app = &app;
        async move {
            let response = app
                .client
                .get(app.url(path))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let kind = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string());
            (status, kind, response.text().await.unwrap())
        }
    };
    let (status, kind, body) = get("/api/v1/exports/blocks.csv", token.clone()).await;
    assert_eq!(status, 200);
    assert_eq!(kind.as_deref(), Some("text/csv; charset=utf-8"));
    assert_eq!(body.trim(), app.handle("bob"));
    let (status, _, body) = get("/api/v1/exports/following.csv", token.clone()).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("Account address,Show boosts"), "{body}");
    let (status, _, _) = get("/api/v1/exports/passwords.csv", token.clone()).await;
    assert_eq!(status, 404);
    let (status, _, _) = get("/api/v1/exports/blocks.csv", "not a token".into()).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_archive_downloads_as_one_zip_with_every_post_and_the_media_it_names() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let token = app.token("alice").await;
    let media = skein::service::media::upload(
        &app.state,
        &alice,
        bytes::Bytes::from(crate::media::png(64, 48)),
        Some("a small grey square"),
        None,
    )
    .await
    .unwrap();
    let (status, _) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            serde_json::json!({"status": "with a picture", "media_ids": [media.id]}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            serde_json::json!({"status": "for my followers", "visibility": "private"}),
        )
        .await;
    assert_eq!(status, 200);

    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let page = browser.get("/settings/export").await;
    assert!(page.body.contains("/settings/export/archive.zip"));
    let download = || {
        app.client
            .get(app.url("/settings/export/archive.zip"))
            .header("cookie", browser.cookie_header())
            .send()
    };
    let response = download().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("archive-alice.zip")
    );
    let bytes = response.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut read = |name: &str| -> Vec<u8> {
        let mut entry = zip
            .by_name(name)
            .unwrap_or_else(|_| panic!("{name} is in the archive"));
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut out).unwrap();
        out
    };
    let outbox: Value = serde_json::from_slice(&read("outbox.json")).unwrap();
    let items = outbox["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 2, "every post, followers-only too");
    let with_picture = items
        .iter()
        .find(|i| {
            i["object"]["content"]
                .as_str()
                .unwrap()
                .contains("with a picture")
        })
        .unwrap();
    let file = with_picture["object"]["attachment"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(file.starts_with("media/"), "{file}");
    assert_eq!(
        with_picture["object"]["attachment"][0]["name"],
        "a small grey square"
    );
    let stored = std::fs::read(
        app.config
            .media_dir()
            .join(file.trim_start_matches("media/")),
    )
    .unwrap();
    assert_eq!(
        read(&file),
        stored,
        "the media file is in the archive as stored"
    );
    let actor: Value = serde_json::from_slice(&read("actor.json")).unwrap();
    assert_eq!(actor["outbox"], "outbox.json");
    for name in ["likes.json", "bookmarks.json"] {
        let doc: Value = serde_json::from_slice(&read(name)).unwrap();
        assert_eq!(doc["type"], "OrderedCollection");
    }

    // Whole archives are limited per account.
    for _ in 0..2 {
        assert_eq!(download().await.unwrap().status(), 200);
    }
    assert_eq!(download().await.unwrap().status(), 429);
}
