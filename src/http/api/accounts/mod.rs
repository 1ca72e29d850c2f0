//! `/api/v1/accounts/...` (<https://docs.joinmastodon.org/methods/accounts/>), one
//! file per part of the path: `credentials` (verify and update), `registration`,
//! `show` (by id, several, lookup, search), `relationships`, `statuses`, `follow_lists`
//! (followers and following), `relations` (follow, block, mute and their
//! undoing), `featuring` (endorsements, private notes, familiar followers),
//! `leaving` (aliases, moving, deleting). `follow_requests`, `blocks`,
//! `mutes` and `profile` beside this directory answer their own paths.

use axum::response::Response;
use axum::routing::{get, patch, post};
use axum::{Json, Router};

use crate::error::Result;
use crate::http::api::{PageParams, id, paged};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::types::{Actor, Listing};
use crate::service::{accounts, remote_actors};
use crate::state::AppState;

mod credentials;
mod featuring;
mod follow_lists;
mod leaving;
mod registration;
mod relations;
mod relationships;
mod show;
mod statuses;

use credentials::{update_credentials, verify_credentials};
use featuring::{endorse, endorsed_by, familiar_followers, note, unendorse};
use follow_lists::{followers, following};
use leaving::{delete_account, move_account, set_aliases};
use registration::register;
use relations::{block, follow, mute, remove_from_followers, unblock, unfollow, unmute};
use relationships::relationships;
use show::{identity_proofs, lookup, many, search, show};
use statuses::statuses;

pub fn routes(max_image_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/api/v1/accounts", get(many).post(register))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            // An avatar and a header in one form.
            patch(update_credentials).layer(axum::extract::DefaultBodyLimit::max(
                2 * max_image_bytes + crate::http::api::media::FORM_OVERHEAD,
            )),
        )
        .route("/api/v1/accounts/delete", post(delete_account))
        .route("/api/v1/accounts/alias", post(set_aliases))
        .route("/api/v1/accounts/move", post(move_account))
        .route("/api/v1/accounts/relationships", get(relationships))
        .route(
            "/api/v1/accounts/familiar_followers",
            get(familiar_followers),
        )
        .route("/api/v1/accounts/lookup", get(lookup))
        .route("/api/v1/accounts/search", get(search))
        .route("/api/v1/accounts/{id}", get(show))
        .route(
            "/api/v1/accounts/{id}/identity_proofs",
            get(identity_proofs),
        )
        .route("/api/v1/accounts/{id}/statuses", get(statuses))
        .route("/api/v1/accounts/{id}/followers", get(followers))
        .route("/api/v1/accounts/{id}/following", get(following))
        .route("/api/v1/accounts/{id}/follow", post(follow))
        .route("/api/v1/accounts/{id}/unfollow", post(unfollow))
        .route("/api/v1/accounts/{id}/block", post(block))
        .route("/api/v1/accounts/{id}/unblock", post(unblock))
        .route("/api/v1/accounts/{id}/mute", post(mute))
        .route("/api/v1/accounts/{id}/unmute", post(unmute))
        .route("/api/v1/accounts/{id}/pin", post(endorse))
        .route("/api/v1/accounts/{id}/unpin", post(unendorse))
        .route("/api/v1/accounts/{id}/endorse", post(endorse))
        .route("/api/v1/accounts/{id}/unendorse", post(unendorse))
        .route("/api/v1/accounts/{id}/endorsements", get(endorsed_by))
        .route("/api/v1/accounts/{id}/note", post(note))
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(remove_from_followers),
        )
}

/// An account by id: any known account (Mastodon shows blocked and
/// blocking accounts too), but not the instance actor nor a local actor
/// without a user.
pub async fn account(state: &AppState, raw: &str) -> Result<Actor> {
    accounts::shown_by_id(state, id(raw)?).await
}

/// An account by id for reading its profile and posts: a read replica
/// may serve it (`accounts::profile_by_id`). Handlers that change
/// something use [`account`].
pub async fn profile_account(state: &AppState, viewer: Option<&Actor>, raw: &str) -> Result<Actor> {
    accounts::profile_by_id(state, viewer, id(raw)?).await
}

/// The ids that page a list: (first, last).
pub fn bounds<T>(items: &[T], id: impl Fn(&T) -> i64) -> Option<(i64, i64)> {
    Some((id(items.first()?), id(items.last()?)))
}

pub(crate) async fn listing(
    state: &AppState,
    uri: &axum::http::Uri,
    viewer: Option<&Actor>,
    listing: Listing,
    subject: i64,
    page: &PageParams,
) -> Result<Response> {
    let rows = accounts::listing(state, listing, subject, page.page(40, 80)).await?;
    let bounds = bounds(&rows, |r| r.cursor);
    let actors: Vec<Actor> = rows.into_iter().map(|r| r.actor).collect();
    let accounts = Presenter::new(state, viewer).accounts(&actors).await?;
    Ok(paged(state, uri, accounts, bounds))
}

pub(crate) async fn relationship(
    state: &AppState,
    viewer: &Actor,
    target: &Actor,
) -> Result<Json<e::Relationship>> {
    Ok(Json(
        Presenter::new(state, Some(viewer))
            .relationship(target.id)
            .await?,
    ))
}

/// Resolving a remote account for search, mapping fetch failures to "not
/// found" as Mastodon does.
pub async fn resolve_account(state: &AppState, query: &str) -> Option<Actor> {
    remote_actors::resolve(state, query).await.ok()
}
