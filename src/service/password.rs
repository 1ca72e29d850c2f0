//! Password hashing (Argon2id with the crate's recommended parameters) and
//! generated passwords.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rand::Rng;
use rand::rngs::OsRng;

use crate::error::{Error, Result};

/// Shortest password accepted, as in Mastodon.
pub const MIN_LEN: usize = 8;
/// Longest password accepted (Argon2 has no limit; request bodies do).
pub const MAX_LEN: usize = 1024;

pub fn validate(password: &str) -> Result<()> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(Error::Validation(format!(
            "a password needs at least {MIN_LEN} characters"
        )));
    }
    if len > MAX_LEN {
        return Err(Error::Validation(format!(
            "a password has at most {MAX_LEN} characters"
        )));
    }
    Ok(())
}

/// Hashes on a blocking thread: Argon2 is deliberately slow.
pub async fn hash(password: &str) -> Result<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(anyhow::anyhow!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

pub async fn verify(password: &str, hash: &str) -> Result<bool> {
    let password = password.to_string();
    let hash = hash.to_string();
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| Error::Internal(anyhow::anyhow!("stored password hash: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
}

/// A random password of 24 characters from an unambiguous alphabet.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = OsRng;
    (0..24)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hashed = hash("correct horse").await.expect("hash");
        assert!(hashed.starts_with("$argon2id$"));
        assert!(verify("correct horse", &hashed).await.expect("verify"));
        assert!(!verify("wrong horse", &hashed).await.expect("verify"));
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate();
        assert_eq!(a.len(), 24);
        assert!(validate(&a).is_ok());
        assert_ne!(a, generate());
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(validate("short"), Err(Error::Validation(_))));
    }
}
