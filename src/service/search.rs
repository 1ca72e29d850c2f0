//! Full-text search of posts for a signed-in viewer, as Mastodon 4.5
//! searches statuses: the query read by `domain::search`, the accounts
//! `from:` names looked up here (never fetched), the rest run by
//! `db::search` (who may find which post, newest first).

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::search::{self, Author, Condition};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Mastodon's page size, and the most one page holds.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 40;

/// The page asked for, and `account_id`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub account_id: Option<i64>,
    pub max_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: Option<i64>,
    pub offset: i64,
}

/// The posts `viewer` finds with `query`, newest first. A query that
/// names a hashtag or an account's handle (see
/// [`search::searches_posts`]) finds none, as in Mastodon; a malformed
/// date is a validation error.
pub async fn statuses(
    state: &AppState,
    viewer: &Actor,
    query: &str,
    options: Options,
) -> Result<Vec<Post>> {
    if !search::searches_posts(query) {
        return Ok(Vec::new());
    }
    let parsed = search::parse(query).map_err(|e| Error::Validation(e.0))?;
    let mut clauses = Vec::with_capacity(parsed.clauses.len());
    for clause in parsed.clauses {
        let author_id = match &clause.condition {
            Condition::From(author) => author_id(state, viewer, author).await?,
            _ => None,
        };
        clauses.push(db::search::Clause {
            negated: clause.negated,
            condition: clause.condition,
            author_id,
        });
    }
    let search = db::search::StatusSearch {
        viewer: viewer.id,
        clauses,
        scope: parsed.scope,
        account_id: options.account_id,
        max_id: options.max_id,
        min_id: options.min_id,
        limit: options.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
        offset: options.offset.max(0),
    };
    Ok(db::search::statuses(&state.db, &search, state.clock.now()).await?)
}

/// The account `from:` names, as stored here: `me`, a local username, or
/// `user@host` (this instance's host meaning a local account).
async fn author_id(state: &AppState, viewer: &Actor, author: &Author) -> Result<Option<i64>> {
    let found = match author {
        Author::Me => return Ok(Some(viewer.id)),
        Author::Handle { username, domain } => {
            let local = domain
                .as_deref()
                .is_none_or(|d| d == state.urls.domain().to_lowercase());
            if username.is_empty() {
                None
            } else if local {
                db::actors::find_local_person(&state.db, username).await?
            } else {
                let domain = domain.as_deref().unwrap_or_default();
                db::actors::find_remote_by_handle(&state.db, username, domain).await?
            }
        }
    };
    Ok(found.map(|a| a.id))
}
