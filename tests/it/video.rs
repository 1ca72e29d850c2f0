//! Video and audio: uploads probed and transcoded with ffmpeg (made here
//! with ffmpeg's lavfi sources, a second long), processed in the background
//! with Mastodon's 202/206/200, held to the limits the instance API states,
//! refused with a clear 422 without ffmpeg; posts carrying them reach
//! other servers with their type, size and length; and Video, Audio and
//! Event objects of other servers become posts.

use serde_json::{Value, json};
use skein::service::media;

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};

// ---- media made here ----

/// Runs ffmpeg with `args` (inputs and options) into a file of `extension`;
/// the file's bytes.
fn made_with_ffmpeg(args: &[&str], extension: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(format!("made.{extension}"));
    let status = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error"])
        .args(args)
        .arg("-y")
        .arg(&out)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg {args:?}");
    std::fs::read(&out).unwrap()
}

/// A WebM (VP8 and Vorbis) of `seconds`, 160x120 at 25 frames a second.
pub fn webm(seconds: u32) -> Vec<u8> {
    let video = format!("testsrc=size=160x120:rate=25:duration={seconds}");
    let audio = format!("sine=frequency=440:duration={seconds}");
    made_with_ffmpeg(
        &[
            "-f",
            "lavfi",
            "-i",
            &video,
            "-f",
            "lavfi",
            "-i",
            &audio,
            "-c:v",
            "libvpx",
            "-c:a",
            "libvorbis",
            "-shortest",
        ],
        "webm",
    )
}

/// A WAV of one second of a tone.
fn wav() -> Vec<u8> {
    made_with_ffmpeg(
        &["-f", "lavfi", "-i", "sine=frequency=330:duration=1"],
        "wav",
    )
}

/// What ffprobe says of a file: its format and streams.
fn ffprobe(bytes: &[u8]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probed");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).unwrap()
}

fn codecs(probe: &Value) -> Vec<String> {
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["codec_name"].as_str().unwrap().to_string())
        .collect()
}

// ---- the client API ----

async fn upload_file(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    name: &str,
    mime: &str,
) -> (u16, Value) {
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str(mime)
                .unwrap(),
        )
        .text("description", "A test pattern");
    let response = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn fetch(app: &TestApp, url: &str) -> (String, Vec<u8>) {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    (content_type, response.bytes().await.unwrap().to_vec())
}

