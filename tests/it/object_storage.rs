//! Media in an S3-compatible bucket (`storage.backend = "s3"`), against a
//! real S3 server (`s3s-fs`, see `s3`): uploads land in the bucket and not
//! on disk, `/media/NAME` redirects (presigned) or streams, avatars and
//! headers go there too, deleting a post removes its objects, the account
//! archive carries them, `skein media migrate-to-s3` moves a media
//! directory, and a bucket that is down fails uploads clearly with nothing
//! stored, until it is back.

use reqwest::multipart;
use serde_json::Value;
use skein::config::Config;

use crate::harness::{Options, TestApp};
use crate::s3::{S3Server, start_s3_server};
use crate::web::Browser;

async fn spawn_on_bucket(s3: &S3Server, serve: &str) -> TestApp {
    let mut options = Options::named("alpha");
    for (key, value) in s3.env(serve) {
        options = options.env(&key, &value);
    }
    TestApp::spawn_with(options).await
}

fn name_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

async fn upload(app: &TestApp, token: &str, bytes: Vec<u8>) -> (u16, Value) {
    let form = multipart::Form::new().part(
        "file",
        multipart::Part::bytes(bytes)
            .file_name("photo.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let response = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn upload_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from uploads")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

/// Files in the instance's media directory (none, with a bucket).
fn files_on_disk(app: &TestApp) -> usize {
    std::fs::read_dir(app.config.media_dir()).map_or(0, |d| d.count())
}

/// A client that follows redirects anywhere (the bucket is on another port).
fn browser_client(app: &TestApp) -> reqwest::Client {
    let host = app.domain.rsplit_once(':').unwrap().0.to_string();
    reqwest::Client::builder()
        .resolve(&host, app.addr)
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test]
async fn uploads_go_to_the_bucket_and_media_urls_redirect_to_presigned_bucket_urls() {
    let s3 = start_s3_server().await;
    let app = spawn_on_bucket(&s3, "redirect").await;
    app.create_user("alice").await;
    let token = app.token("alice").await;

    let (status, media) = upload(&app, &token, crate::media::png(300, 200)).await;
    assert_eq!(status, 200, "{media}");
    let url = media["url"].as_str().unwrap();
    let preview = media["preview_url"].as_str().unwrap();
    assert!(url.starts_with(&app.url("/media/")), "{url}");
    let names = vec![name_of(url), name_of(preview)];
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(s3.names().await, sorted, "both files are in the bucket");
    assert_eq!(files_on_disk(&app), 0, "nothing is written locally");

    for (url, name) in [url, preview].iter().zip(&names) {
        let stored = s3.object(name).await.unwrap();
        let image = image::load_from_memory(&stored).unwrap();
        assert!(image.width() > 0);
        // Skein answers with a redirect to the bucket, signed for a while.
        let response = app.client.get(*url).send().await.unwrap();
        assert_eq!(response.status(), 302);
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(&s3.endpoint), "{location}");
        assert!(location.contains("X-Amz-Signature="), "{location}");
        let cache = response.headers()["cache-control"].to_str().unwrap();
        assert!(cache.contains("max-age=3000"), "{cache}");
        // Following it gives the object, with its type.
        let followed = browser_client(&app).get(*url).send().await.unwrap();
        assert_eq!(followed.status(), 200, "{location}");
        assert_eq!(followed.headers()["content-type"], "image/png");
        assert_eq!(followed.bytes().await.unwrap(), stored);
        // Without the signature the bucket refuses it.
        let bare = location.split('?').next().unwrap();
        let unsigned = reqwest::get(bare).await.unwrap();
        assert_eq!(unsigned.status(), 403, "the bucket stays private");
    }
    // Only names with a row are redirected.
    let response = app.get("/media/0123456789abcdef0123456789abcdef.png").await;
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn in_stream_mode_skein_sends_the_objects_with_its_safe_headers() {
    let s3 = start_s3_server().await;
    let app = spawn_on_bucket(&s3, "stream").await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (status, media) = upload(&app, &token, crate::media::jpeg(120, 90)).await;
    assert_eq!(status, 200, "{media}");
    let url = media["url"].as_str().unwrap();
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_string();
    assert_eq!(header("content-type"), "image/jpeg");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(
        header("content-security-policy"),
        "default-src 'none'; sandbox"
    );
    let stored = s3.object(&name_of(url)).await.unwrap();
    assert_eq!(header("content-length"), stored.len().to_string());
    assert_eq!(response.bytes().await.unwrap(), stored);
    assert_eq!(files_on_disk(&app), 0);
}

#[tokio::test]
async fn a_public_base_url_names_the_cdn_in_media_urls_and_redirects_there() {
    let s3 = start_s3_server().await;
    let mut options = Options::named("alpha").env(
        "SKEIN_STORAGE__PUBLIC_BASE_URL",
        "https://cdn.example.net/skein",
    );
    for (key, value) in s3.env("redirect") {
        options = options.env(&key, &value);
    }
    let app = TestApp::spawn_with(options).await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (status, media) = upload(&app, &token, crate::media::png(40, 40)).await;
    assert_eq!(status, 200, "{media}");
    let url = media["url"].as_str().unwrap();
    let name = name_of(url);
    assert_eq!(url, format!("https://cdn.example.net/skein/{name}"));
    assert!(s3.object(&name).await.is_some());
    // The status carries the CDN's address too.
    let (status, post) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            serde_json::json!({"status": "via the CDN", "media_ids": [media["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{post}");
    assert_eq!(post["media_attachments"][0]["url"], url);
    // /media/NAME (how files uploaded before were named) sends there.
    let response = app.get(&format!("/media/{name}")).await;
    assert_eq!(response.status(), 302);
    assert_eq!(response.headers()["location"], url);
}

#[tokio::test]
async fn avatars_and_headers_go_to_the_bucket() {
    let s3 = start_s3_server().await;
    let app = spawn_on_bucket(&s3, "stream").await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let form = multipart::Form::new()
        .part(
            "avatar",
            multipart::Part::bytes(crate::media::jpeg(400, 400))
                .file_name("me.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        )
        .part(
            "header",
            multipart::Part::bytes(crate::media::png(900, 300))
                .file_name("header.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let response = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    for key in ["avatar", "header"] {
        let url = me[key].as_str().unwrap();
        assert!(url.contains("/media/"), "{url}");
        let stored = s3
            .object(&name_of(url))
            .await
            .unwrap_or_else(|| panic!("the {key} is in the bucket"));
        let served = app.client.get(url).send().await.unwrap();
        assert_eq!(served.status(), 200);
        assert_eq!(served.bytes().await.unwrap(), stored);
    }
    assert_eq!(s3.names().await.len(), 4, "two images and their previews");
    assert_eq!(files_on_disk(&app), 0);
}

#[tokio::test]
async fn deleting_a_post_removes_its_objects_from_the_bucket() {
    let s3 = start_s3_server().await;
    let app = spawn_on_bucket(&s3, "stream").await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (_, one) = upload(&app, &token, crate::media::png(30, 30)).await;
    let (_, kept) = upload(&app, &token, crate::media::png(20, 20)).await;
    let (status, post) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            serde_json::json!({"status": "soon gone", "media_ids": [one["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{post}");
    assert_eq!(s3.names().await.len(), 4);

    let (status, _) = app
        .api_delete(
            &token,
            &format!("/api/v1/statuses/{}", post["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    let mut left = vec![
        name_of(kept["url"].as_str().unwrap()),
        name_of(kept["preview_url"].as_str().unwrap()),
    ];
    left.sort();
    assert_eq!(
        s3.names().await,
        left,
        "only the other upload's objects stay"
    );
    let gone = app
        .client
        .get(one["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    // An upload no post takes goes from the bucket after a day.
    app.clock.advance(chrono::Duration::days(2));
    skein::service::media::remove_stale(&app.state)
        .await
        .unwrap();
    assert!(s3.names().await.is_empty());
}

#[tokio::test]
async fn a_bucket_that_is_down_fails_uploads_clearly_and_stores_nothing_until_it_is_back() {
    let mut s3 = start_s3_server().await;
    let app = spawn_on_bucket(&s3, "stream").await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (status, before) = upload(&app, &token, crate::media::png(50, 50)).await;
    assert_eq!(status, 200, "{before}");
    let (_, doomed) = upload(&app, &token, crate::media::png(10, 10)).await;
    let (status, post) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            serde_json::json!({"status": "deleted while the bucket is down", "media_ids": [doomed["id"]]}),
        )
        .await;
    assert_eq!(status, 200, "{post}");
    let doomed_names = {
        let mut names = vec![
            name_of(doomed["url"].as_str().unwrap()),
            name_of(doomed["preview_url"].as_str().unwrap()),
        ];
        names.sort();
        names
    };

    s3.stop().await;
    let started = std::time::Instant::now();
    let (status, body) = upload(&app, &token, crate::media::png(60, 60)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "media storage is unavailable");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "a bucket that is down fails the upload quickly: {:?}",
        started.elapsed()
    );
    assert_eq!(upload_count(&app).await, 2, "no row for the failed upload");
    assert_eq!(files_on_disk(&app), 0, "nothing kept locally instead");
    // Serving says the same.
    let response = app
        .client
        .get(before["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "media storage is unavailable");

    // Deleting a post works; its files cannot go yet and are remembered.
    let (status, _) = app
        .api_delete(
            &token,
            &format!("/api/v1/statuses/{}", post["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(upload_count(&app).await, 1);
    let mut remembered: Vec<String> = sqlx::query_scalar("select name from media_deletions")
        .fetch_all(&app.db)
        .await
        .unwrap();
    remembered.sort();
    assert_eq!(remembered, doomed_names);

    s3.restart().await;
    assert_eq!(
        s3.names().await.len(),
        4,
        "the bucket kept what it had, and got nothing while down"
    );
    // The hourly cleanup removes them now.
    let removed = skein::service::media::retry_removals(&app.state)
        .await
        .unwrap();
    assert_eq!(removed, 2);
    let left: i64 = sqlx::query_scalar("select count(*) from media_deletions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    for name in &doomed_names {
        assert!(s3.object(name).await.is_none(), "{name} is gone");
    }
    let (status, after) = upload(&app, &token, crate::media::png(70, 70)).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(upload_count(&app).await, 2);
    assert_eq!(s3.names().await.len(), 4);
    for media in [&before, &after] {
        let url = media["url"].as_str().unwrap();
        let served = app.client.get(url).send().await.unwrap();
        assert_eq!(served.status(), 200);
        assert_eq!(
            served.bytes().await.unwrap(),
            s3.object(&name_of(url)).await.unwrap()
        );
    }
}

#[tokio::test]
async fn migrate_to_s3_copies_a_media_directory_into_the_bucket_once() {
    let s3 = start_s3_server().await;
    // An instance that kept its media on disk.
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let mut urls = Vec::new();
    for bytes in [crate::media::png(30, 20), crate::media::jpeg(40, 40)] {
        let (status, media) = upload(&app, &token, bytes).await;
        assert_eq!(status, 200, "{media}");
        urls.push(media["url"].as_str().unwrap().to_string());
        urls.push(media["preview_url"].as_str().unwrap().to_string());
    }
    let dir = app.config.media_dir();
    std::fs::write(dir.join("notes.txt"), "not media").unwrap();
    let local: Vec<(String, Vec<u8>)> = urls
        .iter()
        .map(|u| (name_of(u), std::fs::read(dir.join(name_of(u))).unwrap()))
        .collect();

    // The same instance's configuration, with the bucket.
    let mut env = s3.env("redirect");
    env.push(("SKEIN_MEDIA__DIR".into(), dir.display().to_string()));
    let config = Config::load_from(None, env).unwrap();
    let done = skein::storage::migrate_to_s3(&config, false).await.unwrap();
    assert_eq!((done.copied, done.present, done.removed), (4, 0, 0));
    assert_eq!(done.ignored, 1, "the stray file is left alone");
    assert!(done.failed.is_empty(), "{:?}", done.failed);
    for (name, bytes) in &local {
        assert_eq!(s3.object(name).await.unwrap(), bytes.as_slice(), "{name}");
        assert!(dir.join(name).exists(), "local files stay by default");
    }

    // Again: nothing to copy; then with --delete-local the files go.
    let again = skein::storage::migrate_to_s3(&config, false).await.unwrap();
    assert_eq!((again.copied, again.present, again.removed), (0, 4, 0));
    let moved = skein::storage::migrate_to_s3(&config, true).await.unwrap();
    assert_eq!((moved.copied, moved.present, moved.removed), (0, 4, 4));
    for (name, _) in &local {
        assert!(!dir.join(name).exists(), "{name} was removed locally");
    }
    assert!(dir.join("notes.txt").exists());

    // The instance restarted on the bucket serves the same URLs.
    let mut options = Options::named("beside");
    for (key, value) in s3.env("stream") {
        options = options.env(&key, &value);
    }
    let on_bucket = app.spawn_beside_with(options).await;
    for ((name, bytes), url) in local.iter().zip(&urls) {
        let path = url.strip_prefix(&app.base).unwrap();
        let response = reqwest::Client::new()
            .get(format!("http://{}{path}", on_bucket.addr))
            .header("host", &app.domain)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(response.bytes().await.unwrap(), bytes.as_slice());
    }

    // A local configuration is refused: there is nowhere to copy to.
    let local_config = Config::load_from(None, Vec::<(String, String)>::new()).unwrap();
    let refused = skein::storage::migrate_to_s3(&local_config, false)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("storage.backend"), "{refused}");
}

#[tokio::test]
async fn the_account_archive_carries_media_read_from_the_bucket() {
    let s3 = start_s3_server().await;
    let app = spawn_on_bucket(&s3, "redirect").await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (_, media) = upload(&app, &token, crate::media::png(64, 48)).await;
    let (status, _) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            serde_json::json!({"status": "with a picture", "media_ids": [media["id"]]}),
        )
        .await;
    assert_eq!(status, 200);

    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let response = app
        .client
        .get(app.url("/settings/export/archive.zip"))
        .header("cookie", browser.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let name = name_of(media["url"].as_str().unwrap());
    let mut entry = zip.by_name(&format!("media/{name}")).unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut out).unwrap();
    drop(entry);
    assert_eq!(out, s3.object(&name).await.unwrap());
    let mut outbox = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("outbox.json").unwrap(), &mut outbox).unwrap();
    assert!(
        outbox.contains(&format!("\"media/{name}\"")),
        "the outbox names the file by its path in the archive"
    );
}

#[tokio::test]
async fn the_migrate_command_moves_files_and_keeps_them_when_the_bucket_is_down() {
    let mut s3 = start_s3_server().await;
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "0123456789abcdef0123456789abcdef.png",
            crate::media::png(8, 8),
        ),
        (
            "fedcba9876543210fedcba9876543210.jpg",
            crate::media::jpeg(8, 8),
        ),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let run = |s3_env: Vec<(String, String)>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_skein"));
        command
            .args(["media", "migrate-to-s3", "--delete-local"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("SKEIN_MEDIA__DIR", dir.path())
            .env("SKEIN_LOG__LEVEL", "warn")
            .envs(s3_env)
            .stdin(std::process::Stdio::null());
        command.output()
    };

    // The bucket is down: the command fails, and every file stays.
    s3.stop().await;
    let failed = run(s3.env("redirect")).await.unwrap();
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("not copied: 0123456789abcdef"), "{stderr}");
    assert!(stderr.contains("2 files were not copied"), "{stderr}");
    for (name, _) in &files {
        assert!(dir.path().join(name).exists(), "{name} is kept");
    }

    // Back up: the files move.
    s3.restart().await;
    let moved = run(s3.env("redirect")).await.unwrap();
    let stdout = String::from_utf8_lossy(&moved.stdout);
    assert!(
        moved.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(stdout.contains("copied 2 files"), "{stdout}");
    assert!(stdout.contains("2 local files removed"), "{stdout}");
    for (name, bytes) in &files {
        assert_eq!(s3.object(name).await.unwrap(), bytes.as_slice());
        assert!(!dir.path().join(name).exists());
    }
}
