//! What relays send (see `service::relays`): their answer to the instance's
//! subscription, and the posts they relay.
//!
//! A relay shares posts in one of two ways: it announces them itself
//! (LitePub relays: an `Announce` by the relay's actor), or it passes on
//! the author's `Create` (or someone's `Announce`) as it received it,
//! signed with the relay's key (Mastodon-style relays). Skein does not
//! verify LD signatures, so in both cases the post is fetched from its
//! origin and stored from there, as a post any search would find: it lands
//! in the fediverse timeline, and the relay's actor reposts nothing.
//! Anything from a relay the instance is not subscribed to, or whose
//! subscription was not accepted, is left alone.

use url::Url;

use super::{Received, fetching};
use crate::db::{self, actors::Actor};
use crate::error::Result;
use crate::federation::inbound::{Activity, Created, Envelope, Reference, Updated};
use crate::service::discovery::authority;
use crate::state::AppState;

/// An `Accept` or `Reject` of the instance's Follow of a relay, from the
/// relay's host: the subscription's state changes. None when the activity
/// is not one.
async fn on_answer(
    state: &AppState,
    actor: &Actor,
    object: &Reference,
    accepted: bool,
) -> Result<Option<Received>> {
    let Some(follow_id) = object.id.as_deref() else {
        return Ok(None);
    };
    if !follow_id.starts_with(&state.urls.root()) {
        return Ok(None);
    }
    let Some(relay) = db::relays::find_by_follow(&state.db, follow_id).await? else {
        return Ok(None);
    };
    let relay_host = Url::parse(&relay.inbox_url)
        .ok()
        .map(|u| authority(&u))
        .unwrap_or_default();
    if actor.domain.as_deref() != Some(relay_host.as_str()) {
        tracing::info!(relay = %relay.inbox_url, actor = %actor.ap_id, "an answer to a relay subscription from another host, refused");
        return Ok(Some(Received::Ignored(
            "an answer to a relay subscription from another host",
        )));
    }
    db::relays::answered(&state.db, relay.id, actor.id, accepted, state.clock.now()).await?;
    tracing::info!(relay = %relay.inbox_url, accepted, "a relay answered the subscription");
    Ok(Some(Received::Applied))
}

/// Activities from a relay's own actor: answers to the subscription, and
/// the posts it announces. None for every other activity, which goes on
/// through the pipeline.
pub async fn from_actor(
    state: &AppState,
    actor: &Actor,
    envelope: &Envelope,
) -> Result<Option<Received>> {
    match &envelope.activity {
        Activity::Accept { object, .. } => on_answer(state, actor, object, true).await,
        Activity::Reject { object } => on_answer(state, actor, object, false).await,
        Activity::Announce(announce) => {
            // Relays' actors are services (LitePub relays say Application):
            // nobody else's reposts cost a lookup.
            if !matches!(actor.kind.as_str(), "Application" | "Service")
                || !db::relays::is_accepted_relay(&state.db, actor.id).await?
            {
                return Ok(None);
            }
            Ok(Some(match &announce.post {
                Some(post) => store(state, actor, post).await?,
                None => Received::Ignored("a relay announced something other than a post"),
            }))
        }
        _ => Ok(None),
    }
}

/// An activity a relay passed on (signed by the relay, `forwarder`, not by
/// its actor). None when `forwarder` is not a subscribed relay, or for a
/// Delete, which is confirmed at its origin as any forwarded Delete.
pub async fn forwarded(
    state: &AppState,
    forwarder: &Actor,
    envelope: &Envelope,
) -> Result<Option<Received>> {
    let post = match &envelope.activity {
        Activity::Delete { .. } => return Ok(None),
        Activity::Create(Created::Post(post)) => Some(post.id.clone()),
        Activity::Create(Created::ById(id)) => Some(id.clone()),
        Activity::Update(Updated::Post(post)) => Some(post.id.clone()),
        Activity::Announce(announce) => announce.post.clone(),
        _ => None,
    };
    if !db::relays::is_accepted_relay(&state.db, forwarder.id).await? {
        return Ok(None);
    }
    Ok(Some(match post {
        Some(post) => store(state, forwarder, &post).await?,
        None => Received::Ignored("a relay passed on something other than a post"),
    }))
}

/// Fetches a relayed post from its origin and stores it.
async fn store(state: &AppState, relay: &Actor, post: &str) -> Result<Received> {
    let Ok(url) = Url::parse(post) else {
        return Ok(Received::Ignored("a relayed post's id is not a URL"));
    };
    if db::posts::find_by_ap_id(&state.db, post).await?.is_some() {
        return Ok(Received::Ignored("a relayed post already here"));
    }
    match fetching::resolve(state, &url).await {
        Ok(Some(_)) => {
            tracing::debug!(post, relay = %relay.ap_id, "took a relayed post");
            Ok(Received::Applied)
        }
        Ok(None) => Ok(Received::Ignored(
            "a relayed post that its origin does not serve",
        )),
        Err(e) if e.status().is_client_error() => {
            tracing::debug!(post, error = %e, "a relayed post refused");
            Ok(Received::Ignored("a relayed post refused"))
        }
        Err(e) => Err(e),
    }
}