/// Runs the transcoding queue as the app's worker; how many were done.
async fn transcode(app: &TestApp) -> usize {
    media::process_pending(&app.state, app.state.worker_id.expect("a worker id"))
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

/// Files in the media directory.
fn files_on_disk(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.config.media_dir()) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

#[tokio::test]
async fn a_video_is_accepted_processed_in_the_background_and_served_as_h264_with_a_poster() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;

    let (status, uploaded) = upload_file(&app, &token, webm(1), "clip.webm", "video/webm").await;
    assert_eq!(status, 202, "{uploaded}");
    assert_eq!(uploaded["type"], "video");
    assert_eq!(uploaded["url"], Value::Null);
    assert_eq!(uploaded["preview_url"], Value::Null);
    assert_eq!(uploaded["description"], "A test pattern");
    let id = uploaded["id"].as_str().unwrap().to_string();
    // The file waits as uploaded, queued; nothing is served yet.
    assert_eq!(count(&app, "select count(*) from media_jobs").await, 1);
    assert_eq!(files_on_disk(&app).len(), 1);
    assert!(files_on_disk(&app)[0].ends_with(".src"));
    let (status, processing) = app.api_get(&token, &format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 206, "{processing}");
    assert_eq!(processing["url"], Value::Null);

    // Not ready: a status cannot carry it yet.
    let (status, refused) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "too soon", "media_ids": [id]}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("not finished processing"),
        "{refused}"
    );

    assert_eq!(transcode(&app).await, 1);
    assert_eq!(transcode(&app).await, 0, "the job is gone");
    let (status, ready) = app.api_get(&token, &format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 200, "{ready}");
    let original = &ready["meta"]["original"];
    assert_eq!(original["width"], 160, "{ready}");
    assert_eq!(original["height"], 120);
    assert_eq!(original["frame_rate"], "25/1");
    let duration = original["duration"].as_f64().unwrap();
    assert!((0.9..1.2).contains(&duration), "{duration}");
    assert!(ready["blurhash"].is_string());
    assert_eq!(ready["meta"]["small"]["width"], 160);

    // An H.264 and AAC MP4, served as video/mp4.
    let url = ready["url"].as_str().unwrap();
    assert!(url.ends_with(".mp4"), "{url}");
    let (content_type, file) = fetch(&app, url).await;
    assert_eq!(content_type, "video/mp4");
    let probe = ffprobe(&file);
    assert!(
        probe["format"]["format_name"]
            .as_str()
            .unwrap()
            .contains("mp4"),
        "{probe}"
    );
    assert_eq!(codecs(&probe), vec!["h264", "aac"], "{probe}");
    assert_eq!(probe["streams"][0]["pix_fmt"], "yuv420p");

    // The poster frame: a JPEG of the video's size.
    let (content_type, poster) = fetch(&app, ready["preview_url"].as_str().unwrap()).await;
    assert_eq!(content_type, "image/jpeg");
    let poster = image::load_from_memory(&poster).unwrap();
    assert_eq!((poster.width(), poster.height()), (160, 120));

    // The file as uploaded is gone; the row says what was made.
    let mut on_disk = files_on_disk(&app);
    on_disk.sort();
    let mut expected = vec![
        file_name(url).to_string(),
        file_name(ready["preview_url"].as_str().unwrap()).to_string(),
    ];
    expected.sort();
    assert_eq!(on_disk, expected);
    let (state, source, content_type): (String, Option<String>, String) =
        sqlx::query_as("select state, source_key, content_type from uploads where id = $1")
            .bind(id.parse::<i64>().unwrap())
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), source, content_type.as_str()),
        ("ready", None, "video/mp4")
    );

    // Now a status takes it.
    let (status, posted) = app
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "a clip", "media_ids": [id]}),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    let attached = &posted["media_attachments"][0];
    assert_eq!(attached["type"], "video");
    assert_eq!(attached["url"], ready["url"]);
    assert_eq!(attached["preview_url"], ready["preview_url"]);
}

#[tokio::test]
async fn audio_becomes_an_mp3_with_a_waveform_and_images_still_answer_200() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;

    let (status, uploaded) = upload_file(&app, &token, wav(), "tone.wav", "audio/wav").await;
    assert_eq!(status, 202, "{uploaded}");
    assert_eq!(uploaded["type"], "audio");
    assert_eq!(transcode(&app).await, 1);
    let id = uploaded["id"].as_str().unwrap();
    let (status, ready) = app.api_get(&token, &format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["meta"]["original"]["width"], Value::Null, "{ready}");
    let duration = ready["meta"]["original"]["duration"].as_f64().unwrap();
    assert!((0.9..1.2).contains(&duration), "{duration}");
    let (content_type, file) = fetch(&app, ready["url"].as_str().unwrap()).await;
    assert_eq!(content_type, "audio/mpeg");
    let probe = ffprobe(&file);
    assert_eq!(probe["format"]["format_name"], "mp3");
    assert_eq!(codecs(&probe), vec!["mp3"]);
    let (content_type, waveform) = fetch(&app, ready["preview_url"].as_str().unwrap()).await;
    assert_eq!(content_type, "image/jpeg");
    let waveform = image::load_from_memory(&waveform).unwrap();
    assert_eq!((waveform.width(), waveform.height()), (640, 240));

    // Images are still done at once.
    let (status, image) = upload_file(
        &app,
        &token,
        crate::media::png(32, 32),
        "dot.png",
        "image/png",
    )
    .await;
    assert_eq!(status, 200, "{image}");
    assert!(image["url"].is_string());
}

