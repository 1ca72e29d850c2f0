//! Local media: uploading images (checked, cleaned and scaled by `imaging`
//! on a blocking thread, stored by `storage::MediaStore`: the media
//! directory or a bucket), video and audio (probed with ffprobe when
//! uploaded, transcoded by `transcode` in the background: the
//! `media_jobs` queue, claimed by the worker processes' `jobs::media`),
//! alt text and focal points, attaching uploads to posts, serving the
//! files, and removing uploads no post took.
//!
//! An upload is described (Mastodon's `PUT /api/v1/media/:id`) until a post
//! carries it; after that only editing the post changes it. Images are
//! ready at once; video and audio are `processing` until a worker has
//! transcoded them (Mastodon's 202 and 206), and only ready uploads go on
//! posts. Animated GIFs stay images: Skein does not make MP4s of them as
//! Mastodon does for its "gifv".

use bytes::Bytes;
use futures::stream::BoxStream;
use sqlx::PgConnection;

use crate::db::{self, actors::Actor, uploads::Upload};
use crate::domain::media::{self as rules, Focus, UploadKind, UploadState};
use crate::error::{Error, Result};
use crate::imaging::{self, OutputType};
use crate::state::AppState;
use crate::transcode::{self, Kind, TranscodeError};

/// How long an upload waits for a post before it is removed.
pub const UNATTACHED_LIFETIME: chrono::Duration = chrono::Duration::days(1);

/// An upload as clients see it: what the API layer needs for Mastodon's
/// MediaAttachment entity (`meta.focus` is `focus`).
#[derive(Debug, Clone, PartialEq)]
pub struct MediaAttachment {
    pub id: i64,
    /// image, video or audio.
    pub kind: &'static str,
    /// The stored file (while `state` is processing, the name it will
    /// have: nothing is there yet).
    pub url: String,
    /// The preview (of video, the poster frame; of audio, the waveform).
    pub preview_url: String,
    /// The type of the stored file: image/jpeg, image/png, image/gif,
    /// video/mp4 or audio/mpeg.
    pub content_type: String,
    /// Video and audio are processing until transcoded.
    pub state: UploadState,
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
        kind: upload.kind.as_str(),
        url: media_url(state, &upload.file_key),
        preview_url: media_url(state, &upload.small_key),
        content_type: upload.content_type.clone(),
        state: upload.state,
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

/// Stores an upload of `owner` (Mastodon's `POST /api/v2/media`). Its type
/// is read from its bytes, whatever it was called. An image is re-encoded
/// without metadata, turned upright, scaled down when larger than
/// 3840x2160, and given a preview and a blurhash, at once. Video and audio
/// are probed (type, length, size and frame rate against the limits) and
/// queued for transcoding: the upload comes back `processing`.
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
    if imaging::InputType::detect(&bytes).is_none() {
        return upload_playable(state, owner, bytes, &description, focus).await;
    }
    if bytes.len() > max {
        return Err(Error::Validation(format!(
            "the file is {} bytes; images of at most {max} bytes are accepted",
            bytes.len()
        )));
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
        playback: None,
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
            blurhash: Some(&processed.blurhash),
            created_at: state.clock.now(),
            kind: UploadKind::Image,
            state: UploadState::Ready,
            source_key: None,
            duration: None,
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

/// The tools and limits of `transcode`, from the configuration.
fn tools(state: &AppState) -> transcode::Tools {
    let media = &state.config.media;
    transcode::Tools {
        ffmpeg: media.ffmpeg.clone(),
        ffprobe: media.ffprobe.clone(),
        timeout: std::time::Duration::from_secs(media.transcode_timeout_seconds),
    }
}

/// A temporary directory for ffmpeg's files, under `data_dir/tmp`; removed
/// when dropped.
fn work_dir(state: &AppState) -> Result<tempfile::TempDir> {
    let parent = state.config.data_dir.join("tmp");
    std::fs::create_dir_all(&parent)
        .and_then(|()| {
            tempfile::Builder::new()
                .prefix("media-")
                .tempdir_in(&parent)
        })
        .map_err(|e| Error::Internal(anyhow::anyhow!("making a directory for ffmpeg: {e}")))
}

/// What a failed probe or transcoding tells the uploader.
fn upload_error(e: TranscodeError) -> Error {
    match e {
        TranscodeError::Missing => Error::Validation(e.to_string()),
        TranscodeError::Unsupported | TranscodeError::Failed(_) => Error::Validation(
            "the file is not an image, video or audio Skein reads (JPEG, PNG, GIF and WebP \
             images; MP4, WebM and MOV video; MP3, Ogg, WAV and M4A audio)"
                .into(),
        ),
        TranscodeError::TimedOut(_) => {
            Error::Validation("the file could not be read in time".into())
        }
        TranscodeError::Io(e) => Error::Internal(anyhow::anyhow!("running ffprobe: {e}")),
    }
}

/// Video and audio: checked against the size limit, probed, and stored as
/// uploaded under a name of its own, with the upload row (`processing`)
/// and its transcoding job in one transaction.
async fn upload_playable(
    state: &AppState,
    owner: &Actor,
    bytes: Bytes,
    description: &str,
    focus: Option<Focus>,
) -> Result<MediaAttachment> {
    let max = state.config.media.max_video_bytes;
    if bytes.len() > max {
        return Err(Error::Validation(format!(
            "the file is {} bytes; video and audio of at most {max} bytes are accepted",
            bytes.len()
        )));
    }
    let dir = work_dir(state)?;
    let input = dir.path().join("upload");
    tokio::fs::write(&input, &bytes)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("writing an upload for ffprobe: {e}")))?;
    let probe = transcode::probe(&tools(state), &input)
        .await
        .map_err(upload_error)?;
    drop(dir);
    let media = &state.config.media;
    transcode::check_limits(
        &probe,
        &transcode::Limits {
            max_duration_seconds: media.max_duration_seconds,
            max_frame_rate: media.max_frame_rate,
            max_pixels: media.max_video_pixels,
        },
    )
    .map_err(Error::Validation)?;

