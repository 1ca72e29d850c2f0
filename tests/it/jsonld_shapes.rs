//! The JSON-LD shapes Skein serves and sends, written to
//! `target/jsonld-shapes/` for `scripts/jsonld/check.py`, which expands each
//! with a real JSON-LD processor and fails on a term its `@context` does not
//! define. Two real instances talk here so that every kind of activity is
//! made by the code itself: follows and their acceptance, posts with a
//! hashtag, a mention, a poll and restricted replies, a quote with its
//! authorization, an approved reply, an attachment, profile fields, votes,
//! likes, boosts, undos, an edit, a pin, featured hashtags, a bot's profile, a block and a deletion. What each instance sent is read back from its outbound
//! store; what it serves is fetched over HTTP.

use serde_json::Value;
use skein::domain::interaction::ReplyPolicy;
use skein::domain::visibility::Visibility;
use skein::service::{blocks, follows, interactions, media, polls, posts, profiles, tags};

use crate::harness::{Options, TestApp, draft};

/// Where the shapes go: `$SKEIN_JSONLD_SHAPES`, else `target/jsonld-shapes`.
fn shapes_dir() -> std::path::PathBuf {
    std::env::var_os("SKEIN_JSONLD_SHAPES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/jsonld-shapes")
        })
}

struct Shapes {
    dir: std::path::PathBuf,
    count: usize,
}

