//! The admin area's announcements page (`/admin/announcements`): every
//! announcement with its state, a form to edit each, buttons to publish,
//! unpublish and delete it, and a form to write one. Times are typed as
//! UTC (`datetime-local` fields). Admins only; every change is
//! audit-logged by `service::announcements`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, id, render_with, see_other};
use crate::error::Error;
use crate::service::announcements::{self, Form};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/announcements",
            axum::routing::get(page).post(create),
        )
        .route("/admin/announcements/{id}/{action}", post(act))
}

/// An announcement as its form shows it.
pub struct Row {
    pub id: i64,
    pub text: String,
    pub published: bool,
    /// "Published 2026-12-08 10:00 UTC", "Scheduled for ...", "Draft".
    pub state: String,
    pub scheduled_at: String,
    pub starts_at: String,
    pub ends_at: String,
    pub all_day: bool,
}

#[derive(Template)]
#[template(path = "web/admin/announcements.html")]
struct AnnouncementsPage {
    chrome: Chrome,
    section: &'static str,
    rows: Vec<Row>,
    /// What the form to write one holds (kept when it was refused).
    new: Row,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct Notice {
    #[serde(default)]
    notice: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
pub struct AnnouncementForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    scheduled_at: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
    #[serde(default)]
    all_day: Option<String>,
}

/// A `datetime-local` value (UTC), as the form shows one.
fn field(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

fn parse(raw: &str, name: &str) -> Result<Option<DateTime<Utc>>, Error> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .map(|t| Some(t.and_utc()))
        .ok_or_else(|| Error::Validation(format!("The {name} is not a date and time")))
}

impl AnnouncementForm {
    fn row(&self, id: i64) -> Row {
        Row {
            id,
            text: self.text.clone(),
            published: false,
            state: String::new(),
            scheduled_at: self.scheduled_at.clone(),
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
            all_day: self.all_day.is_some(),
        }
    }

    fn times(&self) -> Result<[Option<DateTime<Utc>>; 3], Error> {
        Ok([
            parse(&self.scheduled_at, "publication time")?,
            parse(&self.starts_at, "start")?,
            parse(&self.ends_at, "end")?,
        ])
    }
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn render_page(
    state: &AppState,
    staff: StaffSession,
    notice: Option<String>,
    refused: Option<(String, AnnouncementForm, i64)>,
) -> WebResult {
    let stored = announcements::all(state, &staff.staff).await?;
    let (status, error, typed) = match refused {
        Some((message, form, id)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            Some((form, id)),
        ),
        None => (StatusCode::OK, None, None),
    };
    let rows = stored
        .into_iter()
        .map(|a| {
            let state = if a.published {
                format!("Published {}", a.published_at.map(when).unwrap_or_default())
            } else if let Some(at) = a.scheduled_at {
                format!("To be published {}", when(at))
            } else {
                "Not published".to_string()
            };
            match &typed {
                Some((form, id)) if *id == a.id => Row {
                    published: a.published,
                    state,
                    ..form.row(a.id)
                },
                _ => Row {
                    id: a.id,
                    text: a.text,
                    published: a.published,
                    state,
                    scheduled_at: field(a.scheduled_at),
                    starts_at: field(a.starts_at),
                    ends_at: field(a.ends_at),
                    all_day: a.all_day,
                },
            }
        })
        .collect();
    let new = match &typed {
        Some((form, 0)) => form.row(0),
        _ => AnnouncementForm::default().row(0),
    };
    render_with(
        status,
        &AnnouncementsPage {
            chrome: staff.me.chrome,
            section: "announcements",
            rows,
            new,
            notice,
            error,
        },
    )
}

/// `GET /admin/announcements`
async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<Notice>,
) -> WebResult {
    let notice = q.notice.filter(|n| !n.is_empty());
    render_page(&state, staff, notice, None).await
}

fn done(notice: &str) -> axum::response::Response {
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    see_other(&format!("/admin/announcements?notice={encoded}"))
}

/// Saves a new announcement (`id` 0) or an edited one.
async fn save(state: &AppState, staff: StaffSession, id: i64, form: AnnouncementForm) -> WebResult {
    let outcome = match form.times() {
        Ok([scheduled_at, starts_at, ends_at]) => {
            let fields = Form {
                text: &form.text,
                scheduled_at,
                starts_at,
                ends_at,
                all_day: form.all_day.is_some(),
            };
            if id == 0 {
                announcements::create(state, &staff.staff, &fields)
                    .await
                    .map(|a| {
                        if a.published {
                            "The announcement was published."
                        } else {
                            "The announcement was saved; it will be published at its time."
                        }
                    })
            } else {
                announcements::edit(state, &staff.staff, id, &fields)
                    .await
                    .map(|_| "The announcement was saved.")
            }
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(notice) => Ok(done(notice)),
        Err(Error::Validation(message)) => {
            render_page(state, staff, None, Some((message, form, id))).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/announcements`: writes one.
async fn create(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<AnnouncementForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    save(&state, staff, 0, form).await
}

/// `POST /admin/announcements/{id}/{edit|publish|unpublish|delete}`
async fn act(
    State(state): State<AppState>,
    staff: StaffSession,
    Path((raw, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<AnnouncementForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let announcement = id(&raw)?;
    match action.as_str() {
        "edit" => save(&state, staff, announcement, form).await,
        "publish" => {
            announcements::set_published(&state, &staff.staff, announcement, true).await?;
            Ok(done("The announcement was published."))
        }
        "unpublish" => {
            announcements::set_published(&state, &staff.staff, announcement, false).await?;
            Ok(done("The announcement was unpublished."))
        }
        "delete" => {
            announcements::delete(&state, &staff.staff, announcement).await?;
            Ok(done("The announcement was deleted."))
        }
        _ => Err(Error::NotFound.into()),
    }
}
