//! E-mail addresses as sign-up blocks see them: Mastodon's canonical form
//! (lower case, the local part without dots and without its `+suffix`) and
//! its SHA-256, and the domains an address's domain falls under. No axum,
//! no sqlx.

use sha2::{Digest, Sha256};

/// Mastodon's canonical form of an address: `Jo.Hn+news@Example.com` is
/// `john@example.com`.
pub fn canonical(email: &str) -> String {
    let lower = email.trim().to_lowercase();
    let (local, domain) = lower.split_once('@').unwrap_or((lower.as_str(), ""));
    let local = local.replace('.', "");
    let local = local.split('+').next().unwrap_or_default();
    format!("{local}@{domain}")
}

/// The SHA-256 of the canonical form, in lower-case hex.
pub fn canonical_hash(email: &str) -> String {
    format!("{:x}", Sha256::digest(canonical(email).as_bytes()))
}

/// Whether `text` looks like a SHA-256 in hex.
pub fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The domain of an address and each domain above it (`a.b.example`,
/// `b.example`, `example`), normalised as blocks are stored; empty when
/// the address has no domain.
pub fn covering_domains(email: &str) -> Vec<String> {
    let Some((_, domain)) = email.trim().rsplit_once('@') else {
        return Vec::new();
    };
    let Some(domain) = crate::domain::domain_name::normalize(domain) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut rest = domain.as_str();
    loop {
        out.push(rest.to_string());
        match rest.split_once('.') {
            Some((_, parent)) if !parent.is_empty() => rest = parent,
            _ => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_addresses_drop_dots_suffixes_and_case() {
        assert_eq!(canonical("Jo.Hn+news@Example.COM"), "john@example.com");
        assert_eq!(canonical("john@example.com"), "john@example.com");
        assert_eq!(
            canonical_hash("J.ohn+x@example.com"),
            format!("{:x}", Sha256::digest(b"john@example.com"))
        );
        assert!(is_hash(&canonical_hash("a@b.c")));
        assert!(!is_hash("a@b.c"));
    }

    #[test]
    fn an_address_falls_under_its_domain_and_each_parent() {
        assert_eq!(
            covering_domains("x@Mail.Spam.example"),
            vec!["mail.spam.example", "spam.example", "example"]
        );
        assert!(covering_domains("no-domain").is_empty());
    }
}
