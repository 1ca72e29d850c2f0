//! Taking an account's data elsewhere and bringing its lists in, in
//! Mastodon's formats: CSV exports of follows, blocks, mutes and domain
//! blocks, lists.csv and bookmarks.csv, the ActivityStreams archive (one
//! ZIP of actor.json, outbox.json, likes.json, bookmarks.json and the
//! account's media, or each JSON file alone), and imports of the CSV files
//! (merge or overwrite). An import is a job row
//! (`imports`), processed after the upload by [`run_pending`]: the accounts
//! it names are resolved over federation one at a time (each fetch bounded
//! by `net`'s limits), and those that fail are recorded with the reason.

use chrono::Duration;

use crate::db::{self, actors::Actor, imports::Failure, imports::Import};
use crate::domain::portability::{self, Entry, ListKind, Mode};
use crate::error::{Error, Result};
use serde_json::{Value, json};

use crate::service::{blocks, domain_blocks, follows, mutes, posts, remote_actors};
use crate::state::AppState;

/// Mastodon's cap on rows per import file for follows (and the others).
pub const MAX_ROWS: usize = 50_000;
/// A running import older than this was left by a stopped worker.
pub const STALE_AFTER: Duration = Duration::minutes(30);

/// `user@host` of an account, with this instance's host for local ones.
fn address(state: &AppState, actor: &Actor) -> String {
    format!(
        "{}@{}",
        actor.username,
        actor.domain.clone().unwrap_or_else(|| state.urls.domain())
    )
}

/// One of the CSV exports, as Mastodon writes it.
pub async fn export_csv(state: &AppState, actor: &Actor, kind: ListKind) -> Result<String> {
    let mut csv = kind.header().map(portability::row).unwrap_or_default();
    match kind {
        ListKind::Following => {
            for followee in db::follows::followees_with_options(&state.db, actor.id).await? {
                let yes_no = |b: bool| if b { "true" } else { "false" };
                let languages = followee.options.languages.unwrap_or_default().join(",");
                csv.push_str(&portability::row(&[
                    &address(state, &followee.actor),
                    yes_no(followee.options.show_reblogs),
                    yes_no(followee.options.notify),
                    &languages,
                ]));
            }
        }
        ListKind::Blocks => {
            for blocked in db::blocks::blocked_by(&state.db, actor.id).await? {
                csv.push_str(&portability::row(&[&address(state, &blocked)]));
            }
        }
        ListKind::Mutes => {
            for muted in db::mutes::muted_by(&state.db, actor.id).await? {
                let hide = if muted.mute_notifications {
                    "true"
                } else {
                    "false"
                };
                csv.push_str(&portability::row(&[&address(state, &muted.actor), hide]));
            }
        }
        ListKind::DomainBlocks => {
            for domain in db::user_domain_blocks::all(&state.db, actor.id).await? {
                csv.push_str(&portability::row(&[&domain]));
            }
        }
    }
    Ok(csv)
}

/// `bookmarks.csv`: the bookmarked posts' ids, one a line.
pub async fn export_bookmarks_csv(state: &AppState, actor: &Actor) -> Result<String> {
    let ids = db::bookmarks::bookmarked_post_ids(&state.db, actor.id).await?;
    Ok(ids.iter().map(|id| portability::row(&[id])).collect())
}

/// `lists.csv`: one line per list member, `List name,Account address`
/// without a header, as Mastodon writes it (members oldest first).
pub async fn export_lists_csv(state: &AppState, actor: &Actor) -> Result<String> {
    let mut csv = String::new();
    for list in db::lists::all(&state.db, actor.id).await? {
        let mut members = db::lists::members(&state.db, list.id, None).await?;
        members.reverse();
        for member in members {
            csv.push_str(&portability::row(&[
                &list.title,
                &address(state, &member.actor),
            ]));
        }
    }
    Ok(csv)
}

/// A file of Mastodon's ActivityStreams archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFile {
    Actor,
    Outbox,
    Likes,
    Bookmarks,
}

