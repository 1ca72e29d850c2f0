//! The signed-in person's blocks, mutes and blocked domains, as Mastodon's
//! web lists them: each with a button to lift it, and a form to block a
//! domain by name. Blocking and muting an account are on its profile.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::cards::{self, AccountView};
use super::{Chrome, SignedIn, WebResult, render, render_with, see_other};
use crate::service::types::Listing;
use crate::service::{accounts, domain_blocks, timelines};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/blocks", get(blocks))
        .route("/settings/mutes", get(mutes))
        .route(
            "/settings/domain_blocks",
            get(domain_blocks_page).post(add_domain_block),
        )
        .route(
            "/settings/domain_blocks/remove",
            axum::routing::post(remove_domain_block),
        )
}

/// Accounts or domains listed on one page.
const PAGE: i64 = 40;

#[derive(Deserialize, Default)]
struct PageQuery {
    #[serde(default)]
    max_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "web/settings_blocks.html")]
struct BlocksPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
    /// The blocked or muted accounts ("blocks", "mutes").
    accounts: Vec<AccountView>,
    /// The blocked servers ("domain_blocks").
    domains: Vec<String>,
    typed_domain: String,
    older: Option<i64>,
}

async fn accounts_page(
    state: &AppState,
    me: SignedIn,
    listing: Listing,
    section: &'static str,
    max_id: Option<i64>,
) -> WebResult {
    let page = timelines::page(max_id, None, None, Some(PAGE));
    let rows = accounts::listing(state, listing, me.actor().id, page).await?;
    let older = super::older(&rows, PAGE, |r| r.cursor);
    let actors: Vec<_> = rows.into_iter().map(|r| r.actor).collect();
    let accounts = cards::accounts(state, Some(me.actor()), &actors).await?;
    render(&BlocksPage {
        section,
        saved: false,
        error: None,
        accounts,
        domains: Vec::new(),
        typed_domain: String::new(),
        older,
        chrome: me.chrome,
    })
}

/// `GET /settings/blocks`: the accounts the person blocks.
async fn blocks(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<PageQuery>,
) -> WebResult {
    accounts_page(&state, me, Listing::Blocks, "blocks", q.max_id).await
}

/// `GET /settings/mutes`: the accounts the person mutes (live mutes).
async fn mutes(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<PageQuery>,
) -> WebResult {
    accounts_page(&state, me, Listing::Mutes, "mutes", q.max_id).await
}

#[derive(Deserialize, Default)]
struct DomainsQuery {
    #[serde(default)]
    max_id: Option<i64>,
    #[serde(default)]
    saved: Option<String>,
}

async fn domains_page(
    state: &AppState,
    me: SignedIn,
    max_id: Option<i64>,
    saved: bool,
    error: Option<(axum::http::StatusCode, String, String)>,
) -> WebResult {
    let page = timelines::page(max_id, None, None, Some(PAGE));
    let found = domain_blocks::list(state, me.actor(), page).await?;
    let older = super::older(&found, PAGE, |b| b.id);
    let (status, error, typed_domain) = match error {
        Some((status, message, typed)) => (status, Some(message), typed),
        None => (axum::http::StatusCode::OK, None, String::new()),
    };
    render_with(
        status,
        &BlocksPage {
            section: "domain_blocks",
            saved,
            error,
            accounts: Vec::new(),
            domains: found.into_iter().map(|b| b.domain).collect(),
            typed_domain,
            older,
            chrome: me.chrome,
        },
    )
}

/// `GET /settings/domain_blocks`: the servers the person blocks.
async fn domain_blocks_page(
    State(state): State<AppState>,
    me: SignedIn,
    Query(q): Query<DomainsQuery>,
) -> WebResult {
    domains_page(&state, me, q.max_id, q.saved.is_some(), None).await
}

#[derive(Deserialize)]
struct DomainForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    domain: String,
}

/// `POST /settings/domain_blocks`: blocks a server by name (follows with it
/// end, as from the API).
async fn add_domain_block(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<DomainForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    match domain_blocks::block(&state, me.actor(), &form.domain).await {
        Ok(()) => Ok(see_other("/settings/domain_blocks?saved=1")),
        Err(e) if e.status().is_client_error() => {
            let error = (e.status(), e.public_message(), form.domain.clone());
            domains_page(&state, me, None, false, Some(error)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /settings/domain_blocks/remove`
async fn remove_domain_block(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<DomainForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    domain_blocks::unblock(&state, me.actor(), &form.domain).await?;
    Ok(see_other("/settings/domain_blocks?saved=1"))
}
