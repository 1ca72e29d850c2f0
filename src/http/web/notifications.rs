//! The Activity page (notifications grouped as Mastodon 4.3 groups them:
//! mentions and replies, likes, reposts, quotes, follows and follow
//! requests, with filter tabs) and the follow requests of a locked account,
//! answered with a form each.

use std::collections::HashMap;

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
    /// The filter tab shown.
    tab: &'static str,
    tabs: &'static [(&'static str, &'static str)],
    groups: Vec<GroupView>,
    older: Option<i64>,
}

/// A group of notifications as the Activity page shows it: "alice and 3
/// others liked your post".
pub struct GroupView {
    pub key: String,
    pub kind: String,
    /// What happened, after the names.
    pub text: &'static str,
    /// The newest senders (at most three avatars are shown).
    pub accounts: Vec<AccountView>,
    /// How many more did the same.
    pub others: i64,
    pub post: Option<PostCard>,
    pub published_iso: String,
    pub published_ago: String,
}

/// The Activity page's filter tabs: (value, label).
pub const TABS: [(&str, &str); 7] = [
    ("all", "All"),
    ("follows", "Follows"),
    ("replies", "Replies"),
    ("mentions", "Mentions"),
    ("quotes", "Quotes"),
    ("reposts", "Reposts"),
    ("verified", "Verified"),
];

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    max_id: Option<String>,
    #[serde(default)]
    filter: String,
}

/// `GET /notifications`: the Activity page, notifications grouped as
/// Mastodon 4.3 groups them (likes, reposts and follows of the same post
/// or account together; `service::notifications::grouped`, the grouped
/// notifications of `/api/v2/notifications`), with filter tabs. "Replies"
/// are mentions in replies to the viewer, "Mentions" the others; "Verified"
/// shows, ungrouped, the notifications from accounts with a verified
/// profile link (rel=me).
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
    let tab = TABS
        .iter()
        .map(|(t, _)| *t)
        .find(|t| *t == q.filter)
        .unwrap_or("all");
    let types: Vec<String> = match tab {
        "follows" => vec!["follow".into(), "follow_request".into()],
        "replies" | "mentions" => vec!["mention".into()],
        "quotes" => vec!["quote".into()],
        "reposts" => vec!["reblog".into()],
        _ => Vec::new(),
    };
    let grouped = if tab == "verified" {
        Vec::new()
    } else {
        NotificationKind::GROUPABLE.to_vec()
    };
    // Every tab is narrowed in the query, before the page's limit, so that
    // its pages come full.
    let mut filter = notifications::filter(&types, &[], None, false);
    filter.replies = match tab {
        "replies" => Some(true),
        "mentions" => Some(false),
        _ => None,
    };
    filter.verified_senders = tab == "verified";
    let viewer = me.actor();
    let page = timelines::page(max_id, None, None, Some(notifications::DEFAULT_LIMIT));
    let groups = notifications::grouped(&state, viewer, &filter, page, &grouped).await?;
    let older = super::older(&groups, page.limit, |g| g.notification.id);
    // The newest page of all, seen while some were unread: read up to its
    // newest notification (the client API's notifications marker, which
    // apps share), and the header counts none.
    let mut chrome = me.chrome.clone();
    if max_id.is_none()
        && tab == "all"
        && !chrome.unread.is_empty()
        && let Some(newest) = groups.iter().map(|g| g.most_recent_id).max()
    {
        markers::set(
            &state,
            me.user(),
            &[("notifications".to_string(), newest.to_string())],
        )
        .await?;
        chrome.unread.clear();
    }
    let results = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Notifications)
        .notification_groups(&groups, false)
        .await?;
    let cards = Cards::new(&state);
    let now = state.clock.now();
    let viewer_id = viewer.id.to_string();
    let accounts: HashMap<&str, &crate::mastodon::entities::Account> = results
        .accounts
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    let statuses: HashMap<&str, &crate::mastodon::entities::Status> = results
        .statuses
        .iter()
        .map(|s| (s.id.as_str(), s))
        .collect();
    let groups = results
        .notification_groups
        .iter()
        .filter_map(|g| {
            let status = g.status_id.as_deref().and_then(|id| statuses.get(id));
            let reply =
                status.is_some_and(|s| s.in_reply_to_account_id.as_deref() == Some(&viewer_id));
            let senders: Vec<AccountView> = g
                .sample_account_ids
                .iter()
                .filter_map(|id| accounts.get(id.as_str()))
                .map(|a| cards.account(a))
                .collect();
            if senders.is_empty() {
                return None;
            }
            let at = g
                .latest_page_notification_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now);
            Some(GroupView {
                key: g.group_key.clone(),
                kind: g.kind.clone(),
                text: describe(&g.kind, reply),
                others: (g.notifications_count - 1).max(0),
                accounts: senders.into_iter().take(3).collect(),
                post: status.map(|s| cards.post(s)),
                published_iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                published_ago: cards::ago(now, at),
            })
        })
        .collect();
    render(&NotificationsPage {
        chrome,
        tab,
        tabs: &TABS,
        groups,
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
