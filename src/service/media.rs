//! Local media: uploading images (checked, cleaned and scaled by `imaging`
//! on a blocking thread, stored by `storage::MediaStore`: the media
//! directory or a bucket), alt
//! text and focal points, attaching uploads to posts, serving the files,
//! and removing uploads no post took.
//!
//! An upload is described (Mastodon's `PUT /api/v1/media/:id`) until a post
//! carries it; after that only editing the post changes it. Every upload is
//! an "image" to clients, animated GIFs included: Skein does not make MP4s
//! of them as Mastodon does for its "gifv".

use bytes::Bytes;
use futures::stream::BoxStream;
use sqlx::PgConnection;

use crate::db::{self, actors::Actor, uploads::Upload};
use crate::domain::media::{self as rules, Focus};
use crate::error::{Error, Result};
use crate::imaging::{self, OutputType};
use crate::state::AppState;

/// How long an upload waits for a post before it is removed.
pub const UNATTACHED_LIFETIME: chrono::Duration = chrono::Duration::days(1);

/// An upload as clients see it: what the API layer needs for Mastodon's
/// MediaAttachment entity (`meta.focus` is `focus`).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaAttachment {
    pub id: i64,
    /// Always "image" (see the module's documentation).
    pub kind: &'static str,
    /// The stored image.
    pub url: String,
    /// The preview.
    pub preview_url: String,
    /// The type of the stored image: image/jpeg, image/png or image/gif.
    pub content_type: String,
    /// Alt text; None when there is none.
    pub description: Option<String>,
    pub blurhash: Option<String>,
    /// Sizes of the stored image and its preview.
    pub meta: db::uploads::Meta,
    pub focus: Option<Focus>,
    /// The post carrying it, once there is one.
    pub post_id: Option<i64>,
}

/// New alt text or focal point for one of a post's media when it is written
/// or edited (Mastodon's `media_attributes[]`). None leaves a value as it is.
#[derive(Debug, Clone, Copy)]
pub struct MediaAttributes<'a> {
    pub id: i64,
    pub description: Option<&'a str>,
    /// `"x,y"`, each from -1 to 1.
    pub focus: Option<&'a str>,
}

/// A stored file being read, and how to serve it.
pub struct MediaFile {
    pub body: BoxStream<'static, std::io::Result<Bytes>>,
    /// One of the types Skein writes; nothing else is served.
    pub content_type: &'static str,
    pub length: u64,
}

/// Where a stored file is shown: the public base URL (a CDN) when one is
/// set, else this instance's `/media/NAME`.
pub fn media_url(state: &AppState, name: &str) -> String {
    state
        .media
        .public_url(name)
        .unwrap_or_else(|| state.urls.media(name))
}

pub(crate) fn attachment_entity(state: &AppState, upload: &Upload) -> MediaAttachment {
    MediaAttachment {
        id: upload.id,
        kind: "image",
        url: media_url(state, &upload.file_key),
        preview_url: media_url(state, &upload.small_key),
        content_type: upload.content_type.clone(),
        description: Some(upload.description.clone()).filter(|d| !d.is_empty()),
        blurhash: upload.blurhash.clone(),
        meta: upload.meta.0.clone(),
        focus: focus_of(upload),
        post_id: upload.post_id,
    }
}

fn focus_of(upload: &Upload) -> Option<Focus> {
    Some(Focus {
        x: upload.focal_x?,
        y: upload.focal_y?,
    })
}

fn checked_description(raw: Option<&str>) -> Result<Option<String>> {
    raw.map(rules::description)
        .transpose()
        .map_err(Error::Validation)
}

fn checked_focus(raw: Option<&str>) -> Result<Option<Focus>> {
    raw.map(Focus::parse).transpose().map_err(Error::Validation)
}

fn only_local(owner: &Actor) -> Result<()> {
    if owner.is_local() {
        Ok(())
    } else {
        Err(Error::Forbidden("only local accounts upload here".into()))
    }
}

