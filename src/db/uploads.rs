//! The `uploads` table: images, video and audio local accounts uploaded,
//! their files and whether a post carries them; and `media_jobs`, the queue
//! of video and audio waiting to be transcoded.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use sqlx::types::Json;

use crate::domain::media::{UploadKind, UploadState};
use crate::transcode::Kind;

/// The size of one stored file, as Mastodon's `meta.original` and
/// `meta.small` show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
    /// `"{width}x{height}"`
    pub size: String,
    /// width / height
    pub aspect: f64,
}

impl Dimensions {
    pub fn new(width: u32, height: u32) -> Dimensions {
        Dimensions {
            width,
            height,
            size: format!("{width}x{height}"),
            aspect: f64::from(width) / f64::from(height.max(1)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub original: Dimensions,
    pub small: Dimensions,
    /// Of video and audio: length, frame rate and bit rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub playback: Option<Playback>,
}

/// What Mastodon's `meta.original` shows of video and audio besides the
/// size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Playback {
    /// Seconds.
    pub duration: f64,
    /// `"30/1"`, of video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame_rate: Option<String>,
    /// Bits per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Upload {
    pub id: i64,
    pub owner_id: i64,
    pub post_id: Option<i64>,
    pub file_key: String,
    pub small_key: String,
    pub content_type: String,
    pub small_content_type: String,
    pub file_size: i32,
    pub small_size: i32,
    pub meta: Json<Meta>,
    pub description: String,
    pub focal_x: Option<f32>,
    pub focal_y: Option<f32>,
    pub blurhash: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The scheduled status that will carry it, until it is published.
    pub scheduled_status_id: Option<i64>,
    pub kind: UploadKind,
    pub state: UploadState,
    /// The file as uploaded, while it waits to be transcoded.
    pub source_key: Option<String>,
    /// Seconds, of video and audio.
    pub duration: Option<f32>,
}

impl Upload {
    pub fn is_ready(&self) -> bool {
        self.state == UploadState::Ready
    }
}

#[derive(Debug, Clone)]
pub struct NewUpload<'a> {
    pub owner_id: i64,
    pub file_key: &'a str,
    pub small_key: &'a str,
    pub content_type: &'a str,
    pub small_content_type: &'a str,
    pub file_size: i32,
    pub small_size: i32,
    pub meta: &'a Meta,
    pub description: &'a str,
    pub focus: Option<(f32, f32)>,
    pub blurhash: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub kind: UploadKind,
    /// Ready, or processing (with `source_key`).
    pub state: UploadState,
    pub source_key: Option<&'a str>,
    pub duration: Option<f32>,
}

pub async fn insert(db: impl PgExecutor<'_>, new: &NewUpload<'_>) -> Result<Upload, sqlx::Error> {
    sqlx::query_as(
        "insert into uploads (owner_id, file_key, small_key, content_type, small_content_type,
                              file_size, small_size, meta, description, focal_x, focal_y,
                              blurhash, created_at, kind, state, source_key, duration)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
         returning *",
    )
    .bind(new.owner_id)
    .bind(new.file_key)
    .bind(new.small_key)
    .bind(new.content_type)
    .bind(new.small_content_type)
    .bind(new.file_size)
    .bind(new.small_size)
    .bind(Json(new.meta))
    .bind(new.description)
    .bind(new.focus.map(|f| f.0))
    .bind(new.focus.map(|f| f.1))
    .bind(new.blurhash)
    .bind(new.created_at)
    .bind(new.kind)
    .bind(new.state)
    .bind(new.source_key)
    .bind(new.duration)
    .fetch_one(db)
    .await
}

/// An upload of `owner_id` by id.
pub async fn find_owned(
    db: impl PgExecutor<'_>,
    owner_id: i64,
    id: i64,
) -> Result<Option<Upload>, sqlx::Error> {
    sqlx::query_as("select * from uploads where id = $1 and owner_id = $2")
        .bind(id)
        .bind(owner_id)
        .fetch_optional(db)
        .await
}

/// Uploads of `owner_id` among `ids`, in no particular order.
pub async fn find_many_owned(
    db: impl PgExecutor<'_>,
    owner_id: i64,
    ids: &[i64],
) -> Result<Vec<Upload>, sqlx::Error> {
    sqlx::query_as("select * from uploads where id = any($1) and owner_id = $2")
        .bind(ids)
        .bind(owner_id)
        .fetch_all(db)
        .await
}

/// The uploads a post carries.
pub async fn of_post(db: impl PgExecutor<'_>, post_id: i64) -> Result<Vec<Upload>, sqlx::Error> {
    sqlx::query_as("select * from uploads where post_id = $1 order by id")
        .bind(post_id)
        .fetch_all(db)
        .await
}

/// The content type of a stored file, by its name: an upload's file or its
/// preview once the upload is ready (a file being transcoded, or the file as
/// uploaded, is never served), or a link preview's picture.
pub async fn content_type_of_file(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select case when file_key = $1 then content_type else small_content_type end
         from uploads where (file_key = $1 or small_key = $1) and state = 'ready'
         union all
         select image_content_type from preview_cards where image_file = $1
         limit 1",
    )
    .bind(name)
    .fetch_optional(db)
    .await
}

