//! Receiving activities: the inbound pipeline.
//!
//! 1. parse: the body becomes a typed [`Envelope`] (`federation::inbound`),
//!    or a 400;
//! 2. check: the HTTP signature as Mastodon checks it, the domain policy,
//!    the signer (fetched if unknown), every origin; each refusal a 4xx
//!    that changes nothing;
//! 3. prepare: what must come from the network comes before the
//!    transaction (a Create's object sent by id, a reply's missing parents
//!    and its approval, a reposted post, a Move's target);
//! 4. apply: one transaction records the activity and applies its effect,
//!    dispatched by a plain `match` on [`Activity`] to `relations` (follows,
//!    blocks), `posts` (remote posts, votes, pins), `interactions` (likes,
//!    reposts), `quotes`, `reports` and `moves`.
//!
//! An activity id is recorded but does not decide what happens: servers
//! send ids again (an Accept whose id names only the follower, a Like's id
//! reused after an Undo), so each effect is idempotent on the state it
//! changes instead. A repeat whose effect still stands changes nothing; one
//! that arrives after its effect was undone takes effect again. An Undo
//! that finds nothing to undo is remembered for a while (`early_undos`), so
//! that the activity it undoes, arriving late, has no effect.
//!
//! A Delete forwarded by another server (signed by someone other than its
//! actor, as Mastodon forwards the Delete of a post its accounts reposted)
//! is confirmed by fetching the object from its origin (`forwarding`).
//! What a subscribed relay sends or passes on is fetched from its origin
//! too (`relayed`).

pub mod dead_letters;
mod fetching;
mod forwarding;
mod interactions;
mod posts;
mod quotes;
mod relations;
mod relayed;

use url::Url;

use crate::db::{self, actors::Actor};
use crate::error::{Error, Result};
use crate::federation::inbound::{self, Activity, Created, Envelope, RemotePost, Updated};
use crate::federation::signatures::{self, IncomingRequest};
use crate::service::discovery::authority;
use crate::service::{moves, remote_actors, signed};
use crate::state::AppState;

