//! The public address's scheme as browsers meet it: the README's first run
//! on localhost over plain http, a browser on plain http at an instance
//! whose cookies are Secure, and the plain listener's redirect when Skein
//! serves TLS itself.

use reqwest::multipart;
use serde_json::{Value, json};

use crate::harness::{AP, Options, TestApp};
use crate::oauth::form_fields;
use crate::web::{Browser, PASSWORD, cookie_named, csrf, png, sessions_of};

#[tokio::test]
async fn the_first_run_on_localhost_links_its_pages_over_http_and_signs_in_there() {
    let app = TestApp::spawn_with(Options::first_run()).await;
    let origin = format!("http://localhost:{}", app.addr.port());
    assert_eq!(app.config.base_url().as_str(), format!("{origin}/"));
    assert!(!app.config.test_network.enabled);
    app.create_user("alice").await;

    // A browser on http://localhost:PORT keeps the cookies: they are not
    // Secure, and the sign-in page has no warning.
    let mut browser = Browser::new(&app);
    let form = browser.get("/auth/sign_in").await;
    assert!(!form.body.contains("id=\"plain-http\""), "{}", form.body);
    assert!(!cookie_named(&form, "skein_csrf").contains("Secure"));
    let done = browser.sign_in("alice").await;
    assert_eq!(done.status, 303, "{}", done.body);
    let cookie = cookie_named(&done, "skein_session");
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert_eq!(sessions_of(&app, "alice").await, 1);
    let home = browser.get("/home").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("id=\"compose-text\""));

    // A post with an image, from the composer.
    let token = csrf(&home.body);
    let posted = browser
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", token)
                .text("text", "first light")
                .text("media_description", "a red square")
                .part(
                    "media",
                    multipart::Part::bytes(png())
                        .file_name("red.png")
                        .mime_str("image/png")
                        .unwrap(),
                ),
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);

    // Every address on the pages is on plain http, and the images load.
    let mut reader = Browser::new(&app);
    let profile = reader.get("/@alice").await;
    assert_eq!(profile.status, 200);
    assert!(
        !profile.body.contains("https://localhost"),
        "{}",
        profile.body
    );
    assert!(
        profile
            .body
            .contains(&format!("content=\"{origin}/static/avatar.png\"")),
        "{}",
        profile.body
    );
    assert!(
        profile
            .body
            .contains(&format!("src=\"{origin}/static/avatar.png\""))
    );
    let media = regex::Regex::new(&format!(
        r#"src="({}/media/[^"]+)""#,
        regex::escape(&origin)
    ))
    .unwrap();
    let image = media
        .captures(&profile.body)
        .map(|c| c[1].to_string())
        .unwrap_or_else(|| panic!("no image at {origin}/media/: {}", profile.body));
    for url in [image, format!("{origin}/static/avatar.png")] {
        let response = app.client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.headers()["content-type"], "image/png", "{url}");
    }
    // The ids other servers see are on http too.
    let actor: Value = app.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(actor["id"], format!("{origin}/users/alice"));
}

