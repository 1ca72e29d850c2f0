//! Actor key pairs: RSA 2048, PKCS#8 private and SPKI public PEM, as Mastodon
//! expects; and a cache of parsed signing keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use activitypub_federation::http_signatures::{Keypair, generate_actor_keypair};

use crate::db::actors::Actor;
use crate::error::{Error, Result};
use crate::federation::signatures::SigningKey;

/// Generates a key pair on a blocking thread (it takes tens of milliseconds).
pub async fn generate() -> Result<Keypair> {
    tokio::task::spawn_blocking(generate_actor_keypair)
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("generating a key pair: {e}")))
}

/// The most keys kept parsed; the cache starts over when full.
const CAPACITY: usize = 10_000;

/// Parsed signing keys of local actors, by actor id.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<i64, Arc<SigningKey>>>,
}

impl KeyCache {
    pub fn signing_key(&self, actor: &Actor) -> Result<Arc<SigningKey>> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = keys.get(&actor.id)
            && key.key_id == actor.public_key_id
        {
            return Ok(key.clone());
        }
        let pem = actor.private_key_pem.as_deref().ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("actor {} has no private key", actor.id))
        })?;
        let key = Arc::new(SigningKey::from_pkcs8_pem(&actor.public_key_id, pem)?);
        if keys.len() >= CAPACITY {
            keys.clear();
        }
        keys.insert(actor.id, key.clone());
        Ok(key)
    }
}
