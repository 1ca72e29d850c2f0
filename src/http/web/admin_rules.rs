//! The admin area's rules page (`/admin/rules`): the instance's rules in
//! their order, each with its text and hint to edit, buttons to move it up
//! or down and to remove it, and a form to add one. Admins only; every
//! change is audit-logged by `service::rules`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, id, render_with, see_other};
use crate::error::Error;
use crate::service::rules::{self, Move};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/rules", axum::routing::get(page).post(create))
        .route("/admin/rules/{id}/{action}", post(act))
}

/// A rule as its form shows it.
pub struct RuleRow {
    pub id: i64,
    pub number: usize,
    pub text: String,
    pub hint: String,
    pub first: bool,
    pub last: bool,
}

#[derive(Template)]
#[template(path = "web/admin/rules.html")]
struct RulesPage {
    chrome: Chrome,
    section: &'static str,
    rules: Vec<RuleRow>,
    /// What the form to add a rule holds (kept when it was refused).
    new_text: String,
    new_hint: String,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

/// What was typed into a refused form, shown again.
#[derive(Default)]
struct Typed {
    /// The rule being edited, or None for the form that adds one.
    rule: Option<i64>,
    text: String,
    hint: String,
}

async fn render_page(
    state: &AppState,
    staff: StaffSession,
    notice: Option<String>,
    error: Option<(String, Typed)>,
) -> WebResult {
    staff.staff.require_admin()?;
    let stored = rules::list(&state.db).await?;
    let count = stored.len();
    let (status, error, typed) = match error {
        Some((message, typed)) => (StatusCode::UNPROCESSABLE_ENTITY, Some(message), typed),
        None => (StatusCode::OK, None, Typed::default()),
    };
    let rows = stored
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let (text, hint) = if typed.rule == Some(r.id) {
                (typed.text.clone(), typed.hint.clone())
            } else {
                (r.text, r.hint)
            };
            RuleRow {
                id: r.id,
                number: i + 1,
                text,
                hint,
                first: i == 0,
                last: i + 1 == count,
            }
        })
        .collect();
    let (new_text, new_hint) = match typed.rule {
        None => (typed.text, typed.hint),
        Some(_) => (String::new(), String::new()),
    };
    render_with(
        status,
        &RulesPage {
            chrome: staff.me.chrome,
            section: "rules",
            rules: rows,
            new_text,
            new_hint,
            notice,
            error,
        },
    )
}

/// `GET /admin/rules`
async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<Notice>,
) -> WebResult {
    let notice = q.notice.filter(|n| !n.is_empty());
    render_page(&state, staff, notice, None).await
}

#[derive(Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    hint: String,
}

fn done(notice: &str) -> axum::response::Response {
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    see_other(&format!("/admin/rules?notice={encoded}"))
}

/// `POST /admin/rules`: adds a rule after the others.
async fn create(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<RuleForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    match rules::add(&state, &staff.staff, &form.text, &form.hint).await {
        Ok(_) => Ok(done("The rule was added.")),
        Err(Error::Validation(message)) => {
            let typed = Typed {
                rule: None,
                text: form.text,
                hint: form.hint,
            };
            render_page(&state, staff, None, Some((message, typed))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/rules/{id}/{edit|up|down|remove}`
async fn act(
    State(state): State<AppState>,
    staff: StaffSession,
    Path((raw, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<RuleForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let rule = id(&raw)?;
    match action.as_str() {
        "edit" => match rules::edit(&state, &staff.staff, rule, &form.text, &form.hint).await {
            Ok(_) => Ok(done("The rule was saved.")),
            Err(Error::Validation(message)) => {
                let typed = Typed {
                    rule: Some(rule),
                    text: form.text,
                    hint: form.hint,
                };
                render_page(&state, staff, None, Some((message, typed))).await
            }
            Err(e) => Err(e.into()),
        },
        "remove" => {
            rules::remove(&state, &staff.staff, rule).await?;
            Ok(done("The rule was removed."))
        }
        other => {
            let to = Move::parse(other).ok_or(Error::NotFound)?;
            rules::move_rule(&state, &staff.staff, rule, to).await?;
            Ok(see_other(&format!("/admin/rules#rule-{rule}")))
        }
    }
}
