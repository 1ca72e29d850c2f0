//! Followers collection synchronisation (FEP-8fcf), as Mastodon does it.
//!
//! Out: a delivery of an activity addressed to its sender's followers
//! carries `Collection-Synchronization: collectionId="…", url="…",
//! digest="…"`, where the digest is the XOR of the SHA-256 of the ids of the
//! sender's followers on the receiving server (their ids' `scheme://host/`
//! matching the inbox's), and `url` is the partial followers collection
//! that lists just those (`GET /users/{name}/followers_synchronization`,
//! served only to a signed request, with the signer's server's followers).
//!
//! In: when a remote actor's delivery carries the header and the digest
//! differs from that of the local accounts following it here, its partial
//! collection is fetched (at most hourly per actor, across processes) and
//! the two sides are brought together: a local follow the remote side does
//! not list is ended here (with Undo(Follow)); a local account the remote
//! side lists but that does not follow it here gets an Undo(Follow) sent,
//! so that the remote side ends it too.

use std::collections::HashSet;

use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

use crate::db::{self, actors::Actor};
use crate::domain::follows::FollowState;
use crate::error::Result;
use crate::federation::activities;
use crate::federation::fetch;
use crate::service::discovery::authority;
use crate::service::outbox;
use crate::state::AppState;

/// The header's name.
pub const HEADER: &str = "collection-synchronization";

/// How often one remote actor's followers may be resynchronised.
const RESYNC_AT_MOST_EVERY: chrono::Duration = chrono::Duration::hours(1);

/// `scheme://host[:port]/` of a URL: whose followers a digest covers.
pub fn prefix_of(url: &Url) -> Option<String> {
    url.host_str()?;
    Some(format!("{}://{}/", url.scheme(), authority(url)))
}

/// The digest of a set of follower ids, as hex: XOR of their SHA-256.
pub fn digest_of<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut acc = [0u8; 32];
    for id in ids {
        let hash = Sha256::digest(id.as_bytes());
        for (a, b) in acc.iter_mut().zip(hash.iter()) {
            *a ^= b;
        }
    }
    hex(&acc)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest kept by the database (256 `0`/`1` characters) as hex; none
/// kept means no follower (all zeros).
pub fn digest_from_bits(bits: Option<&str>) -> String {
    let Some(bits) = bits else {
        return "0".repeat(64);
    };
    let bytes: Vec<u8> = bits
        .as_bytes()
        .chunks(8)
        .map(|chunk| {
            chunk
                .iter()
                .fold(0u8, |b, c| (b << 1) | u8::from(*c == b'1'))
        })
        .collect();
    hex(&bytes)
}

/// The header's value.
pub fn header_value(collection_id: &str, url: &str, digest: &str) -> String {
    format!("collectionId=\"{collection_id}\", url=\"{url}\", digest=\"{digest}\"")
}

/// What an incoming header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncHeader {
    pub collection_id: String,
    pub url: String,
    pub digest: String,
}

/// Reads the header: comma-separated `key="value"` pairs (as signature
/// headers are written); all three keys are needed.
pub fn parse_header(value: &str) -> Option<SyncHeader> {
    let (mut collection_id, mut url, mut digest) = (None, None, None);
    for part in value.split(',') {
        let (key, raw) = part.trim().split_once('=')?;
        let value = raw.trim().trim_matches('"').to_string();
        match key.trim() {
            "collectionId" => collection_id = Some(value),
            "url" => url = Some(value),
            "digest" => digest = Some(value.to_ascii_lowercase()),
            _ => {}
        }
    }
    Some(SyncHeader {
        collection_id: collection_id?,
        url: url?,
        digest: digest?,
    })
}

/// The header for a delivery of an activity from the local `sender` to
/// `inbox`, when the activity is addressed to the sender's followers.
pub async fn outgoing_header(
    db: &sqlx::PgPool,
    urls: &crate::federation::urls::Urls,
    sender: &Actor,
    payload: &str,
    inbox: &str,
) -> Result<Option<String>> {
    let Some(followers) = sender.followers_url.as_deref() else {
        return Ok(None);
    };
    if !sender.is_local() || !payload.contains(followers) {
        return Ok(None);
    }
    let Some(prefix) = Url::parse(inbox).ok().as_ref().and_then(prefix_of) else {
        return Ok(None);
    };
    let bits = db::follower_sync::digest(db, sender.id, &prefix).await?;
    let url = urls.followers_synchronization(&sender.username);
    Ok(Some(header_value(
        followers,
        &url,
        &digest_from_bits(bits.as_deref()),
    )))
}

