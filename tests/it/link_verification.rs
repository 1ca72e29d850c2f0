//! Profile link verification (rel="me") between real instances and a real
//! web server on loopback: a field is marked verified only when its page
//! links back to the account exactly, keeps the mark while unchanged, and
//! is checked again when it changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::harness::{Options, TestApp};

/// Someone's own web site: HTML pages at paths, changeable by the test.
struct Site {
    base: String,
    pages: Arc<Mutex<HashMap<String, String>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Site {
    async fn spawn(name: &str) -> Site {
        let pages: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        async fn page(
            State(pages): State<Arc<Mutex<HashMap<String, String>>>>,
            Path(path): Path<String>,
        ) -> axum::response::Response {
            match pages.lock().unwrap().get(&path) {
                Some(html) => (
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    html.clone(),
                )
                    .into_response(),
                None => axum::http::StatusCode::NOT_FOUND.into_response(),
            }
        }
        let router = Router::new()
            .route("/{*path}", get(page))
            .with_state(pages.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Site {
            base: format!("http://{name}.test:{port}"),
            pages,
            _task: task,
        }
    }

    fn put(&self, path: &str, html: &str) -> String {
        self.pages
            .lock()
            .unwrap()
            .insert(path.trim_start_matches('/').to_string(), html.to_string());
        format!("{}{path}", self.base)
    }
}

async fn update_fields(app: &TestApp, token: &str, fields: &[(&str, &str)]) -> Value {
    let mut form = Vec::new();
    for (i, (name, value)) in fields.iter().enumerate() {
        form.push((format!("fields_attributes[{i}][name]"), name.to_string()));
        form.push((format!("fields_attributes[{i}][value]"), value.to_string()));
    }
    let response = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(token)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn stored_fields(app: &TestApp, username: &str) -> Vec<Value> {
    let fields: Value =
        sqlx::query_scalar("select fields from actors where username = $1 and domain is null")
            .bind(username)
            .fetch_one(&app.db)
            .await
            .unwrap();
    fields.as_array().unwrap().clone()
}

#[tokio::test]
async fn a_profile_link_is_verified_only_by_an_exact_rel_me_link_back() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let site = Site::spawn("alice-site").await;
    let profile = app.url("/@alice");
    let good = site.put(
        "/about",
        &format!(r#"<html><body><a rel="me" href="{profile}">Me elsewhere</a></body></html>"#),
    );
    let slash = site.put(
        "/slash",
        &format!(r#"<a rel="me" href="{profile}/">trailing slash</a>"#),
    );
    let no_rel = site.put("/plain", &format!(r#"<a href="{profile}">no rel</a>"#));
    let text = site.put("/text", &format!("<p>I am {profile}</p>"));

    update_fields(
        &app,
        &token,
        &[
            ("Site", &good),
            ("Slash", &slash),
            ("Plain", &no_rel),
            ("Text", &text),
        ],
    )
    .await;
    app.settle().await;

    let fields = stored_fields(&app, "alice").await;
    assert!(fields[0]["verified_at"].is_string(), "{fields:?}");
    for near_miss in &fields[1..] {
        assert!(near_miss.get("verified_at").is_none(), "{near_miss}");
    }
    let (_, me) = app
        .api_get(&token, "/api/v1/accounts/verify_credentials")
        .await;
    assert!(me["fields"][0]["verified_at"].is_string());
    assert!(me["fields"][1]["verified_at"].is_null());
    let page = app.get("/@alice").await.text().await.unwrap();
    assert_eq!(page.matches("verified-mark").count(), 1, "one mark");
    assert!(page.contains(&format!(
        "<span class=\"host\">alice-site.test:{}</span>",
        site.base.rsplit(':').next().unwrap()
    )));

    // Unchanged, the mark stays (no new check needed); changed, it goes and
    // the new link is checked: this page does not link back.
    let first_mark = fields[0]["verified_at"].clone();
    update_fields(&app, &token, &[("Site", &good), ("Other", &text)]).await;
    app.settle().await;
    let fields = stored_fields(&app, "alice").await;
    let time =
        |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time")).unwrap();
    assert_eq!(time(&fields[0]["verified_at"]), time(&first_mark));
    update_fields(&app, &token, &[("Site", &no_rel)]).await;
    app.settle().await;
    let fields = stored_fields(&app, "alice").await;
    assert!(fields[0].get("verified_at").is_none(), "{fields:?}");

    // The page is fixed; the next profile change checks again.
    site.put(
        "/plain",
        &format!(r#"<link rel="me" href="{}">"#, app.url("/users/alice")),
    );
    update_fields(&app, &token, &[("Site", &no_rel), ("Bio", "words")]).await;
    app.settle().await;
    let fields = stored_fields(&app, "alice").await;
    assert!(
        fields[0]["verified_at"].is_string(),
        "the actor id counts too"
    );
}

#[tokio::test]
async fn remote_profiles_are_verified_by_the_instance_that_shows_them() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    beta.create_user("bob").await;
    let bob_token = beta.token("bob").await;
    let site = Site::spawn("bob-site").await;
    let page = site.put(
        "/home",
        &format!(r#"<a rel="me" href="{}">fediverse</a>"#, beta.url("/@bob")),
    );
    let elsewhere = site.put("/nothing", "<p>nothing here</p>");
    update_fields(&beta, &bob_token, &[("Home", &page), ("Other", &elsewhere)]).await;
    beta.settle().await;

    // Alpha sees bob's profile with Mastodon's PropertyValues (no marks in
    // ActivityPub) and checks the links itself.
    let bob = alpha.resolve(&beta.url("/users/bob")).await;
    alpha.settle().await;
    let fields: Value = sqlx::query_scalar("select fields from actors where id = $1")
        .bind(bob.id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert!(fields[0]["verified_at"].is_string(), "{fields}");
    assert!(fields[1].get("verified_at").is_none(), "{fields}");
    let shown = alpha
        .get(&format!("/@bob@{}", beta.domain))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(shown.matches("verified-mark").count(), 1);

    // Fetched again unchanged, the mark stays.
    let again = alpha.resolve(&beta.url("/users/bob")).await;
    assert!(again.fields.0[0].verified_at.is_some());
}
