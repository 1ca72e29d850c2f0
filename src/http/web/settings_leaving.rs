//! Settings for leaving: moving accounts, as Mastodon words them, "Moving
//! from a different account" (the aliases that let another account move
//! here) and "Moving to a different account" (the Move, confirmed by the
//! password); and deleting the account (confirmed by the password).

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::settings::Saved;
use super::{Chrome, SignedIn, WebResult, render, render_with, see_other};
use crate::service::deletion;
use crate::service::moves::{self, MAX_ALIASES};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/aliases", get(aliases_form).post(aliases))
        .route("/settings/move", get(move_form).post(move_to))
        .route("/settings/delete", get(delete_form).post(delete))
}

#[derive(Template)]
#[template(path = "web/settings_aliases.html")]
struct AliasesPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
    /// One row per alias slot, filled or not.
    aliases: Vec<String>,
}

fn alias_rows(aliases: &[String]) -> Vec<String> {
    (0..MAX_ALIASES)
        .map(|i| aliases.get(i).cloned().unwrap_or_default())
        .collect()
}

/// `GET /settings/aliases`
async fn aliases_form(me: SignedIn, Query(q): Query<Saved>) -> WebResult {
    render(&AliasesPage {
        section: "aliases",
        saved: q.saved.is_some(),
        error: None,
        aliases: alias_rows(&me.actor().also_known_as),
        chrome: me.chrome,
    })
}

#[derive(Deserialize)]
struct AliasesForm {
    #[serde(default)]
    csrf_token: String,
    /// One alias per line.
    #[serde(default)]
    aliases: String,
}

/// `POST /settings/aliases`
async fn aliases(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<AliasesForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    let typed: Vec<String> = form.aliases.lines().map(str::to_string).collect();
    match moves::set_aliases(&state, me.actor(), &typed).await {
        Ok(_) => Ok(see_other("/settings/aliases?saved=1")),
        Err(e) if e.status().is_client_error() => render_with(
            e.status(),
            &AliasesPage {
                section: "aliases",
                saved: false,
                error: Some(e.public_message()),
                aliases: alias_rows(&typed),
                chrome: me.chrome,
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "web/settings_move.html")]
struct MovePage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
    /// Where the account has moved, if it has.
    moved_to: Option<String>,
    target: String,
}

/// `GET /settings/move`
async fn move_form(me: SignedIn, Query(q): Query<Saved>) -> WebResult {
    render(&MovePage {
        section: "move",
        saved: q.saved.is_some(),
        error: None,
        moved_to: me.actor().moved_to.clone(),
        target: String::new(),
        chrome: me.chrome,
    })
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    current_password: String,
}

/// `POST /settings/move`
async fn move_to(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<MoveForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    match moves::move_to(
        &state,
        me.user(),
        me.actor(),
        &form.target,
        &form.current_password,
    )
    .await
    {
        Ok(_) => Ok(see_other("/settings/move?saved=1")),
        Err(e) if e.status().is_client_error() => render_with(
            e.status(),
            &MovePage {
                section: "move",
                saved: false,
                error: Some(e.public_message()),
                moved_to: me.actor().moved_to.clone(),
                target: form.target.clone(),
                chrome: me.chrome,
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "web/settings_delete.html")]
struct DeletePage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
}

/// `GET /settings/delete`
async fn delete_form(me: SignedIn) -> WebResult {
    render(&DeletePage {
        section: "delete",
        saved: false,
        error: None,
        chrome: me.chrome,
    })
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
}

/// `POST /settings/delete`: the account and its sessions are gone; the
/// browser lands on the front page, signed out.
async fn delete(
    State(state): State<AppState>,
    me: SignedIn,
    axum::Form(form): axum::Form<DeleteForm>,
) -> WebResult {
    me.check(&form.csrf_token)?;
    match deletion::delete_account(&state, me.user(), me.actor(), &form.current_password).await {
        Ok(_) => Ok(see_other("/")),
        Err(e) if e.status().is_client_error() => render_with(
            e.status(),
            &DeletePage {
                section: "delete",
                saved: false,
                error: Some(e.public_message()),
                chrome: me.chrome,
            },
        ),
        Err(e) => Err(e.into()),
    }
}