    let source_key = rules::new_file_name("src");
    state
        .media
        .put(&source_key, bytes, "application/octet-stream")
        .await?;
    let kind = probe.kind;
    let dimensions =
        db::uploads::Dimensions::new(probe.width.unwrap_or(0), probe.height.unwrap_or(0));
    let meta = db::uploads::Meta {
        original: dimensions.clone(),
        small: dimensions,
        playback: Some(db::uploads::Playback {
            duration: probe.duration,
            frame_rate: probe.frame_rate_text(),
            bitrate: probe.bitrate,
        }),
    };
    // The names the transcoded file and its preview will have; nothing is
    // stored under them (nor served) until the upload is ready.
    let file_key = rules::new_file_name(kind.extension());
    let small_key = rules::new_file_name("jpg");
    let now = state.clock.now();
    let inserted: Result<Upload> = async {
        let mut tx = state.db.begin().await?;
        let upload = db::uploads::insert(
            &mut *tx,
            &db::uploads::NewUpload {
                owner_id: owner.id,
                file_key: &file_key,
                small_key: &small_key,
                content_type: kind.content_type(),
                small_content_type: "image/jpeg",
                file_size: 0,
                small_size: 0,
                meta: &meta,
                description,
                focus: focus.map(|f| (f.x, f.y)),
                blurhash: None,
                created_at: now,
                kind: match kind {
                    Kind::Video => UploadKind::Video,
                    Kind::Audio => UploadKind::Audio,
                },
                state: UploadState::Processing,
                source_key: Some(&source_key),
                duration: Some(probe.duration as f32),
            },
        )
        .await?;
        db::uploads::queue_job(&mut *tx, upload.id, kind, probe.format, now).await?;
        tx.commit().await?;
        Ok(upload)
    }
    .await;
    match inserted {
        Ok(upload) => Ok(attachment_entity(state, &upload)),
        Err(e) => {
            remove_files(state, &[source_key]).await;
            Err(e)
        }
    }
}

/// How long a claimed transcoding job is held before another process may
/// take it (a live process's claim; a dead one's is taken at once).
fn job_lease(state: &AppState) -> chrono::Duration {
    chrono::Duration::seconds(state.config.media.transcode_timeout_seconds as i64 + 300)
}

/// A job that failed for a reason not the file's is tried this many times.
const MAX_JOB_ATTEMPTS: i32 = 5;

/// Transcodes the video and audio waiting, one after the other, as
/// `worker`; returns how many were done (ready or failed). The worker
/// processes run it every few seconds (`jobs::media`); tests call it.
pub async fn process_pending(state: &AppState, worker: i32) -> Result<usize> {
    let mut done = 0;
    while process_one(state, worker, None).await? {
        done += 1;
    }
    Ok(done)
}

