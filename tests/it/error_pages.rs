//! Error pages and the site's icons: a browser that meets an unknown path
//! or a failed page gets a page in the site's frame, with its own header
//! when signed in; apps and servers keep Mastodon's JSON errors. The
//! favicon and the web app manifest are served and linked from pages.

use serde_json::Value;

use crate::harness::{Options, TestApp};
use crate::web::{Browser, Page};

/// What Chromium sends when it opens a page.
const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async fn open(browser: &mut Browser<'_>, app: &TestApp, path: &str) -> Page {
    browser
        .send(app.client.get(app.url(path)).header("accept", BROWSER))
        .await
}

fn content_type(page: &Page) -> &str {
    page.headers
        .get("content-type")
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// The page is an error page in the site's frame, with its title.
fn assert_framed(page: &Page, status: u16, title: &str) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(
        content_type(page).starts_with("text/html"),
        "{}",
        content_type(page)
    );
    assert!(
        page.body.contains("<header class=\"top\">"),
        "no site header: {}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("<h1 id=\"error-title\">{title}</h1>")),
        "{}",
        page.body
    );
    assert!(page.body.contains("<link rel=\"manifest\""));
    assert!(
        page.body
            .contains("<meta name=\"robots\" content=\"noindex\">")
    );
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

/// The header shows alice signed in, and the page sends her home.
fn assert_signed_in_as_alice(page: &Page) {
    assert!(page.body.contains("href=\"/@alice\""), "{}", page.body);
    assert!(page.body.contains("action=\"/auth/sign_out\""));
    assert!(
        page.body
            .contains("href=\"/home\">Go to your home timeline")
    );
    assert!(!page.body.contains(">Sign in</a></li>"));
}

#[tokio::test]
async fn a_browser_gets_error_pages_in_the_site_frame_with_its_header() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let post = skein::service::posts::create(
        &app.state,
        &alice.actor,
        crate::harness::draft("Soon gone", skein::domain::visibility::Visibility::Public),
    )
    .await
    .unwrap();
    skein::service::posts::delete(&app.state, &alice.actor, &post)
        .await
        .unwrap();

    // Signed out: the frame offers to sign in, and leads to the front page.
    let mut stranger = Browser::new(&app);
    let page = open(&mut stranger, &app, "/no/such/page").await;
    assert_framed(&page, 404, "Not found");
    assert!(page.body.contains("href=\"/\">Go to the front page"));
    assert!(
        page.body
            .contains("href=\"/auth/sign_in?next=/no/such/page\">Sign in</a> to see"),
        "{}",
        page.body
    );
    assert_eq!(page.headers["vary"], "Accept");

    // Signed in: the same frame as every page, with alice's header.
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let unknown = [
        // No route at all.
        "/no/such/page",
        // A trailing slash goes before routing.
        "/no/such/page/",
        // A profile and a post that do not exist (the web pages' own errors).
        "/@nobody",
        "/@alice/12345",
        // An actor URL opened in a browser (a JSON error of ActivityPub's).
        "/users/nobody",
    ];
    for path in unknown {
        let page = open(&mut browser, &app, path).await;
        assert_framed(&page, 404, "Not found");
        assert_signed_in_as_alice(&page);
        assert!(!page.body.contains("Sign in</a> to see"), "{path}");
    }

    let gone = open(&mut browser, &app, &format!("/@alice/{}", post.id)).await;
    assert_framed(&gone, 410, "Gone");
    assert_signed_in_as_alice(&gone);
    assert!(gone.body.contains("This was deleted."));

    let forbidden = open(&mut browser, &app, "/admin").await;
    assert_framed(&forbidden, 403, "Not allowed");
    assert_signed_in_as_alice(&forbidden);

    // An address that only takes forms.
    let method = open(&mut browser, &app, "/auth/sign_out").await;
    assert_framed(&method, 405, "Not found");
    assert_eq!(method.headers["allow"], "POST");
    assert_signed_in_as_alice(&method);

    // The page was not only drawn: alice is still signed in after it.
    let home = browser.get("/home").await;
    assert_eq!(home.status, 200);
}

