//! Web Push: the instance's VAPID key (RFC 8292), made once and kept in
//! `instance_secrets`. Apps read its public half from the instance and app
//! entities to subscribe.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use sqlx::PgPool;

use crate::error::{Error, Result};
use crate::state::AppState;

const VAPID: &str = "vapid_p256_pkcs8";

/// The VAPID key pair (ECDSA P-256).
pub struct VapidKey {
    pub pair: EcdsaKeyPair,
    /// The uncompressed public point, base64url without padding, as apps
    /// expect `vapid_key`.
    pub public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey")
            .field("public", &self.public)
            .finish()
    }
}

/// Loads the instance's VAPID key, making and storing it on first start
/// (concurrent first starts agree on one key).
pub async fn load_or_create_vapid(pool: &PgPool) -> Result<VapidKey> {
    let stored: Option<Vec<u8>> = crate::db::secrets::find(pool, VAPID).await?;
    let pkcs8 = match stored {
        Some(bytes) => bytes,
        None => {
            let fresh = EcdsaKeyPair::generate_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &SystemRandom::new(),
            )
            .map_err(|e| Error::Internal(anyhow::anyhow!("generating the VAPID key: {e}")))?;
            crate::db::secrets::insert_or_get(pool, VAPID, fresh.as_ref()).await?
        }
    };
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
        .map_err(|e| Error::Internal(anyhow::anyhow!("reading the VAPID key: {e}")))?;
    let public = B64.encode(pair.public_key().as_ref());
    Ok(VapidKey { pair, public })
}

pub fn vapid_public_key(state: &AppState) -> String {
    state.vapid.public.clone()
}
