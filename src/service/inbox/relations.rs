//! Follows, blocks and profiles from the inbox: Follow, Accept and Reject
//! of a Follow, Undo (of a Follow, a Block, a Like or an Announce), Block,
//! and Update of the sender's own profile.

use url::Url;

use super::{Received, Tx, interactions};
use crate::db::{self, actors::Actor};
use crate::domain::follows::FollowState;
use crate::domain::notifications::NotificationKind;
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::federation::actor::{ActorError, RemoteActor};
use crate::federation::inbound::{Activity, Reference};
use crate::service::discovery::authority;
use crate::service::outbox;
use crate::state::AppState;

/// Whether an activity can be undone, and so may have been undone before it
/// arrived.
pub fn undoable(activity: &Activity) -> bool {
    matches!(
        activity,
        Activity::Follow { .. }
            | Activity::Block { .. }
            | Activity::Like { .. }
            | Activity::Announce(_)
    )
}

/// Whether an activity changes a relation between two actors (or an
/// interaction with a post), so that one actor's are applied one at a time.
pub fn changes_relations(activity: &Activity) -> bool {
    matches!(
        activity,
        Activity::Follow { .. }
            | Activity::Accept { .. }
            | Activity::Reject { .. }
            | Activity::Undo { .. }
            | Activity::Block { .. }
            | Activity::Like { .. }
            | Activity::Announce(_)
    )
}

/// The local actor `id` names, if it is one of ours that federates.
pub async fn local_target(tx: &mut Tx<'_>, state: &AppState, id: &str) -> Result<Option<Actor>> {
    let Ok(url) = Url::parse(id) else {
        return Ok(None);
    };
    if authority(&url) != state.urls.domain() {
        return Ok(None);
    }
    let Some(actor) = db::actors::find_by_ap_id(&mut **tx, id).await? else {
        return Ok(None);
    };
    if !matches!(actor.kind.as_str(), "Person" | "Service")
        || !db::users::is_federating(&mut **tx, actor.id).await?
    {
        return Ok(None);
    }
    Ok(Some(actor))
}

/// Follow: accepted at once for an open account, a request for a locked one,
/// refused when a block stands between them or the target blocks the
/// follower's domain. A Follow of an account already followed notifies no
/// one; it is answered again only when it comes with a new id.
pub async fn on_follow(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    follow_id: &str,
    object: &str,
) -> Result<Received> {
    let Some(target) = local_target(tx, state, object).await? else {
        return Ok(Received::Ignored("the Follow names no local account"));
    };
    let follow = activities::follow_object(follow_id, &actor.ap_id, &target.ap_id);
    // As Mastodon does, a follow from a domain the target blocks is refused
    // like one across a block.
    if db::blocks::between(&mut **tx, actor.id, target.id).await?
        || db::user_domain_blocks::blocks(&mut **tx, target.id, actor.domain.as_deref()).await?
    {
        let reject = activities::reject(&activities::new_id(&state.urls), &target.ap_id, follow);
        outbox::queue_for(tx, state, &target, actor, &reject).await?;
        return Ok(Received::Applied);
    }
    let before = db::follows::find(&mut **tx, actor.id, target.id).await?;
    // A follow from an account the moderators limited waits for approval,
    // as in Mastodon.
    let wanted = if target.manually_approves_followers
        || db::actors::is_limited(&mut **tx, actor.id).await?
    {
        FollowState::Requested
    } else {
        FollowState::Following
    };
    let stored =
        db::follows::upsert(&mut **tx, actor.id, target.id, Some(follow_id), wanted).await?;
    let accepted = stored.state == FollowState::Following;
    let changed = before.as_ref().is_none_or(|b| b.state != stored.state);
    if changed {
        let kind = if accepted {
            NotificationKind::Follow
        } else {
            NotificationKind::FollowRequest
        };
        db::notifications::notify(tx, target.id, kind, actor.id, None, state.clock.now()).await?;
    }
    // An accepted follow is confirmed, and confirmed again when the Follow
    // comes with a new id (its server lost the follow, as Mastodon
    // fast-forwards it); the same Follow again is a retry, already answered.
    let new_id = before
        .as_ref()
        .is_none_or(|b| b.ap_id.as_deref() != Some(follow_id));
    if accepted && (changed || new_id) {
        let accept = activities::accept(&activities::new_id(&state.urls), &target.ap_id, follow);
        outbox::queue_for(tx, state, &target, actor, &accept).await?;
    }
    Ok(Received::Applied)
}

