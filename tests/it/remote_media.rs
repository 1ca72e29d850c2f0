//! Remote media cached: attachments, emoji, avatars and headers of remote
//! posts and accounts are downloaded in the background (never while the
//! inbox answers), typed from their bytes, re-encoded without metadata and
//! served from here, with the remote URL as the fallback and as
//! `remote_url`; a slow server, a lying `Content-Type`, an oversized file
//! and a redirect to a private address store nothing and keep the remote
//! URL; rejected media and suspended servers are never fetched; pruning
//! removes cached copies (never uploads), and a pruned file is fetched
//! again when asked for.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use skein::jobs::WorkerLock;
use skein::service::remote_media;

use crate::fake::{FakeActor, FakeServer};
use crate::harness::{Options, TestApp};
use crate::media::{jpeg, png, with_exif};

/// An instance with `alice`, following `pat` on a fake server `pics`.
struct Scene {
    alpha: TestApp,
    token: String,
    pics: FakeServer,
    pat: FakeActor,
    lock: WorkerLock,
}

async fn scene(options: Options) -> Scene {
    let alpha = TestApp::spawn_with(options).await;
    let alice = alpha.create_user("alice").await;
    let token = alpha.token("alice").await;
    let pics = FakeServer::spawn("pics").await;
    let pat = pics.add_actor("pat", false);
    alpha.follow_fake(&pics, &alice.actor, &pat).await;
    let lock = WorkerLock::acquire(&alpha.db).await.unwrap();
    Scene {
        alpha,
        token,
        pics,
        pat,
        lock,
    }
}

impl Scene {
    /// Delivers a public post of `pat` with these attachment URLs and
    /// emoji (`shortcode`, URL); returns its id here.
    async fn post(&self, name: &str, attachments: &[&str], emoji: &[(&str, &str)]) -> i64 {
        let attachment: Vec<Value> = attachments
            .iter()
            .map(|url| json!({"type": "Document", "mediaType": "image/png", "url": url, "name": "a cat"}))
            .collect();
        let tag: Vec<Value> = emoji
            .iter()
            .map(|(code, url)| {
                json!({"type": "Emoji", "name": format!(":{code}:"),
                       "icon": {"type": "Image", "url": url}})
            })
            .collect();
        let note = json!({
            "id": self.pics.note_url(name),
            "type": "Note",
            "attributedTo": self.pat.id,
            "content": format!("<p>{name}</p>"),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "published": "2026-11-30T12:00:00Z",
            "attachment": attachment,
            "tag": tag,
        });
        let create = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}/activities/{}", self.pics.base, uuid::Uuid::new_v4()),
            "type": "Create",
            "actor": self.pat.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": note,
        });
        assert_eq!(
            self.alpha
                .post_signed(&self.pics, &self.pat, "/inbox", create)
                .await,
            202
        );
        self.alpha.post(&self.pics.note_url(name)).await.id
    }

    /// Runs the download worker once; returns how many it claimed.
    async fn fetch(&self) -> usize {
        remote_media::fetch_due(&self.alpha.state, self.lock.id, 100)
            .await
            .unwrap()
    }

    async fn status(&self, id: i64) -> Value {
        let (status, body) = self
            .alpha
            .api_get(&self.token, &format!("/api/v1/statuses/{id}"))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// (state, last_error) of the row of a remote URL.
    async fn row(&self, url: &str) -> (String, Option<String>) {
        sqlx::query_as("select state, last_error from remote_media where url = $1")
            .bind(url)
            .fetch_one(&self.alpha.db)
            .await
            .unwrap()
    }

    /// Fetches one of this instance's URLs; (status, content type, body).
    async fn get(&self, url: &str) -> (u16, String, Vec<u8>) {
        let path = url
            .strip_prefix(&self.alpha.base)
            .unwrap_or_else(|| panic!("{url} is not served here"));
        let response = self.alpha.get(path).await;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let body = response.bytes().await.unwrap().to_vec();
        match location {
            Some(location) => (status, location, body),
            None => (status, content_type, body),
        }
    }
}

