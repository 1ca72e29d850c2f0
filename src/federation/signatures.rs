//! HTTP signatures (draft-cavage-http-signatures, as Mastodon speaks them):
//! signing outgoing requests and checking incoming ones.
//!
//! Outgoing: POSTs sign `(request-target) host date digest`, GETs sign
//! `(request-target) host date`, with `rsa-sha256`. RSA signing uses
//! aws-lc-rs (constant-time, several times faster than the `rsa` crate);
//! `rsa` only parses keys.
//!
//! Incoming: the checks Mastodon's verifier makes (shared/INTEROP.md, "HTTP
//! signatures"): required headers, Digest over the exact body, the time
//! window in both directions, `hs2019` verified as RSA-SHA256. Which key and
//! whose key is decided by the caller.

use std::collections::HashMap;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, RsaKeyPair, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, Duration, TimeZone, Utc};
use rsa::pkcs1::der::Decode;
use sha2::{Digest, Sha256};
use url::Url;

/// How far in the future a signature's creation may lie (clock skew).
pub const CLOCK_SKEW: Duration = Duration::hours(1);
/// How long a signature without `expires` stays valid after creation.
pub const DEFAULT_VALIDITY: Duration = Duration::minutes(5);
/// The longest validity accepted, whatever `expires` says.
pub const MAX_VALIDITY: Duration = Duration::hours(12);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the request is not signed")]
    Missing,
    #[error("the Signature header is malformed: {0}")]
    Malformed(&'static str),
    #[error("the signature does not cover {0}")]
    NotCovered(&'static str),
    #[error("unsupported signature algorithm {0}")]
    Algorithm(String),
    #[error("the Digest header is missing, unsupported or does not match the body")]
    Digest,
    #[error("the Date header is missing or cannot be parsed")]
    Date,
    #[error("the signature was made too long ago or claims to be from the future")]
    Expired,
    #[error("a signed header is missing from the request: {0}")]
    MissingHeader(String),
    #[error("the public key cannot be read")]
    BadKey,
    #[error("the public key is refused: {0}")]
    RefusedKey(KeyError),
    #[error("the signature does not verify")]
    Invalid,
}

/// An actor's private key, ready to sign.
pub struct SigningKey {
    pub key_id: String,
    pair: RsaKeyPair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_id", &self.key_id)
            .finish()
    }
}

impl SigningKey {
    /// Reads a PKCS#8 PEM private key (what Skein stores).
    pub fn from_pkcs8_pem(key_id: &str, pem: &str) -> anyhow::Result<SigningKey> {
        let der = pem_body(pem).ok_or_else(|| anyhow::anyhow!("the private key is not PEM"))?;
        let pair = RsaKeyPair::from_pkcs8(&der)
            .map_err(|e| anyhow::anyhow!("the private key is not PKCS#8 RSA: {e}"))?;
        Ok(SigningKey {
            key_id: key_id.to_string(),
            pair,
        })
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .expect("an RSA key pair signs a message into a buffer of its modulus length");
        signature
    }
}

pub(crate) fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    B64.decode(body).ok()
}

/// The one public exponent accepted: what every fediverse server generates.
/// Small exponents (3) open RSA signatures to forgeries when verifiers are
/// lax, and odd ones only come from broken or hostile key generation.
pub const PUBLIC_EXPONENT: u32 = 65537;
/// The accepted sizes of a remote RSA key, in bits: weaker keys can be
/// factored; larger ones make every verification slow (a cheap way to tie
/// up an inbox).
pub const KEY_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

/// Why a remote public key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("it is not an RSA public key in PEM (SPKI or PKCS#1)")]
    Unreadable,
    #[error("its public exponent is not {PUBLIC_EXPONENT}")]
    Exponent,
    #[error("it has {0} bits, where 2048 to 8192 are accepted")]
    Size(usize),
}

