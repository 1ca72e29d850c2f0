//! Remote media cached, as Mastodon caches them: the attachments, avatars,
//! headers and custom emoji of remote posts and accounts are downloaded in
//! the background after the post or account is stored, and served from
//! Skein's media storage (local or S3) from then on.
//!
//! - Queueing (`queue`): in the transaction that stores the post or the
//!   account, one `remote_media` row per new URL (`db::remote_media`).
//!   Nothing is queued for a server whose media are rejected or that is
//!   suspended, nor when `media.remote_cache.enabled` is false. Ingest does
//!   no network work for media.
//! - Downloading (`fetch_due`, run by `jobs::remote_media` in worker
//!   processes): due rows are claimed with the worker lock and a lease;
//!   each is held to the domain policy again (the row's server and every
//!   hop's host), then `download` fetches it through `net` (its address
//!   rules on every hop, redirects followed here, a cap by kind, the
//!   configured timeout), reads its type from its bytes (never from
//!   `Content-Type`), re-encodes images with `imaging` (metadata dropped,
//!   a preview and a blurhash, as for uploads) and stores video and audio
//!   as they came. A transient failure (the network, a 5xx) is retried
//!   with backoff; any other, or the last attempt, leaves the row 'failed'.
//! - Showing (`shown`): a stored file is shown at its storage address
//!   (`/media/NAME` or `storage.public_base_url`); until then, and when
//!   the download failed, the remote URL is shown; `remote_url` always
//!   names the remote URL.
//! - Pruning (`prune`: `skein media prune --older-than 30d`, and daily by
//!   `media.remote_retention_days`): cached files older than that are
//!   removed, local uploads never. A pruned file is shown as
//!   `/media_proxy/TOKEN` (Mastodon's media proxy), which downloads it
//!   again the first time someone asks for it (`proxy`), and redirects to
//!   the new file, or to the remote URL while that fails.
//!
//! `download` is the routine other features reuse (preview cards' images):
//! a URL and a kind in, stored files out.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use sqlx::PgExecutor;
use url::Url;

use crate::db::{self, remote_media::RemoteMedia};
use crate::domain::media as rules;
use crate::domain::sniff::{StreamClass, StreamType};
use crate::error::{Error, Result};
use crate::imaging::{self, InputType};
use crate::net::NetError;
use crate::service::media::media_url;
use crate::state::AppState;

/// The longest remote URL cached (longer ones are shown as they are).
const MAX_URL_LEN: usize = 2048;
/// Redirects followed by one download.
const MAX_REDIRECTS: usize = 5;
/// Attempts before a download that keeps failing transiently is given up.
pub const MAX_ATTEMPTS: i32 = 5;
/// How long a claim holds before another worker may take it over.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// Rows pruned per statement.
const PRUNE_BATCH: i64 = 500;

/// What a remote file is, which decides its size cap and what it may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A post's attachment: an image, a video or an audio file.
    Attachment,
    Avatar,
    Header,
    /// A custom emoji's image.
    Emoji,
    /// A preview card's image.
    Card,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Attachment,
        Kind::Avatar,
        Kind::Header,
        Kind::Emoji,
        Kind::Card,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Attachment => "attachment",
            Kind::Avatar => "avatar",
            Kind::Header => "header",
            Kind::Emoji => "emoji",
            Kind::Card => "card",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// The largest file of this kind downloaded (`media.remote_cache`).
    pub fn max_bytes(self, state: &AppState, stream: bool) -> usize {
        let cache = &state.config.media.remote_cache;
        match self {
            Kind::Attachment if stream => cache.max_video_bytes,
            Kind::Attachment | Kind::Card => cache.max_image_bytes,
            Kind::Avatar | Kind::Header => cache.max_profile_image_bytes,
            Kind::Emoji => cache.max_emoji_bytes,
        }
    }

    /// Whether video and audio are taken (only attachments); other kinds
    /// are images.
    fn takes_streams(self) -> bool {
        self == Kind::Attachment
    }

    /// Whether a preview and a blurhash are made.
    fn has_preview(self) -> bool {
        matches!(self, Kind::Attachment | Kind::Card)
    }
}

