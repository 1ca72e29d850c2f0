//! What browsers and search engines get besides the pages' content:
//! compressed responses (br, gzip) but not for pictures or the streaming
//! API; static files at content-hashed addresses, cached for good; each
//! account's choice about search engines (`noindex` unless it opted in),
//! robots.txt; and roles given in the admin area, with who may give them.

use std::io::Read;

use serde_json::json;

use crate::harness::{TestApp, insert_remote_actor};
use crate::web::{Browser, csrf};

fn static_file(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/static/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn fetch(
    app: &TestApp,
    path: &str,
    encoding: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = app.client.get(app.url(path)).header("accept", "text/html");
    if let Some(encoding) = encoding {
        request = request.header("accept-encoding", encoding);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap().to_vec())
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli_decompressor::Decompressor::new(bytes, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The hashed address a page links for `name` (e.g. `skein.css`).
fn linked(html: &str, stem: &str, ext: &str) -> String {
    let re = regex::Regex::new(&format!(r"/static/{stem}\.[0-9a-f]{{16}}\.{ext}")).unwrap();
    re.find(html)
        .unwrap_or_else(|| panic!("the page links no hashed {stem}.{ext}"))
        .as_str()
        .to_string()
}

#[tokio::test]
async fn responses_are_compressed_with_br_or_gzip_and_decode_to_the_same_bytes() {
    let app = TestApp::spawn().await;
    let css = static_file("skein.css");

    let (status, headers, body) = fetch(&app, "/static/skein.css", Some("br")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    assert!(
        header(&headers, "vary")
            .unwrap_or_default()
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    assert!(
        body.len() < css.len() / 2,
        "br: {} of {}",
        body.len(),
        css.len()
    );
    assert_eq!(unbrotli(&body), css);

    let (_, headers, body) = fetch(&app, "/static/skein.css", Some("gzip")).await;
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&body), css);

    // br is preferred when both are accepted; none asked, none given.
    let (_, headers, _) = fetch(&app, "/static/skein.css", Some("gzip, deflate, br")).await;
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    let (_, headers, body) = fetch(&app, "/static/skein.css", None).await;
    assert_eq!(header(&headers, "content-encoding"), None);
    assert_eq!(body, css);

    // Pages and the API too.
    let (status, headers, body) = fetch(&app, "/about", Some("gzip")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), Some("gzip"));
    let page = String::from_utf8(gunzip(&body)).unwrap();
    assert!(page.contains("<!doctype html>") && page.contains("</html>"));
    let (status, headers, body) = fetch(&app, "/api/v1/instance", Some("br")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), Some("br"));
    let instance: serde_json::Value = serde_json::from_slice(&unbrotli(&body)).unwrap();
    assert!(instance["uri"].is_string());

    // Pictures are compressed already: sent as they are.
    let (status, headers, body) = fetch(&app, "/static/avatar.png", Some("gzip, br")).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), None);
    assert_eq!(body, static_file("avatar.png"));

    // The streaming API's events are not held back by a compressor.
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let response = app
        .client
        .get(app.url("/api/v1/streaming/user"))
        .header("authorization", format!("Bearer {token}"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        header(response.headers(), "content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    assert_eq!(header(response.headers(), "content-encoding"), None);
    drop(response);
}

#[tokio::test]
async fn static_files_are_linked_by_content_hash_and_cached_for_good() {
    let app = TestApp::spawn().await;
    let (_, _, front) = fetch(&app, "/", None).await;
    let front = String::from_utf8(front).unwrap();
    let css = linked(&front, "skein", "css");
    let js = linked(&front, "skein", "js");
    linked(&front, "favicon", "svg");
    for (path, name, kind) in [
        (css.as_str(), "skein.css", "text/css"),
        (js.as_str(), "skein.js", "text/javascript"),
    ] {
        let (status, headers, body) = fetch(&app, path, None).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            header(&headers, "cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{path}"
        );
        assert!(header(&headers, "content-type").unwrap().starts_with(kind));
        assert_eq!(body, static_file(name), "{path}");
    }
    // The manifest names its icons by hash as well.
    let (_, _, manifest) = fetch(&app, "/manifest.webmanifest", None).await;
    let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let icon = manifest["icons"][1]["src"].as_str().unwrap().to_string();
    assert!(
        icon.starts_with("/static/icon-192.") && icon.len() == "/static/icon-192..png".len() + 16
    );
    let (status, headers, _) = fetch(&app, &icon, None).await;
    assert_eq!(status, 200);
    assert!(
        header(&headers, "cache-control")
            .unwrap()
            .contains("immutable")
    );

    // The plain address still works, without the promise.
    let (status, headers, body) = fetch(&app, "/static/skein.css", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, static_file("skein.css"));
    assert!(
        !header(&headers, "cache-control")
            .unwrap()
            .contains("immutable")
    );
    // Another hash (a page from before an upgrade) gets today's file, not
    // to be kept; an unknown file is a 404.
    let (status, headers, body) = fetch(&app, "/static/skein.0000000000000000.css", None).await;
    assert_eq!(status, 200);
    assert_eq!(body, static_file("skein.css"));
    assert_eq!(header(&headers, "cache-control"), Some("no-cache"));
    let (status, _, _) = fetch(&app, "/static/nothing.0000000000000000.css", None).await;
    assert_eq!(status, 404);

    let (status, headers, robots) = fetch(&app, "/robots.txt", None).await;
    assert_eq!(status, 200);
    assert!(
        header(&headers, "content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    let robots = String::from_utf8(robots).unwrap();
    assert!(robots.starts_with("User-agent: *\n"));
    assert!(robots.contains("Disallow: /media_proxy/\n"));
    assert!(
        !robots.contains("Disallow: /\n"),
        "public pages stay crawlable"
    );
    assert!(
        !robots.contains("Disallow: /home"),
        "/home is not marked as blocked from indexing"
    );
}

const NOINDEX: &str = r#"<meta name="robots" content="noindex">"#;

#[tokio::test]
async fn pages_of_accounts_that_did_not_opt_in_say_noindex() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let token = app.token("alice").await;
    let (status, public) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({ "status": "Indexed, maybe", "visibility": "public" }),
        )
        .await;
    assert_eq!(status, 200);
    let (_, unlisted) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({ "status": "Quietly", "visibility": "unlisted" }),
        )
        .await;
    let public_page = format!("/@alice/{}", public["id"].as_str().unwrap());
    let unlisted_page = format!("/@alice/{}", unlisted["id"].as_str().unwrap());
    let page = |path: String| {
        let app = &app;
        async move {
            let (status, _, body) = fetch(app, &path, None).await;
            assert_eq!(status, 200, "{path}");
            String::from_utf8(body).unwrap()
        }
    };

    // By default (as Mastodon): not indexed; the instance's pages are.
    let stored: bool = sqlx::query_scalar("select search_engine_indexing from users where id = $1")
        .bind(alice.user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(!stored);
    assert!(page("/@alice".into()).await.contains(NOINDEX));
    assert!(page(public_page.clone()).await.contains(NOINDEX));
    for path in ["/", "/about"] {
        let body = page(path.into()).await;
        assert!(!body.contains(NOINDEX), "{path}");
        assert!(
            body.contains(r#"<meta name="description" content=""#),
            "{path}"
        );
    }

    // Alice opts in from her privacy settings.
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let form = browser.get("/settings/privacy").await;
    assert!(form.body.contains(r#"name="search_engine_indexing""#));
    let saved = browser
        .post(
            "/settings/privacy",
            &[
                ("csrf_token", &csrf(&form.body)),
                ("default_visibility", "public"),
                ("fediverse_sharing", "1"),
                ("search_engine_indexing", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let stored: bool = sqlx::query_scalar("select search_engine_indexing from users where id = $1")
        .bind(alice.user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(stored);
    let profile = page("/@alice".into()).await;
    assert!(!profile.contains(NOINDEX));
    assert_eq!(
        profile
            .matches(r#"<meta name="description" content=""#)
            .count(),
        1,
        "one description, the profile's"
    );
    // Signed-in pages describe themselves too (the instance's words), once.
    let home = browser.get("/home").await;
    assert_eq!(
        home.body
            .matches(r#"<meta name="description" content=""#)
            .count(),
        1
    );
    assert!(!home.body.contains(NOINDEX));
    assert!(!page(public_page.clone()).await.contains(NOINDEX));
    // An unlisted post is never indexed.
    assert!(page(unlisted_page).await.contains(NOINDEX));
    let settings = browser.get("/settings/privacy").await;
    assert!(settings.body.contains(
        r#"name="search_engine_indexing" value="1" aria-describedby="search-engines-hint" checked"#
    ));

    // And out again: an unticked box is "off".
    let saved = browser
        .post(
            "/settings/privacy",
            &[
                ("csrf_token", &csrf(&settings.body)),
                ("default_visibility", "public"),
                ("fediverse_sharing", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert!(page("/@alice".into()).await.contains(NOINDEX));
    assert!(page(public_page).await.contains(NOINDEX));
}

async fn role_of(app: &TestApp, user_id: i64) -> String {
    sqlx::query_scalar("select role from users where id = $1")
        .bind(user_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn role_changes(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from admin_actions where action = 'user.set_role'")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn admins_give_roles_below_their_own_from_the_admin_area() {
    let app = TestApp::spawn().await;
    let carol = app.create_staff("carol", "admin").await;
    let dave = app.create_staff("dave", "admin").await;
    let mo = app.create_staff("mo", "moderator").await;
    let una = app.create_user("una").await;
    let remote = insert_remote_actor(&app.db, "remote.example", "rita").await;

    let mut admin = Browser::new(&app);
    admin.sign_in("carol").await;
    let list = admin.get("/admin/accounts?filter=local").await;
    assert_eq!(list.status, 200);
    let form_for = |id: i64| format!(r#"action="/admin/accounts/{id}/role""#);
    assert!(list.body.contains(&form_for(una.actor.id)));
    assert!(list.body.contains(&form_for(mo.actor.id)));
    assert!(
        !list.body.contains(&form_for(carol.actor.id)),
        "her own role"
    );
    assert!(!list.body.contains(&form_for(dave.actor.id)), "an equal's");
    assert!(list.body.contains(&format!(
        r#"<label for="role-{}">Role</label>"#,
        una.actor.id
    )));
    let token = csrf(&list.body);
    let give = |id: i64| format!("/admin/accounts/{id}/role");

    // A user becomes a moderator, then an admin; each change is logged.
    let done = admin
        .post(
            &give(una.actor.id),
            &[
                ("csrf_token", &token),
                ("role", "moderator"),
                ("back", "/admin/accounts"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/admin/accounts"));
    assert_eq!(role_of(&app, una.user.id).await, "moderator");
    let (actor_name, details): (String, serde_json::Value) = sqlx::query_as(
        "select actor_name, details from admin_actions
         where action = 'user.set_role' and target = 'una'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(actor_name, "carol");
    assert_eq!(details, json!({ "from": "user", "to": "moderator" }));
    let done = admin
        .post(
            &give(mo.actor.id),
            &[("csrf_token", &token), ("role", "user")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(role_of(&app, mo.user.id).await, "user");
    assert_eq!(role_changes(&app).await, 2);

    // Refused, changing nothing: her own role, an equal's, a role that
    // does not exist, a remote account, a form without the session's token.
    for (id, role, status) in [
        (carol.actor.id, "user", 403),
        (dave.actor.id, "user", 403),
        (una.actor.id, "owner", 422),
        (remote, "moderator", 404),
    ] {
        let refused = admin
            .post(&give(id), &[("csrf_token", &token), ("role", role)])
            .await;
        assert_eq!(refused.status, status, "{id} {role}");
    }
    let forged = admin
        .post(
            &give(una.actor.id),
            &[("csrf_token", "forged"), ("role", "user")],
        )
        .await;
    assert!(
        forged.status == 403 || forged.status == 400,
        "{}",
        forged.status
    );
    assert_eq!(role_of(&app, carol.user.id).await, "admin");
    assert_eq!(role_of(&app, dave.user.id).await, "admin");
    assert_eq!(role_of(&app, una.user.id).await, "moderator");
    assert_eq!(role_changes(&app).await, 2);

    // A moderator gives no roles and sees no role forms.
    let mut moderator = Browser::new(&app);
    moderator.sign_in("una").await;
    let list = moderator.get("/admin/accounts?filter=local").await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains("/role\""));
    let refused = moderator
        .post(
            &give(mo.actor.id),
            &[("csrf_token", &csrf(&list.body)), ("role", "moderator")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(role_of(&app, mo.user.id).await, "user");

    // An admin made on the web is then out of other admins' reach.
    let done = admin
        .post(
            &give(una.actor.id),
            &[("csrf_token", &token), ("role", "admin")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(role_of(&app, una.user.id).await, "admin");
    let refused = admin
        .post(
            &give(una.actor.id),
            &[("csrf_token", &token), ("role", "user")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(role_of(&app, una.user.id).await, "admin");
    assert_eq!(role_changes(&app).await, 3);
}

#[tokio::test]
async fn the_api_says_noindex_from_the_search_engine_preference_not_from_indexable() {
    let app = TestApp::spawn().await;
    for name in ["alice", "bob", "carol"] {
        app.create_user(name).await;
    }
    let alice = app.token("alice").await;
    let bob = app.token("bob").await;
    let carol = app.token("carol").await;
    let alice_id = app.local("alice").await.id;
    let bob_id = app.local("bob").await.id;
    for id in [alice_id, bob_id] {
        let (status, body) = app
            .api_post(&carol, &format!("/api/v1/accounts/{id}/follow"), json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
    }

    // bob lets his posts be found by full-text search (`indexable`), which
    // says nothing about search engines.
    let (status, _, account) = app
        .api(
            reqwest::Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&bob),
            Some(json!({ "indexable": true })),
        )
        .await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["indexable"], true);
    assert_eq!(account["source"]["indexable"], true);
    assert_eq!(account["noindex"], true, "{account}");

    // alice opts in to search engines from her privacy settings.
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let form = browser.get("/settings/privacy").await;
    let saved = browser
        .post(
            "/settings/privacy",
            &[
                ("csrf_token", &csrf(&form.body)),
                ("default_visibility", "public"),
                ("fediverse_sharing", "1"),
                ("search_engine_indexing", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    let (alice_indexing, alice_indexable): (bool, bool) = sqlx::query_as(
        "select u.search_engine_indexing, a.indexable
         from users u join actors a on a.id = u.actor_id where a.id = $1",
    )
    .bind(alice_id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(alice_indexing && !alice_indexable);

    let (_, me) = app
        .api_get(&alice, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(me["noindex"], false, "{me}");
    assert_eq!(me["indexable"], false);
    assert_eq!(me["source"]["indexable"], false);
    let (_, me) = app
        .api_get(&bob, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(me["noindex"], true, "{me}");

    // A page of statuses by both: each account says its own.
    for token in [&alice, &bob] {
        let (status, body) = app
            .api_post(
                token,
                "/api/v1/statuses",
                json!({ "status": "hello", "visibility": "public" }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, home) = app.api_get(&carol, "/api/v1/timelines/home").await;
    let noindex_of = |id: i64| {
        home.as_array()
            .unwrap()
            .iter()
            .find(|s| s["account"]["id"].as_str() == Some(id.to_string().as_str()))
            .map(|s| s["account"]["noindex"].clone())
            .unwrap_or_else(|| panic!("no post of {id}: {home}"))
    };
    assert_eq!(noindex_of(alice_id), json!(false));
    assert_eq!(noindex_of(bob_id), json!(true));
    let (_, account) = app
        .api_get(&carol, &format!("/api/v1/accounts/{alice_id}"))
        .await;
    assert_eq!(account["noindex"], false);

    // Remote accounts have no such preference here: null, as Mastodon
    // leaves it out for them.
    let remote = insert_remote_actor(&app.db, "remote.example", "dora").await;
    let (status, account) = app
        .api_get(&carol, &format!("/api/v1/accounts/{remote}"))
        .await;
    assert_eq!(status, 200, "{account}");
    assert!(account["noindex"].is_null(), "{account}");
}
