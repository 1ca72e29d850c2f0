//! E-mail, against a real SMTP server run by the test process
//! (`mailin-embedded`, on a loopback port): sign-up confirmation, password
//! reset, staff told of sign-ups and reports, users told of approval and
//! moderation, a server that is down, and an instance without SMTP. The
//! queue is sent with `service::mail::send_due`, as the worker would; the
//! tests read the delivered messages (MIME parsed) and follow their links.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use mail_parser::MimeHeaders;
use mailin_embedded::{Handler, Response, Server, SslConfig, response};
use serde_json::json;

use crate::harness::{Options, TestApp};
use crate::web::{Browser, PASSWORD, csrf, sessions_of};

/// A message as the SMTP server received it.
#[derive(Debug, Clone)]
struct Received {
    from: String,
    to: Vec<String>,
    subject: String,
    content_type: String,
    text: String,
    html: String,
}

#[derive(Clone, Default)]
struct Collector {
    delivered: Arc<Mutex<Vec<Received>>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let message = mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a MIME message");
        let received = Received {
            from: self.from.clone(),
            to: self.to.clone(),
            subject: message.subject().unwrap_or_default().to_string(),
            content_type: message
                .content_type()
                .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
                .unwrap_or_default(),
            text: message.body_text(0).unwrap_or_default().to_string(),
            html: message.body_html(0).unwrap_or_default().to_string(),
        };
        self.delivered.lock().unwrap().push(received);
        response::OK
    }
}

/// The SMTP server: it runs on its own threads for the rest of the test
/// process.
struct Smtp {
    port: u16,
    delivered: Arc<Mutex<Vec<Received>>>,
}

impl Smtp {
    fn start() -> Smtp {
        Smtp::serve(TcpListener::bind("127.0.0.1:0").unwrap())
    }

    /// A port with nothing listening on it (yet).
    fn free_port() -> u16 {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    fn start_on(port: u16) -> Smtp {
        Smtp::serve(TcpListener::bind(("127.0.0.1", port)).unwrap())
    }

    fn serve(listener: TcpListener) -> Smtp {
        Smtp::serve_with(listener, SslConfig::None)
    }

    /// A server that offers STARTTLS with a self-signed certificate for
    /// 127.0.0.1, written to `dir` (as `smtp.pem`, which the client trusts
    /// through `smtp.ca_file`).
    fn start_tls(dir: &std::path::Path) -> Smtp {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let cert = dir.join("smtp.pem");
        let key = dir.join("smtp.key");
        std::fs::write(&cert, certified.cert.pem()).unwrap();
        std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
        Smtp::serve_with(
            TcpListener::bind("127.0.0.1:0").unwrap(),
            SslConfig::SelfSigned {
                cert_path: cert.display().to_string(),
                key_path: key.display().to_string(),
            },
        )
    }

    fn serve_with(listener: TcpListener, ssl: SslConfig) -> Smtp {
        let port = listener.local_addr().unwrap().port();
        let collector = Collector::default();
        let delivered = collector.delivered.clone();
        let mut server = Server::new(collector);
        server
            .with_name("smtp.test")
            .with_num_threads(2)
            .with_tcp_listener(listener)
            .with_ssl(ssl)
            .unwrap();
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Smtp { port, delivered }
    }

    /// The messages received since the last call.
    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.delivered.lock().unwrap())
    }
}

fn with_smtp(options: Options, port: u16) -> Options {
    options
        .env("SKEIN_SMTP__HOST", "127.0.0.1")
        .env("SKEIN_SMTP__PORT", &port.to_string())
        .env("SKEIN_SMTP__SECURITY", "none")
        .env("SKEIN_SMTP__FROM_NAME", "Alpha Social")
}

/// Sends what is due, as the worker does.
async fn send(app: &TestApp) -> usize {
    skein::service::mail::send_due(&app.state)
        .await
        .expect("the queue is read")
}

/// The path and query of the first link in `text` that goes to `path`.
fn link(text: &str, path: &str) -> String {
    let re =
        regex::Regex::new(&format!(r"https?://[^\s/]+({path}\?token=[A-Za-z0-9_-]+)")).unwrap();
    re.captures(text)
        .unwrap_or_else(|| panic!("no {path} link in {text}"))[1]
        .to_string()
}

fn to(messages: &[Received], address: &str) -> Vec<Received> {
    messages
        .iter()
        .filter(|m| m.to.iter().any(|t| t == address))
        .cloned()
        .collect()
}

