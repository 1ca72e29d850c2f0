//! Remote actors: resolving `@user@host` handles and actor URLs, fetching
//! and storing their documents, refreshing stale copies and noticing when an
//! actor is gone. Concurrent requests for one actor share one fetch
//! ([`ActorFetches`]), so a storm of POSTs from an actor never seen costs its
//! server one GET.

use chrono::Duration;
use url::Url;

use crate::db::{self, actors::Actor};
use crate::domain::handle::Handle;
use crate::error::Error;
use crate::federation::actor::{RemoteActor, parse_remote};
use crate::federation::fetch::{self, FetchError};
use crate::service::discovery::authority;
use crate::singleflight::SingleFlight;
use crate::state::AppState;

/// A stored remote actor older than this is fetched again when used.
pub const STALE_AFTER: Duration = Duration::days(1);
/// At most one refetch per actor in this time because a signature failed.
pub const KEY_REFETCH_INTERVAL: Duration = Duration::minutes(10);

#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    #[error("no such account")]
    NotFound,
    #[error("the account is gone")]
    Gone,
    #[error("the account cannot be fetched: {0}")]
    Unavailable(String),
}

impl From<ResolveError> for Error {
    fn from(e: ResolveError) -> Error {
        match e {
            ResolveError::NotFound => Error::NotFound,
            ResolveError::Gone => Error::Gone,
            ResolveError::Unavailable(msg) => Error::Validation(msg),
        }
    }
}

impl From<sqlx::Error> for ResolveError {
    fn from(e: sqlx::Error) -> ResolveError {
        ResolveError::Unavailable(format!("database: {e}"))
    }
}

fn is_local(state: &AppState, url: &Url) -> bool {
    authority(url) == state.urls.domain()
}

/// The fetches of remote actors this process has in flight (in
/// `AppState`): concurrent callers asking for one actor wait for the one
/// fetch under way and share its result.
#[derive(Default)]
pub struct ActorFetches {
    /// By actor URL.
    actors: SingleFlight<String, Result<Actor, ResolveError>>,
    /// By key id, for signed GETs.
    keys: SingleFlight<String, Result<Actor, ResolveError>>,
}

impl ActorFetches {
    /// Whether no fetch is under way.
    pub fn is_idle(&self) -> bool {
        self.actors.is_empty() && self.keys.is_empty()
    }
}

/// What is stored of a remote actor.
enum Stored {
    Fresh(Actor),
    Stale(Actor),
    Missing,
}

async fn stored(state: &AppState, url: &Url) -> Result<Stored, ResolveError> {
    Ok(
        match db::actors::find_by_ap_id(&state.db, url.as_str()).await? {
            Some(actor) if actor.gone_at.is_some() => return Err(ResolveError::Gone),
            Some(actor)
                if actor
                    .fetched_at
                    .is_some_and(|at| at > state.clock.now() - STALE_AFTER) =>
            {
                Stored::Fresh(actor)
            }
            Some(actor) => Stored::Stale(actor),
            None => Stored::Missing,
        },
    )
}

/// The actor with this id: local, stored and fresh, or fetched now (once
/// for all the callers asking at the same time).
pub async fn get_or_fetch(state: &AppState, url: &Url) -> Result<Actor, ResolveError> {
    if is_local(state, url) {
        return db::actors::find_by_ap_id(&state.db, url.as_str())
            .await?
            .ok_or(ResolveError::NotFound);
    }
    let stale = match stored(state, url).await? {
        Stored::Fresh(actor) => return Ok(actor),
        Stored::Stale(actor) => Some(actor),
        Stored::Missing => None,
    };
    let fetched = state
        .actor_fetches
        .actors
        .run(url.to_string(), || async {
            // A flight that just ended may have stored it since this caller
            // looked.
            match stored(state, url).await? {
                Stored::Fresh(actor) => Ok(actor),
                Stored::Stale(_) | Stored::Missing => fetch_and_store(state, url).await,
            }
        })
        .await;
    match (fetched, stale) {
        (Ok(actor), _) => Ok(actor),
        (Err(ResolveError::Unavailable(reason)), Some(stale)) => {
            // A stale copy beats none while the origin is unreachable.
            tracing::info!(actor = %url, %reason, "using a stale copy of an actor");
            Ok(stale)
        }
        (Err(e), _) => Err(e),
    }
}

/// Fetches the actor document at `url` and stores it. A document that
/// failed to fetch a moment ago is not fetched again: the same failure is
/// answered (`service::fetch_failures`).
pub async fn fetch_and_store(state: &AppState, url: &Url) -> Result<Actor, ResolveError> {
    if is_local(state, url) {
        return Err(ResolveError::NotFound);
    }
    let now = state.clock.now();
    if let Some(failure) = state.fetch_failures.recent(url.as_str(), now) {
        tracing::debug!(actor = %url, error = %failure, "not fetching an actor that failed lately");
        return Err(failure);
    }
    let parsed = match fetch_remote(state, url).await {
        Ok(parsed) => {
            state.fetch_failures.clear(url.as_str());
            parsed
        }
        Err((failure, ours)) => {
            if !ours {
                state.fetch_failures.record(url.as_str(), &failure, now);
            }
            if matches!(failure, ResolveError::Gone)
                && let Some(actor) = db::actors::find_by_ap_id(&state.db, url.as_str()).await?
            {
                db::actors::mark_gone(&state.db, actor.id, now).await?;
            }
            return Err(failure);
        }
    };
    let mut tx = state.db.begin().await?;
    let actor = db::actors::upsert_remote(&mut *tx, &parsed, &authority(url), now)
        .await?
        .ok_or(ResolveError::NotFound)?;
    db::actors::replace_emojis(&mut tx, actor.id, &parsed.emojis).await?;
    tx.commit().await?;
    if let Err(e) =
        crate::service::remote_media::queue_profile(&state.db, state, &actor, &parsed.emojis).await
    {
        tracing::warn!(actor = %url, error = %e, "queueing an avatar and header to cache failed");
    }
    crate::service::link_verification::check_if_needed(state, &actor);
    Ok(actor)
}

