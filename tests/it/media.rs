//! Local media: uploads checked by their bytes, cleaned and scaled, served
//! with safe headers, attached to posts that carry them to other servers,
//! removed with their posts or when no post takes them.

use std::borrow::Cow;
use std::io::Cursor;
use std::path::PathBuf;

use bytes::Bytes;
use image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use serde_json::{Value, json};
use skein::db::actors::Actor;
use skein::domain::visibility::Visibility;
use skein::error::Error;
use skein::service::media::{self, MediaAttachment, MediaAttributes};
use skein::service::{follows, posts};

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};

// ---- images made here ----

fn encoded(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A colourful picture, so that encoders and blurhashes have something to do.
fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 90])
    })
}

pub fn png(width: u32, height: u32) -> Vec<u8> {
    encoded(&picture(width, height).into(), ImageFormat::Png)
}

pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encoded(&picture(width, height).into(), ImageFormat::Jpeg)
}

/// A picture half transparent.
fn png_with_alpha(width: u32, height: u32) -> Vec<u8> {
    let image = RgbaImage::from_fn(width, height, |x, _| {
        Rgba([200, 40, 40, if x < width / 2 { 0 } else { 255 }])
    });
    encoded(&image.into(), ImageFormat::Png)
}

/// Inserts an APP1 Exif segment after a JPEG's start marker: orientation 6
/// (turn 90° clockwise to show) and an ImageDescription that must not leak.
pub fn with_exif(jpeg: &[u8], secret: &str) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // big-endian, first IFD at 8
    tiff.extend_from_slice(&2u16.to_be_bytes());
    let text_offset: u32 = 8 + 2 + 2 * 12 + 4;
    let text = format!("{secret}\0");
    // ImageDescription (0x010E), ASCII, at text_offset.
    tiff.extend_from_slice(&0x010Eu16.to_be_bytes());
    tiff.extend_from_slice(&2u16.to_be_bytes());
    tiff.extend_from_slice(&(text.len() as u32).to_be_bytes());
    tiff.extend_from_slice(&text_offset.to_be_bytes());
    // Orientation (0x0112), SHORT, 6.
    tiff.extend_from_slice(&0x0112u16.to_be_bytes());
    tiff.extend_from_slice(&3u16.to_be_bytes());
    tiff.extend_from_slice(&1u32.to_be_bytes());
    tiff.extend_from_slice(&[0, 6, 0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    tiff.extend_from_slice(text.as_bytes());
    let mut segment = b"Exif\0\0".to_vec();
    segment.extend_from_slice(&tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((segment.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// An animated GIF of `frames` frames with a comment block in it.
fn animated_gif(width: u16, height: u16, frames: usize, comment: &str) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [255, 0, 0, 0, 0, 255];
        let mut encoder = gif::Encoder::new(&mut out, width, height, &palette).unwrap();
        encoder.set_repeat(gif::Repeat::Infinite).unwrap();
        encoder
            .write_raw_extension(gif::AnyExtension(0xFE), &[comment.as_bytes()])
            .unwrap();
        for n in 0..frames {
            let frame = gif::Frame {
                width,
                height,
                delay: 10,
                buffer: Cow::Owned(vec![
                    (n % 2) as u8;
                    usize::from(width) * usize::from(height)
                ]),
                ..gif::Frame::default()
            };
            encoder.write_frame(&frame).unwrap();
        }
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A tiny PNG whose header claims `width` x `height` pixels (with a valid
/// checksum, so only the size gives it away).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(8, 8);
    // Signature (8), length (4), "IHDR" (4), then width and height.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A tiny JPEG whose frame header claims `width` x `height` pixels.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(8, 8);
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline JPEG has a SOF0 segment");
    // Marker (2), length (2), precision (1), then height and width.
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A GIF whose canvas and only frame claim 65535x65535 pixels.
fn gif_bomb() -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0, 0]);
    bytes.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    bytes.extend_from_slice(&[0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0]);
    bytes.extend_from_slice(&[2, 2, 0x4C, 0x01, 0, 0x3B]);
    bytes
}

// ---- helpers ----

async fn upload(app: &TestApp, owner: &Actor, bytes: Vec<u8>) -> Result<MediaAttachment, Error> {
    media::upload(&app.state, owner, Bytes::from(bytes), None, None).await
}

fn file_name(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

fn path_of(app: &TestApp, url: &str) -> PathBuf {
    app.config.media_dir().join(file_name(url))
}

fn stored_image(app: &TestApp, url: &str) -> DynamicImage {
    image::load_from_memory(&std::fs::read(path_of(app, url)).unwrap()).unwrap()
}

/// Files in the media directory.
fn files_on_disk(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.config.media_dir()) {
        Ok(entries) => {
            let mut names: Vec<String> = entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        }
        Err(_) => Vec::new(),
    }
}

async fn upload_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from uploads")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[derive(Debug, sqlx::FromRow)]
struct Row {
    post_id: Option<i64>,
    content_type: String,
    small_content_type: String,
    file_size: i32,
    description: String,
    focal_x: Option<f32>,
    focal_y: Option<f32>,
}

async fn row(app: &TestApp, id: i64) -> Option<Row> {
    sqlx::query_as(
        "select post_id, content_type, small_content_type, file_size, description,
                focal_x, focal_y
         from uploads where id = $1",
    )
    .bind(id)
    .fetch_optional(&app.db)
    .await
    .unwrap()
}

#[derive(Debug, sqlx::FromRow, PartialEq)]
struct AttachmentRow {
    id: i64,
    url: String,
    media_type: Option<String>,
    description: String,
    blurhash: Option<String>,
    focal_x: Option<f32>,
    focal_y: Option<f32>,
    width: Option<i32>,
    height: Option<i32>,
}

async fn attachment_rows(app: &TestApp, post_id: i64) -> Vec<AttachmentRow> {
    sqlx::query_as(
        "select id, url, media_type, description, blurhash, focal_x, focal_y, width, height
         from attachments where post_id = $1 order by position",
    )
    .bind(post_id)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

fn draft<'a>(
    text: &'a str,
    media_ids: Option<&'a [i64]>,
    media_attributes: &'a [MediaAttributes<'a>],
) -> posts::Draft<'a> {
    posts::Draft {
        text,
        spoiler: "",
        sensitive: false,
        language: Some("en"),
        visibility: Visibility::Public,
        in_reply_to: None,
        poll: None,
        quote_of: None,
        quote_policy: Default::default(),
        reply_policy: Default::default(),
        media_ids,
        media_attributes,
    }
}

fn validation(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::Validation(message)) => message,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

// ---- tests ----

#[tokio::test]
async fn each_accepted_type_is_stored_re_encoded_with_a_preview_and_a_blurhash() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let webp = encoded(&picture(300, 200).into(), ImageFormat::WebP);
    let still_gif = encoded(&picture(120, 80).into(), ImageFormat::Gif);
    // What was sent, its bytes, the stored and preview types, the size.
    type Case = (
        &'static str,
        Vec<u8>,
        &'static str,
        &'static str,
        (u32, u32),
    );
    let cases: Vec<Case> = vec![
        ("png", png(300, 200), "image/png", "image/png", (300, 200)),
        (
            "jpeg",
            jpeg(300, 200),
            "image/jpeg",
            "image/jpeg",
            (300, 200),
        ),
        ("webp", webp, "image/jpeg", "image/jpeg", (300, 200)),
        ("gif", still_gif, "image/png", "image/png", (120, 80)),
        (
            "png with alpha",
            png_with_alpha(64, 64),
            "image/png",
            "image/png",
            (64, 64),
        ),
    ];
    for (what, bytes, original_type, small_type, (width, height)) in cases {
        let media = upload(&app, &alice, bytes).await.unwrap();
        assert_eq!(media.kind, "image", "{what}");
        assert_eq!(media.content_type, original_type, "{what}");
        assert_eq!(media.post_id, None);
        assert_eq!(media.description, None);
        let blurhash = media.blurhash.clone().expect("a blurhash");
        // 4x4 components: size, maximum, DC and 15 AC values.
        assert_eq!(blurhash.len(), 2 + 4 + 15 * 2, "{what}: {blurhash}");
        assert_eq!(
            (media.meta.original.width, media.meta.original.height),
            (width, height),
            "{what}"
        );
        assert_eq!(media.meta.original.size, format!("{width}x{height}"));
        assert!((media.meta.original.aspect - f64::from(width) / f64::from(height)).abs() < 1e-9);
        assert!(media.url.starts_with(&format!("{}/media/", app.base)));

        let stored = row(&app, media.id).await.expect("a row");
        assert_eq!(stored.content_type, original_type, "{what}");
        assert_eq!(stored.small_content_type, small_type, "{what}");
        let on_disk = std::fs::read(path_of(&app, &media.url)).unwrap();
        assert_eq!(stored.file_size as usize, on_disk.len());
        assert_eq!(
            image::guess_format(&on_disk).unwrap().to_mime_type(),
            original_type,
            "{what}"
        );
        assert_eq!(stored_image(&app, &media.url).dimensions(), (width, height));
        let small = stored_image(&app, &media.preview_url);
        assert_eq!(
            small.dimensions(),
            (media.meta.small.width, media.meta.small.height)
        );
        if what == "png with alpha" {
            assert!(small.color().has_alpha(), "transparency is kept");
        }
    }
    assert_eq!(upload_count(&app).await, 5);
    assert_eq!(files_on_disk(&app).len(), 10);
}

