//! RFC 9421 HTTP Message Signatures, as the fediverse uses them (Mastodon
//! 4.5, Fedify): signing outgoing requests and checking incoming ones.
//!
//! A signature is the pair of headers `Signature-Input` (which components
//! it covers and its parameters: `created`, `keyid`, `alg`...) and
//! `Signature`, both RFC 8941 structured dictionaries keyed by a label
//! (`sig1`), read and written with the `sfv` crate. What is signed is the
//! signature base (RFC 9421 §2.5): one line `"name": value` per covered
//! component, then `"@signature-params": <the inner list>`.
//!
//! Outgoing: POSTs cover `("@method" "@target-uri" "content-digest")`, GETs
//! `("@method" "@target-uri")`, with `created`, `keyid` and
//! `alg="rsa-v1_5-sha256"`; the body's digest goes in `Content-Digest`
//! (RFC 9530, `sha-256=:<base64>:`).
//!
//! Incoming, Mastodon's rules (shared/INTEROP.md): one signature; `created`
//! present; `@method` and `@target-uri` covered, and `content-digest` for a
//! POST, checked against the exact body; the time window of the cavage
//! scheme (`signatures::check_window`); `alg`, when given, is
//! `rsa-v1_5-sha256` or `ed25519`. `@authority` and `@target-uri` are built
//! from the instance's own scheme and domain, never from the request's
//! `Host`, so a request signed for another server does not verify here.
//!
//! Keys: actors' documents give RSA keys (`publicKey`), so the inbox
//! verifies `rsa-v1_5-sha256`. [`verify_ed25519`] verifies `ed25519` with
//! an Ed25519 SPKI key (tested with the RFC's own vector); no actor key
//! Skein stores is one yet.

use aws_lc_rs::signature::{self as crypto, UnparsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, TimeZone, Utc};
use sfv::{BareItem, Dictionary, ListEntry, ListSerializer, Parser};
use sha2::{Digest, Sha256, Sha512};
use url::Url;

use crate::federation::signatures::{
    IncomingRequest, SignatureError, SignatureParams, SigningKey, check_window, pem_body,
};

/// The label Skein signs with, as Mastodon and Fedify do.
pub const LABEL: &str = "sig1";
/// The algorithm name of RSASSA-PKCS1-v1_5 with SHA-256.
pub const RSA_V1_5_SHA256: &str = "rsa-v1_5-sha256";
/// The algorithm name of Ed25519.
pub const ED25519: &str = "ed25519";

/// One signature, read from `Signature-Input` and `Signature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    pub label: String,
    /// The covered components, in order: derived ones start with `@`,
    /// the others are lower-case header names.
    pub components: Vec<String>,
    pub key_id: String,
    pub alg: Option<String>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
    /// The value of `@signature-params`: the inner list as serialised.
    pub params: String,
    pub signature: Vec<u8>,
}

impl MessageSignature {
    pub fn covers(&self, component: &str) -> bool {
        self.components.iter().any(|c| c == component)
    }

    /// The signature as the rest of the signature checks see it (the key
    /// id, what it covers, the signature bytes).
    pub fn as_params(&self) -> SignatureParams {
        SignatureParams {
            key_id: self.key_id.clone(),
            algorithm: self.alg.clone(),
            headers: self.components.clone(),
            signature: self.signature.clone(),
            created: self.created,
            expires: self.expires,
        }
    }
}

fn malformed(what: &'static str) -> SignatureError {
    SignatureError::Malformed(what)
}

