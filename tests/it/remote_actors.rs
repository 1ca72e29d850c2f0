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
