//! Fetching remote actors: what counts as an actor document, staleness and
//! refresh, WebFinger resolution.

use skein::service::remote_actors::{self, ResolveError};
use url::Url;

use crate::fake::{FakeServer, Quirk};
use crate::harness::TestApp;

async fn fetch(app: &TestApp, id: &str) -> Result<skein::db::actors::Actor, ResolveError> {
    remote_actors::get_or_fetch(&app.state, &Url::parse(id).unwrap()).await
}

#[tokio::test]
async fn only_documents_served_as_activitypub_at_their_own_id_are_accepted() {
    let app = TestApp::spawn().await;
    let fake = FakeServer::spawn("remote").await;
    for (name, quirk) in [
        ("wrongid", Quirk::WrongId),
        ("html", Quirk::Html),
        ("json", Quirk::PlainJson),
        ("huge", Quirk::Huge),
    ] {
        let actor = fake.add_actor(name, false);
        fake.set_quirk(name, quirk);
        let err = fetch(&app, &actor.id).await.unwrap_err();
        assert!(
            matches!(err, ResolveError::Unavailable(_)),
            "{name}: {err:?}"
        );
    }
    assert_eq!(
        app.table_counts().await["actors"],
        1,
        "only the instance actor"
    );
    assert!(matches!(
        fetch(&app, &format!("{}/users/nobody", fake.base))
            .await
            .unwrap_err(),
        ResolveError::NotFound
    ));
}

#[tokio::test]
async fn stored_actors_are_refreshed_when_stale() {
    let app = TestApp::spawn().await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let first = fetch(&app, &mallory.id).await.unwrap();
    assert_eq!(fake.actor_fetches(), 1);
    // Fresh: served from the store.
    fetch(&app, &mallory.id).await.unwrap();
    assert_eq!(fake.actor_fetches(), 1);
    let rotated = fake.rotate_key("mallory");
    app.clock.advance(chrono::Duration::hours(25));
    let refreshed = fetch(&app, &mallory.id).await.unwrap();
    assert_eq!(fake.actor_fetches(), 2);
    assert_eq!(refreshed.id, first.id);
    assert_eq!(refreshed.public_key_pem, rotated.public_pem);
}

#[tokio::test]
async fn handles_resolve_through_webfinger() {
    let app = TestApp::spawn().await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let found = app.resolve(&format!("@mallory@{}", fake.domain)).await;
    assert_eq!(found.ap_id, mallory.id);
    assert_eq!(found.username, "mallory");
    let err = remote_actors::resolve(&app.state, &format!("nobody@{}", fake.domain))
        .await
        .unwrap_err();
    assert!(matches!(err, ResolveError::NotFound));
    // A local handle is found locally.
    app.create_user("alice").await;
    assert_eq!(app.resolve(&app.handle("alice")).await.username, "alice");
}

/// The actor document of `actor` with `changes` applied on top.
fn document_of(actor: &crate::fake::FakeActor, changes: serde_json::Value) -> serde_json::Value {
    let mut document = serde_json::json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor.id,
        "type": "Person",
        "preferredUsername": actor.name,
        "inbox": format!("{}/inbox", actor.id),
        "publicKey": { "id": actor.key_id, "owner": actor.id, "publicKeyPem": actor.public_pem },
    });
    for (key, value) in changes.as_object().unwrap() {
        document[key] = value.clone();
    }
    document
}

#[tokio::test]
async fn hostile_usernames_and_weak_keys_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let fake = FakeServer::spawn("remote").await;
    let before = app.table_counts().await;
    let weak_key = {
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024)
            .unwrap()
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    };
    for (name, changes, reason) in [
        (
            "at",
            serde_json::json!({"preferredUsername": "admin@other.example"}),
            "username",
        ),
        (
            "bidi",
            serde_json::json!({"preferredUsername": "lla\u{202E}mxe"}),
            "username",
        ),
        (
            "weak",
            serde_json::json!({"publicKey": {"publicKeyPem": weak_key}}),
            "public key",
        ),
    ] {
        let actor = fake.add_actor(name, false);
        let mut changes = changes;
        if let Some(key) = changes.get_mut("publicKey") {
            key["id"] = serde_json::json!(actor.key_id);
            key["owner"] = serde_json::json!(actor.id);
        }
        let path = Url::parse(&actor.id).unwrap().path().to_string();
        fake.serve(&path, document_of(&actor, changes));
        let err = fetch(&app, &actor.id).await.unwrap_err();
        assert!(
            matches!(&err, ResolveError::Unavailable(m) if m.contains(reason)),
            "{name}: {err:?}"
        );
    }
    assert_eq!(app.table_counts().await, before);
}

#[tokio::test]
async fn display_names_are_stored_without_bidi_controls_or_invisible_characters() {
    let app = TestApp::spawn().await;
    let fake = FakeServer::spawn("remote").await;
    let mallory = fake.add_actor("mallory", false);
    let path = Url::parse(&mallory.id).unwrap().path().to_string();
    fake.serve(
        &path,
        document_of(
            &mallory,
            serde_json::json!({"name": "\u{202E}nimda\u{2066} \u{200B}Mallory\u{FEFF}"}),
        ),
    );
    let stored = fetch(&app, &mallory.id).await.unwrap();
    assert_eq!(stored.display_name, "nimda Mallory");
    let in_db: String = sqlx::query_scalar("select display_name from actors where ap_id = $1")
        .bind(&mallory.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(in_db, "nimda Mallory");
}
