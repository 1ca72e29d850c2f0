//! Who signed a request: the key must verify and must be the one its actor
//! publishes. Used by the inbox (POST) and by fetches of posts that not
//! everyone may read (GET).

use crate::db::actors::Actor;
use crate::error::{Error, Result};
use crate::federation::signatures::{self, IncomingRequest, SignatureParams, VerifyingKey};
use crate::service::remote_actors;
use crate::state::AppState;

fn unauthorized(e: impl std::fmt::Display) -> Error {
    Error::Unauthorized(e.to_string())
}

/// The actor whose key made the signature: the key must be the actor's own
/// (listed in its document) and must verify. A failure refetches the actor
/// once, rate-limited, since keys rotate.
pub async fn verified_signer(
    state: &AppState,
    actor: Actor,
    params: &SignatureParams,
    strings: &[String],
) -> Result<Actor> {
    let verifies = |actor: &Actor| {
        actor.public_key_id == params.key_id
            && VerifyingKey::from_pem(&actor.public_key_pem)
                .is_ok_and(|key| signatures::verify(strings, &params.signature, &key))
    };
    if verifies(&actor) {
        return Ok(actor);
    }
    if let Ok(Some(fresh)) = remote_actors::refetch_for_key(state, &actor).await
        && verifies(&fresh)
    {
        return Ok(fresh);
    }
    Err(unauthorized(
        "the signature does not verify with a key of the activity's actor",
    ))
}

/// The remote actor that signed a GET; None when the request is not signed.
/// A signature that is there and fails is an error (401).
pub async fn get_signer(
    state: &AppState,
    path: &str,
    query: Option<&str>,
    header: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Option<Actor>> {
    let Some(signature) = header("signature") else {
        return Ok(None);
    };
    let params = signatures::parse_signature(&signature).map_err(unauthorized)?;
    let domain = state.urls.domain();
    let request = IncomingRequest {
        method: "GET",
        path,
        query,
        host: &domain,
        header,
        body: b"",
    };
    let strings =
        signatures::check_request(&params, &request, state.clock.now()).map_err(unauthorized)?;
    let actor = remote_actors::actor_for_key(state, &params.key_id)
        .await
        .map_err(|e| unauthorized(format!("the signer cannot be fetched: {e}")))?;
    verified_signer(state, actor, &params, &strings)
        .await
        .map(Some)
}
