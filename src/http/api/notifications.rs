//! `/api/v1/notifications` (<https://docs.joinmastodon.org/methods/notifications/>),
//! the grouped `/api/v2/notifications`
//! (<https://docs.joinmastodon.org/methods/grouped_notifications/>), the
//! notification policy (v1 and v2) and notification requests.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::filters::Context as FilterContext;
use crate::domain::notifications::{NotificationPolicy, PolicyAction};
use crate::error::{Error, Result};
use crate::http::api::accounts::bounds;
use crate::http::api::pagination::linked;
use crate::http::api::{PageParams, Params, Token, id, paged, params::lenient};
use crate::mastodon::{Presenter, entities as e, present};
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
        .route(
            "/api/v1/notifications/policy",
            get(show_policy_v1).put(update_policy_v1),
        )
        .route("/api/v1/notifications/requests", get(requests))
        .route("/api/v1/notifications/requests/merged", get(merged))
        .route("/api/v1/notifications/requests/accept", post(accept_bulk))
        .route("/api/v1/notifications/requests/dismiss", post(dismiss_bulk))
        .route("/api/v1/notifications/requests/{id}", get(request))
        .route("/api/v1/notifications/requests/{id}/accept", post(accept))
        .route(
            "/api/v1/notifications/requests/{id}/dismiss",
            post(dismiss_request),
        )
        .route("/api/v2/notifications", get(grouped))
        .route(
            "/api/v2/notifications/unread_count",
            get(unread_group_count),
        )
        .route(
            "/api/v2/notifications/policy",
            get(show_policy).patch(update_policy),
        )
        .route("/api/v2/notifications/{group_key}", get(show_group))
        .route(
            "/api/v2/notifications/{group_key}/dismiss",
            post(dismiss_group),
        )
        .route(
            "/api/v2/notifications/{group_key}/accounts",
            get(group_accounts),
        )
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
    #[serde(default, deserialize_with = "lenient::bool")]
    include_filtered: bool,
}

impl FilterParams {
    fn filter(&self) -> Filter {
        // An id that is not a number names nobody: no account has id 0.
        let from = self
            .account_id
            .as_deref()
            .map(|raw| raw.parse().unwrap_or(0));
        notifications::filter(
            &self.types,
            &self.exclude_types,
            from,
            self.include_filtered,
        )
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

/// `grouped_types[]` and `expand_accounts`.
#[derive(Deserialize)]
struct GroupParams {
    #[serde(default, deserialize_with = "lenient::opt_list")]
    grouped_types: Option<Vec<String>>,
    #[serde(default)]
    expand_accounts: Option<String>,
}

impl GroupParams {
    fn grouped(&self) -> Vec<crate::domain::notifications::NotificationKind> {
        match &self.grouped_types {
            // Asked for, but none Mastodon groups: nothing is grouped.
            Some(names) if !names.is_empty() => notifications::grouped_kinds(names),
            _ => notifications::grouped_kinds(&[]),
        }
    }

    /// Whether only each group's newest account is shown in full.
    fn partial(&self) -> Result<bool> {
        match self.expand_accounts.as_deref() {
            None | Some("full") => Ok(false),
            Some("partial_avatars") => Ok(true),
            Some(other) => Err(Error::BadRequest(format!(
                "Invalid value for 'expand_accounts': '{other}', allowed values are 'full' and 'partial_avatars'"
            ))),
        }
    }
}

#[derive(Deserialize)]
struct GroupedParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(flatten)]
    filter: FilterParams,
    #[serde(flatten)]
    groups: GroupParams,
}

/// `GET /api/v2/notifications`: a page of groups, paged by notification
/// ids (the oldest and newest notification standing for a group on it).
async fn grouped(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<GroupedParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:notifications")?;
    let partial = p.groups.partial()?;
    let groups = notifications::grouped(
        &state,
        viewer,
        &p.filter.filter(),
        p.page.page(DEFAULT_LIMIT, MAX_LIMIT),
        &p.groups.grouped(),
    )
    .await?;
    let bounds = bounds(&groups, |g| g.notification.id);
    let results = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Notifications)
        .notification_groups(&groups, partial)
        .await?;
    Ok(linked(&state, &uri, results, bounds))
}

