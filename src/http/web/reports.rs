//! Reporting an account from the web (`/web/accounts/{id}/report`): pick
//! some of its recent posts, a category and a comment, and, for a remote
//! account, whether to forward the report to its server (anonymously, from
//! this instance). The same service as `POST /api/v1/reports`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::cards::{self, AccountView, PostCard};
use super::{Chrome, SignedIn, WebResult, checked, id, render_with, see_other};
use crate::domain::filters::Context as FilterContext;
use crate::error::Error;
use crate::mastodon::Presenter;
use crate::service::reports::{self, NewReport};
use crate::service::{profiles, timelines};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/report.html")]
struct ReportPage {
    chrome: Chrome,
    account: AccountView,
    posts: Vec<PostCard>,
    remote: bool,
    sent: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Sent {
    #[serde(default)]
    sent: Option<String>,
}

async fn page(
    state: &AppState,
    me: SignedIn,
    raw: &str,
    sent: bool,
    error: Option<String>,
) -> WebResult {
    let target = profiles::by_id(&state.db, id(raw)?).await?;
    let viewer = Some(me.actor());
    let recent = timelines::profile(
        state,
        viewer,
        &target,
        timelines::ProfileTab::Posts,
        timelines::page(None, None, None, Some(20)),
    )
    .await?;
    let posts = cards::posts(state, viewer, &recent, Some(FilterContext::Account)).await?;
    let account =
        cards::Cards::new(state).account(&Presenter::new(state, viewer).account(&target).await?);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &ReportPage {
            chrome: me.chrome,
            remote: !target.is_local(),
            account,
            posts,
            sent,
            error,
        },
    )
}

/// `GET /web/accounts/{id}/report`
pub async fn form(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    Query(q): Query<Sent>,
) -> WebResult {
    page(&state, me, &raw, q.sent.is_some(), None).await
}

/// `POST /web/accounts/{id}/report`: the form's fields; `post` repeats.
pub async fn submit(
    State(state): State<AppState>,
    me: SignedIn,
    Path(raw): Path<String>,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> WebResult {
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    me.check(&value("csrf_token").unwrap_or_default())?;
    let post_ids = fields
        .iter()
        .filter(|(k, _)| k == "post")
        .map(|(_, v)| v.parse::<i64>().map_err(|_| Error::NotFound))
        .collect::<Result<Vec<_>, _>>()?;
    let report = NewReport {
        target_id: id(&raw)?,
        post_ids,
        comment: value("comment").unwrap_or_default(),
        category: value("category"),
        forward: checked(&value("forward")),
    };
    match reports::create(&state, me.actor(), report).await {
        Ok(_) => Ok(see_other(&format!("/web/accounts/{raw}/report?sent=1"))),
        Err(Error::Validation(message)) => page(&state, me, &raw, false, Some(message)).await,
        Err(e) => Err(e.into()),
    }
}