#[tokio::test]
async fn large_images_are_scaled_to_mastodons_sizes_keeping_their_shape() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let media = upload(&app, &alice, png(4000, 2500)).await.unwrap();
    let original = &media.meta.original;
    let small = &media.meta.small;
    let pixels = |d: &skein::db::uploads::Dimensions| u64::from(d.width) * u64::from(d.height);
    // At most 3840x2160 worth of pixels, and hardly fewer.
    assert!(pixels(original) <= 3840 * 2160, "{original:?}");
    assert!(pixels(original) > 3840 * 2160 * 99 / 100, "{original:?}");
    assert!((original.aspect - 1.6).abs() < 0.01, "{original:?}");
    // The preview: at most 640x360 worth.
    assert!(pixels(small) <= 640 * 360, "{small:?}");
    assert!(pixels(small) > 640 * 360 * 98 / 100, "{small:?}");
    assert!((small.aspect - 1.6).abs() < 0.01, "{small:?}");
    assert_eq!(
        stored_image(&app, &media.url).dimensions(),
        (original.width, original.height)
    );
    assert_eq!(
        stored_image(&app, &media.preview_url).dimensions(),
        (small.width, small.height)
    );
}

#[tokio::test]
async fn exif_is_dropped_after_its_orientation_turns_the_picture_upright() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    // 40x20, left half red and right half blue, stored sideways: the EXIF
    // orientation says to turn it 90° clockwise, so the red half goes on top.
    let sideways = RgbImage::from_fn(40, 20, |x, _| {
        if x < 20 {
            Rgb([255, 0, 0])
        } else {
            Rgb([0, 0, 255])
        }
    });
    let secret = "GPS 48.8584 N 2.2945 E";
    let bytes = with_exif(&encoded(&sideways.into(), ImageFormat::Jpeg), secret);
    assert!(bytes.windows(4).any(|w| w == b"Exif"));

    let media = upload(&app, &alice, bytes).await.unwrap();
    assert_eq!(media.content_type, "image/jpeg");
    assert_eq!(
        (media.meta.original.width, media.meta.original.height),
        (20, 40)
    );
    for url in [&media.url, &media.preview_url] {
        let stored = std::fs::read(path_of(&app, url)).unwrap();
        assert!(!stored.windows(4).any(|w| w == b"Exif"), "no EXIF left");
        assert!(
            !stored.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "nothing of the EXIF block left"
        );
    }
    let upright = stored_image(&app, &media.url).to_rgb8();
    assert_eq!(upright.dimensions(), (20, 40));
    let top = upright.get_pixel(10, 5);
    let bottom = upright.get_pixel(10, 35);
    assert!(top[0] > 200 && top[2] < 60, "red on top: {top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "blue below: {bottom:?}");
}

