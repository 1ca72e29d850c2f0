//! The instance's own custom emoji (Mastodon's local CustomEmoji): admins
//! upload them in the web admin area (or copy one a remote post used),
//! give them a category, keep them out of the picker, disable or delete
//! them; every change is audit-logged in its transaction. Enabled ones are
//! listed by `/api/v1/custom_emojis`, shown for `:shortcode:` in local
//! posts, display names and bios (looked up when shown, as Mastodon does,
//! so a disabled emoji disappears everywhere at once), and federated as
//! `Emoji` tags whose id, `/emojis/ID`, serves the `Emoji` object.
//!
//! Images: PNG, GIF or WebP of at most 256 KiB (Mastodon's limit), read
//! by their bytes and re-encoded by `imaging` (an animated GIF stays
//! animated, with its first frame as the static image; everything else
//! becomes a PNG, an animated WebP its first frame), then put in the media
//! store and served by `/media/NAME`.

use bytes::Bytes;
use futures::TryStreamExt;
use serde_json::{Value, json};
use sqlx::PgExecutor;

use crate::db::{self, custom_emojis::CustomEmoji};
use crate::domain::emoji::{self as rules, MAX_IMAGE_BYTES};
use crate::domain::limits;
use crate::error::{Error, Result};
use crate::imaging::{self, InputType};
use crate::service::audit::{self, Staff};
use crate::service::media::{media_url, remove_files};
use crate::service::remote_media::{self, Kind};
use crate::state::AppState;

/// The longest category name (Mastodon's `CustomEmojiCategory` has no
/// limit of its own; a category is a short label).
pub const MAX_CATEGORY_CHARS: usize = 64;

/// What an admin sets on a new emoji.
#[derive(Debug, Clone, Copy)]
pub struct NewEmoji<'a> {
    pub shortcode: &'a str,
    pub category: &'a str,
    pub visible_in_picker: bool,
}

/// Where an emoji's image is shown, and its still image.
pub fn urls(state: &AppState, emoji: &CustomEmoji) -> (String, String) {
    (
        media_url(state, &emoji.file_key),
        media_url(state, &emoji.static_key),
    )
}

/// Every emoji, disabled ones included (the admin page).
pub async fn all(state: &AppState, staff: &Staff) -> Result<Vec<CustomEmoji>> {
    staff.require_admin()?;
    Ok(db::custom_emojis::all(&state.db).await?)
}

/// The enabled emoji (`/api/v1/custom_emojis`, the composer).
pub async fn enabled(state: &AppState) -> Result<Vec<CustomEmoji>> {
    Ok(db::custom_emojis::enabled(&state.db).await?)
}

