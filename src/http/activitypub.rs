//! ActivityPub documents of local actors: the actor (content-negotiated with
//! its HTML profile), its followers, following, outbox and featured
//! collections, and the instance actor; the instance's custom emoji.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::federation::{self, collections, note};
use crate::http::negotiate::{Representation, negotiate};
use crate::http::{AppState, vary_accept, web};
use crate::service::types::Side;
use crate::service::{posts, profiles, signed, tags};

/// An ActivityPub JSON response.
pub fn activity_json(value: &impl serde::Serialize) -> Response {
    vary_accept(
        (
            [(header::CONTENT_TYPE, federation::AP_CONTENT_TYPE)],
            Json(value),
        )
            .into_response(),
    )
}

/// `GET /users/{username}`: the Person for ActivityPub clients, the profile
/// page for browsers.
pub async fn person(
    State(state): State<AppState>,
    Path(username): Path<String>,
    page: web::Web,
    Query(query): Query<web::ProfileQuery>,
    headers: HeaderMap,
) -> Result<Response> {
    match negotiate(&headers) {
        Representation::Html => {
            let actor = profiles::local_person(&state.db, &username).await?;
            Ok(web::profile_page(&state, page, &actor, query)
                .await
                .into_response())
        }
        Representation::ActivityJson => {
            let actor = profiles::shared_person(&state.db, &username).await?;
            Ok(activity_json(
                &profiles::actor_document(&state.db, &state, &actor).await?,
            ))
        }
    }
}

/// `GET /actor`: the instance actor; browsers go to the front page.
pub async fn instance_actor(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    match negotiate(&headers) {
        Representation::Html => Ok(vary_accept(Redirect::to("/").into_response())),
        Representation::ActivityJson => {
            let actor = profiles::instance_actor(&state.db).await?;
            Ok(activity_json(&federation::actor::document(&actor)?))
        }
    }
}

/// `GET /emojis/{id}`: one of the instance's custom emoji as an
/// ActivityPub `Emoji` (the id its tags carry), public as Mastodon's.
pub async fn emoji(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let object = crate::service::custom_emoji::object(&state, id).await?;
    let mut response = activity_json(&object);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("public, max-age=180"),
    );
    Ok(response)
}

/// The instance actor publishes nothing: its outbox is always empty.
pub async fn instance_outbox(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let id = state.urls.instance_outbox();
    empty_collection(&id, &query)
}

/// Parameters of a collection request: `?page=true` asks for a page, and
/// `max_id` continues after the given cursor.
struct PageQuery {
    page: bool,
    max_id: Option<i64>,
}

fn page_query(query: &HashMap<String, String>) -> Result<PageQuery> {
    let max_id = match query.get("max_id") {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| Error::BadRequest("max_id must be an integer".into()))?,
        ),
    };
    let page = max_id.is_some() || query.get("page").is_some_and(|p| p != "false");
    Ok(PageQuery { page, max_id })
}

async fn relations(
    state: AppState,
    username: String,
    query: HashMap<String, String>,
    side: Side,
) -> Result<Response> {
    let query = page_query(&query)?;
    let actor = profiles::shared_person(&state.db, &username).await?;
    let id = match side {
        Side::Followers => actor.followers_url.clone(),
        Side::Following => actor.following_url.clone(),
    }
    .ok_or(Error::NotFound)?;
    if !query.page {
        let total = profiles::counts(&state.db, &actor).await?;
        let total = match side {
            Side::Followers => total.followers,
            Side::Following => total.following,
        };
        return Ok(activity_json(&collections::collection(&id, total)));
    }
    let page = profiles::relations(
        &state.db,
        &actor,
        side,
        query.max_id,
        collections::PAGE_SIZE,
    )
    .await?;
    let items = page.items.into_iter().map(Value::String).collect();
    Ok(activity_json(&collections::page(
        &id,
        query.max_id,
        page.total,
        items,
        page.next_cursor,
    )))
}

pub async fn followers(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    relations(state, username, query, Side::Followers).await
}

pub async fn following(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    relations(state, username, query, Side::Following).await
}

/// `GET /users/{username}/outbox`: Create activities of public and unlisted
/// posts.
pub async fn outbox(
    State(state): State<AppState>,
    Path(username): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let query = page_query(&query)?;
    let actor = profiles::shared_person(&state.db, &username).await?;
    let id = actor.outbox_url.clone().ok_or(Error::NotFound)?;
    if !query.page {
        let counts = profiles::counts(&state.db, &actor).await?;
        return Ok(activity_json(&collections::collection(&id, counts.posts)));
    }
    let page = profiles::outbox(&state.db, &actor, query.max_id, collections::PAGE_SIZE).await?;
    let mut items = Vec::with_capacity(page.items.len());
    for post in &page.items {
        items.push(posts::outbox_item(&state, &actor, post).await?);
    }
    Ok(activity_json(&collections::page(
        &id,
        query.max_id,
        page.total,
        items,
        page.next_cursor,
    )))
}

