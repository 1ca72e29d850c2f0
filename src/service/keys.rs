//! Actor key pairs: RSA 2048, PKCS#8 private and SPKI public PEM, as Mastodon
//! expects.

use activitypub_federation::http_signatures::{Keypair, generate_actor_keypair};

use crate::error::{Error, Result};

/// Generates a key pair on a blocking thread (it takes tens of milliseconds).
pub async fn generate() -> Result<Keypair> {
    tokio::task::spawn_blocking(generate_actor_keypair)
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("generating a key pair: {e}")))
}