/// The enabled emoji that `texts` use as `:shortcode:`, by shortcode.
pub async fn used_in(db: impl PgExecutor<'_>, texts: &[&str]) -> Result<Vec<CustomEmoji>> {
    let mut codes: Vec<String> = Vec::new();
    for text in texts {
        for code in rules::shortcodes_in(text) {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    Ok(db::custom_emojis::enabled_by_shortcodes(db, &codes).await?)
}

/// The texts of an account that may carry emoji: its display name, bio
/// and profile fields (Mastodon's `emojifiable_text`).
pub fn account_texts(actor: &crate::db::actors::Actor) -> Vec<&str> {
    let mut texts = vec![actor.display_name.as_str(), actor.summary.as_str()];
    for field in &actor.fields.0 {
        texts.push(&field.name);
        texts.push(&field.value);
    }
    texts
}

/// An emoji as an ActivityPub `Emoji`, as Mastodon writes it (the object
/// served at its id and the tag carried by Notes and actors).
pub fn activitypub(state: &AppState, emoji: &CustomEmoji) -> Value {
    json!({
        "id": state.urls.emoji(emoji.id),
        "type": "Emoji",
        "name": format!(":{}:", emoji.shortcode),
        "updated": emoji.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "icon": {
            "type": "Image",
            "mediaType": emoji.content_type,
            "url": media_url(state, &emoji.file_key),
        },
    })
}

/// The `Emoji` tags for the enabled emoji `texts` use.
pub async fn tags_for(
    db: impl PgExecutor<'_>,
    state: &AppState,
    texts: &[&str],
) -> Result<Vec<Value>> {
    Ok(used_in(db, texts)
        .await?
        .iter()
        .map(|e| activitypub(state, e))
        .collect())
}

/// `GET /emojis/ID`: a local emoji as an ActivityPub object (disabled ones
/// too, as Mastodon serves them).
pub async fn object(state: &AppState, id: i64) -> Result<Value> {
    let emoji = db::custom_emojis::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut object = activitypub(state, &emoji);
    object["@context"] = json!(crate::federation::context::emoji());
    Ok(object)
}

fn checked_category(raw: &str) -> Result<Option<&str>> {
    let category = raw.trim();
    if limits::too_long(category, MAX_CATEGORY_CHARS) {
        return Err(Error::Validation(format!(
            "A category has at most {MAX_CATEGORY_CHARS} characters"
        )));
    }
    Ok(Some(category).filter(|c| !c.is_empty()))
}

fn checked_shortcode(raw: &str) -> Result<&str> {
    let shortcode = raw.trim().trim_matches(':');
    if !rules::is_shortcode(shortcode) {
        return Err(Error::Validation(
            "Shortcode must be at least 2 characters and only contain letters, digits and underscores"
                .into(),
        ));
    }
    Ok(shortcode)
}

fn taken() -> Error {
    Error::Validation("Shortcode has already been taken".into())
}

/// Adds an emoji from an uploaded image.
pub async fn create(
    state: &AppState,
    staff: &Staff,
    new: NewEmoji<'_>,
    bytes: Bytes,
) -> Result<CustomEmoji> {
    staff.require_admin()?;
    let shortcode = checked_shortcode(new.shortcode)?;
    let category = checked_category(new.category)?;
    if db::custom_emojis::shortcode_taken(&state.db, shortcode).await? {
        return Err(taken());
    }
    if bytes.is_empty() {
        return Err(Error::Validation("Image: choose a file".into()));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(Error::Validation(format!(
            "Image must be smaller than {} KiB (this one is {} bytes)",
            MAX_IMAGE_BYTES / 1024,
            bytes.len()
        )));
    }
    if !matches!(
        InputType::detect(&bytes),
        Some(InputType::Png | InputType::Gif | InputType::Webp)
    ) {
        return Err(Error::Validation(
            "Image must be a PNG, GIF or WebP image".into(),
        ));
    }
    let permit = state
        .image_work
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| anyhow::anyhow!("the image work limit is closed: {e}"))?;
    let processed = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        imaging::process_emoji(&bytes)
    })
    .await
    .map_err(|e| anyhow::anyhow!("image processing stopped: {e}"))?
    .map_err(|e| {
        if e.is_input_error() {
            Error::Validation(format!("Image: {e}"))
        } else {
            Error::Internal(anyhow::anyhow!(e))
        }
    })?;

    let image = &processed.image;
    let file_key = crate::domain::media::new_file_name(image.kind.extension());
    let mut names = vec![file_key.clone()];
    let stored = async {
        state
            .media
            .put(
                &file_key,
                Bytes::from(image.bytes.clone()),
                image.kind.content_type(),
            )
            .await?;
        let static_key = match &processed.still {
            Some(still) => {
                let key = crate::domain::media::new_file_name(still.kind.extension());
                names.push(key.clone());
                state
                    .media
                    .put(
                        &key,
                        Bytes::from(still.bytes.clone()),
                        still.kind.content_type(),
                    )
                    .await?;
                key
            }
            None => file_key.clone(),
        };
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        let row = db::custom_emojis::NewEmoji {
            shortcode,
            file_key: &file_key,
            content_type: image.kind.content_type(),
            static_key: &static_key,
            category,
            visible_in_picker: new.visible_in_picker,
        };
        let Some(emoji) = db::custom_emojis::insert(&mut *tx, &row, now).await? else {
            return Err(taken());
        };
        audit::record(
            &mut tx,
            now,
            staff,
            "custom_emoji.create",
            "custom_emoji",
            &emoji.id.to_string(),
            json!({ "shortcode": emoji.shortcode, "category": emoji.category }),
        )
        .await?;
        tx.commit().await?;
        Ok::<CustomEmoji, Error>(emoji)
    }
    .await;
    if stored.is_err() {
        remove_files(state, &names).await;
    }
    stored
}

