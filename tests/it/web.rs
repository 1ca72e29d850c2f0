//! The web interface over real HTTP, as a browser without JavaScript uses
//! it: a client that keeps cookies, reads the forms' hidden tokens and
//! follows nothing by itself. Each test checks the database and, across
//! two instances, what the other one received.

use reqwest::multipart;
use serde_json::json;

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};

pub const PASSWORD: &str = "correct horse battery";

/// A page as the browser got it.
pub struct Page {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub headers: reqwest::header::HeaderMap,
}

/// A browser of one instance: keeps its cookies, nothing more.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
    /// The page is https, at a TLS proxy that sends `X-Forwarded-Proto:
    /// https`; otherwise it is plain http, where browsers refuse `Secure`
    /// cookies (Chromium's and Firefox's "strict secure cookies").
    https: bool,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: Vec::new(),
            https: false,
        }
    }

    /// A browser on the instance's https address, through a TLS proxy on
    /// loopback (a trusted proxy).
    pub fn behind_tls_proxy(app: &'a TestApp) -> Self {
        Browser {
            https: true,
            ..Browser::new(app)
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    pub async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Page {
        if self.https {
            request = request.header("x-forwarded-proto", "https");
        }
        let response = request
            .header("cookie", self.cookie_header())
            .header("user-agent", "Mozilla/5.0 (test)")
            .send()
            .await
            .unwrap();
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for text in &set_cookies {
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            let expired = text.contains("Max-Age=0");
            let secure = text
                .split(';')
                .any(|a| a.trim().eq_ignore_ascii_case("secure"));
            if secure && !self.https {
                continue;
            }
            if !value.is_empty() && !expired {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        Page {
            status,
            body: response.text().await.unwrap(),
            location,
            set_cookies,
            headers,
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.app.client.get(self.app.url(path));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.app.client.post(self.app.url(path)).form(form);
        self.send(request).await
    }

    pub async fn post_multipart(&mut self, path: &str, form: multipart::Form) -> Page {
        let request = self.app.client.post(self.app.url(path)).multipart(form);
        self.send(request).await
    }

    /// Signs up through the form (open mode): signed in afterwards.
    pub async fn sign_up(&mut self, username: &str) -> Page {
        let form = self.get("/auth/sign_up").await;
        let token = csrf(&form.body);
        let email = format!("{username}@example.com");
        self.post(
            "/auth/sign_up",
            &[
                ("csrf_token", &token),
                ("username", username),
                ("email", &email),
                ("password", PASSWORD),
                ("agreement", "1"),
            ],
        )
        .await
    }

    pub async fn sign_in(&mut self, login: &str) -> Page {
        let form = self.get("/auth/sign_in").await;
        let token = csrf(&form.body);
        self.post(
            "/auth/sign_in",
            &[
                ("csrf_token", &token),
                ("login", login),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    /// The CSRF token of the signed-in session, read from a page's form.
    pub async fn token(&mut self) -> String {
        csrf(&self.get("/home").await.body)
    }
}

/// The value of the first `csrf_token` input of a page.
pub fn csrf(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf_token" value="([^"]*)""#).unwrap();
    re.captures(html)
        .map(|c| c[1].to_string())
        .expect("the page has a form with a CSRF token")
}

pub fn cookie_named<'p>(page: &'p Page, name: &str) -> &'p str {
    page.set_cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", page.set_cookies))
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

pub async fn sessions_of(app: &TestApp, username: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from sessions s join users u on u.id = s.user_id
         join actors a on a.id = u.actor_id where a.username = $1",
    )
    .bind(username)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn approved(app: &TestApp, username: &str) -> Option<bool> {
    sqlx::query_scalar(
        "select u.approved from users u join actors a on a.id = u.actor_id
         where a.username = $1",
    )
    .bind(username)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn signing_up_in_open_mode_signs_in_with_a_safe_cookie_and_shows_home() {
    let app = TestApp::spawn_with(Options::named("alpha").env("SKEIN_REGISTRATIONS", "open")).await;
    let mut browser = Browser::new(&app);
    let done = browser.sign_up("alice").await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/home"));
    assert_eq!(approved(&app, "alice").await, Some(true));
    assert_eq!(sessions_of(&app, "alice").await, 1);
    let cookie = cookie_named(&done, "skein_session");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http here: {cookie}");

    let home = browser.get("/home").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("id=\"compose-text\""));
    assert!(home.body.contains("id=\"compose-counter\""));
    assert!(home.body.contains("href=\"/@alice\""));
    let headers = &home.headers;
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    // The front page sends signed-in people home.
    assert_eq!(browser.get("/").await.location.as_deref(), Some("/home"));
}

#[tokio::test]
async fn signing_up_in_approval_mode_waits_for_a_moderator_without_a_session() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_REGISTRATIONS", "approval")).await;
    app.create_staff("mod", "moderator").await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/auth/sign_up").await;
    assert!(form.body.contains("name=\"reason\""));
    let token = csrf(&form.body);
    let base = [
        ("csrf_token", token.as_str()),
        ("username", "alice"),
        ("email", "alice@example.com"),
        ("password", PASSWORD),
        ("agreement", "1"),
    ];
    // A reason is asked for in this mode.
    let refused = browser.post("/auth/sign_up", &base).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("why you want to join"));
    assert_eq!(approved(&app, "alice").await, None);

    let token = csrf(&refused.body);
    let mut with_reason = base.to_vec();
    with_reason[0] = ("csrf_token", &token);
    with_reason.push(("reason", "I knit."));
    let done = browser.post("/auth/sign_up", &with_reason).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("waiting for approval"));
    assert_eq!(approved(&app, "alice").await, Some(false));
    assert_eq!(sessions_of(&app, "alice").await, 0);
    assert!(browser.cookie("skein_session").is_none());
    // Nor can it sign in yet.
    let sign_in = browser.sign_in("alice").await;
    assert_eq!(sign_in.status, 403);
    assert!(sign_in.body.contains("approval"));
    assert_eq!(sessions_of(&app, "alice").await, 0);

    // The moderator is told (Mastodon's admin.sign_up) and is led to the
    // accounts waiting, where alice's reason shows.
    let mut moderator = Browser::new(&app);
    moderator.sign_in("mod").await;
    let notifications = moderator.get("/notifications").await;
    assert!(
        notifications.body.contains("kind-admin.sign_up"),
        "{}",
        notifications.body
    );
    assert!(
        notifications
            .body
            .contains("/admin/accounts?filter=pending")
    );
    let waiting = moderator.get("/admin/accounts?filter=pending").await;
    assert!(waiting.body.contains("I knit."), "{}", waiting.body);
}

#[tokio::test]
async fn signing_up_in_closed_mode_is_refused() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_REGISTRATIONS", "closed")).await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/auth/sign_up").await;
    assert!(form.body.contains("not accepting new accounts"));
    assert!(!form.body.contains("name=\"username\""));
    // A form made by hand, with the token of the page's cookie.
    let token = browser.cookie("skein_csrf").unwrap();
    let refused = browser
        .post(
            "/auth/sign_up",
            &[
                ("csrf_token", &token),
                ("username", "alice"),
                ("email", "alice@example.com"),
                ("password", PASSWORD),
                ("agreement", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(approved(&app, "alice").await, None);
}

#[tokio::test]
async fn signing_in_and_out_creates_and_deletes_the_session() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut browser = Browser::new(&app);
    // Pages that need a session send visitors to sign in, and back.
    let asked = browser.get("/notifications").await;
    assert_eq!(asked.status, 303);
    assert_eq!(
        asked.location.as_deref(),
        Some("/auth/sign_in?next=%2Fnotifications")
    );

    let form = browser.get("/auth/sign_in?next=%2Fnotifications").await;
    let pre = cookie_named(&form, "skein_csrf");
    assert!(
        pre.contains("HttpOnly") && pre.contains("SameSite=Lax"),
        "{pre}"
    );
    let token = csrf(&form.body);
    let wrong = browser
        .post(
            "/auth/sign_in",
            &[
                ("csrf_token", &token),
                ("login", "alice"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("invalid username"));
    assert_eq!(sessions_of(&app, "alice").await, 0);

    let token = csrf(&wrong.body);
    let done = browser
        .post(
            "/auth/sign_in",
            &[
                ("csrf_token", &token),
                ("login", "alice"),
                ("password", PASSWORD),
                ("next", "/notifications"),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/notifications"));
    assert_eq!(sessions_of(&app, "alice").await, 1);
    assert_eq!(browser.get("/notifications").await.status, 200);

    // Signing out needs the session's token.
    let forged = browser
        .post("/auth/sign_out", &[("csrf_token", "forged")])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(sessions_of(&app, "alice").await, 1);
    let token = browser.token().await;
    let out = browser
        .post("/auth/sign_out", &[("csrf_token", &token)])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location.as_deref(), Some("/"));
    assert!(cookie_named(&out, "skein_session").contains("Max-Age=0"));
    assert_eq!(sessions_of(&app, "alice").await, 0);
    assert_eq!(browser.get("/home").await.status, 303);
}

/// One sign-in through the form, by a new browser, from `ip` (a trusted
/// proxy's X-Forwarded-For): the status.
async fn sign_in_from(app: &TestApp, ip: &str, login: &str, password: &str) -> u16 {
    let mut browser = Browser::new(app);
    let form = browser.get("/auth/sign_in").await;
    let token = csrf(&form.body);
    let request = app
        .client
        .post(app.url("/auth/sign_in"))
        .header("x-forwarded-for", ip)
        .form(&[
            ("csrf_token", token.as_str()),
            ("login", login),
            ("password", password),
        ]);
    browser.send(request).await.status
}

#[tokio::test]
async fn sign_in_is_limited_per_address_and_per_account() {
    let app = TestApp::spawn().await;
    for name in ["alice", "carol", "mallory"] {
        app.create_user(name).await;
    }

    // Ten wrong passwords for alice, each from another address: then even
    // the right one is refused, from anywhere, while carol signs in.
    for i in 1..=10 {
        let ip = format!("203.0.113.{i}");
        assert_eq!(sign_in_from(&app, &ip, "alice", "guess").await, 401);
    }
    assert_eq!(
        sign_in_from(&app, "198.51.100.7", "Alice", PASSWORD).await,
        429
    );
    assert_eq!(sessions_of(&app, "alice").await, 0);
    assert_eq!(
        sign_in_from(&app, "198.51.100.7", "carol", PASSWORD).await,
        303
    );
    app.clock.advance(chrono::Duration::minutes(15));
    assert_eq!(
        sign_in_from(&app, "198.51.100.8", "alice", PASSWORD).await,
        303
    );
    assert_eq!(sessions_of(&app, "alice").await, 1);

    // From one address (an IPv6 /64 counts as one), 25 attempts in five
    // minutes, whatever they name and even when some succeed: the 26th is
    // refused, mallory's own right password too.
    for i in 0..25 {
        let ip = format!("2001:db8:7:7::{i:x}");
        let status = if i % 5 == 0 {
            sign_in_from(&app, &ip, "mallory", PASSWORD).await
        } else {
            sign_in_from(&app, &ip, &format!("nobody{i}"), "guess").await
        };
        assert!(status == 303 || status == 401, "{status}");
    }
    let sessions = sessions_of(&app, "mallory").await;
    assert_eq!(
        sign_in_from(&app, "2001:db8:7:7::ffff", "mallory", PASSWORD).await,
        429
    );
    assert_eq!(sessions_of(&app, "mallory").await, sessions);
}

#[tokio::test]
async fn an_offsite_next_address_is_not_followed_after_signing_in() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/auth/sign_in").await;
    let token = csrf(&form.body);
    let done = browser
        .post(
            "/auth/sign_in",
            &[
                ("csrf_token", &token),
                ("login", "alice"),
                ("password", PASSWORD),
                ("next", "//evil.example/phish"),
            ],
        )
        .await;
    assert_eq!(done.location.as_deref(), Some("/home"));
}

#[tokio::test]
async fn session_cookies_are_secure_when_the_public_url_is_https() {
    let app = TestApp::spawn_with(Options::named("alpha").env("SKEIN_SCHEME", "https")).await;
    app.create_user("alice").await;
    let mut browser = Browser::behind_tls_proxy(&app);
    let form = browser.get("/auth/sign_in").await;
    assert!(cookie_named(&form, "skein_csrf").contains("Secure"));
    let done = browser.sign_in("alice").await;
    assert_eq!(done.status, 303);
    let cookie = cookie_named(&done, "skein_session");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
}

#[tokio::test]
async fn forms_without_the_right_csrf_token_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let post = skein::service::posts::create(
        &app.state,
        &bob.actor,
        skein::service::posts::Draft {
            text: "bob's post",
            spoiler: "",
            sensitive: false,
            language: None,
            visibility: skein::domain::visibility::Visibility::Public,
            in_reply_to: None,
            poll: None,
            quote_of: None,
            quote_policy: skein::domain::visibility::QuotePolicy::Public,
            reply_policy: Default::default(),
            media_ids: None,
            media_attributes: &[],
        },
    )
    .await
    .unwrap();
    let mut browser = Browser::new(&app);
    // Signing in without the form's cookie (a forged cross-site form).
    let forged = browser
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
    assert_eq!(sessions_of(&app, "alice").await, 0);

    browser.sign_in("alice").await;
    let before = app.table_counts().await;
    for token in ["", "forged"] {
        let composed = browser
            .post_multipart(
                "/compose",
                multipart::Form::new()
                    .text("csrf_token", token)
                    .text("text", "a forged post"),
            )
            .await;
        assert_eq!(composed.status, 403, "{}", composed.body);
        let liked = browser
            .post(
                &format!("/web/statuses/{}/like", post.id),
                &[("csrf_token", token)],
            )
            .await;
        assert_eq!(liked.status, 403);
        let followed = browser
            .post(
                &format!("/web/accounts/{}/follow", bob.actor.id),
                &[("csrf_token", token)],
            )
            .await;
        assert_eq!(followed.status, 403);
        let privacy = browser
            .post(
                "/settings/privacy",
                &[
                    ("csrf_token", token),
                    ("locked", "1"),
                    ("default_visibility", "private"),
                ],
            )
            .await;
        assert_eq!(privacy.status, 403);
    }
    assert_eq!(app.table_counts().await, before);
    assert_eq!(count(&app, "select count(*) from likes").await, 0);
    let locked: bool = sqlx::query_scalar(
        "select manually_approves_followers from actors where username = 'alice'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(!locked);
}

/// A small PNG, as a browser uploads it.
pub fn png() -> Vec<u8> {
    let mut bytes = Vec::new();
    let image = image::RgbImage::from_pixel(4, 3, image::Rgb([200, 30, 30]));
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

#[tokio::test]
async fn the_composer_posts_text_with_a_warning_an_image_and_its_alt_text() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let token = browser.token().await;
    let form = multipart::Form::new()
        .text("csrf_token", token.clone())
        .text("text", "Look at my <b>cat</b> #cats")
        .text("spoiler", "cat pictures")
        .text("visibility", "unlisted")
        .text("media_description", "A red cat, seen from afar")
        .part(
            "media",
            multipart::Part::bytes(png())
                .file_name("cat.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let done = browser.post_multipart("/compose", form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (id, visibility, summary): (i64, String, String) = sqlx::query_as(
        "select id, visibility, summary from posts
         where author_id = (select id from actors where username = 'alice')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(visibility, "unlisted");
    assert_eq!(summary, "cat pictures");
    assert_eq!(done.location, Some(format!("/@alice/{id}")));
    let (upload_post, description): (Option<i64>, String) =
        sqlx::query_as("select post_id, description from uploads")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(upload_post, Some(id));
    assert_eq!(description, "A red cat, seen from afar");
    let alt: String = sqlx::query_scalar("select description from attachments where post_id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(alt, "A red cat, seen from afar");

    let page = browser.get(&format!("/@alice/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<summary>cat pictures</summary>"));
    assert!(page.body.contains("alt=\"A red cat, seen from afar\""));
    assert!(
        page.body.contains("&lt;b&gt;cat&lt;/b&gt;"),
        "typed markup stays text"
    );
    assert!(page.body.contains(&format!("id=\"post-{id}\"")));

    // An empty post comes back in the composer, with what was typed.
    let refused = browser
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("text", "   ")
                .text("spoiler", "kept warning"),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("needs text or media"));
    assert!(refused.body.contains("value=\"kept warning\""));
    assert_eq!(count(&app, "select count(*) from posts").await, 1);
}

#[tokio::test]
async fn a_reply_and_a_like_from_a_post_page_reach_the_database() {
    let app = TestApp::spawn().await;
    let bob = app.create_user("bob").await;
    app.create_user("alice").await;
    let post = skein::service::posts::create(
        &app.state,
        &bob.actor,
        skein::service::posts::Draft {
            text: "What are you knitting?",
            spoiler: "",
            sensitive: false,
            language: None,
            visibility: skein::domain::visibility::Visibility::Public,
            in_reply_to: None,
            poll: None,
            quote_of: None,
            quote_policy: skein::domain::visibility::QuotePolicy::Public,
            reply_policy: Default::default(),
            media_ids: None,
            media_attributes: &[],
        },
    )
    .await
    .unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let path = format!("/@bob/{}", post.id);
    let page = browser.get(&path).await;
    assert_eq!(page.status, 200);
    // The reply box is addressed to bob, answering his post.
    assert!(page.body.contains("id=\"reply\""));
    assert!(
        page.body
            .contains(&format!("name=\"in_reply_to_id\" value=\"{}\"", post.id))
    );
    assert!(page.body.contains(">@bob </textarea>"), "{}", page.body);
    let like_action = format!("action=\"/web/statuses/{}/like\"", post.id);
    assert!(page.body.contains(&like_action));

    let token = csrf(&page.body);
    let liked = browser
        .post(
            &format!("/web/statuses/{}/like", post.id),
            &[("csrf_token", &token), ("back", &path)],
        )
        .await;
    assert_eq!(liked.status, 303);
    assert_eq!(liked.location, Some(format!("{path}#post-{}", post.id)));
    assert_eq!(
        count(&app, "select count(*) from likes").await,
        1,
        "the like is stored"
    );
    let page = browser.get(&path).await;
    assert!(
        page.body
            .contains(&format!("action=\"/web/statuses/{}/unlike\"", post.id))
    );

    let replied = browser
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("text", "@bob A scarf!")
                .text("in_reply_to_id", post.id.to_string()),
        )
        .await;
    assert_eq!(replied.status, 303, "{}", replied.body);
    let (reply_id, parent): (i64, Option<i64>) = sqlx::query_as(
        "select id, in_reply_to_id from posts
         where author_id = (select id from actors where username = 'alice')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(parent, Some(post.id));
    assert_eq!(replied.location, Some(format!("{path}#post-{reply_id}")));
    let thread = browser.get(&path).await;
    assert!(thread.body.contains(&format!("id=\"post-{reply_id}\"")));
    assert!(thread.body.contains("A scarf!"));
    // bob was told.
    let kinds: Vec<String> =
        sqlx::query_scalar("select kind from notifications where recipient_id = $1 order by kind")
            .bind(bob.actor.id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(kinds, vec!["favourite", "mention"]);
    let mut bobs = Browser::new(&app);
    bobs.sign_in("bob").await;
    let notifications = bobs.get("/notifications").await;
    assert!(notifications.body.contains("liked your post"));
    assert!(notifications.body.contains("replied to you"));
}

#[tokio::test]
async fn a_remote_account_is_found_through_search_and_followed() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    let mut browser = Browser::new(&alpha);
    browser.sign_in("alice").await;

    let query = format!("@{}", beta.handle("bob"));
    let found = browser
        .get(&format!("/search?q={}", urlencode(&query)))
        .await;
    assert_eq!(found.status, 200);
    assert!(
        found
            .body
            .contains(&format!("href=\"/@{}\"", beta.handle("bob")))
    );
    assert!(
        found.body.contains("id=\"follow-button\""),
        "{}",
        found.body
    );
    let remote_id: i64 = sqlx::query_scalar("select id from actors where ap_id = $1")
        .bind(beta.url("/users/bob"))
        .fetch_one(&alpha.db)
        .await
        .unwrap();

    let profile_path = format!("/@{}", beta.handle("bob"));
    let profile = browser.get(&profile_path).await;
    assert_eq!(profile.status, 200);
    assert!(
        profile
            .body
            .contains(&format!("action=\"/web/accounts/{remote_id}/follow\""))
    );
    let token = csrf(&profile.body);
    let followed = browser
        .post(
            &format!("/web/accounts/{remote_id}/follow"),
            &[("csrf_token", &token), ("back", &profile_path)],
        )
        .await;
    assert_eq!(followed.status, 303);
    assert_eq!(followed.location.as_deref(), Some(profile_path.as_str()));
    let state: String = sqlx::query_scalar("select state from follows where followee_id = $1")
        .bind(remote_id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(state, "pending");

    alpha.deliver().await;
    let on_beta: String = sqlx::query_scalar(
        "select f.state from follows f join actors a on a.id = f.follower_id
         where f.followee_id = $1 and a.ap_id = $2",
    )
    .bind(bob.actor.id)
    .bind(alpha.url("/users/alice"))
    .fetch_one(&beta.db)
    .await
    .unwrap();
    assert_eq!(on_beta, "accepted", "beta received the Follow");
    beta.deliver().await;
    let profile = browser.get(&profile_path).await;
    assert!(
        profile.body.contains(">Unfollow</button>"),
        "{}",
        profile.body
    );
    assert!(profile.body.contains("<strong>1</strong> follower<"));

    // Other servers' remote-follow links (WebFinger's subscribe template)
    // land on the account's page here.
    let uri = urlencode(&format!("acct:{}", beta.handle("bob")));
    let interaction = browser
        .get(&format!("/authorize_interaction?uri={uri}"))
        .await;
    assert_eq!(interaction.status, 303);
    assert_eq!(interaction.location.as_deref(), Some(profile_path.as_str()));

    // A post's URL pasted into the search box is fetched, and can be liked.
    let bobs_post = skein::service::posts::create(
        &beta.state,
        &bob.actor,
        skein::service::posts::Draft {
            text: "Knitted on beta",
            spoiler: "",
            sensitive: false,
            language: None,
            visibility: skein::domain::visibility::Visibility::Public,
            in_reply_to: None,
            poll: None,
            quote_of: None,
            quote_policy: skein::domain::visibility::QuotePolicy::Public,
            reply_policy: Default::default(),
            media_ids: None,
            media_attributes: &[],
        },
    )
    .await
    .unwrap();
    sqlx::query("delete from deliveries")
        .execute(&beta.db)
        .await
        .unwrap();
    let url = bobs_post.url.clone().unwrap();
    let found = browser.get(&format!("/search?q={}", urlencode(&url))).await;
    assert!(found.body.contains("Knitted on beta"), "{}", found.body);
    let here: i64 = sqlx::query_scalar("select id from posts where ap_id = $1")
        .bind(&bobs_post.ap_id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert!(found.body.contains(&format!("id=\"post-{here}\"")));
    let token = csrf(&found.body);
    let liked = browser
        .post(
            &format!("/web/statuses/{here}/like"),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(liked.status, 303);
    assert_eq!(
        liked.location,
        Some(format!("/@{}/{here}#post-{here}", beta.handle("bob")))
    );
    alpha.deliver().await;
    let likes: i32 = sqlx::query_scalar("select likes_count from posts where id = $1")
        .bind(bobs_post.id)
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(likes, 1, "beta received the Like");
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn public_posts_are_readable_signed_out_with_link_previews_and_private_ones_are_not() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let write = |text: &'static str, visibility| {
        let state = app.state.clone();
        let author = alice.actor.clone();
        async move {
            skein::service::posts::create(
                &state,
                &author,
                skein::service::posts::Draft {
                    text,
                    spoiler: "",
                    sensitive: false,
                    language: None,
                    visibility,
                    in_reply_to: None,
                    poll: None,
                    quote_of: None,
                    quote_policy: skein::domain::visibility::QuotePolicy::Public,
                    reply_policy: Default::default(),
                    media_ids: None,
                    media_attributes: &[],
                },
            )
            .await
            .unwrap()
        }
    };
    use skein::domain::visibility::Visibility;
    let public = write("Fish & chips for everyone", Visibility::Public).await;
    let private = write("Followers only, please", Visibility::Private).await;
    let direct = write("@bob a secret", Visibility::Direct).await;

    let mut visitor = Browser::new(&app);
    let page = visitor.get(&format!("/@alice/{}", public.id)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("<meta property=\"og:type\" content=\"article\">")
    );
    assert!(
        page.body.contains(
            "<meta property=\"og:description\" content=\"Fish &#38; chips for everyone\">"
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(
        "<meta property=\"og:url\" content=\"{}\">",
        app.url(&format!("/@alice/{}", public.id))
    )));
    assert!(page.body.contains("Sign in</a> to reply"));
    // The same page at the post's id, for browsers.
    let at_id = visitor
        .get(&format!("/users/alice/statuses/{}", public.id))
        .await;
    assert_eq!(at_id.status, 200);
    assert!(at_id.body.contains("og:description"));

    for hidden in [&private, &direct] {
        for path in [
            format!("/@alice/{}", hidden.id),
            format!("/users/alice/statuses/{}", hidden.id),
        ] {
            let page = visitor.get(&path).await;
            assert_eq!(page.status, 404, "{path}");
            assert!(!page.body.contains("Followers only, please"));
            assert!(!page.body.contains("a secret"));
        }
    }
    // Nor do they show on the profile signed out.
    let profile = visitor.get("/@alice").await;
    assert!(profile.body.contains("Fish &amp; chips"));
    assert!(!profile.body.contains("Followers only"));
    // The author reads their own followers-only post.
    let mut author = Browser::new(&app);
    author.sign_in("alice").await;
    let own = author.get(&format!("/@alice/{}", private.id)).await;
    assert_eq!(own.status, 200);
    assert!(own.body.contains("Followers only, please"));
    assert!(
        !own.body.contains("og:description"),
        "no previews of private posts"
    );
}

#[tokio::test]
async fn remote_markup_and_scripts_are_escaped_or_removed() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    app.follow_fake(&fake, &alice, &mallory).await;
    sqlx::query("update actors set display_name = $1 where ap_id = $2")
        .bind("<b>Mallory</b><script>alert('name')</script>")
        .bind(&mallory.id)
        .execute(&app.db)
        .await
        .unwrap();
    let note_id = fake.note_url("xss");
    let create = json!({
        "id": format!("{}/activities/create-xss", fake.base), "type": "Create",
        "actor": mallory.id,
        "object": {
            "id": note_id, "type": "Note", "attributedTo": mallory.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "content": "<p>hello<script>alert('post')</script><img src=x onerror=alert(1)><a href=\"javascript:alert(2)\">click</a></p>",
            "summary": "<i>warning</i>",
            "attachment": [{ "type": "Image", "url": "https://media.example/a.png", "name": "\"><script>alert('alt')</script>" }]
        }
    });
    assert_eq!(
        app.post_signed(&fake, &mallory, "/inbox", create).await,
        202
    );
    let post = app.post(&note_id).await;
    let handle = format!("mallory@{}", fake.domain);

    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let mut visitor = Browser::new(&app);
    for page in [
        browser.get("/home?tab=following").await,
        browser.get(&format!("/@{handle}/{}", post.id)).await,
        browser.get(&format!("/@{handle}")).await,
        visitor.get(&format!("/@{handle}/{}", post.id)).await,
    ] {
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("<script>"), "{}", page.body);
        assert!(!page.body.contains("<b>Mallory"));
        assert!(!page.body.contains("onerror"));
        assert!(!page.body.contains("javascript:"));
        assert!(
            page.body
                .contains("&#60;b&#62;Mallory&#60;/b&#62;&#60;script&#62;")
                || page
                    .body
                    .contains("&lt;b&gt;Mallory&lt;/b&gt;&lt;script&gt;"),
            "the display name is shown as text: {}",
            page.body
        );
    }
    let thread = visitor.get(&format!("/@{handle}/{}", post.id)).await;
    assert!(thread.body.contains("<p>hello"));
    assert!(thread.body.contains("&#60;i&#62;warning&#60;/i&#62;"));
    assert!(thread.body.contains("alt=\"&#34;&#62;&#60;script&#62;"));
}

#[tokio::test]
async fn a_locked_account_answers_follow_requests_on_its_page() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let mut alices = Browser::new(&app);
    alices.sign_in("alice").await;
    let token = alices.token().await;
    let saved = alices
        .post(
            "/settings/privacy",
            &[
                ("csrf_token", &token),
                ("locked", "1"),
                ("fediverse_sharing", "1"),
                ("default_visibility", "private"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(saved.location.as_deref(), Some("/settings/privacy?saved=1"));
    let (locked, visibility): (bool, String) = sqlx::query_as(
        "select a.manually_approves_followers, u.default_visibility
         from actors a join users u on u.actor_id = a.id where a.id = $1",
    )
    .bind(alice.actor.id)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(locked);
    assert_eq!(visibility, "private");
    let composer = alices.get("/home").await;
    assert!(
        composer
            .body
            .contains("<option value=\"private\" selected>")
    );

    let mut bobs = Browser::new(&app);
    bobs.sign_in("bob").await;
    let profile = bobs.get("/@alice").await;
    assert!(profile.body.contains(">Request to follow</button>"));
    let token = csrf(&profile.body);
    bobs.post(
        &format!("/web/accounts/{}/follow", alice.actor.id),
        &[("csrf_token", &token), ("back", "/@alice")],
    )
    .await;
    let state = |app: &TestApp| {
        let db = app.db.clone();
        let (from, to) = (bob.actor.id, alice.actor.id);
        async move {
            sqlx::query_scalar::<_, String>(
                "select state from follows where follower_id = $1 and followee_id = $2",
            )
            .bind(from)
            .bind(to)
            .fetch_optional(&db)
            .await
            .unwrap()
        }
    };
    assert_eq!(state(&app).await.as_deref(), Some("pending"));
    let profile = bobs.get("/@alice").await;
    assert!(profile.body.contains(">Cancel follow request</button>"));

    let notifications = alices.get("/notifications").await;
    assert!(notifications.body.contains("asked to follow you"));
    let requests = alices.get("/follow_requests").await;
    assert!(requests.body.contains("href=\"/@bob\""));
    let token = csrf(&requests.body);
    let approved = alices
        .post(
            &format!("/web/follow_requests/{}/authorize", bob.actor.id),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(approved.status, 303);
    assert_eq!(state(&app).await.as_deref(), Some("accepted"));
    let requests = alices.get("/follow_requests").await;
    assert!(!requests.body.contains("href=\"/@bob\""));
    let profile = bobs.get("/@alice").await;
    assert!(profile.body.contains(">Unfollow</button>"));
}

#[tokio::test]
async fn profile_settings_save_the_name_bio_fields_and_avatar() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let form = browser.get("/settings/profile").await;
    assert_eq!(form.status, 200);
    let token = csrf(&form.body);
    let saved = browser
        .post_multipart(
            "/settings/profile",
            multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("display_name", "Alice <3")
                .text("note", "Knitting & #yarn")
                .text("field_name_0", "Site")
                .text("field_value_0", "https://alice.example/about")
                .text("field_name_1", "Pronouns")
                .text("field_value_1", "she/her")
                .text("field_name_2", "")
                .text("field_value_2", "")
                .part(
                    "avatar",
                    multipart::Part::bytes(png())
                        .file_name("me.png")
                        .mime_str("image/png")
                        .unwrap(),
                )
                .part(
                    "header",
                    multipart::Part::bytes(Vec::new())
                        .file_name("")
                        .mime_str("application/octet-stream")
                        .unwrap(),
                ),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location.as_deref(), Some("/settings/profile?saved=1"));
    let actor = app.local("alice").await;
    assert_eq!(actor.display_name, "Alice <3");
    assert!(
        actor.summary.contains("Knitting &amp; "),
        "{}",
        actor.summary
    );
    assert_eq!(actor.fields.0.len(), 2);
    assert_eq!(actor.fields.0[0].name, "Site");
    assert!(actor.avatar_url.as_deref().unwrap().contains("/media/"));
    assert!(actor.header_url.is_none(), "an empty file keeps the header");
    let kinds: Vec<String> = sqlx::query_scalar(
        "select profile_image from uploads where owner_id = $1 and profile_image is not null",
    )
    .bind(alice.actor.id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(kinds, vec!["avatar"]);

    // The form shows what is saved, as typed.
    let form = browser.get("/settings/profile?saved=1").await;
    assert!(form.body.contains("Saved."));
    assert!(form.body.contains("value=\"Alice &#60;3\""));
    assert!(form.body.contains(">Knitting &#38; #yarn</textarea>"));
    assert!(form.body.contains("value=\"https://alice.example/about\""));
    // The profile shows the link by its whole host, not marked verified.
    let profile = Browser::new(&app).get("/@alice").await;
    // The name is escaped (by the template, or with its custom emoji).
    assert!(profile.body.contains("<h1 dir=\"auto\">Alice &lt;3</h1>"));
    assert!(
        profile.body.contains(
            "<span class=\"host\">alice.example</span><span class=\"path\">/about</span>"
        ),
        "{}",
        profile.body
    );
    assert!(!profile.body.contains("field verified"));
    assert!(profile.body.contains("she/her"));

    // Too long a name is refused and what was typed comes back.
    let refused = browser
        .post_multipart(
            "/settings/profile",
            multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("display_name", "x".repeat(31)),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("at most 30 characters"));
    assert_eq!(app.local("alice").await.display_name, "Alice <3");

    // The avatar can be removed: back to the default picture.
    assert!(form.body.contains("name=\"remove_avatar\""));
    let removed = browser
        .post_multipart(
            "/settings/profile",
            multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("display_name", "Alice <3")
                .text("remove_avatar", "1"),
        )
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(app.local("alice").await.avatar_url, None);
    let left: i64 =
        sqlx::query_scalar("select count(*) from uploads where profile_image = 'avatar'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut here = Browser::new(&app);
    here.sign_in("alice").await;
    let mut elsewhere = Browser::new(&app);
    elsewhere.sign_in("alice").await;
    assert_eq!(sessions_of(&app, "alice").await, 2);
    let token = here.token().await;
    let wrong = here
        .post(
            "/settings/password",
            &[
                ("csrf_token", &token),
                ("current_password", "not it"),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("current password is wrong"));
    assert_eq!(sessions_of(&app, "alice").await, 2);

    let changed = here
        .post(
            "/settings/password",
            &[
                ("csrf_token", &token),
                ("current_password", PASSWORD),
                ("new_password", "a brand new password"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303);
    assert_eq!(sessions_of(&app, "alice").await, 1);
    assert_eq!(here.get("/home").await.status, 200, "this browser stays in");
    assert_eq!(elsewhere.get("/home").await.status, 303, "the other is out");
    let old = Browser::new(&app).sign_in("alice").await;
    assert_eq!(old.status, 401);
}

#[tokio::test]
async fn profiles_link_their_counts_to_lists_of_followers_and_followed_accounts() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    beta.create_user("bob").await;
    let carol = alpha.token("carol").await;
    let bob = beta.token("bob").await;
    let alice_id = alice.actor.id.to_string();
    let (status, _) = alpha
        .api_post(
            &carol,
            &format!("/api/v1/accounts/{alice_id}/follow"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let on_beta = beta.resolve(&alpha.url("/users/alice")).await;
    let (status, _) = beta
        .api_post(
            &bob,
            &format!("/api/v1/accounts/{}/follow", on_beta.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    beta.deliver().await;
    alpha.deliver().await;
    let alice_token = alpha.token("alice").await;
    let carol_id = alpha.local("carol").await.id;
    let (status, _) = alpha
        .api_post(
            &alice_token,
            &format!("/api/v1/accounts/{carol_id}/follow"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    // Anyone may read the lists of a public profile.
    let mut anonymous = Browser::new(&alpha);
    let profile = anonymous.get("/@alice").await;
    assert!(profile.body.contains(r#"href="/@alice/followers""#));
    assert!(profile.body.contains("<strong>2</strong> followers"));
    assert!(profile.body.contains("<strong>0</strong> posts"));
    let followers = anonymous.get("/@alice/followers").await;
    assert_eq!(followers.status, 200);
    assert!(followers.body.contains("@carol@"), "{}", followers.body);
    assert!(followers.body.contains(&format!("@bob@{}", beta.domain)));
    let carol_profile = anonymous.get("/@carol").await;
    assert!(
        carol_profile.body.contains("<strong>1</strong> follower<"),
        "singular"
    );
    let following = anonymous.get("/@carol/following").await;
    assert!(following.body.contains("@alice@"));
    assert!(following.body.contains("2 followers<"), "on the row");

    // A signed-in viewer gets follow buttons; a remote account's list says
    // it only holds what this server knows.
    let mut browser = Browser::new(&alpha);
    browser.sign_in("carol").await;
    let page = browser.get("/@alice/followers").await;
    assert!(page.body.contains(r#"action="/web/accounts/"#));
    let remote = browser
        .get(&format!("/@bob@{}/following", beta.domain))
        .await;
    assert_eq!(remote.status, 200);
    assert!(remote.body.contains("Only accounts known to this server"));
    assert!(remote.body.contains("@alice@"));
    assert_eq!(browser.get("/@nobody/followers").await.status, 404);
}

#[tokio::test]
async fn people_edit_and_delete_their_posts_and_vote_in_polls_from_the_web() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice_token = app.token("alice").await;
    let (_, poll) = app
        .api_post(
            &alice_token,
            "/api/v1/statuses",
            json!({"status": "lunch?", "poll": {"options": ["soup", "salad", "both"], "expires_in": 3600, "multiple": true}}),
        )
        .await;
    let poll_id = poll["id"].as_str().unwrap().to_string();
    let (_, typo) = app
        .api_post(
            &alice_token,
            "/api/v1/statuses",
            json!({"status": "helo world"}),
        )
        .await;
    let typo_id = typo["id"].as_str().unwrap().to_string();

    // Bob votes for two options with the poll's checkboxes.
    let mut bob = Browser::new(&app);
    bob.sign_in("bob").await;
    let page = bob.get(&format!("/@alice/{poll_id}")).await;
    assert!(
        page.body
            .contains(r#"type="checkbox" name="choice" value="2""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("0 votes · ends in 1h"), "{}", page.body);
    // Not alice's: no edit or delete for bob.
    assert!(!page.body.contains(&format!("/compose?edit_id={poll_id}")));
    let token = csrf(&page.body);
    let voted = bob
        .post(
            &format!("/web/statuses/{poll_id}/vote"),
            &[
                ("csrf_token", &token),
                ("choice", "0"),
                ("choice", "2"),
                ("back", "/home"),
            ],
        )
        .await;
    assert_eq!(voted.status, 303, "{}", voted.body);
    let (_, status) = app
        .api_get(&alice_token, &format!("/api/v1/statuses/{poll_id}"))
        .await;
    let votes: Vec<i64> = status["poll"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["votes_count"].as_i64().unwrap())
        .collect();
    assert_eq!(votes, vec![1, 0, 1]);
    let page = bob.get(&format!("/@alice/{poll_id}")).await;
    assert!(
        !page.body.contains(r#"name="choice""#),
        "voted: the results show"
    );
    assert!(page.body.contains("1 vote · ends in 1h"));

    // Alice fixes her typo from the edit page, then deletes the post.
    let mut alice = Browser::new(&app);
    alice.sign_in("alice").await;
    let page = alice.get(&format!("/@alice/{typo_id}")).await;
    assert!(page.body.contains(&format!("/compose?edit_id={typo_id}")));
    let editor = alice.get(&format!("/compose?edit_id={typo_id}")).await;
    assert_eq!(editor.status, 200);
    assert!(
        editor.body.contains(">helo world</textarea>"),
        "{}",
        editor.body
    );
    assert!(!editor.body.contains(r#"name="visibility""#));
    let token = csrf(&editor.body);
    let saved = alice
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("edit_id", typo_id.clone())
                .text("text", "hello world"),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some(format!("/@alice/{typo_id}").as_str())
    );
    let (_, edited) = app
        .api_get(&alice_token, &format!("/api/v1/statuses/{typo_id}"))
        .await;
    assert_eq!(edited["content"], "<p>hello world</p>");
    assert!(edited["edited_at"].is_string());
    // Bob may not edit or delete it.
    let bob_token = bob.token().await;
    let refused = bob.get(&format!("/compose?edit_id={typo_id}")).await;
    assert_eq!(refused.status, 403);
    let refused = bob
        .post(
            &format!("/web/statuses/{typo_id}/delete"),
            &[("csrf_token", &bob_token)],
        )
        .await;
    assert_eq!(refused.status, 403);

    // Deleting asks first.
    let page = alice.get(&format!("/@alice/{typo_id}")).await;
    assert!(
        page.body
            .contains(&format!("/web/statuses/{typo_id}/delete"))
    );
    let confirm = alice.get(&format!("/web/statuses/{typo_id}/delete")).await;
    assert_eq!(confirm.status, 200);
    assert!(confirm.body.contains("Delete this post?"));
    assert!(confirm.body.contains("hello world"));
    let deleted = alice
        .post(
            &format!("/web/statuses/{typo_id}/delete"),
            &[("csrf_token", &csrf(&confirm.body))],
        )
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(deleted.location.as_deref(), Some("/@alice"));
    let gone = app.get(&format!("/@alice/{typo_id}")).await;
    assert_eq!(gone.status(), 410);
}

#[tokio::test]
async fn a_hostile_display_name_cannot_reorder_the_title_or_heading_of_a_page() {
    let app = TestApp::spawn().await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    // "\u{202E}" would show what follows right to left: "nimda" as "admin",
    // and everything after the name on the page reversed with it.
    fake.serve(
        "/users/mallory",
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": mallory.id,
            "type": "Person",
            "preferredUsername": "mallory",
            "name": "\u{202E}nimda\u{2066} \u{200B}Mallory",
            "inbox": format!("{}/inbox", mallory.id),
            "publicKey": { "id": mallory.key_id, "owner": mallory.id, "publicKeyPem": mallory.public_pem },
            "attachment": [{ "type": "PropertyValue", "name": "Site\u{202B}", "value": "x" }],
        }),
    );
    app.resolve(&mallory.id).await;

    let page = Browser::new(&app)
        .get(&format!("/@mallory@{}", fake.domain))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    for control in ['\u{202E}', '\u{202B}', '\u{2066}', '\u{200B}'] {
        assert!(!page.body.contains(control), "{control:?} in {}", page.body);
    }
    // Where elements can isolate, they do; in the title and OpenGraph,
    // FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE do.
    assert!(
        page.body.contains(&format!(
            "<title>&#x2068;nimda Mallory&#x2069; (&#x2068;@mallory@{}&#x2069;)",
            fake.domain
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(
        "<meta property=\"og:title\" content=\"&#x2068;nimda Mallory&#x2069; (&#x2068;@mallory@{}&#x2069;)\">",
        fake.domain
    )));
    assert!(page.body.contains("<h1 dir=\"auto\">nimda Mallory</h1>"));
    assert!(page.body.contains(&format!(
        "<p class=\"handle\"><bdi>@mallory@{}</bdi>",
        fake.domain
    )));
    assert!(page.body.contains("<dt dir=\"auto\">Site</dt>"));
}

#[tokio::test]
async fn a_quote_from_the_composer_shows_the_quoted_post_once_and_federates_its_fallback_link() {
    let app = TestApp::spawn().await;
    let bob = app.create_user("bob").await;
    app.create_user("alice").await;
    let quoted = skein::service::posts::create(
        &app.state,
        &bob.actor,
        crate::harness::draft(
            "Knitting is maths you can wear",
            skein::domain::visibility::Visibility::Public,
        ),
    )
    .await
    .unwrap();
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let composer = browser
        .get(&format!("/compose?quote_id={}", quoted.id))
        .await;
    assert_eq!(composer.status, 200);
    let done = browser
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", csrf(&composer.body))
                .text("quote_id", quoted.id.to_string())
                .text("text", "So true")
                .text("visibility", "public"),
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (id, content, ap_id): (i64, String, String) = sqlx::query_as(
        "select id, content, ap_id from posts
         where author_id = (select id from actors where username = 'alice')",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    // Stored and federated with the link, for servers without quotes.
    let link = quoted.url.clone().unwrap();
    let fallback = format!(r#"<p class="quote-inline"><br>RE: <a href="{link}">{link}</a></p>"#);
    assert!(content.ends_with(&fallback), "{content}");
    let note: serde_json::Value = app
        .get_ap(ap_id.strip_prefix(&app.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert!(
        note["content"].as_str().unwrap().ends_with(&fallback),
        "{note}"
    );
    assert_eq!(note["quote"], quoted.ap_id);

    // Apps get the quote, not the link.
    let token = app.token("alice").await;
    let (status, status_json) = app.api_get(&token, &format!("/api/v1/statuses/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(status_json["content"], "<p>So true</p>");
    assert_eq!(
        status_json["quote"]["quoted_status"]["id"],
        quoted.id.to_string()
    );

    // Every page that shows the post shows the quoted post once, in its
    // card: its own page, alice's profile, her home (Following: For you
    // leaves one's own posts out).
    for path in [
        format!("/@alice/{id}"),
        "/@alice".into(),
        "/home?tab=following".into(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(!page.body.contains("RE:"), "{path}: {}", page.body);
        assert!(!page.body.contains(&link), "{path}: {}", page.body);
        assert_eq!(
            page.body
                .matches(&format!("href=\"/@bob/{}\"", quoted.id))
                .count(),
            1,
            "{path}: {}",
            page.body
        );
        assert_eq!(
            page.body.matches("Knitting is maths you can wear").count(),
            1,
            "{path}"
        );
    }

    // Edited, it stays a quote, with its link for servers without quotes.
    let editor = browser.get(&format!("/compose?edit_id={id}")).await;
    assert!(
        editor.body.contains(">So true</textarea>"),
        "{}",
        editor.body
    );
    let saved = browser
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", csrf(&editor.body))
                .text("edit_id", id.to_string())
                .text("text", "So very true"),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let edited: String = sqlx::query_scalar("select content from posts where id = $1")
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(edited, format!("<p>So very true</p>{fallback}"));
    let (_, status_json) = app.api_get(&token, &format!("/api/v1/statuses/{id}")).await;
    assert_eq!(status_json["content"], "<p>So very true</p>");
    let page = browser.get(&format!("/@alice/{id}")).await;
    assert!(!page.body.contains("RE:"), "{}", page.body);
}