/// Reads the one signature of a request. More than one signature is
/// refused, as Mastodon does: which one to trust would be a guess.
pub fn parse(signature_input: &str, signature: &str) -> Result<MessageSignature, SignatureError> {
    let inputs: Dictionary = Parser::new(signature_input)
        .parse()
        .map_err(|_| malformed("Signature-Input is not a structured dictionary"))?;
    let mut entries = inputs.iter();
    let (label, entry) = entries
        .next()
        .ok_or(malformed("Signature-Input is empty"))?;
    if entries.next().is_some() {
        return Err(malformed("more than one signature"));
    }
    let ListEntry::InnerList(list) = entry else {
        return Err(malformed("a Signature-Input member is not an inner list"));
    };
    let mut components = Vec::with_capacity(list.items.len());
    for item in &list.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(malformed("a covered component is not a string"));
        };
        if !item.params.is_empty() {
            return Err(malformed("component parameters are not supported"));
        }
        let name = name.as_str();
        if name != name.to_ascii_lowercase() {
            return Err(malformed("a component name is not lower case"));
        }
        if components.iter().any(|c| c == name) {
            return Err(malformed("a component is covered twice"));
        }
        components.push(name.to_string());
    }
    let mut key_id = None;
    let mut alg = None;
    let mut created = None;
    let mut expires = None;
    for (name, value) in &list.params {
        match (name.as_str(), value) {
            ("keyid", BareItem::String(s)) => key_id = Some(s.as_str().to_string()),
            ("alg", BareItem::String(s)) => alg = Some(s.as_str().to_string()),
            ("created", BareItem::Integer(i)) => created = Some(i64::from(*i)),
            ("expires", BareItem::Integer(i)) => expires = Some(i64::from(*i)),
            ("keyid" | "alg" | "created" | "expires", _) => {
                return Err(malformed("a signature parameter has the wrong type"));
            }
            // nonce, tag and others are signed as they are.
            _ => {}
        }
    }
    let key_id = key_id
        .filter(|k| !k.is_empty())
        .ok_or(malformed("keyid is missing"))?;
    let mut serializer = ListSerializer::new();
    serializer.members([entry]);
    let params = serializer
        .finish()
        .ok_or(malformed("the signature parameters cannot be serialised"))?;

    let signatures: Dictionary = Parser::new(signature)
        .parse()
        .map_err(|_| malformed("Signature is not a structured dictionary"))?;
    let bytes = match signatures.get(label.as_str()) {
        Some(ListEntry::Item(item)) => item
            .bare_item
            .as_byte_sequence()
            .ok_or(malformed("the signature is not a byte sequence"))?
            .to_vec(),
        _ => {
            return Err(malformed(
                "Signature has no member of Signature-Input's label",
            ));
        }
    };
    Ok(MessageSignature {
        label: label.as_str().to_string(),
        components,
        key_id,
        alg,
        created,
        expires,
        params,
        signature: bytes,
    })
}

/// `scheme://authority` of a URL, the authority with its port only when
/// it is not the scheme's default (as `Url` keeps it).
fn authority(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    }
}

/// The parts of the request a signature base reads.
struct Target<'a> {
    method: &'a str,
    scheme: &'a str,
    authority: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    header: &'a dyn Fn(&str) -> Option<String>,
}

