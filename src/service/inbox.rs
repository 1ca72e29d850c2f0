//! Receiving activities: check the HTTP signature as Mastodon does, check
//! every origin, then record the activity and apply its effect in one
//! transaction. An activity id seen before has no further effect.
//!
//! The checks, in order, each answering 4xx and changing nothing:
//! malformed JSON (400); unsigned, badly signed, stale or future-dated
//! (401); signed by someone other than the activity's `actor` (401); an
//! activity id on another host than its actor, or an object the actor does
//! not own (403).

use serde_json::Value;
use url::Url;

use crate::db::{self, actors::Actor};
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::federation::actor::parse_remote;
use crate::federation::fetch::id_of;
use crate::federation::signatures::{self, IncomingRequest};
use crate::service::discovery::authority;
use crate::service::{inbox_posts, moves, outbox, remote_actors, signed};
use crate::state::AppState;

/// Which inbox the activity was posted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbox {
    Shared,
    Person(String),
    InstanceActor,
}

/// A POST to an inbox, as the HTTP layer hands it over.
pub struct Incoming<'a> {
    pub inbox: Inbox,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// All values of a header, joined with ", ".
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub body: &'a [u8],
}

/// What became of an accepted activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// Recorded and applied.
    Applied,
    /// Its id was seen before: nothing more was done.
    Duplicate,
    /// Recorded, with nothing to do here (an activity type Skein does not
    /// act on yet, or a target it does not know).
    Ignored,
}

fn unauthorized(e: impl std::fmt::Display) -> Error {
    Error::Unauthorized(e.to_string())
}

pub async fn receive(state: &AppState, incoming: Incoming<'_>) -> Result<Received> {
    if let Inbox::Person(name) = &incoming.inbox {
        db::actors::find_shared_person(&state.db, name)
            .await?
            .ok_or(Error::NotFound)?;
    }
    let activity: Value = serde_json::from_slice(incoming.body)
        .map_err(|e| Error::BadRequest(format!("the body is not valid JSON: {e}")))?;
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::BadRequest("the activity has no id".into()))?
        .to_string();
    let kind = activity
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::BadRequest("the activity has no type".into()))?
        .to_string();
    let actor_id = activity
        .get("actor")
        .and_then(id_of)
        .ok_or_else(|| Error::BadRequest("the activity has no actor".into()))?
        .to_string();
    let actor_url =
        Url::parse(&actor_id).map_err(|_| Error::BadRequest("the actor is not a URL".into()))?;
    let id_url = Url::parse(&id).map_err(|_| Error::BadRequest("the id is not a URL".into()))?;

    // The signature, before anything is fetched.
    let signature = (incoming.header)("signature")
        .or_else(|| (incoming.header)("authorization").filter(|a| a.starts_with("Signature ")))
        .ok_or_else(|| unauthorized(signatures::SignatureError::Missing))?;
    let params = signatures::parse_signature(&signature).map_err(unauthorized)?;
    let domain = state.urls.domain();
    let request = IncomingRequest {
        method: "POST",
        path: incoming.path,
        query: incoming.query,
        host: &domain,
        header: incoming.header,
        body: incoming.body,
    };
    let now = state.clock.now();
    let strings = signatures::check_request(&params, &request, now).map_err(unauthorized)?;

    if authority(&id_url) != authority(&actor_url) {
        return Err(Error::Forbidden(
            "the activity id is not on its actor's host".into(),
        ));
    }
    // Nothing from a refused domain is fetched or stored, not even its key.
    crate::service::domain_policy::check_activity(state, &activity).await?;
    let deletes_itself =
        kind == "Delete" && activity.get("object").and_then(id_of) == Some(&actor_id);
    let actor = match remote_actors::get_or_fetch(state, &actor_url).await {
        Ok(actor) => actor,
        // An actor deletes itself: its document is gone, but the key we
        // kept can still check the signature.
        Err(remote_actors::ResolveError::Gone) if deletes_itself => {
            match db::actors::find_by_ap_id(&state.db, &actor_id).await? {
                Some(actor) => actor,
                None => return Ok(Received::Ignored),
            }
        }
        Err(e) => return Err(unauthorized(format!("the signer cannot be fetched: {e}"))),
    };
    if actor.is_local() {
        return Err(unauthorized("local actors do not deliver to this inbox"));
    }
    let actor = signed::verified_signer(state, actor, &params, &strings).await?;
    // Nothing from an account the moderators suspended.
    if actor.suspended_at.is_some() {
        return Err(Error::Forbidden("the account is suspended here".into()));
    }
    // A Create's object may have to be fetched: before the transaction.
    let created = if kind == "Create" {
        inbox_posts::object_of_create(state, &actor, &activity).await?
    } else {
        None
    };
    if let Some(object) = &created {
        inbox_posts::fetch_missing_parents(state, &actor, object).await?;
    }
    // A reply's approval, when it names one, is checked at its source.
    let reply_approved = match &created {
        Some(object) => crate::service::reply_controls::approval_holds(state, object).await,
        None => false,
    };
    if kind == "Announce" {
        inbox_posts::fetch_announced(state, &actor, &activity).await?;
    }
    // A Move's target is fetched fresh to check its aliases.
    let moved_to = if kind == "Move" {
        moves::target_of_move(state, &actor, &activity).await?
    } else {
        None
    };

    let mut removed_files = Vec::new();
    let mut tx = state.db.begin().await?;
    if !db::inbox::record(&mut *tx, &id, actor.id, &kind, &activity, now).await? {
        return Ok(Received::Duplicate);
    }
    if let Some(host) = &actor.domain {
        db::deliveries::heard_from(&mut tx, host).await?;
    }
    let received = match kind.as_str() {
        "Follow" => on_follow(&mut tx, state, &actor, &activity).await?,
        "Accept" | "Reject" => {
            let accepted = kind == "Accept";
            let rejected_reply = match activity.get("object").and_then(id_of) {
                Some(object) if !accepted => {
                    crate::service::reply_controls::on_reject(&mut tx, state, &actor, object)
                        .await?
                }
                _ => None,
            };
            if let Some(files) = rejected_reply {
                removed_files = files;
                Received::Applied
            } else if accepted
                && crate::service::reply_controls::on_accept(&mut tx, state, &actor, &activity)
                    .await?
            {
                Received::Applied
            } else {
                match inbox_posts::on_quote_answer(&mut tx, state, &actor, &activity, accepted)
                    .await?
                {
                    Some(done) => applied(done),
                    None => on_accept_or_reject(&mut tx, &actor, &activity, accepted).await?,
                }
            }
        }
        "Undo" => on_undo(&mut tx, state, &actor, &activity).await?,
        "Block" => on_block(&mut tx, state, &actor, &activity).await?,
        "Flag" => {
            applied(crate::service::reports::receive_flag(&mut tx, state, &actor, &activity).await?)
        }
        "Update" => on_update(&mut tx, state, &actor, &activity).await?,
        "Delete" => on_delete(&mut tx, state, &actor, &activity).await?,
        "Like" => applied(inbox_posts::on_like(&mut tx, state, &actor, &activity).await?),
        "QuoteRequest" => {
            applied(inbox_posts::on_quote_request(&mut tx, state, &actor, &activity).await?)
        }
        "Add" => applied(inbox_posts::on_pin(&mut tx, state, &actor, &activity, true).await?),
        "Remove" => applied(inbox_posts::on_pin(&mut tx, state, &actor, &activity, false).await?),
        "Announce" => applied(inbox_posts::on_announce(&mut tx, state, &actor, &activity).await?),
        "Move" => match &moved_to {
            Some(target) => {
                moves::on_move(&mut tx, state, &actor, target).await?;
                Received::Applied
            }
            None => Received::Ignored,
        },
        "Create" => match &created {
            Some(object)
                if inbox_posts::on_create(&mut tx, state, &actor, object, reply_approved)
                    .await? =>
            {
                Received::Applied
            }
            _ => Received::Ignored,
        },
        _ => Received::Ignored,
    };
    tx.commit().await?;
    crate::service::media::remove_files(state, &removed_files).await;
    outbox::wake(state);
    if kind == "Update"
        && received == Received::Applied
        && updates_an_actor(&activity)
        && let Some(updated) = db::actors::find_by_id(&state.db, actor.id).await?
    {
        crate::service::link_verification::check_if_needed(state, &updated);
    }
    Ok(received)
}