impl ArchiveFile {
    pub fn by_file_name(name: &str) -> Option<ArchiveFile> {
        match name {
            "actor.json" => Some(ArchiveFile::Actor),
            "outbox.json" => Some(ArchiveFile::Outbox),
            "likes.json" => Some(ArchiveFile::Likes),
            "bookmarks.json" => Some(ArchiveFile::Bookmarks),
            _ => None,
        }
    }
}

fn ordered_collection(id: &str, items: Vec<Value>) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id,
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    })
}

/// One file of the archive. The outbox holds the Create (and Announce)
/// activities of every post of the account, followers-only and direct ones
/// too (with their addressing), newest first: it is the owner's copy.
pub async fn export_archive(state: &AppState, actor: &Actor, file: ArchiveFile) -> Result<Value> {
    Ok(match file {
        ArchiveFile::Actor => {
            let mut doc = serde_json::to_value(crate::federation::actor::document(actor)?)
                .map_err(|e| anyhow::anyhow!(e))?;
            // The archive refers to itself, as Mastodon's does.
            doc["outbox"] = json!("outbox.json");
            doc["likes"] = json!("likes.json");
            doc["bookmarks"] = json!("bookmarks.json");
            doc
        }
        ArchiveFile::Outbox => {
            const PAGE: i64 = 200;
            let mut items = Vec::new();
            let mut cursor = None;
            loop {
                let page = db::posts::page_authored(&state.db, actor.id, cursor, PAGE).await?;
                for post in &page {
                    items.push(posts::outbox_item(state, actor, post).await?);
                }
                match page.last() {
                    Some(last) if page.len() as i64 == PAGE => cursor = Some(last.id),
                    _ => break,
                }
            }
            ordered_collection("outbox.json", items)
        }
        ArchiveFile::Likes => {
            let ids = db::likes::liked_post_ids(&state.db, actor.id).await?;
            ordered_collection("likes.json", ids.into_iter().map(Value::from).collect())
        }
        ArchiveFile::Bookmarks => {
            let ids = db::bookmarks::bookmarked_post_ids(&state.db, actor.id).await?;
            ordered_collection("bookmarks.json", ids.into_iter().map(Value::from).collect())
        }
    })
}

/// Chunks of the archive ZIP as it is written, ending early (with an
/// error) if writing fails.
pub type ArchiveChunks = tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>;

/// Bytes of the ZIP sent at a time, and chunks waiting in the channel: the
/// writer waits for a slow reader rather than holding the archive.
const ARCHIVE_CHUNK: usize = 64 * 1024;
const ARCHIVE_CHUNKS_AHEAD: usize = 8;

/// The whole archive as one ZIP, as Mastodon's "Request your archive"
/// gives it: the four JSON files, and the account's uploaded media (post
/// attachments, avatar, header) under `media/`, which the JSON files name
/// by those relative paths. The ZIP is written on a blocking thread while
/// it is read from the returned channel, so that neither its media nor a
/// slow download are held in memory, and the first bytes leave at once.
pub async fn export_archive_zip(state: &AppState, actor: &Actor) -> Result<ArchiveChunks> {
    if !state
        .limits
        .hit(crate::ratelimit::ARCHIVE, &actor.id.to_string())
        .await?
        .allowed
    {
        return Err(Error::TooManyRequests);
    }
    // Files are named by this instance's /media/ addresses, and by the
    // public base URL's for those uploaded while one was set.
    let mut media_prefixes = vec![state.urls.media("")];
    media_prefixes.extend(state.media.public_base().map(str::to_string));
    let mut documents = Vec::new();
    for (name, file) in [
        ("actor.json", ArchiveFile::Actor),
        ("outbox.json", ArchiveFile::Outbox),
        ("likes.json", ArchiveFile::Likes),
        ("bookmarks.json", ArchiveFile::Bookmarks),
    ] {
        let mut doc = export_archive(state, actor, file).await?;
        relative_media(&mut doc, &media_prefixes);
        let text = serde_json::to_string_pretty(&doc).map_err(|e| anyhow::anyhow!(e))?;
        documents.push((name, text));
    }
    let media = db::uploads::files_of_owner(&state.db, actor.id).await?;
    let store = state.media.clone();
    let runtime = tokio::runtime::Handle::current();
    let (tx, rx) = tokio::sync::mpsc::channel(ARCHIVE_CHUNKS_AHEAD);
    let account = actor.ap_id.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            tx: tx.clone(),
            buffer: Vec::with_capacity(ARCHIVE_CHUNK),
        };
        if let Err(e) = write_archive(&mut out, documents, &store, &runtime, media) {
            // The reader sees the error and the download ends broken,
            // never as a ZIP that looks whole.
            tracing::warn!(account = %account, error = %e, "writing an archive");
            let _ = tx.blocking_send(Err(std::io::Error::other("the archive was not finished")));
        }
    });
    Ok(rx)
}

