//! The inbound pipeline's first step: an incoming activity is parsed once,
//! here, into typed values ([`Envelope`], [`Activity`], [`RemotePost`]).
//! Every wire quirk other servers send (single values for lists,
//! `contentMap` without `content`, `type` lists, the names of quotes,
//! Lemmy's and Misskey's shapes) is handled in this module and nowhere
//! else; the services that apply activities (`service::inbox`) receive
//! these types and never read JSON.

pub mod activity;
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
}