#[tokio::test]
async fn apps_and_servers_keep_json_errors() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let json_404 = |status: u16, headers: &reqwest::header::HeaderMap, body: &str| {
        assert_eq!(status, 404, "{body}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{headers:?}"
        );
        let error: Value = serde_json::from_str(body).unwrap();
        assert_eq!(error["error"], "Record not found");
    };

    let cases: [(&str, Option<&str>); 6] = [
        ("/no/such/page", Some("application/json")),
        ("/no/such/page", None),
        ("/no/such/page", Some("*/*")),
        // The client API answers JSON whoever asks.
        ("/api/v1/no_such_method", Some(BROWSER)),
        ("/api/v1/statuses/12345", Some(BROWSER)),
        ("/users/nobody", Some("application/activity+json")),
    ];
    for (path, accept) in cases {
        let mut request = app.client.get(app.url(path));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap();
        json_404(status, &headers, &body);
    }

    // A signed-in browser's session changes nothing for the API.
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let page = open(&mut browser, &app, "/api/v1/statuses/12345").await;
    json_404(page.status, &page.headers, &page.body);
}

#[tokio::test]
async fn the_favicon_and_the_web_app_manifest_are_served_and_linked_from_pages() {
    let app = TestApp::spawn_with(
        Options::named("alpha")
            .env("SKEIN_INSTANCE__NAME", "Knitters of the North")
            .env("SKEIN_INSTANCE__DESCRIPTION", "Yarn, needles, patterns"),
    )
    .await;

    let fetch = |path: &'static str| {
        let request = app.client.get(app.url(path));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{path}");
            let content_type = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            (content_type, response.bytes().await.unwrap())
        }
    };

    let (kind, ico) = fetch("/favicon.ico").await;
    assert_eq!(kind, "image/x-icon");
    assert_eq!(&ico[..4], &[0, 0, 1, 0], "an ICO file");
    let (kind, svg) = fetch("/static/favicon.svg").await;
    assert_eq!(kind, "image/svg+xml");
    assert!(String::from_utf8_lossy(&svg).starts_with("<svg"));

    let (kind, manifest) = fetch("/manifest.webmanifest").await;
    assert_eq!(kind, "application/manifest+json");
    let manifest: Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(manifest["name"], "Knitters of the North");
    assert_eq!(manifest["short_name"], "Knitters");
    assert_eq!(manifest["description"], "Yarn, needles, patterns");
    assert_eq!(manifest["start_url"], "/home");
    assert_eq!(manifest["display"], "standalone");
    // The stylesheet's light background.
    assert_eq!(manifest["theme_color"], "#ffffff");
    assert_eq!(manifest["background_color"], "#ffffff");
    let css = fetch("/static/skein.css").await.1;
    assert!(String::from_utf8_lossy(&css).contains("--bg: #fff;"));
    let icons = manifest["icons"].as_array().unwrap();
    assert!(icons.iter().any(|i| i["sizes"] == "512x512"));
    assert!(icons.iter().any(|i| i["sizes"] == "192x192"));
    for icon in icons {
        let src = icon["src"].as_str().unwrap();
        let response = app.get(src).await;
        assert_eq!(response.status(), 200, "{src}");
        assert_eq!(
            response.headers()["content-type"],
            icon["type"].as_str().unwrap(),
            "{src}"
        );
        let body = response.bytes().await.unwrap();
        if icon["type"] == "image/png" {
            assert_eq!(&body[1..4], b"PNG", "{src}");
        }
    }

    // Every page links them, the OAuth pages included, and lets the
    // manifest load.
    let mut browser = Browser::new(&app);
    for path in ["/", "/auth/sign_in", "/no/such/page"] {
        let page = open(&mut browser, &app, path).await;
        for link in [
            "<link rel=\"manifest\" href=\"/manifest.webmanifest\">",
            "<link rel=\"icon\" href=\"/favicon.ico\" sizes=\"32x32\">",
            "<link rel=\"icon\" href=\"/static/favicon.",
        ] {
            assert!(page.body.contains(link), "{path}: {link}");
        }
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("manifest-src 'self'"), "{path}: {csp}");
    }
    let oauth = app
        .get("/oauth/authorize?response_type=code&client_id=nobody&redirect_uri=urn:ietf:wg:oauth:2.0:oob")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        oauth.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"),
        "{oauth}"
    );
}
