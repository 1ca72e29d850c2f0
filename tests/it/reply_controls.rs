//! Reply controls and hidden replies, across real instances and a fake
//! server: a post's choice of who may reply is published as GoToSocial's
//! `interactionPolicy`; a reply from the fediverse that it does not admit is
//! not stored and is answered with a Reject; another Skein instance honours
//! the policy before sending anything; a Reject of a local reply deletes it;
//! replies to remote posts that their own policy refuses are dropped; the
//! author of a post hides replies from its thread.

use serde_json::{Value, json};

use crate::fake::FakeServer;
use crate::harness::{Options, TestApp};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn reply_note(fake: &FakeServer, name: &str, author: &str, parent: &str) -> Value {
    json!({
        "id": fake.note_url(name), "type": "Note", "attributedTo": author,
        "content": format!("<p>{name}</p>"), "inReplyTo": parent,
        "to": [PUBLIC],
    })
}

fn create(fake: &FakeServer, actor: &str, note: Value) -> Value {
    json!({
        "id": format!("{}/activities/create-{}", fake.base, uuid::Uuid::new_v4()),
        "type": "Create", "actor": actor, "object": note,
    })
}

async fn stored(app: &TestApp, ap_id: &str) -> Option<skein::db::posts::Post> {
    skein::db::posts::find_by_ap_id(&app.db, ap_id)
        .await
        .unwrap()
}

#[tokio::test]
async fn reply_controls_reject_a_disallowed_remote_reply() {
    let alpha = TestApp::spawn().await;
    alpha.create_user("ann").await;
    let ann = alpha.token("ann").await;
    let fake = FakeServer::spawn("remote").await;
    let troll = fake.add_actor("troll", false);
    let friend = fake.add_actor("friend", false);

    // Mentioned accounts only; the post mentions friend.
    let friend_handle = format!("@friend@{}", fake.domain);
    let (status, post) = alpha
        .api_post(
            &ann,
            "/api/v1/statuses",
            json!({
                "status": format!("a quiet thread with {friend_handle}"),
                "interaction_policy": { "can_reply": { "always": ["author", "mentioned"] } }
            }),
        )
        .await;
    assert_eq!(status, 200, "{post}");
    assert_eq!(
        post["interaction_policy"]["can_reply"]["automatic_approval"],
        json!(["author", "mentioned"])
    );
    assert_eq!(
        post["interaction_policy"]["can_favourite"]["automatic_approval"],
        json!(["public"])
    );
    let post_uri = post["uri"].as_str().unwrap().to_string();

    // The Note publishes it: canReply lists ann and friend only.
    let path = url::Url::parse(&post_uri).unwrap().path().to_string();
    let note: Value = alpha.get_ap(&path).await.json().await.unwrap();
    let ann_id = alpha.local("ann").await.ap_id;
    let mut expected = vec![ann_id.clone(), friend.id.clone()];
    expected.sort();
    assert_eq!(
        note["interactionPolicy"]["canReply"]["automaticApproval"],
        json!(expected)
    );
    assert_eq!(
        note["interactionPolicy"]["canLike"]["automaticApproval"],
        json!([PUBLIC])
    );
    assert_eq!(
        note["interactionPolicy"]["canAnnounce"]["always"],
        json!([PUBLIC])
    );

    // The troll's reply: accepted for processing, not stored, answered
    // with a Reject from ann.
    let troll_reply = reply_note(&fake, "troll-reply", &troll.id, &post_uri);
    let status = alpha
        .post_signed(
            &fake,
            &troll,
            "/inbox",
            create(&fake, &troll.id, troll_reply),
        )
        .await;
    assert_eq!(status, 202);
    assert!(
        stored(&alpha, &fake.note_url("troll-reply"))
            .await
            .is_none()
    );
    assert_eq!(alpha.post(&post_uri).await.replies_count, 0);
    alpha.deliver().await;
    let reject = fake
        .received()
        .into_iter()
        .find(|r| r.body["type"] == "Reject")
        .expect("a Reject reached the replier's server");
    assert_eq!(reject.body["actor"], ann_id.as_str());
    assert_eq!(reject.body["object"], fake.note_url("troll-reply").as_str());
    assert_eq!(reject.body["target"], post_uri.as_str());

    // The mentioned account's reply is stored and counted.
    let friend_reply = reply_note(&fake, "friend-reply", &friend.id, &post_uri);
    let status = alpha
        .post_signed(
            &fake,
            &friend,
            "/inbox",
            create(&fake, &friend.id, friend_reply),
        )
        .await;
    assert_eq!(status, 202);
    let kept = stored(&alpha, &fake.note_url("friend-reply"))
        .await
        .expect("the mentioned account's reply is stored");
    assert_eq!(kept.in_reply_to_id, Some(alpha.post(&post_uri).await.id));
    assert_eq!(alpha.post(&post_uri).await.replies_count, 1);
    assert_eq!(
        fake.received()
            .iter()
            .filter(|r| r.body["type"] == "Reject")
            .count(),
        1,
        "no Reject for an admitted reply"
    );
}