#[tokio::test]
async fn the_instance_states_the_limits_and_uploads_beyond_them_are_refused() {
    let app = TestApp::spawn_with(
        Options::named("limits")
            .env("SKEIN_MEDIA__MAX_DURATION_SECONDS", "1")
            .env("SKEIN_MEDIA__MAX_VIDEO_BYTES", "200000"),
    )
    .await;
    app.create_user("alice").await;
    let token = app.token("alice").await;

    let (status, instance) = app.api_get(&token, "/api/v2/instance").await;
    assert_eq!(status, 200);
    let limits = &instance["configuration"]["media_attachments"];
    assert_eq!(limits["video_size_limit"], 200000, "{limits}");
    assert_eq!(limits["video_frame_rate_limit"], 120);
    assert_eq!(limits["video_matrix_limit"], 8294400);
    assert_eq!(limits["video_duration_limit"], 1);
    let types: Vec<&str> = limits["supported_mime_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for wanted in [
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "audio/mp4",
    ] {
        assert!(types.contains(&wanted), "{wanted}: {types:?}");
    }

    // Too long.
    let (status, refused) = upload_file(&app, &token, webm(3), "long.webm", "video/webm").await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("at most 1 seconds"),
        "{refused}"
    );
    // Too big.
    let (status, refused) =
        upload_file(&app, &token, vec![0x1a; 200_001], "big.webm", "video/webm").await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("200000 bytes"),
        "{refused}"
    );
    // Neither image nor video nor audio.
    let (status, refused) = upload_file(
        &app,
        &token,
        b"just some text".to_vec(),
        "clip.mp4",
        "video/mp4",
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("MP4"),
        "{refused}"
    );
    // Nothing was kept.
    assert_eq!(count(&app, "select count(*) from uploads").await, 0);
    assert!(files_on_disk(&app).is_empty());
}

#[tokio::test]
async fn without_ffmpeg_video_is_refused_naming_the_package() {
    let app = TestApp::spawn_with(
        Options::named("noffmpeg")
            .env("SKEIN_MEDIA__FFPROBE", "/nonexistent/ffprobe")
            .env("SKEIN_MEDIA__FFMPEG", "/nonexistent/ffmpeg"),
    )
    .await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (status, refused) = upload_file(&app, &token, webm(1), "clip.webm", "video/webm").await;
    assert_eq!(status, 422, "{refused}");
    let message = refused["error"].as_str().unwrap();
    assert!(message.contains("`ffmpeg` package"), "{message}");
    assert_eq!(count(&app, "select count(*) from uploads").await, 0);
    assert!(files_on_disk(&app).is_empty());
    // Images need no ffmpeg.
    let (status, image) = upload_file(
        &app,
        &token,
        crate::media::png(8, 8),
        "dot.png",
        "image/png",
    )
    .await;
    assert_eq!(status, 200, "{image}");
}

#[tokio::test]
async fn a_job_claimed_by_a_process_that_died_is_taken_over() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let (status, uploaded) = upload_file(&app, &token, wav(), "tone.wav", "audio/wav").await;
    assert_eq!(status, 202);
    // A worker that claimed it and died: its id holds no worker lock.
    sqlx::query(
        "update media_jobs set claimed_by = 7, claimed_until = now() + interval '1 hour',
                               attempts = 1",
    )
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(transcode(&app).await, 1);
    let id = uploaded["id"].as_str().unwrap();
    let (status, _) = app.api_get(&token, &format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(count(&app, "select count(*) from media_jobs").await, 0);
}

#[tokio::test]
async fn a_file_ffmpeg_cannot_transcode_fails_with_422_and_leaves_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let token = app.token("alice").await;
    let mut broken = webm(1);
    let (status, uploaded) =
        upload_file(&app, &token, broken.clone(), "clip.webm", "video/webm").await;
    assert_eq!(status, 202);
    // The stored source is cut short after the probe: transcoding fails.
    let source: String = sqlx::query_scalar("select source_key from uploads")
        .fetch_one(&app.db)
        .await
        .unwrap();
    broken.truncate(300);
    std::fs::write(app.config.media_dir().join(&source), &broken).unwrap();
    assert_eq!(transcode(&app).await, 1);
    let id = uploaded["id"].as_str().unwrap();
    let (status, failed) = app.api_get(&token, &format!("/api/v1/media/{id}")).await;
    assert_eq!(status, 422, "{failed}");
    assert!(files_on_disk(&app).is_empty(), "{:?}", files_on_disk(&app));
    assert_eq!(count(&app, "select count(*) from media_jobs").await, 0);
}

