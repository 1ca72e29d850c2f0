//! Announcements (<https://docs.joinmastodon.org/methods/announcements/>):
//! admins write them in the web admin area (each change audit-logged);
//! one is published at once, or at its `scheduled_at` by the timed work,
//! and unpublished once its `ends_at` has passed, as Mastodon's scheduler
//! does. Local accounts read the published ones, dismiss them and react
//! with a Unicode emoji or one of the instance's custom emoji (Skein
//! serves none, so only Unicode emoji are recognised).

use chrono::{DateTime, Utc};
use unicode_properties::UnicodeEmoji;

use crate::db::{self, actors::Actor, announcements::Announcement, announcements::Fields};
use crate::domain::text::{self, Token};
use crate::error::{Error, Result};
use crate::service::audit::{self, Staff};
use crate::state::AppState;

/// The longest announcement text (Mastodon sets none; this keeps a typo
/// from pasting a book).
pub const MAX_TEXT: usize = 10_000;
/// Different reactions one announcement may have (Mastodon's limit).
pub const MAX_REACTIONS: usize = 8;

/// An announcement as an admin writes it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct Form<'a> {
    pub text: &'a str,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub all_day: bool,
}

/// A local account mentioned in an announcement.
#[derive(Debug, Clone)]
pub struct Mentioned {
    pub id: i64,
    pub username: String,
    pub url: String,
}

/// One reaction's count, and whether the viewer gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reaction {
    pub name: String,
    pub count: i64,
    pub me: bool,
}

/// An announcement as a reader sees it.
#[derive(Debug, Clone)]
pub struct Shown {
    pub announcement: Announcement,
    /// The text as HTML: links, mentions of local accounts and hashtags.
    pub content: String,
    pub mentions: Vec<Mentioned>,
    /// Hashtags (lower case) and their pages.
    pub tags: Vec<(String, String)>,
    pub read: bool,
    pub reactions: Vec<Reaction>,
}

fn checked<'a>(form: &Form<'a>) -> Result<Fields<'a>> {
    let text = form.text.trim();
    if text.is_empty() {
        return Err(Error::Validation("An announcement needs a text".into()));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(Error::Validation(format!(
            "An announcement has at most {MAX_TEXT} characters"
        )));
    }
    match (form.starts_at, form.ends_at) {
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::Validation(
                "An announcement with a start needs an end, and one with an end a start".into(),
            ));
        }
        (Some(starts), Some(ends)) if ends < starts => {
            return Err(Error::Validation(
                "An announcement cannot end before it starts".into(),
            ));
        }
        _ => {}
    }
    Ok(Fields {
        text,
        scheduled_at: form.scheduled_at,
        starts_at: form.starts_at,
        ends_at: form.ends_at,
        all_day: form.all_day,
    })
}

fn details(a: &Announcement) -> serde_json::Value {
    serde_json::json!({
        "text": a.text,
        "published": a.published,
        "scheduled_at": a.scheduled_at,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "all_day": a.all_day,
    })
}

async fn audited(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    staff: &Staff,
    action: &str,
    a: &Announcement,
) -> Result<()> {
    audit::record(
        tx,
        state.clock.now(),
        staff,
        action,
        "announcement",
        &a.id.to_string(),
        details(a),
    )
    .await?;
    Ok(())
}

/// Every announcement, newest first, for the admin area.
pub async fn all(state: &AppState, staff: &Staff) -> Result<Vec<Announcement>> {
    staff.require_admin()?;
    Ok(db::announcements::all(&state.db).await?)
}

/// Writes an announcement: published at once unless it is scheduled for
/// later, as Mastodon does.
pub async fn create(state: &AppState, staff: &Staff, form: &Form<'_>) -> Result<Announcement> {
    staff.require_admin()?;
    let fields = checked(form)?;
    let now = state.clock.now();
    let published = fields.scheduled_at.is_none_or(|at| at <= now);
    let mut tx = state.db.begin().await?;
    let created = db::announcements::insert(&mut tx, &fields, published, now).await?;
    audited(&mut tx, state, staff, "announcement.create", &created).await?;
    tx.commit().await?;
    Ok(created)
}