/// `GET /api/v2/notifications/:group_key`: one group, whole.
async fn show_group(
    State(state): State<AppState>,
    token: Token,
    Path(key): Path<String>,
) -> Result<Json<e::GroupedNotificationsResults>> {
    let (_, viewer) = token.user("read:notifications")?;
    let group = notifications::group(&state, viewer, &key).await?;
    let results = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Notifications)
        .notification_groups(std::slice::from_ref(&group), false)
        .await?;
    if results.notification_groups.is_empty() {
        return Err(Error::NotFound);
    }
    Ok(Json(results))
}

async fn dismiss_group(
    State(state): State<AppState>,
    token: Token,
    Path(key): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:notifications")?;
    notifications::dismiss_group(&state, viewer, &key).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v2/notifications/:group_key/accounts`: who is in the group,
/// newest first, paged by notification ids.
async fn group_accounts(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Path(key): Path<String>,
    Params(p): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:notifications")?;
    let rows = notifications::group_accounts(&state, viewer, &key, p.page(40, 80)).await?;
    let bounds = bounds(&rows, |(id, _)| *id);
    let actors: Vec<_> = rows.into_iter().map(|(_, a)| a).collect();
    let accounts = Presenter::new(&state, Some(viewer))
        .accounts(&actors)
        .await?;
    Ok(paged(&state, &uri, accounts, bounds))
}

#[derive(Deserialize)]
struct GroupCountParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(flatten)]
    filter: FilterParams,
    #[serde(flatten)]
    groups: GroupParams,
}

/// `GET /api/v2/notifications/unread_count`: unread groups.
async fn unread_group_count(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<GroupCountParams>,
) -> Result<Json<Value>> {
    let (user, viewer) = token.user("read:notifications")?;
    let limit = p
        .limit
        .unwrap_or(notifications::DEFAULT_COUNT_LIMIT)
        .clamp(1, notifications::MAX_COUNT_LIMIT);
    let count = notifications::unread_group_count(
        &state,
        user,
        viewer,
        &p.filter.filter(),
        &p.groups.grouped(),
        limit,
    )
    .await?;
    Ok(Json(json!({ "count": count })))
}

async fn show_policy(
    State(state): State<AppState>,
    token: Token,
) -> Result<Json<e::NotificationPolicy>> {
    let (_, viewer) = token.user("read:notifications")?;
    let (policy, summary) = notifications::policy(&state, viewer).await?;
    Ok(Json(present::notification_policy(&policy, summary)))
}

/// `PATCH /api/v2/notifications/policy`: each case given is `accept`,
/// `filter` or `drop`.
#[derive(Deserialize)]
struct PolicyParams {
    for_not_following: Option<String>,
    for_not_followers: Option<String>,
    for_new_accounts: Option<String>,
    for_private_mentions: Option<String>,
    for_limited_accounts: Option<String>,
}

async fn update_policy(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<PolicyParams>,
) -> Result<Json<e::NotificationPolicy>> {
    let (_, viewer) = token.user("write:notifications")?;
    let action = |name: &str, raw: &Option<String>| -> Result<Option<PolicyAction>> {
        match raw.as_deref() {
            None => Ok(None),
            Some(value) => PolicyAction::parse(value)
                .map(Some)
                .ok_or_else(|| Error::Validation(format!("'{value}' is not a valid {name}"))),
        }
    };
    let changes = [
        action("for_not_following", &p.for_not_following)?,
        action("for_not_followers", &p.for_not_followers)?,
        action("for_new_accounts", &p.for_new_accounts)?,
        action("for_private_mentions", &p.for_private_mentions)?,
        action("for_limited_accounts", &p.for_limited_accounts)?,
    ];
    let (policy, summary) = notifications::update_policy(&state, viewer, |policy| {
        let fields: [&mut PolicyAction; 5] = [
            &mut policy.for_not_following,
            &mut policy.for_not_followers,
            &mut policy.for_new_accounts,
            &mut policy.for_private_mentions,
            &mut policy.for_limited_accounts,
        ];
        for (field, change) in fields.into_iter().zip(changes) {
            if let Some(action) = change {
                *field = action;
            }
        }
    })
    .await?;
    Ok(Json(present::notification_policy(&policy, summary)))
}

async fn show_policy_v1(
    State(state): State<AppState>,
    token: Token,
) -> Result<Json<e::NotificationPolicyV1>> {
    let (_, viewer) = token.user("read:notifications")?;
    let (policy, summary) = notifications::policy(&state, viewer).await?;
    Ok(Json(present::notification_policy_v1(&policy, summary)))
}

/// `PUT /api/v1/notifications/policy`: each case given is filtered (true)
/// or accepted (false).
#[derive(Deserialize)]
struct PolicyV1Params {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    filter_not_following: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    filter_not_followers: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    filter_new_accounts: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    filter_private_mentions: Option<bool>,
}

async fn update_policy_v1(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<PolicyV1Params>,
) -> Result<Json<e::NotificationPolicyV1>> {
    let (_, viewer) = token.user("write:notifications")?;
    let (policy, summary) =
        notifications::update_policy(&state, viewer, |policy: &mut NotificationPolicy| {
            let set = |field: &mut PolicyAction, filter: Option<bool>| {
                if let Some(filter) = filter {
                    *field = if filter {
                        PolicyAction::Filter
                    } else {
                        PolicyAction::Accept
                    };
                }
            };
            set(&mut policy.for_not_following, p.filter_not_following);
            set(&mut policy.for_not_followers, p.filter_not_followers);
            set(&mut policy.for_new_accounts, p.filter_new_accounts);
            set(&mut policy.for_private_mentions, p.filter_private_mentions);
        })
        .await?;
    Ok(Json(present::notification_policy_v1(&policy, summary)))
}

async fn requests(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:notifications")?;
    let rows = notifications::requests(
        &state,
        viewer,
        p.page(
            notifications::DEFAULT_REQUESTS_LIMIT,
            notifications::MAX_REQUESTS_LIMIT,
        ),
    )
    .await?;
    let bounds = bounds(&rows, |r| r.id);
    let items = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Notifications)
        .notification_requests(&rows)
        .await?;
    Ok(paged(&state, &uri, items, bounds))
}

async fn request(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::NotificationRequest>> {
    let (_, viewer) = token.user("read:notifications")?;
    let row = notifications::request(&state, viewer, id(&raw)?).await?;
    let mut items = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Notifications)
        .notification_requests(std::slice::from_ref(&row))
        .await?;
    items.pop().map(Json).ok_or(Error::NotFound)
}

async fn accept(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:notifications")?;
    notifications::accept_requests(&state, viewer, &[id(&raw)?], true).await?;
    Ok(Json(json!({})))
}

async fn dismiss_request(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:notifications")?;
    notifications::dismiss_requests(&state, viewer, &[id(&raw)?], true).await?;
    Ok(Json(json!({})))
}

/// `id[]`: the requests to accept or dismiss.
#[derive(Deserialize)]
struct BulkParams {
    #[serde(default, deserialize_with = "lenient::list")]
    id: Vec<String>,
}

impl BulkParams {
    fn ids(&self) -> Vec<i64> {
        self.id.iter().filter_map(|raw| raw.parse().ok()).collect()
    }
}

async fn accept_bulk(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<BulkParams>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:notifications")?;
    notifications::accept_requests(&state, viewer, &p.ids(), false).await?;
    Ok(Json(json!({})))
}

async fn dismiss_bulk(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<BulkParams>,
) -> Result<Json<Value>> {
    let (_, viewer) = token.user("write:notifications")?;
    notifications::dismiss_requests(&state, viewer, &p.ids(), false).await?;
    Ok(Json(json!({})))
}

/// Whether accepted requests' notifications are in the list: accepting
/// merges them in its own transaction, so always.
async fn merged(token: Token) -> Result<Json<Value>> {
    token.user("read:notifications")?;
    Ok(Json(json!({ "merged": true })))
}
