//! Account migration, as Mastodon does it ("Moving or leaving accounts"):
//! aliases (`alsoKnownAs`) naming the accounts allowed to move here; moving
//! a local account away (`movedTo`, Update(Person) and Move to its
//! followers); and a Move received or made here, which carries the local
//! followers of the old account over to the new one with its local blocks
//! and mutes, as Mastodon's MoveWorker does.

use sqlx::PgConnection;
use url::Url;

use crate::db::{self, actors::Actor, users::User};
use crate::domain::follows::FollowState;
use crate::domain::notifications::NotificationKind;
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::service::{follows, outbox, profiles, remote_actors, sessions};
use crate::state::AppState;

/// Mastodon lets an account list this many aliases.
pub const MAX_ALIASES: usize = 10;

/// Sets a local account's aliases from what its owner typed (`user@host`
/// handles or actor URLs, resolved over federation), and tells its
/// followers' servers with Update(Person). Aliases are set on the account
/// being moved to, before the old account moves.
pub async fn set_aliases(state: &AppState, actor: &Actor, typed: &[String]) -> Result<Actor> {
    if !actor.is_local() {
        return Err(Error::Forbidden(
            "only local accounts have aliases here".into(),
        ));
    }
    let typed: Vec<&str> = typed
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    if typed.len() > MAX_ALIASES {
        return Err(Error::Validation(format!(
            "an account has at most {MAX_ALIASES} aliases"
        )));
    }
    let mut aliases = Vec::new();
    for query in typed {
        let alias = remote_actors::resolve(state, query)
            .await
            .map_err(|e| Error::Validation(format!("{query}: {e}")))?;
        if alias.id == actor.id {
            return Err(Error::Validation(
                "an account cannot be its own alias".into(),
            ));
        }
        if !aliases.contains(&alias.ap_id) {
            aliases.push(alias.ap_id);
        }
    }
    let mut tx = state.db.begin().await?;
    let updated =
        db::actors::set_also_known_as(&mut *tx, actor.id, &aliases, state.clock.now()).await?;
    profiles::queue_update(&mut tx, state, &updated).await?;
    tx.commit().await?;
    Ok(updated)
}

/// The account a Move goes to, read fresh (a remote one is fetched now, so
/// an alias set a moment ago counts), and only when it lists `origin` among
/// its aliases.
async fn verified_target(state: &AppState, origin: &Actor, target: &str) -> Result<Actor> {
    let url =
        Url::parse(target).map_err(|_| Error::Validation("the new account is not a URL".into()))?;
    let target = match db::actors::find_by_ap_id(&state.db, target).await? {
        Some(local) if local.is_local() => local,
        _ => remote_actors::fetch_and_store(state, &url).await?,
    };
    if target.id == origin.id {
        return Err(Error::Validation("an account cannot move to itself".into()));
    }
    if target.moved_to.is_some() {
        return Err(Error::Validation(
            "the new account has itself moved away".into(),
        ));
    }
    if !target.also_known_as.contains(&origin.ap_id) {
        return Err(Error::Validation(format!(
            "{} does not list this account among its aliases (alsoKnownAs): add the alias there first",
            target.ap_id
        )));
    }
    Ok(target)
}

/// Moves a local account to another (`user@host` or an actor URL) that
/// lists it as an alias: the old account is marked moved, its followers'
/// servers get Update(Person) and Move, and its local followers follow the
/// new account at once. The old account stays, marked moved.
/// As Mastodon asks, the account's password confirms it.
pub async fn move_to(
    state: &AppState,
    user: &User,
    actor: &Actor,
    target: &str,
    password: &str,
) -> Result<Actor> {
    if !actor.is_local() || user.actor_id != actor.id {
        return Err(Error::Forbidden(
            "only local accounts move from here".into(),
        ));
    }
    if !sessions::verify_password(state, user, password).await? {
        return Err(Error::Validation("the password is not right".into()));
    }
    let resolved = remote_actors::resolve(state, target)
        .await
        .map_err(|e| Error::Validation(format!("{}: {e}", target.trim())))?;
    let target = verified_target(state, actor, &resolved.ap_id).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let moved = db::actors::set_moved_to(&mut *tx, actor.id, &target.ap_id, now).await?;
    if db::users::is_federating(&mut *tx, actor.id).await? {
        profiles::queue_update(&mut tx, state, &moved).await?;
        let activity = activities::move_actor(
            &activities::new_id(&state.urls),
            &moved.ap_id,
            &target.ap_id,
            moved.followers_url.as_deref(),
        );
        let audience = outbox::Audience::followers_and(Vec::new());
        outbox::queue_to(&mut tx, state, actor.id, &activity, audience).await?;
    }
    carry_over(&mut tx, state, &moved, &target).await?;
    tx.commit().await?;
    tracing::info!(from = %moved.ap_id, to = %target.ap_id, "account moved");
    Ok(moved)
}