/// An Update whose object is an actor (a profile change), not a post.
fn updates_an_actor(activity: &Value) -> bool {
    activity
        .get("object")
        .and_then(|o| o.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| {
            matches!(
                t,
                "Person" | "Service" | "Application" | "Group" | "Organization"
            )
        })
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Postgres>;

fn applied(done: bool) -> Received {
    if done {
        Received::Applied
    } else {
        Received::Ignored
    }
}

/// The local actor an activity's object names, if it is one of ours that
/// federates.
async fn local_target(
    tx: &mut Tx<'_>,
    state: &AppState,
    object: Option<&Value>,
) -> Result<Option<Actor>> {
    let Some(id) = object.and_then(id_of) else {
        return Ok(None);
    };
    let Ok(url) = Url::parse(id) else {
        return Ok(None);
    };
    if authority(&url) != state.urls.domain() {
        return Ok(None);
    }
    let Some(actor) = db::actors::find_by_ap_id(&mut **tx, id).await? else {
        return Ok(None);
    };
    if actor.kind != "Person" || !db::users::is_federating(&mut **tx, actor.id).await? {
        return Ok(None);
    }
    Ok(Some(actor))
}

/// Follow: accepted at once for an open account, a request for a locked one,
/// refused when a block stands between them or the target blocks the
/// follower's domain.
async fn on_follow(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<Received> {
    let Some(target) = local_target(tx, state, activity.get("object")).await? else {
        return Ok(Received::Ignored);
    };
    let follow_id = activity
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if db::inbox::was_undone(&mut **tx, actor.id, follow_id).await? {
        return Ok(Received::Ignored);
    }
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
    // A follow from an account the moderators limited waits for approval,
    // as in Mastodon.
    let wanted = if target.manually_approves_followers
        || db::actors::is_limited(&mut **tx, actor.id).await?
    {
        "pending"
    } else {
        "accepted"
    };
    let stored =
        db::follows::upsert(&mut **tx, actor.id, target.id, Some(follow_id), wanted).await?;
    let kind = if stored.state == "accepted" {
        "follow"
    } else {
        "follow_request"
    };
    db::notifications::notify(tx, target.id, kind, actor.id, None, state.clock.now()).await?;
    if stored.state == "accepted" {
        let accept = activities::accept(&activities::new_id(&state.urls), &target.ap_id, follow);
        outbox::queue_for(tx, state, &target, actor, &accept).await?;
    }
    Ok(Received::Applied)
}

/// Finds the follow an Accept, Reject or Undo refers to: by the Follow's id,
/// or by the pair an embedded Follow names.
async fn referenced_follow(tx: &mut Tx<'_>, object: &Value) -> Result<Option<db::follows::Follow>> {
    if let Some(id) = id_of(object)
        && let Some(follow) = db::follows::find_by_ap_id(&mut **tx, id).await?
    {
        return Ok(Some(follow));
    }
    let (Some(follower), Some(followee)) = (
        object.get("actor").and_then(id_of),
        object.get("object").and_then(id_of),
    ) else {
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
async fn on_accept_or_reject(
    tx: &mut Tx<'_>,
    actor: &Actor,
    activity: &Value,
    accepted: bool,
) -> Result<Received> {
    let Some(object) = activity.get("object") else {
        return Err(Error::BadRequest("the activity has no object".into()));
    };
    if object.is_object() && object.get("type").and_then(Value::as_str) != Some("Follow") {
        return Ok(Received::Ignored);
    }
    let Some(follow) = referenced_follow(tx, object).await? else {
        return Ok(Received::Ignored);
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

/// Undo of a Follow or a Block, by the actor who did it.
async fn on_undo(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<Received> {
    let Some(object) = activity.get("object") else {
        return Err(Error::BadRequest("the activity has no object".into()));
    };
    if let Some(owner) = object.get("actor").and_then(id_of)
        && owner != actor.ap_id
    {
        return Err(Error::Forbidden(
            "an actor may only undo its own activities".into(),
        ));
    }
    let kind = object.get("type").and_then(Value::as_str);
    if (kind.is_none() || kind == Some("Follow"))
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
    if matches!(kind, None | Some("Like") | Some("Announce"))
        && inbox_posts::on_undo_interaction(tx, actor, object).await?
    {
        return Ok(Received::Applied);
    }
    if kind.is_none() || kind == Some("Block") {
        let target = local_target(tx, state, object.get("object")).await?;
        let removed =
            db::blocks::delete(&mut **tx, actor.id, target.map(|t| t.id), id_of(object)).await?;
        if removed {
            return Ok(Received::Applied);
        }
    }
    Ok(Received::Ignored)
}

/// Block of a local account: recorded, and follows both ways end.
async fn on_block(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<Received> {
    let Some(target) = local_target(tx, state, activity.get("object")).await? else {
        return Ok(Received::Ignored);
    };
    let id = activity.get("id").and_then(Value::as_str);
    db::blocks::insert(&mut **tx, actor.id, target.id, id).await?;
    db::follows::delete_between(&mut **tx, actor.id, target.id).await?;
    Ok(Received::Applied)
}

/// Update of the actor's own profile (its key included).
async fn on_update(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<Received> {
    let Some(object) = activity.get("object").filter(|o| o.is_object()) else {
        return Ok(Received::Ignored);
    };
    let kind = object
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !matches!(
        kind,
        "Person" | "Service" | "Application" | "Group" | "Organization"
    ) {
        return Ok(applied(
            inbox_posts::on_update(tx, state, actor, object).await?,
        ));
    }
    if id_of(object) != Some(actor.ap_id.as_str()) {
        return Err(Error::Forbidden(
            "an actor may only update its own profile".into(),
        ));
    }
    let parsed = parse_remote(object, &actor.ap_id)
        .map_err(|e| Error::BadRequest(format!("the updated actor is invalid: {e}")))?;
    let domain = actor.domain.clone().unwrap_or_default();
    db::actors::upsert_remote(&mut **tx, &parsed, &domain, state.clock.now()).await?;
    Ok(Received::Applied)
}

/// Delete of the actor itself: the account and what it posted go.
/// Delete of the actor itself (the account and what it posted go) or of one
/// of its posts.
async fn on_delete(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<Received> {
    let Some(object) = activity.get("object").and_then(id_of) else {
        return Err(Error::BadRequest("the activity has no object".into()));
    };
    if object == actor.ap_id {
        db::actors::delete_remote(&mut **tx, actor.id).await?;
        return Ok(Received::Applied);
    }
    if inbox_posts::on_delete(tx, state, actor, object).await? {
        return Ok(Received::Applied);
    }
    Ok(Received::Ignored)
}