/// Finds the follow an Accept, Reject or Undo refers to: by the Follow's id,
/// or by the pair an embedded Follow names.
async fn referenced_follow(
    tx: &mut Tx<'_>,
    object: &Reference,
) -> Result<Option<db::follows::Follow>> {
    if let Some(id) = &object.id
        && let Some(follow) = db::follows::find_by_ap_id(&mut **tx, id).await?
    {
        return Ok(Some(follow));
    }
    let (Some(follower), Some(followee)) = (&object.actor, &object.object) else {
        return Ok(None);
    };
    let follower = db::actors::find_by_ap_id(&mut **tx, follower).await?;
    let followee = db::actors::find_by_ap_id(&mut **tx, followee).await?;
    match (follower, followee) {
        (Some(a), Some(b)) => Ok(db::follows::find(&mut **tx, a.id, b.id).await?),
        _ => Ok(None),
    }
}

/// Accept or Reject of one of our Follows: only the followee may answer.
/// Either may come again (some servers reuse an Accept's id for every
/// follow of the same pair): an Accept of a pending follow always takes.
pub async fn on_answer(
    tx: &mut Tx<'_>,
    actor: &Actor,
    object: &Reference,
    accepted: bool,
) -> Result<Received> {
    if !object.may_be("Follow") {
        return Ok(Received::Ignored("the answer is not about a Follow"));
    }
    let Some(follow) = referenced_follow(tx, object).await? else {
        return Ok(Received::Ignored("the answer names no follow here"));
    };
    if follow.followee_id != actor.id {
        return Err(Error::Forbidden(
            "only the followed account may answer a follow".into(),
        ));
    }
    if accepted {
        db::follows::set_accepted(&mut **tx, follow.id).await?;
    } else {
        db::follows::delete(&mut **tx, follow.id).await?;
    }
    Ok(Received::Applied)
}

/// Undo of a Follow, a Block, a Like or an Announce, by the actor who did
/// it. An Undo that finds nothing to undo (it overtook its activity) is
/// remembered, the first time it comes, so that the activity has no effect
/// when it arrives.
pub async fn on_undo(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &Reference,
    first_time: bool,
) -> Result<Received> {
    if let Some(owner) = &object.actor
        && *owner != actor.ap_id
    {
        return Err(Error::Forbidden(
            "an actor may only undo its own activities".into(),
        ));
    }
    if object.may_be("Follow")
        && let Some(follow) = referenced_follow(tx, object).await?
    {
        if follow.follower_id != actor.id {
            return Err(Error::Forbidden(
                "an actor may only undo its own follows".into(),
            ));
        }
        db::follows::delete(&mut **tx, follow.id).await?;
        return Ok(Received::Applied);
    }
    if (object.may_be("Like") || object.may_be("Announce"))
        && interactions::on_undo(tx, actor, object).await?
    {
        return Ok(Received::Applied);
    }
    if object.may_be("Block") {
        let target = match &object.object {
            Some(id) => local_target(tx, state, id).await?,
            None => None,
        };
        let removed = db::blocks::delete(
            &mut **tx,
            actor.id,
            target.map(|t| t.id),
            object.id.as_deref(),
        )
        .await?;
        if removed {
            return Ok(Received::Applied);
        }
    }
    if first_time && let Some(undone) = &object.id {
        db::inbox::remember_early_undo(&mut **tx, actor.id, undone, state.clock.now()).await?;
    }
    Ok(Received::Ignored("the Undo finds nothing to undo"))
}

/// Block of a local account: recorded, and follows both ways end.
pub async fn on_block(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    id: &str,
    object: &str,
) -> Result<Received> {
    let Some(target) = local_target(tx, state, object).await? else {
        return Ok(Received::Ignored("the Block names no local account"));
    };
    db::blocks::insert(&mut **tx, actor.id, target.id, Some(id)).await?;
    db::follows::delete_between(&mut **tx, actor.id, target.id).await?;
    Ok(Received::Applied)
}

/// Update of the actor's own profile (its key included).
pub async fn on_update_actor(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &str,
    parsed: &Result<RemoteActor, ActorError>,
) -> Result<Received> {
    if object != actor.ap_id {
        return Err(Error::Forbidden(
            "an actor may only update its own profile".into(),
        ));
    }
    let parsed = parsed
        .as_ref()
        .map_err(|e| Error::BadRequest(format!("the updated actor is invalid: {e}")))?;
    let domain = actor.domain.clone().unwrap_or_default();
    if let Some(updated) =
        db::actors::upsert_remote(&mut **tx, parsed, &domain, state.clock.now()).await?
    {
        db::actors::replace_emojis(tx, updated.id, &parsed.emojis).await?;
        crate::service::remote_media::queue_profile(&mut **tx, state, &updated, &parsed.emojis)
            .await?;
    }
    Ok(Received::Applied)
}
