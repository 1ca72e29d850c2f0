//! Filters (<https://docs.joinmastodon.org/methods/filters/>): a local
//! account's filters, their keywords and statuses, checked as Mastodon
//! checks them; and the live filters a page of statuses is matched against.
//! Filters are private: nothing is sent to other servers.

use std::collections::HashMap;

use chrono::Duration;

use crate::db::{
    self,
    actors::Actor,
    filters::{Fields, Filter, FilterKeyword, FilterStatus},
};
use crate::domain::filters::{self as rules, Action, Context, KEYWORD_MAX_CHARS};
use crate::domain::limits;
use crate::error::{Error, Result};
use crate::service::posts;
use crate::state::AppState;

/// A filter with its keywords and statuses.
#[derive(Debug, Clone)]
pub struct FilterView {
    pub filter: Filter,
    pub keywords: Vec<FilterKeyword>,
    pub statuses: Vec<FilterStatus>,
}

/// A change to a filter's keywords (Mastodon's `keywords_attributes[]`).
#[derive(Debug, Clone, Default)]
pub struct KeywordChange {
    /// An existing keyword of the filter; none adds one.
    pub id: Option<i64>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    /// Removes the keyword `id` (or skips a new one).
    pub destroy: bool,
}

/// A filter's settings as given; what is left out stays as it is (or takes
/// Mastodon's default when creating).
#[derive(Debug, Clone, Default)]
pub struct FilterInput {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub action: Option<String>,
    /// Seconds from now; `Some(None)` (given empty) means never.
    pub expires_in: Option<Option<i64>>,
    pub keywords: Vec<KeywordChange>,
}

fn invalid(message: &str) -> Error {
    Error::Validation(format!("Validation failed: {message}"))
}

fn check_title(title: &str) -> Result<()> {
    if title.trim().is_empty() {
        return Err(invalid("Title can't be blank"));
    }
    if limits::too_long(title.trim(), limits::FILTER_TITLE) {
        return Err(invalid(&format!(
            "Title is too long (maximum is {} characters)",
            limits::FILTER_TITLE
        )));
    }
    Ok(())
}

/// The contexts, cleaned as Mastodon cleans them (stripped, blanks
/// dropped), all of them known.
fn check_context(context: &[String]) -> Result<Vec<String>> {
    let cleaned: Vec<String> = context
        .iter()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if cleaned.is_empty() {
        return Err(invalid(
            "Context can't be blank, Context None or invalid context supplied",
        ));
    }
    if cleaned.iter().any(|c| Context::parse(c).is_none()) {
        return Err(invalid("Context None or invalid context supplied"));
    }
    Ok(cleaned)
}

fn check_action(action: &str) -> Result<&'static str> {
    Action::parse(action)
        .map(Action::as_str)
        .ok_or_else(|| Error::Validation(format!("'{action}' is not a valid action")))
}

fn check_keyword(keyword: &str) -> Result<()> {
    if keyword.trim().is_empty() {
        return Err(invalid("Keyword can't be blank"));
    }
    if keyword.chars().count() > KEYWORD_MAX_CHARS {
        return Err(invalid(&format!(
            "Keyword is too long (maximum is {KEYWORD_MAX_CHARS} characters)"
        )));
    }
    Ok(())
}

/// Whether a nested keyword entry says nothing at all (Mastodon skips
/// those).
fn is_blank(change: &KeywordChange) -> bool {
    change.id.is_none()
        && change.keyword.as_deref().is_none_or(|k| k.is_empty())
        && change.whole_word.is_none()
}

fn expiry(
    state: &AppState,
    expires_in: Option<i64>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
    match expires_in {
        None => Ok(None),
        Some(seconds) => Duration::try_seconds(seconds)
            .and_then(|d| state.clock.now().checked_add_signed(d))
            .map(Some)
            .ok_or_else(|| invalid("Expires in is out of range")),
    }
}

async fn view(state: &AppState, filter: Filter) -> Result<FilterView> {
    let ids = [filter.id];
    Ok(FilterView {
        keywords: db::filters::keywords_of(&state.db, &ids).await?,
        statuses: db::filters::statuses_of(&state.db, &ids).await?,
        filter,
    })
}

