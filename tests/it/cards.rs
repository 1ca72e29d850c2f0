//! Link previews (preview cards) between real instances and a real web
//! site on loopback: the first link of a public or unlisted post, local or
//! remote, gets a card from the page's OpenGraph, Twitter or oEmbed data,
//! made in the background (`service::cards::run_due`, what the workers
//! run), with its picture re-encoded and served here; shown in the API's
//! `card` and on the web inside the content warning; removed by its
//! author; never for followers-only posts or excluded domains; pages too
//! slow, too large or at refused addresses give none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use reqwest::multipart;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};
use crate::web::{Browser, csrf};

/// What the site answers at a path.
#[derive(Clone)]
enum Answer {
    File {
        content_type: String,
        body: Vec<u8>,
        delay: Duration,
    },
    Redirect(String),
}

#[derive(Default)]
struct SiteState {
    answers: HashMap<String, Answer>,
    hits: HashMap<String, usize>,
}

/// A web site: pages and pictures at paths, hits counted.
pub(crate) struct Site {
    base: String,
    port: u16,
    state: Arc<Mutex<SiteState>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Site {
    pub(crate) async fn spawn(name: &str) -> Site {
        let state: Arc<Mutex<SiteState>> = Arc::default();
        async fn answer(
            State(state): State<Arc<Mutex<SiteState>>>,
            Path(path): Path<String>,
        ) -> axum::response::Response {
            let path = format!("/{path}");
            let answer = {
                let mut state = state.lock().unwrap();
                *state.hits.entry(path.clone()).or_default() += 1;
                state.answers.get(&path).cloned()
            };
            match answer {
                Some(Answer::File {
                    content_type,
                    body,
                    delay,
                }) => {
                    tokio::time::sleep(delay).await;
                    ([(header::CONTENT_TYPE, content_type)], body).into_response()
                }
                Some(Answer::Redirect(to)) => {
                    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
                }
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        let router = Router::new()
            .route("/{*path}", get(answer))
            .with_state(state.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Site {
            base: format!("http://{name}.test:{port}"),
            port,
            state,
            _task: task,
        }
    }

    fn put_slow(&self, path: &str, content_type: &str, body: Vec<u8>, delay: Duration) -> String {
        self.state.lock().unwrap().answers.insert(
            path.to_string(),
            Answer::File {
                content_type: content_type.to_string(),
                body,
                delay,
            },
        );
        format!("{}{path}", self.base)
    }

    pub(crate) fn put(&self, path: &str, content_type: &str, body: Vec<u8>) -> String {
        self.put_slow(path, content_type, body, Duration::ZERO)
    }

    pub(crate) fn page(&self, path: &str, html: &str) -> String {
        self.put(path, "text/html; charset=utf-8", html.as_bytes().to_vec())
    }

    fn redirect(&self, path: &str, to: &str) -> String {
        self.state
            .lock()
            .unwrap()
            .answers
            .insert(path.to_string(), Answer::Redirect(to.to_string()));
        format!("{}{path}", self.base)
    }

    fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

/// A picture of `width`x`height`, as PNG.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(width, height, image::Rgb([20, 120, 200]))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

pub(crate) fn opengraph(title: &str, image: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><title>Element title</title>
        <meta property="og:title" content="{title}">
        <meta property="og:description" content="What the story says">
        <meta property="og:image" content="{image}">
        <meta property="og:image:alt" content="A blue square">
        <meta property="og:site_name" content="The Site">
        </head><body><p>Story</p></body></html>"#
    )
}

async fn post(app: &TestApp, token: &str, body: Value) -> String {
    let (status, posted) = app.api_post(token, "/api/v1/statuses", body).await;
    assert_eq!(status, 200, "{posted}");
    posted["id"].as_str().unwrap().to_string()
}

async fn status(app: &TestApp, token: &str, id: &str) -> Value {
    let (code, status) = app.api_get(token, &format!("/api/v1/statuses/{id}")).await;
    assert_eq!(code, 200, "{status}");
    status
}

/// Makes the cards due, as a worker does.
async fn previews(app: &TestApp) -> usize {
    skein::service::cards::run_due(&app.state)
        .await
        .expect("link previews run")
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn an_opengraph_page_gives_a_card_with_its_picture_served_here_shared_by_url() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let site = Site::spawn("news").await;
    let picture = site.put("/lead.png", "image/png", png(1200, 600));
    let story = site.page("/story", &opengraph("A &amp; B", "/lead.png"));

    let id = post(
        &app,
        &token,
        json!({"status": format!("Read this {story}")}),
    )
    .await;
    // Posting does not wait for the page: no card yet, the post is queued.
    assert!(status(&app, &token, &id).await["card"].is_null());
    assert_eq!(site.hits("/story"), 0);
    assert_eq!(
        count(&app, "select count(*) from preview_card_fetches").await,
        1
    );

    assert_eq!(previews(&app).await, 1);
    let card = status(&app, &token, &id).await["card"].clone();
    assert_eq!(card["url"], story.as_str());
    assert_eq!(card["title"], "A & B");
    assert_eq!(card["description"], "What the story says");
    assert_eq!(card["type"], "link");
    assert_eq!(card["provider_name"], "The Site");
    assert_eq!(card["image_description"], "A blue square");
    assert_eq!(card["language"], "en");
    assert_eq!(card["html"], "");
    assert!(card["blurhash"].is_string(), "{card}");
    assert_eq!(card["authors"], json!([]));
    // Re-encoded at no more than 640x360 worth, the aspect kept.
    let (w, h) = (
        card["width"].as_i64().unwrap(),
        card["height"].as_i64().unwrap(),
    );
    assert!(w * h <= 640 * 360 && (w - 2 * h).abs() <= 1, "{w}x{h}");
    let image = card["image"].as_str().unwrap();
    assert!(image.starts_with(&app.url("/media/")), "{image}");
    assert_ne!(image, picture);
    let served = app.client.get(image).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(site.hits("/lead.png"), 1);
    assert_eq!(
        count(&app, "select count(*) from preview_card_fetches").await,
        0
    );

    // Another post linking the page shares the card: no second fetch.
    let again = post(&app, &token, json!({"status": format!("Also {story}")})).await;
    previews(&app).await;
    assert_eq!(status(&app, &token, &again).await["card"]["title"], "A & B");
    assert_eq!(site.hits("/story"), 1);
    assert_eq!(count(&app, "select count(*) from preview_cards").await, 1);

    // Two weeks later, the page is read again for a new post.
    site.page("/story", &opengraph("Updated", "/lead.png"));
    app.clock.advance(chrono::Duration::days(15));
    let later = post(&app, &token, json!({"status": format!("Still {story}")})).await;
    previews(&app).await;
    assert_eq!(site.hits("/story"), 2);
    assert_eq!(
        status(&app, &token, &later).await["card"]["title"],
        "Updated"
    );
    // One card per URL: the older posts show it as it is now.
    assert_eq!(status(&app, &token, &id).await["card"]["title"], "Updated");
    assert_eq!(count(&app, "select count(*) from preview_cards").await, 1);
}

#[tokio::test]
async fn twitter_tags_json_ld_and_oembed_make_cards_and_mentions_hashtags_and_local_links_do_not() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let token = app.token("alice").await;
    let site = Site::spawn("video").await;
    site.put("/thumb.png", "image/png", png(64, 36));
    let tweet = site.page(
        "/tweet",
        r#"<html><head><meta name="twitter:title" content="Tweet title">
        <meta name="twitter:description" content="Tweet text">
        <meta name="twitter:image" content="/thumb.png"></head></html>"#,
    );
    let oembed = format!("{}/oembed.json", site.base);
    site.put(
        "/oembed.json",
        "application/json",
        json!({
            "type": "video", "version": "1.0", "title": "A clip",
            "author_name": "Vid Maker", "author_url": "/makers/vid",
            "provider_name": "VideoSite", "provider_url": "/",
            "thumbnail_url": "/thumb.png", "width": 640, "height": 360,
            "html": "<iframe src=\"https://evil.example/\"></iframe>"
        })
        .to_string()
        .into_bytes(),
    );
    let clip = site.page(
        "/clip",
        &format!(
            r#"<html><head><title>Clip page</title>
            <meta name="description" content="About the clip">
            <link rel="alternate" type="application/json+oembed" href="{oembed}">
            </head></html>"#
        ),
    );
    let article = site.page(
        "/article",
        r#"<html><head><script type="application/ld+json">
        {"@type":"NewsArticle","headline":"LD headline","author":{"name":"Ann","url":"/ann"},
         "datePublished":"2026-11-30T10:00:00Z"}</script><title>Other</title></head></html>"#,
    );

    // Mentions, hashtags and links to this instance come first: skipped.
    let own = app.url("/@bob");
    let first = post(
        &app,
        &token,
        json!({"status": format!("@bob #news {own} then {tweet} and {clip}")}),
    )
    .await;
    let second = post(&app, &token, json!({"status": format!("watch {clip}")})).await;
    let third = post(&app, &token, json!({"status": format!("read {article}")})).await;
    previews(&app).await;

    let card = status(&app, &token, &first).await["card"].clone();
    assert_eq!(card["url"], tweet.as_str());
    assert_eq!(card["title"], "Tweet title");
    assert_eq!(card["description"], "Tweet text");
    assert!(card["image"].is_string());

    let card = status(&app, &token, &second).await["card"].clone();
    assert_eq!(card["type"], "video");
    assert_eq!(card["title"], "A clip");
    assert_eq!(card["description"], "About the clip");
    assert_eq!(card["author_name"], "Vid Maker");
    assert_eq!(card["author_url"], format!("{}/makers/vid", site.base));
    assert_eq!(card["provider_name"], "VideoSite");
    assert_eq!(
        (card["width"].as_i64(), card["height"].as_i64()),
        (Some(640), Some(360))
    );
    // No third-party HTML is passed on.
    assert_eq!(card["html"], "");
    assert_eq!(card["authors"][0]["name"], "Vid Maker");
    assert!(
        card["image"]
            .as_str()
            .unwrap()
            .starts_with(&app.url("/media/"))
    );

    let card = status(&app, &token, &third).await["card"].clone();
    assert_eq!(card["title"], "LD headline");
    assert_eq!(card["author_name"], "Ann");
    assert_eq!(card["author_url"], format!("{}/ann", site.base));
    assert_eq!(card["published_at"], "2026-11-30T10:00:00.000Z");

    // A post whose only links are a mention and a local page is not queued.
    post(&app, &token, json!({"status": format!("@bob see {own}")})).await;
    assert_eq!(
        count(&app, "select count(*) from preview_card_fetches").await,
        0
    );
}

#[tokio::test]
async fn large_slow_redirected_and_non_html_pages_are_held_to_the_caps() {
    let app = TestApp::spawn_with(
        Options::named("alpha").env("SKEIN_LINK_PREVIEWS__TIMEOUT_SECONDS", "1"),
    )
    .await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let site = Site::spawn("pages").await;

    // A 3 MiB page: only the first MiB is read, its head included.
    let mut big =
        String::from(r#"<html><head><meta property="og:title" content="Big page"></head><body>"#);
    big.push_str(&"<p>filler</p>".repeat(130_000));
    big.push_str(r#"<meta property="og:description" content="past the cap">"#);
    big.push_str(&"<p>filler</p>".repeat(130_000));
    assert!(big.len() > 3 * 1024 * 1024);
    let big = site.page("/big", &big);
    // A page slower than link_previews.timeout_seconds.
    let slow = site.put_slow(
        "/slow",
        "text/html",
        opengraph("Slow", "/x.png").into_bytes(),
        Duration::from_secs(4),
    );
    // A redirect to a scheme that is never fetched, and one to a page.
    let ftp = site.redirect("/to-ftp", "ftp://pages.test/secret");
    let target = site.page("/target", &opengraph("Target", "/none.png"));
    let hop = site.redirect("/hop", &target);
    // Not HTML.
    let json_doc = site.put(
        "/doc.json",
        "application/json",
        b"{\"title\":\"x\"}".to_vec(),
    );
    // A picture larger than link_previews.max_image_bytes is not fetched whole.
    site.put("/huge.png", "image/png", vec![0x89; 9 * 1024 * 1024]);
    let huge_picture = site.page("/huge-picture", &opengraph("Huge picture", "/huge.png"));

    let ids = [
        post(&app, &token, json!({"status": format!("big {big}")})).await,
        post(&app, &token, json!({"status": format!("slow {slow}")})).await,
        post(&app, &token, json!({"status": format!("ftp {ftp}")})).await,
        post(&app, &token, json!({"status": format!("hop {hop}")})).await,
        post(&app, &token, json!({"status": format!("json {json_doc}")})).await,
        post(
            &app,
            &token,
            json!({"status": format!("huge {huge_picture}")}),
        )
        .await,
    ];
    let started = std::time::Instant::now();
    previews(&app).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the slow page was given up after a second: {:?}",
        started.elapsed()
    );
    let cards: Vec<Value> = futures::future::join_all(
        ids.iter()
            .map(|id| async { status(&app, &token, id).await["card"].clone() }),
    )
    .await;
    assert_eq!(cards[0]["title"], "Big page");
    assert_eq!(cards[0]["description"], "", "read no further than the cap");
    assert!(cards[1].is_null(), "{}", cards[1]);
    assert!(cards[2].is_null(), "{}", cards[2]);
    assert_eq!(site.hits("/to-ftp"), 1);
    // The card keeps the link of the post; its content is the target's.
    assert_eq!(cards[3]["title"], "Target");
    assert_eq!(cards[3]["url"], hop.as_str());
    assert!(cards[3]["image"].is_null(), "no picture at /none.png");
    assert!(cards[4].is_null(), "{}", cards[4]);
    assert_eq!(cards[5]["title"], "Huge picture");
    assert!(cards[5]["image"].is_null());
    // Every post left the queue, card or not.
    assert_eq!(
        count(&app, "select count(*) from preview_card_fetches").await,
        0
    );
}

#[tokio::test]
async fn pages_at_loopback_addresses_are_refused_outside_the_test_network_mode() {
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_TEST_NETWORK__ENABLED", "false")
            .env("SKEIN_SCHEME", "https"),
    )
    .await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let site = Site::spawn("inside").await;
    site.page("/admin", &opengraph("Internal", "/x.png"));
    // localhost resolves to 127.0.0.1: refused by the resolver, as any
    // private address is on every hop of a redirect.
    for url in [
        format!("https://localhost:{}/admin", site.port),
        format!("https://127.0.0.1:{}/admin", site.port),
        format!("http://localhost:{}/admin", site.port),
    ] {
        let id = post(&app, &token, json!({"status": format!("see {url}")})).await;
        previews(&app).await;
        assert!(status(&app, &token, &id).await["card"].is_null(), "{url}");
    }
    assert_eq!(site.hits("/admin"), 0, "no request left for loopback");
    assert_eq!(count(&app, "select count(*) from preview_cards").await, 0);
}

#[tokio::test]
async fn followers_only_and_direct_posts_get_no_card_and_public_and_unlisted_ones_do() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let site = Site::spawn("news").await;
    let story = site.page("/story", &opengraph("Story", "/none.png"));
    let mut ids = Vec::new();
    for visibility in ["public", "unlisted", "private", "direct"] {
        ids.push(
            post(
                &app,
                &token,
                json!({"status": format!("{story}"), "visibility": visibility}),
            )
            .await,
        );
    }
    assert_eq!(
        count(&app, "select count(*) from preview_card_fetches").await,
        2
    );
    previews(&app).await;
    assert_eq!(
        status(&app, &token, &ids[0]).await["card"]["title"],
        "Story"
    );
    assert_eq!(
        status(&app, &token, &ids[1]).await["card"]["title"],
        "Story"
    );
    assert!(status(&app, &token, &ids[2]).await["card"].is_null());
    assert!(status(&app, &token, &ids[3]).await["card"].is_null());
    assert_eq!(site.hits("/story"), 1);
}

#[tokio::test]
async fn a_remote_posts_first_link_gets_a_card_and_its_edit_changes_it() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let token = app.token("alice").await;
    let fake = FakeServer::spawn("remote").await;
    let bob = fake.add_actor("bob", false);
    app.follow_fake(&fake, &alice.actor, &bob).await;
    let site = Site::spawn("news").await;
    let story = site.page("/story", &opengraph("Remote story", "/none.png"));
    let other = site.page("/other", &opengraph("Other story", "/none.png"));
    let note_id = fake.note_url("linked");
    let note = |content: String, updated: Option<&str>| {
        let mut note = json!({
            "id": note_id,
            "type": "Note",
            "attributedTo": bob.id,
            "content": content,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "published": "2026-11-30T12:00:00Z",
            "tag": [{"type": "Mention", "href": alice.actor.ap_id, "name": "@alice"}],
        });
        if let Some(updated) = updated {
            note["updated"] = json!(updated);
        }
        note
    };
    // A mention's link and a hashtag come first, as Mastodon writes them.
    let content = format!(
        r#"<p><span class="h-card"><a href="{}" class="u-url mention">@<span>alice</span></a></span> <a href="https://remote.example/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a> <a href="{story}" rel="nofollow noopener" target="_blank">{story}</a></p>"#,
        alice.actor.ap_id
    );
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/create-linked", fake.base),
        "type": "Create",
        "actor": bob.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": note(content, None),
    });
    assert_eq!(app.post_signed(&fake, &bob, "/inbox", create).await, 202);
    let stored = app.post(&note_id).await;
    previews(&app).await;
    let card = status(&app, &token, &stored.id.to_string()).await["card"].clone();
    assert_eq!(card["title"], "Remote story");
    assert_eq!(card["url"], story.as_str());

    // An edit that links elsewhere changes the card.
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/update-linked", fake.base),
        "type": "Update",
        "actor": bob.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": note(format!(r#"<p>now <a href="{other}">{other}</a></p>"#), Some("2026-11-30T13:00:00Z")),
    });
    assert_eq!(app.post_signed(&fake, &bob, "/inbox", update).await, 202);
    previews(&app).await;
    let card = status(&app, &token, &stored.id.to_string()).await["card"].clone();
    assert_eq!(card["title"], "Other story");
}

