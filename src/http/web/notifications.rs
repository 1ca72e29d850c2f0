//! Notifications (mentions and replies, likes, reposts, quotes, follows and
//! follow requests) and the follow requests of a locked account, answered
//! with a form each.

use askama::Template;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::cards::{self, AccountView, Cards, PostCard};
use super::{Chrome, SignedIn, WebError, WebResult, render, see_other};
use crate::domain::filters::Context as FilterContext;
use crate::domain::notifications::NotificationKind;
use crate::error::Error;
use crate::mastodon::Presenter;
use crate::service::{follows, markers, notifications, profiles, timelines};
use crate::state::AppState;

/// A notification as listed.
pub struct NotificationView {
    pub id: String,
    pub kind: String,
    /// What happened, after the account's name.
    pub text: &'static str,
    pub account: AccountView,
    pub post: Option<PostCard>,
    pub published_iso: String,
    pub published_ago: String,
}

fn describe(kind: &str, reply: bool) -> &'static str {
    let Some(kind) = NotificationKind::parse(kind) else {
        return "did something";
    };
    match kind {
        NotificationKind::Mention if reply => "replied to you",
        NotificationKind::Mention => "mentioned you",
        NotificationKind::Favourite => "liked your post",
        NotificationKind::Reblog => "reposted your post",
        NotificationKind::Quote => "quoted your post",
        NotificationKind::Follow => "followed you",
        NotificationKind::FollowRequest => "asked to follow you",
        NotificationKind::Status => "posted",
        NotificationKind::Update => "edited a post",
        NotificationKind::Poll => "had a poll end",
        NotificationKind::QuotedUpdate => "edited a post you quoted",
        NotificationKind::AdminReport => "filed a report",
        NotificationKind::AdminSignUp => "signed up",
        NotificationKind::SeveredRelationships | NotificationKind::ModerationWarning => {
            "did something"
        }
    }
}

#[derive(Template)]
#[template(path = "web/notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    notifications: Vec<NotificationView>,
    older: Option<i64>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    max_id: Option<String>,
}

/// `GET /notifications`
pub async fn list(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<PageQuery>,
) -> WebResult {
    let max_id = match q.max_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| Error::BadRequest("max_id must be an integer".into()))?,
        ),
    };
    let viewer = me.actor();
    let page = timelines::page(max_id, None, None, Some(notifications::DEFAULT_LIMIT));
    let rows = notifications::list(
        &state,
        viewer,
        &notifications::filter(&[], &[], None, false),
        page,
    )
    .await?;
    let older = super::older(&rows, page.limit, |n| n.id);
    // The newest page, seen while some were unread: read up to its newest
    // notification (the client API's notifications marker, which apps
    // share), and the header counts none.
    let mut chrome = me.chrome.clone();
    if max_id.is_none()
        && !chrome.unread.is_empty()
        && let Some(newest) = rows.first()
    {
        markers::set(
            &state,
            me.user(),
            &[("notifications".to_string(), newest.id.to_string())],
        )
        .await?;
        chrome.unread.clear();
    }
    let entities = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Notifications)
        .notifications(&rows)
        .await?;
    let cards = Cards::new(&state);
    let now = state.clock.now();
    let viewer_id = viewer.id.to_string();
    let notifications = entities
        .iter()
        .map(|n| {
            let at = DateTime::parse_from_rfc3339(&n.created_at)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now);
            let reply = n
                .status
                .as_ref()
                .is_some_and(|s| s.in_reply_to_account_id.as_deref() == Some(&viewer_id));
            NotificationView {
                id: n.id.clone(),
                kind: n.kind.clone(),
                text: describe(&n.kind, reply),
                account: cards.account(&n.account),
                post: n.status.as_ref().map(|s| cards.post(s)),
                published_iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                published_ago: cards::ago(now, at),
            }
        })
        .collect();
    render(&NotificationsPage {
        chrome,
        notifications,
        older,
    })
}

#[derive(Template)]
#[template(path = "web/follow_requests.html")]
struct FollowRequestsPage {
    chrome: Chrome,
    requests: Vec<AccountView>,
}

/// `GET /follow_requests`
pub async fn follow_requests(State(state): State<AppState>, me: SignedIn) -> WebResult {
    let viewer = me.actor();
    let actors = follows::requests(&state, viewer).await?;
    let requests = cards::accounts(&state, Some(viewer), &actors).await?;
    render(&FollowRequestsPage {
        chrome: me.chrome,
        requests,
    })
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /web/follow_requests/{id}/{authorize|reject}`
pub async fn answer(
    State(state): State<AppState>,
    me: SignedIn,
    Path((raw, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<AnswerForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    let follower = profiles::by_id(&state.db, super::id(&raw)?).await?;
    match action.as_str() {
        "authorize" => follows::approve(&state, me.actor(), &follower).await?,
        "reject" => follows::reject(&state, me.actor(), &follower).await?,
        _ => return Err(WebError(Error::NotFound)),
    }
    Ok(see_other("/follow_requests"))
}
