//! OAuth 2 as Mastodon apps use it: registering an app, signing in through
//! the HTML form as a browser does, consent, the code exchange with PKCE,
//! the client-credentials grant, revocation and scopes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::TestApp;

const REDIRECT: &str = "https://app.example/callback";
const PASSWORD: &str = "correct horse battery";

struct Browser<'a> {
    app: &'a TestApp,
    cookies: Vec<(String, String)>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            cookies: Vec::new(),
        }
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            if !value.is_empty() {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path_or_url: &str) -> (u16, String, Option<String>) {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            self.app.url(path_or_url)
        };
        let response = self
            .app
            .client
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let status = response.status().as_u16();
        let location = location(&response);
        (status, response.text().await.unwrap(), location)
    }

    async fn post_form(
        &mut self,
        path: &str,
        form: &[(String, String)],
    ) -> (u16, String, Option<String>) {
        let response = self
            .app
            .client
            .post(self.app.url(path))
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let status = response.status().as_u16();
        let location = location(&response);
        (status, response.text().await.unwrap(), location)
    }
}

fn location(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
}

/// The hidden inputs of the page's form, as a browser would submit them.
pub fn form_fields(html: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r#"<input type="hidden" name="([^"]+)" value="([^"]*)">"#).unwrap();
    re.captures_iter(html)
        .map(|c| (c[1].to_string(), unescape(&c[2])))
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
}

async fn register_app(app: &TestApp, redirect: &str, scopes: &str) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Test App"),
            ("redirect_uris", redirect),
            ("scopes", scopes),
            ("website", "https://app.example"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn pkce() -> (String, String) {
    let verifier = "a-verifier-with-enough-entropy-0123456789-abcdefghijkl".to_string();
    let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_path(client_id: &str, redirect: &str, scope: &str, challenge: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("scope", scope)
        .append_pair("state", "opaque-state");
    if let Some(c) = challenge {
        query
            .append_pair("code_challenge", c)
            .append_pair("code_challenge_method", "S256");
    }
    format!("/oauth/authorize?{}", query.finish())
}

/// Signs in on the authorization page and approves; the URL the browser is
/// sent to at the end.
async fn sign_in_and_approve(
    browser: &mut Browser<'_>,
    path: &str,
    login: &str,
) -> (u16, String, Option<String>) {
    let (status, html, _) = browser.get(path).await;
    assert_eq!(status, 200, "the sign-in page: {html}");
    assert!(html.contains("name=\"password\""));
    let mut form = form_fields(&html);
    form.push(("login".into(), login.into()));
    form.push(("password".into(), PASSWORD.into()));
    let (status, _, next) = browser.post_form("/oauth/authorize", &form).await;
    assert_eq!(status, 303, "signing in redirects back to the consent page");
    let (status, html, _) = browser.get(&next.unwrap()).await;
    assert_eq!(status, 200);
    assert!(html.contains("Authorize <bdi>Test App</bdi>?"), "{html}");
    let mut form = form_fields(&html);
    form.push(("step".into(), "approve".into()));
    browser.post_form("/oauth/authorize", &form).await
}

fn code_from(location: &str) -> String {
    let url = url::Url::parse(location).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("state".into(), "opaque-state".into())));
    pairs
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .expect("a code in the redirect")
}