/// Reads a remote actor's RSA public key, an SPKI (`BEGIN PUBLIC KEY`) or
/// PKCS#1 (`BEGIN RSA PUBLIC KEY`) PEM, and holds it to [`PUBLIC_EXPONENT`]
/// and [`KEY_BITS`]. Returns the key as PKCS#1 DER, as verifying wants it.
pub fn remote_public_key(pem: &str) -> Result<Vec<u8>, KeyError> {
    let der = pem_body(pem).ok_or(KeyError::Unreadable)?;
    let pkcs1_der = match rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(&der) {
        Ok(spki) => {
            if spki.algorithm.oid != rsa::pkcs1::ALGORITHM_OID {
                return Err(KeyError::Unreadable);
            }
            spki.subject_public_key
                .as_bytes()
                .ok_or(KeyError::Unreadable)?
                .to_vec()
        }
        Err(_) => der,
    };
    let key = rsa::pkcs1::RsaPublicKey::from_der(&pkcs1_der).map_err(|_| KeyError::Unreadable)?;
    // 65537 is 0x01_00_01: DER integers carry no leading zero bytes.
    if key.public_exponent.as_bytes() != [0x01, 0x00, 0x01] {
        return Err(KeyError::Exponent);
    }
    // `as_bytes` strips the sign byte: the first byte holds the top bit.
    let modulus = key.modulus.as_bytes();
    let bits = match modulus.first() {
        Some(first) => modulus.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    };
    if !KEY_BITS.contains(&bits) {
        return Err(KeyError::Size(bits));
    }
    Ok(pkcs1_der)
}

/// A public key, ready to verify.
pub struct VerifyingKey {
    pkcs1_der: Vec<u8>,
}

impl VerifyingKey {
    /// Reads an actor's public key (see [`remote_public_key`]); a key
    /// outside the accepted exponent and sizes is refused.
    pub fn from_pem(pem: &str) -> Result<VerifyingKey, SignatureError> {
        let pkcs1_der = remote_public_key(pem.trim()).map_err(|e| match e {
            KeyError::Unreadable => SignatureError::BadKey,
            refused => SignatureError::RefusedKey(refused),
        })?;
        Ok(VerifyingKey { pkcs1_der })
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &self.pkcs1_der)
            .verify(message, signature)
            .is_ok()
    }
}

/// `SHA-256=<base64>` of a body.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", B64.encode(Sha256::digest(body)))
}

/// The HTTP date format (RFC 7231), always in GMT.
pub fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The headers to add to an outgoing request: `Host`, `Date`, `Digest` (with
/// a body) and `Signature`.
pub fn sign_request(
    method: &str,
    url: &Url,
    body: Option<&[u8]>,
    key: &SigningKey,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let date = http_date(now);
    let target = request_target(method, url.path(), url.query());
    let mut headers = vec![("host", host.clone()), ("date", date.clone())];
    let mut lines = vec![
        format!("(request-target): {target}"),
        format!("host: {host}"),
        format!("date: {date}"),
    ];
    let mut names = "(request-target) host date".to_string();
    if let Some(body) = body {
        let digest = digest_header(body);
        lines.push(format!("digest: {digest}"));
        names.push_str(" digest");
        headers.push(("digest", digest));
    }
    let signature = B64.encode(key.sign(lines.join("\n").as_bytes()));
    headers.push((
        "signature",
        format!(
            "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{names}\",signature=\"{signature}\"",
            key.key_id
        ),
    ));
    headers
}

fn request_target(method: &str, path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) => format!("{} {path}?{q}", method.to_ascii_lowercase()),
        None => format!("{} {path}", method.to_ascii_lowercase()),
    }
}

/// The parameters of a `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    pub key_id: String,
    pub algorithm: Option<String>,
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
}