/// The signature base (RFC 9421 §2.5) of `components` with the serialised
/// `params`.
fn signature_base(
    components: &[String],
    params: &str,
    target: &Target<'_>,
) -> Result<String, SignatureError> {
    let path = if target.path.is_empty() {
        "/"
    } else {
        target.path
    };
    let query = target.query.map(|q| format!("?{q}")).unwrap_or_default();
    let mut base = String::new();
    for name in components {
        let value = match name.as_str() {
            "@method" => target.method.to_string(),
            "@target-uri" => format!("{}://{}{path}{query}", target.scheme, target.authority),
            "@authority" => target.authority.to_ascii_lowercase(),
            "@scheme" => target.scheme.to_ascii_lowercase(),
            "@request-target" => format!("{path}{query}"),
            "@path" => path.to_string(),
            "@query" => {
                if query.is_empty() {
                    "?".to_string()
                } else {
                    query.clone()
                }
            }
            derived if derived.starts_with('@') => {
                return Err(malformed("an unsupported derived component is covered"));
            }
            field => (target.header)(field)
                .map(|v| v.trim().to_string())
                .ok_or_else(|| SignatureError::MissingHeader(field.to_string()))?,
        };
        if value.contains(['\n', '\r']) {
            return Err(malformed("a component value spans lines"));
        }
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    Ok(base)
}

/// Checks everything but the key, as Mastodon does (see the module's
/// documentation), and returns the signature base to verify. `scheme` and
/// `request.host` are this instance's own.
pub fn check_request(
    signature: &MessageSignature,
    request: &IncomingRequest<'_>,
    scheme: &str,
    now: DateTime<Utc>,
) -> Result<String, SignatureError> {
    if let Some(alg) = &signature.alg
        && alg != RSA_V1_5_SHA256
        && alg != ED25519
    {
        return Err(SignatureError::Algorithm(alg.clone()));
    }
    if !signature.covers("@method") {
        return Err(SignatureError::NotCovered("@method"));
    }
    if !signature.covers("@target-uri") {
        return Err(SignatureError::NotCovered("@target-uri"));
    }
    let is_post = request.method.eq_ignore_ascii_case("POST");
    let digest = (request.header)("content-digest");
    if (is_post || digest.is_some()) && !signature.covers("content-digest") {
        return Err(SignatureError::NotCovered("content-digest"));
    }
    if signature.covers("content-digest") {
        check_content_digest(&digest.ok_or(SignatureError::Digest)?, request.body)?;
    }
    let created = signature.created.ok_or(malformed("created is missing"))?;
    let created = Utc
        .timestamp_opt(created, 0)
        .single()
        .ok_or(malformed("created is out of range"))?;
    check_window(created, signature.expires, now)?;
    signature_base(
        &signature.components,
        &signature.params,
        &Target {
            method: request.method,
            scheme,
            authority: request.host,
            path: request.path,
            query: request.query,
            header: &|name: &str| {
                if name == "host" {
                    Some(request.host.to_string())
                } else {
                    (request.header)(name)
                }
            },
        },
    )
}

/// `sha-256=:<base64>:` of a body (RFC 9530).
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", B64.encode(Sha256::digest(body)))
}

/// Checks a `Content-Digest` against the body: it must name SHA-256 or
/// SHA-512, and every one of them it names must match.
pub fn check_content_digest(header: &str, body: &[u8]) -> Result<(), SignatureError> {
    let digests: Dictionary = Parser::new(header)
        .parse()
        .map_err(|_| SignatureError::Digest)?;
    let mut checked = false;
    for (algorithm, entry) in &digests {
        let expected: Vec<u8> = match algorithm.as_str() {
            "sha-256" => Sha256::digest(body).to_vec(),
            "sha-512" => Sha512::digest(body).to_vec(),
            _ => continue,
        };
        let ListEntry::Item(item) = entry else {
            return Err(SignatureError::Digest);
        };
        if item.bare_item.as_byte_sequence() != Some(expected.as_slice()) {
            return Err(SignatureError::Digest);
        }
        checked = true;
    }
    if checked {
        Ok(())
    } else {
        Err(SignatureError::Digest)
    }
}

/// The headers to add to an outgoing request: `Content-Digest` (with a
/// body), `Signature-Input` and `Signature`, signed with `rsa-v1_5-sha256`.
pub fn sign_request(
    method: &str,
    url: &Url,
    body: Option<&[u8]>,
    key: &SigningKey,
    now: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    let mut headers = Vec::new();
    let mut components = vec!["@method".to_string(), "@target-uri".to_string()];
    if let Some(body) = body {
        headers.push(("content-digest", content_digest(body)));
        components.push("content-digest".to_string());
    }
    let params = format!(
        "({});created={};keyid={};alg=\"{RSA_V1_5_SHA256}\"",
        components
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(" "),
        now.timestamp(),
        sf_string(&key.key_id),
    );
    let authority = authority(url);
    let base = signature_base(
        &components,
        &params,
        &Target {
            method,
            scheme: url.scheme(),
            authority: &authority,
            path: url.path(),
            query: url.query(),
            header: &|name: &str| {
                headers
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.clone())
            },
        },
    )
    // Only @method, @target-uri and the digest made above are covered:
    // none of them can be missing or span lines.
    .unwrap_or_default();
    let signature = B64.encode(key.sign(base.as_bytes()));
    headers.push(("signature-input", format!("{LABEL}={params}")));
    headers.push(("signature", format!("{LABEL}=:{signature}:")));
    headers
}