/// The ids of `actor`'s followers on the server of `signer` (the partial
/// followers collection).
pub async fn partial_followers(
    state: &AppState,
    actor: &Actor,
    signer: &Actor,
) -> Result<Vec<String>> {
    let Some(prefix) = Url::parse(&signer.ap_id).ok().as_ref().and_then(prefix_of) else {
        return Ok(Vec::new());
    };
    Ok(db::follower_sync::follower_ids(&state.db, actor.id, &prefix).await?)
}

/// An incoming delivery's header, from `actor` (its signer): when it names
/// `actor`'s followers collection on its own server and its digest differs
/// from this server's, a resynchronisation starts in the background.
pub async fn check_incoming(state: &AppState, actor: &Actor, value: &str) -> Result<()> {
    let Some(header) = parse_header(value) else {
        tracing::debug!(actor = %actor.ap_id, "an unreadable Collection-Synchronization header");
        return Ok(());
    };
    if actor.followers_url.as_deref() != Some(header.collection_id.as_str()) {
        return Ok(());
    }
    let Ok(url) = Url::parse(&header.url) else {
        return Ok(());
    };
    if Some(authority(&url)) != actor.domain {
        tracing::debug!(actor = %actor.ap_id, url = %header.url, "a followers synchronisation URL on another host, ignored");
        return Ok(());
    }
    let own = prefix_of(state.urls.base()).unwrap_or_default();
    let bits = db::follower_sync::digest(&state.db, actor.id, &own).await?;
    if digest_from_bits(bits.as_deref()) == header.digest {
        return Ok(());
    }
    let now = state.clock.now();
    if !db::follower_sync::claim_resync(&state.db, actor.id, now, now - RESYNC_AT_MOST_EVERY)
        .await?
    {
        return Ok(());
    }
    let state = state.clone();
    let actor = actor.clone();
    state.background.clone().spawn(async move {
        if let Err(e) = resync(&state, &actor, &url).await {
            tracing::info!(actor = %actor.ap_id, error = %e, "followers synchronisation failed");
        }
    });
    Ok(())
}

/// The most pages of a partial followers collection read.
const MAX_PAGES: usize = 20;

/// One page's (or an unpaged collection's) items, as ids.
fn items_of(page: &Value) -> Option<Vec<String>> {
    let items = page.get("orderedItems").or_else(|| page.get("items"))?;
    let items = match items {
        Value::Array(items) => items.clone(),
        one => vec![one.clone()],
    };
    Some(
        items
            .iter()
            .filter_map(|item| match item {
                Value::String(id) => Some(id.clone()),
                other => other.get("id").and_then(Value::as_str).map(String::from),
            })
            .collect(),
    )
}

/// Every id a partial followers collection lists, its pages followed (on
/// its own host, at most [`MAX_PAGES`]). None when the list cannot be read
/// whole: no items, a page that fails, too many pages, or fewer items than
/// its `totalItems` says (a hidden or truncated collection), since acting
/// on part of the list would end follows that stand.
async fn read_whole(state: &AppState, url: &Url, document: Value) -> Option<Vec<String>> {
    let total = document.get("totalItems").and_then(Value::as_u64);
    let mut ids = Vec::new();
    let mut page = match document.get("first") {
        None => document.clone(),
        Some(Value::String(first)) => {
            let first = Url::parse(first)
                .ok()
                .filter(|u| authority(u) == authority(url))?;
            fetch::fetch_document(state, &first).await.ok()?
        }
        Some(embedded) => embedded.clone(),
    };
    for _ in 0..MAX_PAGES {
        ids.extend(items_of(&page)?);
        let next = match page.get("next") {
            None | Some(Value::Null) => {
                return match total {
                    Some(total) if (ids.len() as u64) < total => None,
                    _ => Some(ids),
                };
            }
            Some(next) => next
                .as_str()
                .or_else(|| next.get("id").and_then(Value::as_str))?
                .to_string(),
        };
        let next = Url::parse(&next)
            .ok()
            .filter(|u| authority(u) == authority(url))?;
        page = fetch::fetch_document(state, &next).await.ok()?;
    }
    None
}