#[tokio::test]
async fn an_author_removes_a_preview_from_the_post_menu_and_it_stays_removed_across_edits() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let token = app.token("alice").await;
    let site = Site::spawn("news").await;
    let story = site.page("/story", &opengraph("Story", "/none.png"));
    let other = site.page("/other", &opengraph("Other", "/none.png"));
    let id = post(&app, &token, json!({"status": format!("read {story}")})).await;
    previews(&app).await;
    assert_eq!(status(&app, &token, &id).await["card"]["title"], "Story");

    // Bob sees the card but has no button to remove it, nor may he.
    let mut bob = Browser::new(&app);
    bob.sign_in("bob").await;
    let page = bob.get(&format!("/@alice/{id}")).await;
    assert!(page.body.contains("class=\"link-card"), "{}", page.body);
    assert!(!page.body.contains("remove_preview"));
    let refused = bob
        .post(
            &format!("/web/statuses/{id}/remove_preview"),
            &[("csrf_token", &csrf(&page.body))],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(status(&app, &token, &id).await["card"]["title"], "Story");

    let mut alice = Browser::new(&app);
    alice.sign_in("alice").await;
    let page = alice.get(&format!("/@alice/{id}")).await;
    assert!(
        page.body
            .contains(&format!("/web/statuses/{id}/remove_preview"))
    );
    let removed = alice
        .post(
            &format!("/web/statuses/{id}/remove_preview"),
            &[("csrf_token", &csrf(&page.body)), ("back", "/home")],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert!(status(&app, &token, &id).await["card"].is_null());
    assert!(
        !alice
            .get(&format!("/@alice/{id}"))
            .await
            .body
            .contains("class=\"link-card")
    );

    // An edit through the API keeps the link: the removal sticks.
    let (code, _, _) = app
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/statuses/{id}"),
            Some(&token),
            Some(json!({"status": format!("read this {story}")})),
        )
        .await;
    assert_eq!(code, 200);
    previews(&app).await;
    assert!(status(&app, &token, &id).await["card"].is_null());

    // The edit form shows the box unticked; a new link gets its preview.
    let editor = alice.get(&format!("/compose?edit_id={id}")).await;
    assert!(
        editor.body.contains(r#"name="link_preview" value="1">"#),
        "unticked: {}",
        editor.body
    );
    let saved = alice
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", csrf(&editor.body))
                .text("edit_id", id.clone())
                .text("link_preview_offered", "1")
                .text("text", format!("now {other}")),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    previews(&app).await;
    // Unticked on save: the new link's preview is removed too.
    assert!(status(&app, &token, &id).await["card"].is_null());
    // Ticking the box brings it back.
    let editor = alice.get(&format!("/compose?edit_id={id}")).await;
    let saved = alice
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", csrf(&editor.body))
                .text("edit_id", id.clone())
                .text("link_preview_offered", "1")
                .text("link_preview", "1")
                .text("text", format!("now {other}")),
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    previews(&app).await;
    assert_eq!(status(&app, &token, &id).await["card"]["title"], "Other");
    assert_eq!(
        count(&app, "select count(*) from preview_card_removals").await,
        0
    );
}

#[tokio::test]
async fn an_admin_excludes_a_domain_and_its_cards_go() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let site = Site::spawn("excluded").await;
    let story = site.page("/story", &opengraph("Story", "/none.png"));
    let first = post(&app, &token, json!({"status": format!("{story}")})).await;
    previews(&app).await;
    assert_eq!(status(&app, &token, &first).await["card"]["title"], "Story");

    let mut root = Browser::new(&app);
    root.sign_in("root").await;
    let page = root.get("/admin/link_previews").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let refused = root
        .post(
            "/admin/link_previews",
            &[
                ("csrf_token", &csrf(&page.body)),
                ("domain", "not a domain"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    // The domain without its port covers every port, and subdomains.
    let added = root
        .post(
            "/admin/link_previews",
            &[
                ("csrf_token", &csrf(&page.body)),
                ("domain", "Excluded.TEST"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert!(
        root.get("/admin/link_previews")
            .await
            .body
            .contains("<code>excluded.test</code>")
    );
    assert_eq!(
        count(
            &app,
            "select count(*) from admin_actions where action = 'preview_card_domain.exclude'"
        )
        .await,
        1
    );
    // The card already shown goes; new posts get none and nothing is fetched.
    assert!(status(&app, &token, &first).await["card"].is_null());
    let second = post(&app, &token, json!({"status": format!("again {story}")})).await;
    previews(&app).await;
    assert!(status(&app, &token, &second).await["card"].is_null());
    assert_eq!(site.hits("/story"), 1);

    // Lifted: new posts get cards again.
    let page = root.get("/admin/link_previews").await;
    let lifted = root
        .post(
            "/admin/link_previews/include",
            &[
                ("csrf_token", &csrf(&page.body)),
                ("domain", "excluded.test"),
            ],
        )
        .await;
    assert_eq!(lifted.status, 303);
    let third = post(
        &app,
        &token,
        json!({"status": format!("once more {story}")}),
    )
    .await;
    previews(&app).await;
    assert_eq!(status(&app, &token, &third).await["card"]["title"], "Story");

    // Moderators may not change it.
    app.create_staff("mod", "moderator").await;
    let mut moderator = Browser::new(&app);
    moderator.sign_in("mod").await;
    assert_eq!(moderator.get("/admin/link_previews").await.status, 403);
}

#[tokio::test]
async fn the_web_shows_the_card_like_threads_and_hides_it_behind_the_content_warning() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let site = Site::spawn("news").await;
    site.put("/lead.png", "image/png", png(800, 400));
    let story = site.page("/story", &opengraph("Story <b>title</b>", "/lead.png"));
    let plain = post(&app, &token, json!({"status": format!("{story}")})).await;
    let warned = post(
        &app,
        &token,
        json!({"status": format!("{story}"), "spoiler_text": "spoilers"}),
    )
    .await;
    previews(&app).await;

    let page = app
        .get(&format!("/@alice/{plain}"))
        .await
        .text()
        .await
        .unwrap();
    let card = page
        .split("<a class=\"link-card")
        .nth(1)
        .expect("the card is shown")
        .split("</a>")
        .next()
        .unwrap();
    assert!(card.contains(&format!("href=\"{story}\"")), "{card}");
    assert!(card.contains("alt=\"A blue square\""), "{card}");
    let api = status(&app, &token, &plain).await["card"].clone();
    let size = format!("width=\"{}\" height=\"{}\"", api["width"], api["height"]);
    assert!(card.contains(&size), "{size} in {card}");
    assert!(card.contains("news.test"), "{card}");
    assert!(
        card.contains("Story &#60;b&#62;title&#60;/b&#62;"),
        "escaped: {card}"
    );

    let page = app
        .get(&format!("/@alice/{warned}"))
        .await
        .text()
        .await
        .unwrap();
    let details = page
        .split("<details class=\"cw\">")
        .nth(1)
        .expect("the warning is shown")
        .split("</details>")
        .next()
        .unwrap();
    assert!(
        details.contains("<a class=\"link-card"),
        "inside the warning: {page}"
    );
    // The API has the card too (apps hide it behind the warning themselves).
    assert_eq!(
        status(&app, &token, &warned).await["card"]["title"],
        "Story <b>title</b>"
    );
}

#[tokio::test]
async fn a_card_that_arrives_is_sent_to_streams_as_a_status_update() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let site = Site::spawn("news").await;
    let story = site.page("/story", &opengraph("Story", "/none.png"));
    let mut listener = sqlx::postgres::PgListener::connect_with(&app.db)
        .await
        .unwrap();
    listener.listen("skein_changes").await.unwrap();
    let id = post(&app, &token, json!({"status": format!("{story}")})).await;
    previews(&app).await;
    let mut kinds = Vec::new();
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(500), listener.recv()).await {
        kinds.push(n.payload().to_string());
    }
    assert!(
        kinds.contains(&format!(r#"{{"kind":"edited","post":{id}}}"#)),
        "{kinds:?}"
    );
}
