//! The admin area's about texts page (`/admin/about`): the extended
//! description and the privacy policy to edit, and the dated versions of
//! the terms of service, to add and remove. Apps read them through
//! `/api/v1/instance/...`; the about page shows the description. Admins
//! only; every change is audit-logged by `service::about`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, id, render_with, see_other};
use crate::error::Error;
use crate::service::about::{self, Page};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/about", axum::routing::get(page))
        .route("/admin/about/texts", post(save_texts))
        .route("/admin/about/terms", post(add_terms))
        .route("/admin/about/terms/{id}/remove", post(remove_terms))
}

pub struct TermsRow {
    pub id: i64,
    pub effective_date: String,
    pub changelog: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "web/admin/about.html")]
struct AboutTextsPage {
    chrome: Chrome,
    section: &'static str,
    extended_description: String,
    privacy_policy: String,
    terms: Vec<TermsRow>,
    new_terms: TermsForm,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct TextsForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    extended_description: String,
    #[serde(default)]
    privacy_policy: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct TermsForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub changelog: String,
    #[serde(default)]
    pub effective_date: String,
}

fn done(notice: &str) -> axum::response::Response {
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    see_other(&format!("/admin/about?notice={encoded}"))
}

async fn render_page(
    state: &AppState,
    staff: StaffSession,
    notice: Option<String>,
    refused: Option<(String, Option<TextsForm>, Option<TermsForm>)>,
) -> WebResult {
    let terms = about::all_terms(state, &staff.staff)
        .await?
        .into_iter()
        .map(|t| TermsRow {
            id: t.id,
            effective_date: t.effective_date.to_string(),
            changelog: t.changelog,
            text: t.text,
        })
        .collect();
    let (status, error, texts, new_terms) = match refused {
        Some((message, texts, terms)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            texts,
            terms.unwrap_or_default(),
        ),
        None => (StatusCode::OK, None, None, TermsForm::default()),
    };
    let (extended_description, privacy_policy) = match texts {
        Some(t) => (t.extended_description, t.privacy_policy),
        None => (
            about::raw(state, Page::ExtendedDescription).await?,
            about::raw(state, Page::PrivacyPolicy).await?,
        ),
    };
    render_with(
        status,
        &AboutTextsPage {
            chrome: staff.me.chrome,
            section: "about",
            extended_description,
            privacy_policy,
            terms,
            new_terms,
            notice,
            error,
        },
    )
}

/// `GET /admin/about`
async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<Notice>,
) -> WebResult {
    staff.staff.require_admin()?;
    render_page(&state, staff, q.notice.filter(|n| !n.is_empty()), None).await
}

/// `POST /admin/about/texts`: saves both texts.
async fn save_texts(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<TextsForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let saved = async {
        about::set(
            &state,
            &staff.staff,
            Page::ExtendedDescription,
            &form.extended_description,
        )
        .await?;
        about::set(
            &state,
            &staff.staff,
            Page::PrivacyPolicy,
            &form.privacy_policy,
        )
        .await
    }
    .await;
    match saved {
        Ok(()) => Ok(done("The texts were saved.")),
        Err(Error::Validation(message)) => {
            render_page(&state, staff, None, Some((message, Some(form), None))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/about/terms`: adds a version of the terms.
async fn add_terms(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<TermsForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let added = match NaiveDate::parse_from_str(form.effective_date.trim(), "%Y-%m-%d") {
        Ok(date) => about::add_terms(&state, &staff.staff, &form.text, &form.changelog, date)
            .await
            .map(drop),
        Err(_) => Err(Error::Validation(
            "The terms need the date they take effect".into(),
        )),
    };
    match added {
        Ok(()) => Ok(done("The terms were added.")),
        Err(Error::Validation(message)) => {
            render_page(&state, staff, None, Some((message, None, Some(form)))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /admin/about/terms/{id}/remove`
async fn remove_terms(
    State(state): State<AppState>,
    staff: StaffSession,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<CsrfOnly>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    about::remove_terms(&state, &staff.staff, id(&raw)?).await?;
    Ok(done("The terms were removed."))
}