/// Fetches `actor`'s partial followers collection and brings the follows
/// between it and local accounts together (see the module).
pub async fn resync(state: &AppState, actor: &Actor, url: &Url) -> Result<()> {
    let document = fetch::fetch_document(state, url)
        .await
        .map_err(|e| anyhow::anyhow!("the partial followers collection: {e}"))?;
    let Some(listed) = read_whole(state, url, document).await else {
        return Err(anyhow::anyhow!(
            "the partial followers collection cannot be read whole; nothing changed"
        )
        .into());
    };
    let own = prefix_of(state.urls.base()).unwrap_or_default();
    let expected: HashSet<String> = listed
        .into_iter()
        .filter(|id| id.starts_with(&own))
        .collect();

    // Local accounts' accepted follows the remote side does not list: ended
    // (a request still waiting is never listed, and is left alone).
    let mut ended = 0;
    for follow in db::follows::by_local_followers(&state.db, actor.id).await? {
        let Some(local) = db::actors::find_by_id(&state.db, follow.follower_id).await? else {
            continue;
        };
        if !expected.contains(&local.ap_id) {
            crate::service::follows::unfollow(state, &local, actor).await?;
            ended += 1;
        }
    }
    // Local accounts the remote side lists: a request still waiting here
    // was accepted there (its Accept was lost or is late), as Mastodon
    // takes it; with no follow here at all, Undo(Follow) ends it there.
    let (mut accepted, mut undone) = (0, 0);
    for id in &expected {
        let Some(local) = db::actors::find_by_ap_id(&state.db, id).await? else {
            continue;
        };
        if !local.is_local() {
            continue;
        }
        match db::follows::find(&state.db, local.id, actor.id).await? {
            Some(f) if f.state == FollowState::Following => {}
            Some(f) => {
                db::follows::set_accepted(&state.db, f.id).await?;
                accepted += 1;
            }
            None => {
                let follow = activities::follow_object(
                    &activities::new_id(&state.urls),
                    &local.ap_id,
                    &actor.ap_id,
                );
                let undo = activities::undo(&activities::new_id(&state.urls), &local.ap_id, follow);
                let mut tx = state.db.begin().await?;
                outbox::queue_for(&mut tx, state, &local, actor, &undo).await?;
                tx.commit().await?;
                undone += 1;
            }
        }
    }
    tracing::info!(actor = %actor.ap_id, ended, accepted, undone, "followers resynchronised");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_is_the_xor_of_the_ids_hashes_and_the_database_bits_read_back() {
        assert_eq!(digest_of([]), "0".repeat(64));
        let one = digest_of(["https://a.example/users/x"]);
        assert_eq!(one, hex(&Sha256::digest(b"https://a.example/users/x")));
        // Order does not matter, and a follower twice cancels out.
        assert_eq!(
            digest_of(["https://a.example/users/x", "https://a.example/users/y"]),
            digest_of(["https://a.example/users/y", "https://a.example/users/x"])
        );
        assert_eq!(
            digest_of([
                "https://a.example/users/x",
                "https://a.example/users/y",
                "https://a.example/users/y"
            ]),
            one
        );
        let bits: String = Sha256::digest(b"https://a.example/users/x")
            .iter()
            .map(|b| format!("{b:08b}"))
            .collect();
        assert_eq!(digest_from_bits(Some(&bits)), one);
        assert_eq!(digest_from_bits(None), "0".repeat(64));
    }

    #[test]
    fn the_header_is_written_and_read() {
        let value = header_value(
            "https://b.example/users/bob/followers",
            "https://b.example/users/bob/followers_synchronization",
            "ABCD",
        );
        assert_eq!(
            parse_header(&value),
            Some(SyncHeader {
                collection_id: "https://b.example/users/bob/followers".into(),
                url: "https://b.example/users/bob/followers_synchronization".into(),
                digest: "abcd".into(),
            })
        );
        assert_eq!(parse_header("collectionId=\"x\", digest=\"y\""), None);
        assert_eq!(
            prefix_of(&Url::parse("http://b.example:8080/inbox").unwrap()).as_deref(),
            Some("http://b.example:8080/")
        );
    }
}
