//! What an account says about others on its own: endorsements (accounts
//! featured on its profile), private notes, and which of the accounts it
//! follows follow someone (familiar followers). Nothing here is sent to
//! other servers: Mastodon's actor names no endorsements collection.

use crate::db::{self, actors::Actor};
use crate::domain::limits;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Endorses an account the viewer follows (Mastodon refuses others).
pub async fn endorse(state: &AppState, actor: &Actor, target: &Actor) -> Result<()> {
    let following = db::views::relationships(&state.db, actor.id, &[target.id], state.clock.now())
        .await?
        .first()
        .is_some_and(|r| r.following);
    if !following {
        return Err(Error::Validation(
            "Validation failed: You must be already following the person you want to endorse"
                .into(),
        ));
    }
    db::endorsements::endorse(&state.db, actor.id, target.id, state.clock.now()).await?;
    Ok(())
}

pub async fn unendorse(state: &AppState, actor: &Actor, target: &Actor) -> Result<()> {
    db::endorsements::unendorse(&state.db, actor.id, target.id).await?;
    Ok(())
}

/// Sets the viewer's private note about an account (empty: none).
pub async fn set_note(
    state: &AppState,
    actor: &Actor,
    target: &Actor,
    comment: &str,
) -> Result<()> {
    if limits::too_long(comment, limits::ACCOUNT_NOTE) {
        return Err(Error::Validation(format!(
            "Validation failed: Comment is too long (maximum is {} characters)",
            limits::ACCOUNT_NOTE
        )));
    }
    db::endorsements::set_note(&state.db, actor.id, target.id, comment, state.clock.now()).await?;
    Ok(())
}

/// For each of `ids` (in order, unknown ones left out): the accounts the
/// viewer follows that follow it.
pub async fn familiar_followers(
    state: &AppState,
    viewer: &Actor,
    ids: &[i64],
) -> Result<Vec<(i64, Vec<Actor>)>> {
    let known = crate::service::accounts::many_by_id(state, ids).await?;
    let pairs = db::follows::familiar_followers(&state.db, viewer.id, ids).await?;
    Ok(known
        .iter()
        .map(|account| {
            let followers = pairs
                .iter()
                .filter(|(target, follower)| {
                    *target == account.id && crate::service::accounts::shown(follower)
                })
                .map(|(_, follower)| follower.clone())
                .collect();
            (account.id, followers)
        })
        .collect())
}
