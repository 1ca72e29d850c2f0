//! Settings for an account's data, as Mastodon's "Import and export": the
//! export page with its downloads (CSV lists, the ActivityStreams archive
//! as one ZIP with the media, or its JSON files one by one) and the import
//! form (a CSV file, its kind and merge or
//! overwrite) with how recent imports went.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, SignedIn, WebResult, render, render_with, see_other};
use crate::domain::portability::{ListKind, Mode};
use crate::error::Error;
use crate::http::api::params::WithFiles;
use crate::service::portability::{self, ArchiveFile};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/export", get(export_page))
        .route("/settings/export/{file}", get(download))
        .route("/settings/import", get(import_form).post(import))
}

/// The whole archive's download name.
const ARCHIVE_ZIP: &str = "archive.zip";

#[derive(Template)]
#[template(path = "web/settings_export.html")]
struct ExportPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    /// (file name, what it holds)
    files: Vec<(&'static str, &'static str)>,
}

/// `GET /settings/export`
async fn export_page(me: SignedIn) -> WebResult {
    render(&ExportPage {
        section: "export",
        saved: false,
        files: vec![
            ("following_accounts.csv", "Follows"),
            ("blocked_accounts.csv", "Blocked accounts"),
            ("muted_accounts.csv", "Muted accounts"),
            ("blocked_domains.csv", "Blocked domains"),
            ("lists.csv", "Lists"),
            ("bookmarks.csv", "Bookmarks"),
            (
                ARCHIVE_ZIP,
                "Your archive: profile, every post, likes, bookmarks and media, as one ZIP",
            ),
            ("actor.json", "Archive: your profile"),
            (
                "outbox.json",
                "Archive: every post of yours, with who could see it",
            ),
            ("likes.json", "Archive: posts you liked"),
            ("bookmarks.json", "Archive: posts you bookmarked"),
        ],
        chrome: me.chrome,
    })
}

/// `GET /settings/export/{file}`: one file, as a download.
async fn download(
    State(state): State<AppState>,
    me: SignedIn,
    Path(file): Path<String>,
) -> WebResult {
    if file == ARCHIVE_ZIP {
        let chunks = portability::export_archive_zip(&state, me.actor()).await?;
        let stream = futures::stream::unfold(chunks, |mut chunks| async move {
            chunks.recv().await.map(|chunk| (chunk, chunks))
        });
        let name = format!("archive-{}.zip", me.actor().username);
        return Ok(crate::http::download(
            "application/zip",
            &name,
            axum::body::Body::from_stream(stream),
        ));
    }
    let (content_type, body) = if let Some(kind) = ListKind::by_file_name(&file) {
        (
            "text/csv; charset=utf-8",
            portability::export_csv(&state, me.actor(), kind).await?,
        )
    } else if file == "lists.csv" {
        (
            "text/csv; charset=utf-8",
            portability::export_lists_csv(&state, me.actor()).await?,
        )
    } else if file == "bookmarks.csv" {
        (
            "text/csv; charset=utf-8",
            portability::export_bookmarks_csv(&state, me.actor()).await?,
        )
    } else if let Some(part) = ArchiveFile::by_file_name(&file) {
        let doc = portability::export_archive(&state, me.actor(), part).await?;
        (
            "application/activity+json",
            serde_json::to_string_pretty(&doc).map_err(|e| Error::Internal(e.into()))?,
        )
    } else {
        return Err(Error::NotFound.into());
    };
    Ok(crate::http::download(content_type, &file, body))
}

/// An import as the page lists it.
struct ImportView {
    kind: String,
    mode: String,
    state: String,
    lines: usize,
    applied: i32,
    /// (line's account or domain, why it failed)
    failures: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "web/settings_import.html")]
struct ImportPage {
    chrome: Chrome,
    section: &'static str,
    saved: bool,
    error: Option<String>,
    imports: Vec<ImportView>,
}

async fn import_page(
    state: &AppState,
    me: SignedIn,
    saved: bool,
    error: Option<(axum::http::StatusCode, String)>,
) -> WebResult {
    let imports = portability::recent(state, me.actor())
        .await?
        .into_iter()
        .map(|i| ImportView {
            lines: i.entries.0.len(),
            failures: i
                .failures
                .0
                .into_iter()
                .map(|f| (f.target, f.reason))
                .collect(),
            kind: i.kind,
            mode: i.mode,
            state: i.state,
            applied: i.applied,
        })
        .collect();
    let status = error
        .as_ref()
        .map(|(s, _)| *s)
        .unwrap_or(axum::http::StatusCode::OK);
    render_with(
        status,
        &ImportPage {
            section: "import",
            saved,
            error: error.map(|(_, m)| m),
            imports,
            chrome: me.chrome,
        },
    )
}

#[derive(Deserialize, Default)]
struct ImportQuery {
    #[serde(default)]
    saved: Option<String>,
}

/// `GET /settings/import`
async fn import_form(
    State(state): State<AppState>,
    me: SignedIn,
    axum::extract::Query(q): axum::extract::Query<ImportQuery>,
) -> WebResult {
    import_page(&state, me, q.saved.is_some(), None).await
}

#[derive(Deserialize)]
struct ImportForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    mode: String,
}

/// `POST /settings/import` (multipart, the file in `data`): queued, then
/// back to the page, which shows how it goes.
async fn import(
    State(state): State<AppState>,
    me: SignedIn,
    form: Result<WithFiles<ImportForm>, Error>,
) -> WebResult {
    let WithFiles {
        params: form,
        files,
    } = form?;
    me.check(&form.csrf_token)?;
    let started = async {
        let kind = ListKind::parse(&form.kind)
            .ok_or_else(|| Error::Validation(format!("`{}` is not a kind of import", form.kind)))?;
        let mode = Mode::parse(&form.mode)
            .ok_or_else(|| Error::Validation(format!("`{}` is not an import mode", form.mode)))?;
        let data = files
            .get("data")
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Error::Validation("choose a file to import".into()))?;
        let text = std::str::from_utf8(data)
            .map_err(|_| Error::Validation("the file is not UTF-8 text".into()))?;
        portability::start_import(&state, me.actor(), kind, mode, text).await
    }
    .await;
    match started {
        Ok(_) => Ok(see_other("/settings/import?saved=1")),
        Err(e) if e.status().is_client_error() => {
            import_page(&state, me, false, Some((e.status(), e.public_message()))).await
        }
        Err(e) => Err(e.into()),
    }
}