/// Sets alt text and focal point of an upload of `owner_id`; `only_unattached`
/// leaves attached ones alone. None when nothing matched.
pub async fn describe(
    db: impl PgExecutor<'_>,
    owner_id: i64,
    id: i64,
    description: &str,
    focus: Option<(f32, f32)>,
    only_unattached: bool,
) -> Result<Option<Upload>, sqlx::Error> {
    sqlx::query_as(
        "update uploads set description = $3, focal_x = $4, focal_y = $5
         where id = $1 and owner_id = $2 and (post_id is null or not $6)
         returning *",
    )
    .bind(id)
    .bind(owner_id)
    .bind(description)
    .bind(focus.map(|f| f.0))
    .bind(focus.map(|f| f.1))
    .bind(only_unattached)
    .fetch_optional(db)
    .await
}

/// Attaches unattached uploads of `owner_id` to a post; returns how many
/// were. An upload another post took meanwhile is not counted, so the caller
/// can tell.
pub async fn attach(
    db: impl PgExecutor<'_>,
    owner_id: i64,
    post_id: i64,
    ids: &[i64],
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "update uploads set post_id = $1
         where id = any($2) and owner_id = $3 and post_id is null
           and scheduled_status_id is null",
    )
    .bind(post_id)
    .bind(ids)
    .bind(owner_id)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// Deletes the uploads of a post, except those in `keep`; returns the file
/// names to remove.
pub async fn delete_of_post(
    db: impl PgExecutor<'_>,
    post_id: i64,
    keep: &[i64],
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "delete from uploads where post_id = $1 and not (id = any($2))
         returning file_key, small_key",
    )
    .bind(post_id)
    .bind(keep)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().flat_map(|(a, b)| [a, b]).collect())
}

/// Deletes uploads no post took that were made before `before`; returns the
/// file names to remove.
pub async fn delete_unattached_before(
    db: impl PgExecutor<'_>,
    before: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "delete from uploads
         where post_id is null and profile_image is null and scheduled_status_id is null
           and created_at < $1
         returning file_key, small_key, source_key",
    )
    .bind(before)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .flat_map(|(a, b, c)| [Some(a), Some(b), c])
        .flatten()
        .collect())
}

/// Makes an upload the owner's avatar or header; the files of the picture
/// it replaces are returned for removal (their row is gone).
pub async fn set_profile_image(
    db: &mut sqlx::PgConnection,
    owner_id: i64,
    upload_id: i64,
    which: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let old = clear_profile_image(&mut *db, owner_id, which).await?;
    sqlx::query("update uploads set profile_image = $3 where id = $1 and owner_id = $2")
        .bind(upload_id)
        .bind(owner_id)
        .bind(which)
        .execute(&mut *db)
        .await?;
    Ok(old)
}

/// Removes an account's avatar or header upload; the stored file names to
/// remove once the transaction commits.
pub async fn clear_profile_image(
    db: &mut sqlx::PgConnection,
    owner_id: i64,
    which: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let old: Vec<(String, String)> = sqlx::query_as(
        "delete from uploads where owner_id = $1 and profile_image = $2
         returning file_key, small_key",
    )
    .bind(owner_id)
    .bind(which)
    .fetch_all(&mut *db)
    .await?;
    Ok(old.into_iter().flat_map(|(a, b)| [a, b]).collect())
}

/// The stored file names of every upload an account owns, to remove once
/// its rows are gone.
pub async fn files_of_owner(
    db: impl PgExecutor<'_>,
    owner_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("select file_key, small_key, source_key from uploads where owner_id = $1")
            .bind(owner_id)
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .flat_map(|(a, b, c)| [Some(a), Some(b), c])
        .flatten()
        .collect())
}

/// Remembers stored files whose removal failed, to try again later.
pub async fn remember_failed_removals(
    db: impl PgExecutor<'_>,
    names: &[String],
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into media_deletions (name, first_failed_at)
         select unnest($1::text[]), $2
         on conflict (name) do update set attempts = media_deletions.attempts + 1",
    )
    .bind(names)
    .bind(at)
    .execute(db)
    .await?;
    Ok(())
}

/// Up to `limit` files whose removal failed, fewest attempts first.
pub async fn failed_removals(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select name from media_deletions order by attempts, first_failed_at limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Forgets files now removed.
pub async fn forget_removals(db: impl PgExecutor<'_>, names: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query("delete from media_deletions where name = any($1)")
        .bind(names)
        .execute(db)
        .await?;
    Ok(())
}

/// Deletes one of `owner_id`'s uploads that no post carries and no
/// scheduled post holds; its file names, or None when there is no such
/// upload.
pub async fn delete_discardable(
    db: impl PgExecutor<'_>,
    owner_id: i64,
    id: i64,
) -> Result<Option<Vec<String>>, sqlx::Error> {
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "delete from uploads
         where id = $1 and owner_id = $2 and post_id is null and scheduled_status_id is null
           and profile_image is null
         returning file_key, small_key, source_key",
    )
    .bind(id)
    .bind(owner_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(a, b, c)| [Some(a), Some(b), c].into_iter().flatten().collect()))
}