/// What kind of file was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaClass {
    Image,
    Video,
    Audio,
}

/// Files `download` stored. They belong to the caller, who records them
/// or removes them (`service::media::remove_files` with `names`).
#[derive(Debug, Clone)]
pub struct StoredMedia {
    pub class: MediaClass,
    pub file_key: String,
    pub content_type: &'static str,
    pub file_size: i64,
    /// The preview (attachments' and cards' images).
    pub small_key: Option<String>,
    pub small_content_type: Option<&'static str>,
    /// Images' sizes.
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub blurhash: Option<String>,
}

impl StoredMedia {
    /// The names of the stored files.
    pub fn names(&self) -> Vec<String> {
        std::iter::once(self.file_key.clone())
            .chain(self.small_key.clone())
            .collect()
    }
}

/// Why a download stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The domain policy or the address rules refuse the URL (a private
    /// address, a rejected server).
    #[error("refused: {0}")]
    Refused(String),
    #[error("the server answered {0}")]
    Status(u16),
    #[error("the file is larger than {0} bytes")]
    TooLarge(usize),
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooManyRedirects,
    #[error("the file is not a type taken for this kind of media")]
    Unsupported,
    #[error("the image cannot be used: {0}")]
    Image(String),
    /// The network (including a timeout): may work later.
    #[error("the request failed: {0}")]
    Network(String),
    /// The media storage failed: may work later.
    #[error("storing failed: {0}")]
    Storage(String),
    #[error("{0}")]
    Internal(String),
}

impl DownloadError {
    /// Whether trying again later could succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            DownloadError::Network(_) | DownloadError::Storage(_) | DownloadError::Internal(_) => {
                true
            }
            DownloadError::Status(status) => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

fn from_net(e: NetError) -> DownloadError {
    match e {
        NetError::Refused(url, why) => DownloadError::Refused(format!("{url}: {why}")),
        NetError::TooLarge => DownloadError::TooLarge(crate::net::MAX_BODY),
        NetError::LargerThan(max) => DownloadError::TooLarge(max),
        NetError::TooManyRedirects => DownloadError::TooManyRedirects,
        NetError::Request(e) => DownloadError::Network(e.to_string()),
    }
}

/// Whether the domain policy holds back media of `host`: its media are
/// rejected, or it is suspended (or not allowed).
pub fn held_back(state: &AppState, host: &str) -> bool {
    let policy = state.domain_policy.get();
    policy.refuses(host) || policy.rejects_media(host)
}

fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        _ => String::new(),
    }
}

/// Downloads the file at `url` as a `kind` of media and stores it: every
/// hop held to the domain policy and `net`'s address rules, the body
/// capped by kind, the type read from the bytes; images re-encoded
/// without metadata (with a preview and a blurhash for attachments and
/// cards), video and audio (attachments only) stored as they came. The
/// stored files are the caller's.
pub async fn download(
    state: &AppState,
    url: &str,
    kind: Kind,
) -> std::result::Result<StoredMedia, DownloadError> {
    let mut current = Url::parse(url).map_err(|e| DownloadError::Refused(format!("{url}: {e}")))?;
    // Video may be larger than images: the larger cap holds while reading,
    // and the type's own once it is known.
    let cap = kind
        .max_bytes(state, false)
        .max(kind.max_bytes(state, kind.takes_streams()));
    let timeout = Duration::from_secs(state.config.media.remote_cache.timeout_seconds);
    for _ in 0..=MAX_REDIRECTS {
        let host = host_of(&current);
        if held_back(state, &host) {
            return Err(DownloadError::Refused(format!(
                "{host}: the domain policy holds back its media"
            )));
        }
        let fetched = state
            .http
            .get_media(&current, cap, timeout)
            .await
            .map_err(from_net)?;
        if fetched.status.is_redirection() {
            let location = fetched
                .headers
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or(DownloadError::Status(fetched.status.as_u16()))?;
            current = current
                .join(location)
                .map_err(|e| DownloadError::Refused(format!("{location}: {e}")))?;
            continue;
        }
        if !fetched.status.is_success() {
            return Err(DownloadError::Status(fetched.status.as_u16()));
        }
        return store(state, fetched.body, kind).await;
    }
    Err(DownloadError::TooManyRedirects)
}