/// Fetches and reads the actor document at `url`. A failure comes with
/// whether it is this instance's own refusal (domain policy, address
/// rules): no request was sent, and a changed policy may allow it at once.
async fn fetch_remote(state: &AppState, url: &Url) -> Result<RemoteActor, (ResolveError, bool)> {
    let document = match fetch::fetch_object(state, url).await {
        Ok(document) => document,
        Err(FetchError::Gone) => return Err((ResolveError::Gone, false)),
        Err(FetchError::NotFound) => return Err((ResolveError::NotFound, false)),
        Err(e) => {
            return Err((ResolveError::Unavailable(e.to_string()), is_our_refusal(&e)));
        }
    };
    parse_remote(&document, url.as_str())
        .map_err(|e| (ResolveError::Unavailable(e.to_string()), false))
}

fn is_our_refusal(error: &FetchError) -> bool {
    matches!(
        error,
        FetchError::Refused(_) | FetchError::Net(crate::net::NetError::Refused(..))
    )
}

/// Fetches a remote actor again because a signature did not verify with the
/// stored key, at most once per [`KEY_REFETCH_INTERVAL`]. None when the
/// limit says not now.
pub async fn refetch_for_key(
    state: &AppState,
    actor: &Actor,
) -> Result<Option<Actor>, ResolveError> {
    let now = state.clock.now();
    if actor.is_local()
        || actor
            .key_refetched_at
            .is_some_and(|at| at > now - KEY_REFETCH_INTERVAL)
    {
        return Ok(None);
    }
    db::actors::set_key_refetched(&state.db, actor.id, now).await?;
    let url = Url::parse(&actor.ap_id).map_err(|_| ResolveError::NotFound)?;
    state
        .actor_fetches
        .actors
        .run(url.to_string(), || fetch_and_store(state, &url))
        .await
        .map(Some)
}

/// Resolves what a person typed: `@user@host`, `user@host`, or an actor URL.
pub async fn resolve(state: &AppState, query: &str) -> Result<Actor, ResolveError> {
    let query = query.trim();
    if query.starts_with("https://") || query.starts_with("http://") {
        let url = Url::parse(query).map_err(|_| ResolveError::NotFound)?;
        return get_or_fetch(state, &url).await;
    }
    let handle = Handle::parse(query).ok_or(ResolveError::NotFound)?;
    if handle.host == state.urls.domain() {
        return match db::actors::find_local_person(&state.db, &handle.user).await? {
            // A deleted account's tombstone.
            Some(actor) if actor.gone_at.is_some() => Err(ResolveError::Gone),
            Some(actor) => Ok(actor),
            None => Err(ResolveError::NotFound),
        };
    }
    if let Some(actor) =
        db::actors::find_remote_by_handle(&state.db, &handle.user, &handle.host).await?
        && actor
            .fetched_at
            .is_some_and(|at| at > state.clock.now() - STALE_AFTER)
    {
        return Ok(actor);
    }
    let url = match fetch::webfinger(state, &handle).await {
        Ok(url) => url,
        Err(FetchError::NotFound) => return Err(ResolveError::NotFound),
        Err(FetchError::Gone) => return Err(ResolveError::Gone),
        Err(e) => return Err(ResolveError::Unavailable(e.to_string())),
    };
    get_or_fetch(state, &url).await
}

/// The actor a key belongs to, for signed GETs (which name no actor). The
/// key id is fetched (without its fragment): either the actor document itself
/// or a key document whose `owner` is fetched in turn; either way the actor
/// must list the key.
pub async fn actor_for_key(state: &AppState, key_id: &str) -> Result<Actor, ResolveError> {
    if let Some(actor) = db::actors::find_by_key_id(&state.db, key_id).await? {
        return Ok(actor);
    }
    state
        .actor_fetches
        .keys
        .run(key_id.to_string(), || fetch_key_owner(state, key_id))
        .await
}

async fn fetch_key_owner(state: &AppState, key_id: &str) -> Result<Actor, ResolveError> {
    // A flight that just ended may have stored it since the caller looked.
    if let Some(actor) = db::actors::find_by_key_id(&state.db, key_id).await? {
        return Ok(actor);
    }
    let mut url = Url::parse(key_id).map_err(|_| ResolveError::NotFound)?;
    url.set_fragment(None);
    if is_local(state, &url) {
        return Err(ResolveError::NotFound);
    }
    let now = state.clock.now();
    if let Some(failure) = state.fetch_failures.recent(url.as_str(), now) {
        return Err(failure);
    }
    let document = match fetch::fetch_object(state, &url).await {
        Ok(document) => document,
        Err(e) => {
            let failure = ResolveError::Unavailable(e.to_string());
            if !is_our_refusal(&e) {
                state.fetch_failures.record(url.as_str(), &failure, now);
            }
            return Err(failure);
        }
    };
    let owner = match crate::federation::actor::key_owner(&document) {
        Some(owner) => Url::parse(owner).map_err(|_| ResolveError::NotFound)?,
        None => url,
    };
    let actor = get_or_fetch(state, &owner).await?;
    if actor.public_key_id == key_id {
        Ok(actor)
    } else {
        Err(ResolveError::Unavailable(
            "the key is not listed by its owner".into(),
        ))
    }
}