/// Claims one due job (or the job of the upload `only`) and runs it; false
/// when there was none to claim.
async fn process_one(state: &AppState, worker: i32, only: Option<i64>) -> Result<bool> {
    let now = state.clock.now();
    let Some(job) =
        db::uploads::claim_job(&state.db, worker, only, now, now + job_lease(state)).await?
    else {
        return Ok(false);
    };
    if let Err(e) = run_job(state, &job).await {
        if job.attempts >= MAX_JOB_ATTEMPTS {
            tracing::error!(upload = job.upload_id, error = %e, "transcoding failed for good");
            fail_job(state, job.upload_id).await?;
        } else {
            let backoff = chrono::Duration::minutes(1 << job.attempts.clamp(0, 10));
            tracing::warn!(upload = job.upload_id, error = %e, "transcoding failed; it is tried again later");
            db::uploads::retry_job(&state.db, job.upload_id, state.clock.now() + backoff).await?;
        }
    }
    Ok(true)
}

/// Marks an upload failed and removes its files.
async fn fail_job(state: &AppState, upload_id: i64) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let names = db::uploads::fail_processing(&mut tx, upload_id).await?;
    tx.commit().await?;
    remove_files(state, &names).await;
    Ok(())
}

/// Runs one claimed job. A file ffmpeg cannot read, or that takes too long,
/// fails the upload (Ok); what is not the file's fault (storage down,
/// ffmpeg missing on this machine) is an Err, to be tried again.
async fn run_job(state: &AppState, job: &db::uploads::MediaJob) -> Result<()> {
    let Some(upload) = db::uploads::find(&state.db, job.upload_id).await? else {
        return Ok(());
    };
    let kind = job.kind;
    let Some(source_key) = upload.source_key.clone() else {
        return fail_job(state, upload.id).await;
    };
    let dir = work_dir(state)?;
    let input = dir.path().join("upload");
    let mut source = state.media.get(&source_key).await?;
    {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let mut file = tokio::fs::File::create(&input)
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("writing an upload for ffmpeg: {e}")))?;
        while let Some(chunk) = source.body.next().await {
            let chunk =
                chunk.map_err(|e| Error::Internal(anyhow::anyhow!("reading an upload: {e}")))?;
            file.write_all(&chunk).await.map_err(|e| {
                Error::Internal(anyhow::anyhow!("writing an upload for ffmpeg: {e}"))
            })?;
        }
        file.flush()
            .await
            .map_err(|e| Error::Internal(anyhow::anyhow!("writing an upload for ffmpeg: {e}")))?;
    }
    let tools = tools(state);
    let made = match transcode::transcode(&tools, kind, &job.input_format, &input, dir.path()).await
    {
        Ok(made) => made,
        Err(e) if e.is_input_error() => {
            tracing::info!(upload = upload.id, error = %e, "an upload could not be transcoded");
            return fail_job(state, upload.id).await;
        }
        Err(e) => return Err(Error::Internal(anyhow::anyhow!(e))),
    };
    let probe = match transcode::probe(&tools, &made.file).await {
        Ok(probe) => probe,
        Err(e) if e.is_input_error() => {
            tracing::info!(upload = upload.id, error = %e, "a transcoded file could not be read");
            return fail_job(state, upload.id).await;
        }
        Err(e) => return Err(Error::Internal(anyhow::anyhow!(e))),
    };
    // ffmpeg may succeed and write nothing (an input without frames): the
    // file's fault too.
    let (file, poster) = match (
        tokio::fs::read(&made.file).await,
        tokio::fs::read(&made.preview).await,
    ) {
        (Ok(file), Ok(poster)) if !file.is_empty() && !poster.is_empty() => (file, poster),
        _ => {
            tracing::info!(upload = upload.id, "transcoding an upload made no file");
            return fail_job(state, upload.id).await;
        }
    };
    drop(dir);
    let permit = state
        .image_work
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| anyhow::anyhow!("the image work limit is closed: {e}"))?;
    let preview = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        imaging::process(&poster)
    })
    .await
    .map_err(|e| anyhow::anyhow!("image processing stopped: {e}"))?;
    let preview = match preview {
        Ok(preview) => preview,
        Err(e) => {
            tracing::info!(upload = upload.id, error = %e, "the preview of an upload could not be made");
            return fail_job(state, upload.id).await;
        }
    };
    let small = preview.small;
    let original = match kind {
        Kind::Video => {
            db::uploads::Dimensions::new(probe.width.unwrap_or(0), probe.height.unwrap_or(0))
        }
        Kind::Audio => db::uploads::Dimensions::new(0, 0),
    };
    let meta = db::uploads::Meta {
        original,
        small: db::uploads::Dimensions::new(small.width, small.height),
        playback: Some(db::uploads::Playback {
            duration: probe.duration,
            frame_rate: probe.frame_rate_text(),
            bitrate: probe.bitrate,
        }),
    };
    let size = |bytes: &[u8]| i32::try_from(bytes.len()).unwrap_or(i32::MAX);
    let (file_size, small_size) = (size(&file), size(&small.bytes));
    let small_key = rules::new_file_name(small.kind.extension());
    let small_type = small.kind.content_type();
    state
        .media
        .put(&upload.file_key, Bytes::from(file), kind.content_type())
        .await?;
    if let Err(e) = state
        .media
        .put(&small_key, Bytes::from(small.bytes), small_type)
        .await
    {
        remove_files(state, std::slice::from_ref(&upload.file_key)).await;
        return Err(e.into());
    }
    let finished: Result<Option<Option<String>>> = async {
        let mut tx = state.db.begin().await?;
        let source = db::uploads::finish_processing(
            &mut tx,
            upload.id,
            &db::uploads::Processed {
                small_key: &small_key,
                small_content_type: small_type,
                file_size,
                small_size,
                meta: &meta,
                blurhash: Some(&preview.blurhash),
                duration: probe.duration as f32,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(source)
    }
    .await;
    match finished {
        Ok(Some(source)) => {
            remove_files(state, &source.into_iter().collect::<Vec<_>>()).await;
            Ok(())
        }
        // Removed (or failed) meanwhile: what was made goes too.
        Ok(None) => {
            remove_files(state, &[upload.file_key.clone(), small_key]).await;
            Ok(())
        }
        Err(e) => {
            remove_files(state, &[upload.file_key.clone(), small_key]).await;
            Err(e)
        }
    }
}

/// Waits until one of `owner`'s uploads is processed, transcoding it in
/// this process unless a worker already is (the web composer, which writes
/// the post in the same request); the upload as it ends up.
pub async fn wait_until_processed(
    state: &AppState,
    owner: &Actor,
    id: i64,
) -> Result<MediaAttachment> {
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_secs(state.config.media.transcode_timeout_seconds + 30);
    loop {
        let found = find(state, owner, id).await?;
        if found.state != UploadState::Processing {
            return Ok(found);
        }
        let ran = match state.worker_id {
            Some(worker) => process_one(state, worker, Some(id)).await?,
            None => false,
        };
        if !ran {
            if tokio::time::Instant::now() > deadline {
                return Ok(found);
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
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
        .and_then(served_type);
    // Not an upload: a custom emoji's image, or a cached remote file
    // (`service::remote_media`).
    let content_type = match upload {
        Some(content_type) => content_type,
        None => match db::custom_emojis::content_type_of_file(&state.db, name)
            .await?
            .as_deref()
            .and_then(served_type)
        {
            Some(content_type) => content_type,
            None => crate::service::remote_media::content_type_of_file(state, name)
                .await?
                .ok_or(Error::NotFound)?,
        },
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

/// The type a stored file is served as, when it is one Skein writes.
fn served_type(content_type: &str) -> Option<&'static str> {
    OutputType::from_content_type(content_type)
        .map(OutputType::content_type)
        .or_else(|| {
            [Kind::Video, Kind::Audio]
                .into_iter()
                .map(Kind::content_type)
                .find(|t| *t == content_type)
        })
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
        match upload.state {
            UploadState::Processing => {
                return Err(Error::Validation(format!(
                    "media {id} has not finished processing; try again in a moment"
                )));
            }
            UploadState::Failed => {
                return Err(Error::Validation(format!(
                    "media {id} could not be processed"
                )));
            }
            UploadState::Ready => {}
        }
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
    let dimension = |v: u32| i32::try_from(v).ok().filter(|v| *v > 0);
    let playable = upload.kind != UploadKind::Image;
    db::media::Attachment {
        kind: upload.kind.as_str().to_string(),
        url: media_url(state, &upload.file_key),
        media_type: Some(upload.content_type.clone()),
        description: upload.description.clone(),
        blurhash: upload.blurhash.clone(),
        focal_x: focus.map(|f| f.x),
        focal_y: focus.map(|f| f.y),
        width: dimension(upload.meta.original.width),
        height: dimension(upload.meta.original.height),
        preview_url: playable.then(|| media_url(state, &upload.small_key)),
        duration: upload.duration.filter(|_| playable),
    }
}
