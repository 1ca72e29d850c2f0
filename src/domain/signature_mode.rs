//! Which HTTP signature scheme a server takes from us: learnt by the
//! deliveries' double-knock (`jobs::delivery`), kept per host in
//! `host_signature_modes`.

/// A server's signature scheme, as remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureMode {
    /// RFC 9421 HTTP Message Signatures.
    Rfc9421,
    /// draft-cavage-http-signatures.
    Cavage,
}

impl SignatureMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureMode::Rfc9421 => "rfc9421",
            SignatureMode::Cavage => "cavage",
        }
    }

    pub fn parse(value: &str) -> Option<SignatureMode> {
        match value {
            "rfc9421" => Some(SignatureMode::Rfc9421),
            "cavage" => Some(SignatureMode::Cavage),
            _ => None,
        }
    }
}
