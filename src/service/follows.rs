//! Following: local accounts following local or remote ones, follow requests
//! for locked accounts, and the activities each step sends.

use sqlx::PgConnection;

use crate::db::{self, actors::Actor, follows::Follow};
use crate::domain::notifications::NotificationKind;
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::service::outbox;
use crate::state::AppState;

pub use crate::domain::follows::FollowState;

/// `follower` (local) follows `target`. Remote follows stay requested until
/// the target's server accepts them.
pub async fn follow(state: &AppState, follower: &Actor, target: &Actor) -> Result<FollowState> {
    if !follower.is_local() {
        return Err(Error::Forbidden(
            "only local accounts follow from here".into(),
        ));
    }
    if follower.id == target.id {
        return Err(Error::Validation("an account cannot follow itself".into()));
    }
    if target.kind == "Application" && target.is_local() {
        return Err(Error::Validation(
            "the instance actor cannot be followed".into(),
        ));
    }
    if db::blocks::between(&state.db, follower.id, target.id).await? {
        return Err(Error::Forbidden(
            "a block stands between these accounts".into(),
        ));
    }
    if let Some(existing) = db::follows::find(&state.db, follower.id, target.id).await? {
        return Ok(existing.state);
    }
    if target.is_local() {
        // A limited account's follows wait for approval, as from afar.
        let new_state = if target.manually_approves_followers
            || db::actors::is_limited(&state.db, follower.id).await?
        {
            FollowState::Requested
        } else {
            FollowState::Following
        };
        let mut tx = state.db.begin().await?;
        let follow = db::follows::upsert(&mut *tx, follower.id, target.id, None, new_state).await?;
        let kind = match follow.state {
            FollowState::Following => NotificationKind::Follow,
            FollowState::Requested => NotificationKind::FollowRequest,
        };
        db::notifications::notify(
            &mut tx,
            target.id,
            kind,
            follower.id,
            None,
            state.clock.now(),
        )
        .await?;
        tx.commit().await?;
        return Ok(follow.state);
    }
    if !db::users::is_federating(&state.db, follower.id).await? {
        return Err(Error::Forbidden(
            "fediverse sharing is off for this account: it cannot follow remote accounts".into(),
        ));
    }
    let id = activities::new_id(&state.urls);
    let mut tx = state.db.begin().await?;
    let follow = db::follows::upsert(
        &mut *tx,
        follower.id,
        target.id,
        Some(&id),
        FollowState::Requested,
    )
    .await?;
    let activity = activities::follow(&id, &follower.ap_id, &target.ap_id);
    outbox::queue(
        &mut tx,
        state,
        follower.id,
        &activity,
        std::slice::from_ref(&target.inbox_url),
    )
    .await?;
    tx.commit().await?;
    Ok(follow.state)
}