async fn set_email(app: &TestApp, username: &str, email: &str) {
    sqlx::query(
        "update users set email = $2 where actor_id = (select id from actors
         where domain is null and username = $1)",
    )
    .bind(username)
    .bind(email)
    .execute(&app.db)
    .await
    .unwrap();
}

async fn confirmed(app: &TestApp, username: &str) -> bool {
    sqlx::query_scalar(
        "select u.confirmed_at is not null from users u join actors a on a.id = u.actor_id
         where a.domain is null and a.username = $1",
    )
    .bind(username)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

async fn outbox(app: &TestApp) -> Vec<skein::db::mail::OutboxRow> {
    skein::db::mail::list(&app.db).await.unwrap()
}

/// Signs up through the form with a reason (asked in approval mode).
async fn sign_up(browser: &mut Browser<'_>, username: &str) -> crate::web::Page {
    let form = browser.get("/auth/sign_up").await;
    let token = csrf(&form.body);
    let email = format!("{username}@example.com");
    browser
        .post(
            "/auth/sign_up",
            &[
                ("csrf_token", &token),
                ("username", username),
                ("email", &email),
                ("password", PASSWORD),
                ("reason", "I like the place"),
                ("agreement", "1"),
            ],
        )
        .await
}

#[tokio::test]
async fn a_sign_up_signs_in_only_after_following_its_confirmation_link() {
    let smtp = Smtp::start();
    let app = TestApp::spawn_with(with_smtp(
        Options::named("alpha").env("SKEIN_REGISTRATIONS", "open"),
        smtp.port,
    ))
    .await;

    let mut browser = Browser::new(&app);
    let done = browser.sign_up("dora").await;
    assert_eq!(
        done.status, 200,
        "no session before the address is confirmed"
    );
    assert!(done.body.contains("We sent a link to your e-mail address"));
    assert_eq!(sessions_of(&app, "dora").await, 0);
    assert!(!confirmed(&app, "dora").await);

    assert_eq!(send(&app).await, 1);
    let messages = smtp.take();
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.to, vec!["dora@example.com".to_string()]);
    assert_eq!(
        mail.from,
        format!("notifications@{}", app.domain.split(':').next().unwrap())
    );
    assert_eq!(mail.subject, "Confirm your e-mail address on Skein");
    assert_eq!(mail.content_type, "multipart/alternative");
    assert!(mail.text.starts_with("Hello dora,"), "{}", mail.text);
    let confirm = link(&mail.text, "/auth/confirmation");
    assert_eq!(
        link(&mail.html, "/auth/confirmation"),
        confirm,
        "the same link in HTML"
    );
    // Sent: the row stays as a record, without the bodies that held the token.
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1);
    assert!(rows[0].sent_at.is_some());
    let bodies: String = sqlx::query_scalar("select text_body || html_body from mail_outbox")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(bodies, "");
    // Only the token's SHA-256 digest is stored.
    let token = confirm.split("token=").nth(1).unwrap().to_string();
    let digests: Vec<Vec<u8>> = sqlx::query_scalar("select digest from email_tokens")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(digests, vec![skein::service::oauth::digest(&token)]);

    // Not confirmed yet: the web and OAuth sign-in refuse, saying why.
    let mut other = Browser::new(&app);
    let refused = other.sign_in("dora").await;
    assert_eq!(refused.status, 403);
    assert!(
        refused.body.contains("confirm your e-mail address first"),
        "{}",
        refused.body
    );

    // Asking again mails a new link; the first one stops working.
    let form = other.get("/auth/confirmation/new").await;
    let asked = other
        .post(
            "/auth/confirmation/new",
            &[
                ("csrf_token", &csrf(&form.body)),
                ("email", "DORA@example.com"),
            ],
        )
        .await;
    assert_eq!(asked.status, 200);
    assert_eq!(send(&app).await, 1);
    let again = smtp.take();
    let fresh = link(&again[0].text, "/auth/confirmation");
    assert_ne!(fresh, confirm);
    let stale = other.get(&confirm).await;
    assert_eq!(stale.status, 422);
    assert!(!confirmed(&app, "dora").await);

    let page = other.get(&fresh).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("you can sign in now"));
    assert!(confirmed(&app, "dora").await);
    assert_eq!(other.sign_in("dora").await.status, 303);
    assert_eq!(sessions_of(&app, "dora").await, 1);
    // A link works once.
    assert_eq!(other.get(&fresh).await.status, 422);

    // Housekeeping forgets sent mail and spent tokens after 30 days.
    app.clock.advance(chrono::Duration::days(31));
    skein::jobs::cleanup::run(&app.state).await;
    assert!(outbox(&app).await.is_empty());
    let tokens: i64 = sqlx::query_scalar("select count(*) from email_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(tokens, 0);
}

