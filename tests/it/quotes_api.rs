//! The quotes API of Mastodon 4.5 between two instances: a post's approved
//! quotes, revoking one (the Delete of its authorization reaches the
//! quoting server, and a later Update does not bring the quote back), and
//! changing who may quote a post.

use serde_json::{Value, json};

use skein::domain::visibility::{QuotePolicy, QuoteState, Visibility};
use skein::service::{follows, posts};

use crate::harness::{Options, TestApp, draft};

#[tokio::test]
async fn an_author_lists_revokes_and_closes_the_quotes_of_a_post() {
    let alpha = TestApp::spawn_with(Options::named("alpha")).await;
    let beta = TestApp::spawn_with(Options::named("beta")).await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    let bob = beta.create_user("bob").await.actor;
    let alice_token = alpha.token("alice").await;
    let carol_token = alpha.token("carol").await;

    // Bob (beta) follows alice, so that her posts and updates reach beta.
    let alice_at_beta = beta.resolve(&alpha.handle("alice")).await;
    follows::follow(&beta.state, &bob, &alice_at_beta)
        .await
        .unwrap();
    beta.deliver().await;
    alpha.deliver().await;

    let (status, open) = alpha
        .api_post(
            &alice_token,
            "/api/v1/statuses",
            json!({"status": "quote me", "visibility": "public"}),
        )
        .await;
    assert_eq!(status, 200, "{open}");
    let open_id = open["id"].as_str().unwrap().to_string();
    let open_ap_id = open["uri"].as_str().unwrap().to_string();
    alpha.deliver().await;

    // Bob quotes it from beta (approved by alpha), carol from alpha.
    let bobs = posts::create(
        &beta.state,
        &bob,
        posts::Draft {
            quote_of: Some(&open_ap_id),
            ..draft("so true", Visibility::Public)
        },
    )
    .await
    .unwrap();
    beta.deliver().await;
    alpha.deliver().await;
    beta.deliver().await;
    assert_eq!(
        beta.post(&bobs.ap_id).await.quote_state,
        Some(QuoteState::Accepted)
    );
    let (status, carols) = alpha
        .api_post(
            &carol_token,
            "/api/v1/statuses",
            json!({"status": "me too", "quoted_status_id": open_id}),
        )
        .await;
    assert_eq!(status, 200, "{carols}");
    assert_eq!(carols["quote"]["state"], "accepted");
    let bobs_at_alpha = alpha.post(&bobs.ap_id).await;

    // Both quotes are listed, newest first, to anyone who may see the post.
    let (status, headers, listed) = alpha
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/statuses/{open_id}/quotes"),
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            carols["id"].as_str().unwrap(),
            bobs_at_alpha.id.to_string().as_str()
        ]
    );
    assert!(headers.get("link").is_some(), "paged with a Link header");
    let (_, one) = alpha
        .api_get(
            &carol_token,
            &format!("/api/v1/statuses/{open_id}/quotes?limit=1"),
        )
        .await;
    assert_eq!(one.as_array().unwrap().len(), 1);

    // Only the quoted post's author may revoke, and only a quote of it.
    let revoke = format!(
        "/api/v1/statuses/{open_id}/quotes/{}/revoke",
        bobs_at_alpha.id
    );
    let (status, _) = alpha.api_post(&carol_token, &revoke, json!({})).await;
    assert_eq!(status, 403);
    let (status, _) = alpha
        .api_post(
            &alice_token,
            &format!("/api/v1/statuses/{open_id}/quotes/{open_id}/revoke"),
            json!({}),
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        alpha.post(&bobs.ap_id).await.quote_state,
        Some(QuoteState::Accepted),
        "refused revocations changed nothing"
    );

    // Alice revokes bob's quote.
    let grant = beta.post(&bobs.ap_id).await.quote_authorization.unwrap();
    let (status, revoked) = alpha.api_post(&alice_token, &revoke, json!({})).await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["id"], bobs_at_alpha.id.to_string());
    assert_eq!(revoked["quote"]["state"], "revoked");
    assert_eq!(revoked["quote"]["quoted_status"], Value::Null);
    assert_eq!(
        alpha.post(&bobs.ap_id).await.quote_state,
        Some(QuoteState::Revoked)
    );
    let gone = alpha.get_ap(grant.strip_prefix(&alpha.base).unwrap()).await;
    assert_eq!(gone.status(), 404, "a revoked authorization is not served");
    let (_, listed) = alpha
        .api_get(&alice_token, &format!("/api/v1/statuses/{open_id}/quotes"))
        .await;
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], carols["id"]);

    // The Delete of the authorization reaches beta: the quote is revoked
    // there too.
    alpha.deliver().await;
    let at_beta = beta.post(&bobs.ap_id).await;
    assert_eq!(at_beta.quote_state, Some(QuoteState::Revoked));
    let bob_token = beta.token("bob").await;
    let (_, shown) = beta
        .api_get(&bob_token, &format!("/api/v1/statuses/{}", at_beta.id))
        .await;
    assert_eq!(shown["quote"]["state"], "revoked", "{shown}");
    assert_eq!(shown["quote"]["quoted_status"], Value::Null);

    // Bob edits his post: the Update still names the old authorization,
    // and alpha keeps the quote revoked.
    posts::edit(
        &beta.state,
        &bob,
        &at_beta,
        posts::Draft {
            quote_of: Some(&open_ap_id),
            ..draft("so true, edited", Visibility::Public)
        },
    )
    .await
    .unwrap();
    beta.deliver().await;
    let at_alpha = alpha.post(&bobs.ap_id).await;
    assert!(at_alpha.content.contains("edited"), "{}", at_alpha.content);
    assert_eq!(at_alpha.quote_state, Some(QuoteState::Revoked));

    // Alice closes the post to quotes: stored, shown, and sent as an Update.
    let policy = format!("/api/v1/statuses/{open_id}/interaction_policy");
    let (status, _, changed) = alpha
        .api(
            reqwest::Method::PUT,
            &policy,
            Some(&alice_token),
            Some(json!({"quote_approval_policy": "nobody"})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["quote_approval"]["automatic"], json!([]));
    let stored = alpha.post(&open_ap_id).await;
    assert_eq!(stored.quote_policy, QuotePolicy::Nobody);
    let updates: i64 = sqlx::query_scalar(
        "select count(*) from outbound_activities
         where payload::jsonb ->> 'type' = 'Update'
           and payload::jsonb -> 'object' ->> 'id' = $1",
    )
    .bind(&open_ap_id)
    .fetch_one(&alpha.db)
    .await
    .unwrap();
    assert_eq!(updates, 1);
    let (status, _, refused) = alpha
        .api(
            reqwest::Method::PUT,
            &policy,
            Some(&alice_token),
            Some(json!({"quote_approval_policy": "everyone-ish"})),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let (status, _, _) = alpha
        .api(
            reqwest::Method::PUT,
            &policy,
            Some(&carol_token),
            Some(json!({"quote_approval_policy": "public"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        alpha.post(&open_ap_id).await.quote_policy,
        QuotePolicy::Nobody
    );
    // A new quote is now refused; the approved one stays.
    let (status, _) = alpha
        .api_post(
            &carol_token,
            "/api/v1/statuses",
            json!({"status": "again", "quoted_status_id": open_id}),
        )
        .await;
    assert_eq!(status, 422);
}