#[tokio::test]
async fn a_browser_on_plain_http_at_an_https_instance_is_told_where_to_sign_in() {
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_SCHEME", "https")
            .env("SKEIN_REGISTRATIONS", "open"),
    )
    .await;
    app.create_user("alice").await;
    let there = format!("https://{}", app.domain);

    // The sign-in page warns before anyone types a password.
    let mut browser = Browser::new(&app);
    let form = browser.get("/auth/sign_in?next=%2Fnotifications").await;
    assert_eq!(form.status, 200);
    assert!(cookie_named(&form, "skein_csrf").contains("Secure"));
    assert!(form.body.contains("id=\"plain-http\""), "{}", form.body);
    assert!(
        form.body.contains(&format!(
            "href=\"{there}/auth/sign_in?next=%2Fnotifications\""
        )),
        "{}",
        form.body
    );
    let sign_up = browser.get("/auth/sign_up").await;
    assert!(sign_up.body.contains("id=\"plain-http\""));

    // The browser dropped the Secure cookie, so the form comes back
    // without it: the answer says why, and where to go; nothing changes.
    let before = app.table_counts().await;
    let token = csrf(&form.body);
    let refused = browser
        .post(
            "/auth/sign_in",
            &[
                ("csrf_token", &token),
                ("login", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("over plain http"), "{}", refused.body);
    assert!(refused.body.contains(&format!("http://{}", app.domain)));
    assert!(
        refused
            .body
            .contains(&format!("href=\"{there}/auth/sign_in\"")),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("the form has expired"));
    assert!(refused.set_cookies.is_empty(), "{:?}", refused.set_cookies);
    assert_eq!(sessions_of(&app, "alice").await, 0);

    let token = csrf(&sign_up.body);
    let refused = browser
        .post(
            "/auth/sign_up",
            &[
                ("csrf_token", &token),
                ("username", "bob"),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
                ("agreement", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused
            .body
            .contains(&format!("href=\"{there}/auth/sign_up\""))
    );
    assert_eq!(app.table_counts().await, before);

    // At the https address (a TLS proxy in front), the same forms work,
    // and a form that really lost its token is still "expired".
    let mut secure = Browser::behind_tls_proxy(&app);
    let form = secure.get("/auth/sign_in").await;
    assert!(!form.body.contains("id=\"plain-http\""));
    let forged = Browser::behind_tls_proxy(&app)
        .post(
            "/auth/sign_in",
            &[
                ("csrf_token", "guessed"),
                ("login", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(
        forged.body.contains("the form has expired"),
        "{}",
        forged.body
    );
    assert!(!forged.body.contains("id=\"plain-http\""));
    let done = secure.sign_in("alice").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(sessions_of(&app, "alice").await, 1);
    assert_eq!(secure.get("/home").await.status, 200);
}

#[tokio::test]
async fn an_apps_sign_in_page_on_plain_http_says_where_to_sign_in() {
    let app = TestApp::spawn_with(Options::named("alpha").env("SKEIN_SCHEME", "https")).await;
    app.create_user("alice").await;
    let registered: Value = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Test App"),
            ("redirect_uris", "https://app.example/callback"),
            ("scopes", "read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap();
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&scope=read"
    );

    let mut browser = Browser::new(&app);
    let page = browser.get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"plain-http\""), "{}", page.body);

    let mut fields = form_fields(&page.body);
    fields.push(("login".into(), "alice".into()));
    fields.push(("password".into(), PASSWORD.into()));
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let refused = browser.post("/oauth/authorize", &fields).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("over plain http"), "{}", refused.body);
    assert!(
        refused.body.contains(&format!(
            "href=\"https://{}/oauth/authorize?response_type=code&#38;client_id={client_id}",
            app.domain
        )),
        "{}",
        refused.body
    );
    assert_eq!(sessions_of(&app, "alice").await, 0);
    let codes: i64 = sqlx::query_scalar("select count(*) from oauth_codes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(codes, 0);
}

#[tokio::test]
async fn x_forwarded_proto_is_believed_only_from_a_trusted_proxy() {
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_SCHEME", "https")
            .env("SKEIN_HTTP__TRUSTED_PROXIES", "[]"),
    )
    .await;
    // Loopback is no trusted proxy here: its X-Forwarded-Proto is a claim
    // of the client's own.
    let mut browser = Browser::behind_tls_proxy(&app);
    let form = browser.get("/auth/sign_in").await;
    assert!(form.body.contains("id=\"plain-http\""), "{}", form.body);
    let refused = Browser::behind_tls_proxy(&app)
        .post(
            "/auth/sign_in",
            &[("csrf_token", "x"), ("login", "alice"), ("password", "x")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("over plain http"), "{}", refused.body);
}

/// A self-signed certificate for `host`, written as PEM files in `dir`.
fn certificate(dir: &std::path::Path, host: &str) -> (String, String, String) {
    let certified = rcgen::generate_simple_self_signed(vec![host.to_string()]).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    (
        cert.display().to_string(),
        key.display().to_string(),
        certified.cert.pem(),
    )
}

#[tokio::test]
async fn with_its_own_tls_listener_skein_sends_plain_http_to_https_but_health_checks() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, pem) = certificate(dir.path(), "alpha.test");
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_SCHEME", "https")
            .env("SKEIN_TLS__LISTEN", "127.0.0.1:0")
            .env("SKEIN_TLS__CERT_FILE", &cert)
            .env("SKEIN_TLS__KEY_FILE", &key),
    )
    .await;
    app.create_user("alice").await;
    let there = format!("https://{}", app.domain);

    // Pages, WebFinger and ActivityPub documents: 301 to the same path and
    // query at the https address.
    let webfinger = format!(
        "/.well-known/webfinger?resource=acct%3Aalice%40{}",
        app.domain
    );
    for (path, accept) in [
        ("/@alice?page=2", "text/html"),
        (webfinger.as_str(), "application/jrd+json"),
        ("/users/alice", AP),
        ("/", "text/html"),
    ] {
        let response = app.get_with_accept(path, accept).await;
        assert_eq!(response.status(), 301, "{path}");
        assert_eq!(
            response.headers()["location"].to_str().unwrap(),
            format!("{there}{path}")
        );
    }
    // A POST keeps its method and body with 308, and nothing was taken in.
    let before = app.table_counts().await;
    let inbox = app
        .client
        .post(app.url("/users/alice/inbox"))
        .header("content-type", AP)
        .body(json!({"type": "Follow"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(inbox.status(), 308);
    assert_eq!(
        inbox.headers()["location"].to_str().unwrap(),
        format!("{there}/users/alice/inbox")
    );
    let sign_in = app
        .client
        .post(app.url("/auth/sign_in"))
        .form(&[("login", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(sign_in.status(), 308);
    assert_eq!(app.table_counts().await, before);
    assert_eq!(sessions_of(&app, "alice").await, 0);

    // Health checks stay on plain http, and so does a trusted TLS proxy.
    let health = app.get("/health").await;
    assert_eq!(health.status(), 200);
    let proxied = app
        .client
        .get(app.url("/@alice"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 200);

    // Over TLS, the same app signs in with Secure cookies, and its pages
    // carry no plain-http warning.
    let tls_addr = app.tls_addr.expect("an HTTPS listener");
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).unwrap()])
        .resolve("alpha.test", tls_addr)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let tls = format!("https://alpha.test:{}", tls_addr.port());
    let form = client
        .get(format!("{tls}/auth/sign_in"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let cookie = form.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let body = form.text().await.unwrap();
    assert!(!body.contains("id=\"plain-http\""), "{body}");
    let token = csrf(&body);
    let done = client
        .post(format!("{tls}/auth/sign_in"))
        .header("cookie", pair)
        .form(&[
            ("csrf_token", token.as_str()),
            ("login", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    assert_eq!(sessions_of(&app, "alice").await, 1);
    app.stop().await;
}