#[tokio::test]
async fn animated_gifs_keep_their_frames_and_lose_their_comments() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let comment = "made on my secret laptop";
    let media = upload(&app, &alice, animated_gif(30, 20, 3, comment))
        .await
        .unwrap();
    assert_eq!(media.kind, "image");
    assert_eq!(media.content_type, "image/gif");
    assert!(media.blurhash.is_some());
    let stored = std::fs::read(path_of(&app, &media.url)).unwrap();
    assert!(
        !stored
            .windows(comment.len())
            .any(|w| w == comment.as_bytes())
    );
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::Indexed);
    let mut decoder = options.read_info(stored.as_slice()).unwrap();
    assert_eq!((decoder.width(), decoder.height()), (30, 20));
    assert_eq!(decoder.repeat(), gif::Repeat::Infinite);
    let mut frames = 0;
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert_eq!(frame.delay, 10);
        frames += 1;
    }
    assert_eq!(frames, 3);
    // The preview is the first frame, still.
    let small = stored_image(&app, &media.preview_url);
    assert_eq!(small.dimensions(), (30, 20));
    assert_eq!(
        row(&app, media.id).await.unwrap().small_content_type,
        "image/png"
    );
}

#[tokio::test]
async fn files_that_are_not_images_are_refused_whatever_they_claim_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    // What a browser would run if it were served as HTML: the service never
    // sees a file name or a declared type, only bytes.
    let html = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let mut truncated = png(64, 64);
    truncated.truncate(60);
    for (what, bytes) in [("html", html), ("svg", svg), ("empty", Vec::new())] {
        let message = validation(upload(&app, &alice, bytes).await);
        assert!(
            // Neither an image nor video or audio ffprobe knows.
            message.contains("not an image, video or audio") || message.contains("empty"),
            "{what}: {message}"
        );
    }
    let message = validation(upload(&app, &alice, truncated).await);
    assert!(message.contains("cannot be read"), "{message}");
    assert_eq!(upload_count(&app).await, 0);
    assert!(files_on_disk(&app).is_empty());
}

