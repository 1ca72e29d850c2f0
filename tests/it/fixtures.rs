//! Real-world payloads: actors, posts and activities shaped as Mastodon,
//! GoToSocial, Misskey, Pleroma, Akkoma, Lemmy and Threads send them
//! (`tests/fixtures/`, with their sources in its README), delivered signed
//! into a real instance and checked in its database and on its pages.

use serde_json::{Value, json};
use skein::db::{actors::Actor, posts::Post};
use skein::domain::visibility::Visibility;
use skein::service::{follows, posts};

use crate::fake::{FakeActor, FakeServer};
use crate::harness::TestApp;

/// A fake server standing in for one software, and the values the
/// placeholders of its fixtures take.
struct Remote {
    fake: FakeServer,
    software: &'static str,
    vars: Vec<(&'static str, String)>,
}

impl Remote {
    /// A server at `software.test:<port>` facing `app`.
    async fn spawn(app: &TestApp, software: &'static str) -> Remote {
        let fake = FakeServer::spawn(software).await;
        let vars = vec![
            ("host", fake.base.clone()),
            ("host_domain", fake.domain.clone()),
            ("local", app.base.clone()),
            ("local_domain", app.domain.clone()),
        ];
        Remote {
            fake,
            software,
            vars,
        }
    }

    fn set(&mut self, name: &'static str, value: &str) {
        self.vars.retain(|(n, _)| *n != name);
        self.vars.push((name, value.to_string()));
    }

    /// `tests/fixtures/<software>/<file>` with its placeholders filled in.
    fn load(&self, file: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/{}/{file}",
            env!("CARGO_MANIFEST_DIR"),
            self.software
        );
        let mut text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        for (name, value) in &self.vars {
            assert!(!value.contains(['"', '\\']), "{name} would break the JSON");
            text = text.replace(&format!("{{{{{name}}}}}"), value);
        }
        assert!(
            !text.contains("{{"),
            "{path} has a placeholder without value"
        );
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
    }

    /// Serves a fixture at the path of its id; returns its id.
    fn serve(&self, file: &str) -> String {
        let document = self.load(file);
        let id = document["id"].as_str().expect("a served fixture has an id");
        self.fake.serve(&path_of(id), document.clone());
        id.to_string()
    }

    /// Serves an actor fixture with a fresh key pair in place of its key,
    /// and its key document when the key id is not a fragment (GoToSocial);
    /// returns the actor to sign as.
    fn actor(&self, file: &str) -> FakeActor {
        let mut document = self.load(file);
        let pair = activitypub_federation::http_signatures::generate_actor_keypair().unwrap();
        let id = document["id"].as_str().unwrap().to_string();
        let key_id = document["publicKey"]["id"].as_str().unwrap().to_string();
        document["publicKey"]["publicKeyPem"] = json!(pair.public_key);
        let slash_key = !key_id.contains('#');
        if slash_key {
            self.fake.serve(
                &path_of(&key_id),
                json!({
                    "@context": "https://w3id.org/security/v1",
                    "id": key_id, "owner": id, "publicKeyPem": pair.public_key,
                }),
            );
        }
        let name = document["preferredUsername"].as_str().unwrap().to_string();
        self.fake.serve(&path_of(&id), document);
        FakeActor {
            name,
            id,
            key_id,
            private_pem: pair.private_key,
            public_pem: pair.public_key,
            slash_key,
        }
    }

    /// POSTs a fixture to `inbox` on `app`, signed by `actor`; returns the
    /// status.
    async fn send_to(&self, app: &TestApp, actor: &FakeActor, inbox: &str, file: &str) -> u16 {
        app.post_signed(&self.fake, actor, inbox, self.load(file))
            .await
    }

    /// POSTs a fixture to the shared inbox; it must be accepted.
    async fn send(&self, app: &TestApp, actor: &FakeActor, file: &str) {
        assert_eq!(
            self.send_to(app, actor, "/inbox", file).await,
            202,
            "{}/{file}",
            self.software
        );
    }

    /// Asks for a quote of `local_post` (`quote_request.json`), takes the
    /// authorization from the Accept Skein sends back, and posts the quote
    /// with it (`create_quote.json`); returns the authorization.
    async fn quote_with_authorization(&mut self, app: &TestApp, actor: &FakeActor) -> String {
        self.send(app, actor, "quote_request.json").await;
        app.deliver().await;
        let accept = self
            .fake
            .received()
            .into_iter()
            .find(|r| r.body["type"] == "Accept" && r.body["object"]["type"] == "QuoteRequest")
            .expect("the QuoteRequest was answered");
        let authorization = accept.body["result"].as_str().unwrap().to_string();
        self.set("authorization", &authorization);
        self.send(app, actor, "create_quote.json").await;
        authorization
    }
}

fn at(time: &str) -> chrono::DateTime<chrono::Utc> {
    time.parse().unwrap()
}

fn path_of(url: &str) -> String {
    url::Url::parse(url).unwrap().path().to_string()
}

