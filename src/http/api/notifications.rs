//! `/api/v1/notifications` (<https://docs.joinmastodon.org/methods/notifications/>).

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::filters::Context as FilterContext;
use crate::error::Result;
use crate::http::api::accounts::bounds;
use crate::http::api::{PageParams, Params, Token, id, paged, params::lenient};
use crate::mastodon::{Presenter, entities as e};
use crate::service::notifications::{self, DEFAULT_LIMIT, MAX_LIMIT};
use crate::service::types::NotificationFilter as Filter;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications", get(index))
        .route("/api/v1/notifications/clear", post(clear))
        .route("/api/v1/notifications/unread_count", get(unread_count))
        .route("/api/v1/notifications/{id}", get(show))
        .route("/api/v1/notifications/{id}/dismiss", post(dismiss))
}

/// `types[]`, `exclude_types[]` and `account_id`.
#[derive(Deserialize)]
struct FilterParams {
    #[serde(default, deserialize_with = "lenient::list")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::list")]
    exclude_types: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    account_id: Option<String>,
}

impl FilterParams {
    fn filter(&self) -> Filter {
        // An id that is not a number names nobody: no account has id 0.
        let from = self
            .account_id
            .as_deref()
            .map(|raw| raw.parse().unwrap_or(0));
        notifications::filter(&self.types, &self.exclude_types, from)
    }
}

#[derive(Deserialize)]
struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(flatten)]
    filter: FilterParams,
}

async fn index(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<ListParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:notifications")?;
    let rows = notifications::list(
        &state,
        viewer,
        &p.filter.filter(),
        p.page.page(DEFAULT_LIMIT, MAX_LIMIT),
    )
    .await?;
    let bounds = bounds(&rows, |n| n.id);
    // Filters with the notifications context mark (or, with `hide`, drop)
    // the statuses notifications carry.
    let items = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Notifications)
        .notifications(&rows)
        .await?;
    Ok(paged(&state, &uri, items, bounds))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Notification>> {
    let (_, viewer) = token.user("read:notifications")?;
    let row = notifications::get(&state, viewer, id(&raw)?).await?;
    let mut items = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Notifications)
        .notifications(std::slice::from_ref(&row))
        .await?;
    items.pop().map(Json).ok_or(crate::error::Error::NotFound)
}

async fn dismiss(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:notifications")?;
    notifications::dismiss(&state, viewer, id(&raw)?).await?;
    Ok(Json(json!({})))
}

async fn clear(State(state): State<AppState>, token: Token) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:notifications")?;
    notifications::clear(&state, viewer).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize)]
struct CountParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(flatten)]
    filter: FilterParams,
}

async fn unread_count(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<CountParams>,
) -> Result<Json<Value>> {
    let (user, viewer) = token.user("read:notifications")?;
    let limit = p
        .limit
        .unwrap_or(notifications::DEFAULT_COUNT_LIMIT)
        .clamp(1, notifications::MAX_COUNT_LIMIT);
    let count =
        notifications::unread_count(&state, user, viewer, &p.filter.filter(), limit).await?;
    Ok(Json(json!({ "count": count })))
}
