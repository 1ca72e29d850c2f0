//! Moderators' side of trends
//! (<https://docs.joinmastodon.org/methods/admin/trends/>,
//! <https://docs.joinmastodon.org/methods/admin/tags/>): every trending
//! hashtag and post, reviewed or not, with `requires_review`; approving
//! and rejecting them; the hashtags' settings. Moderators and admins
//! (Mastodon's `manage_taxonomies`), `admin:read` / `admin:write`; a token
//! of someone else gets the public trends, as Mastodon answers. Links
//! (by their card's id) and their publishers are reviewed the same way.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::http::api::params::lenient;
use crate::http::api::trends::{history, trend_link, trend_tag};
use crate::http::api::{OffsetParams, PageParams, Params, Token, offset_paged, paged};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::audit::{Role, Staff};
use crate::service::link_trends::{self, LinkView};
use crate::service::trends::{self, TagView};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/trends/tags", get(tags))
        .route("/api/v1/admin/trends/tags/{id}/approve", post(approve_tag))
        .route("/api/v1/admin/trends/tags/{id}/reject", post(reject_tag))
        .route("/api/v1/admin/trends/statuses", get(statuses))
        .route(
            "/api/v1/admin/trends/statuses/{id}/approve",
            post(approve_status),
        )
        .route(
            "/api/v1/admin/trends/statuses/{id}/reject",
            post(reject_status),
        )
        .route("/api/v1/admin/trends/links", get(links))
        .route(
            "/api/v1/admin/trends/links/{id}/approve",
            post(approve_link),
        )
        .route("/api/v1/admin/trends/links/{id}/reject", post(reject_link))
        .route("/api/v1/admin/trends/links/publishers", get(publishers))
        .route(
            "/api/v1/admin/trends/links/publishers/{id}/approve",
            post(approve_publisher),
        )
        .route(
            "/api/v1/admin/trends/links/publishers/{id}/reject",
            post(reject_publisher),
        )
        .route("/api/v1/admin/tags", get(list_tags))
        .route("/api/v1/admin/tags/{id}", get(show_tag).put(update_tag))
}

fn id(raw: &str) -> Result<i64> {
    raw.parse().map_err(|_| Error::NotFound)
}