fn media_path(base: &str) -> String {
    format!("{base}/media/")
}

#[tokio::test]
async fn remote_media_are_downloaded_after_the_post_and_served_from_here() {
    let pics = FakeServer::spawn("pics").await;
    let avatar = pics.serve_bytes("/avatar.png", "image/png", png(64, 64));
    let header = pics.serve_bytes("/header.jpg", "image/jpeg", jpeg(300, 100));
    let s = {
        let alpha = TestApp::spawn().await;
        let alice = alpha.create_user("alice").await;
        let token = alpha.token("alice").await;
        let pat = pics.add_actor("pat", false);
        pics.set_images("pat", Some(&avatar), Some(&header));
        alpha.follow_fake(&pics, &alice.actor, &pat).await;
        let lock = WorkerLock::acquire(&alpha.db).await.unwrap();
        Scene {
            alpha,
            token,
            pics,
            pat,
            lock,
        }
    };
    let secret = "GPS 48.8584 N, 2.2945 E";
    let cat = s
        .pics
        .serve_bytes("/cat.jpg", "image/jpeg", with_exif(&jpeg(640, 480), secret));
    let blob = s.pics.serve_bytes("/blob.png", "image/png", png(32, 32));
    let id = s.post("cats", &[&cat], &[("blob", &blob)]).await;

    // Stored at once, nothing fetched yet: the remote URLs are shown.
    assert_eq!(
        s.pics.file_fetches("/cat.jpg"),
        0,
        "ingest fetches no media"
    );
    let before = s.status(id).await;
    let attachment = &before["media_attachments"][0];
    assert_eq!(attachment["url"], cat);
    assert_eq!(attachment["remote_url"], cat);
    assert_eq!(before["emojis"][0]["url"], blob);
    assert_eq!(before["account"]["avatar"], avatar);

    // The worker downloads all four: attachment, emoji, avatar, header.
    assert_eq!(s.fetch().await, 4);
    assert_eq!(s.fetch().await, 0, "nothing is left to fetch");
    let after = s.status(id).await;
    let attachment = &after["media_attachments"][0];
    let url = attachment["url"].as_str().unwrap();
    let preview = attachment["preview_url"].as_str().unwrap();
    assert!(url.starts_with(&media_path(&s.alpha.base)), "{after}");
    assert!(preview.starts_with(&media_path(&s.alpha.base)));
    assert_ne!(url, preview, "a preview of its own");
    assert_eq!(attachment["remote_url"], cat, "the remote URL stays");
    // Turned upright by its EXIF orientation, as uploads are.
    assert_eq!(attachment["meta"]["original"]["width"], 480);
    assert!(attachment["blurhash"].is_string());
    let (status, content_type, body) = s.get(url).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    assert!(
        !body.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the metadata is gone"
    );
    let image = image::load_from_memory(&body).unwrap();
    assert_eq!((image.width(), image.height()), (480, 640));
    assert_eq!(s.get(preview).await.0, 200);

    let emoji = after["emojis"][0]["url"].as_str().unwrap();
    assert!(emoji.starts_with(&media_path(&s.alpha.base)));
    assert_eq!(s.get(emoji).await.1, "image/png");
    for key in ["avatar", "avatar_static", "header"] {
        let url = after["account"][key].as_str().unwrap();
        assert!(url.starts_with(&media_path(&s.alpha.base)), "{key}: {url}");
        assert_eq!(s.get(url).await.0, 200);
    }
    assert_eq!(
        s.get(after["account"]["header"].as_str().unwrap()).await.1,
        "image/jpeg"
    );

    // The web page shows the cached copies too.
    let page = s
        .alpha
        .get(&format!("/@pat@{}", s.pics.domain))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&media_path(&s.alpha.base)), "{page}");

    // Each file was fetched once; another post naming the same emoji
    // fetches nothing.
    assert_eq!(s.pics.file_fetches("/cat.jpg"), 1);
    s.post("again", &[], &[("blob", &blob)]).await;
    assert_eq!(s.fetch().await, 0);
    assert_eq!(s.pics.file_fetches("/blob.png"), 1);
}