pub use fetching::{resolve, store_post};

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Recorded and applied (or applied before: its effect stands).
    Applied,
    /// Recorded, with nothing to do here; the reason is logged.
    Ignored(&'static str),
    /// Its processing failed again and again: kept for the admins to
    /// replay (`dead_letters`), and answered so that the sender stops.
    Kept,
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Postgres>;

fn unauthorized(e: impl std::fmt::Display) -> Error {
    Error::Unauthorized(e.to_string())
}

/// What the network gave before the transaction.
#[derive(Default)]
struct Prepared {
    /// A Create's post (fetched when only its id came).
    created: Option<RemotePost>,
    /// A reply's approval by the parent's author was checked and holds.
    reply_approved: bool,
    /// A Move's verified target.
    moved_to: Option<Actor>,
}

pub async fn receive(state: &AppState, incoming: Incoming<'_>) -> Result<Received> {
    let mut kind = None;
    let result = receive_checked(state, &incoming, &mut kind).await;
    let outcome = match &result {
        Ok(Received::Applied) => "applied",
        Ok(Received::Kept) => "kept",
        Ok(Received::Ignored(reason)) => {
            tracing::debug!(reason, "activity recorded with nothing to do");
            "ignored"
        }
        Err(e) if e.status().is_client_error() => {
            tracing::info!(error = %e, "activity refused");
            "refused"
        }
        Err(_) => "failed",
    };
    crate::prometheus::inbox_activity(kind.as_deref().unwrap_or("unparsed"), outcome);
    result
}

/// `kind` is set to the activity's type once the body parsed.
async fn receive_checked(
    state: &AppState,
    incoming: &Incoming<'_>,
    kind: &mut Option<String>,
) -> Result<Received> {
    if let Inbox::Person(name) = &incoming.inbox {
        db::actors::find_shared_person(&state.db, name)
            .await?
            .ok_or(Error::NotFound)?;
    }
    let envelope =
        inbound::parse_bytes(incoming.body).map_err(|e| Error::BadRequest(e.to_string()))?;
    *kind = Some(envelope.kind.to_string());
    let span = tracing::debug_span!("activity", id = %envelope.id, kind = %envelope.kind);
    let _entered = span.enter();

    // The signature, before anything is fetched.
    let domain = state.urls.domain();
    let request = IncomingRequest {
        method: "POST",
        path: incoming.path,
        query: incoming.query,
        host: &domain,
        header: incoming.header,
        body: incoming.body,
    };
    let (params, strings) = signed::check(state, &request)
        .map_err(unauthorized)?
        .ok_or_else(|| unauthorized(signatures::SignatureError::Missing))?;

    let id_url =
        Url::parse(&envelope.id).map_err(|_| Error::BadRequest("the id is not a URL".into()))?;
    if authority(&id_url) != authority(&envelope.actor) {
        return Err(Error::Forbidden(
            "the activity id is not on its actor's host".into(),
        ));
    }
    // Nothing from a refused domain is fetched or stored, not even its key.
    crate::service::domain_policy::check_references(state, &envelope.references)?;

    // A Delete forwarded by another server: confirmed at its origin.
    if forwarding::is_forwarded(&params.key_id, &envelope) {
        return forwarding::receive(state, &envelope, &params, &strings).await;
    }

    let deletes_itself = matches!(&envelope.activity, Activity::Delete { object } if *object == envelope.actor.as_str());
    let actor = match remote_actors::get_or_fetch(state, &envelope.actor).await {
        Ok(actor) => actor,
        // An actor deletes itself: its document is gone, but the key we
        // kept can still check the signature.
        Err(remote_actors::ResolveError::Gone) if deletes_itself => {
            match db::actors::find_by_ap_id(&state.db, envelope.actor.as_str()).await? {
                Some(actor) => actor,
                None => return Ok(Received::Ignored("an unknown actor deleted itself")),
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
    // A relay's answer to the instance's subscription, or a post it
    // announces.
    if let Some(done) = relayed::from_actor(state, &actor, &envelope).await? {
        return Ok(done);
    }
    let received = match process(state, &actor, &envelope).await {
        Err(e) if e.status().is_server_error() => {
            dead_letters::failed(state, &actor, &envelope, incoming.body, e).await
        }
        other => other,
    };
    // FEP-8fcf: the sender's view of its followers here, compared.
    if received.is_ok()
        && let Some(value) = (incoming.header)(crate::service::follower_sync::HEADER)
        && let Err(e) = crate::service::follower_sync::check_incoming(state, &actor, &value).await
    {
        tracing::warn!(error = %e, "checking a followers synchronisation header failed");
    }
    received
}

/// Steps 3 and 4, for an activity whose signer is verified.
async fn process(state: &AppState, actor: &Actor, envelope: &Envelope) -> Result<Received> {
    let prepared = prepare(state, actor, envelope).await?;
    apply(state, actor, envelope, prepared).await
}

/// Step 3: what comes from the network, before the transaction.
async fn prepare(state: &AppState, actor: &Actor, envelope: &Envelope) -> Result<Prepared> {
    let mut prepared = Prepared::default();
    match &envelope.activity {
        Activity::Create(created) => {
            prepared.created = match created {
                Created::Post(post) => Some((**post).clone()),
                Created::ById(id) => fetching::object_of_create(state, actor, id).await?,
                Created::Other => None,
            };
            if let Some(post) = &prepared.created {
                fetching::fetch_missing_parents(state, actor, post).await?;
                // A reply's approval, when it names one, is checked at its
                // source.
                prepared.reply_approved =
                    crate::service::reply_controls::approval_holds(state, post).await;
            }
        }
        Activity::Announce(announce) => {
            if let Some(post) = &announce.post {
                fetching::fetch_announced(state, actor, post).await?;
            }
        }
        // A Move's target is fetched fresh to check its aliases.
        Activity::Move { object, target } => {
            prepared.moved_to = moves::target_of_move(state, actor, object, target).await?;
        }
        _ => {}
    }
    Ok(prepared)
}

/// Step 4: records the activity and applies it in one transaction. What
/// the transaction announces (new posts, notifications, queued work) is
/// announced once it committed (`db::events::deferred`), so that the
/// inbox's commits share WAL flushes.
async fn apply(
    state: &AppState,
    actor: &Actor,
    envelope: &Envelope,
    prepared: Prepared,
) -> Result<Received> {
    let (applied, changes) =
        db::events::deferred(apply_in_transaction(state, actor, envelope, prepared)).await;
    let (received, removed_files) = applied?;
    if let Err(e) = db::events::announce(&state.db, &changes).await {
        tracing::warn!(error = %e, "changes of a committed activity were not announced");
    }
    crate::service::media::remove_files(state, &removed_files).await;
    if matches!(&envelope.activity, Activity::Update(Updated::Actor { .. }))
        && received == Received::Applied
        && let Some(updated) = db::actors::find_by_id(&state.db, actor.id).await?
    {
        crate::service::link_verification::check_if_needed(state, &updated);
    }
    Ok(received)
}

async fn apply_in_transaction(
    state: &AppState,
    actor: &Actor,
    envelope: &Envelope,
    prepared: Prepared,
) -> Result<(Received, Vec<String>)> {
    let now = state.clock.now();
    let mut removed_files = Vec::new();
    let mut tx = state.db.begin().await?;
    if relations::changes_relations(&envelope.activity) {
        // One actor's follows, blocks, likes and reposts change one at a
        // time: a Follow and its Undo arriving together end the same way
        // whichever commits first. Taken first, so that what follows reads
        // what the one before committed.
        db::inbox::lock_actor(&mut *tx, actor.id).await?;
    }
    let recorded = db::inbox::record(
        &mut *tx,
        &db::inbox::Received {
            activity_id: &envelope.id,
            actor_id: actor.id,
            kind: &envelope.kind,
            object_id: envelope.object_id.as_deref(),
            payload: &envelope.raw,
        },
        relations::undoable(&envelope.activity),
        now,
    )
    .await?;
    let first_time = recorded.first_time;
    if let Some(host) = &actor.domain {
        crate::service::hosts_heard::heard_from(&mut tx, state, host).await?;
    }
    let id = envelope.id.as_str();
    let received = if recorded.undone {
        Received::Ignored("the activity was undone before it arrived")
    } else {
        match &envelope.activity {
            Activity::Follow { object } => {
                relations::on_follow(&mut tx, state, actor, id, object).await?
            }
            Activity::Accept { object, result } => {
                if crate::service::reply_controls::on_accept(
                    &mut tx,
                    state,
                    actor,
                    id,
                    object.id.as_deref(),
                    result.as_deref(),
                )
                .await?
                {
                    Received::Applied
                } else if let Some(done) =
                    quotes::on_answer(&mut tx, state, actor, object, result.as_deref(), true)
                        .await?
                {
                    done
                } else {
                    relations::on_answer(&mut tx, actor, object, true).await?
                }
            }
            Activity::Reject { object } => {
                let rejected_reply = match &object.id {
                    Some(object) => {
                        crate::service::reply_controls::on_reject(&mut tx, state, actor, object)
                            .await?
                    }
                    None => None,
                };
                if let Some(files) = rejected_reply {
                    removed_files = files;
                    Received::Applied
                } else if let Some(done) =
                    quotes::on_answer(&mut tx, state, actor, object, None, false).await?
                {
                    done
                } else {
                    relations::on_answer(&mut tx, actor, object, false).await?
                }
            }
            Activity::Undo { object } => {
                relations::on_undo(&mut tx, state, actor, object, first_time).await?
            }
            Activity::Block { object } => {
                relations::on_block(&mut tx, state, actor, id, object).await?
            }
            Activity::Flag { objects, content } => {
                if crate::service::reports::receive_flag(
                    &mut tx, state, actor, id, objects, content,
                )
                .await?
                {
                    Received::Applied
                } else {
                    Received::Ignored("the report names nothing here, or reports are refused")
                }
            }
            Activity::Update(Updated::Actor { id: object, parsed }) => {
                relations::on_update_actor(&mut tx, state, actor, object, parsed).await?
            }
            Activity::Update(Updated::Post(post)) => {
                posts::on_update(&mut tx, state, actor, post).await?
            }
            Activity::Update(Updated::Other) => {
                Received::Ignored("an update of an object Skein does not keep")
            }
            Activity::Delete { object } if *object == actor.ap_id => {
                db::actors::delete_remote(&mut *tx, actor.id).await?;
                Received::Applied
            }
            Activity::Delete { object } => {
                posts::on_delete(&mut tx, state, actor, object, envelope).await?
            }
            Activity::Like { object } => {
                interactions::on_like(&mut tx, state, actor, id, object).await?
            }
            Activity::QuoteRequest { object, instrument } => {
                quotes::on_request(&mut tx, state, actor, envelope, object, instrument).await?
            }
            Activity::Pin {
                pinned,
                object,
                target,
            } => posts::on_pin(&mut tx, state, actor, object, target.as_deref(), *pinned).await?,
            Activity::Announce(announce) => {
                interactions::on_announce(&mut tx, state, actor, id, announce).await?
            }
            Activity::Move { .. } => match &prepared.moved_to {
                Some(target) => {
                    moves::on_move(&mut tx, state, actor, target).await?;
                    Received::Applied
                }
                None => Received::Ignored("the Move's target does not name its origin"),
            },
            Activity::Create(_) => match &prepared.created {
                Some(post) => {
                    posts::on_create(&mut tx, state, actor, post, prepared.reply_approved).await?
                }
                None => Received::Ignored("the Create's object is not a post Skein keeps"),
            },
            Activity::Other => Received::Ignored("an activity type Skein does not act on"),
        }
    };
    tx.commit().await?;
    Ok((received, removed_files))
}