/// A job of the transcoding queue (`media_jobs`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaJob {
    pub upload_id: i64,
    pub kind: Kind,
    pub input_format: String,
    pub attempts: i32,
}

/// Queues an upload's transcoding, in the transaction that inserted it.
pub async fn queue_job(
    db: impl PgExecutor<'_>,
    upload_id: i64,
    kind: Kind,
    input_format: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into media_jobs (upload_id, kind, input_format, run_after, created_at)
         values ($1, $2, $3, $4, $4)",
    )
    .bind(upload_id)
    .bind(kind)
    .bind(input_format)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Claims the oldest due job for `worker` (or the job of `only`, when
/// given), until `until`: one nobody holds, or held by a process whose
/// worker lock is gone, or whose claim ran out. Rows other processes are
/// claiming are skipped (`for update skip locked`).
pub async fn claim_job(
    db: impl PgExecutor<'_>,
    worker: i32,
    only: Option<i64>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<MediaJob>, sqlx::Error> {
    sqlx::query_as(
        "with live as (
             select array_agg(objid::bigint) as ids from pg_locks
             where locktype = 'advisory' and classid = $5::bigint::oid and objsubid = 2 and granted
               and database = (select oid from pg_database where datname = current_database())
         ),
         next as (
             select j.upload_id from media_jobs j, live
             where j.run_after <= $3 and ($2::bigint is null or j.upload_id = $2)
               and (j.claimed_by is null
                    or j.claimed_until < $3
                    or not (j.claimed_by::bigint = any(coalesce(live.ids, '{}'))))
             order by j.run_after, j.upload_id
             limit 1
             for update of j skip locked
         )
         update media_jobs j set claimed_by = $1, claimed_until = $4, attempts = j.attempts + 1
         from next where j.upload_id = next.upload_id
         returning j.upload_id, j.kind, j.input_format, j.attempts",
    )
    .bind(worker)
    .bind(only)
    .bind(now)
    .bind(until)
    .bind(super::queue::WORKER_LOCK_CLASS)
    .fetch_optional(db)
    .await
}

/// Gives a claimed job back, to be tried again from `run_after`.
pub async fn retry_job(
    db: impl PgExecutor<'_>,
    upload_id: i64,
    run_after: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update media_jobs set claimed_by = null, claimed_until = null, run_after = $2
         where upload_id = $1",
    )
    .bind(upload_id)
    .bind(run_after)
    .execute(db)
    .await?;
    Ok(())
}

/// An upload by id, whoever owns it (for the transcoding worker).
pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Upload>, sqlx::Error> {
    sqlx::query_as("select * from uploads where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// What transcoding made of an upload.
#[derive(Debug, Clone)]
pub struct Processed<'a> {
    pub small_key: &'a str,
    pub small_content_type: &'a str,
    pub file_size: i32,
    pub small_size: i32,
    pub meta: &'a Meta,
    pub blurhash: Option<&'a str>,
    pub duration: f32,
}

/// Marks a processing upload ready with what transcoding made, and drops its
/// job; returns the name of the file as uploaded, now to remove. None when
/// the upload is gone or not processing any more.
pub async fn finish_processing(
    db: &mut sqlx::PgConnection,
    id: i64,
    done: &Processed<'_>,
) -> Result<Option<Option<String>>, sqlx::Error> {
    let source: Option<Option<String>> = sqlx::query_scalar(
        "update uploads u set state = 'ready', file_size = $2, small_size = $3, meta = $4,
                blurhash = $5, duration = $6, source_key = null, small_key = $7,
                small_content_type = $8
         from (select source_key from uploads where id = $1 for update) old
         where u.id = $1 and u.state = 'processing'
         returning old.source_key",
    )
    .bind(id)
    .bind(done.file_size)
    .bind(done.small_size)
    .bind(Json(done.meta))
    .bind(done.blurhash)
    .bind(done.duration)
    .bind(done.small_key)
    .bind(done.small_content_type)
    .fetch_optional(&mut *db)
    .await?;
    sqlx::query("delete from media_jobs where upload_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    Ok(source)
}

/// Marks a processing upload failed and drops its job; returns the names of
/// the files to remove (the file as uploaded, and any output already made).
pub async fn fail_processing(
    db: &mut sqlx::PgConnection,
    id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    let row: Option<(String, String, Option<String>)> = sqlx::query_as(
        "update uploads u set state = 'failed', source_key = null
         from (select source_key from uploads where id = $1 for update) old
         where u.id = $1 and u.state = 'processing'
         returning u.file_key, u.small_key, old.source_key",
    )
    .bind(id)
    .fetch_optional(&mut *db)
    .await?;
    sqlx::query("delete from media_jobs where upload_id = $1")
        .bind(id)
        .execute(&mut *db)
        .await?;
    Ok(row
        .map(|(a, b, c)| [Some(a), Some(b), c].into_iter().flatten().collect())
        .unwrap_or_default())
}