fn write_archive(
    out: &mut ChunkWriter,
    documents: Vec<(&'static str, String)>,
    store: &crate::storage::MediaStore,
    runtime: &tokio::runtime::Handle,
    media: Vec<String>,
) -> anyhow::Result<()> {
    use futures::StreamExt;
    use std::io::Write;
    let mut zip = zip::ZipWriter::new_stream(&mut *out);
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in documents {
        zip.start_file(name, deflated)?;
        zip.write_all(text.as_bytes())?;
    }
    // Images are compressed already: stored as they are.
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    // Each file is read from the store a chunk at a time (this thread
    // waits on the runtime for each), never whole.
    for key in media {
        let mut source = match runtime.block_on(store.get(&key)) {
            Ok(file) => file.body,
            // A file removed since (its row goes with it).
            Err(crate::storage::StoreError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        zip.start_file(format!("media/{key}"), stored)?;
        while let Some(chunk) = runtime.block_on(source.next()) {
            zip.write_all(&chunk?)?;
        }
    }
    zip.finish()?;
    out.flush()?;
    Ok(())
}

/// A `Write` that sends what it is given down a bounded channel, a chunk
/// at a time, waiting while the reader is behind; it fails once the reader
/// is gone (the download was dropped), which stops the writing.
struct ChunkWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(ARCHIVE_CHUNK),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the reader left"))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= ARCHIVE_CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Turns this server's media addresses in `url` and `href` values into the
/// archive's own `media/...` paths (what people wrote is left as it is).
fn relative_media(value: &mut Value, prefixes: &[String]) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match item {
                    Value::String(s) if key == "url" || key == "href" => {
                        if let Some(name) = prefixes.iter().find_map(|p| s.strip_prefix(p.as_str()))
                        {
                            *s = format!("media/{name}");
                        }
                    }
                    _ => relative_media(item, prefixes),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| relative_media(i, prefixes)),
        _ => {}
    }
}

/// Reads an uploaded file and queues its import; the entries are applied
/// by [`run_pending`].
pub async fn start_import(
    state: &AppState,
    actor: &Actor,
    kind: ListKind,
    mode: Mode,
    text: &str,
) -> Result<Import> {
    if !actor.is_local() {
        return Err(Error::Forbidden("only local accounts import here".into()));
    }
    let entries = portability::entries(kind, text).map_err(Error::Validation)?;
    if entries.len() > MAX_ROWS {
        return Err(Error::Validation(format!(
            "an import has at most {MAX_ROWS} lines"
        )));
    }
    if entries.is_empty() && mode == Mode::Merge {
        return Err(Error::Validation("the file lists nothing".into()));
    }
    let import = db::imports::insert(
        &state.db,
        actor.id,
        kind.as_str(),
        mode.as_str(),
        &entries,
        state.clock.now(),
    )
    .await?;
    Ok(import)
}

/// An account's latest imports, for its settings page.
pub async fn recent(state: &AppState, actor: &Actor) -> Result<Vec<Import>> {
    Ok(db::imports::recent(&state.db, actor.id, 10).await?)
}

/// Processes imports until none waits; returns how many were processed.
pub async fn run_pending(state: &AppState) -> Result<usize> {
    let mut done = 0;
    loop {
        let now = state.clock.now();
        let Some(import) = db::imports::claim(&state.db, now, now - STALE_AFTER).await? else {
            return Ok(done);
        };
        let (applied, failures) = match process(state, &import).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!(import = import.id, error = %e, "an import failed");
                (
                    0,
                    vec![Failure {
                        target: String::new(),
                        reason: e.public_message(),
                    }],
                )
            }
        };
        db::imports::finish(&state.db, import.id, applied, &failures, state.clock.now()).await?;
        tracing::info!(
            import = import.id,
            applied,
            failed = failures.len(),
            "import done"
        );
        done += 1;
    }
}