/// Parses `keyId="...",algorithm="...",headers="...",signature="..."` (also
/// after an `Authorization: Signature ` prefix).
pub fn parse_signature(value: &str) -> Result<SignatureParams, SignatureError> {
    let value = value.trim();
    let value = value.strip_prefix("Signature ").unwrap_or(value);
    let mut params: HashMap<String, String> = HashMap::new();
    let mut rest = value;
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or(SignatureError::Malformed("a parameter without a value"))?;
        let name = name
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (val, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or(SignatureError::Malformed("an unterminated quoted value"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            }
        };
        if params.insert(name, val.to_string()).is_some() {
            return Err(SignatureError::Malformed("a repeated parameter"));
        }
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    let key_id = params
        .remove("keyid")
        .filter(|k| !k.is_empty())
        .ok_or(SignatureError::Malformed("keyId is missing"))?;
    let signature = params
        .remove("signature")
        .and_then(|s| B64.decode(s).ok())
        .ok_or(SignatureError::Malformed(
            "signature is missing or not base64",
        ))?;
    let headers = params
        .remove("headers")
        .unwrap_or_else(|| "date".to_string())
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect();
    let number = |v: Option<String>| -> Result<Option<i64>, SignatureError> {
        v.map(|s| {
            s.trim()
                .parse::<i64>()
                .map_err(|_| SignatureError::Malformed("created/expires is not a number"))
        })
        .transpose()
    };
    Ok(SignatureParams {
        key_id,
        algorithm: params.remove("algorithm"),
        headers,
        signature,
        created: number(params.remove("created"))?,
        expires: number(params.remove("expires"))?,
    })
}

/// A request as the verifier sees it. `host` is the host the request was
/// meant for: Skein passes its own domain, not the incoming header, so a
/// signed request captured elsewhere cannot be replayed here.
pub struct IncomingRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub host: &'a str,
    /// Header lookup by lower-case name; all values of a header, joined.
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
    pub body: &'a [u8],
}