/// Types, checks, processes and stores a downloaded body.
async fn store(
    state: &AppState,
    bytes: Bytes,
    kind: Kind,
) -> std::result::Result<StoredMedia, DownloadError> {
    if InputType::detect(&bytes).is_some() {
        let max = kind.max_bytes(state, false);
        if bytes.len() > max {
            return Err(DownloadError::TooLarge(max));
        }
        return store_image(state, bytes, kind).await;
    }
    let Some(stream) = StreamType::detect(&bytes).filter(|_| kind.takes_streams()) else {
        return Err(DownloadError::Unsupported);
    };
    let max = kind.max_bytes(state, true);
    if bytes.len() > max {
        return Err(DownloadError::TooLarge(max));
    }
    let name = rules::new_file_name(stream.extension());
    let file_size = bytes.len() as i64;
    state
        .media
        .put(&name, bytes, stream.content_type())
        .await
        .map_err(|e| DownloadError::Storage(e.to_string()))?;
    Ok(StoredMedia {
        class: match stream.class() {
            StreamClass::Video => MediaClass::Video,
            StreamClass::Audio => MediaClass::Audio,
        },
        file_key: name,
        content_type: stream.content_type(),
        file_size,
        small_key: None,
        small_content_type: None,
        width: None,
        height: None,
        blurhash: None,
    })
}

async fn store_image(
    state: &AppState,
    bytes: Bytes,
    kind: Kind,
) -> std::result::Result<StoredMedia, DownloadError> {
    let permit = state
        .image_work
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| DownloadError::Internal(format!("the image work limit is closed: {e}")))?;
    let processed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        imaging::process(&bytes)
    })
    .await
    .map_err(|e| DownloadError::Internal(format!("image processing stopped: {e}")))?
    .map_err(|e| {
        if e.is_input_error() {
            DownloadError::Image(e.to_string())
        } else {
            DownloadError::Internal(e.to_string())
        }
    })?;
    let original = processed.original;
    let file_key = rules::new_file_name(original.kind.extension());
    let file_size = original.bytes.len() as i64;
    let content_type = original.kind.content_type();
    let (width, height) = (original.width, original.height);
    state
        .media
        .put(&file_key, Bytes::from(original.bytes), content_type)
        .await
        .map_err(|e| DownloadError::Storage(e.to_string()))?;
    let mut stored = StoredMedia {
        class: MediaClass::Image,
        file_key,
        content_type,
        file_size,
        small_key: None,
        small_content_type: None,
        width: Some(width),
        height: Some(height),
        blurhash: None,
    };
    if kind.has_preview() {
        let small_key = rules::new_file_name(processed.small.kind.extension());
        let small_type = processed.small.kind.content_type();
        if let Err(e) = state
            .media
            .put(&small_key, Bytes::from(processed.small.bytes), small_type)
            .await
        {
            crate::service::media::remove_files(state, &stored.names()).await;
            return Err(DownloadError::Storage(e.to_string()));
        }
        stored.small_key = Some(small_key);
        stored.small_content_type = Some(small_type);
        stored.blurhash = Some(processed.blurhash);
    }
    Ok(stored)
}

/// Whether a URL is cached at all: http(s), not too long.
fn cacheable(url: &str) -> bool {
    url.len() <= MAX_URL_LEN && (url.starts_with("https://") || url.starts_with("http://"))
}