#[tokio::test]
async fn an_app_sign_up_is_confirmed_by_mail_and_can_ask_for_the_link_again() {
    let smtp = Smtp::start();
    let app = TestApp::spawn_with(with_smtp(
        Options::named("alpha").env("SKEIN_REGISTRATIONS", "open"),
        smtp.port,
    ))
    .await;
    let (status, _, registered) = app
        .api(
            reqwest::Method::POST,
            "/api/v1/apps",
            None,
            Some(json!({"client_name": "phone", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})),
        )
        .await;
    assert_eq!(status, 200, "{registered}");
    let (status, _, app_token) = app
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
    assert_eq!(status, 200, "{app_token}");
    let app_token = app_token["access_token"].as_str().unwrap().to_string();
    let (status, user_token) = app
        .api_post(
            &app_token,
            "/api/v1/accounts",
            json!({"username": "gil", "email": "gil@example.com", "password": PASSWORD, "agreement": true}),
        )
        .await;
    assert_eq!(status, 200, "{user_token}");
    let user_token = user_token["access_token"].as_str().unwrap().to_string();
    // The new account's token works for nothing but asking for the link;
    // apps are told why, as Mastodon tells them.
    let (status, refused) = app
        .api_get(&user_token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        refused["error"],
        "Your login is missing a confirmed e-mail address"
    );
    assert_eq!(send(&app).await, 1);
    let first = link(&smtp.take()[0].text, "/auth/confirmation");

    let (status, body) = app
        .api_post(&user_token, "/api/v1/emails/confirmations", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(send(&app).await, 1);
    let second = link(&smtp.take()[0].text, "/auth/confirmation");
    assert_ne!(first, second);

    let mut browser = Browser::new(&app);
    assert_eq!(browser.get(&second).await.status, 200);
    let (status, me) = app
        .api_get(&user_token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "gil");
    // Confirmed: the endpoint is for accounts still waiting.
    let (status, _) = app
        .api_post(&user_token, "/api/v1/emails/confirmations", json!({}))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_password_is_reset_once_by_its_mailed_link_which_expires() {
    let smtp = Smtp::start();
    let app = TestApp::spawn_with(with_smtp(Options::named("alpha"), smtp.port)).await;
    app.create_user("erin").await;
    set_email(&app, "erin", "erin@example.com").await;
    let token = app.token("erin").await;
    let mut signed_in = Browser::new(&app);
    assert_eq!(signed_in.sign_in("erin").await.status, 303);

    let mut browser = Browser::new(&app);
    let sign_in = browser.get("/auth/sign_in").await;
    assert!(sign_in.body.contains(r#"href="/auth/password/new""#));
    let form = browser.get("/auth/password/new").await;
    assert_eq!(form.status, 200);
    let known = browser
        .post(
            "/auth/password/new",
            &[
                ("csrf_token", &csrf(&form.body)),
                ("email", "erin@example.com"),
            ],
        )
        .await;
    let form = browser.get("/auth/password/new").await;
    let unknown = browser
        .post(
            "/auth/password/new",
            &[
                ("csrf_token", &csrf(&form.body)),
                ("email", "nobody@example.com"),
            ],
        )
        .await;
    assert_eq!((known.status, unknown.status), (200, 200));
    assert_eq!(
        known.body, unknown.body,
        "the answer does not tell who has an account"
    );

    assert_eq!(send(&app).await, 1);
    let messages = smtp.take();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, vec!["erin@example.com".to_string()]);
    assert_eq!(messages[0].subject, "Reset your password on Skein");
    let reset = link(&messages[0].text, "/auth/password/edit");

    let page = browser.get(&reset).await;
    assert_eq!(page.status, 200);
    let secret = reset.split("token=").nth(1).unwrap();
    let too_short = browser
        .post(
            "/auth/password/edit",
            &[
                ("csrf_token", &csrf(&page.body)),
                ("token", secret),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(
        too_short.status, 422,
        "a weak password does not use the link up"
    );
    let changed = browser
        .post(
            "/auth/password/edit",
            &[
                ("csrf_token", &csrf(&too_short.body)),
                ("token", secret),
                ("password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(changed.body.contains("Your password is changed"));
    // Every session and token of the account ended.
    assert_eq!(sessions_of(&app, "erin").await, 0);
    let (status, _) = app
        .api_get(&token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 401);
    let user = skein::db::users::find_by_username(&app.db, "erin")
        .await
        .unwrap()
        .unwrap();
    assert!(
        skein::service::password::verify("a brand new passphrase", &user.password_hash)
            .await
            .unwrap()
    );
    // Used once.
    assert_eq!(browser.get(&reset).await.status, 422);

    // A link older than an hour is refused, and the password stays.
    let form = browser.get("/auth/password/new").await;
    browser
        .post(
            "/auth/password/new",
            &[
                ("csrf_token", &csrf(&form.body)),
                ("email", "erin@example.com"),
            ],
        )
        .await;
    assert_eq!(send(&app).await, 1);
    let late = link(&smtp.take()[0].text, "/auth/password/edit");
    app.clock.advance(chrono::Duration::minutes(61));
    let expired = browser.get(&late).await;
    assert_eq!(expired.status, 422);
    assert!(expired.body.contains("not valid"));
    let form = browser.get("/auth/password/new").await;
    let refused = browser
        .post(
            "/auth/password/edit",
            &[
                ("csrf_token", &csrf(&form.body)),
                ("token", late.split("token=").nth(1).unwrap()),
                ("password", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    let after = skein::db::users::find_by_username(&app.db, "erin")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.password_hash, user.password_hash);
}

#[tokio::test]
async fn staff_are_mailed_sign_ups_and_reports_and_users_their_approval_and_moderation() {
    let smtp = Smtp::start();
    let app = TestApp::spawn_with(with_smtp(
        Options::named("alpha").env("SKEIN_REGISTRATIONS", "approval"),
        smtp.port,
    ))
    .await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;
    app.create_staff("quiet", "moderator").await;
    set_email(&app, "root", "root@example.com").await;
    set_email(&app, "mod", "mod@example.com").await;
    let moderator = app.token("mod").await;

    let mut browser = Browser::new(&app);
    let done = sign_up(&mut browser, "hana").await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("waits for approval"), "{}", done.body);
    // Only the confirmation first: staff hear of the sign-up once its
    // address is confirmed, as on Mastodon.
    assert_eq!(send(&app).await, 1);
    let confirmation = smtp.take();
    assert_eq!(confirmation[0].to, vec!["hana@example.com".to_string()]);
    let confirm = link(&confirmation[0].text, "/auth/confirmation");
    let confirmed_page = browser.get(&confirm).await;
    assert!(confirmed_page.body.contains("waits for approval"));
    assert_eq!(send(&app).await, 2);
    let messages = smtp.take();
    let pending = to(&messages, "root@example.com");
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].subject,
        "New sign-up waiting for approval on Skein: hana"
    );
    assert!(
        pending[0]
            .text
            .contains("hana (hana@example.com) signed up")
    );
    assert!(pending[0].text.contains("> I like the place"));
    assert!(pending[0].text.contains("/admin/accounts?filter=pending"));
    assert_eq!(to(&messages, "mod@example.com").len(), 1);
    assert_eq!(
        Browser::new(&app).sign_in("hana").await.status,
        403,
        "not approved yet"
    );

    let hana = app.local("hana").await;
    let (status, body) = app
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{}/approve", hana.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(send(&app).await, 1);
    let approved = smtp.take();
    assert_eq!(approved[0].to, vec!["hana@example.com".to_string()]);
    assert_eq!(approved[0].subject, "Your account on Skein is approved");
    assert!(approved[0].html.contains("/auth/sign_in\">Sign in</a>"));
    assert_eq!(Browser::new(&app).sign_in("hana").await.status, 303);

    // A report: every staff member with an address but its author hears.
    let hana_token = app.token("hana").await;
    app.create_user("ivan").await;
    set_email(&app, "ivan", "ivan@example.com").await;
    let ivan = app.local("ivan").await;
    let (status, body) = app
        .api_post(
            &hana_token,
            "/api/v1/reports",
            json!({"account_id": ivan.id.to_string(), "comment": "rude <b>replies</b>"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app
        .api_post(
            &moderator,
            "/api/v1/reports",
            json!({"account_id": ivan.id.to_string(), "comment": "seen it too"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(send(&app).await, 3);
    let reports = smtp.take();
    let handle = app.handle("ivan").trim_start_matches('@').to_string();
    let to_root = to(&reports, "root@example.com");
    assert_eq!(to_root.len(), 2);
    assert_eq!(to_root[0].subject, format!("New report on Skein: {handle}"));
    assert!(
        to_root
            .iter()
            .any(|m| m.html.contains("rude &lt;b&gt;replies&lt;/b&gt;")),
        "{to_root:?}"
    );
    assert_eq!(
        to(&reports, "mod@example.com").len(),
        1,
        "not told of the report it filed"
    );

    // Moderation: the account's owner is told, with the moderator's note.
    let (status, body) = app
        .api_post(
            &moderator,
            &format!("/api/v1/admin/accounts/{}/action", ivan.id),
            json!({"type": "silence", "text": "Keep it civil."}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(send(&app).await, 1);
    let told = smtp.take();
    assert_eq!(told[0].to, vec!["ivan@example.com".to_string()]);
    assert_eq!(told[0].subject, "Your account on Skein");
    assert!(told[0].text.contains("limited your account"));
    assert!(told[0].text.contains("> Keep it civil."));

    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("root").await.status, 303);
    let page = admin.get("/admin").await;
    assert!(
        page.body.contains("E-mail is sent through 127.0.0.1"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn staff_are_mailed_a_report_forwarded_from_another_server() {
    let smtp = Smtp::start();
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(with_smtp(Options::named("beta"), smtp.port)).await;
    alpha.create_user("carol").await;
    beta.create_user("bob").await;
    beta.create_staff("root", "admin").await;
    set_email(&beta, "root", "root@beta.example").await;
    let carol = alpha.token("carol").await;
    let (_, found) = alpha
        .api_get(
            &carol,
            &format!(
                "/api/v2/search?q={}&resolve=true&type=accounts",
                beta.handle("bob")
            ),
        )
        .await;
    let bob_here = found["accounts"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = alpha
        .api_post(
            &carol,
            "/api/v1/reports",
            json!({"account_id": bob_here, "comment": "spam from your server", "forward": true}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(send(&alpha).await, 0, "alpha sends no mail");
    assert_eq!(alpha.deliver().await, 1, "the Flag");

    assert_eq!(send(&beta).await, 1);
    let messages = smtp.take();
    assert_eq!(messages[0].to, vec!["root@beta.example".to_string()]);
    let bob = beta.handle("bob").trim_start_matches('@').to_string();
    assert_eq!(messages[0].subject, format!("New report on Skein: {bob}"));
    assert!(messages[0].text.contains(&format!("reported {bob}")));
    assert!(messages[0].text.contains("> spam from your server"));
}

#[tokio::test]
async fn starttls_is_required_and_a_private_certificate_authority_can_be_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let tls = Smtp::start_tls(dir.path());
    let ca = dir.path().join("smtp.pem");
    let options = |port: u16| {
        with_smtp(
            Options::named("alpha").env("SKEIN_REGISTRATIONS", "open"),
            port,
        )
        .env("SKEIN_SMTP__SECURITY", "starttls")
    };

    // A server without STARTTLS: nothing goes out in clear text.
    let plain = Smtp::start();
    let app = TestApp::spawn_with(options(plain.port)).await;
    assert_eq!(Browser::new(&app).sign_up("lou").await.status, 200);
    assert_eq!(send(&app).await, 0);
    assert!(plain.take().is_empty());
    let rows = outbox(&app).await;
    assert!(
        rows[0].sent_at.is_none() && rows[0].failed_at.is_none(),
        "kept to retry"
    );
    assert!(
        rows[0].last_error.as_deref().unwrap().contains("STARTTLS"),
        "{:?}",
        rows[0].last_error
    );

    // STARTTLS with the server's certificate trusted through smtp.ca_file.
    let app =
        TestApp::spawn_with(options(tls.port).env("SKEIN_SMTP__CA_FILE", ca.to_str().unwrap()))
            .await;
    assert_eq!(Browser::new(&app).sign_up("max").await.status, 200);
    assert_eq!(send(&app).await, 1);
    let messages = tls.take();
    assert_eq!(messages[0].to, vec!["max@example.com".to_string()]);

    // Without it, the self-signed certificate is refused.
    let app = TestApp::spawn_with(options(tls.port)).await;
    assert_eq!(Browser::new(&app).sign_up("ned").await.status, 200);
    assert_eq!(send(&app).await, 0);
    assert!(tls.take().is_empty());
}

#[tokio::test]
async fn mail_waits_in_the_queue_while_the_smtp_server_is_down() {
    let port = Smtp::free_port();
    let app = TestApp::spawn_with(with_smtp(
        Options::named("alpha").env("SKEIN_REGISTRATIONS", "open"),
        port,
    ))
    .await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_up("jo").await.status, 200);

    assert_eq!(send(&app).await, 0, "nothing listens");
    let rows = outbox(&app).await;
    assert_eq!(rows.len(), 1);
    let now = skein::clock::Clock::now(&*app.clock);
    assert_eq!(rows[0].attempts, 1);
    assert!(rows[0].sent_at.is_none() && rows[0].failed_at.is_none());
    assert!(rows[0].next_attempt_at > now, "retried later, with backoff");
    assert!(rows[0].last_error.is_some());

    app.create_staff("root", "admin").await;
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("root").await.status, 303);
    let page = admin.get("/admin").await;
    assert!(page.body.contains("1 waiting to be sent"), "{}", page.body);
    assert!(
        page.body.contains("The latest attempt failed"),
        "{}",
        page.body
    );

    let smtp = Smtp::start_on(port);
    assert_eq!(send(&app).await, 0, "not due yet");
    app.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(send(&app).await, 1);
    let messages = smtp.take();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].to, vec!["jo@example.com".to_string()]);
    let rows = outbox(&app).await;
    assert_eq!(rows[0].attempts, 2);
    assert!(rows[0].sent_at.is_some());

    // A worker that dies after claiming a message leaves it to the next
    // one once its lease ends.
    let form = browser.get("/auth/confirmation/new").await;
    browser
        .post(
            "/auth/confirmation/new",
            &[
                ("csrf_token", &csrf(&form.body)),
                ("email", "jo@example.com"),
            ],
        )
        .await;
    let now = skein::clock::Clock::now(&*app.clock);
    let claimed = skein::db::mail::claim_due(&app.db, now, now + chrono::Duration::minutes(10), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(send(&app).await, 0, "held by the dead worker");
    app.clock.advance(chrono::Duration::minutes(11));
    assert_eq!(send(&app).await, 1);
    assert_eq!(smtp.take().len(), 1);
}

#[tokio::test]
async fn without_smtp_sign_ups_are_ready_at_once_and_the_admin_area_says_so() {
    let app = TestApp::spawn_with(Options::named("alpha").env("SKEIN_REGISTRATIONS", "open")).await;
    let mut browser = Browser::new(&app);
    let done = browser.sign_up("kim").await;
    assert_eq!(done.status, 303, "signed in at once, as before");
    assert_eq!(done.location.as_deref(), Some("/home"));
    assert!(confirmed(&app, "kim").await);
    assert!(outbox(&app).await.is_empty());
    let sign_in = Browser::new(&app).get("/auth/sign_in").await;
    assert!(!sign_in.body.contains("/auth/password/new"));
    assert_eq!(browser.get("/auth/password/new").await.status, 404);
    // An account left unconfirmed when e-mail was turned off still signs in.
    sqlx::query("update users set confirmed_at = null")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(Browser::new(&app).sign_in("kim").await.status, 303);

    app.create_staff("root", "admin").await;
    let mut admin = Browser::new(&app);
    assert_eq!(admin.sign_in("root").await.status, 303);
    let page = admin.get("/admin").await;
    assert!(
        page.body
            .contains("E-mail is not configured: sign-ups are not confirmed and passwords can't be reset by e-mail"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn a_moderator_confirms_an_address_whose_mail_was_lost() {
    let smtp = Smtp::start();
    let app = TestApp::spawn_with(with_smtp(
        Options::named("alpha").env("SKEIN_REGISTRATIONS", "open"),
        smtp.port,
    ))
    .await;
    assert_eq!(Browser::new(&app).sign_up("pat").await.status, 200);
    app.create_staff("mod", "moderator").await;
    let mut moderator = Browser::new(&app);
    assert_eq!(moderator.sign_in("mod").await.status, 303);
    let list = moderator.get("/admin/accounts").await;
    assert!(list.body.contains("e-mail not confirmed"), "{}", list.body);
    let pat = app.local("pat").await;
    let token = csrf(&list.body);
    let done = moderator
        .post(
            &format!("/admin/accounts/{}/confirm", pat.id),
            &[("csrf_token", token.as_str()), ("back", "/admin/accounts")],
        )
        .await;
    assert_eq!(done.status, 303);
    assert!(confirmed(&app, "pat").await);
    let logged: i64 =
        sqlx::query_scalar("select count(*) from admin_actions where action = 'account.confirm'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(logged, 1);
    assert_eq!(Browser::new(&app).sign_in("pat").await.status, 303);
}