pub async fn all(state: &AppState, owner: &Actor) -> Result<Vec<FilterView>> {
    let filters = db::filters::all(&state.db, owner.id).await?;
    let ids: Vec<i64> = filters.iter().map(|f| f.id).collect();
    let mut keywords: HashMap<i64, Vec<FilterKeyword>> = HashMap::new();
    for k in db::filters::keywords_of(&state.db, &ids).await? {
        keywords.entry(k.filter_id).or_default().push(k);
    }
    let mut statuses: HashMap<i64, Vec<FilterStatus>> = HashMap::new();
    for s in db::filters::statuses_of(&state.db, &ids).await? {
        statuses.entry(s.filter_id).or_default().push(s);
    }
    Ok(filters
        .into_iter()
        .map(|filter| FilterView {
            keywords: keywords.remove(&filter.id).unwrap_or_default(),
            statuses: statuses.remove(&filter.id).unwrap_or_default(),
            filter,
        })
        .collect())
}

async fn owned(state: &AppState, owner: &Actor, id: i64) -> Result<Filter> {
    db::filters::find(&state.db, owner.id, id)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn get(state: &AppState, owner: &Actor, id: i64) -> Result<FilterView> {
    let filter = owned(state, owner, id).await?;
    view(state, filter).await
}

pub async fn create(state: &AppState, owner: &Actor, input: FilterInput) -> Result<FilterView> {
    let title = input.title.unwrap_or_default();
    check_title(&title)?;
    let context = check_context(&input.context.unwrap_or_default())?;
    let action = check_action(input.action.as_deref().unwrap_or("warn"))?;
    let expires_at = expiry(state, input.expires_in.flatten())?;
    let mut keywords = Vec::new();
    for change in input.keywords {
        if change.id.is_some() {
            // Mastodon looks the id up among the new filter's keywords.
            return Err(Error::NotFound);
        }
        if change.destroy || is_blank(&change) {
            continue;
        }
        let keyword = change.keyword.unwrap_or_default();
        check_keyword(&keyword)?;
        keywords.push((keyword, change.whole_word.unwrap_or(true)));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let fields = Fields {
        title: title.trim(),
        context: &context,
        action,
        expires_at,
    };
    let filter = db::filters::insert(&mut *tx, owner.id, &fields, now).await?;
    for (keyword, whole_word) in keywords {
        db::filters::insert_keyword(&mut *tx, filter.id, &keyword, whole_word, now).await?;
    }
    tx.commit().await?;
    view(state, filter).await
}

pub async fn update(
    state: &AppState,
    owner: &Actor,
    id: i64,
    input: FilterInput,
) -> Result<FilterView> {
    let filter = owned(state, owner, id).await?;
    let title = input.title.unwrap_or_else(|| filter.title.clone());
    check_title(&title)?;
    let context = check_context(input.context.as_deref().unwrap_or(&filter.context))?;
    let action = check_action(input.action.as_deref().unwrap_or(&filter.action))?;
    let expires_at = match input.expires_in {
        None => filter.expires_at,
        Some(seconds) => expiry(state, seconds)?,
    };
    let existing = db::filters::keywords_of(&state.db, &[filter.id]).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let fields = Fields {
        title: title.trim(),
        context: &context,
        action,
        expires_at,
    };
    let filter = db::filters::update(&mut *tx, filter.id, &fields, now).await?;
    for change in input.keywords {
        match change.id {
            Some(keyword_id) => {
                let current = existing
                    .iter()
                    .find(|k| k.id == keyword_id)
                    .ok_or(Error::NotFound)?;
                if change.destroy {
                    db::filters::delete_keyword(&mut *tx, keyword_id).await?;
                    continue;
                }
                let keyword = change.keyword.unwrap_or_else(|| current.keyword.clone());
                check_keyword(&keyword)?;
                db::filters::update_keyword(
                    &mut *tx,
                    keyword_id,
                    &keyword,
                    change.whole_word.unwrap_or(current.whole_word),
                )
                .await?;
            }
            None if change.destroy || is_blank(&change) => {}
            None => {
                let keyword = change.keyword.unwrap_or_default();
                check_keyword(&keyword)?;
                db::filters::insert_keyword(
                    &mut *tx,
                    filter.id,
                    &keyword,
                    change.whole_word.unwrap_or(true),
                    now,
                )
                .await?;
            }
        }
    }
    tx.commit().await?;
    view(state, filter).await
}

pub async fn delete(state: &AppState, owner: &Actor, id: i64) -> Result<()> {
    if !db::filters::delete(&state.db, owner.id, id).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

pub async fn keywords(
    state: &AppState,
    owner: &Actor,
    filter_id: i64,
) -> Result<Vec<FilterKeyword>> {
    let filter = owned(state, owner, filter_id).await?;
    Ok(db::filters::keywords_of(&state.db, &[filter.id]).await?)
}

pub async fn add_keyword(
    state: &AppState,
    owner: &Actor,
    filter_id: i64,
    keyword: &str,
    whole_word: Option<bool>,
) -> Result<FilterKeyword> {
    let filter = owned(state, owner, filter_id).await?;
    check_keyword(keyword)?;
    Ok(db::filters::insert_keyword(
        &state.db,
        filter.id,
        keyword,
        whole_word.unwrap_or(true),
        state.clock.now(),
    )
    .await?)
}

pub async fn keyword(state: &AppState, owner: &Actor, id: i64) -> Result<FilterKeyword> {
    db::filters::find_keyword(&state.db, owner.id, id)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn update_keyword(
    state: &AppState,
    owner: &Actor,
    id: i64,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> Result<FilterKeyword> {
    let current = self::keyword(state, owner, id).await?;
    let keyword = keyword.unwrap_or(&current.keyword);
    check_keyword(keyword)?;
    Ok(db::filters::update_keyword(
        &state.db,
        id,
        keyword,
        whole_word.unwrap_or(current.whole_word),
    )
    .await?)
}

pub async fn delete_keyword(state: &AppState, owner: &Actor, id: i64) -> Result<()> {
    let keyword = self::keyword(state, owner, id).await?;
    db::filters::delete_keyword(&state.db, keyword.id).await?;
    Ok(())
}

pub async fn statuses(
    state: &AppState,
    owner: &Actor,
    filter_id: i64,
) -> Result<Vec<FilterStatus>> {
    let filter = owned(state, owner, filter_id).await?;
    Ok(db::filters::statuses_of(&state.db, &[filter.id]).await?)
}

/// Adds a status the owner can see to a filter.
pub async fn add_status(
    state: &AppState,
    owner: &Actor,
    filter_id: i64,
    post_id: i64,
) -> Result<FilterStatus> {
    let filter = owned(state, owner, filter_id).await?;
    let post = db::posts::find_by_id(&state.db, post_id)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or(Error::NotFound)?;
    if !posts::can_see(state, &post, Some(owner)).await? {
        return Err(Error::NotFound);
    }
    db::filters::insert_status(&state.db, filter.id, post.id, state.clock.now())
        .await?
        .ok_or_else(|| invalid("Status has already been taken"))
}

pub async fn status(state: &AppState, owner: &Actor, id: i64) -> Result<FilterStatus> {
    db::filters::find_status(&state.db, owner.id, id)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn remove_status(state: &AppState, owner: &Actor, id: i64) -> Result<()> {
    let entry = status(state, owner, id).await?;
    db::filters::delete_status(&state.db, entry.id).await?;
    Ok(())
}

/// A live filter: its row (for the `FilterResult` a match shows) and its
/// rule (for matching).
#[derive(Debug, Clone)]
pub struct LiveFilter {
    pub row: Filter,
    pub rule: rules::Filter,
}

/// The viewer's filters in force now, with their keywords and statuses:
/// read once per page of statuses.
pub async fn live(state: &AppState, viewer: &Actor) -> Result<Vec<LiveFilter>> {
    let now = state.clock.now();
    let filters = db::filters::live(&state.db, viewer.id, now).await?;
    if filters.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = filters.iter().map(|f| f.id).collect();
    let mut keywords: HashMap<i64, Vec<rules::Keyword>> = HashMap::new();
    for k in db::filters::keywords_of(&state.db, &ids).await? {
        keywords
            .entry(k.filter_id)
            .or_default()
            .push(rules::Keyword {
                keyword: k.keyword,
                whole_word: k.whole_word,
            });
    }
    let mut statuses: HashMap<i64, Vec<i64>> = HashMap::new();
    for s in db::filters::statuses_of(&state.db, &ids).await? {
        statuses.entry(s.filter_id).or_default().push(s.post_id);
    }
    Ok(filters
        .into_iter()
        .map(|row| LiveFilter {
            rule: rules::Filter {
                id: row.id,
                context: row
                    .context
                    .iter()
                    .filter_map(|c| Context::parse(c))
                    .collect(),
                // Unknown actions are read as warnings, as Mastodon asks
                // clients to.
                action: Action::parse(&row.action).unwrap_or(Action::Warn),
                expires_at: row.expires_at,
                keywords: keywords.remove(&row.id).unwrap_or_default(),
                status_ids: statuses.remove(&row.id).unwrap_or_default(),
            },
            row,
        })
        .collect())
}

/// A v1 filter as given (`POST`/`PUT /api/v1/filters`): one keyword of a
/// filter, with the filter's settings. What is left out stays as it is
/// (or takes Mastodon's default when creating).
#[derive(Debug, Clone, Default)]
pub struct V1Input {
    pub phrase: Option<String>,
    pub context: Option<Vec<String>>,
    /// `hide` rather than `warn`.
    pub irreversible: Option<bool>,
    pub whole_word: Option<bool>,
    /// Seconds from now; `Some(None)` (given empty) means never.
    pub expires_in: Option<Option<i64>>,
}

/// Mastodon's refusal to change, through a v1 filter, settings its filter
/// shares with other keywords.
pub const V1_SHARED: &str = "Validation failed: These parameters cannot be changed from this application because they apply to more than one filter keyword. Use a more recent application or the web interface.";

/// Creates a filter named after the phrase, with the phrase as its one
/// keyword (Mastodon 4's v1 filters); returns it and the keyword's id (the
/// v1 filter's).
pub async fn v1_create(
    state: &AppState,
    owner: &Actor,
    input: V1Input,
) -> Result<(FilterView, i64)> {
    let phrase = input.phrase.unwrap_or_default();
    let action = if input.irreversible.unwrap_or(false) {
        Action::Hide
    } else {
        Action::Warn
    };
    let view = create(
        state,
        owner,
        FilterInput {
            title: Some(phrase.clone()),
            context: input.context,
            action: Some(action.as_str().to_string()),
            expires_in: input.expires_in,
            keywords: vec![KeywordChange {
                id: None,
                keyword: Some(phrase),
                whole_word: Some(input.whole_word.unwrap_or(true)),
                destroy: false,
            }],
        },
    )
    .await?;
    let keyword = view
        .keywords
        .first()
        .map(|k| k.id)
        .ok_or_else(|| invalid("Keyword can't be blank"))?;
    Ok((view, keyword))
}

/// Changes the v1 filter `keyword_id`: its keyword, and the settings of its
/// filter (refused when the filter has other keywords, as Mastodon does).
pub async fn v1_update(
    state: &AppState,
    owner: &Actor,
    keyword_id: i64,
    input: V1Input,
) -> Result<FilterView> {
    let current = keyword(state, owner, keyword_id).await?;
    let filter = owned(state, owner, current.filter_id).await?;
    let action = input.irreversible.map(|hide| {
        if hide {
            Action::Hide.as_str()
        } else {
            Action::Warn.as_str()
        }
    });
    let title = input.phrase.clone();
    let context = match &input.context {
        Some(c) => Some(check_context(c)?),
        None => None,
    };
    let expires_at = match input.expires_in {
        None => filter.expires_at,
        Some(seconds) => expiry(state, seconds)?,
    };
    let changed = title.as_deref().is_some_and(|t| t.trim() != filter.title)
        || action.is_some_and(|a| a != filter.action)
        || context.as_ref().is_some_and(|c| *c != filter.context)
        || expires_at != filter.expires_at;
    let keyword_count = db::filters::keywords_of(&state.db, &[filter.id])
        .await?
        .len();
    if changed && keyword_count > 1 {
        return Err(Error::Validation(V1_SHARED.into()));
    }
    let phrase = input.phrase.unwrap_or_else(|| current.keyword.clone());
    check_keyword(&phrase)?;
    let title = title.unwrap_or_else(|| filter.title.clone());
    check_title(&title)?;
    let context = context.unwrap_or_else(|| filter.context.clone());
    let mut tx = state.db.begin().await?;
    db::filters::update_keyword(
        &mut *tx,
        keyword_id,
        &phrase,
        input.whole_word.unwrap_or(current.whole_word),
    )
    .await?;
    let filter = if changed {
        let fields = Fields {
            title: title.trim(),
            context: &context,
            action: action.unwrap_or(&filter.action),
            expires_at,
        };
        db::filters::update(&mut *tx, filter.id, &fields, state.clock.now()).await?
    } else {
        filter
    };
    tx.commit().await?;
    view(state, filter).await
}
