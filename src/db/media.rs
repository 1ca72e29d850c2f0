//! Media of posts: `attachments` and `post_emojis`. Attachments of local
//! posts are uploads (`db::uploads`) and share their ids.

use sqlx::PgExecutor;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Attachment {
    pub kind: String,
    pub url: String,
    pub media_type: Option<String>,
    pub description: String,
    pub blurhash: Option<String>,
    pub focal_x: Option<f32>,
    pub focal_y: Option<f32>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    /// Of video and audio: the poster frame or waveform, or a remote
    /// medium's `icon`.
    pub preview_url: Option<String>,
    /// Of video and audio: seconds.
    pub duration: Option<f32>,
}

pub async fn add_attachments(
    db: &mut sqlx::PgConnection,
    post_id: i64,
    attachments: &[Attachment],
) -> Result<(), sqlx::Error> {
    for (position, a) in attachments.iter().enumerate() {
        sqlx::query(
            "insert into attachments (post_id, position, kind, url, media_type, description,
                                      blurhash, focal_x, focal_y, width, height,
                                      preview_url, duration)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(post_id)
        .bind(position as i32)
        .bind(&a.kind)
        .bind(&a.url)
        .bind(&a.media_type)
        .bind(&a.description)
        .bind(&a.blurhash)
        .bind(a.focal_x)
        .bind(a.focal_y)
        .bind(a.width)
        .bind(a.height)
        .bind(&a.preview_url)
        .bind(a.duration)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// Replaces the attachments of a post with its uploads, each under the
/// upload's id, in the order given.
pub async fn set_local_attachments(
    db: &mut sqlx::PgConnection,
    post_id: i64,
    attachments: &[(i64, Attachment)],
) -> Result<(), sqlx::Error> {
    delete_attachments(&mut *db, post_id).await?;
    for (position, (id, a)) in attachments.iter().enumerate() {
        sqlx::query(
            "insert into attachments (id, post_id, position, kind, url, media_type, description,
                                      blurhash, focal_x, focal_y, width, height,
                                      preview_url, duration)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(id)
        .bind(post_id)
        .bind(position as i32)
        .bind(&a.kind)
        .bind(&a.url)
        .bind(&a.media_type)
        .bind(&a.description)
        .bind(&a.blurhash)
        .bind(a.focal_x)
        .bind(a.focal_y)
        .bind(a.width)
        .bind(a.height)
        .bind(&a.preview_url)
        .bind(a.duration)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// Replaces the attachments of a (remote) post.
pub async fn replace_attachments(
    db: &mut sqlx::PgConnection,
    post_id: i64,
    attachments: &[Attachment],
) -> Result<(), sqlx::Error> {
    delete_attachments(&mut *db, post_id).await?;
    add_attachments(db, post_id, attachments).await
}

pub async fn delete_attachments(db: impl PgExecutor<'_>, post_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("delete from attachments where post_id = $1")
        .bind(post_id)
        .execute(db)
        .await
        .map(drop)
}

/// The ids of a post's attachments, in order (for local posts, its uploads).
pub async fn attachment_ids(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("select id from attachments where post_id = $1 order by position")
        .bind(post_id)
        .fetch_all(db)
        .await
}

pub async fn attachments(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Vec<Attachment>, sqlx::Error> {
    sqlx::query_as(
        "select kind, url, media_type, description, blurhash, focal_x, focal_y, width, height,
                preview_url, duration
         from attachments where post_id = $1 order by position",
    )
    .bind(post_id)
    .fetch_all(db)
    .await
}

pub async fn add_emojis(
    db: impl PgExecutor<'_>,
    post_id: i64,
    emojis: &[(String, String)],
) -> Result<(), sqlx::Error> {
    if emojis.is_empty() {
        return Ok(());
    }
    let (codes, urls): (Vec<String>, Vec<String>) = emojis.iter().cloned().unzip();
    sqlx::query(
        "insert into post_emojis (post_id, shortcode, url)
         select $1, * from unnest($2::text[], $3::text[]) on conflict do nothing",
    )
    .bind(post_id)
    .bind(codes)
    .bind(urls)
    .execute(db)
    .await
    .map(drop)
}

/// Custom emoji of a post: shortcode (without colons) and image URL.
pub async fn emojis(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as("select shortcode, url from post_emojis where post_id = $1 order by shortcode")
        .bind(post_id)
        .fetch_all(db)
        .await
}