impl Shapes {
    fn write(&mut self, name: &str, document: &Value) {
        let safe: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        self.count += 1;
        let path = self.dir.join(format!("{:03}-{safe}.json", self.count));
        std::fs::write(&path, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    }

    /// A document `app` serves at `url` (on `app`), as ActivityPub JSON.
    async fn served(&mut self, app: &TestApp, name: &str, url: &str) -> Value {
        let path = url.strip_prefix(&app.base).unwrap_or(url);
        let response = app.get_ap(path).await;
        assert_eq!(response.status().as_u16(), 200, "{url}");
        let document: Value = response.json().await.unwrap();
        assert!(document.get("@context").is_some(), "{url} has no @context");
        self.write(&format!("served {name}"), &document);
        document
    }

    /// Every activity `app` sent (its outbound store), by type.
    async fn sent(&mut self, app: &TestApp, label: &str) -> Vec<Value> {
        let payloads: Vec<String> =
            sqlx::query_scalar("select payload from outbound_activities order by id")
                .fetch_all(&app.db)
                .await
                .unwrap();
        let mut out = Vec::new();
        for payload in payloads {
            let activity: Value = serde_json::from_str(&payload).unwrap();
            let kind = activity["type"].as_str().unwrap_or("untyped").to_string();
            self.write(&format!("sent {label} {kind}"), &activity);
            out.push(activity);
        }
        out
    }
}

/// Every string in `value` that is a URL on `app`.
fn urls_on(app: &TestApp, value: &Value, found: &mut Vec<String>) {
    match value {
        Value::String(s) if s.starts_with(&app.base) => found.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|v| urls_on(app, v, found)),
        Value::Object(map) => map.values().for_each(|v| urls_on(app, v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn every_served_and_sent_shape_is_written_for_the_jsonld_check() {
    let dir = shapes_dir();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut shapes = Shapes { dir, count: 0 };

    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let alice = alpha.create_user("alice").await.actor;
    let bob = beta.create_user("bob").await.actor;

    // Follows both ways, accepted.
    let alice_at_beta = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &alice_at_beta)
        .await
        .unwrap();
    let bob_at_alpha = alpha.resolve(&beta.handle("bob")).await;
    follows::follow(&alpha.state, &alice, &bob_at_alpha)
        .await
        .unwrap();
    for _ in 0..2 {
        beta.deliver().await;
        alpha.deliver().await;
    }

    // Alice's posts: tags and a mention, a poll, replies for followed
    // accounts only, a content warning.
    let text = format!(
        "Hello @bob@{} and #Skein fans: https://example.com/page",
        beta.domain
    );
    let tagged = posts::create(&alpha.state, &alice, draft(&text, Visibility::Public))
        .await
        .unwrap();
    let poll = posts::create(
        &alpha.state,
        &alice,
        posts::Draft {
            poll: Some(posts::PollDraft {
                options: vec!["tea".into(), "coffee".into()],
                multiple: false,
                expires_in: chrono::Duration::hours(1),
            }),
            ..draft("what do you drink?", Visibility::Public)
        },
    )
    .await
    .unwrap();
    let guarded = posts::create(
        &alpha.state,
        &alice,
        posts::Draft {
            reply_policy: ReplyPolicy::Following,
            spoiler: "a warning",
            sensitive: true,
            ..draft("only people I follow may answer", Visibility::Public)
        },
    )
    .await
    .unwrap();
    let picture = media::upload(
        &alpha.state,
        &alice,
        bytes::Bytes::from(crate::media::png(8, 6)),
        Some("a tiny picture"),
        Some("0.5,-0.25"),
    )
    .await
    .unwrap();
    posts::create(
        &alpha.state,
        &alice,
        posts::Draft {
            media_ids: Some(&[picture.id]),
            ..draft("with a picture", Visibility::Unlisted)
        },
    )
    .await
    .unwrap();
    // A video: its Document has `duration` and an `icon`.
    let clip = media::upload(
        &alpha.state,
        &alice,
        bytes::Bytes::from(crate::video::webm(1)),
        Some("a test pattern"),
        None,
    )
    .await
    .unwrap();
    media::process_pending(&alpha.state, alpha.state.worker_id.unwrap())
        .await
        .unwrap();
    posts::create(
        &alpha.state,
        &alice,
        posts::Draft {
            media_ids: Some(&[clip.id]),
            ..draft("with a clip", Visibility::Public)
        },
    )
    .await
    .unwrap();
    profiles::update(
        &alpha.state,
        &alice,
        profiles::ProfileUpdate {
            display_name: Some("Alice A.".into()),
            bio: Some("I fix #bicycles".into()),
            fields: Some(vec![
                ("Website".into(), "https://example.com/alice".into()),
                ("Pronouns".into(), "she/her".into()),
            ]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let private = posts::create(
        &alpha.state,
        &alice,
        draft("for my followers", Visibility::Private),
    )
    .await
    .unwrap();
    alpha.deliver().await;

    // Bob quotes, replies (approved), votes, likes and boosts.
    let quote = posts::create(
        &beta.state,
        &bob,
        posts::Draft {
            quote_of: Some(&tagged.ap_id),
            ..draft("so true", Visibility::Public)
        },
    )
    .await
    .unwrap();
    posts::create(
        &beta.state,
        &bob,
        posts::Draft {
            in_reply_to: Some(&guarded.ap_id),
            ..draft("an answer", Visibility::Public)
        },
    )
    .await
    .unwrap();
    let poll_at_beta = beta.post(&poll.ap_id).await;
    polls::vote(&beta.state, &bob, &poll_at_beta, &[1])
        .await
        .unwrap();
    let tagged_at_beta = beta.post(&tagged.ap_id).await;
    interactions::like(&beta.state, &bob, &tagged_at_beta)
        .await
        .unwrap();
    interactions::repost(&beta.state, &bob, &tagged_at_beta)
        .await
        .unwrap();
    for _ in 0..3 {
        beta.deliver().await;
        alpha.deliver().await;
    }
    interactions::unlike(&beta.state, &bob, &tagged_at_beta)
        .await
        .unwrap();
    interactions::unrepost(&beta.state, &bob, &tagged_at_beta)
        .await
        .unwrap();
    beta.deliver().await;

    // Alice edits and pins a post, answers and deletes one.
    posts::edit(
        &alpha.state,
        &alice,
        &tagged,
        draft(&format!("{text} (edited)"), Visibility::Public),
    )
    .await
    .unwrap();
    posts::pin(&alpha.state, &alice, &poll).await.unwrap();
    // She features a hashtag and stops featuring another (Add and Remove
    // of a Hashtag), and marks her account as a bot (Update of a Service).
    tags::feature(&alpha.state, &alice, "#Shapes")
        .await
        .unwrap();
    tags::feature(&alpha.state, &alice, "gone").await.unwrap();
    tags::unfeature(&alpha.state, &alice, "gone").await.unwrap();
    let alice = profiles::update(
        &alpha.state,
        &alice,
        profiles::ProfileUpdate {
            bot: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let quote_at_alpha = alpha.post(&quote.ap_id).await;
    interactions::like(&alpha.state, &alice, &quote_at_alpha)
        .await
        .unwrap();
    posts::delete(&alpha.state, &alice, &private).await.unwrap();
    beta.create_user("carol").await;
    let carol_at_alpha = alpha.resolve(&beta.handle("carol")).await;
    blocks::block(&alpha.state, &alice, &carol_at_alpha)
        .await
        .unwrap();
    blocks::unblock(&alpha.state, &alice, &carol_at_alpha)
        .await
        .unwrap();
    alpha.deliver().await;

    // What each served: actors, posts, collections and their pages, the
    // approvals and authorizations the activities name.
    for (app, user) in [(&alpha, "alice"), (&beta, "bob")] {
        let urls = &app.state.urls;
        let actor = shapes.served(app, "actor", &urls.actor(user)).await;
        for key in [
            "outbox",
            "followers",
            "following",
            "featured",
            "featuredTags",
        ] {
            let collection = shapes.served(app, key, actor[key].as_str().unwrap()).await;
            if let Some(first) = collection["first"].as_str() {
                shapes.served(app, &format!("{key} page"), first).await;
            }
        }
        shapes
            .served(app, "instance actor", &urls.instance_actor())
            .await;
    }
    for post in [&tagged, &poll, &guarded] {
        let note = shapes.served(&alpha, "post", &post.ap_id).await;
        if let Some(replies) = note["replies"].as_str() {
            let replies = shapes.served(&alpha, "replies", replies).await;
            if let Some(first) = replies["first"].as_str() {
                shapes.served(&alpha, "replies page", first).await;
            }
        }
    }
    shapes.served(&beta, "quote post", &quote.ap_id).await;

    let mut sent = shapes.sent(&alpha, "alpha").await;
    sent.extend(shapes.sent(&beta, "beta").await);
    let kinds: std::collections::BTreeSet<String> = sent
        .iter()
        .filter_map(|a| a["type"].as_str().map(str::to_string))
        .collect();
    for kind in [
        "Follow", "Accept", "Create", "Update", "Like", "Announce", "Undo", "Delete", "Block",
        "Add", "Remove",
    ] {
        assert!(kinds.contains(kind), "no {kind} was sent: {kinds:?}");
    }
    assert!(
        sent.iter()
            .any(|a| a["type"] == "Accept" && a["result"].is_string()),
        "no quote or reply approval was sent"
    );
    let mut grants = Vec::new();
    for activity in &sent {
        if activity["type"] == "Accept" {
            urls_on(&alpha, &activity["result"], &mut grants);
        }
    }
    let quote_served = beta.post(&quote.ap_id).await;
    grants.extend(quote_served.quote_authorization.clone());
    grants.sort();
    grants.dedup();
    for grant in &grants {
        shapes.served(&alpha, "authorization", grant).await;
    }
    assert!(shapes.count > 30, "only {} shapes", shapes.count);
}