#[tokio::test]
async fn a_slow_server_holds_up_neither_ingest_nor_the_worker_for_long() {
    let s =
        scene(Options::named("alpha").env("SKEIN_MEDIA__REMOTE_CACHE__TIMEOUT_SECONDS", "1")).await;
    let cat = s.pics.serve_bytes("/cat.png", "image/png", png(100, 100));
    s.pics.set_file_delay(Duration::from_secs(4));

    let started = Instant::now();
    let id = s.post("slow", &[&cat], &[]).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the inbox answered without waiting for media"
    );
    assert_eq!(s.status(id).await["media_attachments"][0]["url"], cat);

    let started = Instant::now();
    assert_eq!(s.fetch().await, 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout held"
    );
    let (state, error) = s.row(&cat).await;
    assert_eq!(state, "pending", "tried again later: {error:?}");
    assert!(error.is_some());
    assert_eq!(s.fetch().await, 0, "not before its time");
    assert_eq!(
        s.status(id).await["media_attachments"][0]["url"],
        cat,
        "the remote URL meanwhile"
    );

    // Once the server answers in time, the retry stores it.
    s.pics.set_file_delay(Duration::ZERO);
    s.alpha.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(s.fetch().await, 1);
    assert_eq!(s.row(&cat).await.0, "stored");
    let url = s.status(id).await["media_attachments"][0]["url"].clone();
    assert!(
        url.as_str()
            .unwrap()
            .starts_with(&media_path(&s.alpha.base))
    );
}

#[tokio::test]
async fn the_type_comes_from_the_bytes_whatever_the_server_says() {
    let s = scene(Options::named("alpha")).await;
    // A real picture labelled as a web page is cached as what it is.
    let picture = s.pics.serve_bytes("/picture", "text/html", png(50, 40));
    // A web page labelled as a picture is not stored, nor served.
    let page = s.pics.serve_bytes(
        "/page.png",
        "image/png",
        b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>".to_vec(),
    );
    // A video sent as a download is stored as it came, as the video it is.
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    mp4.extend_from_slice(&[7; 2000]);
    let video = s
        .pics
        .serve_bytes("/clip", "application/octet-stream", mp4.clone());
    let id = s.post("lies", &[&picture, &page, &video], &[]).await;
    assert_eq!(s.fetch().await, 3);

    let status = s.status(id).await;
    let cached = status["media_attachments"][0]["url"].as_str().unwrap();
    assert!(cached.starts_with(&media_path(&s.alpha.base)));
    assert_eq!(s.get(cached).await.1, "image/png");
    assert_eq!(s.row(&picture).await.0, "stored");

    let (state, error) = s.row(&page).await;
    assert_eq!(state, "failed");
    assert!(error.unwrap().contains("not a type"));
    assert_eq!(
        status["media_attachments"][1]["url"], page,
        "the remote URL stays"
    );
    let clip = status["media_attachments"][2]["url"].as_str().unwrap();
    assert!(clip.starts_with(&media_path(&s.alpha.base)), "{status}");
    let (code, content_type, body) = s.get(clip).await;
    assert_eq!((code, content_type.as_str()), (200, "video/mp4"));
    assert_eq!(body, mp4, "video is kept as it came");
    let stored: i64 =
        sqlx::query_scalar("select count(*) from remote_media where file_key is not null")
            .fetch_one(&s.alpha.db)
            .await
            .unwrap();
    assert_eq!(stored, 2, "the picture and the video were stored");
}