fn draft(text: &str) -> posts::Draft<'_> {
    crate::harness::draft(text, Visibility::Public)
}

/// alice, and a public post of hers.
async fn alice_posts(app: &TestApp) -> (Actor, Post) {
    let alice = app.create_user("alice").await.actor;
    let post = posts::create(
        &app.state,
        &alice,
        draft("Who still bakes their own bread?"),
    )
    .await
    .unwrap();
    (alice, post)
}

async fn mentioned(app: &TestApp, post: &Post) -> Vec<i64> {
    sqlx::query_scalar("select actor_id from post_mentions where post_id = $1 order by actor_id")
        .bind(post.id)
        .fetch_all(&app.db)
        .await
        .unwrap()
}

async fn tags(app: &TestApp, post: &Post) -> Vec<String> {
    skein::db::posts::tags(&app.db, post.id).await.unwrap()
}

/// The notifications of `recipient`: kind, who, which post.
async fn notifications(app: &TestApp, recipient: &Actor) -> Vec<(String, i64, Option<i64>)> {
    sqlx::query_as(
        "select kind, from_actor_id, post_id from notifications where recipient_id = $1 order by id",
    )
    .bind(recipient.id)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn reposts_of(app: &TestApp, post: &Post) -> Vec<(i64, String)> {
    sqlx::query_as(
        "select author_id, visibility from posts where reblog_of_id = $1 and deleted_at is null",
    )
    .bind(post.id)
    .fetch_all(&app.db)
    .await
    .unwrap()
}

async fn was_recorded(app: &TestApp, activity_id: &str) -> bool {
    sqlx::query_scalar("select exists (select 1 from inbox_activities where activity_id = $1)")
        .bind(activity_id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn tag_page(app: &TestApp, tag: &str) -> String {
    let response = app.get(&format!("/tags/{tag}")).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_mastodon_reply_keeps_its_mention_tags_emoji_media_language_and_warning() {
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut mastodon = Remote::spawn(&app, "mastodon").await;
    mastodon.set("local_post", &local.ap_id);
    let ada = mastodon.actor("person.json");

    mastodon.send(&app, &ada, "create_note.json").await;

    let note = mastodon.load("create_note.json")["object"].clone();
    let post = app.post(note["id"].as_str().unwrap()).await;
    let author = app.resolve(&ada.id).await;
    assert_eq!(post.author_id, author.id);
    assert_eq!(
        (author.username.as_str(), author.kind.as_str()),
        ("ada", "Person")
    );
    assert_eq!(author.display_name, "Ada :verified:");
    assert!(
        author.avatar_url.as_deref().unwrap().ends_with("/ada.png"),
        "{author:?}"
    );
    let fields: Vec<&str> = author.fields.0.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(fields, ["Website", "Pronouns"]);
    assert!(
        author.fields.0[0]
            .value
            .contains("<span class=\"invisible\">https://</span>")
    );

    assert_eq!(
        post.visibility,
        skein::domain::visibility::Visibility::Public
    );
    assert_eq!(post.summary, "Engine internals");
    assert!(post.sensitive);
    assert_eq!(post.language.as_deref(), Some("de"));
    assert_eq!(post.url.as_deref(), note["url"].as_str());
    assert!(
        post.content.contains(&format!(
            "<span class=\"h-card\"><a href=\"{}/@alice\" class=\"u-url mention\" rel=\"nofollow noopener noreferrer\">@<span>alice</span></a></span>",
            app.base
        )),
        "{}",
        post.content
    );
    assert!(!post.content.contains("translate="), "{}", post.content);
    assert_eq!(post.in_reply_to_id, Some(local.id));
    assert_eq!(app.post(&local.ap_id).await.replies_count, 1);
    assert_eq!(mentioned(&app, &post).await, vec![alice.id]);
    assert_eq!(tags(&app, &post).await, vec!["engines"]);
    assert_eq!(
        notifications(&app, &alice).await,
        vec![("mention".to_string(), author.id, Some(post.id))]
    );

    // The preview card is a Link, not media: one attachment stays.
    let media = posts::attachments(&app.state, &post).await.unwrap();
    assert_eq!(media.len(), 1, "{media:?}");
    assert_eq!(media[0].kind, "image");
    assert_eq!(media[0].media_type.as_deref(), Some("image/jpeg"));
    assert_eq!(media[0].url, note["attachment"][0]["url"].as_str().unwrap());
    assert_eq!(
        media[0].description,
        "A brass difference engine, its columns of gears lit from the left"
    );
    assert_eq!(
        media[0].blurhash.as_deref(),
        Some("UFGuzTof00WB~qofM{WB9FWB%MWBRjj[t7of")
    );
    assert_eq!(
        (media[0].focal_x, media[0].focal_y),
        (Some(-0.42), Some(0.27))
    );
    assert_eq!((media[0].width, media[0].height), (Some(1600), Some(1200)));
    let emoji_url = format!(
        "{}/system/custom_emojis/images/000/000/012/original/blobcat.png",
        mastodon.fake.base
    );
    assert_eq!(
        posts::emojis(&app.state, &post).await.unwrap(),
        vec![("blobcat".to_string(), emoji_url.clone())]
    );

    let page = tag_page(&app, "engines").await;
    assert!(page.contains("Engine internals"), "{page}");
    assert!(page.contains(&format!("<img src=\"{emoji_url}\" alt=\":blobcat:\"")));
}

#[tokio::test]
async fn mastodon_edits_keep_their_history_and_a_delete_leaves_a_tombstone() {
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut mastodon = Remote::spawn(&app, "mastodon").await;
    mastodon.set("local_post", &local.ap_id);
    let ada = mastodon.actor("person.json");
    mastodon.send(&app, &ada, "create_note.json").await;
    let id = mastodon.load("create_note.json")["object"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = app.post(&id).await;

    mastodon.send(&app, &ada, "update_note.json").await;
    let edited = app.post(&id).await;
    assert!(edited.content.contains("the analytical engine, I meant"));
    assert_eq!(edited.summary, "");
    assert!(!edited.sensitive);
    assert_eq!(edited.language.as_deref(), Some("en"));
    assert_eq!(edited.updated, Some(at("2024-09-01T11:00:00Z")));
    assert_eq!(tags(&app, &edited).await, vec!["steam"]);
    let history = skein::db::posts::history(&app.db, edited.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].0, before.content);
    assert_eq!(history[0].1, "Engine internals");
    assert!(history[0].2);
    // The same Update again is a duplicate: no second history entry.
    assert_eq!(
        mastodon
            .send_to(&app, &ada, "/inbox", "update_note.json")
            .await,
        202
    );
    assert_eq!(
        skein::db::posts::history(&app.db, edited.id)
            .await
            .unwrap()
            .len(),
        1
    );

    mastodon.send(&app, &ada, "delete_note.json").await;
    let gone = app.post(&id).await;
    assert!(gone.deleted_at.is_some());
    assert_eq!(gone.content, "");
    assert_eq!(app.post(&local.ap_id).await.replies_count, 0);
    assert!(!tag_page(&app, "steam").await.contains("analytical"));
    // Only the mention is left of it.
    assert_eq!(notifications(&app, &alice).await.len(), 1);
}

#[tokio::test]
async fn mastodon_follows_polls_quotes_likes_and_reposts_arrive_as_mastodon_sends_them() {
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut mastodon = Remote::spawn(&app, "mastodon").await;
    mastodon.set("local_post", &local.ap_id);
    let ada = mastodon.actor("person.json");
    let author = app.resolve(&ada.id).await;

    // alice follows ada; ada's Accept embeds the Follow.
    follows::follow(&app.state, &alice, &author).await.unwrap();
    app.deliver().await;
    let follow = mastodon
        .fake
        .received()
        .into_iter()
        .find(|r| r.body["type"] == "Follow")
        .expect("the Follow reached the fake server");
    mastodon.set("follow", follow.body["id"].as_str().unwrap());
    mastodon.send(&app, &ada, "accept.json").await;
    let state = skein::db::follows::find(&app.db, alice.id, author.id)
        .await
        .unwrap()
        .unwrap()
        .state;
    assert_eq!(state, skein::domain::follows::FollowState::Following);

    // ada follows alice: accepted, and the Accept goes back.
    mastodon.send(&app, &ada, "follow.json").await;
    let back = skein::db::follows::find(&app.db, author.id, alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.state, skein::domain::follows::FollowState::Following);
    app.deliver().await;
    let follow_id = mastodon.load("follow.json")["id"].clone();
    assert!(
        mastodon
            .fake
            .received()
            .iter()
            .any(|r| r.body["type"] == "Accept" && r.body["object"]["id"] == follow_id),
        "the Accept reached the fake server"
    );

    // A followers-only poll.
    mastodon.send(&app, &ada, "create_question.json").await;
    let question = app
        .post(&format!(
            "{}/users/ada/statuses/113000000000000002",
            mastodon.fake.base
        ))
        .await;
    assert_eq!(
        question.visibility,
        skein::domain::visibility::Visibility::Private
    );
    let poll = skein::db::polls::find(&app.db, question.id)
        .await
        .unwrap()
        .expect("the poll is stored");
    assert!(!poll.multiple);
    let options: Vec<(&str, i32)> = poll
        .options
        .0
        .iter()
        .map(|o| (o.title.as_str(), o.votes))
        .collect();
    assert_eq!(options, [("Tea", 3), ("Coffee", 5)]);
    assert_eq!(poll.voters_count, 8);
    assert_eq!(poll.expires_at, Some(at("2099-09-03T09:00:00Z")));

    // A quote: asked for first, then posted with the authorization.
    let authorization = mastodon.quote_with_authorization(&app, &ada).await;
    let quote = app
        .post(&format!(
            "{}/users/ada/statuses/113000000000000003",
            mastodon.fake.base
        ))
        .await;
    assert_eq!(quote.quote_of_id, Some(local.id));
    assert_eq!(
        quote.quote_state,
        Some(skein::domain::visibility::QuoteState::Accepted)
    );
    assert_eq!(
        quote.quote_authorization.as_deref(),
        Some(authorization.as_str())
    );

    mastodon.send(&app, &ada, "like.json").await;
    mastodon.send(&app, &ada, "announce.json").await;
    let shared = app.post(&local.ap_id).await;
    assert_eq!((shared.likes_count, shared.reposts_count), (1, 1));
    assert_eq!(
        reposts_of(&app, &local).await,
        vec![(author.id, "public".into())]
    );
    let kinds: Vec<String> = notifications(&app, &alice)
        .await
        .into_iter()
        .map(|(kind, from, _)| {
            assert_eq!(from, author.id);
            kind
        })
        .collect();
    assert_eq!(kinds, ["follow", "quote", "favourite", "reblog"]);

    mastodon.send(&app, &ada, "undo_like.json").await;
    mastodon.send(&app, &ada, "undo_announce.json").await;
    let undone = app.post(&local.ap_id).await;
    assert_eq!((undone.likes_count, undone.reposts_count), (0, 0));
    assert!(reposts_of(&app, &local).await.is_empty());
}

#[tokio::test]
async fn a_mastodon_quote_shows_the_quoted_post_once_and_keeps_its_fallback_link_stored() {
    let app = TestApp::spawn().await;
    let (_alice, local) = alice_posts(&app).await;
    let mut mastodon = Remote::spawn(&app, "mastodon").await;
    mastodon.set("local_post", &local.ap_id);
    let ada = mastodon.actor("person.json");
    mastodon.quote_with_authorization(&app, &ada).await;
    let quote = app
        .post(&format!(
            "{}/users/ada/statuses/113000000000000003",
            mastodon.fake.base
        ))
        .await;
    assert_eq!(
        quote.quote_state,
        Some(skein::domain::visibility::QuoteState::Accepted)
    );
    // The stored copy keeps Mastodon's fallback paragraph, marked.
    let fallback = format!(
        r#"<p class="quote-inline">RE: <a href="{0}" rel="nofollow noopener noreferrer">{0}</a></p>"#,
        local.ap_id
    );
    assert!(quote.content.ends_with(&fallback), "{}", quote.content);

    // Apps get the quote, and content without the fallback (as Mastodon
    // 4.5 serves it), signed in or not.
    let token = app.token("alice").await;
    for token in [Some(token.as_str()), None] {
        let (status, _, body) = app
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/statuses/{}", quote.id),
                token,
                None,
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(body["content"], "<p>Worth reading twice.</p>");
        assert_eq!(body["quote"]["state"], "accepted");
        assert_eq!(body["quote"]["quoted_status"]["id"], local.id.to_string());
    }

    // The page shows the quoted post once: in its card.
    let page = app
        .get(&format!("/@ada@{}/{}", mastodon.fake.domain, quote.id))
        .await;
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    assert!(body.contains("Worth reading twice."), "{body}");
    assert!(!body.contains("RE:"), "{body}");
    assert!(!body.contains(&local.ap_id), "{body}");
    let card = body
        .split(r#"<blockquote class="quote">"#)
        .nth(1)
        .expect("the page shows the quote card");
    assert!(card.contains("Who still bakes their own bread?"));
    assert_eq!(
        body.matches(&format!("href=\"/@alice/{}\"", local.id))
            .count(),
        1,
        "{body}"
    );
}

#[tokio::test]
async fn gotosocial_posts_with_string_addressing_single_values_and_interaction_policies_are_read() {
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut gts = Remote::spawn(&app, "gotosocial").await;
    gts.set("local_post", &local.ap_id);
    let gus = gts.actor("person.json");
    assert!(gus.slash_key);
    // GoToSocial has no shared inbox: it delivers to each account's inbox.
    let send = |file: &'static str| gts.send_to(&app, &gus, "/users/alice/inbox", file);

    assert_eq!(send("create_note.json").await, 202);
    let author = app.resolve(&gus.id).await;
    assert_eq!(author.public_key_id, format!("{}/main-key", gus.id));
    assert_eq!(author.shared_inbox_url, None);
    assert_eq!(author.fields.0.len(), 1, "one field sent as an object");
    assert_eq!(author.fields.0[0].name, "Garden");
    assert!(
        author.fields.0[0]
            .value
            .contains("href=\"https://garden.example\"")
    );

    let note = gts.load("create_note.json")["object"].clone();
    let post = app.post(note["id"].as_str().unwrap()).await;
    assert_eq!(
        post.visibility,
        skein::domain::visibility::Visibility::Public,
        "`to` is a string"
    );
    assert_eq!(post.summary, "");
    assert!(!post.sensitive);
    assert_eq!(post.language.as_deref(), Some("en"));
    assert_eq!(mentioned(&app, &post).await, vec![alice.id]);
    assert_eq!(tags(&app, &post).await, vec!["gardening"]);
    let media = posts::attachments(&app.state, &post).await.unwrap();
    assert_eq!(media.len(), 1, "one attachment sent as an object");
    assert_eq!(media[0].kind, "image");
    assert_eq!(
        media[0].description,
        "Tomato seedlings in egg cartons on a windowsill"
    );
    assert_eq!(
        media[0].blurhash.as_deref(),
        Some("LIIE|gRj00WB-;j[t7j[4nWBj[Rj")
    );
    assert_eq!(
        (media[0].focal_x, media[0].focal_y),
        (Some(-0.5), Some(0.5))
    );

    // Only contentMap: its text and its language.
    assert_eq!(send("create_note_contentmap_only.json").await, 202);
    let french = app
        .post(&format!(
            "{}/users/gus/statuses/01J6Z4B8C0D2E4F6G8H0J2K4M6",
            gts.fake.base
        ))
        .await;
    assert_eq!(
        french.content,
        "<p>Les tomates sont <em>enfin</em> rouges.</p>"
    );
    assert_eq!(french.language.as_deref(), Some("fr"));
    assert_eq!(
        french.visibility,
        skein::domain::visibility::Visibility::Public
    );
    assert_eq!(
        mentioned(&app, &french).await,
        vec![alice.id],
        "one tag as an object"
    );

    assert_eq!(send("update_note.json").await, 202);
    let edited = app.post(&post.ap_id).await;
    assert!(edited.content.contains("up and repotted!"));
    assert_eq!(edited.summary, "plants, lots of them");
    assert!(edited.sensitive);
    assert!(tags(&app, &edited).await.is_empty());
    let history = skein::db::posts::history(&app.db, post.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].0.as_str(), history[0].2),
        (post.content.as_str(), false)
    );

    assert_eq!(send("like.json").await, 202);
    assert_eq!(send("announce.json").await, 202);
    let shared = app.post(&local.ap_id).await;
    assert_eq!((shared.likes_count, shared.reposts_count), (1, 1));

    assert_eq!(send("delete_note.json").await, 202);
    let gone = app.post(&post.ap_id).await;
    assert!(gone.deleted_at.is_some());
    assert_eq!(gone.content, "");
    let kinds: Vec<String> = notifications(&app, &alice)
        .await
        .into_iter()
        .map(|n| n.0)
        .collect();
    assert_eq!(kinds, ["mention", "mention", "favourite", "reblog"]);
}

#[tokio::test]
async fn misskey_notes_are_read_from_their_html_not_their_mfm_source() {
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut misskey = Remote::spawn(&app, "misskey").await;
    misskey.set("local_post", &local.ap_id);
    let mika = misskey.actor("person.json");
    // alice follows mika, so mika's posts concern this instance.
    app.follow_fake(&misskey.fake, &alice, &mika).await;
    let author = app.resolve(&mika.id).await;
    assert_eq!(author.username, "mika");
    assert_eq!(
        author.shared_inbox_url,
        Some(format!("{}/inbox", misskey.fake.base))
    );
    assert_eq!(author.header_url, None, "`image: null`");
    assert!(author.avatar_url.is_some());
    assert_eq!(author.fields.0[0].name, "Art");

    misskey.send(&app, &mika, "create_note.json").await;
    let post = app
        .post(&format!("{}/notes/9x3a1b2c3d", misskey.fake.base))
        .await;
    assert_eq!(
        post.visibility,
        skein::domain::visibility::Visibility::Unlisted,
        "Misskey's home visibility"
    );
    assert!(
        post.content.contains("<i><span>🍮</span></i>"),
        "{}",
        post.content
    );
    assert!(!post.content.contains("$["), "the MFM source is not shown");
    assert_eq!(post.source, None);
    assert_eq!(post.summary, "");
    assert!(post.sensitive, "a sensitive file makes the note sensitive");
    assert_eq!(mentioned(&app, &post).await, vec![alice.id]);
    assert_eq!(tags(&app, &post).await, vec!["misskey"]);
    let media = posts::attachments(&app.state, &post).await.unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(
        (media[0].kind.as_str(), media[0].description.as_str()),
        ("image", "")
    );
    assert_eq!(
        posts::emojis(&app.state, &post).await.unwrap(),
        vec![(
            "blobcat_wave".to_string(),
            format!("{}/files/webpublic-blobcat-wave", misskey.fake.base)
        )]
    );

    misskey.send(&app, &mika, "create_question.json").await;
    let question = app
        .post(&format!("{}/notes/9x3b2c3d4e", misskey.fake.base))
        .await;
    assert!(question.sensitive, "an empty content warning still warns");
    let poll = skein::db::polls::find(&app.db, question.id)
        .await
        .unwrap()
        .expect("the poll is stored");
    assert!(poll.multiple);
    let options: Vec<(&str, i32)> = poll
        .options
        .0
        .iter()
        .map(|o| (o.title.as_str(), o.votes))
        .collect();
    assert_eq!(options, [("caramel", 4), ("cream", 2), ("nothing", 1)]);
    assert_eq!(
        poll.voters_count, 7,
        "without votersCount, the sum of votes"
    );

    misskey.send(&app, &mika, "delete_note.json").await;
    let gone = app.post(&post.ap_id).await;
    assert!(gone.deleted_at.is_some());
    assert_eq!(gone.content, "");
}

#[tokio::test]
async fn misskey_reactions_count_as_likes_and_its_votes_renotes_and_quotes_arrive() {
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let poll = posts::create(
        &app.state,
        &alice,
        posts::Draft {
            poll: Some(posts::PollDraft {
                options: vec!["Rye".into(), "Spelt".into()],
                multiple: false,
                expires_in: chrono::Duration::hours(1),
            }),
            ..draft("Which flour?")
        },
    )
    .await
    .unwrap();
    let mut misskey = Remote::spawn(&app, "misskey").await;
    misskey.set("local_post", &local.ap_id);
    misskey.set("local_poll", &poll.ap_id);
    let mika = misskey.actor("person.json");

    // Nobody here follows mika: the quote is kept because it quotes alice,
    // and waits for an approval Misskey never asks for.
    misskey.send(&app, &mika, "create_quote.json").await;
    let quote = app
        .post(&format!("{}/notes/9x3c3d4e5f", misskey.fake.base))
        .await;
    assert_eq!(quote.quote_of_id, Some(local.id));
    assert_eq!(quote.quote_ap_id.as_deref(), Some(local.ap_id.as_str()));
    assert_eq!(
        quote.quote_state,
        Some(skein::domain::visibility::QuoteState::Pending)
    );

    misskey.send(&app, &mika, "like_reaction.json").await;
    assert_eq!(app.post(&local.ap_id).await.likes_count, 1);
    misskey.send(&app, &mika, "undo_like_reaction.json").await;
    assert_eq!(app.post(&local.ap_id).await.likes_count, 0);

    misskey.send(&app, &mika, "vote.json").await;
    let counted = skein::db::polls::find(&app.db, poll.id)
        .await
        .unwrap()
        .unwrap();
    let votes: Vec<i32> = counted.options.0.iter().map(|o| o.votes).collect();
    assert_eq!(votes, [1, 0]);
    assert_eq!(counted.voters_count, 1);

    misskey.send(&app, &mika, "announce.json").await;
    let author = app.resolve(&mika.id).await;
    assert_eq!(
        reposts_of(&app, &local).await,
        vec![(author.id, "public".into())]
    );
    let kinds: Vec<String> = notifications(&app, &alice)
        .await
        .into_iter()
        .map(|n| n.0)
        .collect();
    assert_eq!(
        kinds,
        ["favourite", "reblog"],
        "no quote notification while pending"
    );
}

#[tokio::test]
async fn pleroma_posts_are_sanitised_direct_messages_stay_direct_and_emoji_reactions_are_not_likes()
{
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut pleroma = Remote::spawn(&app, "pleroma").await;
    pleroma.set("local_post", &local.ap_id);
    let pim = pleroma.actor("person.json");

    pleroma.send(&app, &pim, "create_note.json").await;
    let id = pleroma.load("create_note.json")["object"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let post = app.post(&id).await;
    assert_eq!(
        post.visibility,
        skein::domain::visibility::Visibility::Public
    );
    assert!(!post.sensitive, "`sensitive: null`");
    assert!(!post.content.contains("script"), "{}", post.content);
    assert!(!post.content.contains("evil.example"), "{}", post.content);
    assert!(!post.content.contains("display:none"), "{}", post.content);
    assert!(!post.content.contains("data-user"), "{}", post.content);
    assert!(
        post.content.contains("<ul><li>paws</li><li>tail</li></ul>"),
        "{}",
        post.content
    );
    assert!(
        post.content.contains("<a class=\"hashtag\""),
        "{}",
        post.content
    );
    assert_eq!(post.source, None, "Pleroma's `source` is not ours");
    assert_eq!(tags(&app, &post).await, vec!["caturday"]);
    let media = posts::attachments(&app.state, &post).await.unwrap();
    assert_eq!(
        media[0].blurhash.as_deref(),
        Some("LEHV6nWB2yk8pyo0adR*.7kCMdnj")
    );
    assert_eq!(media[0].description, "a grey cat asleep on a keyboard");

    pleroma.send(&app, &pim, "create_direct.json").await;
    let dm = app
        .post(&format!(
            "{}/objects/1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f",
            pleroma.fake.base
        ))
        .await;
    assert_eq!(dm.visibility, skein::domain::visibility::Visibility::Direct);
    assert_eq!(mentioned(&app, &dm).await, vec![alice.id]);
    assert!(
        !tag_page(&app, "caturday")
            .await
            .contains("the cat is yours")
    );

    pleroma.send(&app, &pim, "update_note.json").await;
    let edited = app.post(&id).await;
    assert!(edited.content.contains("(again)"));
    assert!(tags(&app, &edited).await.is_empty());
    let history = skein::db::posts::history(&app.db, post.id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].0, post.content);

    // Mastodon ignores EmojiReact: it is recorded, and nothing else.
    pleroma.send(&app, &pim, "emoji_react.json").await;
    let react = pleroma.load("emoji_react.json")["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(was_recorded(&app, &react).await);
    assert_eq!(app.post(&local.ap_id).await.likes_count, 0);
    pleroma.send(&app, &pim, "like.json").await;
    assert_eq!(app.post(&local.ap_id).await.likes_count, 1);

    // A quote carried only by a FEP-e232 link.
    pleroma.send(&app, &pim, "create_quote_link_tag.json").await;
    let quote = app
        .post(&format!(
            "{}/objects/3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f",
            pleroma.fake.base
        ))
        .await;
    assert_eq!(quote.quote_of_id, Some(local.id));
    assert_eq!(
        quote.quote_state,
        Some(skein::domain::visibility::QuoteState::Pending)
    );

    pleroma.send(&app, &pim, "delete_note.json").await;
    assert!(app.post(&id).await.deleted_at.is_some());
    let author = app.resolve(&pim.id).await;
    assert_eq!(
        notifications(&app, &alice).await,
        vec![
            ("mention".to_string(), author.id, Some(post.id)),
            ("mention".to_string(), author.id, Some(dm.id)),
            ("favourite".to_string(), author.id, Some(local.id)),
        ]
    );
}

#[tokio::test]
async fn an_akkoma_reply_keeps_its_warning_media_and_emoji_and_its_emoji_reactions_change_nothing()
{
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut akkoma = Remote::spawn(&app, "akkoma").await;
    akkoma.set("local_post", &local.ap_id);
    let nia = akkoma.actor("person.json");

    akkoma.send(&app, &nia, "create_note.json").await;
    let author = app.resolve(&nia.id).await;
    assert_eq!(author.display_name, "nia :akko_wave:");
    assert_eq!(author.fields.0[0].name, "pronouns");
    let post = app
        .post(&format!(
            "{}/objects/2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e",
            akkoma.fake.base
        ))
        .await;
    assert_eq!(post.in_reply_to_id, Some(local.id));
    assert_eq!(app.post(&local.ap_id).await.replies_count, 1);
    assert_eq!(post.summary, "flashing lights");
    assert!(post.sensitive);
    assert_eq!(post.language.as_deref(), Some("en"));
    assert!(post.content.contains("round and round"), "{}", post.content);
    assert!(!post.content.contains("style="), "{}", post.content);
    assert!(!post.content.contains("$["), "{}", post.content);
    assert_eq!(post.quote_ap_id, None, "`quoteUri: null`");
    let media = posts::attachments(&app.state, &post).await.unwrap();
    assert_eq!(
        (media[0].kind.as_str(), media[0].description.as_str()),
        ("video", "a cat chasing a laser dot")
    );
    assert_eq!(
        posts::emojis(&app.state, &post).await.unwrap(),
        vec![(
            "akko_wave".to_string(),
            format!("{}/emoji/akko/akko_wave.png", akkoma.fake.base)
        )]
    );

    let before = app.table_counts().await;
    akkoma.send(&app, &nia, "emoji_react.json").await;
    akkoma.send(&app, &nia, "undo_emoji_react.json").await;
    let mut after = app.table_counts().await;
    assert_eq!(
        after.remove("inbox_activities"),
        Some(before["inbox_activities"] + 2)
    );
    assert_eq!(
        after,
        before
            .into_iter()
            .filter(|(table, _)| *table != "inbox_activities")
            .collect()
    );
    assert_eq!(app.post(&local.ap_id).await.likes_count, 0);

    akkoma.send(&app, &nia, "like.json").await;
    akkoma.send(&app, &nia, "announce.json").await;
    let shared = app.post(&local.ap_id).await;
    assert_eq!((shared.likes_count, shared.reposts_count), (1, 1));
    let kinds: Vec<String> = notifications(&app, &alice)
        .await
        .into_iter()
        .map(|n| n.0)
        .collect();
    assert_eq!(kinds, ["mention", "favourite", "reblog"]);
}

#[tokio::test]
async fn a_lemmy_community_relays_a_post_that_arrives_with_its_title_link_and_comments() {
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut lemmy = Remote::spawn(&app, "lemmy").await;
    lemmy.set("local_post", &local.ap_id);
    let community = lemmy.actor("group.json");
    let picard = lemmy.actor("person.json");
    let page_id = lemmy.serve("page.json");
    app.follow_fake(&lemmy.fake, &alice, &community).await;
    let group = app.resolve(&community.id).await;
    assert_eq!(
        (group.kind.as_str(), group.username.as_str()),
        ("Group", "tenforward")
    );

    // The community relays picard's Create; the page comes from its origin.
    lemmy
        .send(&app, &community, "announce_create_page.json")
        .await;
    let page = app.post(&page_id).await;
    let author = app.resolve(&picard.id).await;
    assert_eq!(page.author_id, author.id);
    assert_eq!(
        page.visibility,
        skein::domain::visibility::Visibility::Public
    );
    assert_eq!(
        page.content,
        "<p><strong>Earl Grey, hot: a brewing guide</strong></p>\
         <p>Start with <em>freshly</em> boiled water.</p>\n\
         <p><a href=\"https://tea.example/earl-grey\" rel=\"nofollow noopener noreferrer\">https://tea.example/earl-grey</a></p>"
    );
    assert!(
        posts::attachments(&app.state, &page)
            .await
            .unwrap()
            .is_empty(),
        "the link is not media"
    );
    assert_eq!(
        reposts_of(&app, &page).await,
        vec![(group.id, "public".into())]
    );
    let home = skein::service::timelines::home(
        &app.state,
        &alice,
        skein::service::timelines::page(None, None, None, None),
    )
    .await
    .unwrap();
    assert!(home.iter().any(|p| p.reblog_of_id == Some(page.id)));

    // A relayed vote is not a post.
    let before = app.table_counts().await;
    lemmy.send(&app, &community, "announce_like.json").await;
    assert_eq!(app.post(&page_id).await.likes_count, 0);
    assert_eq!(app.table_counts().await["posts"], before["posts"]);

    // A comment mentioning alice reaches her directly.
    lemmy.send(&app, &picard, "create_comment.json").await;
    let comment = app
        .post(&format!("{}/comment/38741", lemmy.fake.base))
        .await;
    assert_eq!(comment.in_reply_to_id, Some(page.id));
    assert_eq!(app.post(&page_id).await.replies_count, 1);
    assert_eq!(mentioned(&app, &comment).await, vec![alice.id]);

    lemmy.send(&app, &picard, "like.json").await;
    lemmy.send(&app, &picard, "dislike.json").await;
    assert_eq!(app.post(&local.ap_id).await.likes_count, 1);

    lemmy.send(&app, &picard, "delete_comment.json").await;
    assert!(app.post(&comment.ap_id).await.deleted_at.is_some());
    assert_eq!(app.post(&page_id).await.replies_count, 0);
    assert_eq!(
        notifications(&app, &alice).await,
        vec![
            ("mention".to_string(), author.id, Some(comment.id)),
            ("favourite".to_string(), author.id, Some(local.id)),
        ]
    );
}

#[tokio::test]
async fn threads_posts_arrive_with_their_media_quotes_edits_and_deletes() {
    let app = TestApp::spawn().await;
    let (alice, local) = alice_posts(&app).await;
    let mut threads = Remote::spawn(&app, "threads").await;
    threads.set("local_post", &local.ap_id);
    let tova = threads.actor("person.json");
    app.follow_fake(&threads.fake, &alice, &tova).await;
    let author = app.resolve(&tova.id).await;
    assert_eq!(author.username, "tova");
    assert!(author.ap_id.ends_with('/'));

    threads.send(&app, &tova, "create_note.json").await;
    let note = threads.load("create_note.json")["object"].clone();
    let post = app.post(note["id"].as_str().unwrap()).await;
    assert_eq!(
        post.visibility,
        skein::domain::visibility::Visibility::Public
    );
    assert_eq!(
        post.content,
        "<p>First light over the bay this morning.</p>"
    );
    assert_eq!(post.url.as_deref(), note["url"].as_str());
    assert_eq!(post.published, at("2024-09-09T16:00:00Z"));
    let media = posts::attachments(&app.state, &post).await.unwrap();
    assert_eq!(media.len(), 1);
    assert_eq!(
        (media[0].kind.as_str(), media[0].description.as_str()),
        ("image", "Sunrise over a calm bay with two sailboats")
    );
    assert_eq!((media[0].width, media[0].height), (Some(1440), Some(1800)));

    threads.send(&app, &tova, "create_quote.json").await;
    let quote = app
        .post(
            threads.load("create_quote.json")["object"]["id"]
                .as_str()
                .unwrap(),
        )
        .await;
    assert_eq!(quote.quote_of_id, Some(post.id));
    assert_eq!(
        quote.quote_state,
        Some(skein::domain::visibility::QuoteState::Pending)
    );

    threads.send(&app, &tova, "update_note.json").await;
    let edited = app.post(&post.ap_id).await;
    assert!(edited.content.contains("#sunrise"), "{}", edited.content);
    assert_eq!(edited.updated, Some(at("2024-09-09T17:20:00Z")));
    assert_eq!(tags(&app, &edited).await, vec!["sunrise"]);
    assert_eq!(
        skein::db::posts::history(&app.db, post.id)
            .await
            .unwrap()
            .len(),
        1
    );

    threads.send(&app, &tova, "like.json").await;
    assert_eq!(app.post(&local.ap_id).await.likes_count, 1);
    assert_eq!(
        notifications(&app, &alice).await,
        vec![("favourite".to_string(), author.id, Some(local.id))]
    );

    threads.send(&app, &tova, "delete_note.json").await;
    assert!(app.post(&quote.ap_id).await.deleted_at.is_some());
    assert!(app.post(&post.ap_id).await.deleted_at.is_none());
}
