//! The OAuth password grant as Mastodon's Doorkeeper set-up has it (and as
//! masto.js and Mastodon.py send it): `username` is the account's e-mail
//! address; the client's credentials and scopes are checked; the same rules
//! as signing in, under the same limits; accounts with two-factor
//! authentication refused.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{Options, TestApp};
use crate::web::{Browser, PASSWORD};

async fn register_app(app: &TestApp, scopes: &str) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Password App"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
            ("scopes", scopes),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// A local account with an e-mail address.
async fn user_with_email(app: &TestApp, name: &str) -> i64 {
    let created = app.create_user(name).await;
    sqlx::query("update users set email = $1 where id = $2")
        .bind(format!("{name}@example.com"))
        .bind(created.user.id)
        .execute(&app.db)
        .await
        .unwrap();
    created.user.id
}

struct Grant<'a> {
    username: &'a str,
    password: &'a str,
    scope: Option<&'a str>,
    client_secret: Option<&'a str>,
    /// The address the request comes from (through the loopback proxy).
    ip: &'a str,
}

impl Default for Grant<'_> {
    fn default() -> Self {
        Grant {
            username: "alice@example.com",
            password: PASSWORD,
            scope: None,
            client_secret: None,
            ip: "203.0.113.1",
        }
    }
}