#[tokio::test]
async fn an_oversized_file_is_not_stored() {
    let s = scene(
        Options::named("alpha")
            .env("SKEIN_MEDIA__REMOTE_CACHE__MAX_IMAGE_BYTES", "4096")
            .env("SKEIN_MEDIA__REMOTE_CACHE__MAX_EMOJI_BYTES", "512"),
    )
    .await;
    let big = jpeg(800, 800);
    assert!(big.len() > 4096);
    let huge = s.pics.serve_bytes("/huge.png", "image/png", big);
    let small = s.pics.serve_bytes("/small.png", "image/png", png(8, 8));
    // Within the attachments' cap, over the emoji's.
    let emoji_bytes = jpeg(64, 64);
    assert!(emoji_bytes.len() > 512 && emoji_bytes.len() < 4096);
    let emoji = s.pics.serve_bytes("/emoji.png", "image/jpeg", emoji_bytes);
    let id = s.post("big", &[&huge, &small], &[("big", &emoji)]).await;
    assert_eq!(s.fetch().await, 3);

    let (state, error) = s.row(&huge).await;
    assert_eq!(state, "failed", "too large is final");
    assert!(error.unwrap().contains("larger than 4096"));
    let (state, error) = s.row(&emoji).await;
    assert_eq!(state, "failed");
    assert!(error.unwrap().contains("larger than 512"));
    assert_eq!(s.row(&small).await.0, "stored");
    let status = s.status(id).await;
    assert_eq!(status["media_attachments"][0]["url"], huge);
    assert_eq!(status["emojis"][0]["url"], emoji);
}

#[tokio::test]
async fn a_redirect_to_a_private_address_is_not_followed() {
    let s = scene(Options::named("alpha")).await;
    let inside = format!("{}/inside.png", s.pics.base);
    s.pics
        .redirect("/inside.png", "http://169.254.169.254/latest/meta-data/");
    let private = format!("{}/private.png", s.pics.base);
    s.pics
        .redirect("/private.png", "http://10.1.2.3/secret.png");
    // A redirect to a public-looking place on the same server is followed.
    let moved = format!("{}/moved.png", s.pics.base);
    s.pics
        .redirect("/moved.png", &format!("{}/real.png", s.pics.base));
    s.pics.serve_bytes("/real.png", "image/png", png(20, 20));
    let id = s.post("hops", &[&inside, &private, &moved], &[]).await;
    assert_eq!(s.fetch().await, 3);

    for url in [&inside, &private] {
        let (state, error) = s.row(url).await;
        assert_eq!(state, "failed", "{url}");
        assert!(error.unwrap().contains("not public"), "{url}");
    }
    assert_eq!(s.row(&moved).await.0, "stored");
    assert_eq!(s.pics.file_fetches("/real.png"), 1);
    let status = s.status(id).await;
    assert_eq!(status["media_attachments"][0]["url"], inside.as_str());
    assert_eq!(status["media_attachments"][1]["url"], private.as_str());
}