#[tokio::test]
async fn a_video_post_reaches_another_skein_with_its_type_size_length_and_poster() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await.actor;
    let remote_alice = beta.resolve(&alpha.handle("alice")).await;
    skein::service::follows::follow(&beta.state, &bob, &remote_alice)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;

    let token = alpha.token("alice").await;
    let (_, uploaded) = upload_file(&alpha, &token, webm(1), "clip.webm", "video/webm").await;
    transcode(&alpha).await;
    let id = uploaded["id"].as_str().unwrap();
    let (status, posted) = alpha
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "a clip", "media_ids": [id]}),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(alpha.deliver().await, 1);

    // The Note as alpha serves it.
    let ap_id = posted["uri"].as_str().unwrap().to_string();
    let note: Value = alpha
        .get_ap(ap_id.strip_prefix(&alpha.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    let document = &note["attachment"][0];
    assert_eq!(document["type"], "Document", "{note}");
    assert_eq!(document["mediaType"], "video/mp4");
    assert_eq!(
        (&document["width"], &document["height"]),
        (&json!(160), &json!(120))
    );
    let duration = document["duration"].as_str().unwrap();
    assert!(
        duration.starts_with("PT") && duration.ends_with('S'),
        "{duration}"
    );
    assert_eq!(document["icon"]["mediaType"], "image/jpeg");
    assert_eq!(document["name"], "A test pattern");

    // Beta keeps what it says.
    let copy = beta.post(&ap_id).await;
    let row: ArrivedMedium = sqlx::query_as(
        "select kind, media_type, width, height, duration, preview_url
         from attachments where post_id = $1",
    )
    .bind(copy.id)
    .fetch_one(&beta.db)
    .await
    .unwrap();
    assert_eq!(row.kind, "video");
    assert_eq!(row.media_type.as_deref(), Some("video/mp4"));
    assert_eq!((row.width, row.height), (Some(160), Some(120)));
    assert!((0.9..1.2).contains(&row.duration.unwrap()), "{row:?}");
    assert_eq!(row.preview_url.as_deref(), document["icon"]["url"].as_str());
    let beta_token = beta.token("bob").await;
    let (_, home) = beta.api_get(&beta_token, "/api/v1/timelines/home").await;
    let arrived = &home[0]["media_attachments"][0];
    assert_eq!(arrived["type"], "video", "{home}");
    assert_eq!(arrived["preview_url"], document["icon"]["url"]);
    assert!(
        arrived["meta"]["original"]["duration"].is_number(),
        "{arrived}"
    );
}

/// A medium of a post as another server keeps it.
#[derive(Debug, sqlx::FromRow)]
struct ArrivedMedium {
    kind: String,
    media_type: Option<String>,
    width: Option<i32>,
    height: Option<i32>,
    duration: Option<f32>,
    preview_url: Option<String>,
}

/// A fixture of `tests/fixtures/` sent by `actor` of `fake`: its
/// placeholders filled, its actor and author the fake actor.
fn converted_fixture(fake: &FakeServer, actor: &str, file: &str) -> Value {
    let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("{{host}}", &fake.base)
        .replace("{{host_domain}}", &fake.domain);
    let mut activity: Value = serde_json::from_str(&text).unwrap();
    activity["actor"] = json!(actor);
    activity["object"]["attributedTo"] = json!(actor);
    activity
}

#[tokio::test]
async fn video_audio_and_event_objects_of_other_servers_become_posts() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("peertube").await;
    let ada = fake.add_actor("ada", false);
    app.follow_fake(&fake, &alice, &ada).await;

    for file in [
        "peertube/create_video.json",
        "funkwhale/create_audio.json",
        "mobilizon/create_event.json",
    ] {
        let activity = converted_fixture(&fake, &ada.id, file);
        assert_eq!(
            app.post_signed(&fake, &ada, "/inbox", activity).await,
            202,
            "{file}"
        );
    }
    let token = app.token("alice").await;
    let (_, home) = app.api_get(&token, "/api/v1/timelines/home").await;
    let statuses = home.as_array().unwrap();
    assert_eq!(statuses.len(), 3, "{home}");
    let by_title = |title: &str| -> &Value {
        statuses
            .iter()
            .find(|s| s["content"].as_str().unwrap().contains(title))
            .unwrap_or_else(|| panic!("{title}: {home}"))
    };

    let video = by_title("Repairing a bicycle wheel");
    let content = video["content"].as_str().unwrap();
    assert!(
        content.starts_with("<p><strong>Repairing a bicycle wheel</strong></p>"),
        "{content}"
    );
    assert!(content.contains("/w/kvchX3uj6NYsBCnmgrmMy8"), "{content}");
    assert_eq!(video["spoiler_text"], "");
    let medium = &video["media_attachments"][0];
    assert_eq!(medium["type"], "video");
    assert!(medium["url"].as_str().unwrap().ends_with("-720.mp4"));
    assert_eq!(medium["meta"]["original"]["duration"], 754.0);
    assert!(
        medium["preview_url"]
            .as_str()
            .unwrap()
            .ends_with("/thumbnails/9c9de5e8.jpg")
    );
    assert_eq!(
        video["url"].as_str().unwrap(),
        format!("{}/w/kvchX3uj6NYsBCnmgrmMy8", fake.base)
    );

    let audio = by_title("Episode 3: Spokes");
    assert_eq!(audio["media_attachments"][0]["type"], "audio", "{audio}");
    assert_eq!(
        audio["media_attachments"][0]["meta"]["original"]["duration"],
        1843.0
    );
    assert_eq!(
        audio["tags"][0]["name"], "bicycles",
        "hashtags are kept: {audio}"
    );

    let event = by_title("Bicycle repair café");
    let content = event["content"].as_str().unwrap();
    assert!(
        content.contains("2024-10-05 14:00–18:00 (UTC+02:00)"),
        "{content}"
    );
    assert!(
        content.contains("Neighbourhood workshop, Werkstattstraße 1, 10115 Berlin, Germany"),
        "{content}"
    );
    assert_eq!(event["media_attachments"][0]["type"], "image");
    assert_eq!(event["media_attachments"][0]["description"], "Banner");
}

