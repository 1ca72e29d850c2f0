//! Who signed a request: the key must verify and must be the one its actor
//! publishes. Used by the inbox (POST) and by fetches of posts that not
//! everyone may read (GET). A request carrying `Signature-Input` is checked
//! as RFC 9421 (`federation::rfc9421`), any other as draft-cavage
//! (`federation::signatures`), as Mastodon chooses.

use crate::db::actors::Actor;
use crate::error::{Error, Result};
use crate::federation::rfc9421;
use crate::federation::signatures::{
    self, IncomingRequest, SignatureError, SignatureParams, VerifyingKey,
};
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

/// Reads and checks a request's signature, RFC 9421 or cavage, but not
/// its key: coverage, digest of the body, time window. Returns the
/// signature and the strings its key must verify; None when the request
/// carries no signature. `request.host` must be this instance's domain.
pub fn check(
    state: &AppState,
    request: &IncomingRequest<'_>,
) -> std::result::Result<Option<(SignatureParams, Vec<String>)>, SignatureError> {
    let now = state.clock.now();
    if let Some(input) = (request.header)("signature-input") {
        let signature = (request.header)("signature").ok_or(SignatureError::Missing)?;
        let signature = rfc9421::parse(&input, &signature)?;
        let base = rfc9421::check_request(&signature, request, state.urls.base().scheme(), now)?;
        return Ok(Some((signature.as_params(), vec![base])));
    }
    let Some(signature) = (request.header)("signature")
        .or_else(|| (request.header)("authorization").filter(|a| a.starts_with("Signature ")))
    else {
        return Ok(None);
    };
    let params = signatures::parse_signature(&signature)?;
    let strings = signatures::check_request(&params, request, now)?;
    Ok(Some((params, strings)))
}

/// The remote actor that signed a GET; None when the request is not signed.
/// A signature that is there and fails is an error (401).
pub async fn get_signer(
    state: &AppState,
    path: &str,
    query: Option<&str>,
    header: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Result<Option<Actor>> {
    if header("signature").is_none() && header("signature-input").is_none() {
        return Ok(None);
    }
    let domain = state.urls.domain();
    let request = IncomingRequest {
        method: "GET",
        path,
        query,
        host: &domain,
        header,
        body: b"",
    };
    let Some((params, strings)) = check(state, &request).map_err(unauthorized)? else {
        return Ok(None);
    };
    let actor = remote_actors::actor_for_key(state, &params.key_id)
        .await
        .map_err(|e| unauthorized(format!("the signer cannot be fetched: {e}")))?;
    verified_signer(state, actor, &params, &strings)
        .await
        .map(Some)
}
