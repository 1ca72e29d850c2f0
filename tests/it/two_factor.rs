//! Two-factor authentication through the web interface, as a browser
//! without JavaScript uses it: setting it up from the settings pages (codes
//! computed here with the same TOTP crate on the instance's clock), signing
//! in with a code or a recovery code, time steps used once, wrong codes
//! under the account's lockout, turning it off, new recovery codes, and the
//! OAuth authorization-code flow's sign-in.

use chrono::Duration;
use serde_json::Value;
use skein::clock::Clock;
use totp_rs::{Algorithm, Builder, Secret};

use crate::harness::TestApp;
use crate::oauth::form_fields;
use crate::web::{Browser, PASSWORD, Page, cookie_named, csrf, sessions_of};

const REDIRECT: &str = "https://app.example/callback";

/// The code an authenticator app shows for `secret` (base32) at `at`
/// seconds from the instance's clock: RFC 6238's defaults.
pub fn code_at(app: &TestApp, secret: &str, at: i64) -> String {
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).expect("a base32 secret"))
        .build()
        .expect("a TOTP");
    let now = app.clock.now().timestamp() + at;
    totp.generate(u64::try_from(now).unwrap()).to_string()
}

pub fn code_now(app: &TestApp, secret: &str) -> String {
    code_at(app, secret, 0)
}

/// A six-digit code that none of the accepted steps gives.
fn wrong_code(app: &TestApp, secret: &str) -> String {
    let taken: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|at| code_at(app, secret, *at))
        .collect();
    (0..)
        .map(|n: u32| format!("{:06}", 123_456 + n))
        .find(|c| !taken.contains(c))
        .unwrap()
}

fn recovery_codes(html: &str) -> Vec<String> {
    let re = regex::Regex::new(r"<li><code>([a-z0-9-]+)</code></li>").unwrap();
    re.captures_iter(html).map(|c| c[1].to_string()).collect()
}