#[tokio::test]
async fn another_instance_honours_the_policy_and_following_admits_followed_accounts() {
    let alpha = TestApp::spawn().await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("ann").await;
    beta.create_user("bob").await;
    beta.create_user("cyd").await;
    let ann = alpha.token("ann").await;
    let bob = beta.token("bob").await;
    let cyd = beta.token("cyd").await;

    // Ann follows bob (beta accepts), so bob is among "accounts ann follows".
    let (_, found) = alpha
        .api_get(
            &ann,
            &format!("/api/v2/search?q=@{}&resolve=true", beta.handle("bob")),
        )
        .await;
    let bob_here = found["accounts"][0]["id"].as_str().unwrap().to_string();
    let (status, _) = alpha
        .api_post(
            &ann,
            &format!("/api/v1/accounts/{bob_here}/follow"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    alpha.deliver().await;
    beta.deliver().await;

    let (_, post) = alpha
        .api_post(
            &ann,
            "/api/v1/statuses",
            json!({
                "status": "only people I follow, please",
                "interaction_policy": { "can_reply": { "automatic_approval": ["following"] } }
            }),
        )
        .await;
    let post_uri = post["uri"].as_str().unwrap().to_string();

    // Beta fetches the post and keeps its policy.
    let look = |token: String| {
        let beta = &beta;
        let uri = post_uri.clone();
        async move {
            let (_, found) = beta
                .api_get(
                    &token,
                    &format!("/api/v2/search?q={uri}&resolve=true&type=statuses"),
                )
                .await;
            found["statuses"][0].clone()
        }
    };
    let seen_by_cyd = look(cyd.clone()).await;
    assert_eq!(
        seen_by_cyd["interaction_policy"]["can_reply"]["automatic_approval"],
        json!(["author", "following"]),
        "{seen_by_cyd}"
    );
    let stored_policy = beta.post(&post_uri).await.interaction_policy.unwrap().0;
    assert!(!stored_policy.can_reply.unwrap().is_public());

    // Cyd is not followed by ann: beta refuses her reply and sends nothing.
    let deliveries_before: i64 = sqlx::query_scalar("select count(*) from deliveries")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    let (status, refused) = beta
        .api_post(
            &cyd,
            "/api/v1/statuses",
            json!({"status": "let me in", "in_reply_to_id": seen_by_cyd["id"]}),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("accounts the author follows can reply"),
        "{refused}"
    );
    let deliveries_after: i64 = sqlx::query_scalar("select count(*) from deliveries")
        .fetch_one(&beta.db)
        .await
        .unwrap();
    assert_eq!(deliveries_after, deliveries_before);
    let cyd_posts: i64 = sqlx::query_scalar(
        "select count(*) from posts p join actors a on a.id = p.author_id
         where a.username = 'cyd' and a.domain is null",
    )
    .fetch_one(&beta.db)
    .await
    .unwrap();
    assert_eq!(cyd_posts, 0);
    // Likes stay open to anyone.
    let (status, _) = beta
        .api_post(
            &cyd,
            &format!(
                "/api/v1/statuses/{}/favourite",
                seen_by_cyd["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);

    // Bob, whom ann follows, may reply; alpha keeps the reply.
    let seen_by_bob = look(bob.clone()).await;
    let (status, reply) = beta
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "thanks for having me", "in_reply_to_id": seen_by_bob["id"]}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    beta.deliver().await;
    let reply_uri = reply["uri"].as_str().unwrap().to_string();
    let kept = alpha.post(&reply_uri).await;
    assert_eq!(kept.in_reply_to_id, Some(alpha.post(&post_uri).await.id));
    assert_eq!(alpha.post(&post_uri).await.likes_count, 1);

    // Admitted through ann's following collection, the reply is approved:
    // alpha sends an Accept carrying a ReplyAuthorization it serves; beta
    // keeps it and publishes the reply with the proof.
    alpha.deliver().await;
    let on_beta = beta.post(&reply_uri).await;
    let authorization = on_beta
        .reply_authorization
        .clone()
        .expect("beta kept the authorization");
    let accept = on_beta.reply_approved_by.clone().expect("and the Accept");
    let path = |u: &str| url::Url::parse(u).unwrap().path().to_string();
    let document: Value = alpha
        .get_ap(&path(&authorization))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(document["type"], "ReplyAuthorization");
    assert_eq!(document["id"], authorization.as_str());
    assert_eq!(
        document["attributedTo"],
        alpha.local("ann").await.ap_id.as_str()
    );
    assert_eq!(document["interactingObject"], reply_uri.as_str());
    assert_eq!(document["interactionTarget"], post_uri.as_str());
    let served_accept: Value = alpha.get_ap(&path(&accept)).await.json().await.unwrap();
    assert_eq!(served_accept["type"], "Accept");
    assert_eq!(served_accept["object"], reply_uri.as_str());
    assert_eq!(served_accept["result"], authorization.as_str());
    let note: Value = beta.get_ap(&path(&reply_uri)).await.json().await.unwrap();
    assert_eq!(note["replyAuthorization"], authorization.as_str());
    assert_eq!(note["approvedBy"], accept.as_str());
}

#[tokio::test]
async fn a_reject_deletes_the_reply_and_replies_refused_by_a_remote_policy_are_dropped() {
    let alpha = TestApp::spawn().await;
    let ann = alpha.create_user("ann").await.actor;
    let token = alpha.token("ann").await;
    let fake = FakeServer::spawn("remote").await;
    let gus = fake.add_actor("gus", false);
    let other = fake.add_actor("other", false);
    alpha.follow_fake(&fake, &ann, &gus).await;

    // Gus's post: replies need his approval; only he replies freely.
    let post_id = fake.note_url("asks");
    let note = json!({
        "id": post_id, "type": "Note", "attributedTo": gus.id, "content": "<p>ask first</p>",
        "to": [PUBLIC],
        "interactionPolicy": {
            "canReply": { "automaticApproval": [gus.id], "manualApproval": [PUBLIC] },
            "canLike": { "automaticApproval": [PUBLIC] },
            "canAnnounce": { "automaticApproval": [gus.id] }
        }
    });
    fake.add_note("asks", note.clone());
    let status = alpha
        .post_signed(&fake, &gus, "/inbox", create(&fake, &gus.id, note))
        .await;
    assert_eq!(status, 202);
    let here = alpha.post(&post_id).await;

    // Reposting is not allowed; replying may be asked for.
    let (status, refused) = alpha
        .api_post(
            &token,
            &format!("/api/v1/statuses/{}/reblog", here.id),
            json!({}),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    let (status, reply) = alpha
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "may I?", "in_reply_to_id": here.id.to_string()}),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    let reply_uri = reply["uri"].as_str().unwrap().to_string();
    alpha.deliver().await;

    // Gus's server says no: the reply is deleted and its Delete goes out.
    let reject = json!({
        "id": format!("{}/activities/reject-1", fake.base), "type": "Reject",
        "actor": gus.id, "object": reply_uri, "target": post_id,
    });
    assert_eq!(alpha.post_signed(&fake, &gus, "/inbox", reject).await, 202);
    assert!(alpha.post(&reply_uri).await.deleted_at.is_some());
    assert_eq!(alpha.post(&post_id).await.replies_count, 0);
    alpha.deliver().await;
    assert!(
        fake.received()
            .iter()
            .any(|r| r.body["type"] == "Delete" && r.body["object"]["id"] == reply_uri.as_str()),
        "the deleted reply's Delete went out"
    );
    // Someone else's Reject of it would change nothing (it is gone anyway),
    // and a Reject by another actor of a live reply is ignored.
    let (_, second) = alpha
        .api_post(
            &token,
            "/api/v1/statuses",
            json!({"status": "second try", "in_reply_to_id": here.id.to_string()}),
        )
        .await;
    let second_uri = second["uri"].as_str().unwrap().to_string();
    let forged = json!({
        "id": format!("{}/activities/reject-2", fake.base), "type": "Reject",
        "actor": other.id, "object": second_uri,
    });
    assert_eq!(
        alpha.post_signed(&fake, &other, "/inbox", forged).await,
        202
    );
    assert!(alpha.post(&second_uri).await.deleted_at.is_none());

    // A third party's reply to gus's post without his approval is dropped;
    // one carrying an approval from gus's server is kept.
    let unapproved = reply_note(&fake, "unapproved", &other.id, &post_id);
    let status = alpha
        .post_signed(
            &fake,
            &other,
            "/inbox",
            create(&fake, &other.id, unapproved),
        )
        .await;
    assert_eq!(status, 202);
    assert!(stored(&alpha, &fake.note_url("unapproved")).await.is_none());
    // An authorization that is not gus's (or not there) does not count.
    let forged_at = format!("{}/authorizations/forged", fake.base);
    fake.serve(
        "/authorizations/forged",
        json!({
            "id": forged_at, "type": "ReplyAuthorization", "attributedTo": other.id,
            "interactingObject": fake.note_url("forged"), "interactionTarget": post_id,
        }),
    );
    for (name, link) in [
        ("forged", forged_at.clone()),
        ("missing", format!("{}/authorizations/missing", fake.base)),
    ] {
        let mut reply = reply_note(&fake, name, &other.id, &post_id);
        reply["replyAuthorization"] = json!(link);
        let status = alpha
            .post_signed(&fake, &other, "/inbox", create(&fake, &other.id, reply))
            .await;
        assert_eq!(status, 202);
        assert!(
            stored(&alpha, &fake.note_url(name)).await.is_none(),
            "{name}"
        );
    }
    let granted_at = format!("{}/authorizations/1", fake.base);
    fake.serve(
        "/authorizations/1",
        json!({
            "id": granted_at, "type": "ReplyAuthorization", "attributedTo": gus.id,
            "interactingObject": fake.note_url("approved"), "interactionTarget": post_id,
        }),
    );
    let mut approved = reply_note(&fake, "approved", &other.id, &post_id);
    approved["replyAuthorization"] = json!(granted_at);
    let status = alpha
        .post_signed(&fake, &other, "/inbox", create(&fake, &other.id, approved))
        .await;
    assert_eq!(status, 202);
    assert!(stored(&alpha, &fake.note_url("approved")).await.is_some());
}

#[tokio::test]
async fn the_author_hides_a_reply_from_the_thread() {
    let alpha = TestApp::spawn().await;
    for name in ["ann", "bob", "cyd"] {
        alpha.create_user(name).await;
    }
    let ann = alpha.token("ann").await;
    let bob = alpha.token("bob").await;
    let cyd = alpha.token("cyd").await;
    let (_, post) = alpha
        .api_post(&ann, "/api/v1/statuses", json!({"status": "hello"}))
        .await;
    let post_id = post["id"].as_str().unwrap().to_string();
    let (_, rude) = alpha
        .api_post(
            &bob,
            "/api/v1/statuses",
            json!({"status": "@ann rude", "in_reply_to_id": post_id}),
        )
        .await;
    let rude_id = rude["id"].as_str().unwrap().to_string();
    let (_, below) = alpha
        .api_post(
            &cyd,
            "/api/v1/statuses",
            json!({"status": "@bob indeed", "in_reply_to_id": rude_id}),
        )
        .await;
    let below_id = below["id"].as_str().unwrap().to_string();

    // Only ann may hide replies to her post.
    let (status, _) = alpha
        .api_post(
            &cyd,
            &format!("/api/v1/statuses/{rude_id}/hide_reply"),
            json!({}),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = alpha
        .api_post(
            &ann,
            &format!("/api/v1/statuses/{rude_id}/hide_reply"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let hidden: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select reply_hidden_at from posts where id = $1")
            .bind(rude_id.parse::<i64>().unwrap())
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    assert!(hidden.is_some());

    let context = |token: String| {
        let alpha = &alpha;
        let id = post_id.clone();
        async move {
            let (_, c) = alpha
                .api_get(&token, &format!("/api/v1/statuses/{id}/context"))
                .await;
            c["descendants"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    // Cyd sees neither the hidden reply nor what is below it; bob (its
    // author) and ann still see both; the anonymous public does not.
    assert_eq!(context(cyd.clone()).await, Vec::<String>::new());
    assert_eq!(
        context(bob.clone()).await,
        vec![rude_id.clone(), below_id.clone()]
    );
    assert_eq!(
        context(ann.clone()).await,
        vec![rude_id.clone(), below_id.clone()]
    );
    let anonymous: Value = alpha
        .get(&format!("/api/v1/statuses/{post_id}/context"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(anonymous["descendants"], json!([]));

    // Shown again.
    let (status, _) = alpha
        .api_post(
            &ann,
            &format!("/api/v1/statuses/{rude_id}/unhide_reply"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(context(cyd).await, vec![rude_id, below_id]);
}

#[tokio::test]
async fn the_web_composer_sets_who_can_reply_and_the_author_hides_replies() {
    use crate::web::Browser;
    use reqwest::multipart;
    let alpha = TestApp::spawn().await;
    alpha.create_user("ann").await;
    alpha.create_user("bob").await;
    alpha.create_user("cyd").await;

    let mut ann = Browser::new(&alpha);
    ann.sign_in("ann").await;
    let home = ann.get("/home").await;
    assert!(home.body.contains(r#"name="reply_policy""#));
    assert!(
        home.body
            .contains(r#"<option value="mentioned">Replies: mentioned only</option>"#)
    );
    let token = ann.token().await;
    let posted = ann
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", token.clone())
                .text("text", "just for @bob")
                .text("reply_policy", "mentioned"),
        )
        .await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    let page_path = posted.location.unwrap();
    let (id, policy): (i64, String) =
        sqlx::query_as("select id, reply_policy from posts where source = 'just for @bob'")
            .fetch_one(&alpha.db)
            .await
            .unwrap();
    assert_eq!(policy, "mentioned");

    // Cyd is not mentioned: no reply box, the rule instead.
    let mut cyd = Browser::new(&alpha);
    cyd.sign_in("cyd").await;
    let page = cyd.get(&page_path).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(r#"id="compose-text""#));
    assert!(page.body.contains("Only mentioned accounts can reply."));
    let cyd_token = cyd.token().await;
    let refused = cyd
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", cyd_token)
                .text("text", "me too")
                .text("in_reply_to_id", id.to_string()),
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("only mentioned accounts can reply"));

    // Bob is mentioned: he replies; ann hides the reply from her page.
    let mut bob = Browser::new(&alpha);
    bob.sign_in("bob").await;
    let page = bob.get(&page_path).await;
    assert!(page.body.contains(r#"id="compose-text""#));
    let bob_token = bob.token().await;
    let replied = bob
        .post_multipart(
            "/compose",
            multipart::Form::new()
                .text("csrf_token", bob_token)
                .text("text", "@ann thanks")
                .text("in_reply_to_id", id.to_string()),
        )
        .await;
    assert_eq!(replied.status, 303, "{}", replied.body);
    let reply_id: i64 = sqlx::query_scalar("select id from posts where in_reply_to_id = $1")
        .bind(id)
        .fetch_one(&alpha.db)
        .await
        .unwrap();
    let page = ann.get(&page_path).await;
    assert!(
        page.body
            .contains(&format!("/web/statuses/{reply_id}/hide_reply"))
    );
    let hidden = ann
        .post(
            &format!("/web/statuses/{reply_id}/hide_reply"),
            &[("csrf_token", &token), ("back", &page_path)],
        )
        .await;
    assert_eq!(hidden.status, 303);
    let page = ann.get(&page_path).await;
    assert!(page.body.contains("Hidden reply"));
    assert!(
        page.body
            .contains(&format!("/web/statuses/{reply_id}/unhide_reply"))
    );
    // Others no longer see it in the thread.
    let page = cyd.get(&page_path).await;
    assert!(!page.body.contains(&format!("id=\"post-{reply_id}\"")));
    // Bob cannot hide replies to ann's post.
    let bob_token = bob.token().await;
    let refused = bob
        .post(
            &format!("/web/statuses/{reply_id}/unhide_reply"),
            &[("csrf_token", &bob_token)],
        )
        .await;
    assert_eq!(refused.status, 403);
}
