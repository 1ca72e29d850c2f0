//! The instance's about texts and public figures, as Mastodon's
//! `/api/v1/instance/...` serves them: the extended description, the
//! privacy policy and the dated terms of service (admins write them in the
//! web admin area, audit-logged), the weekly activity, the known peers and
//! the languages posts may be written in.
//!
//! A text is HTML when it holds a tag (sanitised as remote HTML is), else
//! plain text whose blank lines make paragraphs and whose links are linked.

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::{self, instance_texts::Terms, instance_texts::Week};
use crate::domain::text;
use crate::error::{Error, Result};
use crate::federation::html;
use crate::service::audit::{self, Staff};
use crate::state::AppState;

/// The longest about text kept.
pub const MAX_TEXT: usize = 100_000;
/// Weeks `/api/v1/instance/activity` covers (Mastodon's 12).
pub const ACTIVITY_WEEKS: i32 = 12;

/// The texts with one version each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    ExtendedDescription,
    PrivacyPolicy,
}

impl Page {
    pub fn name(self) -> &'static str {
        match self {
            Page::ExtendedDescription => "extended_description",
            Page::PrivacyPolicy => "privacy_policy",
        }
    }
}

/// A text as shown: HTML, and when it was last changed (None: never
/// written, and empty).
#[derive(Debug, Clone)]
pub struct Shown {
    pub content: String,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A version of the terms of service as shown.
#[derive(Debug, Clone)]
pub struct TermsShown {
    pub effective_date: NaiveDate,
    /// Whether it is in force (its date has come).
    pub effective: bool,
    pub content: String,
    /// The date of the version after it.
    pub succeeded_by: Option<NaiveDate>,
}

/// An admin's text as HTML (see the module).
pub fn to_html(state: &AppState, raw: &str) -> String {
    let raw = raw.trim();
    if raw.contains('<') {
        html::sanitize(raw)
    } else {
        text::render(&text::tokenize(raw), |_, _| None, |t| state.urls.tag(t))
    }
}

/// A text as stored (for the admin's form): empty when never written.
pub async fn raw(state: &AppState, page: Page) -> Result<String> {
    Ok(db::instance_texts::get(&state.db, page.name())
        .await?
        .map(|t| t.text)
        .unwrap_or_default())
}

pub async fn shown(state: &AppState, page: Page) -> Result<Shown> {
    Ok(
        match db::instance_texts::get(&state.db, page.name()).await? {
            Some(t) => Shown {
                content: to_html(state, &t.text),
                updated_at: Some(t.updated_at),
            },
            None => Shown {
                content: String::new(),
                updated_at: None,
            },
        },
    )
}

fn checked(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.chars().count() > MAX_TEXT {
        return Err(Error::Validation(format!(
            "A text has at most {MAX_TEXT} characters"
        )));
    }
    Ok(text)
}

/// Replaces a text.
pub async fn set(state: &AppState, staff: &Staff, page: Page, text: &str) -> Result<()> {
    staff.require_admin()?;
    let text = checked(text)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    db::instance_texts::set(&mut *tx, page.name(), text, now).await?;
    audit::record(
        &mut tx,
        now,
        staff,
        "instance_text.update",
        "instance_text",
        page.name(),
        serde_json::json!({ "text": text }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every version of the terms, the latest date first (the admin area).
pub async fn all_terms(state: &AppState, staff: &Staff) -> Result<Vec<Terms>> {
    staff.require_admin()?;
    Ok(db::instance_texts::terms(&state.db).await?)
}

/// Adds a version of the terms taking effect on `date`.
pub async fn add_terms(
    state: &AppState,
    staff: &Staff,
    text: &str,
    changelog: &str,
    date: NaiveDate,
) -> Result<Terms> {
    staff.require_admin()?;
    let text = checked(text)?;
    if text.is_empty() {
        return Err(Error::Validation("The terms need a text".into()));
    }
    let changelog = checked(changelog)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let terms = db::instance_texts::insert_terms(&mut *tx, text, changelog, date, now)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d)
                if d.constraint() == Some(db::instance_texts::TERMS_DATE_TAKEN) =>
            {
                Error::Validation(format!(
                    "A version of the terms already takes effect on {date}"
                ))
            }
            e => e.into(),
        })?;
    audit::record(
        &mut tx,
        now,
        staff,
        "terms_of_service.create",
        "terms_of_service",
        &terms.id.to_string(),
        serde_json::json!({ "effective_date": date, "changelog": changelog }),
    )
    .await?;
    tx.commit().await?;
    Ok(terms)
}

pub async fn remove_terms(state: &AppState, staff: &Staff, id: i64) -> Result<()> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let gone = db::instance_texts::delete_terms(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "terms_of_service.destroy",
        "terms_of_service",
        &id.to_string(),
        serde_json::json!({ "effective_date": gone.effective_date }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The terms in force (or the first to come), or the version of `date`;
/// not found when there is none.
pub async fn terms(state: &AppState, date: Option<NaiveDate>) -> Result<TermsShown> {
    let today = state.clock.now().date_naive();
    let found = match date {
        Some(d) => db::instance_texts::terms_on(&state.db, d).await?,
        None => db::instance_texts::current_terms(&state.db, today).await?,
    }
    .ok_or(Error::NotFound)?;
    let succeeded_by = db::instance_texts::next_terms_date(&state.db, found.effective_date).await?;
    Ok(TermsShown {
        effective: found.effective_date <= today,
        effective_date: found.effective_date,
        content: to_html(state, &found.text),
        succeeded_by,
    })
}

/// The last 12 weeks, the current one first.
pub async fn activity(state: &AppState) -> Result<Vec<Week>> {
    Ok(db::instance_texts::activity(&state.db, state.clock.now(), ACTIVITY_WEEKS).await?)
}

/// Mastodon's page size of `/api/v1/peers/search`.
pub const PEER_SEARCH_LIMIT: i64 = 10;

/// Known servers whose domain starts with what was typed (normalised as a
/// domain: lower case, IDNA), at most ten, the busiest first; blocked
/// ones left out. None for a blank query (Mastodon answers `null`);
/// nothing for what is not a domain. Not served (404) in the allow-list
/// federation mode, as Mastodon's limited federation mode hides peers.
pub async fn search_peers(state: &AppState, query: Option<&str>) -> Result<Option<Vec<String>>> {
    if state.domain_policy.get().allowlist_mode() {
        return Err(Error::NotFound);
    }
    let Some(query) = query.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    let Some(prefix) = crate::domain::domain_name::normalize(query) else {
        return Ok(Some(Vec::new()));
    };
    Ok(Some(
        db::instance_texts::peers_starting_with(&state.db, &prefix, PEER_SEARCH_LIMIT).await?,
    ))
}

/// The servers this one knows of, suspended ones left out.
pub async fn peers(state: &AppState) -> Result<Vec<String>> {
    Ok(db::instance_texts::peers(&state.db).await?)
}