#[tokio::test]
async fn rejected_media_and_suspended_servers_are_never_fetched() {
    let s = scene(Options::named("alpha")).await;
    s.alpha.create_staff("root", "admin").await;
    let root = s.alpha.token("root").await;
    let early = s.pics.serve_bytes("/early.png", "image/png", png(20, 20));
    let queued = s.pics.serve_bytes("/queued.png", "image/png", png(20, 20));
    s.post("early", &[&early], &[]).await;
    assert_eq!(s.fetch().await, 1);
    let file: String = sqlx::query_scalar("select file_key from remote_media where url = $1")
        .bind(&early)
        .fetch_one(&s.alpha.db)
        .await
        .unwrap();
    assert_eq!(s.alpha.get(&format!("/media/{file}")).await.status(), 200);
    s.post("queued", &[&queued], &[]).await;

    let (status, block) = s
        .alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "pics.test", "severity": "noop", "reject_media": true}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    // What was cached is no longer served and goes with the hourly cleanup;
    // what waited is never fetched.
    assert_eq!(s.alpha.get(&format!("/media/{file}")).await.status(), 404);
    let to_remove: i64 = sqlx::query_scalar("select count(*) from media_deletions where name = $1")
        .bind(&file)
        .fetch_one(&s.alpha.db)
        .await
        .unwrap();
    assert_eq!(to_remove, 1);
    assert_eq!(s.fetch().await, 0);
    assert_eq!(s.pics.file_fetches("/queued.png"), 0);
    let rows: i64 = sqlx::query_scalar("select count(*) from remote_media")
        .fetch_one(&s.alpha.db)
        .await
        .unwrap();
    assert_eq!(rows, 0);

    // A suspended server: a row queued before (as by another process that
    // had not heard yet) is not fetched either.
    let other = FakeServer::spawn("other").await;
    let cat = other.serve_bytes("/cat.png", "image/png", png(20, 20));
    let (status, block) = s
        .alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "other.test", "severity": "suspend"}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    sqlx::query(
        "insert into remote_media (url, kind, domain, next_attempt_at, created_at)
         values ($1, 'attachment', $2, now() - interval '1 hour', now())",
    )
    .bind(&cat)
    .bind(&other.domain)
    .execute(&s.alpha.db)
    .await
    .unwrap();
    assert!(remote_media::held_back(&s.alpha.state, &other.domain));
    s.fetch().await;
    assert_eq!(other.file_fetches("/cat.png"), 0);
    assert_eq!(s.row(&cat).await.0, "failed");
}

