//! Follow suggestions (Mastodon 4.3+'s `AccountSuggestions`): accounts
//! followed by the accounts one follows (`friends_of_friends`), the
//! accounts this instance's people followed most lately (`most_followed`)
//! and those whose posts they liked or reposted most (`most_interactions`),
//! all read from this instance's data. Only discoverable accounts, never
//! oneself, nor accounts one follows or asked to follow, blocks, is
//! blocked by, mutes, hides the domain of, or dismissed (dismissals are
//! remembered).
//!
//! Mastodon's `featured` (staff picks) and `similar_profiles` (its search
//! index) sources have no counterpart here. Mastodon shuffles the list it
//! caches for 15 minutes; Skein answers in the sources' order, strongest
//! first, read afresh.

use chrono::Duration;

use crate::db;
use crate::error::{Error, Result};
use crate::service::types::Actor;
use crate::state::AppState;

/// How many candidates each source gives before they are merged.
const PER_SOURCE: i64 = 200;
/// How far back `most_followed` and `most_interactions` look.
const GLOBAL_WINDOW: Duration = Duration::days(30);

/// Where a suggestion came from (Mastodon's source keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    FriendsOfFriends,
    MostFollowed,
    MostInteractions,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::FriendsOfFriends => "friends_of_friends",
            Source::MostFollowed => "most_followed",
            Source::MostInteractions => "most_interactions",
        }
    }

    /// The deprecated single `source` of the v2 entity.
    pub fn legacy(self) -> &'static str {
        match self {
            Source::FriendsOfFriends => "past_interactions",
            Source::MostFollowed | Source::MostInteractions => "global",
        }
    }
}

/// An account suggested, with every source that suggested it.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub account: Actor,
    pub sources: Vec<Source>,
}

/// Suggestions for `viewer`, `offset` and `limit` applied to the merged
/// list.
pub async fn get(
    state: &AppState,
    viewer: &Actor,
    limit: i64,
    offset: i64,
) -> Result<Vec<Suggestion>> {
    let now = state.clock.now();
    let since = now - GLOBAL_WINDOW;
    let lists = [
        (
            Source::FriendsOfFriends,
            db::suggestions::friends_of_friends(&state.db, viewer.id, now, PER_SOURCE).await?,
        ),
        (
            Source::MostFollowed,
            db::suggestions::most_followed(&state.db, viewer.id, now, PER_SOURCE, since).await?,
        ),
        (
            Source::MostInteractions,
            db::suggestions::most_interactions(&state.db, viewer.id, now, PER_SOURCE, since)
                .await?,
        ),
    ];
    let mut merged: Vec<(i64, Vec<Source>)> = Vec::new();
    for (source, ids) in lists {
        for id in ids {
            match merged.iter_mut().find(|(known, _)| *known == id) {
                Some((_, sources)) => sources.push(source),
                None => merged.push((id, vec![source])),
            }
        }
    }
    let page: Vec<(i64, Vec<Source>)> = merged
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.max(0) as usize)
        .collect();
    let ids: Vec<i64> = page.iter().map(|(id, _)| *id).collect();
    let actors = db::actors::find_by_ids(&state.db, &ids).await?;
    Ok(page
        .into_iter()
        .filter_map(|(id, sources)| {
            actors
                .iter()
                .find(|a| a.id == id)
                .map(|account| Suggestion {
                    account: account.clone(),
                    sources,
                })
        })
        .collect())
}

/// Never suggests `target` to `viewer` again. An unknown account is "not
/// found".
pub async fn dismiss(state: &AppState, viewer: &Actor, target: i64) -> Result<()> {
    db::actors::find_by_id(&state.db, target)
        .await?
        .ok_or(Error::NotFound)?;
    db::suggestions::dismiss(&state.db, viewer.id, target, state.clock.now()).await?;
    Ok(())
}
