//! Searching for this instance's own addresses: a profile (`/@alice`,
//! `/users/alice`) or a post (its page `/@alice/ID` or its id
//! `/users/alice/statuses/ID`) pasted into the web search box or sent to
//! `/api/v2/search` finds the account or post from the database, without
//! fetching, as far as the searcher may see it.

use skein::domain::visibility::Visibility;

use crate::harness::{Options, TestApp, draft};
use crate::web::Browser;

/// An instance that cannot reach itself over the network: whatever it
/// finds of its own addresses, it found without fetching them.
async fn isolated() -> TestApp {
    TestApp::spawn_with(
        Options::named("alpha").env("SKEIN_TEST_NETWORK__HOSTS", r#"{ "*.test" = "127.0.0.2" }"#),
    )
    .await
}

fn encoded(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// What the web search page shows for `query`: the account and post ids
/// found.
async fn web_search(browser: &mut Browser<'_>, query: &str) -> (Vec<i64>, Vec<i64>) {
    let page = browser.get(&format!("/search?q={}", encoded(query))).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let ids = |pattern: &str| -> Vec<i64> {
        regex::Regex::new(pattern)
            .unwrap()
            .captures_iter(&page.body)
            .map(|c| c[1].parse().unwrap())
            .collect()
    };
    (
        ids(r#"class="account-row" id="account-(\d+)""#),
        ids(r#"<article[^>]* id="post-(\d+)""#),
    )
}

/// What `/api/v2/search` answers for `query`: account and status ids.
async fn api_search(
    app: &TestApp,
    token: &str,
    query: &str,
    resolve: bool,
) -> (Vec<i64>, Vec<i64>) {
    let (status, found) = app
        .api_get(
            token,
            &format!("/api/v2/search?q={}&resolve={resolve}", encoded(query)),
        )
        .await;
    assert_eq!(status, 200, "{found}");
    let ids = |key: &str| -> Vec<i64> {
        found[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().parse().unwrap())
            .collect()
    };
    (ids("accounts"), ids("statuses"))
}

#[tokio::test]
async fn local_profile_and_post_addresses_find_the_account_and_post_without_fetching() {
    let app = isolated().await;
    let alice = app.create_user("alice").await;
    app.create_user("bob").await;
    let carol = app.create_user("carol").await;
    skein::service::follows::follow(&app.state, &carol.actor, &alice.actor)
        .await
        .unwrap();
    let public = skein::service::posts::create(
        &app.state,
        &alice.actor,
        draft("Casting on a new scarf", Visibility::Public),
    )
    .await
    .unwrap();
    let private = skein::service::posts::create(
        &app.state,
        &alice.actor,
        draft("Only for my followers", Visibility::Private),
    )
    .await
    .unwrap();
    let base = &app.base;
    let profiles = [
        format!("{base}/@alice"),
        format!("{base}/users/alice"),
        format!("{base}/@alice@{}", app.domain),
        // Pasted with a trailing slash, or from the https address.
        format!("{base}/@alice/"),
        format!("https://{}/users/alice", app.domain),
    ];
    let public_links = [format!("{base}/@alice/{}", public.id), public.ap_id.clone()];
    assert_eq!(
        public.ap_id,
        format!("{base}/users/alice/statuses/{}", public.id)
    );
    let private_links = [
        format!("{base}/@alice/{}", private.id),
        private.ap_id.clone(),
    ];

    // The web search box: visitors, a signed-in stranger, a follower.
    let mut visitor = Browser::new(&app);
    let mut bob = Browser::new(&app);
    bob.sign_in("bob").await;
    let mut follower = Browser::new(&app);
    follower.sign_in("carol").await;
    for browser in [&mut visitor, &mut bob, &mut follower] {
        for link in &profiles {
            assert_eq!(
                web_search(browser, link).await,
                (vec![alice.actor.id], vec![]),
                "{link}"
            );
        }
        for link in &public_links {
            assert_eq!(
                web_search(browser, link).await,
                (vec![], vec![public.id]),
                "{link}"
            );
        }
    }
    for link in &private_links {
        assert_eq!(
            web_search(&mut visitor, link).await,
            (vec![], vec![]),
            "{link}"
        );
        assert_eq!(web_search(&mut bob, link).await, (vec![], vec![]), "{link}");
        assert_eq!(
            web_search(&mut follower, link).await,
            (vec![], vec![private.id]),
            "{link}"
        );
    }
    // A local address that names nothing finds nothing.
    for link in [
        format!("{base}/@nobody"),
        format!("{base}/@alice/123"),
        format!("{base}/tags/knitting/more"),
    ] {
        assert_eq!(
            web_search(&mut bob, &link).await,
            (vec![], vec![]),
            "{link}"
        );
    }

    // The client API, with and without resolve.
    let bob_token = app.token("bob").await;
    let carol_token = app.token("carol").await;
    for resolve in [true, false] {
        for link in &profiles {
            assert_eq!(
                api_search(&app, &bob_token, link, resolve).await,
                (vec![alice.actor.id], vec![]),
                "{link}"
            );
        }
        for link in &public_links {
            assert_eq!(
                api_search(&app, &bob_token, link, resolve).await,
                (vec![], vec![public.id]),
                "{link}"
            );
        }
        for link in &private_links {
            assert_eq!(
                api_search(&app, &bob_token, link, resolve).await,
                (vec![], vec![]),
                "{link}"
            );
            assert_eq!(
                api_search(&app, &carol_token, link, resolve).await,
                (vec![], vec![private.id]),
                "{link}"
            );
        }
    }
    // `type` still narrows what is answered.
    let (status, found) = app
        .api_get(
            &bob_token,
            &format!(
                "/api/v2/search?q={}&resolve=true&type=accounts",
                encoded(&public.ap_id)
            ),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(found["statuses"], serde_json::json!([]));

    // Remote-interaction links to local addresses lead to the page.
    let led = bob
        .get(&format!(
            "/authorize_interaction?uri={}",
            encoded(&public.ap_id)
        ))
        .await;
    assert_eq!(led.status, 303);
    assert_eq!(
        led.location.as_deref(),
        Some(format!("/@alice/{}", public.id).as_str())
    );
    let led = bob
        .get(&format!(
            "/authorize_interaction?uri={}",
            encoded(&format!("{base}/@alice"))
        ))
        .await;
    assert_eq!(led.location.as_deref(), Some("/@alice"));
}

#[tokio::test]
async fn a_blocked_or_deleted_local_address_is_not_found() {
    let app = isolated().await;
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let gone = skein::service::posts::create(
        &app.state,
        &alice.actor,
        draft("About to go", Visibility::Public),
    )
    .await
    .unwrap();
    skein::service::posts::delete(&app.state, &alice.actor, &gone)
        .await
        .unwrap();
    let bob_token = app.token("bob").await;
    assert_eq!(
        api_search(&app, &bob_token, &gone.ap_id, true).await,
        (vec![], vec![])
    );
    skein::service::blocks::block(&app.state, &alice.actor, &bob.actor)
        .await
        .unwrap();
    assert_eq!(
        api_search(&app, &bob_token, &app.url("/@alice"), true).await,
        (vec![], vec![])
    );
}