#[tokio::test]
async fn decompression_bombs_and_oversized_files_are_refused_before_decoding() {
    let app =
        TestApp::spawn_with(Options::named("alpha").env("SKEIN_MEDIA__MAX_IMAGE_BYTES", "100000"))
            .await;
    let alice = app.create_user("alice").await.actor;
    for (what, bytes) in [
        ("png", png_claiming(100_000, 100_000)),
        ("jpeg", jpeg_claiming(60_000, 60_000)),
        ("gif", gif_bomb()),
        ("wide png", png_claiming(20_000, 10)),
    ] {
        assert!(bytes.len() < 2_000, "{what} is small");
        let message = validation(upload(&app, &alice, bytes).await);
        assert!(message.contains("pixels"), "{what}: {message}");
    }
    // 8000x4500 is above Mastodon's 7680x4320 even when the file is small.
    let message = validation(upload(&app, &alice, png_claiming(8000, 4500)).await);
    assert!(message.contains("8000x4500"), "{message}");
    // The byte limit comes from the configuration.
    let mut state = 0x2545_F491_u32;
    let noisy = RgbImage::from_fn(400, 400, |_, _| {
        // xorshift: noise no encoder can squeeze.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        Rgb([r, g, b])
    });
    let big = encoded(&noisy.into(), ImageFormat::Png);
    assert!(big.len() > 100_000);
    let message = validation(upload(&app, &alice, big).await);
    assert!(message.contains("at most 100000 bytes"), "{message}");
    assert_eq!(upload_count(&app).await, 0);
    assert!(files_on_disk(&app).is_empty());
}

#[tokio::test]
async fn files_are_served_with_their_type_and_locked_down_and_other_names_are_not_found() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let media = upload(&app, &alice, png(50, 40)).await.unwrap();
    for (url, kind) in [(&media.url, "image/png"), (&media.preview_url, "image/png")] {
        let response = app.client.get(url.as_str()).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_string())
        };
        assert_eq!(header("content-type").as_deref(), Some(kind));
        assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
        assert_eq!(
            header("content-security-policy").as_deref(),
            Some("default-src 'none'; sandbox")
        );
        let cache = header("cache-control").unwrap();
        assert!(cache.contains("max-age=31536000"), "{cache}");
        let on_disk = std::fs::read(path_of(&app, url)).unwrap();
        assert_eq!(header("content-length"), Some(on_disk.len().to_string()));
        assert_eq!(response.bytes().await.unwrap().as_ref(), on_disk.as_slice());
    }

    // A file in the directory with a name Skein could have made but no row
    // is not served; nor is anything outside the directory.
    let stray = "0123456789abcdef0123456789abcdef.png";
    std::fs::write(app.config.media_dir().join(stray), png(4, 4)).unwrap();
    let secret = app.config.data_dir.join("secret.txt");
    std::fs::write(&secret, "do not serve").unwrap();
    for path in [
        format!("/media/{stray}"),
        "/media/ffffffffffffffffffffffffffffffff.jpg".to_string(),
        "/media/..%2Fsecret.txt".to_string(),
        "/media/%2E%2E%2Fsecret.txt".to_string(),
        "/media/../secret.txt".to_string(),
        format!("/media/{}", file_name(&media.url).to_uppercase()),
        format!("/media/{}.html", file_name(&media.url)),
        "/media/".to_string(),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("do not serve"), "{path}");
    }
}