async fn grant(app: &TestApp, registered: &Value, g: Grant<'_>) -> (u16, Value) {
    let secret = g
        .client_secret
        .unwrap_or_else(|| registered["client_secret"].as_str().unwrap());
    let mut form = vec![
        ("grant_type", "password"),
        ("username", g.username),
        ("password", g.password),
        ("client_id", registered["client_id"].as_str().unwrap()),
        ("client_secret", secret),
    ];
    if let Some(scope) = g.scope {
        form.push(("scope", scope));
    }
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .header("x-forwarded-for", g.ip)
        .form(&form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn tokens_of(app: &TestApp, user_id: i64) -> i64 {
    sqlx::query_scalar("select count(*) from oauth_tokens where user_id = $1")
        .bind(user_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_e_mail_address_and_password_get_a_token_that_acts_as_the_account() {
    let app = TestApp::spawn().await;
    let alice = user_with_email(&app, "alice").await;
    let registered = register_app(&app, "read write follow").await;

    let (status, body) = grant(
        &app,
        &registered,
        Grant {
            scope: Some("read write"),
            ..Grant::default()
        },
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "read write");
    assert!(body["created_at"].is_i64());
    let token = body["access_token"].as_str().unwrap();
    let (status, me) = app
        .api_get(token, "/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(status, 200);
    assert_eq!(me["username"], "alice");
    // Stored as a digest, for the app and the account, with its scopes.
    let (user_id, app_id, scopes): (Option<i64>, Option<i64>, String) =
        sqlx::query_as("select user_id, app_id, scopes from oauth_tokens where token_digest = $1")
            .bind(Sha256::digest(token.as_bytes()).to_vec())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(user_id, Some(alice));
    let registered_id: i64 = sqlx::query_scalar("select id from oauth_apps where client_id = $1")
        .bind(registered["client_id"].as_str().unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(app_id, Some(registered_id));
    assert_eq!(scopes, "read write");

    // Without a scope, Doorkeeper's default: read. The address is compared
    // without regard to case.
    let (status, body) = grant(
        &app,
        &registered,
        Grant {
            username: "Alice@Example.COM",
            ..Grant::default()
        },
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "read");
    let (status, _) = app
        .api_post(
            body["access_token"].as_str().unwrap(),
            "/api/v1/statuses",
            json!({"status": "hello"}),
        )
        .await;
    assert_eq!(status, 403, "a read token cannot post");

    // Client credentials by HTTP Basic work as well.
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(
            registered["client_id"].as_str().unwrap(),
            registered["client_secret"].as_str(),
        )
        .form(&[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("scope", "write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(tokens_of(&app, alice).await, 3);

    // The grant is advertised.
    let (status, _, metadata) = app
        .api(
            reqwest::Method::GET,
            "/.well-known/oauth-authorization-server",
            None,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        metadata["grant_types_supported"],
        json!(["authorization_code", "password", "client_credentials"])
    );
}

#[tokio::test]
async fn wrong_credentials_a_wrong_client_or_a_scope_beyond_the_app_get_no_token() {
    let app = TestApp::spawn().await;
    let alice = user_with_email(&app, "alice").await;
    let registered = register_app(&app, "read write").await;

    let (status, body) = grant(
        &app,
        &registered,
        Grant {
            password: "not the password",
            ..Grant::default()
        },
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"].is_string());

    // Mastodon looks the account up by its e-mail address only.
    let (status, body) = grant(
        &app,
        &registered,
        Grant {
            username: "alice",
            ..Grant::default()
        },
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");

    let (status, body) = grant(
        &app,
        &registered,
        Grant {
            client_secret: Some("not the secret"),
            ..Grant::default()
        },
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "invalid_client");

    let (status, body) = grant(
        &app,
        &registered,
        Grant {
            scope: Some("read follow"),
            ..Grant::default()
        },
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_scope");

    let response = app
        .client
        .post(app.url("/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice@example.com"),
            ("client_id", registered["client_id"].as_str().unwrap()),
            (
                "client_secret",
                registered["client_secret"].as_str().unwrap(),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    assert_eq!(tokens_of(&app, alice).await, 0);
}

#[tokio::test]
async fn accounts_that_may_not_sign_in_get_invalid_grant() {
    // With e-mail on, an unconfirmed address may not sign in (nothing is
    // sent here: the server named is never reached).
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_SMTP__HOST", "127.0.0.1")
            .env("SKEIN_SMTP__PORT", "9")
            .env("SKEIN_SMTP__SECURITY", "none"),
    )
    .await;
    let registered = register_app(&app, "read").await;
    let cases = [
        (
            "unconfirmed",
            "update users set confirmed_at = null where id = $1",
        ),
        ("disabled", "update users set disabled = true where id = $1"),
        ("pending", "update users set approved = false where id = $1"),
        (
            "suspended",
            "update actors set suspended_at = now() where id = (select actor_id from users where id = $1)",
        ),
    ];
    for (i, (name, sql)) in cases.into_iter().enumerate() {
        let user_id = user_with_email(&app, name).await;
        sqlx::query(sql)
            .bind(user_id)
            .execute(&app.db)
            .await
            .unwrap();
        let email = format!("{name}@example.com");
        let ip = format!("203.0.113.{}", i + 10);
        let (status, body) = grant(
            &app,
            &registered,
            Grant {
                username: &email,
                ip: &ip,
                ..Grant::default()
            },
        )
        .await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["error"], "invalid_grant", "{name}");
        assert_eq!(tokens_of(&app, user_id).await, 0, "{name}");
    }
}

#[tokio::test]
async fn wrong_passwords_lock_the_account_as_signing_in_does() {
    let app = TestApp::spawn().await;
    let alice = user_with_email(&app, "alice").await;
    let registered = register_app(&app, "read").await;
    // Ten wrong passwords, each from another address.
    for i in 1..=10 {
        let ip = format!("198.51.100.{i}");
        let (status, body) = grant(
            &app,
            &registered,
            Grant {
                password: "guess",
                ip: &ip,
                ..Grant::default()
            },
        )
        .await;
        assert_eq!(status, 400);
        assert_eq!(body["error"], "invalid_grant");
    }
    let (status, _) = grant(&app, &registered, Grant::default()).await;
    assert_eq!(status, 429, "the right password is refused for now");
    // The sign-in form counts the same failures.
    assert_eq!(Browser::new(&app).sign_in("alice").await.status, 429);
    assert_eq!(tokens_of(&app, alice).await, 0);
    app.clock.advance(chrono::Duration::minutes(15));
    let (status, _) = grant(&app, &registered, Grant::default()).await;
    assert_eq!(status, 200);
    assert_eq!(tokens_of(&app, alice).await, 1);
}

#[tokio::test]
async fn an_account_with_two_factor_authentication_is_refused() {
    let app = TestApp::spawn().await;
    let alice = user_with_email(&app, "alice").await;
    let registered = register_app(&app, "read").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    crate::two_factor::enable(&mut browser, &app).await;

    let (status, body) = grant(&app, &registered, Grant::default()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("two-factor")
    );
    assert_eq!(tokens_of(&app, alice).await, 0);
}