/// For the inbox, before its transaction: the verified target of a Move
/// from `actor`, or None (logged) when the Move must be ignored: its object
/// is not its actor, or the target does not list the actor as an alias.
pub async fn target_of_move(
    state: &AppState,
    actor: &Actor,
    object: &str,
    target: &str,
) -> Result<Option<Actor>> {
    if object != actor.ap_id {
        return Err(Error::Forbidden("an actor may only move itself".into()));
    }
    match verified_target(state, actor, target).await {
        Ok(target) => Ok(Some(target)),
        Err(Error::Validation(reason) | Error::Forbidden(reason)) => {
            tracing::info!(from = %actor.ap_id, to = %target, %reason, "Move ignored");
            Ok(None)
        }
        Err(Error::NotFound | Error::Gone) => {
            tracing::info!(from = %actor.ap_id, to = %target, "Move to an unknown account ignored");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// A Move received from a remote account, its target verified by
/// [`target_of_move`]: the old account is marked moved and carried over.
pub async fn on_move(
    tx: &mut PgConnection,
    state: &AppState,
    origin: &Actor,
    target: &Actor,
) -> Result<()> {
    db::actors::set_moved_to(&mut *tx, origin.id, &target.ap_id, state.clock.now()).await?;
    carry_over(tx, state, origin, target).await
}

/// What Mastodon's MoveWorker does for local accounts: each local follower
/// of `origin` follows `target` (a request if `target` is locked or remote)
/// and stops following `origin`; local blocks (sent as Block) and mutes of
/// `origin` extend to `target`. A follower blocked by or blocking `target`
/// only unfollows.
async fn carry_over(
    tx: &mut PgConnection,
    state: &AppState,
    origin: &Actor,
    target: &Actor,
) -> Result<()> {
    let now = state.clock.now();
    for follow in db::follows::by_local_followers(&mut *tx, origin.id).await? {
        let Some(follower) = db::actors::find_by_id(&mut *tx, follow.follower_id).await? else {
            continue;
        };
        if follower.id != target.id
            && !db::blocks::between(&mut *tx, follower.id, target.id).await?
        {
            follow_target(tx, state, &follower, target).await?;
        }
        if origin.is_local() {
            db::follows::delete(&mut *tx, follow.id).await?;
        } else {
            follows::sever(tx, state, &follower, &follow, origin).await?;
        }
    }
    // Each block carried over is a block of its own: follows between the
    // two end and a remote target's server gets the Block, as Mastodon's
    // BlockService does.
    for blocker_id in db::blocks::copy_local(&mut *tx, origin.id, target.id).await? {
        let Some(blocker) = db::actors::find_by_id(&mut *tx, blocker_id).await? else {
            continue;
        };
        let id = activities::new_id(&state.urls);
        db::blocks::insert(&mut *tx, blocker.id, target.id, Some(&id)).await?;
        db::follows::delete_between(&mut *tx, blocker.id, target.id).await?;
        let block = activities::block(&id, &blocker.ap_id, &target.ap_id);
        outbox::queue_for(tx, state, &blocker, target, &block).await?;
    }
    db::mutes::copy(&mut *tx, origin.id, target.id, now).await?;
    Ok(())
}

/// `follower` (local) follows `target` as part of a move, unless it already
/// does: directly for a local target, with a queued Follow for a remote one.
async fn follow_target(
    tx: &mut PgConnection,
    state: &AppState,
    follower: &Actor,
    target: &Actor,
) -> Result<()> {
    if db::follows::find(&mut *tx, follower.id, target.id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    if target.is_local() {
        let wanted = if target.manually_approves_followers {
            FollowState::Requested
        } else {
            FollowState::Following
        };
        let follow = db::follows::upsert(&mut *tx, follower.id, target.id, None, wanted).await?;
        let kind = if follow.state == FollowState::Following {
            NotificationKind::Follow
        } else {
            NotificationKind::FollowRequest
        };
        db::notifications::notify(tx, target.id, kind, follower.id, None, state.clock.now())
            .await?;
        return Ok(());
    }
    if !db::users::is_federating(&mut *tx, follower.id).await? {
        return Ok(());
    }
    let id = activities::new_id(&state.urls);
    db::follows::upsert(
        &mut *tx,
        follower.id,
        target.id,
        Some(&id),
        FollowState::Requested,
    )
    .await?;
    let activity = activities::follow(&id, &follower.ap_id, &target.ap_id);
    outbox::queue(
        tx,
        state,
        follower.id,
        &activity,
        std::slice::from_ref(&target.inbox_url),
    )
    .await?;
    Ok(())
}