#[tokio::test]
async fn alt_text_and_focus_can_be_set_until_a_post_carries_the_upload() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let bob = app.create_user("bob").await.actor;
    let media = media::upload(
        &app.state,
        &alice,
        Bytes::from(png(40, 30)),
        Some("  A red square  "),
        Some("0.5,-0.25"),
    )
    .await
    .unwrap();
    assert_eq!(media.description.as_deref(), Some("A red square"));
    let focus = media.focus.unwrap();
    assert_eq!((focus.x, focus.y), (0.5, -0.25));

    let updated = media::update(&app.state, &alice, media.id, Some("A gradient"), None)
        .await
        .unwrap();
    assert_eq!(updated.description.as_deref(), Some("A gradient"));
    assert_eq!(updated.focus, media.focus, "an absent focus is kept");
    let updated = media::update(&app.state, &alice, media.id, None, Some("-1,1"))
        .await
        .unwrap();
    assert_eq!(updated.description.as_deref(), Some("A gradient"));
    let stored = row(&app, media.id).await.unwrap();
    assert_eq!(stored.description, "A gradient");
    assert_eq!((stored.focal_x, stored.focal_y), (Some(-1.0), Some(1.0)));
    assert_eq!(
        media::find(&app.state, &alice, media.id).await.unwrap(),
        updated
    );

    // Bad values change nothing.
    let too_long = "a".repeat(1501);
    validation(media::update(&app.state, &alice, media.id, Some(&too_long), None).await);
    validation(media::update(&app.state, &alice, media.id, None, Some("2,0")).await);
    validation(media::upload(&app.state, &alice, Bytes::from(png(4, 4)), None, Some("x")).await);
    assert_eq!(row(&app, media.id).await.unwrap().description, "A gradient");

    // Another account's upload is not found.
    assert!(matches!(
        media::find(&app.state, &bob, media.id).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        media::update(&app.state, &bob, media.id, Some("mine"), None).await,
        Err(Error::NotFound)
    ));

    // Once attached, as in Mastodon, only an edit of the post changes it.
    posts::create(&app.state, &alice, draft("look", Some(&[media.id]), &[]))
        .await
        .unwrap();
    assert!(matches!(
        media::update(&app.state, &alice, media.id, Some("later"), None).await,
        Err(Error::NotFound)
    ));
    let found = media::find(&app.state, &alice, media.id).await.unwrap();
    assert!(found.post_id.is_some());
    assert_eq!(found.description.as_deref(), Some("A gradient"));
}

#[tokio::test]
async fn a_post_carries_only_its_authors_free_uploads_and_at_most_four() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let bob = app.create_user("bob").await.actor;
    let mut mine = Vec::new();
    for _ in 0..5 {
        mine.push(upload(&app, &alice, png(8, 8)).await.unwrap().id);
    }
    let bobs = upload(&app, &bob, png(8, 8)).await.unwrap().id;

    let posts_before: i64 = sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let message =
        validation(posts::create(&app.state, &alice, draft("five", Some(&mine), &[])).await);
    assert!(message.contains("at most 4"), "{message}");
    let message = validation(
        posts::create(
            &app.state,
            &alice,
            draft("bob's", Some(&[mine[0], bobs]), &[]),
        )
        .await,
    );
    assert!(message.contains("not one of yours"), "{message}");
    let message = validation(
        posts::create(
            &app.state,
            &alice,
            draft("twice", Some(&[mine[0], mine[0]]), &[]),
        )
        .await,
    );
    assert!(message.contains("twice"), "{message}");
    let unknown = [mine[0] + 12345];
    validation(posts::create(&app.state, &alice, draft("unknown", Some(&unknown), &[])).await);
    let stray = [MediaAttributes {
        id: mine[1],
        description: Some("not in the post"),
        focus: None,
    }];
    validation(posts::create(&app.state, &alice, draft("stray", Some(&[mine[0]]), &stray)).await);
    let poll = posts::Draft {
        poll: Some(posts::PollDraft {
            options: vec!["yes".into(), "no".into()],
            multiple: false,
            expires_in: chrono::Duration::days(1),
        }),
        ..draft("vote", Some(&mine[..1]), &[])
    };
    let message = validation(posts::create(&app.state, &alice, poll).await);
    assert!(message.contains("either a poll or media"), "{message}");
    let message = validation(posts::create(&app.state, &alice, draft("  ", None, &[])).await);
    assert!(message.contains("text or media"), "{message}");
    let posts_after: i64 = sqlx::query_scalar("select count(*) from posts")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(posts_before, posts_after);

    let first = posts::create(&app.state, &alice, draft("", Some(&mine[..2]), &[]))
        .await
        .unwrap();
    assert_eq!(row(&app, mine[0]).await.unwrap().post_id, Some(first.id));
    let message = validation(
        posts::create(
            &app.state,
            &alice,
            draft("again", Some(&[mine[1], mine[2]]), &[]),
        )
        .await,
    );
    assert!(message.contains("already attached"), "{message}");
    assert_eq!(row(&app, mine[2]).await.unwrap().post_id, None);
}

