//! Lists (<https://docs.joinmastodon.org/methods/lists/>): a local account
//! groups accounts it follows into timelines of their own. Lists are
//! private: nothing is sent to other servers.

use crate::db::{self, actors::Actor, lists::List, posts::Post, timelines::Page, views::Listed};
use crate::domain::limits;
use crate::domain::lists::{MAX_LISTS, RepliesPolicy};
use crate::error::{Error, Result};
use crate::state::AppState;

/// A list's settings as given; what is left out stays as it is (or takes
/// Mastodon's default when creating).
#[derive(Debug, Clone, Default)]
pub struct ListInput {
    pub title: Option<String>,
    pub replies_policy: Option<String>,
    pub exclusive: Option<bool>,
}

fn check_title(title: &str) -> Result<&str> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::Validation(
            "Validation failed: Title can't be blank".into(),
        ));
    }
    if limits::too_long(title, limits::LIST_TITLE) {
        return Err(Error::Validation(format!(
            "Validation failed: Title is too long (maximum is {} characters)",
            limits::LIST_TITLE
        )));
    }
    Ok(title)
}

fn check_policy(raw: &str) -> Result<RepliesPolicy> {
    RepliesPolicy::parse(raw)
        .ok_or_else(|| Error::Validation(format!("'{raw}' is not a valid replies_policy")))
}

/// A list of `owner`; anyone else's is not found.
pub async fn get(state: &AppState, owner: &Actor, id: i64) -> Result<List> {
    db::lists::find(&state.db, owner.id, id)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn all(state: &AppState, owner: &Actor) -> Result<Vec<List>> {
    Ok(db::lists::all(&state.db, owner.id).await?)
}

pub async fn create(state: &AppState, owner: &Actor, input: ListInput) -> Result<List> {
    let title = input.title.unwrap_or_default();
    let title = check_title(&title)?;
    let policy = check_policy(input.replies_policy.as_deref().unwrap_or("list"))?;
    if db::lists::count(&state.db, owner.id).await? >= MAX_LISTS {
        return Err(Error::Validation(
            "Validation failed: You have reached the maximum number of lists".into(),
        ));
    }
    Ok(db::lists::insert(
        &state.db,
        owner.id,
        title,
        policy.as_str(),
        input.exclusive.unwrap_or(false),
        state.clock.now(),
    )
    .await?)
}

pub async fn update(state: &AppState, owner: &Actor, id: i64, input: ListInput) -> Result<List> {
    let list = get(state, owner, id).await?;
    let title = input.title.unwrap_or_else(|| list.title.clone());
    let title = check_title(&title)?;
    let policy = check_policy(
        input
            .replies_policy
            .as_deref()
            .unwrap_or(&list.replies_policy),
    )?;
    Ok(db::lists::update(
        &state.db,
        list.id,
        title,
        policy.as_str(),
        input.exclusive.unwrap_or(list.exclusive),
    )
    .await?)
}

pub async fn delete(state: &AppState, owner: &Actor, id: i64) -> Result<()> {
    if !db::lists::delete(&state.db, owner.id, id).await? {
        return Err(Error::NotFound);
    }
    Ok(())
}

/// The members of a list, a page at a time (all of them without a page).
pub async fn members(
    state: &AppState,
    owner: &Actor,
    id: i64,
    page: Option<Page>,
) -> Result<Vec<Listed>> {
    let list = get(state, owner, id).await?;
    Ok(db::lists::members(&state.db, list.id, page).await?)
}

/// Adds accounts the owner follows (or has asked to follow) to a list, all
/// or none: an unknown or unfollowed account is "not found", one already
/// on the list is refused, as Mastodon does. Owners may list themselves.
pub async fn add_members(state: &AppState, owner: &Actor, id: i64, members: &[i64]) -> Result<()> {
    let list = get(state, owner, id).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    for &member in members {
        let follow_id = if member == owner.id {
            None
        } else {
            let follow = db::follows::find(&mut *tx, owner.id, member)
                .await?
                .ok_or(Error::NotFound)?;
            Some(follow.id)
        };
        if !db::lists::add_member(&mut *tx, list.id, member, follow_id, now).await? {
            return Err(Error::Validation(
                "Validation failed: Account has already been taken".into(),
            ));
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Removes accounts from a list; absent ones are ignored.
pub async fn remove_members(
    state: &AppState,
    owner: &Actor,
    id: i64,
    members: &[i64],
) -> Result<()> {
    let list = get(state, owner, id).await?;
    db::lists::remove_members(&state.db, list.id, members).await?;
    Ok(())
}

/// The owner's lists that `member` is on.
pub async fn containing(state: &AppState, owner: &Actor, member: &Actor) -> Result<Vec<List>> {
    Ok(db::lists::containing(&state.db, owner.id, member.id).await?)
}

/// A list's timeline, as its owner may see it.
pub async fn timeline(state: &AppState, owner: &Actor, id: i64, page: Page) -> Result<Vec<Post>> {
    let list = get(state, owner, id).await?;
    let policy = RepliesPolicy::parse(&list.replies_policy).unwrap_or(RepliesPolicy::List);
    // Read through `AppState::read`: a replica may serve it.
    Ok(state
        .read
        .list_timeline(owner.id, list.id, policy, page, state.clock.now())
        .await?)
}
