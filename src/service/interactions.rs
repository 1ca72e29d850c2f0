//! Likes and reposts by local accounts, and what they send: Like and
//! Announce (and Undo of each) to the post's author, reposts also to the
//! reposter's followers.

use serde_json::json;

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::interaction::Interaction;
use crate::domain::notifications::NotificationKind;
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::service::{outbox, posts, reply_controls};
use crate::state::AppState;

async fn author_of(state: &AppState, post: &Post) -> Result<Actor> {
    db::actors::find_by_id(&state.db, post.author_id)
        .await?
        .ok_or(Error::NotFound)
}

async fn visible(state: &AppState, actor: &Actor, post: &Post) -> Result<()> {
    if post.deleted_at.is_some()
        || post.reblog_of_id.is_some()
        || !posts::can_see(state, post, Some(actor)).await?
    {
        return Err(Error::NotFound);
    }
    Ok(())
}

pub async fn like(state: &AppState, actor: &Actor, post: &Post) -> Result<()> {
    visible(state, actor, post).await?;
    reply_controls::require(state, post, actor, Interaction::Like).await?;
    let author = author_of(state, post).await?;
    let id = activities::new_id(&state.urls);
    let mut tx = state.db.begin().await?;
    if !db::likes::insert(&mut tx, actor.id, post.id, Some(&id)).await? {
        return Ok(());
    }
    if author.id != actor.id {
        db::notifications::notify(
            &mut tx,
            author.id,
            NotificationKind::Favourite,
            actor.id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    let activity = activities::like(&id, &actor.ap_id, &post.ap_id, &author.ap_id);
    outbox::queue_for(&mut tx, state, actor, &author, &activity).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unlike(state: &AppState, actor: &Actor, post: &Post) -> Result<()> {
    let author = author_of(state, post).await?;
    let mut tx = state.db.begin().await?;
    let like_id = db::likes::find_ap_id(&mut tx, actor.id, post.id).await?;
    if db::likes::delete(&mut tx, actor.id, Some(post.id), None)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let like_id = like_id.unwrap_or_else(|| activities::new_id(&state.urls));
    let undo = activities::undo(
        &activities::new_id(&state.urls),
        &actor.ap_id,
        json!({ "id": like_id, "type": "Like", "actor": actor.ap_id, "object": post.ap_id }),
    );
    outbox::queue_for(&mut tx, state, actor, &author, &undo).await?;
    tx.commit().await?;
    Ok(())
}

/// Reposts a public or unlisted post.
pub async fn repost(state: &AppState, actor: &Actor, post: &Post) -> Result<Post> {
    visible(state, actor, post).await?;
    if !post.visibility.is_public() {
        return Err(Error::Validation(
            "only public and unlisted posts can be reposted".into(),
        ));
    }
    reply_controls::require(state, post, actor, Interaction::Announce).await?;
    // Reposting again answers with the repost there is (as Mastodon does).
    if let Some(existing) = db::posts::live_repost(&state.db, actor.id, post.id).await? {
        return Ok(existing);
    }
    let author = author_of(state, post).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let id = db::posts::next_id(&mut *tx, now).await?;
    let ap_id = format!("{}/activity", state.urls.post(&actor.username, id));
    let Some(repost) = db::posts::insert_repost(
        &mut tx,
        &ap_id,
        actor.id,
        post.id,
        Visibility::Public,
        now,
        Some(id),
    )
    .await?
    else {
        // A concurrent repost by the same account won: answer with it.
        drop(tx);
        return db::posts::live_repost(&state.db, actor.id, post.id)
            .await?
            .ok_or(Error::NotFound);
    };
    if author.id != actor.id {
        db::notifications::notify(
            &mut tx,
            author.id,
            NotificationKind::Reblog,
            actor.id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    if db::users::is_federating(&mut *tx, actor.id).await? {
        let activity = activities::announce(
            &ap_id,
            &actor.ap_id,
            &post.ap_id,
            &author.ap_id,
            actor.followers_url.as_deref(),
            &now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        outbox::queue_to(
            &mut tx,
            state,
            actor.id,
            &activity,
            repost_audience(&author),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(repost)
}

pub async fn unrepost(state: &AppState, actor: &Actor, post: &Post) -> Result<()> {
    let author = author_of(state, post).await?;
    let mut tx = state.db.begin().await?;
    let Some(removed) = db::posts::delete_repost(&mut tx, actor.id, Some(post.id), None).await?
    else {
        return Ok(());
    };
    if db::users::is_federating(&mut *tx, actor.id).await? {
        let undo = activities::undo(
            &activities::new_id(&state.urls),
            &actor.ap_id,
            json!({ "id": removed.ap_id, "type": "Announce", "actor": actor.ap_id, "object": post.ap_id }),
        );
        outbox::queue_to(&mut tx, state, actor.id, &undo, repost_audience(&author)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Where a repost (and its Undo) goes: the reposter's followers' servers and
/// the reposted author's.
fn repost_audience(author: &Actor) -> outbox::Audience {
    let mut inboxes = Vec::new();
    if !author.is_local() {
        inboxes.push(author.server_inbox());
    }
    outbox::Audience::followers_and(inboxes)
}
