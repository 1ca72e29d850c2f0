//! Actor documents, content negotiation and the profile page.

use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;

use crate::harness::TestApp;

#[tokio::test]
async fn a_person_has_every_field_mastodon_reads() {
    let app = TestApp::spawn().await;
    let created = app.create_user("alice").await;

    for accept in [
        "application/activity+json",
        "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
    ] {
        let response = app.get_with_accept("/users/alice", accept).await;
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(
            response.headers()["content-type"],
            "application/activity+json; charset=utf-8"
        );
        assert_eq!(response.headers()["vary"], "Accept");
        let person: Value = response.json().await.unwrap();
        let id = app.url("/users/alice");
        assert_eq!(
            person["@context"][0],
            "https://www.w3.org/ns/activitystreams"
        );
        assert_eq!(person["@context"][1], "https://w3id.org/security/v1");
        let terms = &person["@context"][2];
        for term in [
            "manuallyApprovesFollowers",
            "toot",
            "featured",
            "alsoKnownAs",
            "movedTo",
            "schema",
            "PropertyValue",
            "value",
            "discoverable",
            "indexable",
        ] {
            assert!(terms.get(term).is_some(), "context term {term}");
        }
        assert_eq!(person["id"], id);
        assert_eq!(person["type"], "Person");
        assert_eq!(person["preferredUsername"], "alice");
        assert_eq!(person["name"], "");
        assert_eq!(person["summary"], "");
        assert_eq!(person["url"], app.url("/@alice"));
        assert_eq!(person["inbox"], app.url("/users/alice/inbox"));
        assert_eq!(person["outbox"], app.url("/users/alice/outbox"));
        assert_eq!(person["followers"], app.url("/users/alice/followers"));
        assert_eq!(person["following"], app.url("/users/alice/following"));
        assert_eq!(
            person["featured"],
            app.url("/users/alice/collections/featured")
        );
        assert_eq!(person["endpoints"]["sharedInbox"], app.url("/inbox"));
        assert_eq!(person["manuallyApprovesFollowers"], false);
        assert_eq!(person["discoverable"], true);
        assert_eq!(person["indexable"], false);
        assert!(person["published"].as_str().unwrap().ends_with('Z'));
        assert_eq!(person["attachment"], serde_json::json!([]));
        assert_eq!(person["alsoKnownAs"], serde_json::json!([]));
        assert!(person.get("movedTo").is_none());
        assert_eq!(person["publicKey"]["id"], format!("{id}#main-key"));
        assert_eq!(person["publicKey"]["owner"], id);

        // The published key is RSA 2048 and pairs with the stored private key.
        let public = RsaPublicKey::from_public_key_pem(
            person["publicKey"]["publicKeyPem"].as_str().unwrap(),
        )
        .expect("an SPKI PEM public key");
        assert_eq!(public.size() * 8, 2048);
        let private =
            RsaPrivateKey::from_pkcs8_pem(created.actor.private_key_pem.as_deref().unwrap())
                .expect("a PKCS#8 private key");
        assert_eq!(RsaPublicKey::from(&private), public);
    }
}

#[tokio::test]
async fn profile_fields_moves_and_images_appear_in_the_actor() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    sqlx::query(
        "update actors set display_name = 'Alice A.', summary = '<p>Hi</p>',
                fields = '[{\"name\": \"Site\", \"value\": \"<a href=\\\"https://a.example\\\">a.example</a>\"}]',
                also_known_as = '{https://old.example/users/alice}',
                moved_to = 'https://new.example/users/alice',
                avatar_url = 'https://media.example/a.png'
         where id = $1",
    )
    .bind(alice.actor.id)
    .execute(&app.db)
    .await
    .unwrap();
    let person: Value = app.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(person["name"], "Alice A.");
    assert_eq!(person["summary"], "<p>Hi</p>");
    assert_eq!(person["attachment"][0]["type"], "PropertyValue");
    assert_eq!(person["attachment"][0]["name"], "Site");
    assert_eq!(person["alsoKnownAs"][0], "https://old.example/users/alice");
    assert_eq!(person["movedTo"], "https://new.example/users/alice");
    assert_eq!(person["icon"]["type"], "Image");
    assert_eq!(person["icon"]["url"], "https://media.example/a.png");
    assert!(person.get("image").is_none());
}