async fn count(app: &TestApp, sql: &str, user_id: i64) -> i64 {
    sqlx::query_scalar(sql)
        .bind(user_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn challenges(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from sign_in_challenges")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Turns two-factor authentication on through the settings pages of a
/// signed-in browser: the secret (base32) and the recovery codes shown.
pub async fn enable(browser: &mut Browser<'_>, app: &TestApp) -> (String, Vec<String>) {
    let overview = browser.get("/settings/two_factor").await;
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains("Two-factor authentication is off"));
    let token = csrf(&overview.body);
    let started = browser
        .post("/settings/two_factor/setup", &[("csrf_token", &token)])
        .await;
    assert_eq!(started.status, 303);
    assert_eq!(
        started.location.as_deref(),
        Some("/settings/two_factor/setup")
    );
    let page = browser.get("/settings/two_factor/setup").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.headers["cache-control"], "no-store");
    let secret = regex::Regex::new(r#"id="secret" readonly value="([A-Z2-7]+)""#)
        .unwrap()
        .captures(&page.body)
        .expect("the page shows the key")[1]
        .to_string();
    assert!(page.body.contains("<svg"), "a QR code drawn in the page");
    assert!(
        page.body
            .contains(&format!("otpauth://totp/{}", host_of(app))),
        "the otpauth link names the instance"
    );
    assert!(page.body.contains(&format!("secret={secret}")));
    let done = browser
        .post(
            "/settings/two_factor/confirm",
            &[
                ("csrf_token", &token),
                ("code", &code_now(app, &secret)),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.headers["cache-control"], "no-store");
    let codes = recovery_codes(&done.body);
    assert_eq!(codes.len(), 10, "{}", done.body);
    (secret, codes)
}

fn host_of(app: &TestApp) -> String {
    app.domain
        .rsplit_once(':')
        .map_or(app.domain.clone(), |(h, _)| h.to_string())
}

/// Posts the second step's form of the sign-in page `page`.
async fn second_step(browser: &mut Browser<'_>, page: &Page, code: &str) -> Page {
    let token = csrf(&page.body);
    browser
        .post(
            "/auth/sign_in/two_factor",
            &[("csrf_token", &token), ("code", code)],
        )
        .await
}

#[tokio::test]
async fn setting_up_shows_the_secret_once_and_signing_in_then_asks_for_a_code() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let user_id = alice.user.id;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in("alice").await.status, 303);

    // A wrong code, or the right one with a wrong password, turns nothing on.
    let overview = browser.get("/settings/two_factor").await;
    let token = csrf(&overview.body);
    browser
        .post("/settings/two_factor/setup", &[("csrf_token", &token)])
        .await;
    let page = browser.get("/settings/two_factor/setup").await;
    let secret = regex::Regex::new(r#"id="secret" readonly value="([A-Z2-7]+)""#)
        .unwrap()
        .captures(&page.body)
        .unwrap()[1]
        .to_string();
    let refused = browser
        .post(
            "/settings/two_factor/confirm",
            &[
                ("csrf_token", &token),
                ("code", &wrong_code(&app, &secret)),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("the code is wrong"));
    let refused = browser
        .post(
            "/settings/two_factor/confirm",
            &[
                ("csrf_token", &token),
                ("code", &code_now(&app, &secret)),
                ("current_password", "not the password"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("password is wrong"));
    let forged = browser
        .post(
            "/settings/two_factor/confirm",
            &[
                ("csrf_token", "forged"),
                ("code", &code_now(&app, &secret)),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        count(
            &app,
            "select count(*) from user_two_factor where user_id = $1 and enabled_at is not null",
            user_id,
        )
        .await,
        0
    );

    // Set up again (a new secret), and on.
    let (secret, codes) = enable(&mut browser, &app).await;
    assert_eq!(
        count(
            &app,
            "select count(*) from user_two_factor where user_id = $1 and enabled_at is not null",
            user_id,
        )
        .await,
        1
    );
    // The recovery codes are stored as digests, none of them as shown.
    let stored: Vec<Vec<u8>> =
        sqlx::query_scalar("select digest from user_recovery_codes where user_id = $1")
            .bind(user_id)
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 10);
    for code in &codes {
        assert!(stored.iter().all(|d| d.as_slice() != code.as_bytes()));
    }
    // The secret is never shown again.
    let again = browser.get("/settings/two_factor/setup").await;
    assert_eq!(again.status, 303);
    let overview = browser.get("/settings/two_factor").await;
    assert!(overview.body.contains("Two-factor authentication is on"));
    assert!(overview.body.contains("Recovery codes left: 10"));
    assert!(!overview.body.contains(&secret));
    let token = csrf(&overview.body);
    let restart = browser
        .post("/settings/two_factor/setup", &[("csrf_token", &token)])
        .await;
    assert_eq!(restart.status, 409, "an enabled secret is not replaced");
    assert!(!restart.body.contains(&secret));

    // Another browser: the right password leads to the code, not to a
    // session.
    let sessions = sessions_of(&app, "alice").await;
    let mut phone = Browser::new(&app);
    let asked = phone.sign_in("alice").await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("name=\"code\""));
    assert!(cookie_named(&asked, "skein_two_factor").contains("HttpOnly"));
    assert_eq!(sessions_of(&app, "alice").await, sessions);
    assert_eq!(challenges(&app).await, 1);
    assert_eq!(phone.get("/home").await.status, 303, "not signed in yet");

    // The code that turned it on was of this time step: used, refused.
    let reused = second_step(&mut phone, &asked, &code_now(&app, &secret)).await;
    assert_eq!(reused.status, 401);
    assert!(reused.body.contains("wrong or was used already"));
    assert_eq!(sessions_of(&app, "alice").await, sessions);

    // The next step's code signs in.
    app.clock.advance(Duration::seconds(30));
    let code = code_now(&app, &secret);
    let done = second_step(&mut phone, &reused, &code).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/home"));
    assert!(cookie_named(&done, "skein_two_factor").contains("Max-Age=0"));
    assert_eq!(sessions_of(&app, "alice").await, sessions + 1);
    assert_eq!(challenges(&app).await, 0);
    assert_eq!(phone.get("/home").await.status, 200);

    // The same code again, from yet another browser: refused.
    let mut laptop = Browser::new(&app);
    let asked = laptop.sign_in("alice").await;
    assert_eq!(asked.status, 200);
    let reused = second_step(&mut laptop, &asked, &code).await;
    assert_eq!(reused.status, 401);
    // A code of the step after this one is accepted (a clock a little
    // ahead), once.
    let ahead = code_at(&app, &secret, 30);
    let done = second_step(&mut laptop, &reused, &ahead).await;
    assert_eq!(done.status, 303);
    assert_eq!(sessions_of(&app, "alice").await, sessions + 2);

    // A pending sign-in ends after five minutes.
    let mut late = Browser::new(&app);
    let asked = late.sign_in("alice").await;
    app.clock.advance(Duration::minutes(6));
    let expired = second_step(&mut late, &asked, &code_now(&app, &secret)).await;
    assert_eq!(expired.status, 401);
    assert!(expired.body.contains("expired"), "{}", expired.body);
    assert!(
        expired.body.contains("name=\"password\""),
        "back to sign-in"
    );
    assert_eq!(sessions_of(&app, "alice").await, sessions + 2);
}

#[tokio::test]
async fn a_recovery_code_signs_in_once_and_new_codes_replace_the_old() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let user_id = alice.user.id;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let (_, codes) = enable(&mut browser, &app).await;

    let mut other = Browser::new(&app);
    let asked = other.sign_in("alice").await;
    // Typed in capitals with spaces, as people copy them.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let done = second_step(&mut other, &asked, &typed).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(
        count(
            &app,
            "select count(*) from user_recovery_codes where user_id = $1 and used_at is not null",
            user_id,
        )
        .await,
        1
    );
    // A used code is refused the second time.
    let mut third = Browser::new(&app);
    let asked = third.sign_in("alice").await;
    let refused = second_step(&mut third, &asked, &codes[0]).await;
    assert_eq!(refused.status, 401);
    let done = second_step(&mut third, &refused, &codes[1]).await;
    assert_eq!(done.status, 303);
    let overview = browser.get("/settings/two_factor").await;
    assert!(overview.body.contains("Recovery codes left: 8"));

    // New codes take the password; the old ones stop working.
    let token = csrf(&overview.body);
    let refused = browser
        .post(
            "/settings/two_factor/recovery_codes",
            &[("csrf_token", &token), ("current_password", "wrong")],
        )
        .await;
    assert_eq!(refused.status, 422);
    let fresh = browser
        .post(
            "/settings/two_factor/recovery_codes",
            &[("csrf_token", &token), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(fresh.status, 200);
    let new_codes = recovery_codes(&fresh.body);
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !codes.contains(c)));
    assert_eq!(
        count(
            &app,
            "select count(*) from user_recovery_codes where user_id = $1 and used_at is null",
            user_id,
        )
        .await,
        10
    );
    let mut fourth = Browser::new(&app);
    let asked = fourth.sign_in("alice").await;
    let refused = second_step(&mut fourth, &asked, &codes[2]).await;
    assert_eq!(refused.status, 401);
    let done = second_step(&mut fourth, &refused, &new_codes[0]).await;
    assert_eq!(done.status, 303);
}

#[tokio::test]
async fn wrong_codes_count_against_the_accounts_lockout_which_the_password_does_not_clear() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let (secret, _) = enable(&mut browser, &app).await;
    app.clock.advance(Duration::seconds(30));
    let sessions = sessions_of(&app, "alice").await;

    // The right password counts one attempt (and clears nothing), each
    // wrong code one more: ten in fifteen minutes.
    let mut guesser = Browser::new(&app);
    let mut page = guesser.sign_in("alice").await;
    assert_eq!(page.status, 200);
    for _ in 0..8 {
        page = second_step(&mut guesser, &page, &wrong_code(&app, &secret)).await;
        assert_eq!(page.status, 401);
    }
    // Signing in again with the right password is the tenth attempt.
    let mut again = Browser::new(&app);
    let asked = again.sign_in("alice").await;
    assert_eq!(asked.status, 200);
    let refused = second_step(&mut again, &asked, &wrong_code(&app, &secret)).await;
    assert_eq!(refused.status, 429);
    // Now even the right code is refused, and so is the password.
    let refused = second_step(&mut again, &refused, &code_now(&app, &secret)).await;
    assert_eq!(refused.status, 429);
    assert_eq!(Browser::new(&app).sign_in("alice").await.status, 429);
    assert_eq!(sessions_of(&app, "alice").await, sessions);

    // Fifteen minutes later the account signs in with its code.
    app.clock.advance(Duration::minutes(15));
    let mut later = Browser::new(&app);
    let asked = later.sign_in("alice").await;
    assert_eq!(asked.status, 200);
    let done = second_step(&mut later, &asked, &code_now(&app, &secret)).await;
    assert_eq!(done.status, 303);
    assert_eq!(sessions_of(&app, "alice").await, sessions + 1);
}

#[tokio::test]
async fn turning_it_off_takes_the_password_and_a_code() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let user_id = alice.user.id;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let (secret, _) = enable(&mut browser, &app).await;
    app.clock.advance(Duration::seconds(30));

    let token = browser.token().await;
    let refused = browser
        .post(
            "/settings/two_factor/disable",
            &[
                ("csrf_token", &token),
                ("code", &wrong_code(&app, &secret)),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    let refused = browser
        .post(
            "/settings/two_factor/disable",
            &[
                ("csrf_token", &token),
                ("code", &code_now(&app, &secret)),
                ("current_password", "wrong"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        count(
            &app,
            "select count(*) from user_two_factor where user_id = $1",
            user_id
        )
        .await,
        1
    );
    let done = browser
        .post(
            "/settings/two_factor/disable",
            &[
                ("csrf_token", &token),
                ("code", &code_now(&app, &secret)),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(
        done.location.as_deref(),
        Some("/settings/two_factor?saved=1")
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from user_two_factor where user_id = $1",
            user_id
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from user_recovery_codes where user_id = $1",
            user_id
        )
        .await,
        0
    );
    // The password alone signs in again.
    let signed = Browser::new(&app).sign_in("alice").await;
    assert_eq!(signed.status, 303);
    assert_eq!(signed.location.as_deref(), Some("/home"));
}

async fn register_app(app: &TestApp) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Test App"),
            ("redirect_uris", REDIRECT),
            ("scopes", "read write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn authorize_path(client_id: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "read write")
        .append_pair("state", "opaque-state");
    format!("/oauth/authorize?{}", query.finish())
}

async fn post_fields(browser: &mut Browser<'_>, path: &str, fields: &[(String, String)]) -> Page {
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser.post(path, &pairs).await
}

#[tokio::test]
async fn the_authorization_code_flow_asks_a_two_factor_account_for_its_code() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut settings = Browser::new(&app);
    settings.sign_in("alice").await;
    let (secret, _) = enable(&mut settings, &app).await;
    app.clock.advance(Duration::seconds(30));
    let registered = register_app(&app).await;
    let client_id = registered["client_id"].as_str().unwrap();
    let sessions = sessions_of(&app, "alice").await;

    let mut browser = Browser::new(&app);
    let path = authorize_path(client_id);
    let form = browser.get(&path).await;
    assert_eq!(form.status, 200);
    let mut fields = form_fields(&form.body);
    fields.push(("login".into(), "alice".into()));
    fields.push(("password".into(), PASSWORD.into()));
    let asked = post_fields(&mut browser, "/oauth/authorize", &fields).await;
    assert_eq!(asked.status, 200, "{}", asked.body);
    assert!(asked.body.contains("name=\"code\""));
    assert!(asked.body.contains("Test App"));
    assert_eq!(sessions_of(&app, "alice").await, sessions);

    // A wrong code asks again, keeping the request.
    let mut fields = form_fields(&asked.body);
    assert!(fields.contains(&("client_id".into(), client_id.into())));
    assert!(fields.contains(&("step".into(), "two_factor".into())));
    fields.push(("code".into(), wrong_code(&app, &secret)));
    let refused = post_fields(&mut browser, "/oauth/authorize", &fields).await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("wrong or was used already"));
    assert_eq!(sessions_of(&app, "alice").await, sessions);

    let mut fields = form_fields(&refused.body);
    fields.push(("code".into(), code_now(&app, &secret)));
    let signed = post_fields(&mut browser, "/oauth/authorize", &fields).await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    assert_eq!(sessions_of(&app, "alice").await, sessions + 1);

    // Consent, the code, the token.
    let consent = browser.get(signed.location.as_deref().unwrap()).await;
    assert_eq!(consent.status, 200);
    assert!(consent.body.contains("Authorize <bdi>Test App</bdi>?"));
    let mut fields = form_fields(&consent.body);
    fields.push(("step".into(), "approve".into()));
    let approved = post_fields(&mut browser, "/oauth/authorize", &fields).await;
    assert_eq!(approved.status, 303);
    let location = url::Url::parse(approved.location.as_deref().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("a code");
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            (
                "client_secret",
                registered["client_secret"].as_str().unwrap(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let (status, me) = app
        .api_get(token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "alice");
}
