//! The inbound pipeline's first step: an incoming activity is parsed once,
//! here, into typed values ([`Envelope`], [`Activity`], [`RemotePost`]).
//! Every wire quirk other servers send (single values for lists,
//! `contentMap` without `content`, `type` lists, the names of quotes,
//! Lemmy's and Misskey's shapes) is handled in this module and nowhere
//! else; the services that apply activities (`service::inbox`) receive
//! these types and never read JSON.

pub mod activity;
pub mod collection;
pub mod post;
pub mod wire;

pub use activity::{
    Activity, Announce, Approval, Created, Envelope, ParseError, Reference, Updated, parse,
    parse_bytes,
};
pub use post::{PostError, PostKind, RemotePoll, RemotePost};

#[cfg(test)]
mod fixtures {
    //! Every activity in `tests/fixtures/` (real payloads of other
    //! servers) parses, and the posts in them read as they should.

    use super::*;

    fn fixture(path: &str) -> serde_json::Value {
        let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&full)
            .expect("the fixture exists")
            // The placeholders the integration tests fill in.
            .replace("{{host_domain}}", "remote.example")
            .replace("{{host}}", "https://remote.example")
            .replace("{{local_domain}}", "here.example")
            .replace(
                "{{local_post}}",
                "https://here.example/users/alice/statuses/1",
            )
            .replace(
                "{{local_poll}}",
                "https://here.example/users/alice/statuses/2",
            )
            .replace("{{local}}", "https://here.example/users/alice")
            .replace("{{follow}}", "https://here.example/activities/follow-1")
            .replace(
                "{{authorization}}",
                "https://remote.example/authorizations/1",
            );
        serde_json::from_str(&text).expect("the fixture is JSON")
    }

    fn all_activities() -> Vec<(String, serde_json::Value)> {
        let root = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
        let mut found = Vec::new();
        for server in std::fs::read_dir(&root)
            .expect("the fixtures exist")
            .flatten()
        {
            let Ok(files) = std::fs::read_dir(server.path()) else {
                continue;
            };
            for file in files.flatten() {
                let name = file.file_name().to_string_lossy().to_string();
                if !name.ends_with(".json") {
                    continue;
                }
                let path = format!("{}/{name}", server.file_name().to_string_lossy());
                let value = fixture(&path);
                let kind = value["type"].as_str().unwrap_or_default().to_string();
                if !matches!(
                    kind.as_str(),
                    "Person" | "Group" | "Page" | "Note" | "Service" | "Application"
                ) {
                    found.push((path, value));
                }
            }
        }
        found
    }

    #[test]
    fn every_fixture_activity_parses() {
        let all = all_activities();
        assert!(all.len() > 30, "found {}", all.len());
        for (path, value) in all {
            let envelope = parse(value).unwrap_or_else(|e| panic!("{path}: {e}"));
            let typed = !matches!(envelope.activity, Activity::Other);
            let acted_on = !matches!(envelope.kind.as_str(), "EmojiReact" | "Dislike");
            assert_eq!(typed, acted_on, "{path}: {}", envelope.kind);
        }
    }

    fn created(path: &str) -> RemotePost {
        match parse(fixture(path)).expect("parses").activity {
            Activity::Create(Created::Post(post)) => *post,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn gotosocial_content_map_only_gives_content_and_language() {
        let post = created("gotosocial/create_note_contentmap_only.json");
        assert!(!post.content.is_empty());
        assert!(post.language.is_some());
    }

    #[test]
    fn quotes_are_read_from_mastodon_misskey_pleroma_and_threads() {
        for path in [
            "mastodon/create_quote.json",
            "misskey/create_quote.json",
            "pleroma/create_quote_link_tag.json",
            "threads/create_quote.json",
        ] {
            assert!(created(path).quote.is_some(), "{path}");
        }
    }

    #[test]
    fn questions_bring_their_polls() {
        for path in [
            "mastodon/create_question.json",
            "misskey/create_question.json",
        ] {
            let post = created(path);
            assert_eq!(post.kind, PostKind::Question, "{path}");
            assert!(post.poll.is_some(), "{path}");
        }
    }

    #[test]
    fn a_misskey_vote_names_its_choice() {
        assert!(created("misskey/vote.json").vote_choice().is_some());
    }

    #[test]
    fn a_lemmy_announce_of_a_page_shares_the_page() {
        match parse(fixture("lemmy/announce_create_page.json"))
            .expect("parses")
            .activity
        {
            Activity::Announce(a) => assert!(a.post.is_some()),
            other => panic!("{other:?}"),
        }
        match parse(fixture("lemmy/announce_like.json"))
            .expect("parses")
            .activity
        {
            Activity::Announce(a) => assert_eq!(a.post, None),
            other => panic!("{other:?}"),
        }
    }

    /// PeerTube's Video, Funkwhale's Audio and Mobilizon's Event parse
    /// without error. Today they are not read as posts: `Created::Other`,
    /// the current behaviour, which #16.2 turns into posts (title, link,
    /// media) as Mastodon shows them.
    #[test]
    fn audio_video_and_event_become_posts_as_mastodon_converts_them() {
        for (path, kind, title, media) in [
            (
                "peertube/create_video.json",
                PostKind::Video,
                "Repairing a bicycle wheel",
                Some(("video", "video/mp4")),
            ),
            (
                "funkwhale/create_audio.json",
                PostKind::Audio,
                "Ada's Podcast - Episode 3: Spokes",
                Some(("audio", "audio/mpeg")),
            ),
            (
                "mobilizon/create_event.json",
                PostKind::Event,
                "Bicycle repair café",
                Some(("image", "image/jpeg")),
            ),
        ] {
            let envelope = parse(fixture(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            let Activity::Create(Created::Post(post)) = envelope.activity else {
                panic!("{path}: {:?}", envelope.activity);
            };
            assert_eq!(post.kind, kind, "{path}");
            let html = post.html();
            assert!(
                html.starts_with(&format!("<p><strong>{title}</strong></p>")),
                "{path}: {html}"
            );
            // The link to the object's page, not its content.
            let page = post.urls.first().expect("a page").clone();
            assert!(html.contains(&format!("href=\"{page}\"")), "{path}: {html}");
            assert!(!html.contains("spoke key"), "{path}: {html}");
            let (media_kind, media_type) = media.unwrap();
            assert_eq!(post.attachments.len(), 1, "{path}");
            assert_eq!(post.attachments[0].kind, media_kind, "{path}");
            assert_eq!(
                post.attachments[0].media_type.as_deref(),
                Some(media_type),
                "{path}"
            );
            assert!(post.summary.is_empty(), "{path}");
        }
        let video = parse(fixture("peertube/create_video.json")).unwrap();
        let Activity::Create(Created::Post(video)) = video.activity else {
            unreachable!()
        };
        assert_eq!(
            video.urls.first().map(String::as_str),
            Some("https://remote.example/w/kvchX3uj6NYsBCnmgrmMy8")
        );
        let medium = &video.attachments[0];
        assert!(medium.url.ends_with("-720.mp4"), "{}", medium.url);
        assert_eq!(medium.duration, Some(754.0));
        assert_eq!(medium.height, Some(720));
        assert_eq!(
            medium.preview_url.as_deref(),
            Some("https://remote.example/lazy-static/thumbnails/9c9de5e8.jpg")
        );

        let event = parse(fixture("mobilizon/create_event.json")).unwrap();
        let Activity::Create(Created::Post(event)) = event.activity else {
            unreachable!()
        };
        let html = event.html();
        assert!(
            html.contains("2024-10-05 14:00–18:00 (UTC+02:00)"),
            "{html}"
        );
        assert!(
            html.contains("Neighbourhood workshop, Werkstattstraße 1, 10115 Berlin, Germany"),
            "{html}"
        );
    }

    /// `mastodon/create_note_rfc9421.*`: a delivery signed as RFC 9421
    /// (HTTP Message Signatures) has it, as Mastodon 4.5 sends it: the body,
    /// the request head with `Content-Digest` (RFC 9530), `Signature-Input`
    /// and `Signature`, and the sender's public key. The fixture is checked
    /// to be a real signature (digest and RSA PKCS#1 v1.5 SHA-256 over the
    /// signature base), and its body parses as the Note it carries.
    #[test]
    fn the_rfc9421_signed_delivery_is_genuine_and_its_body_parses() {
        use base64::Engine;
        use rsa::pkcs8::DecodePublicKey;
        use sha2::Digest;

        let dir = format!("{}/tests/fixtures/mastodon", env!("CARGO_MANIFEST_DIR"));
        let body = std::fs::read(format!("{dir}/create_note_rfc9421.json")).expect("the body");
        let head =
            std::fs::read_to_string(format!("{dir}/create_note_rfc9421.request")).expect("head");
        let pem =
            std::fs::read_to_string(format!("{dir}/create_note_rfc9421.key.pem")).expect("the key");
        let header = |name: &str| -> String {
            head.lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(": ")?;
                    n.eq_ignore_ascii_case(name).then(|| v.to_string())
                })
                .unwrap_or_else(|| panic!("no {name}"))
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let digest = format!("sha-256=:{}:", b64.encode(sha2::Sha256::digest(&body)));
        assert_eq!(header("Content-Digest"), digest);

        let input = header("Signature-Input");
        let params = input.strip_prefix("sig1=").expect("sig1");
        assert!(params.starts_with(r#"("@method" "@target-uri" "content-digest")"#));
        let path = head.split_whitespace().nth(1).expect("a path");
        let base = format!(
            "\"@method\": POST\n\"@target-uri\": https://{}{path}\n\"content-digest\": {digest}\n\"@signature-params\": {params}",
            header("Host")
        );
        let signature = header("Signature");
        let signature = signature
            .strip_prefix("sig1=:")
            .and_then(|s| s.strip_suffix(':'))
            .expect("sig1 value");
        let key = rsa::RsaPublicKey::from_public_key_pem(&pem).expect("a public key");
        let hashed = sha2::Sha256::digest(base.as_bytes());
        key.verify(
            rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
            &hashed,
            &b64.decode(signature).expect("base64"),
        )
        .expect("the signature verifies");

        let activity: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        match parse(activity).expect("parses").activity {
            Activity::Create(Created::Post(post)) => {
                assert!(post.content.contains("RFC 9421"), "{}", post.content)
            }
            other => panic!("{other:?}"),
        }
    }
}