/// `follower` (local) stops following `target`, or withdraws its request.
pub async fn unfollow(state: &AppState, follower: &Actor, target: &Actor) -> Result<()> {
    let Some(follow) = db::follows::find(&state.db, follower.id, target.id).await? else {
        return Ok(());
    };
    let mut tx = state.db.begin().await?;
    sever(&mut tx, state, follower, &follow, target).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a relation between a local account and `other` inside the caller's
/// transaction, and tells `other`'s server: the local account's own follow
/// (or request) is undone with Undo(Follow); a follow of the local account
/// is refused with Reject(Follow), as Mastodon does when it removes a
/// follower.
pub async fn sever(
    tx: &mut PgConnection,
    state: &AppState,
    local: &Actor,
    follow: &Follow,
    other: &Actor,
) -> Result<()> {
    db::follows::delete(&mut *tx, follow.id).await?;
    let id = activities::new_id(&state.urls);
    let activity = if follow.follower_id == local.id {
        let follow_id = follow
            .ap_id
            .clone()
            .unwrap_or_else(|| activities::new_id(&state.urls));
        activities::undo(
            &id,
            &local.ap_id,
            activities::follow_object(&follow_id, &local.ap_id, &other.ap_id),
        )
    } else {
        activities::reject(&id, &local.ap_id, follow_as_sent(follow, other, local))
    };
    outbox::queue_for(tx, state, local, other, &activity).await
}

/// A change to a follow's options; None leaves a part as it is.
#[derive(Debug, Clone, Default)]
pub struct OptionsChange {
    pub reblogs: Option<bool>,
    pub notify: Option<bool>,
    /// Some(None): every language.
    pub languages: Option<Option<Vec<String>>>,
}

impl OptionsChange {
    pub fn is_empty(&self) -> bool {
        self.reblogs.is_none() && self.notify.is_none() && self.languages.is_none()
    }
}

/// Changes the options of `follower`'s follow (or request) of `target`, as
/// Mastodon's follow endpoint does for an account already followed. Local
/// only: other servers are not told. Languages are kept as ISO 639-1 codes.
pub async fn set_options(
    state: &AppState,
    follower: &Actor,
    target: &Actor,
    change: &OptionsChange,
) -> Result<()> {
    if change.is_empty() {
        return Ok(());
    }
    let mut options = db::follows::options(&state.db, follower.id, target.id)
        .await?
        .ok_or_else(|| Error::Validation("this account is not followed".into()))?;
    if let Some(reblogs) = change.reblogs {
        options.show_reblogs = reblogs;
    }
    if let Some(notify) = change.notify {
        options.notify = notify;
    }
    if let Some(languages) = &change.languages {
        options.languages = match languages {
            None => None,
            Some(list) => {
                let mut codes = Vec::new();
                for code in list.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
                    let base = code
                        .split('-')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    if !(2..=3).contains(&base.len())
                        || !base.chars().all(|c| c.is_ascii_lowercase())
                    {
                        return Err(Error::Validation(format!(
                            "`{code}` is not a language code"
                        )));
                    }
                    if !codes.contains(&base) {
                        codes.push(base);
                    }
                }
                (!codes.is_empty()).then_some(codes)
            }
        };
    }
    db::follows::set_options(&state.db, follower.id, target.id, &options).await?;
    Ok(())
}

/// Pending follow requests to a local account.
pub async fn requests(state: &AppState, followee: &Actor) -> Result<Vec<Actor>> {
    let mut actors = Vec::new();
    for id in db::follows::pending_requests(&state.db, followee.id).await? {
        if let Some(actor) = db::actors::find_by_id(&state.db, id).await? {
            actors.push(actor);
        }
    }
    Ok(actors)
}

/// `followee` (local, locked) approves the request of `follower`.
pub async fn approve(state: &AppState, followee: &Actor, follower: &Actor) -> Result<()> {
    answer(state, followee, follower, true).await
}

/// `followee` (local) rejects the request of `follower`, or removes it from
/// its followers.
pub async fn reject(state: &AppState, followee: &Actor, follower: &Actor) -> Result<()> {
    answer(state, followee, follower, false).await
}

async fn answer(state: &AppState, followee: &Actor, follower: &Actor, accept: bool) -> Result<()> {
    let follow = db::follows::find(&state.db, follower.id, followee.id)
        .await?
        .filter(|f| !accept || f.state == FollowState::Requested)
        .ok_or(Error::NotFound)?;
    let (id, object) = (
        activities::new_id(&state.urls),
        follow_as_sent(&follow, follower, followee),
    );
    let activity = if accept {
        activities::accept(&id, &followee.ap_id, object)
    } else {
        activities::reject(&id, &followee.ap_id, object)
    };
    let mut tx = state.db.begin().await?;
    if accept {
        db::follows::set_accepted(&mut *tx, follow.id).await?;
    } else {
        db::follows::delete(&mut *tx, follow.id).await?;
    }
    outbox::queue_for(&mut tx, state, followee, follower, &activity).await?;
    tx.commit().await?;
    Ok(())
}

/// The Follow the follower sent, as Accept and Reject embed it.
fn follow_as_sent(follow: &Follow, follower: &Actor, followee: &Actor) -> serde_json::Value {
    match &follow.ap_id {
        Some(id) => activities::follow_object(id, &follower.ap_id, &followee.ap_id),
        None => serde_json::json!({
            "type": "Follow", "actor": follower.ap_id, "object": followee.ap_id
        }),
    }
}