#[tokio::test]
async fn browsers_get_the_profile_page_at_the_actor_url() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    sqlx::query("update actors set display_name = '<script>alert(1)</script>' where id = $1")
        .bind(alice.actor.id)
        .execute(&app.db)
        .await
        .unwrap();

    for path in ["/users/alice", "/@alice"] {
        for accept in [None, Some("text/html,application/xhtml+xml,*/*;q=0.8")] {
            let response = match accept {
                Some(a) => app.get_with_accept(path, a).await,
                None => app.get(path).await,
            };
            assert_eq!(response.status(), 200, "{path} {accept:?}");
            assert!(
                response.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html")
            );
            assert_eq!(response.headers()["vary"], "Accept");
            let html = response.text().await.unwrap();
            assert!(html.contains(&format!("@alice@{}", app.domain)));
            assert!(
                html.contains("&#60;script&#62;"),
                "display names are escaped"
            );
            assert!(!html.contains("<script>alert"));
            assert!(html.contains(&format!(
                "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{}\"",
                app.url("/users/alice")
            )));
        }
    }

    // ActivityPub clients asking for the profile page are sent to the actor.
    let redirect = app.get_ap("/@alice").await;
    assert!(redirect.status().is_redirection());
    assert_eq!(redirect.headers()["location"], app.url("/users/alice"));
}

#[tokio::test]
async fn unknown_accounts_are_404_in_every_representation() {
    let app = TestApp::spawn().await;
    for path in [
        "/users/nobody",
        "/@nobody",
        "/users/nobody/followers",
        "/users/nobody/outbox",
    ] {
        assert_eq!(app.get_ap(path).await.status(), 404, "{path}");
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    let body: Value = app.get_ap("/users/nobody").await.json().await.unwrap();
    assert_eq!(body["error"], "Record not found");
    // A path without the @ is not a profile.
    assert_eq!(app.get("/alice").await.status(), 404);
    // The instance actor is not a Person.
    assert_eq!(
        app.get_ap(&format!("/users/{}", app.domain)).await.status(),
        404
    );
}

#[tokio::test]
async fn the_instance_actor_is_an_application_with_its_own_key() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await;
    let response = app.get_ap("/actor").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/activity+json; charset=utf-8"
    );
    let actor: Value = response.json().await.unwrap();
    assert_eq!(actor["id"], app.url("/actor"));
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["preferredUsername"], app.domain);
    assert_eq!(actor["inbox"], app.url("/actor/inbox"));
    assert_eq!(actor["outbox"], app.url("/actor/outbox"));
    assert_eq!(actor["manuallyApprovesFollowers"], true);
    assert_eq!(
        actor["publicKey"]["id"],
        format!("{}#main-key", app.url("/actor"))
    );
    let pem = actor["publicKey"]["publicKeyPem"].as_str().unwrap();
    RsaPublicKey::from_public_key_pem(pem).expect("a public key");
    assert_ne!(
        pem, alice.actor.public_key_pem,
        "the instance has a key of its own"
    );

    // Restarting (building the app again on the same database) keeps the key.
    let stored: String =
        sqlx::query_scalar("select public_key_pem from actors where kind = 'Application'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, pem);
    let again = skein::service::instance::ensure_actor(
        &app.db,
        &skein::federation::urls::Urls::new(app.config.base_url()),
    )
    .await
    .unwrap();
    assert_eq!(again.public_key_pem, pem);
    let count: i64 = sqlx::query_scalar("select count(*) from actors where kind = 'Application'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(count, 1);

    let outbox: Value = app.get_ap("/actor/outbox").await.json().await.unwrap();
    assert_eq!(outbox["totalItems"], 0);
    let browser = app.get("/actor").await;
    assert!(browser.status().is_redirection());
    assert_eq!(browser.headers()["location"], "/");
}

#[tokio::test]
async fn the_front_page_names_the_instance() {
    let app = TestApp::spawn_with(
        crate::harness::Options::named("alpha")
            .env("SKEIN_INSTANCE__NAME", "Alpha <Social>")
            .env("SKEIN_INSTANCE__DESCRIPTION", "A place for tests"),
    )
    .await;
    app.create_user("alice").await;
    let response = app.get("/").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("<h1>Alpha &#60;Social&#62;</h1>"), "{html}");
    assert!(html.contains("A place for tests"));
    assert!(html.contains("1 account · 0 posts"), "{html}");
}
