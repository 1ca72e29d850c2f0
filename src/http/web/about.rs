//! The about page (`/about`): what this instance is, who runs it and how
//! to reach them, whether people can join, and its rules.

use askama::Template;
use axum::extract::State;

use super::auth::{RuleView, rule_views};
use super::search::{AccountRow, account_rows};
use super::{Chrome, Web, WebResult, render};
use crate::config::Registrations;
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
        chrome: web.chrome,
    })
}