async fn process(state: &AppState, import: &Import) -> Result<(i32, Vec<Failure>)> {
    let actor = db::actors::find_by_id(&state.db, import.actor_id)
        .await?
        .ok_or(Error::NotFound)?;
    let kind = ListKind::parse(&import.kind)
        .ok_or_else(|| anyhow::anyhow!("an import of unknown kind {}", import.kind))?;
    let overwrite = Mode::parse(&import.mode) == Some(Mode::Overwrite);
    let mut applied = 0;
    let mut failures = Vec::new();
    if kind == ListKind::DomainBlocks {
        let wanted: Vec<&str> = import.entries.0.iter().map(|e| e.target.as_str()).collect();
        if overwrite {
            for domain in db::user_domain_blocks::all(&state.db, actor.id).await? {
                if !wanted.contains(&domain.as_str()) {
                    domain_blocks::unblock(state, &actor, &domain).await?;
                }
            }
        }
        for domain in wanted {
            match domain_blocks::block(state, &actor, domain).await {
                Ok(()) => applied += 1,
                Err(e) => failures.push(failure(domain, &e)),
            }
        }
        return Ok((applied, failures));
    }
    // Resolve every account first: an overwrite must not remove what it
    // could not read.
    let mut wanted: Vec<(Actor, &Entry)> = Vec::new();
    for entry in &import.entries.0 {
        match remote_actors::resolve(state, &entry.target).await {
            Ok(target) => wanted.push((target, entry)),
            Err(e) => failures.push(failure(&entry.target, &Error::from(e))),
        }
    }
    if overwrite {
        let keep = |id: i64| wanted.iter().any(|(a, _)| a.id == id);
        let unresolved = |a: &Actor| {
            failures
                .iter()
                .any(|f| f.target.eq_ignore_ascii_case(&address(state, a)))
        };
        match kind {
            ListKind::Following => {
                for old in db::follows::followees(&state.db, actor.id).await? {
                    if !keep(old.id) && !unresolved(&old) {
                        follows::unfollow(state, &actor, &old).await?;
                    }
                }
            }
            ListKind::Blocks => {
                for old in db::blocks::blocked_by(&state.db, actor.id).await? {
                    if !keep(old.id) && !unresolved(&old) {
                        blocks::unblock(state, &actor, &old).await?;
                    }
                }
            }
            ListKind::Mutes => {
                for old in db::mutes::muted_by(&state.db, actor.id).await? {
                    if !keep(old.actor.id) && !unresolved(&old.actor) {
                        mutes::unmute(state, &actor, &old.actor).await?;
                    }
                }
            }
            ListKind::DomainBlocks => {}
        }
    }
    for (target, entry) in &wanted {
        let result = match kind {
            ListKind::Following => match follows::follow(state, &actor, target).await {
                Ok(_) => {
                    let change = follows::OptionsChange {
                        reblogs: Some(entry.show_reblogs),
                        notify: Some(entry.notify),
                        languages: Some(Some(entry.languages.clone()).filter(|l| !l.is_empty())),
                    };
                    follows::set_options(state, &actor, target, &change).await
                }
                Err(e) => Err(e),
            },
            ListKind::Blocks => blocks::block(state, &actor, target).await,
            ListKind::Mutes => {
                mutes::mute(state, &actor, target, entry.hide_notifications, None).await
            }
            ListKind::DomainBlocks => Ok(()),
        };
        match result {
            Ok(()) => applied += 1,
            Err(e) => failures.push(failure(&entry.target, &e)),
        }
    }
    Ok((applied, failures))
}

fn failure(target: &str, e: &Error) -> Failure {
    Failure {
        target: target.to_string(),
        reason: e.public_message(),
    }
}
