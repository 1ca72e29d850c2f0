//! Deletes that reach those who saw a post through a repost, as Mastodon
//! does it.
//!
//! Out: when a remote author deletes a post that local accounts reposted,
//! the Delete is forwarded, as received, to the servers of those accounts'
//! followers, each copy signed by the account that reposted (their servers
//! hold the repost, and may never have heard of the author).
//!
//! In: a Delete signed by another server than its actor's cannot prove its
//! actor sent it (Skein does not verify LD signatures), so it is confirmed
//! at its origin: the object is fetched, and only a 404 or 410 lets the
//! Delete take effect, as if its actor had sent it. Other forwarded
//! activities are recorded and left alone: their origin delivers them.

use url::Url;

use super::{Received, apply};
use crate::db::{self, actors::Actor, posts::Post};
use crate::error::{Error, Result};
use crate::federation::fetch::{self, FetchError};
use crate::federation::inbound::{Activity, Envelope};
use crate::federation::signatures::SignatureParams;
use crate::service::discovery::authority;
use crate::service::{outbox, remote_actors, signed};
use crate::state::AppState;

/// Whether an activity comes signed by a key of another server than its
/// actor's: forwarded, not sent by its actor.
pub fn is_forwarded(key_id: &str, envelope: &Envelope) -> bool {
    Url::parse(key_id).is_ok_and(|key| authority(&key) != authority(&envelope.actor))
}

/// A forwarded activity (see the module).
pub async fn receive(
    state: &AppState,
    envelope: &Envelope,
    params: &SignatureParams,
    strings: &[String],
) -> Result<Received> {
    // The forwarder's own signature must hold, and its server be one we
    // federate with.
    let forwarder = remote_actors::actor_for_key(state, &params.key_id)
        .await
        .map_err(|e| Error::Unauthorized(format!("the signer cannot be fetched: {e}")))?;
    if forwarder.is_local() {
        return Err(Error::Unauthorized(
            "local actors do not deliver to this inbox".into(),
        ));
    }
    let forwarder = signed::verified_signer(state, forwarder, params, strings).await?;
    if forwarder.suspended_at.is_some() {
        return Err(Error::Forbidden("the account is suspended here".into()));
    }
    if let Some(host) = &forwarder.domain
        && crate::service::domain_policy::refuses(state, host).await?
    {
        return Err(Error::Forbidden(format!(
            "this server does not federate with {host}"
        )));
    }
    // A relay passes on the posts it shares.
    if let Some(done) = super::relayed::forwarded(state, &forwarder, envelope).await? {
        return Ok(done);
    }
    let Activity::Delete { object } = &envelope.activity else {
        return Ok(Received::Ignored(
            "a forwarded activity other than a Delete is left to its origin",
        ));
    };
    // Only what is here can be deleted here, and only by its author.
    let Some(actor) = db::actors::find_by_ap_id(&state.db, envelope.actor.as_str()).await? else {
        return Ok(Received::Ignored("a forwarded Delete by an unknown actor"));
    };
    if actor.is_local() || actor.suspended_at.is_some() {
        return Ok(Received::Ignored(
            "a forwarded Delete by an actor not taken",
        ));
    }
    let known = *object == actor.ap_id
        || db::posts::find_by_ap_id(&state.db, object)
            .await?
            .is_some_and(|p| p.author_id == actor.id && p.deleted_at.is_none());
    if !known {
        return Ok(Received::Ignored("a forwarded Delete of nothing here"));
    }
    let url =
        Url::parse(object).map_err(|_| Error::BadRequest("the object is not a URL".into()))?;
    if authority(&url) != authority(&envelope.actor) {
        return Err(Error::Forbidden(
            "the object is not on its actor's host".into(),
        ));
    }
    match fetch::fetch_object(state, &url).await {
        Err(FetchError::Gone | FetchError::NotFound) => {
            tracing::info!(object = %object, via = %forwarder.ap_id, "a forwarded Delete confirmed at its origin");
            apply(state, &actor, envelope, super::Prepared::default()).await
        }
        Ok(_) => Ok(Received::Ignored(
            "the forwarded Delete's object still exists at its origin",
        )),
        Err(e) => Err(Error::Internal(anyhow::anyhow!(
            "a forwarded Delete cannot be confirmed: {e}"
        ))),
    }
}

/// Forwards the Delete of `post` to the followers of the local accounts that
/// reposted it, inside the transaction that deletes it.
pub async fn forward_delete(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    author: &Actor,
    post: &Post,
    envelope: &Envelope,
) -> Result<()> {
    let origin = author.domain.as_deref();
    for reposter in db::posts::local_reposters(&mut *tx, post.id).await? {
        if !db::users::is_federating(&mut *tx, reposter).await? {
            continue;
        }
        let inboxes: Vec<String> = db::follows::follower_inboxes(&mut *tx, reposter)
            .await?
            .into_iter()
            .filter(|inbox| Some(db::deliveries::host_of(inbox).as_str()) != origin)
            .collect();
        if !inboxes.is_empty() {
            outbox::queue(tx, state, reposter, &envelope.raw, &inboxes).await?;
        }
    }
    Ok(())
}
