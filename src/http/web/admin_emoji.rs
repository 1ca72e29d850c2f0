//! The admin area's custom emoji page (`/admin/custom_emojis`): the
//! instance's emoji with their image, shortcode and category, each with a
//! form to change its category, whether the picker offers it and whether
//! it is enabled, and a button to delete it; a form to upload one
//! (multipart: shortcode, category, picker, `image`); and the remote emoji
//! seen in posts here, each copyable to a local one (Mastodon's "copy").
//! Admins only; every change is audit-logged by `service::custom_emoji`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, id, render_with, see_other};
use crate::error::Error;
use crate::http::api::params::WithFiles;
use crate::service::custom_emoji::{self, Changes, NewEmoji, RemoteEmoji};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/custom_emojis", get(page).post(create))
        .route("/admin/custom_emojis/copy", post(copy))
        .route("/admin/custom_emojis/{id}/{action}", post(act))
}

/// An emoji as its row on the page shows it.
pub struct EmojiRow {
    pub id: i64,
    pub shortcode: String,
    pub url: String,
    pub category: String,
    pub visible_in_picker: bool,
    pub disabled: bool,
    pub animated: bool,
}

#[derive(Template)]
#[template(path = "web/admin/custom_emojis.html")]
struct EmojisPage {
    chrome: Chrome,
    section: &'static str,
    emojis: Vec<EmojiRow>,
    remote: Vec<RemoteEmoji>,
    query: String,
    max_kib: usize,
    /// What the upload form holds (kept when it was refused).
    new_shortcode: String,
    new_category: String,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    notice: Option<String>,
    /// Narrows the remote emoji to shortcodes containing it.
    #[serde(default)]
    q: Option<String>,
}

async fn render_page(
    state: &AppState,
    staff: StaffSession,
    notice: Option<String>,
    query: String,
    error: Option<(String, String, String)>,
) -> WebResult {
    staff.staff.require_admin()?;
    let emojis = custom_emoji::all(state, &staff.staff)
        .await?
        .into_iter()
        .map(|e| {
            let (url, _) = custom_emoji::urls(state, &e);
            EmojiRow {
                id: e.id,
                animated: e.content_type == "image/gif" && e.static_key != e.file_key,
                shortcode: e.shortcode,
                url,
                category: e.category.unwrap_or_default(),
                visible_in_picker: e.visible_in_picker,
                disabled: e.disabled,
            }
        })
        .collect();
    let remote = custom_emoji::remote_seen(state, &staff.staff, &query).await?;
    let (status, error, new_shortcode, new_category) = match error {
        Some((message, shortcode, category)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
            shortcode,
            category,
        ),
        None => (StatusCode::OK, None, String::new(), String::new()),
    };
    render_with(
        status,
        &EmojisPage {
            chrome: staff.me.chrome,
            section: "custom_emojis",
            emojis,
            remote,
            query,
            max_kib: crate::domain::emoji::MAX_IMAGE_BYTES / 1024,
            new_shortcode,
            new_category,
            notice,
            error,
        },
    )
}

/// `GET /admin/custom_emojis`
async fn page(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<PageQuery>,
) -> WebResult {
    let notice = q.notice.filter(|n| !n.is_empty());
    render_page(&state, staff, notice, q.q.unwrap_or_default(), None).await
}

#[derive(Deserialize, Default)]
pub struct UploadForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    shortcode: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    visible_in_picker: Option<String>,
}

fn done(notice: &str) -> axum::response::Response {
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    see_other(&format!("/admin/custom_emojis?notice={encoded}"))
}

/// `POST /admin/custom_emojis` (multipart, the image in `image`): adds an
/// emoji.
async fn create(
    State(state): State<AppState>,
    staff: StaffSession,
    form: Result<WithFiles<UploadForm>, Error>,
) -> WebResult {
    let WithFiles { params, files } = form?;
    staff.me.check(&params.csrf_token)?;
    let image = files.get("image").cloned().unwrap_or_default();
    let new = NewEmoji {
        shortcode: &params.shortcode,
        category: &params.category,
        visible_in_picker: params.visible_in_picker.is_some(),
    };
    match custom_emoji::create(&state, &staff.staff, new, image).await {
        Ok(emoji) => Ok(done(&format!("The emoji :{}: was added.", emoji.shortcode))),
        Err(Error::Validation(message)) => {
            let typed = (message, params.shortcode, params.category);
            render_page(&state, staff, None, String::new(), Some(typed)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct EmojiForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    visible_in_picker: Option<String>,
    #[serde(default)]
    enabled: Option<String>,
}

/// `POST /admin/custom_emojis/{id}/{save|enable|disable|delete}`
async fn act(
    State(state): State<AppState>,
    staff: StaffSession,
    Path((raw, action)): Path<(String, String)>,
    axum::Form(form): axum::Form<EmojiForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let emoji = id(&raw)?;
    let result = match action.as_str() {
        "save" => {
            let changes = Changes {
                category: &form.category,
                visible_in_picker: form.visible_in_picker.is_some(),
                disabled: form.enabled.is_none(),
            };
            custom_emoji::update(&state, &staff.staff, emoji, changes)
                .await
                .map(|e| format!("The emoji :{}: was saved.", e.shortcode))
        }
        "delete" => custom_emoji::remove(&state, &staff.staff, emoji)
            .await
            .map(|e| format!("The emoji :{}: was deleted.", e.shortcode)),
        _ => return Err(Error::NotFound.into()),
    };
    match result {
        Ok(notice) => Ok(done(&notice)),
        Err(Error::Validation(message)) => {
            render_page(
                &state,
                staff,
                None,
                String::new(),
                Some((message, String::new(), String::new())),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct CopyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    shortcode: String,
    #[serde(default)]
    url: String,
}

/// `POST /admin/custom_emojis/copy`: copies a remote emoji seen here.
async fn copy(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<CopyForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    match custom_emoji::copy(&state, &staff.staff, &form.shortcode, &form.url).await {
        Ok(emoji) => Ok(done(&format!(
            "The emoji :{}: was copied.",
            emoji.shortcode
        ))),
        Err(Error::Validation(message)) => {
            render_page(
                &state,
                staff,
                None,
                String::new(),
                Some((message, String::new(), String::new())),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
