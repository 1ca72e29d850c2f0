//! Rate limits hold across the processes of one instance: two processes on
//! one database, requests alternating between them, count as one.

use reqwest::StatusCode;

use crate::harness::TestApp;

/// The password `create_user` gives.
const PASSWORD: &str = "correct horse battery";

/// A request to this very process (a process made by `spawn_beside` shares
/// the first one's host name, so its own `client` reaches the first).
fn here(app: &TestApp, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .request(method, format!("http://{}{path}", app.addr))
        .header(reqwest::header::HOST, &app.domain)
}

async fn window(app: &TestApp, name: &str) -> Option<(String, i32)> {
    sqlx::query_as("select key, hits from rate_limit_windows where name = $1")
        .bind(name)
        .fetch_optional(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_api_limit_counts_the_calls_made_to_every_process() {
    let first = TestApp::spawn().await;
    let second = first.spawn_beside().await;
    first.create_user("alice").await;
    let token = first.token("alice").await;
    let path = "/api/v1/accounts/verify_credentials";
    for n in 1..=300u32 {
        let app = if n % 2 == 0 { &second } else { &first };
        let response = here(app, reqwest::Method::GET, path)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "call {n}");
        let remaining = response.headers()["x-ratelimit-remaining"]
            .to_str()
            .unwrap()
            .to_string();
        assert_eq!(remaining, (300 - n).to_string(), "call {n}");
    }
    for app in [&first, &second] {
        let response = here(app, reqwest::Method::GET, path)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()["x-ratelimit-remaining"], "0");
    }
    let (_, hits) = window(&first, "api").await.expect("one window");
    assert_eq!(hits, 301, "refused calls are counted once past the limit");

    // The window ends on the instance's clock, whichever process sees it.
    second.clock.advance(chrono::Duration::minutes(5));
    let response = here(&second, reqwest::Method::GET, path)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-ratelimit-remaining"], "299");
    assert_eq!(window(&first, "api").await.unwrap().1, 1);
}

/// A sign-in through the web form of `app`, as a browser that just loaded
/// it (the form's token is the cookie's).
async fn sign_in(app: &TestApp, login: &str, password: &str) -> StatusCode {
    here(app, reqwest::Method::POST, "/auth/sign_in")
        .header(reqwest::header::COOKIE, "skein_csrf=abcdefghijklmnop")
        .form(&[
            ("csrf_token", "abcdefghijklmnop"),
            ("login", login),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn wrong_passwords_sent_to_two_processes_count_against_one_account() {
    let first = TestApp::spawn().await;
    let second = first.spawn_beside().await;
    first.create_user("alice").await;
    // Ten wrong guesses, five to each process.
    for n in 0..10 {
        let app = if n % 2 == 0 { &first } else { &second };
        assert_eq!(
            sign_in(app, "alice", "wrong password").await,
            StatusCode::UNAUTHORIZED,
            "guess {n}"
        );
    }
    // The account's limit is spent everywhere: even the right password is
    // refused, on either process, and no session opens.
    for app in [&first, &second] {
        assert_eq!(
            sign_in(app, "alice", PASSWORD).await,
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    let sessions: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&first.db)
        .await
        .unwrap();
    assert_eq!(sessions, 0);

    // After 15 minutes the right password opens a session and clears the
    // count for both processes.
    first.clock.advance(chrono::Duration::minutes(15));
    second.clock.advance(chrono::Duration::minutes(15));
    assert_eq!(
        sign_in(&second, "alice", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let windows: i64 = sqlx::query_scalar(
        "select count(*) from rate_limit_windows where name = 'sign_in_account'",
    )
    .fetch_one(&first.db)
    .await
    .unwrap();
    assert_eq!(windows, 0, "the right password clears the account's count");
}

#[tokio::test]
async fn ended_windows_are_pruned() {
    let app = TestApp::spawn().await;
    let limit = skein::ratelimit::SIGN_UP;
    assert!(
        app.state
            .limits
            .hit(limit, "192.0.2.1")
            .await
            .unwrap()
            .allowed
    );
    assert_eq!(app.state.limits.prune().await.unwrap(), 0, "still running");
    app.clock.advance(limit.window);
    assert_eq!(app.state.limits.prune().await.unwrap(), 1);
    assert_eq!(window(&app, "sign_up").await, None);
}