/// `GET /users/{username}/collections/featured`: pinned posts, as an
/// OrderedCollection with the Notes inline (as Mastodon serves it).
pub async fn featured(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<Response> {
    let actor = profiles::shared_person(&state.db, &username).await?;
    let id = actor.featured_url.clone().ok_or(Error::NotFound)?;
    let pinned = posts::pinned(&state, &actor).await?;
    let mut items = Vec::with_capacity(pinned.len());
    for post in &pinned {
        let parts = posts::note_parts(&state, post).await?;
        items.push(note::note(post, &actor, &parts));
    }
    Ok(activity_json(&serde_json::json!({
        "@context": crate::federation::context::post(),
        "id": id,
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    })))
}

/// `GET /users/{username}/collections/tags`: the hashtags featured on the
/// profile, as an unordered Collection of Hashtags (as Mastodon serves it).
pub async fn featured_tags(
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<Response> {
    let actor = profiles::shared_person(&state.db, &username).await?;
    let id = tags::featured_tags_url(&actor).ok_or(Error::NotFound)?;
    let items = tags::featured_hashtags(&state, &actor).await?;
    Ok(activity_json(&serde_json::json!({
        "@context": ["https://www.w3.org/ns/activitystreams", { "Hashtag": "as:Hashtag" }],
        "id": id,
        "type": "Collection",
        "totalItems": items.len(),
        "items": items,
    })))
}

fn empty_collection(id: &str, query: &HashMap<String, String>) -> Result<Response> {
    let query = page_query(query)?;
    if query.page {
        Ok(activity_json(&collections::page(
            id,
            query.max_id,
            0,
            Vec::new(),
            None,
        )))
    } else {
        Ok(activity_json(&collections::collection(id, 0)))
    }
}

/// `GET /users/{username}/statuses/{id}`: the Note for ActivityPub clients
/// (public posts to anyone; others only to signed fetches by accounts allowed
/// to see them), the post page for browsers; 410 once deleted.
pub async fn post(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, i64)>,
    page: web::Web,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response> {
    let (author, post) = posts::local_post(&state, &username, id).await?;
    if negotiate(&headers) == Representation::Html {
        return Ok(web::post_page(&state, page, &author, &post)
            .await
            .into_response());
    }
    profiles::shared_person(&state.db, &author.username).await?;
    if post.deleted_at.is_some() {
        let tombstone = serde_json::json!({
            "@context": crate::federation::context::activity_streams(),
            "id": post.ap_id,
            "type": "Tombstone",
        });
        let mut response = activity_json(&tombstone);
        *response.status_mut() = StatusCode::GONE;
        return Ok(response);
    }
    let header = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signer = if posts::can_see(&state, &post, None).await? {
        None
    } else {
        signed::get_signer(&state, uri.path(), uri.query(), &header).await?
    };
    if !posts::can_see(&state, &post, signer.as_ref()).await? {
        return Err(Error::NotFound);
    }
    let parts = posts::note_parts(&state, &post).await?;
    Ok(activity_json(&note::document(&post, &author, &parts)))
}

/// `GET /users/{username}/statuses/{id}/replies`: the public replies of a
/// public post, as an OrderedCollection of their ids.
pub async fn replies(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, i64)>,
) -> Result<Response> {
    let (_, post) = posts::local_post(&state, &username, id).await?;
    profiles::shared_person(&state.db, &username).await?;
    let items = crate::service::timelines::public_replies(&state, &post).await?;
    Ok(activity_json(&serde_json::json!({
        "@context": crate::federation::context::activity_streams(),
        "id": format!("{}/replies", post.ap_id),
        "type": "OrderedCollection",
        "totalItems": post.replies_count,
        "orderedItems": items,
    })))
}

/// `GET /users/{username}/quote_authorizations/{id}`: a QuoteAuthorization
/// this account gave (FEP-044f), so that other servers can check a quote.
pub async fn quote_authorization(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, i64)>,
) -> Result<Response> {
    profiles::shared_person(&state.db, &username).await?;
    let document = crate::service::quotes::authorization(&state, &username, id).await?;
    Ok(activity_json(&document))
}

/// `GET /users/{username}/reply_authorizations/{id}`: a ReplyAuthorization
/// this account gave (GoToSocial's interaction controls).
pub async fn reply_authorization(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, i64)>,
) -> Result<Response> {
    profiles::shared_person(&state.db, &username).await?;
    let document =
        crate::service::reply_controls::authorization_document(&state, &username, id, false)
            .await?;
    Ok(activity_json(&document))
}

/// `GET /users/{username}/reply_approvals/{id}`: the Accept that carried a
/// reply approval (what `approvedBy` names).
pub async fn reply_approval(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, i64)>,
) -> Result<Response> {
    profiles::shared_person(&state.db, &username).await?;
    let document =
        crate::service::reply_controls::authorization_document(&state, &username, id, true).await?;
    Ok(activity_json(&document))
}

/// `GET /users/{username}/followers_synchronization`: the partial followers
/// collection of FEP-8fcf, the account's followers on the signer's server.
/// Only a signed request from a server the domain policy allows gets it.
pub async fn followers_synchronization(
    State(state): State<AppState>,
    Path(username): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response> {
    let header = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signer = signed::get_signer(&state, uri.path(), uri.query(), &header)
        .await?
        .ok_or_else(|| Error::Unauthorized("Request not signed".into()))?;
    let host = signer.domain.clone().unwrap_or_default();
    if crate::service::domain_policy::refuses(&state, &host).await? {
        return Err(Error::Forbidden(format!(
            "this server does not federate with {host}"
        )));
    }
    let actor = profiles::shared_person(&state.db, &username).await?;
    let ids = crate::service::follower_sync::partial_followers(&state, &actor, &signer).await?;
    let id = state.urls.followers_synchronization(&actor.username);
    Ok(activity_json(&serde_json::json!({
        "@context": federation::context::activity_streams(),
        "id": id,
        "type": "OrderedCollection",
        "totalItems": ids.len(),
        "orderedItems": ids,
    })))
}