/// Queues the media URLs of an account or post of `domain` for download,
/// in the caller's transaction; URLs already known are left as they are.
/// Nothing is queued when caching is off or the domain policy holds back
/// the server's media.
pub async fn queue(
    db: impl PgExecutor<'_>,
    state: &AppState,
    domain: &str,
    urls: &[(&str, Kind)],
) -> Result<()> {
    if !state.config.media.remote_cache.enabled || domain.is_empty() || held_back(state, domain) {
        return Ok(());
    }
    let wanted: Vec<db::remote_media::Wanted<'_>> = urls
        .iter()
        .filter(|(url, _)| cacheable(url))
        .map(|&(url, kind)| db::remote_media::Wanted {
            url,
            kind: kind.as_str(),
            domain,
        })
        .collect();
    db::remote_media::request(db, &wanted, state.clock.now()).await?;
    Ok(())
}

/// Queues a remote account's avatar, header and the images of its
/// profile's custom emoji (`emojis`: shortcode, URL).
pub async fn queue_profile(
    db: impl PgExecutor<'_>,
    state: &AppState,
    actor: &db::actors::Actor,
    emojis: &[(String, String)],
) -> Result<()> {
    let Some(domain) = actor.domain.as_deref() else {
        return Ok(());
    };
    let mut urls = Vec::new();
    if let Some(avatar) = actor.avatar_url.as_deref() {
        urls.push((avatar, Kind::Avatar));
    }
    if let Some(header) = actor.header_url.as_deref() {
        urls.push((header, Kind::Header));
    }
    urls.extend(emojis.iter().map(|(_, url)| (url.as_str(), Kind::Emoji)));
    queue(db, state, domain, &urls).await
}

/// When a transient failure is tried again: after 1 minute, 10 minutes,
/// 1 hour, then 6 hours.
fn backoff(attempts: i32) -> chrono::Duration {
    match attempts {
        ..=1 => chrono::Duration::minutes(1),
        2 => chrono::Duration::minutes(10),
        3 => chrono::Duration::hours(1),
        _ => chrono::Duration::hours(6),
    }
}

/// Claims up to `limit` due downloads for `worker` and does them, up to
/// `media.remote_cache.concurrency` at once; returns how many were
/// claimed.
pub async fn fetch_due(state: &AppState, worker: i32, limit: i64) -> Result<usize> {
    let now = state.clock.now();
    let rows = db::remote_media::claim_due(&state.db, worker, now, now + LEASE, limit).await?;
    let claimed = rows.len();
    let concurrency = state.config.media.remote_cache.concurrency;
    let outcomes: Vec<Result<bool>> = futures::stream::iter(rows)
        .map(|row| async move { settle(state, &row).await })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    for outcome in outcomes {
        if let Err(e) = outcome {
            tracing::warn!(error = %e, "recording a remote media download failed");
        }
    }
    Ok(claimed)
}

/// Downloads one claimed row and records what came of it; true when the
/// files are stored.
async fn settle(state: &AppState, row: &RemoteMedia) -> Result<bool> {
    let kind = Kind::parse(&row.kind).unwrap_or(Kind::Attachment);
    if held_back(state, &row.domain) {
        db::remote_media::record_failed(
            &state.db,
            row.id,
            "the domain policy holds back this server's media",
        )
        .await?;
        return Ok(false);
    }
    match download(state, &row.url, kind).await {
        Ok(stored) => {
            let dimension = |v: Option<u32>| v.and_then(|v| i32::try_from(v).ok());
            let recorded = db::remote_media::record_stored(
                &state.db,
                row.id,
                &db::remote_media::StoredFiles {
                    file_key: &stored.file_key,
                    small_key: stored.small_key.as_deref(),
                    content_type: stored.content_type,
                    small_content_type: stored.small_content_type,
                    file_size: stored.file_size,
                    width: dimension(stored.width),
                    height: dimension(stored.height),
                    blurhash: stored.blurhash.as_deref(),
                },
                state.clock.now(),
            )
            .await;
            match recorded {
                Ok(true) => Ok(true),
                Ok(false) => {
                    // Removed (its server's media rejected) meanwhile.
                    crate::service::media::remove_files(state, &stored.names()).await;
                    Ok(false)
                }
                Err(e) => {
                    crate::service::media::remove_files(state, &stored.names()).await;
                    Err(e.into())
                }
            }
        }
        Err(e) => {
            let error = e.to_string();
            if e.is_transient() && row.attempts < MAX_ATTEMPTS {
                tracing::debug!(url = %row.url, error = %error, "a remote media download failed; tried again later");
                let next = state.clock.now() + backoff(row.attempts);
                db::remote_media::record_retry(&state.db, row.id, &error, next).await?;
            } else {
                tracing::debug!(url = %row.url, error = %error, "a remote media download failed; the remote URL is shown");
                db::remote_media::record_failed(&state.db, row.id, &error).await?;
            }
            Ok(false)
        }
    }
}

