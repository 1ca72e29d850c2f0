//! The rest of Mastodon's admin API that moderation apps use: forcing an
//! account's media sensitive, e-mail domain blocks, IP blocks and canonical
//! e-mail blocks (each enforced at sign-up, and `no_access` on every
//! request, across processes), and the dashboard's measures, dimensions
//! and retention computed from a seeded dataset on the manual clock.
//! Every endpoint is checked against moderators, admins and plain users.

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{Options, TestApp, insert_remote_actor};
use crate::web::{Browser, PASSWORD, csrf};

fn now(app: &TestApp) -> chrono::DateTime<Utc> {
    skein::clock::Clock::now(&*app.clock)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

async fn audited(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from admin_actions where action = $1")
        .bind(action)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// A request to `path` as if from `ip` (through the trusted proxy on
/// loopback): status and body.
async fn from_ip(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    ip: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("x-forwarded-for", ip);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    if let Some(b) = body {
        request = request.json(&b);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// An app's client-credentials token, as apps sign people up with.
async fn app_token(app: &TestApp) -> String {
    let (status, _, registered) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/apps",
            None,
            Some(json!({"client_name": "phone", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})),
        )
        .await;
    assert_eq!(status, 200, "{registered}");
    let (status, _, token) = app
        .api(
            reqwest::Method::POST,
            "/oauth/token",
            None,
            Some(json!({
                "grant_type": "client_credentials",
                "client_id": registered["client_id"],
                "client_secret": registered["client_secret"],
                "scope": "read write",
            })),
        )
        .await;
    assert_eq!(status, 200, "{token}");
    token["access_token"].as_str().unwrap().to_string()
}

/// Signs up through the API from `ip`.
async fn sign_up(
    app: &TestApp,
    token: &str,
    username: &str,
    email: &str,
    ip: &str,
) -> (u16, Value) {
    let (status, body) = from_ip(
        app,
        reqwest::Method::POST,
        "/api/v1/accounts",
        ip,
        Some(token),
        Some(
            json!({"username": username, "email": email, "password": PASSWORD, "agreement": true}),
        ),
    )
    .await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn user_row(app: &TestApp, username: &str) -> Option<bool> {
    sqlx::query_scalar(
        "select u.approved from users u join actors a on a.id = u.actor_id where a.username = $1",
    )
    .bind(username)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

fn open() -> Options {
    Options::named("alpha").env("SKEIN_REGISTRATIONS", "open")
}

#[tokio::test]
async fn forcing_an_accounts_media_sensitive_shows_and_federates_them_sensitive_until_lifted() {
    let app = TestApp::spawn().await;
    let ann = app.create_user("ann").await;
    app.create_user("bob").await;
    app.create_staff("mod", "moderator").await;
    let ann_token = app.token("ann").await;
    let bob = app.token("bob").await;
    let moderator = app.token("mod").await;

    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(crate::media::png(20, 20))
            .file_name("a.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let uploaded: Value = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(&ann_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (status, with_media) = app
        .api_post(
            &ann_token,
            "/api/v1/statuses",
            json!({"status": "a picture", "media_ids": [uploaded["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{with_media}");
    let (_, text_only) = app
        .api_post(
            &ann_token,
            "/api/v1/statuses",
            json!({"status": "just words"}),
        )
        .await;
    assert_eq!(with_media["sensitive"], false);
    let media_id = with_media["id"].as_str().unwrap().to_string();
    let text_id = text_only["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/admin/accounts/{}/action", ann.actor.id);

    // A plain user may not.
    let (status, refused) = app
        .api_post(&bob, &path, json!({"type": "sensitive"}))
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        count(
            &app,
            "select count(*) from actors where sensitized_at is not null"
        )
        .await,
        0
    );

    // A moderator may (Mastodon's manage_users).
    let (status, done) = app
        .api_post(
            &moderator,
            &path,
            json!({"type": "sensitive", "text": "mark your pictures"}),
        )
        .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done, json!({}));
    let sensitized: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("select sensitized_at from actors where id = $1")
            .bind(ann.actor.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(sensitized.is_some());
    assert_eq!(audited(&app, "account.sensitive").await, 1);

    let (_, shown) = app
        .api_get(&bob, &format!("/api/v1/statuses/{media_id}"))
        .await;
    assert_eq!(shown["sensitive"], true, "media shown behind a warning");
    let (_, words) = app
        .api_get(&bob, &format!("/api/v1/statuses/{text_id}"))
        .await;
    assert_eq!(
        words["sensitive"], false,
        "posts without media are unchanged"
    );
    let (_, admin_view) = app
        .api_get(
            &moderator,
            &format!("/api/v1/admin/accounts/{}", ann.actor.id),
        )
        .await;
    assert_eq!(admin_view["sensitized"], true);
    // Other servers are told: the Note says sensitive.
    let uri = with_media["uri"].as_str().unwrap();
    let note: Value = app
        .get_ap(&uri.replace(&app.base, ""))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(note["sensitive"], true, "{note}");
    // And the web shows the post's media behind the warning.
    let page = app
        .client
        .get(app.url(&format!("/@ann/{media_id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<summary>Sensitive media</summary>"),
        "{page}"
    );

    // Lifting it: the account as it is afterwards.
    let lift = format!("/api/v1/admin/accounts/{}/unsensitive", ann.actor.id);
    let (status, _) = app.api_post(&bob, &lift, json!({})).await;
    assert_eq!(status, 403);
    let (status, lifted) = app.api_post(&moderator, &lift, json!({})).await;
    assert_eq!(status, 200, "{lifted}");
    assert_eq!(lifted["sensitized"], false);
    assert_eq!(lifted["id"], ann.actor.id.to_string());
    let (_, shown) = app
        .api_get(&bob, &format!("/api/v1/statuses/{media_id}"))
        .await;
    assert_eq!(shown["sensitive"], false);
    let (status, again) = app.api_post(&moderator, &lift, json!({})).await;
    assert_eq!(status, 422, "{again}");
    assert_eq!(audited(&app, "account.unsensitive").await, 1);
}

#[tokio::test]
async fn email_domain_blocks_refuse_or_queue_sign_ups_from_the_domain_and_its_subdomains() {
    let app = TestApp::spawn_with(open()).await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;
    app.create_user("plain").await;
    let root = app.token("root").await;
    let moderator = app.token("mod").await;
    let plain = app.token("plain").await;
    let phone = app_token(&app).await;

    // Mastodon's manage_blocks: admins only.
    for token in [&moderator, &plain] {
        let (status, _) = app
            .api_get(token, "/api/v1/admin/email_domain_blocks")
            .await;
        assert_eq!(status, 403);
        let (status, _) = app
            .api_post(
                token,
                "/api/v1/admin/email_domain_blocks",
                json!({"domain": "x.example"}),
            )
            .await;
        assert_eq!(status, 403);
    }
    assert_eq!(
        count(&app, "select count(*) from email_domain_blocks").await,
        0
    );

    let (status, block) = app
        .api_post(
            &root,
            "/api/v1/admin/email_domain_blocks",
            json!({"domain": "Spam.Example"}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    assert_eq!(block["domain"], "spam.example");
    assert!(block["created_at"].is_string());
    let history = block["history"].as_array().unwrap();
    assert_eq!(history.len(), 7);
    assert_eq!(history[0]["uses"], "0");
    assert_eq!(history[0]["accounts"], "0");
    let today = now(&app).date_naive();
    assert_eq!(
        history[0]["day"],
        today
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp()
            .to_string()
    );
    let id = block["id"].as_str().unwrap().to_string();
    for bad in [
        json!({"domain": "spam.example"}),
        json!({"domain": ""}),
        json!({}),
    ] {
        let (status, refused) = app
            .api_post(&root, "/api/v1/admin/email_domain_blocks", bad)
            .await;
        assert_eq!(status, 422, "{refused}");
    }
    assert_eq!(
        count(&app, "select count(*) from email_domain_blocks").await,
        1
    );

    // Sign-ups at the domain or below it are refused, and counted.
    let (status, refused) =
        sign_up(&app, &phone, "spammer", "x@mail.spam.example", "192.0.2.10").await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("Email"),
        "{refused}"
    );
    let (status, _) = sign_up(&app, &phone, "spammer", "y@spam.example", "192.0.2.11").await;
    assert_eq!(status, 422);
    let (status, _) = sign_up(&app, &phone, "spammer", "z@spam.example", "192.0.2.11").await;
    assert_eq!(status, 422);
    assert_eq!(user_row(&app, "spammer").await, None, "no account");
    let (_, shown) = app
        .api_get(&root, &format!("/api/v1/admin/email_domain_blocks/{id}"))
        .await;
    assert_eq!(shown["history"][0]["uses"], "3");
    assert_eq!(shown["history"][0]["accounts"], "2");
    // A look-alike domain is not covered.
    let (status, fine) = sign_up(&app, &phone, "honest", "h@notspam.example", "192.0.2.12").await;
    assert_eq!(status, 200, "{fine}");
    assert_eq!(user_row(&app, "honest").await, Some(true));

    // The web sign-up is held to the same block.
    let mut browser = Browser::new(&app);
    let form = browser.get("/auth/sign_up").await;
    let token = csrf(&form.body);
    let page = browser
        .post(
            "/auth/sign_up",
            &[
                ("csrf_token", &token),
                ("username", "webspam"),
                ("email", "w@spam.example"),
                ("password", PASSWORD),
                ("agreement", "1"),
            ],
        )
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("disallowed e-mail provider"));
    assert_eq!(user_row(&app, "webspam").await, None);

    // A block that allows with approval queues the sign-up instead.
    let (status, slow) = app
        .api_post(
            &root,
            "/api/v1/admin/email_domain_blocks",
            json!({"domain": "slow.example", "allow_with_approval": true}),
        )
        .await;
    assert_eq!(status, 200, "{slow}");
    let (status, queued) = sign_up(&app, &phone, "patient", "p@slow.example", "192.0.2.13").await;
    assert_eq!(status, 200, "{queued}");
    assert_eq!(
        user_row(&app, "patient").await,
        Some(false),
        "waits for approval"
    );

    // Listed newest first, paged with Link headers.
    let (status, headers, page) = app
        .api(
            reqwest::Method::GET,
            "/api/v1/admin/email_domain_blocks?limit=1",
            Some(&root),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["domain"], "slow.example");
    let link = headers.get("link").unwrap().to_str().unwrap();
    assert!(
        link.contains(&format!("max_id={}", slow["id"].as_str().unwrap())),
        "{link}"
    );
    let (_, older) = app
        .api_get(
            &root,
            &format!(
                "/api/v1/admin/email_domain_blocks?limit=1&max_id={}",
                slow["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(older[0]["domain"], "spam.example");

    // Lifting the block lets the domain sign up again.
    let (status, gone) = app
        .api_delete(&root, &format!("/api/v1/admin/email_domain_blocks/{id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(gone, json!({}));
    let (status, _) = app
        .api_get(&root, &format!("/api/v1/admin/email_domain_blocks/{id}"))
        .await;
    assert_eq!(status, 404);
    let (status, _) = sign_up(&app, &phone, "reformed", "r@spam.example", "192.0.2.14").await;
    assert_eq!(status, 200);
    assert_eq!(audited(&app, "email_domain_block.create").await, 2);
    assert_eq!(audited(&app, "email_domain_block.destroy").await, 1);
}

#[tokio::test]
async fn ip_blocks_refuse_access_or_sign_ups_expire_on_the_clock_and_reach_other_processes() {
    let app = TestApp::spawn_with(open()).await;
    let second = app.spawn_beside().await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;
    let root = app.token("root").await;
    let moderator = app.token("mod").await;
    let phone = app_token(&app).await;

    let (status, _) = app.api_get(&moderator, "/api/v1/admin/ip_blocks").await;
    assert_eq!(status, 403);
    let (status, _) = app
        .api_post(
            &moderator,
            "/api/v1/admin/ip_blocks",
            json!({"ip": "198.51.100.0/24", "severity": "no_access"}),
        )
        .await;
    assert_eq!(status, 403);
    for bad in [
        json!({"ip": "nonsense", "severity": "no_access"}),
        json!({"ip": "198.51.100.0/24", "severity": "sometimes"}),
        json!({"severity": "no_access"}),
        json!({"ip": "198.51.100.0/24", "severity": "no_access", "expires_in": "soon"}),
    ] {
        let (status, refused) = app.api_post(&root, "/api/v1/admin/ip_blocks", bad).await;
        assert_eq!(status, 422, "{refused}");
    }
    assert_eq!(count(&app, "select count(*) from ip_blocks").await, 0);

    let (status, block) = app
        .api_post(
            &root,
            "/api/v1/admin/ip_blocks",
            json!({"ip": "198.51.100.77/24", "severity": "no_access", "comment": "botnet", "expires_in": 3600}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    assert_eq!(block["ip"], "198.51.100.0/24", "stored as its network");
    assert_eq!(block["severity"], "no_access");
    assert_eq!(block["comment"], "botnet");
    let expires =
        chrono::DateTime::parse_from_rfc3339(block["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires.timestamp(),
        (now(&app) + chrono::Duration::seconds(3600)).timestamp()
    );
    let (status, dup) = app
        .api_post(
            &root,
            "/api/v1/admin/ip_blocks",
            json!({"ip": "198.51.100.0/24", "severity": "sign_up_block"}),
        )
        .await;
    assert_eq!(status, 422, "{dup}");

    // Every request from the range is refused, before any handler.
    let (status, body) = from_ip(
        &app,
        reqwest::Method::GET,
        "/api/v1/instance",
        "198.51.100.9",
        None,
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body, "Forbidden\n");
    let (status, _) = from_ip(
        &app,
        reqwest::Method::GET,
        "/about",
        "198.51.100.9",
        None,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = sign_up(&app, &phone, "botty", "b@example.com", "198.51.100.9").await;
    assert_eq!(status, 403);
    assert_eq!(user_row(&app, "botty").await, None);
    let (status, _) = from_ip(
        &app,
        reqwest::Method::GET,
        "/api/v1/instance",
        "192.0.2.1",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "other addresses are served");
    let (status, _) = app.api_get(&root, "/api/v1/instance").await;
    assert_eq!(status, 200, "loopback is never refused");

    // The second process hears of the block through PostgreSQL.
    let ip: std::net::IpAddr = "198.51.100.9".parse().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !second.state.refused_ips.get().refuses(ip, now(&second)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the second process never heard"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let response = reqwest::Client::new()
        .get(format!("http://{}/api/v1/instance", second.addr))
        .header("host", &app.domain)
        .header("x-forwarded-for", "198.51.100.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);

    // Sign-ups refused, and sign-ups queued, by range.
    let (status, refused) = app
        .api_post(
            &root,
            "/api/v1/admin/ip_blocks",
            json!({"ip": "203.0.113.0/24", "severity": "sign_up_block"}),
        )
        .await;
    assert_eq!(status, 200, "{refused}");
    let (status, queued) = app
        .api_post(
            &root,
            "/api/v1/admin/ip_blocks",
            json!({"ip": "2001:db8::/32", "severity": "sign_up_requires_approval"}),
        )
        .await;
    assert_eq!(status, 200, "{queued}");
    let (status, _) = sign_up(
        &app,
        &phone,
        "blocked",
        "blocked@example.com",
        "203.0.113.5",
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(user_row(&app, "blocked").await, None);
    let (status, _) = from_ip(
        &app,
        reqwest::Method::GET,
        "/api/v1/instance",
        "203.0.113.5",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "a sign-up block does not refuse reading");
    let (status, waiting) = sign_up(
        &app,
        &phone,
        "queued",
        "queued@example.com",
        "2001:db8:5::1",
    )
    .await;
    assert_eq!(status, 200, "{waiting}");
    assert_eq!(
        user_row(&app, "queued").await,
        Some(false),
        "waits for approval"
    );

    // Updating keeps what is not given.
    let queued_id = queued["id"].as_str().unwrap();
    let (status, _, updated) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/admin/ip_blocks/{queued_id}"),
            Some(&root),
            Some(json!({"severity": "sign_up_block", "comment": "tightened"})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["ip"], "2001:db8::/32");
    let (severity, comment, ip_text): (String, String, String) =
        sqlx::query_as("select severity, comment, text(ip) from ip_blocks where id = $1")
            .bind(queued_id.parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (severity.as_str(), comment.as_str(), ip_text.as_str()),
        ("sign_up_block", "tightened", "2001:db8::/32")
    );

    // Listed newest first with Link headers; shown one by one.
    let (status, headers, listed) = app
        .api(
            reqwest::Method::GET,
            "/api/v1/admin/ip_blocks?limit=2",
            Some(&root),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert_eq!(listed[0]["id"], queued["id"]);
    assert!(headers.get("link").is_some());
    let (status, one) = app
        .api_get(
            &root,
            &format!("/api/v1/admin/ip_blocks/{}", block["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["comment"], "botnet");

    // An hour later the no_access block has ended: served again, not listed.
    app.clock.advance(chrono::Duration::seconds(3601));
    let (status, _) = from_ip(
        &app,
        reqwest::Method::GET,
        "/api/v1/instance",
        "198.51.100.9",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, listed) = app.api_get(&root, "/api/v1/admin/ip_blocks").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let (status, _) = app
        .api_get(
            &root,
            &format!("/api/v1/admin/ip_blocks/{}", block["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 404);

    // Deleting lifts a block.
    let refused_id = refused["id"].as_str().unwrap();
    let (status, gone) = app
        .api_delete(&root, &format!("/api/v1/admin/ip_blocks/{refused_id}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(gone, json!({}));
    let (status, _) = sign_up(
        &app,
        &phone,
        "welcome",
        "welcome@example.com",
        "203.0.113.6",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(audited(&app, "ip_block.create").await, 3);
    assert_eq!(audited(&app, "ip_block.update").await, 1);
    assert_eq!(audited(&app, "ip_block.destroy").await, 1);
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[tokio::test]
async fn canonical_email_blocks_match_an_address_however_it_is_dotted_or_suffixed() {
    let app = TestApp::spawn_with(open()).await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;
    let root = app.token("root").await;
    let moderator = app.token("mod").await;
    let phone = app_token(&app).await;

    let (status, _) = app
        .api_get(&moderator, "/api/v1/admin/canonical_email_blocks")
        .await;
    assert_eq!(status, 403);
    let (status, _) = app
        .api_post(
            &moderator,
            "/api/v1/admin/canonical_email_blocks",
            json!({"email": "a@b.example"}),
        )
        .await;
    assert_eq!(status, 403);

    let (status, block) = app
        .api_post(
            &root,
            "/api/v1/admin/canonical_email_blocks",
            json!({"email": "Jo.Hn+news@Example.com"}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    assert_eq!(block["canonical_email_hash"], sha256("john@example.com"));
    let id = block["id"].as_str().unwrap().to_string();
    let (status, dup) = app
        .api_post(
            &root,
            "/api/v1/admin/canonical_email_blocks",
            json!({"email": "john@example.com"}),
        )
        .await;
    assert_eq!(status, 422, "{dup}");
    let by_hash = sha256("eve@example.org");
    let (status, hashed) = app
        .api_post(
            &root,
            "/api/v1/admin/canonical_email_blocks",
            json!({"canonical_email_hash": by_hash}),
        )
        .await;
    assert_eq!(status, 200, "{hashed}");
    assert_eq!(hashed["canonical_email_hash"], by_hash);
    for bad in [json!({"canonical_email_hash": "not-a-hash"}), json!({})] {
        let (status, _) = app
            .api_post(&root, "/api/v1/admin/canonical_email_blocks", bad)
            .await;
        assert_eq!(status, 422);
    }
    assert_eq!(
        count(&app, "select count(*) from canonical_email_blocks").await,
        2
    );

    // The test endpoint answers the blocks an address matches.
    let (status, found) = app
        .api_post(
            &root,
            "/api/v1/admin/canonical_email_blocks/test",
            json!({"email": "j.o.h.n+x@EXAMPLE.com"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], id);
    let (_, none) = app
        .api_post(
            &root,
            "/api/v1/admin/canonical_email_blocks/test",
            json!({"email": "jane@example.com"}),
        )
        .await;
    assert_eq!(none, json!([]));

    // Sign-ups with any spelling of a blocked address are refused.
    let (status, refused) = sign_up(
        &app,
        &phone,
        "johnny",
        "j.ohn+again@example.com",
        "192.0.2.20",
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    let (status, _) = sign_up(&app, &phone, "eve", "e.ve@example.org", "192.0.2.21").await;
    assert_eq!(status, 422);
    assert_eq!(user_row(&app, "johnny").await, None);
    assert_eq!(user_row(&app, "eve").await, None);

    let (_, listed) = app
        .api_get(&root, "/api/v1/admin/canonical_email_blocks")
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let (_, one) = app
        .api_get(&root, &format!("/api/v1/admin/canonical_email_blocks/{id}"))
        .await;
    assert_eq!(one["canonical_email_hash"], sha256("john@example.com"));
    let (status, _) = app
        .api_delete(&root, &format!("/api/v1/admin/canonical_email_blocks/{id}"))
        .await;
    assert_eq!(status, 200);
    let (status, _) = sign_up(
        &app,
        &phone,
        "johnny",
        "j.ohn+again@example.com",
        "192.0.2.22",
    )
    .await;
    assert_eq!(status, 200, "allowed once the block is lifted");

    // Deleting a suspended account's data reserves its address, as
    // Mastodon's admin deletion does.
    let carl: i64 = sqlx::query_scalar(
        "select a.id from actors a join users u on u.actor_id = a.id where a.username = 'johnny'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    let (status, _) = app
        .api_post(
            &root,
            &format!("/api/v1/admin/accounts/{carl}/action"),
            json!({"type": "suspend"}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .api_delete(&root, &format!("/api/v1/admin/accounts/{carl}"))
        .await;
    assert_eq!(status, 200);
    let reserved: i64 = sqlx::query_scalar(
        "select count(*) from canonical_email_blocks where canonical_email_hash = $1",
    )
    .bind(sha256("john@example.com"))
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(reserved, 1);
    let (status, _) = sign_up(&app, &phone, "johnny2", "john@example.com", "192.0.2.23").await;
    assert_eq!(status, 422);
}

/// The dataset: days around 2026-03-10 (the clock's today), on which the
/// measured period 2026-03-08..10 and the one before it fall.
fn day(d: u32, hour: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, hour, 0, 0).unwrap()
}

async fn exec(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(&app.db).await.unwrap();
}

fn series(measure: &Value) -> Vec<(String, String)> {
    measure["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_string(),
                d["value"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn measures_dimensions_and_retention_are_counted_from_the_data() {
    let app = TestApp::spawn().await;
    app.clock.set(day(10, 12));
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;
    app.create_user("plain").await;
    let ann = app.create_user("ann").await;
    let bob = app.create_user("bob").await;
    app.create_user("cat").await;
    app.create_user("old").await;
    let root = app.token("root").await;
    let moderator = app.token("mod").await;
    let plain = app.token("plain").await;
    let ann_token = app.token("ann").await;
    let bob_token = app.token("bob").await;
    // Each token in use once now; the clock stands still, so using them
    // again below records no further activity.
    for token in [&root, &moderator, &plain, &ann_token, &bob_token] {
        let (status, _) = app
            .api_get(token, "/api/v1/accounts/verify_credentials")
            .await;
        assert_eq!(status, 200);
    }

    // Posts, a like, a repost and a reply, made now and dated below.
    let (_, p1) = app
        .api_post(
            &ann_token,
            "/api/v1/statuses",
            json!({"status": "hello #rust", "language": "en"}),
        )
        .await;
    let (_, _p2) = app
        .api_post(
            &bob_token,
            "/api/v1/statuses",
            json!({"status": "also #rust", "language": "de"}),
        )
        .await;
    let p1_id = p1["id"].as_str().unwrap().to_string();
    app.api_post(
        &bob_token,
        &format!("/api/v1/statuses/{p1_id}/favourite"),
        json!({}),
    )
    .await;
    let (_, reply) = app
        .api_post(
            &bob_token,
            "/api/v1/statuses",
            json!({"status": "nice", "in_reply_to_id": p1_id, "language": "de"}),
        )
        .await;
    assert!(reply["id"].is_string(), "{reply}");
    let rex = insert_remote_actor(&app.db, "remote.example", "rex").await;
    let ray = insert_remote_actor(&app.db, "remote.example", "ray").await;
    sqlx::query(
        "insert into posts (id, ap_id, author_id, content, visibility, published, language)
         values (next_post_id(now()), 'https://remote.example/notes/1', $1, '<p>#rust</p>',
                 'public', now(), 'fr')",
    )
    .bind(rex)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "insert into post_tags (post_id, tag)
         select id, 'rust' from posts where ap_id = 'https://remote.example/notes/1'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "insert into follows (follower_id, followee_id, state) values ($1, $2, 'accepted'), ($3, $4, 'accepted')",
    )
    .bind(ann.actor.id)
    .bind(rex)
    .bind(ray)
    .bind(bob.actor.id)
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "insert into reports (reporter_id, target_id, created_at, updated_at, resolved_at)
         values ($1, $2, $3, $3, $4), ($1, $2, $5, $5, null)",
    )
    .bind(ann.actor.id)
    .bind(rex)
    .bind(day(8, 9))
    .bind(day(9, 9))
    .bind(day(6, 9))
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query(
        "insert into remote_media (url, kind, domain, state, next_attempt_at, created_at,
                                   file_key, content_type, file_size)
         values ('https://remote.example/a.png', 'attachment', 'remote.example', 'stored', now(),
                 $1, 'k1.png', 'image/png', 2048)",
    )
    .bind(day(10, 1))
    .execute(&app.db)
    .await
    .unwrap();

    // Everything dated: sign-ups, activity, posts, interactions.
    for (name, d) in [("ann", 8), ("bob", 9), ("cat", 9), ("old", 6)] {
        sqlx::query(
            "update users set created_at = $2 where actor_id = (select id from actors where username = $1 and domain is null)",
        )
        .bind(name)
        .bind(day(d, 10))
        .execute(&app.db)
        .await
        .unwrap();
    }
    sqlx::query("update users set created_at = $1 where actor_id = (select id from actors where username = 'plain')")
        .bind(day(1, 10))
        .execute(&app.db)
        .await
        .unwrap();
    // The activity so far was the tokens' use: start from the seeded days.
    exec(&app, "delete from user_active_days").await;
    for (name, d) in [
        ("ann", 8),
        ("ann", 9),
        ("bob", 9),
        ("old", 6),
        ("old", 9),
        ("cat", 10),
    ] {
        sqlx::query(
            "insert into user_active_days (user_id, day)
             select u.id, $2 from users u join actors a on a.id = u.actor_id where a.username = $1",
        )
        .bind(name)
        .bind(day(d, 0).date_naive())
        .execute(&app.db)
        .await
        .unwrap();
    }
    sqlx::query("update posts set published = $1, created_at = $1")
        .bind(day(9, 12))
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update likes set created_at = $1")
        .bind(day(10, 8))
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update follows set created_at = $1")
        .bind(day(8, 8))
        .execute(&app.db)
        .await
        .unwrap();
    sqlx::query("update actors set created_at = $1 where domain = 'remote.example'")
        .bind(day(8, 8))
        .execute(&app.db)
        .await
        .unwrap();
    let phone_app: i64 = sqlx::query_scalar(
        "insert into oauth_apps (name, redirect_uris, scopes, client_id, client_secret, created_at)
         values ('Phone', '{urn:ietf:wg:oauth:2.0:oob}', 'read', 'cid-x', 'secret-x', now())
         returning id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    sqlx::query("update users set sign_up_app_id = $1 where actor_id = $2")
        .bind(phone_app)
        .bind(bob.actor.id)
        .execute(&app.db)
        .await
        .unwrap();
    // The hashtag's id, as the admin API's trends name it.
    let rust_id: i64 = sqlx::query_scalar(
        "insert into tags (tag, name) values ('rust', 'rust')
         on conflict (tag) do update set tag = excluded.tag returning id",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();

    let period = json!({"start_at": "2026-03-08", "end_at": "2026-03-10T23:59:59Z"});
    let mut ask = period.clone();
    ask["keys"] = json!([
        "active_users",
        "new_users",
        "interactions",
        "opened_reports",
        "resolved_reports",
        "tag_accounts",
        "tag_uses",
        "tag_servers",
        "instance_accounts",
        "instance_media_attachments",
        "instance_reports",
        "instance_statuses",
        "instance_follows",
        "instance_followers",
        "no_such_measure"
    ]);
    for key in ["tag_accounts", "tag_uses", "tag_servers"] {
        ask[key] = json!({"id": rust_id.to_string()});
    }
    for key in [
        "instance_accounts",
        "instance_media_attachments",
        "instance_reports",
        "instance_statuses",
        "instance_follows",
        "instance_followers",
    ] {
        ask[key] = json!({"domain": "remote.example"});
    }

    // Dashboard numbers are for staff (Mastodon's view_dashboard).
    let (status, _) = app
        .api_post(&plain, "/api/v1/admin/measures", ask.clone())
        .await;
    assert_eq!(status, 403);
    let (status, measures) = app
        .api_post(&moderator, "/api/v1/admin/measures", ask.clone())
        .await;
    assert_eq!(status, 200, "{measures}");
    let measures = measures.as_array().unwrap();
    assert_eq!(measures.len(), 14, "the unknown key is left out");
    let get = |key: &str| measures.iter().find(|m| m["key"] == key).unwrap().clone();

    let active = get("active_users");
    assert_eq!(
        series(&active),
        vec![
            ("2026-03-08T00:00:00Z".to_string(), "1".to_string()),
            ("2026-03-09T00:00:00Z".to_string(), "3".to_string()),
            ("2026-03-10T00:00:00Z".to_string(), "1".to_string()),
        ]
    );
    assert_eq!(active["total"], "4", "ann, bob, old and cat");
    assert_eq!(active["previous_total"], "1", "old on the 6th");
    assert_eq!(active["unit"], Value::Null);
    let new_users = get("new_users");
    assert_eq!(new_users["total"], "3");
    assert_eq!(new_users["previous_total"], "1");
    assert_eq!(series(&new_users)[1].1, "2");
    let interactions = get("interactions");
    assert_eq!(
        interactions["total"], "2",
        "a like and a reply to ann's post"
    );
    assert_eq!(series(&interactions)[1].1, "1");
    assert_eq!(series(&interactions)[2].1, "1");
    assert_eq!(get("opened_reports")["total"], "1");
    assert_eq!(get("opened_reports")["previous_total"], "1");
    assert_eq!(get("resolved_reports")["total"], "1");
    assert_eq!(get("tag_uses")["total"], "3");
    assert_eq!(get("tag_accounts")["total"], "3");
    assert_eq!(get("tag_servers")["total"], "2", "here and remote.example");
    assert_eq!(get("instance_accounts")["total"], "2");
    let media = get("instance_media_attachments");
    assert_eq!(media["total"], "2048");
    assert_eq!(media["unit"], "bytes");
    assert_eq!(media["human_value"], "2 KB");
    assert_eq!(get("instance_reports")["total"], "1");
    assert_eq!(get("instance_statuses")["total"], "1");
    assert_eq!(get("instance_follows")["total"], "1");
    assert_eq!(get("instance_followers")["total"], "1");

    // Dimensions.
    let mut ask = period.clone();
    ask["keys"] = json!([
        "languages",
        "sources",
        "servers",
        "space_usage",
        "software_versions",
        "tag_servers",
        "tag_languages",
        "instance_accounts",
        "instance_languages",
        "nope"
    ]);
    ask["tag_servers"] = json!({"id": rust_id.to_string()});
    ask["tag_languages"] = json!({"id": rust_id.to_string()});
    ask["instance_accounts"] = json!({"domain": "remote.example"});
    ask["instance_languages"] = json!({"domain": "remote.example"});
    let (status, _) = app
        .api_post(&plain, "/api/v1/admin/dimensions", ask.clone())
        .await;
    assert_eq!(status, 403);
    let (status, dimensions) = app.api_post(&root, "/api/v1/admin/dimensions", ask).await;
    assert_eq!(status, 200, "{dimensions}");
    let dimensions = dimensions.as_array().unwrap();
    assert_eq!(dimensions.len(), 9);
    let dim = |key: &str| dimensions.iter().find(|d| d["key"] == key).unwrap()["data"].clone();
    assert_eq!(
        dim("languages"),
        json!([
            {"key": "de", "human_key": "German", "value": "2"},
            {"key": "en", "human_key": "English", "value": "1"},
        ])
    );
    let sources = dim("sources");
    assert_eq!(
        sources[0],
        json!({"key": "web", "human_key": "Website", "value": "2"})
    );
    assert_eq!(
        sources[1],
        json!({"key": "Phone", "human_key": "Phone", "value": "1"})
    );
    assert_eq!(
        dim("servers"),
        json!([{"key": "remote.example", "human_key": "remote.example", "value": "1"}])
    );
    let space = dim("space_usage");
    assert_eq!(space[0]["key"], "postgresql");
    assert_eq!(space[0]["unit"], "bytes");
    assert!(space[0]["value"].as_str().unwrap().parse::<i64>().unwrap() > 0);
    assert_eq!(space[1]["key"], "media");
    let versions = dim("software_versions");
    assert_eq!(versions[0]["key"], "skein");
    assert_eq!(versions[1]["key"], "postgresql");
    let tag_servers = dim("tag_servers");
    assert_eq!(tag_servers[0]["key"], app.domain.as_str());
    assert_eq!(tag_servers[0]["value"], "2");
    assert_eq!(tag_servers[1]["key"], "remote.example");
    assert_eq!(dim("tag_languages").as_array().unwrap().len(), 3);
    assert_eq!(dim("instance_accounts").as_array().unwrap().len(), 2);
    assert_eq!(
        dim("instance_languages"),
        json!([{"key": "fr", "human_key": "French", "value": "1"}])
    );

    // Retention: the day cohorts of the period.
    let mut ask = period.clone();
    ask["frequency"] = json!("day");
    let (status, _) = app
        .api_post(&plain, "/api/v1/admin/retention", ask.clone())
        .await;
    assert_eq!(status, 403);
    let (status, cohorts) = app
        .api_post(&moderator, "/api/v1/admin/retention", ask)
        .await;
    assert_eq!(status, 200, "{cohorts}");
    let cohorts = cohorts.as_array().unwrap();
    assert_eq!(cohorts.len(), 2, "ann's day and bob's and cat's");
    assert_eq!(cohorts[0]["period"], "2026-03-08T00:00:00Z");
    assert_eq!(cohorts[0]["frequency"], "day");
    assert_eq!(
        cohorts[0]["data"],
        json!([
            {"date": "2026-03-08T00:00:00Z", "rate": 1.0, "value": "1"},
            {"date": "2026-03-09T00:00:00Z", "rate": 1.0, "value": "1"},
            {"date": "2026-03-10T00:00:00Z", "rate": 0.0, "value": "0"},
        ])
    );
    assert_eq!(cohorts[1]["period"], "2026-03-09T00:00:00Z");
    assert_eq!(
        cohorts[1]["data"][1],
        json!({"date": "2026-03-10T00:00:00Z", "rate": 0.5, "value": "1"})
    );

    // A bad period is refused.
    let (status, _) = app
        .api_post(
            &root,
            "/api/v1/admin/measures",
            json!({"keys": ["new_users"], "start_at": "2026-03-10", "end_at": "2026-03-01"}),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = app
        .api_post(
            &root,
            "/api/v1/admin/measures",
            json!({"keys": ["new_users"]}),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn admins_manage_sign_up_blocks_from_the_admin_area() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;
    let mut moderator = Browser::new(&app);
    moderator.sign_in("mod").await;
    assert_eq!(moderator.get("/admin/blocks").await.status, 403);

    let mut admin = Browser::new(&app);
    admin.sign_in("root").await;
    let page = admin.get("/admin/blocks").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No e-mail domain is blocked."));
    let token = csrf(&page.body);
    let added = admin
        .post(
            "/admin/blocks/email_domains",
            &[("csrf_token", &token), ("domain", "spam.example")],
        )
        .await;
    assert_eq!(added.status, 303);
    let added = admin
        .post(
            "/admin/blocks/ips",
            &[
                ("csrf_token", &token),
                ("ip", "198.51.100.0/24"),
                ("severity", "sign_up_block"),
                ("comment", "signup spam"),
                ("expires_in", "86400"),
            ],
        )
        .await;
    assert_eq!(added.status, 303);
    let bad = admin
        .post(
            "/admin/blocks/ips",
            &[
                ("csrf_token", &token),
                ("ip", "not an address"),
                ("severity", "no_access"),
                ("expires_in", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    let page = admin.get("/admin/blocks").await;
    assert!(page.body.contains("<code>spam.example</code>"));
    assert!(page.body.contains("<code>198.51.100.0/24</code>"));
    assert!(page.body.contains("signup spam"));
    assert_eq!(
        count(&app, "select count(*) from email_domain_blocks").await,
        1
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from ip_blocks where expires_at is not null"
        )
        .await,
        1
    );

    let domain_id: i64 = sqlx::query_scalar("select id from email_domain_blocks")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let ip_id: i64 = sqlx::query_scalar("select id from ip_blocks")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let removed = admin
        .post(
            &format!("/admin/blocks/email_domains/{domain_id}/delete"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(removed.status, 303);
    let removed = admin
        .post(
            &format!("/admin/blocks/ips/{ip_id}/delete"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(
        count(&app, "select count(*) from email_domain_blocks").await,
        0
    );
    assert_eq!(count(&app, "select count(*) from ip_blocks").await, 0);
    assert_eq!(audited(&app, "ip_block.destroy").await, 1);
}