/// An RFC 8941 string: quoted, with `"` and `\` escaped. Key ids are URLs,
/// printable ASCII.
fn sf_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Verifies an `ed25519` signature with an Ed25519 public key in SPKI PEM
/// (`BEGIN PUBLIC KEY`, OID 1.3.101.112).
pub fn verify_ed25519(public_pem: &str, base: &[u8], signature: &[u8]) -> bool {
    use rsa::pkcs1::der::Decode;
    const ED25519_OID: &str = "1.3.101.112";
    let Some(der) = pem_body(public_pem) else {
        return false;
    };
    let Ok(spki) = rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(&der) else {
        return false;
    };
    if spki.algorithm.oid.to_string() != ED25519_OID {
        return false;
    }
    let Some(raw) = spki.subject_public_key.as_bytes() else {
        return false;
    };
    UnparsedPublicKey::new(&crypto::ED25519, raw)
        .verify(base, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::signatures::tests::{keys, lookup};
    use crate::federation::signatures::{self, VerifyingKey};

    /// RFC 9421 §B.1.1, `test-key-rsa`.
    const TEST_KEY_RSA: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----";

    /// RFC 9421 §B.1.4, `test-key-ed25519`.
    const TEST_KEY_ED25519: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----";

    /// The test message of RFC 9421 §B.2 and its headers.
    fn rfc_headers(name: &str) -> Option<String> {
        match name {
            "date" => Some("Tue, 20 Apr 2021 02:07:55 GMT".into()),
            "content-type" => Some("application/json".into()),
            "content-length" => Some("18".into()),
            "content-digest" => Some(
                "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:".into(),
            ),
            "forwarded" => Some("for=192.0.2.123;host=example.com;proto=https".into()),
            _ => None,
        }
    }

    const RFC_BODY: &[u8] = br#"{"hello": "world"}"#;

    fn rfc_target<'a>(
        authority: &'a str,
        header: &'a dyn Fn(&str) -> Option<String>,
    ) -> Target<'a> {
        Target {
            method: "POST",
            scheme: "https",
            authority,
            path: "/foo",
            query: Some("param=Value&Pet=dog"),
            header,
        }
    }

    #[test]
    fn the_rfc_ed25519_vector_verifies() {
        // RFC 9421 §B.2.6.
        let signature = parse(
            r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#,
            "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
        )
        .expect("parse");
        assert_eq!(signature.key_id, "test-key-ed25519");
        assert_eq!(signature.created, Some(1618884473));
        let base = signature_base(
            &signature.components,
            &signature.params,
            &rfc_target("example.com", &rfc_headers),
        )
        .expect("base");
        assert_eq!(
            base,
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\
             \"@authority\": example.com\n\"content-type\": application/json\n\
             \"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \
             \"@authority\" \"content-type\" \"content-length\");created=1618884473;\
             keyid=\"test-key-ed25519\""
        );
        assert!(verify_ed25519(
            TEST_KEY_ED25519,
            base.as_bytes(),
            &signature.signature
        ));
        // Another authority (a replay to another server) does not verify.
        let elsewhere = signature_base(
            &signature.components,
            &signature.params,
            &rfc_target("example.org", &rfc_headers),
        )
        .expect("base");
        assert!(!verify_ed25519(
            TEST_KEY_ED25519,
            elsewhere.as_bytes(),
            &signature.signature
        ));
        // An RSA key is not an Ed25519 key.
        assert!(!verify_ed25519(
            TEST_KEY_RSA,
            base.as_bytes(),
            &signature.signature
        ));
    }

    #[test]
    fn the_rfc_rsa_v1_5_vector_verifies() {
        // RFC 9421 §4.3: the proxy's signature, rsa-v1_5-sha256 with
        // test-key-rsa.
        let signature = parse(
            r#"proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" "content-length" "forwarded");created=1618884480;keyid="test-key-rsa";alg="rsa-v1_5-sha256";expires=1618884540"#,
            "proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZd8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==:",
        )
        .expect("parse");
        assert_eq!(signature.alg.as_deref(), Some(RSA_V1_5_SHA256));
        assert_eq!(signature.expires, Some(1618884540));
        let key = VerifyingKey::from_pem(TEST_KEY_RSA).expect("the RFC's key is accepted");
        let base = signature_base(
            &signature.components,
            &signature.params,
            &rfc_target("origin.host.internal.example", &rfc_headers),
        )
        .expect("base");
        assert!(key.verify(base.as_bytes(), &signature.signature));
        // The RFC's body matches its SHA-512 Content-Digest; another does not.
        let digest = rfc_headers("content-digest").expect("digest");
        assert_eq!(check_content_digest(&digest, RFC_BODY), Ok(()));
        assert_eq!(
            check_content_digest(&digest, b"{\"hello\": \"moon\"}"),
            Err(SignatureError::Digest)
        );
        // A changed covered header does not verify.
        let tampered = |name: &str| match name {
            "content-length" => Some("19".to_string()),
            other => rfc_headers(other),
        };
        let base = signature_base(
            &signature.components,
            &signature.params,
            &rfc_target("origin.host.internal.example", &tampered),
        )
        .expect("base");
        assert!(!key.verify(base.as_bytes(), &signature.signature));
    }

    fn checked(
        headers: &[(&'static str, String)],
        method: &str,
        host: &str,
        path: &str,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(MessageSignature, String), SignatureError> {
        let header = lookup(headers);
        let signature = parse(
            &header("signature-input").ok_or(SignatureError::Missing)?,
            &header("signature").ok_or(SignatureError::Missing)?,
        )?;
        let request = IncomingRequest {
            method,
            path,
            query: None,
            host,
            header: &header,
            body,
        };
        let base = check_request(&signature, &request, "https", now)?;
        Ok((signature, base))
    }

    #[test]
    fn a_signed_post_verifies_and_tampering_fails() {
        let (signing, verifying) = keys();
        let url = Url::parse("https://b.example/inbox").expect("url");
        let body = br#"{"type":"Follow"}"#;
        let now = Utc::now();
        let headers = sign_request("POST", &url, Some(body), &signing, now);
        let input = lookup(&headers)("signature-input").expect("input");
        assert_eq!(
            input,
            format!(
                "sig1=(\"@method\" \"@target-uri\" \"content-digest\");created={};keyid=\"https://a.example/users/a#main-key\";alg=\"rsa-v1_5-sha256\"",
                now.timestamp()
            )
        );
        let (signature, base) =
            checked(&headers, "POST", "b.example", "/inbox", body, now).expect("checks");
        assert_eq!(signature.key_id, "https://a.example/users/a#main-key");
        assert!(base.starts_with(
            "\"@method\": POST\n\"@target-uri\": https://b.example/inbox\n\"content-digest\": sha-256=:"
        ));
        assert!(signatures::verify(
            &[base],
            &signature.signature,
            &verifying
        ));

        // Another body fails the digest.
        assert_eq!(
            checked(&headers, "POST", "b.example", "/inbox", b"{}", now).map(|_| ()),
            Err(SignatureError::Digest)
        );
        // Another target (a replay to another server or inbox) does not verify.
        for (host, path) in [("c.example", "/inbox"), ("b.example", "/users/b/inbox")] {
            let (signature, base) =
                checked(&headers, "POST", host, path, body, now).expect("checks");
            assert!(!signatures::verify(
                &[base],
                &signature.signature,
                &verifying
            ));
        }
        // Expired, or from the future.
        for offset in [chrono::Duration::hours(2), chrono::Duration::hours(-2)] {
            assert_eq!(
                checked(&headers, "POST", "b.example", "/inbox", body, now + offset).map(|_| ()),
                Err(SignatureError::Expired)
            );
        }
    }

    #[test]
    fn a_signed_get_verifies() {
        let (signing, verifying) = keys();
        let url = Url::parse("http://b.example:8080/users/b?page=1").expect("url");
        let now = Utc::now();
        let headers = sign_request("GET", &url, None, &signing, now);
        assert!(lookup(&headers)("content-digest").is_none());
        let header = lookup(&headers);
        let signature = parse(
            &header("signature-input").expect("input"),
            &header("signature").expect("signature"),
        )
        .expect("parse");
        let request = IncomingRequest {
            method: "GET",
            path: "/users/b",
            query: Some("page=1"),
            host: "b.example:8080",
            header: &header,
            body: b"",
        };
        let base = check_request(&signature, &request, "http", now).expect("checks");
        assert!(base.contains("\"@target-uri\": http://b.example:8080/users/b?page=1\n"));
        assert!(signatures::verify(
            &[base],
            &signature.signature,
            &verifying
        ));
    }

    #[test]
    fn mastodons_rules_are_held_to() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).single().expect("time");
        let body = b"{}";
        let digest = content_digest(body);
        let header = |name: &str| (name == "content-digest").then(|| digest.clone());
        let request = IncomingRequest {
            method: "POST",
            path: "/inbox",
            query: None,
            host: "b.example",
            header: &header,
            body,
        };
        let check = |input: &str| {
            let signature = parse(input, "sig1=:AAAA:").expect("parse");
            check_request(&signature, &request, "https", now).map(|_| ())
        };
        assert_eq!(
            check(
                r#"sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="k""#
            ),
            Ok(())
        );
        assert_eq!(
            check(r#"sig1=("@method" "@target-uri");created=1700000000;keyid="k""#),
            Err(SignatureError::NotCovered("content-digest"))
        );
        assert_eq!(
            check(r#"sig1=("@method" "@path" "content-digest");created=1700000000;keyid="k""#),
            Err(SignatureError::NotCovered("@target-uri"))
        );
        assert_eq!(
            check(r#"sig1=("@target-uri" "content-digest");created=1700000000;keyid="k""#),
            Err(SignatureError::NotCovered("@method"))
        );
        assert_eq!(
            check(r#"sig1=("@method" "@target-uri" "content-digest");keyid="k""#),
            Err(SignatureError::Malformed("created is missing"))
        );
        assert_eq!(
            check(
                r#"sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="k";alg="hmac-sha256""#
            ),
            Err(SignatureError::Algorithm("hmac-sha256".into()))
        );
        // Expired by its own `expires`, past the skew.
        assert_eq!(
            check(
                r#"sig1=("@method" "@target-uri" "content-digest");created=1699990000;expires=1699990060;keyid="k""#
            ),
            Err(SignatureError::Expired)
        );
        // Two signatures, or none of the label in Signature.
        assert!(
            parse(
                r#"a=("@method");created=1;keyid="k", b=("@method");created=1;keyid="k""#,
                "a=:AAAA:, b=:AAAA:"
            )
            .is_err()
        );
        assert!(parse(r#"a=("@method");created=1;keyid="k""#, "b=:AAAA:").is_err());
        assert!(parse(r#"a=("@method");created=1"#, "a=:AAAA:").is_err());
    }

    #[test]
    fn content_digests_need_a_known_algorithm_that_matches() {
        let body = b"hello";
        assert_eq!(check_content_digest(&content_digest(body), body), Ok(()));
        assert_eq!(
            check_content_digest(&content_digest(body), b"other"),
            Err(SignatureError::Digest)
        );
        assert_eq!(
            check_content_digest("md5=:XUFAKrxLKna5cZ2REBfFkg==:", body),
            Err(SignatureError::Digest)
        );
        assert_eq!(
            check_content_digest("not a dictionary ::", body),
            Err(SignatureError::Digest)
        );
    }
}