#[tokio::test]
async fn a_post_with_media_reaches_followers_as_documents_with_alt_text_blurhash_and_focus() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let fake = FakeServer::spawn("remote").await;
    let follower = fake.add_actor("fan", false);
    let follow = json!({
        "id": format!("{}/activities/follow-fan", fake.base),
        "type": "Follow",
        "actor": follower.id,
        "object": alice.ap_id,
    });
    assert_eq!(
        app.post_signed(&fake, &follower, "/inbox", follow).await,
        202
    );
    app.deliver().await;

    let photo = media::upload(
        &app.state,
        &alice,
        Bytes::from(jpeg(320, 240)),
        Some("A sunset over the sea"),
        Some("-0.5,0.25"),
    )
    .await
    .unwrap();
    let plain = upload(&app, &alice, png(10, 20)).await.unwrap();
    let post = posts::create(
        &app.state,
        &alice,
        draft("Holiday", Some(&[photo.id, plain.id]), &[]),
    )
    .await
    .unwrap();
    app.deliver().await;

    let create = fake
        .received()
        .into_iter()
        .find(|r| r.body["type"] == "Create")
        .expect("the Create reached the follower");
    let attachment = &create.body["object"]["attachment"];
    assert_eq!(
        attachment[0],
        json!({
            "type": "Document",
            "mediaType": "image/jpeg",
            "url": photo.url,
            "name": "A sunset over the sea",
            "blurhash": photo.blurhash,
            "focalPoint": [-0.5, 0.25],
            "width": 320,
            "height": 240,
        })
    );
    assert_eq!(attachment[1]["url"], plain.url.as_str());
    assert_eq!(attachment[1]["mediaType"], "image/png");
    assert_eq!(attachment[1]["name"], Value::Null);
    assert!(attachment[1].get("focalPoint").is_none());
    assert_eq!(create.body["@context"][1]["blurhash"], "toot:blurhash");

    // The Note alpha serves says the same, and the post's attachments are
    // the uploads, under their ids.
    let note: Value = app
        .get_ap(post.ap_id.strip_prefix(&app.base).unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&note["attachment"], attachment);
    let rows = attachment_rows(&app, post.id).await;
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![photo.id, plain.id]
    );
    assert_eq!(rows[0].description, "A sunset over the sea");
}

