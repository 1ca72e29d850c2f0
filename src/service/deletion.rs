//! Deleting a local account, as its owner asks (confirmed by the password):
//! every server that knew it gets Delete(Person), queued durably in the
//! transaction that removes the account's data; a tombstone keeps its
//! username from being taken and its actor URL answering 410 Gone.

use crate::db::{self, actors::Actor, users::User};
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::service::{media, outbox, profiles, sessions};
use crate::state::AppState;

/// Deletes the account of `user` (whose actor is `actor`): its posts,
/// likes, reposts, follows, blocks, mutes, bookmarks, lists, filters,
/// notifications, media files, sessions and tokens go; Delete(Person)
/// signed by the account's own key goes to every server that knew it.
/// Returns the tombstone.
pub async fn delete_account(
    state: &AppState,
    user: &User,
    actor: &Actor,
    password: &str,
) -> Result<Actor> {
    if !actor.is_local() || user.actor_id != actor.id {
        return Err(Error::Forbidden(
            "only a local account's owner deletes it".into(),
        ));
    }
    if !sessions::verify_password(state, user, password).await? {
        return Err(Error::Validation("the password is not right".into()));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let (tombstone, files, servers) = remove(&mut tx, state, actor, now).await?;
    tx.commit().await?;
    media::remove_files(state, &files).await;
    tracing::info!(actor = %tombstone.ap_id, servers, "account deleted");
    Ok(tombstone)
}

/// Removes a local account's data in the caller's transaction and queues
/// its Delete(Person) there (its owner deleting it, or a moderator deleting
/// a suspended account): the tombstone, the files to remove once the
/// transaction commits, and how many inboxes are told.
pub(crate) async fn remove(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(Actor, Vec<String>, usize)> {
    // Read before the rows go: who to tell, and which files to remove.
    let inboxes = if db::users::is_federating(&mut *tx, actor.id).await? {
        profiles::known_inboxes(&mut *tx, actor.id).await?
    } else {
        Vec::new()
    };
    let files = db::uploads::files_of_owner(&mut *tx, actor.id).await?;
    // The actor row's references cascade: user, sessions, tokens, posts,
    // likes, follows, uploads, queued deliveries.
    db::actors::delete_local(&mut *tx, actor.id).await?;
    let tombstone = db::actors::insert_tombstone(&mut *tx, actor, now).await?;
    let delete = activities::delete_actor(&activities::new_id(&state.urls), &tombstone.ap_id);
    outbox::queue(tx, state, tombstone.id, &delete, &inboxes).await?;
    Ok((tombstone, files, inboxes.len()))
}
