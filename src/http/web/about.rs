//! The about page (`/about`): what this instance is (its extended
//! description), who runs it and how to reach them, whether people can
//! join, and its rules; and the privacy policy (`/privacy-policy`) and
//! terms of service (`/terms-of-service`) admins wrote.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;

use super::auth::{RuleView, rule_views};
use super::search::{AccountRow, account_rows};
use super::{Chrome, Web, WebResult, render, render_with};
use crate::config::Registrations;
use crate::error::Error;
use crate::service::about::{self as texts, Page};
use crate::service::{discovery, instance};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "web/about.html")]
struct AboutPage {
    chrome: Chrome,
    description: String,
    domain: String,
    contact_email: String,
    /// The contact account, with its follow button for a signed-in viewer.
    contact: Option<AccountRow>,
    /// "open", "approval" or "closed".
    registrations: &'static str,
    users: i64,
    posts_count: i64,
    version: &'static str,
    rules: Vec<RuleView>,
    /// Sanitised or rendered by `service::about`.
    extended_description: String,
    has_privacy_policy: bool,
    has_terms: bool,
}

#[derive(Template)]
#[template(path = "web/about_text.html")]
struct TextPage {
    chrome: Chrome,
    title: &'static str,
    note: Option<String>,
    /// Sanitised or rendered by `service::about`.
    content: String,
}

/// `GET /about`
pub async fn about(State(state): State<AppState>, web: Web) -> WebResult {
    let viewer = web.viewer();
    let contact = match instance::contact_account(&state.db).await? {
        Some(actor) => account_rows(&state, viewer, std::slice::from_ref(&actor))
            .await?
            .into_iter()
            .next(),
        None => None,
    };
    let usage = discovery::usage(&state.db).await?;
    let config = &state.config.instance;
    render(&AboutPage {
        description: config.description.clone(),
        domain: state.urls.domain(),
        contact_email: config.contact_email.clone(),
        contact,
        registrations: match state.config.registrations {
            Registrations::Open => "open",
            Registrations::Approval => "approval",
            Registrations::Closed => "closed",
        },
        users: usage.users_total,
        posts_count: usage.local_posts,
        version: crate::federation::nodeinfo::VERSION,
        rules: rule_views(&state).await?,
        extended_description: texts::shown(&state, Page::ExtendedDescription)
            .await?
            .content,
        has_privacy_policy: !texts::shown(&state, Page::PrivacyPolicy)
            .await?
            .content
            .is_empty(),
        has_terms: texts::terms(&state, None).await.is_ok(),
        chrome: web.chrome,
    })
}

/// `GET /privacy-policy`
pub async fn privacy_policy(State(state): State<AppState>, web: Web) -> WebResult {
    let shown = texts::shown(&state, Page::PrivacyPolicy).await?;
    if shown.content.is_empty() {
        return Err(Error::NotFound.into());
    }
    render_with(
        StatusCode::OK,
        &TextPage {
            chrome: web.chrome,
            title: "Privacy policy",
            note: shown
                .updated_at
                .map(|at| format!("Last updated {}", at.format("%Y-%m-%d"))),
            content: shown.content,
        },
    )
}

/// `GET /terms-of-service`: the terms in force.
pub async fn terms_of_service(State(state): State<AppState>, web: Web) -> WebResult {
    let terms = texts::terms(&state, None).await?;
    let note = if terms.effective {
        format!("In effect since {}", terms.effective_date)
    } else {
        format!("In effect from {}", terms.effective_date)
    };
    render_with(
        StatusCode::OK,
        &TextPage {
            chrome: web.chrome,
            title: "Terms of service",
            note: Some(note),
            content: terms.content,
        },
    )
}