#[tokio::test]
async fn pruning_removes_cached_copies_only_and_a_request_fetches_them_again() {
    let s = scene(Options::named("alpha").env("SKEIN_MEDIA__REMOTE_RETENTION_DAYS", "30")).await;
    // A local upload, old as well: never pruned.
    let alice = s.alpha.local("alice").await;
    let upload = skein::service::media::upload(
        &s.alpha.state,
        &alice,
        bytes::Bytes::from(png(30, 30)),
        None,
        None,
    )
    .await
    .unwrap();
    let (status, mine) = s
        .alpha
        .api_post(
            &s.token,
            "/api/v1/statuses",
            json!({"status": "mine", "media_ids": [upload.id.to_string()]}),
        )
        .await;
    assert_eq!(status, 200, "{mine}");
    let mine_url = mine["media_attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();

    let cat = s.pics.serve_bytes("/cat.png", "image/png", png(60, 60));
    let id = s.post("old", &[&cat], &[]).await;
    assert_eq!(s.fetch().await, 1);
    let first = s.status(id).await["media_attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();

    // Younger than the age given: kept.
    s.alpha.clock.advance(chrono::Duration::days(10));
    let kept = remote_media::prune(&s.alpha.state, remote_media::parse_age("30d").unwrap())
        .await
        .unwrap();
    assert_eq!(kept.media, 0);
    s.alpha.clock.advance(chrono::Duration::days(21));
    let pruned = remote_media::prune(&s.alpha.state, remote_media::parse_age("30d").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (pruned.media, pruned.files),
        (1, 2),
        "the file and its preview"
    );
    assert_eq!(s.get(&first).await.0, 404, "the copy is gone");
    assert_eq!(s.get(&mine_url).await.0, 200, "uploads are never pruned");

    // Shown through the media proxy, which fetches it again when asked.
    let status = s.status(id).await;
    let proxied = status["media_attachments"][0]["url"].as_str().unwrap();
    assert!(
        proxied.starts_with(&format!("{}/media_proxy/", s.alpha.base)),
        "{status}"
    );
    assert_eq!(status["media_attachments"][0]["remote_url"], cat);
    assert_eq!(s.pics.file_fetches("/cat.png"), 1);
    let (code, location, _) = s.get(proxied).await;
    assert_eq!(code, 302);
    assert!(
        location.starts_with(&media_path(&s.alpha.base)),
        "{location}"
    );
    assert_ne!(location, first, "a new copy");
    assert_eq!(s.pics.file_fetches("/cat.png"), 2);
    assert_eq!(s.get(&location).await.1, "image/png");
    let again = s.status(id).await["media_attachments"][0]["url"].clone();
    assert_eq!(again, location.as_str(), "shown from the new copy");
    // The proxy keeps leading to it without fetching again.
    assert_eq!(s.get(proxied).await.1, location);
    assert_eq!(s.pics.file_fetches("/cat.png"), 2);

    // The automatic retention (30 days here) prunes it again in time.
    s.alpha.clock.advance(chrono::Duration::days(31));
    skein::jobs::timed::run_due(&s.alpha.state, s.lock.id)
        .await
        .unwrap();
    assert_eq!(s.row(&cat).await.0, "pruned");
    assert_eq!(s.get(&location).await.0, 404);
    assert_eq!(s.get(&mine_url).await.0, 200);
}

/// The `<img>` the web draws for `:code:` shown from `url`.
fn drawn_emoji(code: &str, url: &str) -> String {
    format!(r#"<img src="{url}" alt=":{code}:" title=":{code}:" class="custom-emoji""#)
}

#[tokio::test]
async fn remote_accounts_custom_emoji_are_stored_cached_and_shown_in_the_api_and_on_the_web() {
    let pics = FakeServer::spawn("pics").await;
    let blob = pics.serve_bytes("/blobcat.png", "image/png", png(32, 32));
    let wave = pics.serve_bytes("/wave.png", "image/png", png(32, 32));
    let base = pics.base.clone();
    let emoji_tag = move |code: &str, url: &str| {
        json!({"id": format!("{base}/emojis/{code}"), "type": "Emoji",
               "name": format!(":{code}:"),
               "icon": {"type": "Image", "mediaType": "image/png", "url": url}})
    };
    let alpha = TestApp::spawn().await;
    let alice = alpha.create_user("alice").await;
    let token = alpha.token("alice").await;
    let pat = pics.add_actor("pat", false);
    pics.set_profile(
        "pat",
        json!({
            "name": "Pat :blobcat:",
            "summary": "<p>Cats, always :blobcat:</p>",
            "tag": [emoji_tag("blobcat", &blob),
                    {"type": "Hashtag", "name": "#cats", "href": format!("{}/tags/cats", pics.base)}],
        }),
    );
    alpha.follow_fake(&pics, &alice.actor, &pat).await;
    let s = Scene {
        lock: WorkerLock::acquire(&alpha.db).await.unwrap(),
        alpha,
        token,
        pics,
        pat,
    };
    let pat_id: i64 = sqlx::query_scalar("select id from actors where ap_id = $1")
        .bind(&s.pat.id)
        .fetch_one(&s.alpha.db)
        .await
        .unwrap();

    // Stored with the actor, the image queued for the worker (nothing
    // fetched while the actor was).
    let stored: Vec<(String, String)> = sqlx::query_as(
        "select shortcode, url from actor_emojis where actor_id = $1 order by shortcode",
    )
    .bind(pat_id)
    .fetch_all(&s.alpha.db)
    .await
    .unwrap();
    assert_eq!(stored, [("blobcat".to_string(), blob.clone())]);
    let kind: String = sqlx::query_scalar("select kind from remote_media where url = $1")
        .bind(&blob)
        .fetch_one(&s.alpha.db)
        .await
        .unwrap();
    assert_eq!(kind, "emoji");
    assert_eq!(s.pics.file_fetches("/blobcat.png"), 0);

    // The API shows it (the remote URL until a copy is stored).
    let account_path = format!("/api/v1/accounts/{pat_id}");
    let (status, account) = s.alpha.api_get(&s.token, &account_path).await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["display_name"], "Pat :blobcat:");
    assert_eq!(account["emojis"].as_array().unwrap().len(), 1, "{account}");
    assert_eq!(account["emojis"][0]["shortcode"], "blobcat");
    assert_eq!(account["emojis"][0]["url"], blob);
    assert_eq!(account["emojis"][0]["static_url"], blob);

    // The worker stores a copy; from then on it is shown from here.
    assert_eq!(s.fetch().await, 1);
    assert_eq!(s.row(&blob).await.0, "stored");
    let (_, account) = s.alpha.api_get(&s.token, &account_path).await;
    let copy = account["emojis"][0]["url"].as_str().unwrap().to_string();
    assert!(copy.starts_with(&media_path(&s.alpha.base)), "{account}");
    assert_eq!(s.get(&copy).await.1, "image/png");

    // The web draws it: the profile's header and bio, the author's name on
    // a post card (home, Following), and Activity.
    let mut browser = crate::web::Browser::new(&s.alpha);
    browser.sign_in("alice").await;
    let drawn = drawn_emoji("blobcat", &copy);
    let profile = browser.get(&format!("/@pat@{}", s.pics.domain)).await;
    assert_eq!(profile.status, 200);
    assert!(
        profile.body.matches(&drawn).count() >= 2,
        "name and bio: {}",
        profile.body
    );
    assert!(
        !profile.body.contains(&blob),
        "never the remote URL once a copy is stored"
    );
    let id = s.post("hello", &[], &[]).await;
    let home = browser.get("/home?tab=following").await;
    assert!(
        home.body.contains(&format!("id=\"post-{id}\"")),
        "{}",
        home.body
    );
    assert!(home.body.contains(&drawn), "{}", home.body);
    let follow = json!({
        "id": format!("{}/activities/follow-alice", s.pics.base),
        "type": "Follow",
        "actor": s.pat.id,
        "object": alice.actor.ap_id,
    });
    assert_eq!(
        s.alpha.post_signed(&s.pics, &s.pat, "/inbox", follow).await,
        202
    );
    let activity = browser.get("/notifications").await;
    assert!(activity.body.contains("followed you"), "{}", activity.body);
    assert!(activity.body.contains(&drawn), "{}", activity.body);

    // An Update replaces them: the new emoji, the old one gone.
    s.pics.set_profile(
        "pat",
        json!({"name": "Pat :wave:", "tag": [emoji_tag("wave", &wave)]}),
    );
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/activities/update-pat", s.pics.base),
        "type": "Update",
        "actor": s.pat.id,
        "object": s.pics.actor_document("pat"),
    });
    assert_eq!(
        s.alpha.post_signed(&s.pics, &s.pat, "/inbox", update).await,
        202
    );
    let codes: Vec<String> = sqlx::query_scalar(
        "select shortcode from actor_emojis where actor_id = $1 order by shortcode",
    )
    .bind(pat_id)
    .fetch_all(&s.alpha.db)
    .await
    .unwrap();
    assert_eq!(codes, ["wave"]);
    let (_, account) = s.alpha.api_get(&s.token, &account_path).await;
    assert_eq!(account["emojis"][0]["shortcode"], "wave", "{account}");
    assert_eq!(account["emojis"][0]["url"], wave);
    assert_eq!(s.fetch().await, 1, "the new image is queued");

    // A server whose media are rejected keeps no emoji, and its images are
    // never fetched.
    s.alpha.create_staff("root", "admin").await;
    let root = s.alpha.token("root").await;
    let (status, block) = s
        .alpha
        .api_post(
            &root,
            "/api/v1/admin/domain_blocks",
            json!({"domain": "pics.test", "severity": "noop", "reject_media": true}),
        )
        .await;
    assert_eq!(status, 200, "{block}");
    let left: i64 = sqlx::query_scalar("select count(*) from actor_emojis where actor_id = $1")
        .bind(pat_id)
        .fetch_one(&s.alpha.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let (_, account) = s.alpha.api_get(&s.token, &account_path).await;
    assert_eq!(account["emojis"], json!([]), "{account}");
}
