//! `custom_emojis`: the instance's own custom emoji (Mastodon's local
//! CustomEmoji), their image files and whether they are shown.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CustomEmoji {
    pub id: i64,
    pub shortcode: String,
    pub file_key: String,
    pub content_type: String,
    pub static_key: String,
    pub category: Option<String>,
    pub visible_in_picker: bool,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new emoji, its files already stored.
#[derive(Debug, Clone)]
pub struct NewEmoji<'a> {
    pub shortcode: &'a str,
    pub file_key: &'a str,
    pub content_type: &'a str,
    pub static_key: &'a str,
    pub category: Option<&'a str>,
    pub visible_in_picker: bool,
}

/// Every emoji, disabled ones included, by category then shortcode.
pub async fn all(db: impl PgExecutor<'_>) -> Result<Vec<CustomEmoji>, sqlx::Error> {
    sqlx::query_as(
        "select * from custom_emojis
         order by category nulls first, lower(shortcode), shortcode",
    )
    .fetch_all(db)
    .await
}

/// The enabled emoji, by shortcode.
pub async fn enabled(db: impl PgExecutor<'_>) -> Result<Vec<CustomEmoji>, sqlx::Error> {
    sqlx::query_as(
        "select * from custom_emojis where not disabled
         order by lower(shortcode), shortcode",
    )
    .fetch_all(db)
    .await
}

/// The enabled emoji among `shortcodes` (as written).
pub async fn enabled_by_shortcodes(
    db: impl PgExecutor<'_>,
    shortcodes: &[String],
) -> Result<Vec<CustomEmoji>, sqlx::Error> {
    if shortcodes.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_as(
        "select * from custom_emojis where shortcode = any($1) and not disabled
         order by shortcode",
    )
    .bind(shortcodes)
    .fetch_all(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<CustomEmoji>, sqlx::Error> {
    sqlx::query_as("select * from custom_emojis where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Whether an emoji has this shortcode.
pub async fn shortcode_taken(
    db: impl PgExecutor<'_>,
    shortcode: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from custom_emojis where shortcode = $1)")
        .bind(shortcode)
        .fetch_one(db)
        .await
}

/// Adds an emoji; None when its shortcode is taken.
pub async fn insert(
    db: impl PgExecutor<'_>,
    new: &NewEmoji<'_>,
    now: DateTime<Utc>,
) -> Result<Option<CustomEmoji>, sqlx::Error> {
    sqlx::query_as(
        "insert into custom_emojis
             (shortcode, file_key, content_type, static_key, category,
              visible_in_picker, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $7)
         on conflict (shortcode) do nothing
         returning *",
    )
    .bind(new.shortcode)
    .bind(new.file_key)
    .bind(new.content_type)
    .bind(new.static_key)
    .bind(new.category)
    .bind(new.visible_in_picker)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Changes an emoji's category, whether it is in the picker and whether
/// it is disabled.
pub async fn update(
    db: impl PgExecutor<'_>,
    id: i64,
    category: Option<&str>,
    visible_in_picker: bool,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<Option<CustomEmoji>, sqlx::Error> {
    sqlx::query_as(
        "update custom_emojis
         set category = $2, visible_in_picker = $3, disabled = $4, updated_at = $5
         where id = $1
         returning *",
    )
    .bind(id)
    .bind(category)
    .bind(visible_in_picker)
    .bind(disabled)
    .bind(now)
    .fetch_optional(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<Option<CustomEmoji>, sqlx::Error> {
    sqlx::query_as("delete from custom_emojis where id = $1 returning *")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The type of a stored emoji file, by its name (the image or its still
/// frame), for `/media/NAME`.
pub async fn content_type_of_file(
    db: impl PgExecutor<'_>,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select case when file_key = $1 then content_type else 'image/png' end
         from custom_emojis where file_key = $1 or static_key = $1
         limit 1",
    )
    .bind(name)
    .fetch_optional(db)
    .await
}

/// The remote custom emoji seen in posts (shortcode, image URL, the
/// server they came from), newest first, for copying: `shortcode` narrows
/// to those whose shortcode contains it.
pub async fn remote_seen(
    db: impl PgExecutor<'_>,
    shortcode: &str,
    limit: i64,
) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select e.shortcode, e.url, a.domain
         from (select distinct on (pe.shortcode, pe.url) pe.shortcode, pe.url, pe.post_id
               from post_emojis pe
               where ($1 = '' or strpos(lower(pe.shortcode), lower($1)) > 0)
                 and (pe.url like 'https://%' or pe.url like 'http://%')
               order by pe.shortcode, pe.url, pe.post_id desc) e
         join posts p on p.id = e.post_id
         join actors a on a.id = p.author_id and a.domain is not null
         order by e.post_id desc
         limit $2",
    )
    .bind(shortcode)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Whether a remote post carried this emoji image (what may be copied).
pub async fn remote_seen_url(
    db: impl PgExecutor<'_>,
    shortcode: &str,
    url: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from post_emojis pe
                        join posts p on p.id = pe.post_id
                        join actors a on a.id = p.author_id and a.domain is not null
                        where pe.shortcode = $1 and pe.url = $2)",
    )
    .bind(shortcode)
    .bind(url)
    .fetch_one(db)
    .await
}