/// Stores an uploaded image for `owner` (Mastodon's `POST /api/v2/media`).
/// Its type is read from its bytes, whatever it was called; it is re-encoded
/// without metadata, turned upright, scaled down when larger than
/// 3840x2160, and given a preview and a blurhash.
pub async fn upload(
    state: &AppState,
    owner: &Actor,
    bytes: Bytes,
    description: Option<&str>,
    focus: Option<&str>,
) -> Result<MediaAttachment> {
    only_local(owner)?;
    let description = checked_description(description)?.unwrap_or_default();
    let focus = checked_focus(focus)?;
    let max = state.config.media.max_image_bytes;
    if bytes.is_empty() {
        return Err(Error::Validation("the file is empty".into()));
    }
    if bytes.len() > max {
        return Err(Error::Validation(format!(
            "the file is {} bytes; images of at most {max} bytes are accepted",
            bytes.len()
        )));
    }
    if imaging::InputType::detect(&bytes).is_none() {
        return Err(Error::Validation(
            imaging::ImageError::UnknownType.to_string(),
        ));
    }
    let permit = state
        .image_work
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| anyhow::anyhow!("the image work limit is closed: {e}"))?;
    // The permit goes with the work: a request given up meanwhile does not
    // free it before the work is done.
    let processed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        imaging::process(&bytes)
    })
    .await
    .map_err(|e| anyhow::anyhow!("image processing stopped: {e}"))?
    .map_err(|e| {
        if e.is_input_error() {
            Error::Validation(e.to_string())
        } else {
            Error::Internal(anyhow::anyhow!(e))
        }
    })?;

    let meta = db::uploads::Meta {
        original: db::uploads::Dimensions::new(processed.original.width, processed.original.height),
        small: db::uploads::Dimensions::new(processed.small.width, processed.small.height),
    };
    let size = |bytes: &[u8]| i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    let (file_size, small_size) = (
        size(&processed.original.bytes),
        size(&processed.small.bytes),
    );
    let (content_type, small_content_type) = (
        processed.original.kind.content_type(),
        processed.small.kind.content_type(),
    );
    // The files are stored before the row that names them: a store that
    // fails leaves no row, and a row never names a file that is not there.
    let file_key = rules::new_file_name(processed.original.kind.extension());
    let small_key = rules::new_file_name(processed.small.kind.extension());
    state
        .media
        .put(
            &file_key,
            Bytes::from(processed.original.bytes),
            content_type,
        )
        .await?;
    if let Err(e) = state
        .media
        .put(
            &small_key,
            Bytes::from(processed.small.bytes),
            small_content_type,
        )
        .await
    {
        remove_files(state, &[file_key]).await;
        return Err(e.into());
    }
    let inserted = db::uploads::insert(
        &state.db,
        &db::uploads::NewUpload {
            owner_id: owner.id,
            file_key: &file_key,
            small_key: &small_key,
            content_type,
            small_content_type,
            file_size,
            small_size,
            meta: &meta,
            description: &description,
            focus: focus.map(|f| (f.x, f.y)),
            blurhash: &processed.blurhash,
            created_at: state.clock.now(),
        },
    )
    .await;
    match inserted {
        Ok(upload) => Ok(attachment_entity(state, &upload)),
        Err(e) => {
            remove_files(state, &[file_key, small_key]).await;
            Err(e.into())
        }
    }
}