/// What a page shows for a remote file.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub url: String,
    pub preview_url: String,
    /// Ours, when the file is an image we processed.
    pub blurhash: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// The cached files of these remote URLs, by URL (one query): stored
/// ones at their storage address, pruned ones at `/media_proxy/TOKEN`.
/// URLs not cached (waiting, failed, unknown) are not in the map; the
/// remote URL is shown for them.
pub async fn shown(state: &AppState, urls: Vec<String>) -> Result<HashMap<String, Shown>> {
    if urls.is_empty() || !state.config.media.remote_cache.enabled {
        return Ok(HashMap::new());
    }
    let rows = db::remote_media::cached_for_urls(&state.db, &urls).await?;
    let policy = state.domain_policy.get();
    Ok(rows
        .into_iter()
        .filter(|row| !policy.rejects_media(&row.domain))
        .map(|row| {
            let shown = match (row.state.as_str(), &row.file_key) {
                ("stored", Some(file)) => Shown {
                    url: media_url(state, file),
                    preview_url: media_url(state, row.small_key.as_deref().unwrap_or(file)),
                    blurhash: row.blurhash.clone(),
                    width: row.width,
                    height: row.height,
                },
                _ => Shown {
                    url: state.urls.media_proxy(&row.token, false),
                    preview_url: state.urls.media_proxy(&row.token, true),
                    blurhash: row.blurhash.clone(),
                    width: row.width,
                    height: row.height,
                },
            };
            (row.url, shown)
        })
        .collect())
}

/// Where `/media_proxy/TOKEN` (or `.../small`) sends a browser: the
/// stored file; for a pruned one, the file downloaded again now (one
/// request downloads, others meanwhile get the remote URL); the remote
/// URL when it is not stored. Not found for a server whose media are held
/// back.
pub async fn proxy(state: &AppState, token: &str, small: bool) -> Result<String> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::NotFound);
    }
    let row = db::remote_media::find_by_token(&state.db, token)
        .await?
        .ok_or(Error::NotFound)?;
    if held_back(state, &row.domain) {
        return Err(Error::NotFound);
    }
    let location = |row: &RemoteMedia| match (&row.file_key, &row.small_key) {
        (Some(_), Some(preview)) if small => media_url(state, preview),
        (Some(file), _) => media_url(state, file),
        _ => row.url.clone(),
    };
    if row.state != "pruned" {
        return Ok(location(&row));
    }
    let now = state.clock.now();
    let Some(claimed) = db::remote_media::claim_pruned(&state.db, token, now, now + LEASE).await?
    else {
        return Ok(row.url);
    };
    settle(state, &claimed).await?;
    let row = db::remote_media::find_by_token(&state.db, token)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(location(&row))
}

/// Serving types of cached files: what `/media/NAME` sends for a cached
/// file (only types Skein wrote or read from bytes).
pub async fn content_type_of_file(state: &AppState, name: &str) -> Result<Option<&'static str>> {
    let stored = db::remote_media::content_type_of_file(&state.db, name).await?;
    Ok(stored.as_deref().and_then(served_type))
}