pub async fn edit(
    state: &AppState,
    staff: &Staff,
    id: i64,
    form: &Form<'_>,
) -> Result<Announcement> {
    staff.require_admin()?;
    let fields = checked(form)?;
    let mut tx = state.db.begin().await?;
    let edited = db::announcements::update(&mut tx, id, &fields, state.clock.now())
        .await?
        .ok_or(Error::NotFound)?;
    audited(&mut tx, state, staff, "announcement.update", &edited).await?;
    tx.commit().await?;
    Ok(edited)
}

/// Publishes (true) or unpublishes (false) an announcement.
pub async fn set_published(
    state: &AppState,
    staff: &Staff,
    id: i64,
    published: bool,
) -> Result<Announcement> {
    staff.require_admin()?;
    let mut tx = state.db.begin().await?;
    let changed = db::announcements::set_published(&mut tx, id, published, state.clock.now())
        .await?
        .ok_or(Error::NotFound)?;
    let action = if published {
        "announcement.publish"
    } else {
        "announcement.unpublish"
    };
    audited(&mut tx, state, staff, action, &changed).await?;
    tx.commit().await?;
    Ok(changed)
}

pub async fn delete(state: &AppState, staff: &Staff, id: i64) -> Result<()> {
    staff.require_admin()?;
    let mut tx = state.db.begin().await?;
    let found = db::announcements::find(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    db::announcements::delete(&mut tx, id).await?;
    audited(&mut tx, state, staff, "announcement.destroy", &found).await?;
    tx.commit().await?;
    Ok(())
}

/// Publishes the announcements whose time has come and unpublishes those
/// that ended; returns how many changed.
pub async fn publish_due(state: &AppState) -> Result<usize> {
    let now = state.clock.now();
    let mut changed = 0;
    for id in db::announcements::due_to_publish(&state.db, now).await? {
        let mut conn = state.db.acquire().await?;
        db::announcements::set_published(&mut conn, id, true, now).await?;
        changed += 1;
    }
    for id in db::announcements::due_to_unpublish(&state.db, now).await? {
        let mut conn = state.db.acquire().await?;
        db::announcements::set_published(&mut conn, id, false, now).await?;
        changed += 1;
    }
    Ok(changed)
}

/// The published announcements for `viewer`, leaving out the ones it
/// dismissed unless `with_dismissed`.
pub async fn for_reader(
    state: &AppState,
    viewer: &Actor,
    with_dismissed: bool,
) -> Result<Vec<Shown>> {
    let rows = db::announcements::published(&state.db, viewer.id, with_dismissed).await?;
    let ids: Vec<i64> = rows.iter().map(|(a, _)| a.id).collect();
    let reactions = db::announcements::reactions(&state.db, &ids, viewer.id).await?;
    let mut shown = Vec::with_capacity(rows.len());
    for (announcement, read) in rows {
        let (content, mentions, tags) = render(state, &announcement.text).await?;
        let reactions = reactions
            .iter()
            .filter(|r| r.announcement_id == announcement.id)
            .map(|r| Reaction {
                name: r.name.clone(),
                count: r.count,
                me: r.me,
            })
            .collect();
        shown.push(Shown {
            announcement,
            content,
            mentions,
            tags,
            read,
            reactions,
        });
    }
    Ok(shown)
}

type Rendered = (String, Vec<Mentioned>, Vec<(String, String)>);

/// An announcement's text as HTML, with the local accounts it mentions
/// (remote ones are left as text: announcements do not fetch) and its
/// hashtags.
async fn render(state: &AppState, raw: &str) -> Result<Rendered> {
    let tokens = text::tokenize(raw);
    let mut mentioned: Vec<Actor> = Vec::new();
    for token in &tokens {
        if let Token::Mention { user, host } = token
            && host
                .as_deref()
                .is_none_or(|h| h.eq_ignore_ascii_case(&state.config.domain))
            && !mentioned
                .iter()
                .any(|a| a.username.eq_ignore_ascii_case(user))
            && let Some(actor) = db::actors::find_local_person(&state.db, user).await?
        {
            mentioned.push(actor);
        }
    }
    let html = text::render(
        &tokens,
        |user, host| {
            if host.is_some_and(|h| !h.eq_ignore_ascii_case(&state.config.domain)) {
                return None;
            }
            mentioned
                .iter()
                .find(|a| a.username.eq_ignore_ascii_case(user))
                .map(|a| a.url.clone().unwrap_or_else(|| a.ap_id.clone()))
        },
        |tag| state.urls.tag(tag),
    );
    let tags = text::hashtags(&tokens)
        .into_iter()
        .map(|t| {
            let url = state.urls.tag(&t);
            (t, url)
        })
        .collect();
    let mentions = mentioned
        .into_iter()
        .map(|a| Mentioned {
            id: a.id,
            url: a.url.clone().unwrap_or_else(|| a.ap_id.clone()),
            username: a.username,
        })
        .collect();
    Ok((html, mentions, tags))
}

/// One published announcement as `viewer` sees it (for the streams);
/// None when it is no longer published.
pub async fn one_for_reader(state: &AppState, viewer: &Actor, id: i64) -> Result<Option<Shown>> {
    Ok(for_reader(state, viewer, true)
        .await?
        .into_iter()
        .find(|s| s.announcement.id == id))
}

/// A published announcement by id; unpublished ones are not found.
async fn published(state: &AppState, id: i64) -> Result<Announcement> {
    db::announcements::find(&state.db, id)
        .await?
        .filter(|a| a.published)
        .ok_or(Error::NotFound)
}

/// Marks an announcement read for `viewer`.
pub async fn dismiss(state: &AppState, viewer: &Actor, id: i64) -> Result<()> {
    published(state, id).await?;
    db::announcements::dismiss(&state.db, id, viewer.id, state.clock.now()).await?;
    Ok(())
}

/// Whether `name` is an emoji one may react with: a Unicode emoji (a
/// single one, with its modifiers and joiners). The instance serves no
/// custom emoji, so no shortcode is one.
pub fn is_reaction(name: &str) -> bool {
    let mut pictographic = false;
    let mut count = 0;
    for c in name.chars() {
        count += 1;
        if count > 16 {
            return false;
        }
        let joiner = matches!(c, '\u{200D}' | '\u{FE0F}' | '\u{20E3}')
            || ('\u{E0020}'..='\u{E007F}').contains(&c);
        if joiner {
            continue;
        }
        if !c.is_emoji_char_or_emoji_component() {
            return false;
        }
        // Digits, `#` and `*` are emoji only as keycaps.
        if !c.is_ascii() {
            pictographic = true;
        }
    }
    pictographic || name.contains('\u{20E3}')
}

fn not_an_emoji() -> Error {
    Error::Validation("Validation failed: Name is not a recognized emoji".into())
}

/// Adds `viewer`'s reaction `name` to a published announcement.
pub async fn react(state: &AppState, viewer: &Actor, id: i64, name: &str) -> Result<()> {
    published(state, id).await?;
    if !is_reaction(name) {
        return Err(not_an_emoji());
    }
    let mut tx = state.db.begin().await?;
    let existing = db::announcements::reactions(&mut *tx, &[id], viewer.id).await?;
    if !existing.iter().any(|r| r.name == name) && existing.len() >= MAX_REACTIONS {
        return Err(Error::Validation(
            "Validation failed: Different reactions limit reached".into(),
        ));
    }
    db::announcements::react(&mut tx, id, viewer.id, name, state.clock.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes `viewer`'s reaction `name` back; not found if it gave none.
pub async fn unreact(state: &AppState, viewer: &Actor, id: i64, name: &str) -> Result<()> {
    published(state, id).await?;
    let mut conn = state.db.acquire().await?;
    if !db::announcements::unreact(&mut conn, id, viewer.id, name).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::is_reaction;

    #[test]
    fn unicode_emoji_are_reactions_and_words_are_not() {
        for yes in ["👍", "🤔", "❤️", "👩‍💻", "👍🏽", "🇫🇷", "1️⃣"] {
            assert!(is_reaction(yes), "{yes}");
        }
        for no in ["", "bongoCat", "a", "1", "#", ":blobcat:", "👍 ok", "<b>"] {
            assert!(!is_reaction(no), "{no}");
        }
    }
}