/// One of `owner`'s uploads (Mastodon's `GET /api/v1/media/:id`); another
/// account's is not found.
pub async fn find(state: &AppState, owner: &Actor, id: i64) -> Result<MediaAttachment> {
    let upload = db::uploads::find_owned(&state.db, owner.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(attachment_entity(state, &upload))
}

/// Sets alt text and focal point of one of `owner`'s uploads (Mastodon's
/// `PUT /api/v1/media/:id`); None leaves a value as it is. Like Mastodon,
/// only until a post carries it: then it is not found, and the post's edit
/// changes it.
pub async fn update(
    state: &AppState,
    owner: &Actor,
    id: i64,
    description: Option<&str>,
    focus: Option<&str>,
) -> Result<MediaAttachment> {
    let description = checked_description(description)?;
    let focus = checked_focus(focus)?;
    let current = db::uploads::find_owned(&state.db, owner.id, id)
        .await?
        .filter(|u| u.post_id.is_none())
        .ok_or(Error::NotFound)?;
    let description = description.unwrap_or(current.description);
    let focus = focus.or_else(|| {
        Some(Focus {
            x: current.focal_x?,
            y: current.focal_y?,
        })
    });
    let updated = db::uploads::describe(
        &state.db,
        owner.id,
        id,
        &description,
        focus.map(|f| (f.x, f.y)),
        true,
    )
    .await?
    .ok_or(Error::NotFound)?;
    Ok(attachment_entity(state, &updated))
}

impl std::fmt::Debug for MediaFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaFile")
            .field("content_type", &self.content_type)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

/// How a stored file is served: Skein sends it, or sends the browser to
/// the bucket or its CDN.
#[derive(Debug)]
pub enum Served {
    File(MediaFile),
    /// The address, and how long a browser may keep the redirect.
    Redirect {
        url: String,
        max_age: u64,
    },
}

/// Opens a stored file by its name for serving. Only names Skein makes, of
/// files with a row (an upload, or a cached remote file), are looked up,
/// and only with the type Skein wrote or read from the bytes.
pub async fn open(state: &AppState, name: &str) -> Result<Served> {
    if !rules::is_file_name(name) {
        return Err(Error::NotFound);
    }
    let upload = db::uploads::content_type_of_file(&state.db, name)
        .await?
        .as_deref()
        .and_then(OutputType::from_content_type)
        .map(OutputType::content_type);
    // Not an upload: a cached remote file (`service::remote_media`).
    let content_type = match upload {
        Some(content_type) => content_type,
        None => crate::service::remote_media::content_type_of_file(state, name)
            .await?
            .ok_or(Error::NotFound)?,
    };
    if let Some((url, max_age)) = state.media.redirect(name).await? {
        return Ok(Served::Redirect { url, max_age });
    }
    let file = state.media.get(name).await?;
    Ok(Served::File(MediaFile {
        body: file.body,
        content_type,
        length: file.length,
    }))
}

/// Deletes one of `owner`'s uploads (Mastodon's `DELETE /api/v1/media/:id`):
/// only one no post carries and no scheduled post holds, as Mastodon
/// refuses to delete media in use.
pub async fn discard(state: &AppState, owner: &Actor, id: i64) -> Result<()> {
    let upload = db::uploads::find_owned(&state.db, owner.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let in_use = || Error::Validation("Media attachment is currently used by a status".into());
    if upload.post_id.is_some() || upload.scheduled_status_id.is_some() {
        return Err(in_use());
    }
    let names = db::uploads::delete_discardable(&state.db, owner.id, id)
        .await?
        .ok_or_else(in_use)?;
    remove_files(state, &names).await;
    Ok(())
}

/// Removes uploads that no post took within `UNATTACHED_LIFETIME` of their
/// upload, by the state's clock; returns how many.
pub async fn remove_stale(state: &AppState) -> Result<usize> {
    let before = state.clock.now() - UNATTACHED_LIFETIME;
    let names = db::uploads::delete_unattached_before(&state.db, before).await?;
    remove_files(state, &names).await;
    Ok(names.len() / 2)
}

/// Removes stored files whose rows are gone. A file already missing is no
/// error; one that cannot be removed (the bucket is down) is logged and
/// remembered in `media_deletions`, for `retry_removals` (the hourly
/// cleanup) to try again. It is no longer served meanwhile: serving needs
/// the row.
pub(crate) async fn remove_files(state: &AppState, names: &[String]) {
    let mut failed = Vec::new();
    for name in names.iter().filter(|n| rules::is_file_name(n)) {
        if let Err(e) = state.media.delete(name).await {
            tracing::warn!(file = %name, error = %e, "removing a media file failed; it is tried again later");
            failed.push(name.clone());
        }
    }
    if failed.is_empty() {
        return;
    }
    if let Err(e) =
        db::uploads::remember_failed_removals(&state.db, &failed, state.clock.now()).await
    {
        tracing::warn!(files = ?failed, error = %e, "remembering media files to remove failed; they stay in storage");
    }
}

/// Files whose removal is retried at once, at most, by `retry_removals`.
const REMOVALS_PER_RUN: i64 = 1000;

/// Tries again to remove stored files whose removal failed (see
/// `remove_files`); returns how many are now gone. Those that fail again
/// wait for the next run.
pub async fn retry_removals(state: &AppState) -> Result<usize> {
    let names = db::uploads::failed_removals(&state.db, REMOVALS_PER_RUN).await?;
    let mut removed = Vec::new();
    let mut failed = Vec::new();
    for name in names {
        match state.media.delete(&name).await {
            Ok(()) => removed.push(name),
            Err(e) => {
                tracing::warn!(file = %name, error = %e, "removing a media file failed again");
                failed.push(name);
            }
        }
    }
    db::uploads::forget_removals(&state.db, &removed).await?;
    if !failed.is_empty() {
        db::uploads::remember_failed_removals(&state.db, &failed, state.clock.now()).await?;
    }
    Ok(removed.len())
}

/// The media a post is written or edited with, checked: at most four, each
/// the author's own and carried by no other post; alt text and focal points
/// from `attributes` applied. `post_id` is the post being edited;
/// `scheduled` the scheduled status being published, whose uploads it may
/// take (those of other scheduled statuses are refused).
pub(crate) async fn check_for_post(
    state: &AppState,
    author: &Actor,
    ids: &[i64],
    attributes: &[MediaAttributes<'_>],
    post_id: Option<i64>,
    scheduled: Option<i64>,
) -> Result<Vec<Upload>> {
    if ids.len() > rules::MAX_PER_POST {
        return Err(Error::Validation(format!(
            "a post has at most {} media",
            rules::MAX_PER_POST
        )));
    }
    for (n, id) in ids.iter().enumerate() {
        if ids[..n].contains(id) {
            return Err(Error::Validation(format!("media {id} is listed twice")));
        }
    }
    let mut found = db::uploads::find_many_owned(&state.db, author.id, ids).await?;
    let mut uploads = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(at) = found.iter().position(|u| u.id == *id) else {
            return Err(Error::Validation(format!("media {id} is not one of yours")));
        };
        let upload = found.swap_remove(at);
        if (upload.post_id.is_some() && upload.post_id != post_id)
            || (upload.scheduled_status_id.is_some() && upload.scheduled_status_id != scheduled)
        {
            return Err(Error::Validation(format!(
                "media {id} is already attached to another post"
            )));
        }
        uploads.push(upload);
    }
    for attribute in attributes {
        let Some(upload) = uploads.iter_mut().find(|u| u.id == attribute.id) else {
            return Err(Error::Validation(format!(
                "media {} is not among the post's media",
                attribute.id
            )));
        };
        if let Some(description) = checked_description(attribute.description)? {
            upload.description = description;
        }
        if let Some(focus) = checked_focus(attribute.focus)? {
            upload.focal_x = Some(focus.x);
            upload.focal_y = Some(focus.y);
        }
    }
    Ok(uploads)
}

/// Makes `uploads` (from `check_for_post`) the media of a post, in order, in
/// the caller's transaction: their alt text and focal points are saved, new
/// ones attached, ones the post no longer carries deleted, and the post's
/// attachments rewritten. Returns the files to remove once the transaction
/// has committed.
pub(crate) async fn set_for_post(
    tx: &mut PgConnection,
    state: &AppState,
    author: &Actor,
    post_id: i64,
    uploads: &[Upload],
) -> Result<Vec<String>> {
    let ids: Vec<i64> = uploads.iter().map(|u| u.id).collect();
    let removed = db::uploads::delete_of_post(&mut *tx, post_id, &ids).await?;
    for upload in uploads {
        db::uploads::describe(
            &mut *tx,
            author.id,
            upload.id,
            &upload.description,
            focus_of(upload).map(|f| (f.x, f.y)),
            false,
        )
        .await?;
    }
    let new: Vec<i64> = uploads
        .iter()
        .filter(|u| u.post_id.is_none())
        .map(|u| u.id)
        .collect();
    if db::uploads::attach(&mut *tx, author.id, post_id, &new).await? != new.len() as u64 {
        // Attached to another post, or removed, since they were checked.
        return Err(Error::Validation(
            "some media were attached to another post meanwhile".into(),
        ));
    }
    let attachments: Vec<(i64, db::media::Attachment)> = uploads
        .iter()
        .map(|u| (u.id, attachment_row(state, u)))
        .collect();
    db::media::set_local_attachments(tx, post_id, &attachments).await?;
    Ok(removed)
}

/// Deletes the media of a deleted post in the caller's transaction; returns
/// the files to remove once it has committed.
pub(crate) async fn delete_for_post(tx: &mut PgConnection, post_id: i64) -> Result<Vec<String>> {
    let removed = db::uploads::delete_of_post(&mut *tx, post_id, &[]).await?;
    db::media::delete_attachments(&mut *tx, post_id).await?;
    Ok(removed)
}

/// How an upload appears among a post's attachments (and so in its Note).
fn attachment_row(state: &AppState, upload: &Upload) -> db::media::Attachment {
    let focus = focus_of(upload);
    let dimension = |v: u32| i32::try_from(v).ok();
    db::media::Attachment {
        kind: "image".into(),
        url: media_url(state, &upload.file_key),
        media_type: Some(upload.content_type.clone()),
        description: upload.description.clone(),
        blurhash: upload.blurhash.clone(),
        focal_x: focus.map(|f| f.x),
        focal_y: focus.map(|f| f.y),
        width: dimension(upload.meta.original.width),
        height: dimension(upload.meta.original.height),
    }
}