/// What an admin changes on an emoji.
#[derive(Debug, Clone, Copy)]
pub struct Changes<'a> {
    pub category: &'a str,
    pub visible_in_picker: bool,
    pub disabled: bool,
}

/// Changes an emoji's category, picker visibility and whether it is
/// enabled.
pub async fn update(
    state: &AppState,
    staff: &Staff,
    id: i64,
    changes: Changes<'_>,
) -> Result<CustomEmoji> {
    staff.require_admin()?;
    let category = checked_category(changes.category)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let before = db::custom_emojis::find(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let emoji = db::custom_emojis::update(
        &mut *tx,
        id,
        category,
        changes.visible_in_picker,
        changes.disabled,
        now,
    )
    .await?
    .ok_or(Error::NotFound)?;
    let action = match (before.disabled, emoji.disabled) {
        (false, true) => "custom_emoji.disable",
        (true, false) => "custom_emoji.enable",
        _ => "custom_emoji.update",
    };
    audit::record(
        &mut tx,
        now,
        staff,
        action,
        "custom_emoji",
        &emoji.id.to_string(),
        json!({
            "shortcode": emoji.shortcode,
            "category": emoji.category,
            "visible_in_picker": emoji.visible_in_picker,
            "disabled": emoji.disabled,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(emoji)
}

/// Deletes an emoji and, once that is committed, its files.
pub async fn remove(state: &AppState, staff: &Staff, id: i64) -> Result<CustomEmoji> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let emoji = db::custom_emojis::delete(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "custom_emoji.destroy",
        "custom_emoji",
        &emoji.id.to_string(),
        json!({ "shortcode": emoji.shortcode }),
    )
    .await?;
    tx.commit().await?;
    let mut names = vec![emoji.file_key.clone()];
    if emoji.static_key != emoji.file_key {
        names.push(emoji.static_key.clone());
    }
    remove_files(state, &names).await;
    Ok(emoji)
}

/// A remote emoji seen in a post here: shortcode, image URL, its server.
#[derive(Debug, Clone)]
pub struct RemoteEmoji {
    pub shortcode: String,
    pub url: String,
    pub domain: String,
}

/// Remote emoji seen in posts here, newest first, for copying; `query`
/// narrows to shortcodes containing it.
pub async fn remote_seen(state: &AppState, staff: &Staff, query: &str) -> Result<Vec<RemoteEmoji>> {
    staff.require_admin()?;
    Ok(db::custom_emojis::remote_seen(&state.db, query.trim(), 40)
        .await?
        .into_iter()
        .map(|(shortcode, url, domain)| RemoteEmoji {
            shortcode,
            url,
            domain,
        })
        .collect())
}

/// Copies a remote emoji seen in a post here to a local one of the same
/// shortcode (Mastodon's "copy"): its image is downloaded as remote media
/// are (the domain policy and `net`'s rules on every hop, the emoji cap),
/// then added as an upload is.
pub async fn copy(
    state: &AppState,
    staff: &Staff,
    shortcode: &str,
    url: &str,
) -> Result<CustomEmoji> {
    staff.require_admin()?;
    let shortcode = checked_shortcode(shortcode)?;
    if !db::custom_emojis::remote_seen_url(&state.db, shortcode, url).await? {
        return Err(Error::NotFound);
    }
    if db::custom_emojis::shortcode_taken(&state.db, shortcode).await? {
        return Err(taken());
    }
    let stored = remote_media::download(state, url, Kind::Emoji)
        .await
        .map_err(|e| Error::Validation(format!("The image could not be downloaded: {e}")))?;
    let read = async {
        let file = state.media.get(&stored.file_key).await?;
        let chunks: Vec<Bytes> = file
            .body
            .try_collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading a downloaded emoji failed: {e}"))?;
        Ok::<Bytes, Error>(Bytes::from(chunks.concat()))
    }
    .await;
    remove_files(state, &stored.names()).await;
    let new = NewEmoji {
        shortcode,
        category: "",
        visible_in_picker: true,
    };
    create(state, staff, new, read?).await
}