/// Checks everything but the key: signature coverage, algorithm, Digest and
/// time window. Returns the signing strings to verify (with and without the
/// query in `(request-target)`, as Mastodon tries both).
pub fn check_request(
    params: &SignatureParams,
    request: &IncomingRequest<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, SignatureError> {
    if let Some(algorithm) = &params.algorithm {
        let algorithm = algorithm.to_ascii_lowercase();
        if algorithm != "rsa-sha256" && algorithm != "hs2019" {
            return Err(SignatureError::Algorithm(algorithm));
        }
    }
    let covers = |name: &str| params.headers.iter().any(|h| h == name);
    let is_post = request.method.eq_ignore_ascii_case("POST");
    if is_post && !covers("digest") {
        return Err(SignatureError::NotCovered("digest"));
    }
    if !is_post && !covers("host") {
        return Err(SignatureError::NotCovered("host"));
    }
    if !covers("date") && !covers("(created)") {
        return Err(SignatureError::NotCovered("date"));
    }
    if !covers("(request-target)") && !covers("digest") {
        return Err(SignatureError::NotCovered("(request-target)"));
    }
    // A Digest header the signature does not cover could be swapped freely.
    if (request.header)("digest").is_some() && !covers("digest") {
        return Err(SignatureError::NotCovered("digest"));
    }
    if covers("digest") || is_post {
        check_digest(
            &(request.header)("digest").ok_or(SignatureError::Digest)?,
            request.body,
        )?;
    }

    let created = if covers("(created)") {
        let created = params
            .created
            .ok_or(SignatureError::Malformed("created is missing"))?;
        Utc.timestamp_opt(created, 0)
            .single()
            .ok_or(SignatureError::Malformed("created is out of range"))?
    } else {
        let date = (request.header)("date").ok_or(SignatureError::Date)?;
        httpdate::parse_http_date(date.trim())
            .map(DateTime::<Utc>::from)
            .map_err(|_| SignatureError::Date)?
    };
    check_window(created, params.expires, now)?;

    let mut strings = Vec::new();
    let targets = match request.query {
        Some(q) if !q.is_empty() => vec![Some(q), None],
        _ => vec![None],
    };
    for query in targets {
        let mut lines = Vec::with_capacity(params.headers.len());
        for name in &params.headers {
            let value = match name.as_str() {
                "(request-target)" => request_target(request.method, request.path, query),
                "(created)" => params
                    .created
                    .ok_or(SignatureError::Malformed("created is missing"))?
                    .to_string(),
                "(expires)" => params
                    .expires
                    .ok_or(SignatureError::Malformed("expires is missing"))?
                    .to_string(),
                "host" => request.host.to_string(),
                other => (request.header)(other)
                    .ok_or_else(|| SignatureError::MissingHeader(other.to_string()))?,
            };
            lines.push(format!("{name}: {value}"));
        }
        strings.push(lines.join("\n"));
    }
    Ok(strings)
}

/// The time window, as Mastodon holds it (for both signature schemes): not
/// created more than [`CLOCK_SKEW`] ahead of `now`, not expired more than
/// [`CLOCK_SKEW`] ago, where a signature expires at `expires` or after
/// [`DEFAULT_VALIDITY`], and never later than [`MAX_VALIDITY`] after its
/// creation.
pub fn check_window(
    created: DateTime<Utc>,
    expires: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    // From the future: refused before any arithmetic on a hostile value.
    if created > now + CLOCK_SKEW {
        return Err(SignatureError::Expired);
    }
    let mut until = created + DEFAULT_VALIDITY;
    if let Some(e) = expires {
        until = Utc
            .timestamp_opt(e, 0)
            .single()
            .ok_or(SignatureError::Malformed("expires is out of range"))?;
    }
    until = until.min(created + MAX_VALIDITY);
    if created > now + CLOCK_SKEW || until < now - CLOCK_SKEW {
        return Err(SignatureError::Expired);
    }
    Ok(())
}

fn check_digest(header: &str, body: &[u8]) -> Result<(), SignatureError> {
    let expected = B64.encode(Sha256::digest(body));
    let matches = header.split(',').any(|part| {
        part.trim()
            .split_once('=')
            .is_some_and(|(alg, value)| alg.eq_ignore_ascii_case("sha-256") && value == expected)
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Digest)
    }
}

/// Whether any of the signing strings verifies with the key.
pub fn verify(strings: &[String], signature: &[u8], key: &VerifyingKey) -> bool {
    strings.iter().any(|s| key.verify(s.as_bytes(), signature))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use activitypub_federation::http_signatures::generate_actor_keypair;

    /// A fresh key pair of `https://a.example/users/a` (also for the
    /// RFC 9421 tests).
    pub(crate) fn keys() -> (SigningKey, VerifyingKey) {
        let pair = generate_actor_keypair().expect("keys");
        (
            SigningKey::from_pkcs8_pem("https://a.example/users/a#main-key", &pair.private_key)
                .expect("private"),
            VerifyingKey::from_pem(&pair.public_key).expect("public"),
        )
    }

    /// Header lookup over signed headers, as an incoming request gives it.
    pub(crate) fn lookup<'h>(
        headers: &'h [(&'static str, String)],
    ) -> impl Fn(&str) -> Option<String> + 'h {
        move |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn a_signed_post_verifies_and_tampering_fails() {
        let (signing, verifying) = keys();
        let url = Url::parse("https://b.example/inbox?x=1").expect("url");
        let body = br#"{"type":"Follow"}"#;
        let now = Utc::now();
        let headers = sign_request("POST", &url, Some(body), &signing, now);
        let params = parse_signature(&lookup(&headers)("signature").expect("sig")).expect("parse");
        assert_eq!(params.key_id, "https://a.example/users/a#main-key");
        let header = lookup(&headers);
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: Some("x=1"),
            host: "b.example",
            header: &header,
            body,
        };
        let strings = check_request(&params, &request, now).expect("checks");
        assert!(verify(&strings, &params.signature, &verifying));

        // Another host (a replay elsewhere) does not verify.
        let elsewhere = IncomingRequest {
            host: "c.example",
            ..request
        };
        let strings = check_request(&params, &elsewhere, now).expect("checks");
        assert!(!verify(&strings, &params.signature, &verifying));

        // Another body fails the digest.
        let tampered = IncomingRequest {
            body: br#"{"type":"Block"}"#,
            ..elsewhere
        };
        assert_eq!(
            check_request(&params, &tampered, now),
            Err(SignatureError::Digest)
        );
    }

    #[test]
    fn a_created_time_at_the_end_of_the_calendar_is_refused_without_overflow() {
        let now = Utc::now();
        let far = Utc
            .timestamp_opt(8_210_266_876_700, 0)
            .single()
            .expect("in chrono's range");
        assert_eq!(check_window(far, None, now), Err(SignatureError::Expired));
        assert_eq!(
            check_window(far, Some(i64::MAX), now),
            Err(SignatureError::Expired)
        );
    }

    #[test]
    fn the_time_window_follows_mastodon() {
        let (signing, _) = keys();
        let url = Url::parse("https://b.example/inbox").expect("url");
        let now = Utc::now();
        for (offset, ok) in [
            (Duration::zero(), true),
            (Duration::minutes(50), true),
            (Duration::minutes(-60), true),
            (Duration::hours(2), false),
            (Duration::hours(-2), false),
            (Duration::hours(-13), false),
        ] {
            let headers = sign_request("POST", &url, Some(b"{}"), &signing, now + offset);
            let header = lookup(&headers);
            let params = parse_signature(&header("signature").expect("sig")).expect("parse");
            let request = IncomingRequest {
                method: "POST",
                path: "/inbox",
                query: None,
                host: "b.example",
                header: &header,
                body: b"{}",
            };
            assert_eq!(
                check_request(&params, &request, now).is_ok(),
                ok,
                "{offset}"
            );
        }
    }

    #[test]
    fn parses_signature_headers_in_their_usual_shapes() {
        let p = parse_signature(
            r#"keyId="https://x.example/u#k", algorithm="hs2019",created=1700000000,headers="(request-target) (created) digest",signature="AAAA""#,
        )
        .expect("parse");
        assert_eq!(p.key_id, "https://x.example/u#k");
        assert_eq!(p.created, Some(1700000000));
        assert_eq!(p.headers, vec!["(request-target)", "(created)", "digest"]);
        assert_eq!(p.signature, vec![0, 0, 0]);
        assert!(parse_signature(r#"algorithm="rsa-sha256""#).is_err());
        assert!(parse_signature(r#"keyId="a",signature="!!""#).is_err());
    }

    fn pems(key: &rsa::RsaPublicKey) -> [String; 2] {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::pkcs8::{EncodePublicKey, LineEnding};
        [
            key.to_public_key_pem(LineEnding::LF).expect("SPKI PEM"),
            key.to_pkcs1_pem(LineEnding::LF).expect("PKCS#1 PEM"),
        ]
    }

    fn generated(bits: usize, exponent: u32) -> rsa::RsaPublicKey {
        rsa::RsaPrivateKey::new_with_exp(
            &mut rand::thread_rng(),
            bits,
            &rsa::BigUint::from(exponent),
        )
        .expect("key generation")
        .to_public_key()
    }

    #[test]
    fn remote_keys_need_exponent_65537_and_2048_to_8192_bits() {
        for pem in pems(&generated(2048, 65537)) {
            assert!(remote_public_key(&pem).is_ok(), "{pem}");
            assert!(VerifyingKey::from_pem(&pem).is_ok());
        }
        for pem in pems(&generated(1024, 65537)) {
            assert_eq!(remote_public_key(&pem), Err(KeyError::Size(1024)));
            assert!(matches!(
                VerifyingKey::from_pem(&pem),
                Err(SignatureError::RefusedKey(KeyError::Size(1024)))
            ));
        }
        for pem in pems(&generated(2048, 3)) {
            assert_eq!(remote_public_key(&pem), Err(KeyError::Exponent));
        }
        // Sizes are checked on the modulus alone, so keys too large to be
        // worth generating here are made from a number of the right size.
        let modulus = |bits: usize| {
            let mut bytes = vec![0xffu8; bits.div_ceil(8)];
            bytes[0] >>= bytes.len() * 8 - bits;
            rsa::BigUint::from_bytes_be(&bytes)
        };
        let sized = |bits: usize| {
            rsa::RsaPublicKey::new_with_max_size(modulus(bits), rsa::BigUint::from(65537u32), 16384)
                .expect("a public key")
        };
        for pem in pems(&sized(8192)) {
            assert!(remote_public_key(&pem).is_ok());
        }
        for pem in pems(&sized(8193)) {
            assert_eq!(remote_public_key(&pem), Err(KeyError::Size(8193)));
        }
        assert_eq!(remote_public_key("PEM"), Err(KeyError::Unreadable));
        assert!(matches!(
            VerifyingKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
            Err(SignatureError::BadKey)
        ));
    }
}
