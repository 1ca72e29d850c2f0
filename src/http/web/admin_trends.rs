//! The admin area's trends page (`/admin/trends`): the hashtags, posts and
//! links trending now (links with their publisher), reviewed or not, highest score first, each with its
//! review state and buttons to approve or reject it for the public trends.
//! Moderators and admins; every review is audit-logged by
//! `service::trends`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

use super::cards::{excerpt, text_of};
use super::{Chrome, StaffSession, WebResult, id, render_with, see_other};
use crate::error::Error;
use crate::mastodon::Presenter;
use crate::service::{link_trends, trends};
use crate::state::AppState;

/// How many candidates of each kind the page lists.
const SHOWN: i64 = 40;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/trends", axum::routing::get(page))
        .route("/admin/trends/{kind}/{id}/{action}", post(review))
}

/// A hashtag as the page shows it.
pub struct TagRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub accounts_today: i64,
    pub uses_today: i64,
    pub state: &'static str,
}

/// A post as the page shows it.
pub struct PostRow {
    pub id: String,
    pub author: String,
    pub text: String,
    pub url: String,
    pub interactions: i64,
    pub state: &'static str,
}

/// A link as the page shows it.
pub struct LinkRow {
    pub id: i64,
    pub title: String,
    pub url: String,
    pub publisher: String,
    pub publisher_id: Option<i64>,
    pub accounts_today: i64,
    pub uses_today: i64,
    pub state: &'static str,
}

fn link_state(own: Option<bool>, publisher: Option<bool>) -> &'static str {
    match (own, publisher) {
        (Some(own), _) => state_of(Some(own)),
        (None, Some(true)) => "Publisher approved",
        (None, Some(false)) => "Publisher rejected",
        (None, None) => "Pending review",
    }
}

fn state_of(trendable: Option<bool>) -> &'static str {
    match trendable {
        None => "Pending review",
        Some(true) => "Approved",
        Some(false) => "Rejected",
    }
}

#[derive(Template)]
#[template(path = "web/admin/trends.html")]
struct TrendsPage {
    chrome: Chrome,
    section: &'static str,
    require_review: bool,
    tags: Vec<TagRow>,
    posts: Vec<PostRow>,
    links: Vec<LinkRow>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

/// `GET /admin/trends`
async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<Notice>,
) -> WebResult {
    let tags = trends::candidate_tags(&state, &staff.staff, SHOWN, 0).await?;
    let tags = tags
        .into_iter()
        .map(|v| TagRow {
            id: v.tag.id,
            url: state.urls.tag(&v.tag.tag),
            accounts_today: v.history.first().map_or(0, |d| d.accounts),
            uses_today: v.history.first().map_or(0, |d| d.uses),
            state: state_of(v.tag.trendable),
            name: v.tag.tag,
        })
        .collect();
    let found = trends::candidate_posts(&state, &staff.staff, SHOWN, 0).await?;
    let posts_only: Vec<_> = found.iter().map(|t| t.post.clone()).collect();
    let statuses = Presenter::new(&state, Some(staff.me.actor()))
        .statuses(&posts_only)
        .await?;
    let posts = statuses
        .into_iter()
        .zip(found.iter())
        .map(|(status, trend)| PostRow {
            id: status.id.clone(),
            author: format!("@{}", status.account.acct),
            text: excerpt(&text_of(&status.content)),
            url: status.url.clone().unwrap_or_else(|| status.uri.clone()),
            interactions: i64::from(trend.post.likes_count) + i64::from(trend.post.reposts_count),
            state: state_of(trend.trendable),
        })
        .collect();
    let links = link_trends::candidate_links(&state, &staff.staff, SHOWN, 0)
        .await?
        .into_iter()
        .map(|v| LinkRow {
            id: v.trend.card.id,
            title: if v.trend.card.title.is_empty() {
                v.trend.card.url.clone()
            } else {
                v.trend.card.title.clone()
            },
            publisher: link_trends::publisher_of(&v.trend.card.url).unwrap_or_default(),
            publisher_id: v.trend.publisher_id,
            accounts_today: v.history.first().map_or(0, |d| d.accounts),
            uses_today: v.history.first().map_or(0, |d| d.uses),
            state: link_state(v.trend.trendable, v.trend.publisher_trendable),
            url: v.trend.card.url,
        })
        .collect();
    render_with(
        StatusCode::OK,
        &TrendsPage {
            chrome: staff.me.chrome,
            section: "trends",
            require_review: state.config.trends.require_review,
            tags,
            posts,
            links,
            notice: q.notice.filter(|n| !n.is_empty()),
        },
    )
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/trends/{tags|statuses|links|publishers}/{id}/{approve|reject}`
async fn review(
    State(state): State<AppState>,
    staff: StaffSession,
    Path((kind, raw, action)): Path<(String, String, String)>,
    axum::Form(form): axum::Form<ReviewForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let trendable = match action.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(Error::NotFound.into()),
    };
    let target = id(&raw)?;
    let notice = match kind.as_str() {
        "tags" => {
            let view = trends::review_tag(&state, &staff.staff, target, trendable).await?;
            format!(
                "#{} was {}.",
                view.tag.tag,
                if trendable { "approved" } else { "rejected" }
            )
        }
        "statuses" => {
            trends::review_post(&state, &staff.staff, target, trendable).await?;
            format!(
                "The post was {}.",
                if trendable { "approved" } else { "rejected" }
            )
        }
        "links" => {
            let view = link_trends::review_link(&state, &staff.staff, target, trendable).await?;
            format!(
                "The link {} was {}.",
                view.trend.card.url,
                if trendable { "approved" } else { "rejected" }
            )
        }
        "publishers" => {
            let publisher =
                link_trends::review_publisher(&state, &staff.staff, target, trendable).await?;
            format!(
                "The publisher {} was {}.",
                publisher.domain,
                if trendable { "approved" } else { "rejected" }
            )
        }
        _ => return Err(Error::NotFound.into()),
    };
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Ok(see_other(&format!("/admin/trends?notice={encoded}")))
}