#[tokio::test]
async fn another_skein_stores_the_media_of_posts_and_of_their_edits() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let remote_alice = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &remote_alice)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;

    let cat = media::upload(
        &alpha.state,
        &alice,
        Bytes::from(png(64, 48)),
        Some("A cat asleep"),
        Some("0.1,0.2"),
    )
    .await
    .unwrap();
    let dog = upload(&alpha, &alice, jpeg(48, 64)).await.unwrap();
    // Media and no text, as Mastodon allows.
    let post = posts::create(
        &alpha.state,
        &alice,
        draft("", Some(&[cat.id, dog.id]), &[]),
    )
    .await
    .unwrap();
    assert_eq!(alpha.deliver().await, 1);

    let copy = beta.post(&post.ap_id).await;
    let rows = attachment_rows(&beta, copy.id).await;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].url, cat.url);
    assert_eq!(rows[0].media_type.as_deref(), Some("image/png"));
    assert_eq!(rows[0].description, "A cat asleep");
    assert_eq!(rows[0].blurhash, cat.blurhash);
    assert_eq!((rows[0].focal_x, rows[0].focal_y), (Some(0.1), Some(0.2)));
    assert_eq!((rows[0].width, rows[0].height), (Some(64), Some(48)));
    assert_eq!(rows[1].url, dog.url);
    assert_eq!(rows[1].description, "");

    // The edit drops the cat and describes the dog; beta follows, and the
    // cat's files are gone from alpha.
    alpha.clock.advance(chrono::Duration::minutes(5));
    let described = [MediaAttributes {
        id: dog.id,
        description: Some("A dog awake"),
        focus: Some("0,1"),
    }];
    posts::edit(
        &alpha.state,
        &alice,
        &post,
        draft("Now only the dog", Some(&[dog.id]), &described),
    )
    .await
    .unwrap();
    assert_eq!(alpha.deliver().await, 1);
    let rows = attachment_rows(&beta, copy.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].url, dog.url);
    assert_eq!(rows[0].description, "A dog awake");
    assert_eq!((rows[0].focal_x, rows[0].focal_y), (Some(0.0), Some(1.0)));
    assert!(row(&alpha, cat.id).await.is_none());
    assert!(!path_of(&alpha, &cat.url).exists());
    assert!(!path_of(&alpha, &cat.preview_url).exists());
    assert_eq!(
        alpha
            .get(&format!("/media/{}", file_name(&cat.url)))
            .await
            .status(),
        404
    );
    assert_eq!(
        row(&alpha, dog.id).await.unwrap().description,
        "A dog awake"
    );

    // An edit without a media list keeps the media.
    alpha.clock.advance(chrono::Duration::minutes(5));
    let edited = alpha.post(&post.ap_id).await;
    posts::edit(
        &alpha.state,
        &alice,
        &edited,
        draft("Still the dog", None, &[]),
    )
    .await
    .unwrap();
    alpha.deliver().await;
    assert_eq!(attachment_rows(&alpha, post.id).await.len(), 1);
    assert_eq!(attachment_rows(&beta, copy.id).await.len(), 1);
}

#[tokio::test]
async fn deleting_a_post_removes_its_media_and_their_files() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let one = upload(&app, &alice, png(16, 16)).await.unwrap();
    let two = upload(&app, &alice, jpeg(16, 16)).await.unwrap();
    let kept = upload(&app, &alice, png(16, 16)).await.unwrap();
    let post = posts::create(
        &app.state,
        &alice,
        draft("bye", Some(&[one.id, two.id]), &[]),
    )
    .await
    .unwrap();
    assert_eq!(files_on_disk(&app).len(), 6);
    assert_eq!(
        app.get(&format!("/media/{}", file_name(&one.url)))
            .await
            .status(),
        200
    );

    posts::delete(&app.state, &alice, &post).await.unwrap();
    assert!(row(&app, one.id).await.is_none());
    assert!(row(&app, two.id).await.is_none());
    assert!(attachment_rows(&app, post.id).await.is_empty());
    let mut left = vec![file_name(&kept.url), file_name(&kept.preview_url)];
    left.sort();
    assert_eq!(files_on_disk(&app), left);
    assert_eq!(
        app.get(&format!("/media/{}", file_name(&one.url)))
            .await
            .status(),
        404
    );
    assert!(row(&app, kept.id).await.is_some());
}

#[tokio::test]
async fn uploads_no_post_took_are_removed_after_a_day() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let used = upload(&app, &alice, png(16, 16)).await.unwrap();
    let forgotten = upload(&app, &alice, png(16, 16)).await.unwrap();
    posts::create(&app.state, &alice, draft("used", Some(&[used.id]), &[]))
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::hours(12));
    let recent = upload(&app, &alice, png(16, 16)).await.unwrap();

    app.clock.advance(chrono::Duration::hours(11));
    assert_eq!(media::remove_stale(&app.state).await.unwrap(), 0);
    assert_eq!(upload_count(&app).await, 3);

    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(media::remove_stale(&app.state).await.unwrap(), 1);
    assert!(row(&app, forgotten.id).await.is_none());
    assert!(!path_of(&app, &forgotten.url).exists());
    assert!(!path_of(&app, &forgotten.preview_url).exists());
    assert!(row(&app, used.id).await.is_some());
    assert!(path_of(&app, &used.url).exists());
    assert!(row(&app, recent.id).await.is_some());
    assert!(path_of(&app, &recent.url).exists());

    // A removed upload can no longer be attached.
    let message = validation(
        posts::create(
            &app.state,
            &alice,
            draft("late", Some(&[forgotten.id]), &[]),
        )
        .await,
    );
    assert!(message.contains("not one of yours"), "{message}");
}
