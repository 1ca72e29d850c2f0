//! The `uploads` table: images local accounts uploaded, their files and
//! whether a post carries them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use sqlx::types::Json;

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
    pub blurhash: &'a str,
    pub created_at: DateTime<Utc>,
}

pub async fn insert(db: impl PgExecutor<'_>, new: &NewUpload<'_>) -> Result<Upload, sqlx::Error> {
    sqlx::query_as(
        "insert into uploads (owner_id, file_key, small_key, content_type, small_content_type,
                              file_size, small_size, meta, description, focal_x, focal_y,
                              blurhash, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
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

/// The content type of a stored file, by its name: an upload's image or
/// its preview, or a link preview's picture.
pub async fn content_type_of_file(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select case when file_key = $1 then content_type else small_content_type end
         from uploads where file_key = $1 or small_key = $1
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
    let rows: Vec<(String, String)> = sqlx::query_as(
        "delete from uploads
         where post_id is null and profile_image is null and scheduled_status_id is null
           and created_at < $1
         returning file_key, small_key",
    )
    .bind(before)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().flat_map(|(a, b)| [a, b]).collect())
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
    let rows: Vec<(String, String)> =
        sqlx::query_as("select file_key, small_key from uploads where owner_id = $1")
            .bind(owner_id)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().flat_map(|(a, b)| [a, b]).collect())
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
    let row: Option<(String, String)> = sqlx::query_as(
        "delete from uploads
         where id = $1 and owner_id = $2 and post_id is null and scheduled_status_id is null
           and profile_image is null
         returning file_key, small_key",
    )
    .bind(id)
    .bind(owner_id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(a, b)| vec![a, b]))
}