#[tokio::test]
async fn the_web_composer_posts_a_video_transcoded_in_the_request() {
    use crate::web::Browser;
    use reqwest::multipart;

    let app = TestApp::spawn().await;
    app.create_user("alice").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("alice").await;
    let compose = browser.get("/home").await;
    assert!(
        compose.body.contains("video/mp4"),
        "the composer takes video"
    );
    let token = browser.token().await;
    let form = multipart::Form::new()
        .text("csrf_token", token)
        .text("text", "My first clip")
        .text("visibility", "public")
        .text("media_description", "A test pattern")
        .part(
            "media",
            multipart::Part::bytes(webm(1))
                .file_name("clip.webm")
                .mime_str("video/webm")
                .unwrap(),
        );
    let done = browser.post_multipart("/compose", form).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let (kind, media_type, preview): (String, Option<String>, Option<String>) = sqlx::query_as(
        "select kind, media_type, preview_url from attachments
         where post_id = (select id from posts where author_id =
                          (select id from actors where username = 'alice'))",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(kind, "video");
    assert_eq!(media_type.as_deref(), Some("video/mp4"));
    let page = browser.get(done.location.as_deref().unwrap()).await;
    let preview = preview.unwrap();
    assert!(page.body.contains(" poster=\""), "{}", page.body);
    assert!(page.body.contains(file_name(&preview)), "{}", page.body);
    assert!(page.body.contains("<video controls"));
}
