//! Web Push's wire format, without I/O: message encryption (RFC 8291 with
//! the `aes128gcm` content coding of RFC 8188, and the legacy `aesgcm`
//! draft that Mastodon still sends to subscriptions not marked `standard`)
//! and VAPID tokens (RFC 8292), with aws-lc-rs.

use aws_lc_rs::aead::{AES_128_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::agreement::{self, ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey};
use aws_lc_rs::error::Unspecified;
use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::EcdsaKeyPair;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};

/// The record size announced in an `aes128gcm` header: one record holds
/// any push (push services accept 4096-byte bodies).
const RECORD_SIZE: u32 = 4096;
/// The longest plaintext that still fits one record.
pub const MAX_PLAINTEXT: usize = 3000;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PushError {
    #[error("the subscription's public key is not a P-256 point")]
    BadPublicKey,
    #[error("the subscription's auth secret is not 16 bytes")]
    BadAuthSecret,
    #[error("the message is too long for one record")]
    TooLong,
    #[error("a cryptographic operation failed")]
    Crypto,
}

impl From<Unspecified> for PushError {
    fn from(_: Unspecified) -> Self {
        PushError::Crypto
    }
}

/// Which content coding a subscription wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// RFC 8291 / RFC 8188.
    Aes128Gcm,
    /// draft-ietf-webpush-encryption-04 (salt and key in headers).
    AesGcm,
}

impl Coding {
    pub fn for_standard(standard: bool) -> Coding {
        if standard {
            Coding::Aes128Gcm
        } else {
            Coding::AesGcm
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Coding::Aes128Gcm => "aes128gcm",
            Coding::AesGcm => "aesgcm",
        }
    }
}

/// An encrypted push: the body, and for the legacy coding the salt and the
/// sender's public key, which travel in the `Encryption` and `Crypto-Key`
/// headers.
#[derive(Debug, Clone)]
pub struct Encrypted {
    pub coding: Coding,
    pub body: Vec<u8>,
    pub salt: [u8; 16],
    pub sender_public: Vec<u8>,
}

/// Base64 as clients send keys: URL-safe or standard, padded or not.
pub fn decode_key(text: &str) -> Option<Vec<u8>> {
    let normal: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    B64.decode(normal).ok()
}

/// The user agent's public key: an uncompressed P-256 point.
pub fn check_public_key(key: &[u8]) -> Result<(), PushError> {
    if key.len() == 65 && key[0] == 4 {
        Ok(())
    } else {
        Err(PushError::BadPublicKey)
    }
}

pub fn check_auth_secret(auth: &[u8]) -> Result<(), PushError> {
    if auth.len() == 16 {
        Ok(())
    } else {
        Err(PushError::BadAuthSecret)
    }
}

/// Encrypts `plaintext` for a subscription (its P-256 key and auth secret)
/// with a fresh key pair and salt.
pub fn encrypt(
    coding: Coding,
    ua_public: &[u8],
    auth: &[u8],
    plaintext: &[u8],
) -> Result<Encrypted, PushError> {
    let rng = SystemRandom::new();
    let mut salt = [0u8; 16];
    rng.fill(&mut salt)?;
    let private = EphemeralPrivateKey::generate(&ECDH_P256, &rng)?;
    encrypt_with(coding, private, salt, ua_public, auth, plaintext)
}

/// [`encrypt`] with the sender's key pair and salt given.
pub fn encrypt_with(
    coding: Coding,
    private: EphemeralPrivateKey,
    salt: [u8; 16],
    ua_public: &[u8],
    auth: &[u8],
    plaintext: &[u8],
) -> Result<Encrypted, PushError> {
    check_public_key(ua_public)?;
    check_auth_secret(auth)?;
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(PushError::TooLong);
    }
    let sender_public = private.compute_public_key()?.as_ref().to_vec();
    let shared = agreement::agree_ephemeral(
        private,
        UnparsedPublicKey::new(&ECDH_P256, ua_public),
        PushError::BadPublicKey,
        |secret| Ok(secret.to_vec()),
    )?;
    let (cek, nonce, record) = match coding {
        Coding::Aes128Gcm => {
            // RFC 8291 §3.3-3.4: the auth secret and both public keys go
            // into the input keying material.
            let mut key_info = b"WebPush: info\0".to_vec();
            key_info.extend_from_slice(ua_public);
            key_info.extend_from_slice(&sender_public);
            let ikm = hkdf_once(auth, &shared, &key_info, 32)?;
            let cek = hkdf_once(&salt, &ikm, b"Content-Encoding: aes128gcm\0", 16)?;
            let nonce = hkdf_once(&salt, &ikm, b"Content-Encoding: nonce\0", 12)?;
            // RFC 8188 §2: one record, ended by the last-record delimiter.
            let mut record = plaintext.to_vec();
            record.push(2);
            (cek, nonce, record)
        }
        Coding::AesGcm => {
            let ikm = hkdf_once(auth, &shared, b"Content-Encoding: auth\0", 32)?;
            let mut context = b"P-256\0".to_vec();
            for key in [ua_public, sender_public.as_slice()] {
                context.extend_from_slice(&(key.len() as u16).to_be_bytes());
                context.extend_from_slice(key);
            }
            let info = |label: &[u8]| [label, context.as_slice()].concat();
            let cek = hkdf_once(&salt, &ikm, &info(b"Content-Encoding: aesgcm\0"), 16)?;
            let nonce = hkdf_once(&salt, &ikm, &info(b"Content-Encoding: nonce\0"), 12)?;
            // Two bytes of padding length (none), then the message.
            let mut record = vec![0, 0];
            record.extend_from_slice(plaintext);
            (cek, nonce, record)
        }
    };
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &cek)?);
    let mut sealed = record;
    key.seal_in_place_append_tag(
        Nonce::try_assume_unique_for_key(&nonce)?,
        Aad::empty(),
        &mut sealed,
    )?;
    let body = match coding {
        Coding::Aes128Gcm => {
            // salt (16) | record size (4) | key id length (1) | key id.
            let mut body = salt.to_vec();
            body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
            body.push(sender_public.len() as u8);
            body.extend_from_slice(&sender_public);
            body.extend_from_slice(&sealed);
            body
        }
        Coding::AesGcm => sealed,
    };
    Ok(Encrypted {
        coding,
        body,
        salt,
        sender_public,
    })
}

