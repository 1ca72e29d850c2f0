//! Likes and reposts from the inbox: Like, Announce, and their Undo. Each
//! is unique per actor and post in the database; a repeat while one stands
//! changes nothing, and one after its Undo counts again.

use super::{Received, Tx};
use crate::db::{self, actors::Actor};
use crate::domain::notifications::NotificationKind;
use crate::domain::visibility::Visibility;
use crate::error::Result;
use crate::federation::inbound::{Announce, Reference};
use crate::state::AppState;

/// Like of a post we have.
pub async fn on_like(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    id: &str,
    object: &str,
) -> Result<Received> {
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, object)
        .await?
        .filter(|p| p.deleted_at.is_none() && p.reblog_of_id.is_none())
    else {
        return Ok(Received::Ignored("the Like names no post here"));
    };
    if db::likes::insert(tx, actor.id, post.id, Some(id)).await? {
        db::notifications::notify(
            tx,
            post.author_id,
            NotificationKind::Favourite,
            actor.id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    Ok(Received::Applied)
}

/// Announce (repost) of a public post we have.
pub async fn on_announce(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    id: &str,
    announce: &Announce,
) -> Result<Received> {
    let Some(object) = &announce.post else {
        return Ok(Received::Ignored(
            "a group relayed something other than a post",
        ));
    };
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, object)
        .await?
        .filter(|p| p.deleted_at.is_none() && p.reblog_of_id.is_none() && p.visibility.is_public())
    else {
        return Ok(Received::Ignored("the Announce names no public post here"));
    };
    let visibility =
        Visibility::from_addressing(&announce.to, &announce.cc, actor.followers_url.as_deref());
    let now = state.clock.now();
    let published = announce.published.filter(|p| *p <= now).unwrap_or(now);
    let repost =
        db::posts::insert_repost(tx, id, actor.id, post.id, visibility, published, None).await?;
    if repost.is_some() {
        db::notifications::notify(
            tx,
            post.author_id,
            NotificationKind::Reblog,
            actor.id,
            Some(post.id),
            now,
        )
        .await?;
    }
    Ok(Received::Applied)
}

/// Undo of a Like or an Announce by the actor who sent it; whether
/// something was undone.
pub async fn on_undo(tx: &mut Tx<'_>, actor: &Actor, object: &Reference) -> Result<bool> {
    let undone = object.id.as_deref();
    let post = match &object.object {
        Some(target) => db::posts::find_by_ap_id(&mut **tx, target)
            .await?
            .map(|p| p.id),
        None => None,
    };
    if object.may_be("Like")
        && db::likes::delete(tx, actor.id, post, undone)
            .await?
            .is_some()
    {
        return Ok(true);
    }
    if object.may_be("Announce")
        && db::posts::delete_repost(tx, actor.id, post, undone)
            .await?
            .is_some()
    {
        return Ok(true);
    }
    Ok(false)
}
