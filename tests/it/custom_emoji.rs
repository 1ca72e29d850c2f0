//! The instance's own custom emoji (Mastodon's local CustomEmoji): uploaded
//! by admins in the web admin area (stored through the media store, each
//! change audit-logged), listed by `/api/v1/custom_emojis`, shown for
//! `:shortcode:` in local posts and names, federated as `Emoji` tags whose
//! id serves the `Emoji` object, and hidden everywhere once disabled.

use std::borrow::Cow;

use reqwest::multipart;
use serde_json::{Value, json};

use crate::harness::{Options, TestApp};
use crate::web::{Browser, csrf};

/// A PNG of `side` x `side` pixels.
fn png(side: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    let image = image::RgbaImage::from_pixel(side, side, image::Rgba([250, 200, 40, 255]));
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

/// A PNG of noise, larger than 256 KiB.
fn big_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut seed: u32 = 7;
    let image = image::RgbImage::from_fn(400, 400, |_, _| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let [a, b, c, _] = seed.to_be_bytes();
        image::Rgb([a, b, c])
    });
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    assert!(bytes.len() > 256 * 1024, "{}", bytes.len());
    bytes
}

/// An animated GIF of two frames.
fn animated_gif() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette = [255, 0, 0, 0, 0, 255];
        let mut encoder = gif::Encoder::new(&mut out, 16, 16, &palette).unwrap();
        encoder.set_repeat(gif::Repeat::Infinite).unwrap();
        for n in 0..2u8 {
            let frame = gif::Frame {
                width: 16,
                height: 16,
                delay: 10,
                buffer: Cow::Owned(vec![n; 256]),
                ..gif::Frame::default()
            };
            encoder.write_frame(&frame).unwrap();
        }
    }
    out
}

/// The stored emoji: (id, shortcode, file_key, static_key, content_type,
/// category, visible_in_picker, disabled).
type Row = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    bool,
    bool,
);

async fn stored(app: &TestApp) -> Vec<Row> {
    sqlx::query_as(
        "select id, shortcode, file_key, static_key, content_type, category,
                visible_in_picker, disabled
         from custom_emojis order by shortcode",
    )
    .fetch_all(&app.db)
    .await
    .unwrap()
}

fn media_files(app: &TestApp) -> Vec<String> {
    match std::fs::read_dir(app.config.media_dir()) {
        Ok(dir) => {
            let mut names: Vec<String> = dir
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect();
            names.sort();
            names
        }
        Err(_) => Vec::new(),
    }
}

/// Uploads an emoji through the admin form.
async fn upload(
    browser: &mut Browser<'_>,
    token: &str,
    shortcode: &str,
    category: &str,
    file: (&str, &str, Vec<u8>),
) -> crate::web::Page {
    let (name, mime, bytes) = file;
    let part = multipart::Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str(mime)
        .unwrap();
    let form = multipart::Form::new()
        .text("csrf_token", token.to_string())
        .text("shortcode", shortcode.to_string())
        .text("category", category.to_string())
        .text("visible_in_picker", "1")
        .part("image", part);
    browser.post_multipart("/admin/custom_emojis", form).await
}

async fn get(app: &TestApp, url: &str) -> (u16, String, Vec<u8>) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