/// The staff member behind a token with `scope` (403 without the scope);
/// None for someone else, who gets the public answer, as Mastodon's
/// `authorize_if_got_token!` and `can?(:manage_taxonomies)` answer.
fn staff(token: &Token, scope: &str) -> Result<Option<Staff>> {
    token.require(scope)?;
    match token.staff(scope, Role::Moderator) {
        Ok(staff) => Ok(Some(staff)),
        Err(Error::Forbidden(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A staff member, or 403.
fn required(token: &Token, scope: &str) -> Result<Staff> {
    token.staff(scope, Role::Moderator)
}

fn admin_tag(state: &AppState, view: &TagView) -> e::AdminTag {
    e::AdminTag {
        id: view.tag.id.to_string(),
        name: view.tag.tag.clone(),
        url: state.urls.tag(&view.tag.tag),
        history: history(view),
        // Mastodon's defaults for a hashtag not reviewed: trendable only
        // when no review is required, listable.
        trendable: view
            .tag
            .trendable
            .unwrap_or(!state.config.trends.require_review),
        usable: view.tag.usable,
        requires_review: view.requires_review(),
        listable: view.tag.listable != Some(false),
    }
}

async fn tags(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<OffsetParams>,
) -> Result<Response> {
    let (limit, offset) = p.get(trends::TAGS_LIMITS.0, trends::TAGS_LIMITS.1);
    match staff(&token, "admin:read")? {
        Some(staff) => {
            let found = trends::candidate_tags(&state, &staff, limit, offset).await?;
            let shown: Vec<e::AdminTag> = found.iter().map(|v| admin_tag(&state, v)).collect();
            Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
        }
        None => {
            let found = trends::tags(&state, limit, offset).await?;
            let shown: Vec<e::TrendTag> = found.iter().map(|v| trend_tag(&state, v)).collect();
            Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
        }
    }
}

async fn review_tag(
    state: &AppState,
    token: &Token,
    raw: &str,
    trendable: bool,
) -> Result<Json<e::AdminTag>> {
    let staff = required(token, "admin:write")?;
    let view = trends::review_tag(state, &staff, id(raw)?, trendable).await?;
    Ok(Json(admin_tag(state, &view)))
}

async fn approve_tag(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminTag>> {
    review_tag(&state, &token, &raw, true).await
}

async fn reject_tag(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminTag>> {
    review_tag(&state, &token, &raw, false).await
}

async fn statuses(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<OffsetParams>,
) -> Result<Response> {
    let (limit, offset) = p.get(trends::STATUSES_LIMITS.0, trends::STATUSES_LIMITS.1);
    let viewer = token.account.as_ref().map(|(_, actor)| actor);
    match staff(&token, "admin:read")? {
        Some(staff) => {
            let found = trends::candidate_posts(&state, &staff, limit, offset).await?;
            let posts: Vec<_> = found.iter().map(|t| t.post.clone()).collect();
            let statuses = Presenter::new(&state, viewer).statuses(&posts).await?;
            let shown: Vec<e::AdminTrendStatus> = statuses
                .into_iter()
                .zip(found.iter())
                .map(|(status, trend)| e::AdminTrendStatus {
                    status,
                    requires_review: trend.trendable.is_none(),
                })
                .collect();
            Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
        }
        None => {
            let posts = trends::statuses(&state, viewer, limit, offset).await?;
            let shown = Presenter::new(&state, viewer).statuses(&posts).await?;
            Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
        }
    }
}

async fn review_status(
    state: &AppState,
    token: &Token,
    raw: &str,
    trendable: bool,
) -> Result<Json<e::AdminTrendStatus>> {
    let staff = required(token, "admin:write")?;
    let post = trends::review_post(state, &staff, id(raw)?, trendable).await?;
    let viewer = token.account.as_ref().map(|(_, actor)| actor);
    let status = Presenter::new(state, viewer).status(&post).await?;
    Ok(Json(e::AdminTrendStatus {
        status,
        requires_review: false,
    }))
}

async fn approve_status(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminTrendStatus>> {
    review_status(&state, &token, &raw, true).await
}

async fn reject_status(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminTrendStatus>> {
    review_status(&state, &token, &raw, false).await
}

fn admin_link(state: &AppState, view: &LinkView) -> e::AdminTrendLink {
    e::AdminTrendLink {
        id: view.trend.card.id.to_string(),
        link: trend_link(state, view),
        requires_review: view.requires_review(),
    }
}

async fn links(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<OffsetParams>,
) -> Result<Response> {
    let (limit, offset) = p.get(trends::LINKS_LIMITS.0, trends::LINKS_LIMITS.1);
    match staff(&token, "admin:read")? {
        Some(staff) => {
            let found = link_trends::candidate_links(&state, &staff, limit, offset).await?;
            let shown: Vec<e::AdminTrendLink> =
                found.iter().map(|v| admin_link(&state, v)).collect();
            Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
        }
        None => {
            let found = link_trends::links(&state, limit, offset).await?;
            let shown: Vec<e::TrendLink> = found.iter().map(|v| trend_link(&state, v)).collect();
            Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
        }
    }
}

async fn review_link(
    state: &AppState,
    token: &Token,
    raw: &str,
    trendable: bool,
) -> Result<Json<e::AdminTrendLink>> {
    let staff = required(token, "admin:write")?;
    let view = link_trends::review_link(state, &staff, id(raw)?, trendable).await?;
    Ok(Json(admin_link(state, &view)))
}

async fn approve_link(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminTrendLink>> {
    review_link(&state, &token, &raw, true).await
}

async fn reject_link(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminTrendLink>> {
    review_link(&state, &token, &raw, false).await
}

fn admin_publisher(p: &link_trends::Publisher) -> e::AdminPublisher {
    e::AdminPublisher {
        id: p.id.to_string(),
        domain: p.domain.clone(),
        trendable: p.trendable == Some(true),
        reviewed_at: p.reviewed_at.map(e::time),
        requested_review_at: p.requested_review_at.map(e::time),
        requires_review: p.trendable.is_none(),
    }
}

async fn publishers(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<OffsetParams>,
) -> Result<Response> {
    let staff = required(&token, "admin:read")?;
    let (limit, offset) = p.get(100, 100);
    let found = link_trends::publishers(&state, &staff, limit, offset).await?;
    let shown: Vec<e::AdminPublisher> = found.iter().map(admin_publisher).collect();
    Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
}

async fn review_publisher(
    state: &AppState,
    token: &Token,
    raw: &str,
    trendable: bool,
) -> Result<Json<e::AdminPublisher>> {
    let staff = required(token, "admin:write")?;
    let found = link_trends::review_publisher(state, &staff, id(raw)?, trendable).await?;
    Ok(Json(admin_publisher(&found)))
}

async fn approve_publisher(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminPublisher>> {
    review_publisher(&state, &token, &raw, true).await
}

async fn reject_publisher(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminPublisher>> {
    review_publisher(&state, &token, &raw, false).await
}

async fn list_tags(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(p): Params<PageParams>,
) -> Result<Response> {
    let staff = required(&token, "admin:read")?;
    let page = p.page(100, 100);
    let found = trends::all_tags(&state, &staff, page.max_id, page.since_id, page.limit).await?;
    let bounds = match (found.first(), found.last()) {
        (Some(first), Some(last)) => Some((first.tag.id, last.tag.id)),
        _ => None,
    };
    let shown: Vec<e::AdminTag> = found.iter().map(|v| admin_tag(&state, v)).collect();
    Ok(paged(&state, &uri, shown, bounds))
}

async fn show_tag(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::AdminTag>> {
    let staff = required(&token, "admin:read")?;
    let view = trends::tag(&state, &staff, id(&raw)?).await?;
    Ok(Json(admin_tag(&state, &view)))
}

/// What `PUT /api/v1/admin/tags/:id` changes.
#[derive(Deserialize, Default)]
struct TagParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    trendable: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    usable: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    listable: Option<bool>,
}

async fn update_tag(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<TagParams>,
) -> Result<Json<e::AdminTag>> {
    let staff = required(&token, "admin:write")?;
    let view =
        trends::update_tag(&state, &staff, id(&raw)?, p.trendable, p.usable, p.listable).await?;
    Ok(Json(admin_tag(&state, &view)))
}