/// The static type served for a stored content type.
pub fn served_type(content_type: &str) -> Option<&'static str> {
    imaging::OutputType::from_content_type(content_type)
        .map(imaging::OutputType::content_type)
        .or_else(|| StreamType::from_content_type(content_type).map(StreamType::content_type))
}

/// What `prune` removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Cached remote files (with their previews) removed.
    pub media: usize,
    /// Stored files removed (files and previews).
    pub files: usize,
}

/// Removes the cached remote files stored more than `older_than` ago
/// (by the state's clock); local uploads are never touched. Their rows
/// stay, 'pruned': they are shown as `/media_proxy/TOKEN` and downloaded
/// again when asked for.
pub async fn prune(state: &AppState, older_than: chrono::Duration) -> Result<Pruned> {
    let before = state.clock.now() - older_than;
    let mut pruned = Pruned::default();
    loop {
        let batch = db::remote_media::prune_batch(&state.db, before, PRUNE_BATCH).await?;
        if batch.is_empty() {
            return Ok(pruned);
        }
        let names: Vec<String> = batch
            .iter()
            .flat_map(|(file, small)| std::iter::once(file.clone()).chain(small.clone()))
            .collect();
        crate::service::media::remove_files(state, &names).await;
        pruned.media += batch.len();
        pruned.files += names.len();
    }
}

/// The automatic retention (`media.remote_retention_days`), run daily as
/// timed work: `prune` with that age, nothing when it is 0.
pub async fn prune_by_retention(state: &AppState) -> Result<Pruned> {
    match state.config.media.remote_retention_days {
        0 => Ok(Pruned::default()),
        days => prune(state, chrono::Duration::days(i64::from(days))).await,
    }
}

/// Forgets the cached files of `domain` as its media become rejected, in
/// the caller's transaction (`db::remote_media::forget_domain`).
pub async fn forget_domain(
    db: &mut sqlx::PgConnection,
    domain: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    Ok(db::remote_media::forget_domain(db, domain, now).await?)
}

/// An age as the command line takes it: a number and a unit, `d` (days),
/// `h` (hours) or `w` (weeks), e.g. `30d`.
pub fn parse_age(raw: &str) -> std::result::Result<chrono::Duration, String> {
    let raw = raw.trim();
    let split = raw
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{raw}`: give a unit, e.g. 30d"))?;
    let (number, unit) = raw.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("`{raw}` does not start with a number, e.g. 30d"))?;
    match unit {
        "d" => Ok(chrono::Duration::days(number)),
        "h" => Ok(chrono::Duration::hours(number)),
        "w" => Ok(chrono::Duration::weeks(number)),
        _ => Err(format!("`{raw}`: the unit is d, h or w, e.g. 30d")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_have_a_number_and_a_unit() {
        assert_eq!(parse_age("30d"), Ok(chrono::Duration::days(30)));
        assert_eq!(parse_age("12h"), Ok(chrono::Duration::hours(12)));
        assert_eq!(parse_age("2w"), Ok(chrono::Duration::days(14)));
        for bad in ["30", "d", "", "30x", "-3d", "3.5d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kinds_round_trip_and_transient_failures_are_told_apart() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert!(DownloadError::Status(503).is_transient());
        assert!(DownloadError::Status(429).is_transient());
        assert!(!DownloadError::Status(404).is_transient());
        assert!(!DownloadError::TooLarge(10).is_transient());
        assert!(!DownloadError::Refused("x".into()).is_transient());
        assert!(DownloadError::Network("timeout".into()).is_transient());
    }

    #[test]
    fn only_types_skein_writes_or_reads_are_served() {
        assert_eq!(served_type("image/png"), Some("image/png"));
        assert_eq!(served_type("video/mp4"), Some("video/mp4"));
        assert_eq!(served_type("text/html"), None);
    }
}