#[tokio::test]
async fn admins_upload_change_disable_and_delete_emoji_and_bad_uploads_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_staff("root", "admin").await;
    app.create_staff("mod", "moderator").await;

    // Moderators do not manage emoji.
    let mut moderator = Browser::new(&app);
    moderator.sign_in("mod").await;
    assert_eq!(moderator.get("/admin/custom_emojis").await.status, 403);
    let token = moderator.token().await;
    let refused = upload(
        &mut moderator,
        &token,
        "blobcat",
        "",
        ("blobcat.png", "image/png", png(32)),
    )
    .await;
    assert_eq!(refused.status, 403);
    assert!(stored(&app).await.is_empty());

    let mut admin = Browser::new(&app);
    admin.sign_in("root").await;
    let page = admin.get("/admin/custom_emojis").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("This server has no custom emoji yet."));
    let token = csrf(&page.body);

    let added = upload(
        &mut admin,
        &token,
        "blobcat",
        "Blobs",
        ("blobcat.png", "image/png", png(32)),
    )
    .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let rows = stored(&app).await;
    assert_eq!(rows.len(), 1);
    let (id, shortcode, file_key, static_key, content_type, category, picker, disabled) =
        rows[0].clone();
    assert_eq!(shortcode, "blobcat");
    assert_eq!(content_type, "image/png");
    assert_eq!(category.as_deref(), Some("Blobs"));
    assert!(picker && !disabled);
    assert_eq!(
        static_key, file_key,
        "a still image is its own static image"
    );
    assert_eq!(media_files(&app), vec![file_key.clone()]);
    let (status, served, body) = get(&app, &app.url(&format!("/media/{file_key}"))).await;
    assert_eq!((status, served.as_str()), (200, "image/png"));
    let image = image::load_from_memory(&body).unwrap();
    assert_eq!((image.width(), image.height()), (32, 32));
    let logged: Vec<(String, String)> = sqlx::query_as(
        "select action, target from admin_actions where target_type = 'custom_emoji' order by id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(logged, vec![("custom_emoji.create".into(), id.to_string())]);

    // Refused: bad shortcodes, a taken one, too large, not an image, a JPEG.
    let jpeg = {
        let mut bytes = Vec::new();
        image::RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]))
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        bytes
    };
    for (shortcode, file, message) in [
        (
            "a",
            ("a.png", "image/png", png(8)),
            "Shortcode must be at least 2 characters",
        ),
        (
            "blob-dog",
            ("b.png", "image/png", png(8)),
            "Shortcode must be at least 2 characters",
        ),
        (
            "blobcat",
            ("c.png", "image/png", png(8)),
            "Shortcode has already been taken",
        ),
        (
            "huge",
            ("huge.png", "image/png", big_png()),
            "Image must be smaller than 256 KiB",
        ),
        (
            "text",
            ("notes.png", "image/png", b"just some text".to_vec()),
            "Image must be a PNG, GIF or WebP image",
        ),
        (
            "photo",
            ("photo.jpg", "image/jpeg", jpeg),
            "Image must be a PNG, GIF or WebP image",
        ),
    ] {
        let page = upload(&mut admin, &token, shortcode, "", file).await;
        assert_eq!(page.status, 422, "{shortcode}: {}", page.body);
        assert!(page.body.contains(message), "{shortcode}: {}", page.body);
        assert!(
            page.body.contains(&format!("value=\"{shortcode}\"")),
            "what was typed stays"
        );
    }
    assert_eq!(stored(&app).await.len(), 1, "nothing was added");
    assert_eq!(media_files(&app), vec![file_key.clone()], "nor stored");

    // An animated GIF stays animated, with a PNG of its first frame.
    let added = upload(
        &mut admin,
        &token,
        "blobdance",
        "",
        ("dance.gif", "image/gif", animated_gif()),
    )
    .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let rows = stored(&app).await;
    let dance = rows.iter().find(|r| r.1 == "blobdance").unwrap().clone();
    assert_eq!(dance.4, "image/gif");
    assert_ne!(dance.2, dance.3);
    let (status, served, body) = get(&app, &app.url(&format!("/media/{}", dance.2))).await;
    assert_eq!((status, served.as_str()), (200, "image/gif"));
    assert!(body.starts_with(b"GIF89a"));
    let (status, served, _) = get(&app, &app.url(&format!("/media/{}", dance.3))).await;
    assert_eq!((status, served.as_str()), (200, "image/png"));

    // Apps list the enabled ones, publicly and cached.
    let response = app
        .client
        .get(app.url("/api/v1/custom_emojis"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["cache-control"].to_str().unwrap(),
        "public, max-age=180"
    );
    let list: Value = response.json().await.unwrap();
    assert_eq!(
        list,
        json!([
            {
                "shortcode": "blobcat",
                "url": app.url(&format!("/media/{file_key}")),
                "static_url": app.url(&format!("/media/{file_key}")),
                "visible_in_picker": true,
                "category": "Blobs",
            },
            {
                "shortcode": "blobdance",
                "url": app.url(&format!("/media/{}", dance.2)),
                "static_url": app.url(&format!("/media/{}", dance.3)),
                "visible_in_picker": true,
            },
        ])
    );

    // Out of the picker and disabled: gone from the list.
    let saved = admin
        .post(
            &format!("/admin/custom_emojis/{}/save", dance.0),
            &[("csrf_token", &token), ("category", "Moving")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let rows = stored(&app).await;
    let dance_now = rows.iter().find(|r| r.1 == "blobdance").unwrap();
    assert_eq!(dance_now.5.as_deref(), Some("Moving"));
    assert!(!dance_now.6 && dance_now.7, "out of the picker, disabled");
    let (_, _, list) = app
        .api(reqwest::Method::GET, "/api/v1/custom_emojis", None, None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["shortcode"], "blobcat");
    let page = admin.get("/admin/custom_emojis").await;
    assert!(page.body.contains(":blobdance:") && page.body.contains("(disabled)"));

    // Deleted: the row and both files go.
    let deleted = admin
        .post(
            &format!("/admin/custom_emojis/{}/delete", dance.0),
            &[("csrf_token", &token)],
        )
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(stored(&app).await.len(), 1);
    assert_eq!(media_files(&app), vec![file_key.clone()]);
    assert_eq!(
        get(&app, &app.url(&format!("/media/{}", dance.2))).await.0,
        404
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from admin_actions where target_type = 'custom_emoji' order by id",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "custom_emoji.create",
            "custom_emoji.create",
            "custom_emoji.disable",
            "custom_emoji.destroy"
        ]
    );
}

/// `bob` on beta follows `alice` on alpha.
async fn follow_across(alpha: &TestApp, beta: &TestApp, bob: &str) {
    let (_, found) = beta
        .api_get(
            bob,
            &format!(
                "/api/v2/search?q=%40{}&resolve=true&type=accounts",
                alpha.handle("alice")
            ),
        )
        .await;
    let id = found["accounts"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = beta
        .api_post(bob, &format!("/api/v1/accounts/{id}/follow"), json!({}))
        .await;
    assert_eq!(status, 200);
    beta.deliver().await;
    alpha.deliver().await;
}

#[tokio::test]
async fn a_local_post_and_name_show_the_emoji_and_another_skein_shows_it_too() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_staff("root", "admin").await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = alpha.token("alice").await;
    let bob = beta.token("bob").await;
    follow_across(&alpha, &beta, &bob).await;

    let mut admin = Browser::new(&alpha);
    admin.sign_in("root").await;
    let token = admin.token().await;
    let added = upload(
        &mut admin,
        &token,
        "blobcat",
        "",
        ("blobcat.png", "image/png", png(32)),
    )
    .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let (emoji_id, file_key): (i64, String) =
        sqlx::query_as("select id, file_key from custom_emojis where shortcode = 'blobcat'")
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    let image_url = alpha.url(&format!("/media/{file_key}"));
    let emoji_ap_id = alpha.url(&format!("/emojis/{emoji_id}"));

    // The composer offers it; without script its button adds the shortcode.
    let mut web = Browser::new(&alpha);
    web.sign_in("alice").await;
    let home = web.get("/home").await;
    assert!(
        home.body.contains(r#"name="insert_emoji" value="blobcat""#),
        "{}",
        home.body
    );
    let web_token = csrf(&home.body);
    let inserted = web
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", web_token)
                .text("text", "Hello")
                .text("insert_emoji", "blobcat"),
        )
        .await;
    assert_eq!(inserted.status, 200, "{}", inserted.body);
    assert!(inserted.body.contains(">Hello :blobcat: </textarea>"));

    // The Emoji object, at the id the tags carry.
    let response = alpha.get_ap(&format!("/emojis/{emoji_id}")).await;
    assert_eq!(response.status(), 200);
    let object: Value = response.json().await.unwrap();
    assert_eq!(object["id"], emoji_ap_id);
    assert_eq!(object["type"], "Emoji");
    assert_eq!(object["name"], ":blobcat:");
    assert_eq!(
        object["icon"],
        json!({ "type": "Image", "mediaType": "image/png", "url": image_url })
    );
    assert_eq!(object["@context"][1]["Emoji"], "toot:Emoji");

    // A post and a display name with it.
    let (status, _, account) = alpha
        .api(
            reqwest::Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice),
            Some(json!({ "display_name": "Alice :blobcat:" })),
        )
        .await;
    assert_eq!(status, 200, "{account}");
    assert_eq!(account["emojis"][0]["shortcode"], "blobcat", "{account}");
    assert_eq!(account["emojis"][0]["url"], image_url);
    let actor: Value = alpha.get_ap("/users/alice").await.json().await.unwrap();
    let tag = actor["tag"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "Emoji")
        .cloned()
        .expect("the actor carries the emoji");
    assert_eq!(tag["id"], emoji_ap_id);

    let (status, posted) = alpha
        .api_post(
            &alice,
            "/api/v1/statuses",
            json!({ "status": "Hello :blobcat: and :nothere:" }),
        )
        .await;
    assert_eq!(status, 200, "{posted}");
    assert_eq!(
        posted["emojis"],
        json!([{
            "shortcode": "blobcat",
            "url": image_url,
            "static_url": image_url,
            "visible_in_picker": true,
        }])
    );
    let id = posted["id"].as_str().unwrap().to_string();
    let uri = posted["uri"].as_str().unwrap().to_string();
    let note: Value = alpha
        .client
        .get(&uri)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tags: Vec<&Value> = note["tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "Emoji")
        .collect();
    assert_eq!(tags.len(), 1, "{note}");
    assert_eq!(tags[0]["id"], emoji_ap_id);
    assert_eq!(tags[0]["name"], ":blobcat:");
    assert_eq!(tags[0]["icon"]["url"], image_url);
    assert_eq!(tags[0]["icon"]["mediaType"], "image/png");
    let page = web.get(&format!("/@alice/{id}")).await;
    assert!(
        page.body.contains(&format!(
            r#"<img src="{image_url}" alt=":blobcat:" title=":blobcat:" class="custom-emoji""#
        )),
        "{}",
        page.body
    );
    assert!(page.body.contains(":nothere:"));

    // Delivered to beta, which stores the emoji with the post and shows it.
    alpha.deliver().await;
    let (stored_code, stored_url): (String, String) = sqlx::query_as(
        "select e.shortcode, e.url from post_emojis e join posts p on p.id = e.post_id
         where p.ap_id = $1",
    )
    .bind(&uri)
    .fetch_one(&beta.db)
    .await
    .unwrap();
    assert_eq!(
        (stored_code.as_str(), stored_url.as_str()),
        ("blobcat", image_url.as_str())
    );
    let (_, timeline) = beta.api_get(&bob, "/api/v1/timelines/home").await;
    let there = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["uri"] == uri.as_str())
        .cloned()
        .expect("the post reached bob");
    assert_eq!(there["emojis"][0]["shortcode"], "blobcat", "{there}");
    let mut beta_web = Browser::new(&beta);
    beta_web.sign_in("bob").await;
    let home = beta_web.get("/home?tab=following").await;
    assert!(
        home.body
            .contains(r#"alt=":blobcat:" title=":blobcat:" class="custom-emoji""#),
        "{}",
        home.body
    );

    // Disabled: alpha shows it nowhere and lists it no more.
    let saved = admin
        .post(
            &format!("/admin/custom_emojis/{emoji_id}/save"),
            &[("csrf_token", &token), ("visible_in_picker", "1")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let (_, status) = alpha
        .api_get(&alice, &format!("/api/v1/statuses/{id}"))
        .await;
    assert_eq!(status["emojis"], json!([]), "{status}");
    assert_eq!(status["account"]["emojis"], json!([]));
    let (_, _, list) = alpha
        .api(reqwest::Method::GET, "/api/v1/custom_emojis", None, None)
        .await;
    assert_eq!(list, json!([]));
    let page = web.get(&format!("/@alice/{id}")).await;
    assert!(!page.body.contains(r#"alt=":blobcat:""#));
    assert!(page.body.contains("Hello :blobcat:"));
    let home = web.get("/home").await;
    assert!(!home.body.contains("insert_emoji"));
}