/// HKDF-SHA256: extract with `salt` from `ikm`, expand with `info`.
fn hkdf_once(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Result<Vec<u8>, PushError> {
    struct Len(usize);
    impl KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let prk = Salt::new(HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    let okm = prk.expand(&info, Len(len))?;
    let mut out = vec![0u8; len];
    okm.fill(&mut out)?;
    Ok(out)
}

/// A VAPID token (RFC 8292 §2): an ES256 JWT for the push service at
/// `audience` (the endpoint's origin), valid until `expires` (at most 24
/// hours ahead), naming a contact in `subject`.
pub fn vapid_token(
    key: &EcdsaKeyPair,
    audience: &str,
    expires: DateTime<Utc>,
    subject: &str,
) -> Result<String, PushError> {
    let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
    let claims = serde_json::json!({
        "aud": audience,
        "exp": expires.timestamp(),
        "sub": subject,
    });
    let claims = B64.encode(claims.to_string());
    let input = format!("{header}.{claims}");
    let signature = key.sign(&SystemRandom::new(), input.as_bytes())?;
    Ok(format!("{input}.{}", B64.encode(signature.as_ref())))
}

/// The `Authorization` header: RFC 8292's `vapid` scheme, or the legacy
/// `WebPush` one (whose key goes in `Crypto-Key` instead).
pub fn authorization(coding: Coding, token: &str, public_key: &str) -> String {
    match coding {
        Coding::Aes128Gcm => format!("vapid t={token}, k={public_key}"),
        Coding::AesGcm => format!("WebPush {token}"),
    }
}

/// The legacy coding's `Crypto-Key` and `Encryption` header values.
pub fn legacy_headers(encrypted: &Encrypted, public_key: &str) -> (String, String) {
    (
        format!(
            "dh={};p256ecdsa={public_key}",
            B64.encode(&encrypted.sender_public)
        ),
        format!("salt={}", B64.encode(encrypted.salt)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, KeyPair};

    fn subscriber() -> (Vec<u8>, [u8; 16]) {
        let rng = SystemRandom::new();
        let key = EphemeralPrivateKey::generate(&ECDH_P256, &rng).expect("key");
        let public = key.compute_public_key().expect("public").as_ref().to_vec();
        (public, [7u8; 16])
    }

    #[test]
    fn an_aes128gcm_body_starts_with_the_rfc_8188_header() {
        let (public, auth) = subscriber();
        let sealed = encrypt(Coding::Aes128Gcm, &public, &auth, b"hello").expect("encrypts");
        assert_eq!(&sealed.body[..16], &sealed.salt);
        assert_eq!(&sealed.body[16..20], &4096u32.to_be_bytes());
        assert_eq!(sealed.body[20], 65);
        assert_eq!(&sealed.body[21..86], sealed.sender_public.as_slice());
        // "hello", the delimiter and the 16-byte tag.
        assert_eq!(sealed.body.len(), 86 + 5 + 1 + 16);
    }

    #[test]
    fn bad_keys_and_long_messages_are_refused() {
        let (public, auth) = subscriber();
        assert_eq!(
            encrypt(Coding::Aes128Gcm, &public[1..], &auth, b"x").err(),
            Some(PushError::BadPublicKey)
        );
        assert_eq!(
            encrypt(Coding::Aes128Gcm, &public, &auth[..8], b"x").err(),
            Some(PushError::BadAuthSecret)
        );
        assert_eq!(
            encrypt(Coding::AesGcm, &public, &auth, &[0; MAX_PLAINTEXT + 1]).err(),
            Some(PushError::TooLong)
        );
    }

    #[test]
    fn keys_are_read_in_either_base64_alphabet() {
        assert_eq!(decode_key("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_key("+/8="), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_key("!!"), None);
    }

    #[test]
    fn a_vapid_token_verifies_with_the_public_key() {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("key");
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .expect("key");
        let exp = DateTime::from_timestamp(1_900_000_000, 0).expect("time");
        let token =
            vapid_token(&key, "https://push.example", exp, "mailto:a@b.example").expect("signs");
        let (input, signature) = token.rsplit_once('.').expect("three parts");
        let claims: serde_json::Value = serde_json::from_slice(
            &B64.decode(input.split('.').nth(1).expect("claims"))
                .expect("base64"),
        )
        .expect("json");
        assert_eq!(claims["aud"], "https://push.example");
        assert_eq!(claims["exp"], 1_900_000_000);
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &ECDSA_P256_SHA256_FIXED,
            key.public_key().as_ref(),
        )
        .verify(input.as_bytes(), &B64.decode(signature).expect("base64"))
        .expect("the signature verifies");
    }
}
