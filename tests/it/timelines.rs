//! Timelines: home across instances with reposts and visibility, public
//! local and remote, hashtags, profile tabs, threads, keyset pages.

use skein::domain::visibility::Visibility;
use skein::service::timelines::{self, ProfileTab, Scope};
use skein::service::{follows, interactions, posts};

use crate::harness::{Options, TestApp};

fn draft<'a>(text: &'a str, visibility: Visibility, reply: Option<&'a str>) -> posts::Draft<'a> {
    posts::Draft {
        text,
        spoiler: "",
        sensitive: false,
        language: None,
        visibility,
        in_reply_to: reply,
        poll: None,
        quote_of: None,
        quote_policy: Default::default(),
        reply_policy: Default::default(),
        media_ids: None,
        media_attributes: &[],
    }
}

fn texts(posts: &[skein::db::posts::Post]) -> Vec<String> {
    posts
        .iter()
        .map(|p| {
            if p.reblog_of_id.is_some() {
                "repost".to_string()
            } else {
                p.content.replace("<p>", "").replace("</p>", "")
            }
        })
        .collect()
}

#[tokio::test]
async fn the_home_timeline_shows_followed_accounts_from_both_instances_with_visibility_enforced() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    let alice = alpha.create_user("alice").await.actor;
    let zed = alpha.create_user("zed").await.actor;
    let bob = beta.create_user("bob").await.actor;
    let carol = beta.create_user("carol").await.actor;
    let remote_bob = alpha.resolve(&beta.handle("bob")).await;
    follows::follow(&alpha.state, &alice, &remote_bob)
        .await
        .unwrap();
    follows::follow(&alpha.state, &alice, &zed).await.unwrap();
    alpha.deliver().await;
    beta.deliver().await;

    posts::create(
        &alpha.state,
        &alice,
        draft("mine", Visibility::Public, None),
    )
    .await
    .unwrap();
    posts::create(
        &alpha.state,
        &zed,
        draft("local friend", Visibility::Private, None),
    )
    .await
    .unwrap();
    posts::create(
        &beta.state,
        &bob,
        draft("from beta", Visibility::Public, None),
    )
    .await
    .unwrap();
    posts::create(
        &beta.state,
        &bob,
        draft("followers of bob", Visibility::Private, None),
    )
    .await
    .unwrap();
    posts::create(
        &beta.state,
        &carol,
        draft("carol is not followed", Visibility::Public, None),
    )
    .await
    .unwrap();
    let hello = format!("psst @alice@{}", alpha.domain);
    posts::create(&beta.state, &carol, draft(&hello, Visibility::Direct, None))
        .await
        .unwrap();
    // Bob reposts carol: the repost reaches alice's home, carol's post does not.
    let carol_post = posts::create(
        &beta.state,
        &carol,
        draft("worth a repost", Visibility::Public, None),
    )
    .await
    .unwrap();
    beta.deliver().await;
    interactions::repost(&beta.state, &bob, &carol_post)
        .await
        .unwrap();
    beta.deliver().await;
    // Carol's reposted post was not on alpha (nobody follows carol there):
    // alpha fetched it from beta for the repost to point at.
    let home = timelines::home(
        &alpha.state,
        &alice,
        timelines::page(None, None, None, None),
    )
    .await
    .unwrap();
    // Each instance's test clock stands still, so ids of the two instances'
    // posts do not interleave by real time: compare the set, and the order
    // within it by id.
    let mut got = texts(&home);
    got.sort();
    assert_eq!(
        got,
        vec![
            "followers of bob",
            "from beta",
            "local friend",
            "mine",
            "repost"
        ]
    );
    let repost = home.iter().find(|p| p.reblog_of_id.is_some()).unwrap();
    let original = skein::db::posts::find_by_id(&alpha.db, repost.reblog_of_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(original.ap_id, carol_post.ap_id);
    assert_eq!(original.content, "<p>worth a repost</p>");
    assert!(home.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    // The direct message is not on the home timeline, but alice can read it.
    let direct: i64 = sqlx::query_scalar("select count(*) from posts where visibility = 'direct'")
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    assert_eq!(direct, 1);

    // Zed's followers-only post is not for others.
    let erin = alpha.create_user("erin").await.actor;
    let zed_profile = timelines::profile(
        &alpha.state,
        Some(&erin),
        &zed,
        ProfileTab::Posts,
        timelines::page(None, None, None, None),
    )
    .await
    .unwrap();
    assert!(zed_profile.is_empty());
}

#[tokio::test]
async fn public_hashtag_profile_and_thread_views_page_by_id() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let bob = app.create_user("bob").await.actor;
    let mut ids = Vec::new();
    for n in 0..5 {
        let text = format!("post {n} #tagged");
        let post = posts::create(&app.state, &alice, draft(&text, Visibility::Public, None))
            .await
            .unwrap();
        ids.push(post.id);
    }
    posts::create(
        &app.state,
        &alice,
        draft("quiet #tagged", Visibility::Unlisted, None),
    )
    .await
    .unwrap();
    let root = posts::create(&app.state, &bob, draft("root", Visibility::Public, None))
        .await
        .unwrap();
    let reply = posts::create(
        &app.state,
        &alice,
        draft("reply", Visibility::Public, Some(&root.ap_id)),
    )
    .await
    .unwrap();
    let nested = posts::create(
        &app.state,
        &bob,
        draft("nested", Visibility::Public, Some(&reply.ap_id)),
    )
    .await
    .unwrap();
    let sibling = posts::create(
        &app.state,
        &bob,
        draft("sibling", Visibility::Public, Some(&root.ap_id)),
    )
    .await
    .unwrap();

    let local = timelines::public(
        &app.state,
        None,
        Scope::Local,
        timelines::page(None, None, None, Some(3)),
    )
    .await
    .unwrap();
    assert_eq!(texts(&local), vec!["sibling", "nested", "reply"]);
    assert!(
        timelines::public(
            &app.state,
            None,
            Scope::Remote,
            timelines::page(None, None, None, None)
        )
        .await
        .unwrap()
        .is_empty()
    );

    // Keyset pages: older than, newer than, right after.
    let tagged = |page| timelines::tag(&app.state, None, "#Tagged", page);
    let first = tagged(timelines::page(None, None, None, Some(2)))
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3]]
    );
    let older = tagged(timelines::page(Some(first[1].id), None, None, Some(2)))
        .await
        .unwrap();
    assert_eq!(
        older.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    let newer = tagged(timelines::page(None, None, Some(ids[0]), Some(2)))
        .await
        .unwrap();
    assert_eq!(
        newer.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![ids[2], ids[1]]
    );
    let since = tagged(timelines::page(None, Some(ids[0]), None, Some(2)))
        .await
        .unwrap();
    assert_eq!(
        since.iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![ids[4], ids[3]]
    );
    assert_eq!(
        tagged(timelines::page(None, None, None, None))
            .await
            .unwrap()
            .len(),
        5,
        "unlisted posts are not in tag timelines"
    );

    let replies = timelines::profile(
        &app.state,
        None,
        &alice,
        ProfileTab::Replies,
        timelines::page(None, None, None, None),
    )
    .await
    .unwrap();
    assert_eq!(texts(&replies), vec!["reply"]);
    let alice_posts = timelines::profile(
        &app.state,
        None,
        &alice,
        ProfileTab::Posts,
        timelines::page(None, None, None, None),
    )
    .await
    .unwrap();
    assert_eq!(alice_posts.len(), 6);

    let thread = timelines::thread(&app.state, None, &reply).await.unwrap();
    assert_eq!(texts(&thread.ancestors), vec!["root"]);
    assert_eq!(texts(&thread.descendants), vec!["nested"]);
    let whole = timelines::thread(&app.state, None, &root).await.unwrap();
    assert_eq!(
        texts(&whole.descendants),
        vec!["reply", "nested", "sibling"]
    );
    let _ = (nested, sibling);
}

#[tokio::test]
async fn hashtag_links_lead_to_a_public_tag_page() {
    let app = TestApp::spawn().await;
    let alice = app.create_user("alice").await.actor;
    let post = posts::create(
        &app.state,
        &alice,
        draft("hello #Fediverse <friends>", Visibility::Public, None),
    )
    .await
    .unwrap();
    posts::create(
        &app.state,
        &alice,
        draft("secret #fediverse", Visibility::Private, None),
    )
    .await
    .unwrap();
    let href = format!("{}/tags/fediverse", app.base);
    assert!(
        post.content.contains(&format!("href=\"{href}\"")),
        "{}",
        post.content
    );
    let page = app.get("/tags/fediverse").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<h1>#fediverse</h1>"));
    assert!(html.contains("hello"));
    assert!(
        html.contains("&lt;friends&gt;"),
        "escaped once, as rendered"
    );
    assert!(!html.contains("secret"));
    assert_eq!(app.get("/tags/fediverse?max_id=x").await.status(), 400);
}