async fn exchange(
    app: &TestApp,
    registered: &Value,
    code: &str,
    verifier: Option<&str>,
) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code".to_string()),
        ("code", code.to_string()),
        (
            "client_id",
            registered["client_id"].as_str().unwrap().to_string(),
        ),
        (
            "client_secret",
            registered["client_secret"].as_str().unwrap().to_string(),
        ),
        ("redirect_uri", REDIRECT.to_string()),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v.to_string()));
    }
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn an_app_signs_in_through_the_form_and_gets_a_token_for_the_user() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let registered = register_app(&app, REDIRECT, "read write follow").await;
    assert_eq!(registered["name"], "Test App");
    assert_eq!(registered["redirect_uri"], REDIRECT);
    assert_eq!(registered["scopes"], json!(["read", "write", "follow"]));
    let client_id = registered["client_id"].as_str().unwrap();
    let stored: String = sqlx::query_scalar("select name from oauth_apps where client_id = $1")
        .bind(client_id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, "Test App");

    let (verifier, challenge) = pkce();
    let mut browser = Browser::new(&app);
    let path = authorize_path(client_id, REDIRECT, "read write", Some(&challenge));
    let (status, _, location) = sign_in_and_approve(&mut browser, &path, "alice").await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    let code = code_from(&location);

    let (status, token) = exchange(&app, &registered, &code, Some(&verifier)).await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "read write");
    let access = token["access_token"].as_str().unwrap();

    let (status, me) = app
        .api_get(access, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["source"]["privacy"], "public");
    let (status, who) = app.api_get(access, "/api/v1/apps/verify_credentials").await;
    assert_eq!(status, 200);
    assert_eq!(who["name"], "Test App");
    assert!(who.get("client_secret").is_none(), "secrets are shown once");

    // Only digests are stored.
    let digests: Vec<Vec<u8>> = sqlx::query_scalar("select token_digest from oauth_tokens")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(digests, vec![Sha256::digest(access.as_bytes()).to_vec()]);

    // A code is used once; a replay revokes what it gave.
    let (status, error) = exchange(&app, &registered, &code, Some(&verifier)).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"], "invalid_grant");
    let (status, _) = app
        .api_get(access, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_wrong_code_verifier_or_redirect_gets_no_token() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let registered = register_app(&app, REDIRECT, "read").await;
    let client_id = registered["client_id"].as_str().unwrap();
    let (_, challenge) = pkce();
    let mut browser = Browser::new(&app);
    let path = authorize_path(client_id, REDIRECT, "read", Some(&challenge));
    let (_, _, location) = sign_in_and_approve(&mut browser, &path, "alice").await;
    let code = code_from(&location.unwrap());
    let (status, error) = exchange(&app, &registered, &code, Some("not-the-verifier")).await;
    assert_eq!(status, 400);
    assert_eq!(error["error"], "invalid_grant");
    let tokens: i64 = sqlx::query_scalar("select count(*) from oauth_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(tokens, 0);

    // A redirect URI that was never registered is refused on a page, not
    // redirected to.
    let (status, html, location) = browser
        .get(&authorize_path(
            client_id,
            "https://evil.example/cb",
            "read",
            None,
        ))
        .await;
    assert_eq!(status, 400);
    assert!(location.is_none());
    assert!(html.contains("redirect URI"), "{html}");
}

#[tokio::test]
async fn the_out_of_band_flow_shows_the_code_on_a_page() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let oob = "urn:ietf:wg:oauth:2.0:oob";
    let registered = register_app(&app, oob, "read").await;
    let client_id = registered["client_id"].as_str().unwrap();
    let mut browser = Browser::new(&app);
    let (status, html, location) = sign_in_and_approve(
        &mut browser,
        &authorize_path(client_id, oob, "read", None),
        "alice",
    )
    .await;
    assert_eq!(status, 200);
    assert!(location.is_none());
    let re = regex::Regex::new(r#"id="code" readonly value="([^"]+)""#).unwrap();
    let code = re.captures(&html).expect("the code is shown")[1].to_string();
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .json(&json!({
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client_id,
            "client_secret": registered["client_secret"],
            "redirect_uri": oob,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn denying_sends_the_user_back_with_access_denied_and_issues_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let registered = register_app(&app, REDIRECT, "read").await;
    let client_id = registered["client_id"].as_str().unwrap();
    let mut browser = Browser::new(&app);
    let (_, html, _) = browser
        .get(&authorize_path(client_id, REDIRECT, "read", None))
        .await;
    let mut form = form_fields(&html);
    form.push(("login".into(), "alice".into()));
    form.push(("password".into(), PASSWORD.into()));
    let (_, _, next) = browser.post_form("/oauth/authorize", &form).await;
    let (_, html, _) = browser.get(&next.unwrap()).await;
    let mut form = form_fields(&html);
    form.push(("step".into(), "deny".into()));
    let (status, _, location) = browser.post_form("/oauth/authorize", &form).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(location.contains("error=access_denied"), "{location}");
    let codes: i64 = sqlx::query_scalar("select count(*) from oauth_codes")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(codes, 0);
}

#[tokio::test]
async fn a_forged_form_without_the_csrf_token_changes_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let registered = register_app(&app, REDIRECT, "read").await;
    let client_id = registered["client_id"].as_str().unwrap();
    let mut browser = Browser::new(&app);
    let (_, html, _) = browser
        .get(&authorize_path(client_id, REDIRECT, "read", None))
        .await;
    let mut form: Vec<(String, String)> = form_fields(&html)
        .into_iter()
        .filter(|(k, _)| k != "csrf_token")
        .collect();
    form.push(("csrf_token".into(), "forged".into()));
    form.push(("login".into(), "alice".into()));
    form.push(("password".into(), PASSWORD.into()));
    let (status, _, _) = browser.post_form("/oauth/authorize", &form).await;
    assert_eq!(status, 403);
    let sessions: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
}

#[tokio::test]
async fn wrong_passwords_open_no_session_and_are_rate_limited() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let registered = register_app(&app, REDIRECT, "read").await;
    let client_id = registered["client_id"].as_str().unwrap();
    let mut browser = Browser::new(&app);
    let path = authorize_path(client_id, REDIRECT, "read", None);
    let mut last = 0;
    for _ in 0..26 {
        let (_, html, _) = browser.get(&path).await;
        let mut form = form_fields(&html);
        form.push(("login".into(), "alice".into()));
        form.push(("password".into(), "wrong password".into()));
        let (status, html, _) = browser.post_form("/oauth/authorize", &form).await;
        if status == 401 {
            assert!(html.contains("invalid username"), "{html}");
        }
        last = status;
    }
    assert_eq!(last, 429, "attempts beyond the limits are refused");
    let sessions: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    // The windows pass on the instance's clock (the account's failures
    // count for 15 minutes).
    app.clock.advance(chrono::Duration::minutes(15));
    let (_, html, _) = browser.get(&path).await;
    let mut form = form_fields(&html);
    form.push(("login".into(), "alice".into()));
    form.push(("password".into(), PASSWORD.into()));
    let (status, _, _) = browser.post_form("/oauth/authorize", &form).await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn client_credentials_give_an_app_token_that_cannot_act_as_a_user() {
    let app = TestApp::spawn().await;
    let registered = register_app(&app, REDIRECT, "read write").await;
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(
            registered["client_id"].as_str().unwrap(),
            registered["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let token: Value = response.json().await.unwrap();
    let access = token["access_token"].as_str().unwrap();
    let (status, body) = app
        .api_get(access, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app.api_get(access, "/api/v1/apps/verify_credentials").await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "Test App");

    // A wrong secret is refused.
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", registered["client_id"].as_str().unwrap()),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn a_revoked_token_stops_working() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let registered = register_app(&app, REDIRECT, "read").await;
    let (verifier, challenge) = pkce();
    let mut browser = Browser::new(&app);
    let client_id = registered["client_id"].as_str().unwrap();
    let (_, _, location) = sign_in_and_approve(
        &mut browser,
        &authorize_path(client_id, REDIRECT, "read", Some(&challenge)),
        "alice",
    )
    .await;
    let (_, token) = exchange(
        &app,
        &registered,
        &code_from(&location.unwrap()),
        Some(&verifier),
    )
    .await;
    let access = token["access_token"].as_str().unwrap();
    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("client_id", client_id),
            (
                "client_secret",
                registered["client_secret"].as_str().unwrap(),
            ),
            ("token", access),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let revoked: bool = sqlx::query_scalar("select revoked_at is not null from oauth_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(revoked);
    let (status, body) = app
        .api_get(access, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "The access token is invalid");
}

#[tokio::test]
async fn scopes_limit_what_a_token_may_do() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let registered = register_app(&app, REDIRECT, "read write").await;
    let (verifier, challenge) = pkce();
    let mut browser = Browser::new(&app);
    let client_id = registered["client_id"].as_str().unwrap();
    // Asking for more than the app registered is sent back as invalid_scope.
    let (status, _, location) = browser
        .get(&authorize_path(client_id, REDIRECT, "read push", None))
        .await;
    assert_eq!(status, 303);
    assert!(location.unwrap().contains("error=invalid_scope"));
    let (_, _, location) = sign_in_and_approve(
        &mut browser,
        &authorize_path(
            client_id,
            REDIRECT,
            "read:statuses read:accounts",
            Some(&challenge),
        ),
        "alice",
    )
    .await;
    let (_, token) = exchange(
        &app,
        &registered,
        &code_from(&location.unwrap()),
        Some(&verifier),
    )
    .await;
    let access = token["access_token"].as_str().unwrap();
    let (status, _) = app.api_get(access, "/api/v1/timelines/home").await;
    assert_eq!(status, 200);
    let (status, body) = app
        .api_post(access, "/api/v1/statuses", json!({"status": "hello"}))
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        body["error"],
        "This action is outside the authorized scopes"
    );
    let posts: i64 = sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(posts, 0);
}

#[tokio::test]
async fn the_authorization_server_metadata_names_the_endpoints() {
    let app = TestApp::spawn().await;
    let (status, _, body) = app
        .api(
            Method::GET,
            "/.well-known/oauth-authorization-server",
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_endpoint"], app.url("/oauth/token"));
    assert_eq!(body["code_challenge_methods_supported"], json!(["S256"]));
    assert!(
        body["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("write:statuses"))
    );
}

#[tokio::test]
async fn registering_an_app_without_a_name_or_with_a_bad_redirect_is_refused() {
    let app = TestApp::spawn().await;
    let (status, _, body) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            None,
            Some(json!({"client_name": "", "redirect_uris": REDIRECT})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"].as_str().unwrap().contains("client_name"));
    let (status, _, _) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            None,
            Some(json!({"client_name": "x", "redirect_uris": "not a uri", "scopes": "read"})),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _, body) = app
        .api(
            Method::POST,
            "/api/v1/apps",
            None,
            Some(json!({"client_name": "x", "redirect_uris": REDIRECT, "scopes": "read bogus"})),
        )
        .await;
    assert_eq!(status, 422);
    assert!(body["error"].as_str().unwrap().contains("bogus"));
    let apps: i64 = sqlx::query_scalar("select count(*) from oauth_apps")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(apps, 0);
}
