//! Two-factor authentication as Mastodon offers it: an authenticator app's
//! codes (TOTP, RFC 6238 with its defaults: HMAC-SHA1, six digits, 30-second
//! steps; a code of the step before or after the current one is accepted,
//! and each step only once) and ten single-use recovery codes.
//!
//! Set-up stores a pending secret and shows it (base32, an `otpauth://`
//! URI and its QR code); a current code and the password turn it on, and
//! the recovery codes are shown that once (only their SHA-256 digests are
//! stored). The secret itself is stored as the actors' private keys are,
//! in the database, and never shown again once on. Signing in with it on
//! takes a second step after the password (`service::sessions`), and the
//! password grant refuses the account (`service::oauth`), as Mastodon's
//! does.
//!
//! Time is the injectable clock's, so tests compute codes without waiting.

use rand::Rng;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::db::{self, actors::Actor, users::User};
use crate::error::{Error, Result};
use crate::ratelimit;
use crate::service::sessions;
use crate::state::AppState;

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// A secret of 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;

/// Recovery codes: 16 characters of this alphabet (80 bits), with no
/// letters that look like digits.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
const RECOVERY_LENGTH: usize = 16;

/// What the set-up page shows: the secret three ways.
#[derive(Debug, Clone)]
pub struct Setup {
    /// The secret in base32, to type into an app.
    pub secret: String,
    /// `otpauth://totp/...`, what the QR code holds.
    pub uri: String,
    /// The QR code of `uri`, an SVG drawing made here.
    pub qr_svg: String,
}

/// Whether a user has two-factor authentication on, and how many recovery
/// codes are left.
#[derive(Debug, Clone, Copy)]
pub struct Status {
    pub enabled: bool,
    pub recovery_codes_left: i64,
}

/// The host part of the instance's domain (a port is left out: neither the
/// issuer nor the account name of an `otpauth` URI may hold a colon).
fn host(state: &AppState) -> String {
    let domain = state.urls.domain();
    match domain.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host.to_string(),
        _ => domain,
    }
}

fn totp(state: &AppState, actor: &Actor, secret: &[u8]) -> Result<Totp> {
    let host = host(state);
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(Secret::from(secret.to_vec()))
        .with_account_name(format!("{}@{host}", actor.username))
        .with_issuer(Some(host))
        .build()
        .map_err(|e| Error::Internal(anyhow::anyhow!("building a TOTP: {e}")))
}

/// The clock's time in unix seconds.
fn unix_now(state: &AppState) -> u64 {
    u64::try_from(state.clock.now().timestamp()).unwrap_or(0)
}

pub async fn status(state: &AppState, user: &User) -> Result<Status> {
    let enabled = db::two_factor::is_enabled(&state.db, user.id).await?;
    let recovery_codes_left = if enabled {
        db::two_factor::recovery_codes_left(&state.db, user.id).await?
    } else {
        0
    };
    Ok(Status {
        enabled,
        recovery_codes_left,
    })
}

pub async fn is_enabled(state: &AppState, user: &User) -> Result<bool> {
    Ok(db::two_factor::is_enabled(&state.db, user.id).await?)
}

/// Starts (or starts again) setting up: a new secret waits for its first
/// code.
pub async fn begin_setup(state: &AppState, user: &User) -> Result<()> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill(&mut secret[..]);
    if !db::two_factor::set_pending(&state.db, user.id, &secret, state.clock.now()).await? {
        return Err(Error::Conflict(
            "two-factor authentication is already on".into(),
        ));
    }
    Ok(())
}

/// The pending set-up, if one waits.
pub async fn pending_setup(state: &AppState, user: &User, actor: &Actor) -> Result<Option<Setup>> {
    let Some(row) = db::two_factor::find(&state.db, user.id).await? else {
        return Ok(None);
    };
    if row.enabled_at.is_some() {
        return Ok(None);
    }
    let totp = totp(state, actor, &row.secret)?;
    let uri = totp
        .to_url()
        .map_err(|e| Error::Internal(anyhow::anyhow!("an otpauth URI: {e}")))?;
    let qr_svg = qr_svg(&uri)?;
    Ok(Some(Setup {
        secret: totp.secret().to_base32(),
        uri,
        qr_svg,
    }))
}

/// An SVG drawing of a QR code holding `text`.
fn qr_svg(text: &str) -> Result<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|e| Error::Internal(anyhow::anyhow!("a QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // The XML declaration has no place inside an HTML page.
    Ok(match svg.find("<svg") {
        Some(at) => svg[at..].to_string(),
        None => svg,
    })
}

/// What was typed as a code: digits without spaces, or a recovery code
/// without spaces and dashes, in lower case.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_totp_code(normalised: &str) -> bool {
    normalised.len() == 6 && normalised.bytes().all(|b| b.is_ascii_digit())
}

/// Turns the pending set-up on once the password and a current code of the
/// new secret are given; returns the recovery codes, shown this once.
pub async fn confirm(
    state: &AppState,
    user: &User,
    actor: &Actor,
    password: &str,
    code: &str,
) -> Result<Vec<String>> {
    let Some(row) = db::two_factor::find(&state.db, user.id)
        .await?
        .filter(|r| r.enabled_at.is_none())
    else {
        return Err(Error::Conflict(
            "there is no set-up waiting for a code; start again".into(),
        ));
    };
    if !sessions::verify_password(state, user, password).await? {
        return Err(Error::Validation("the password is wrong".into()));
    }
    let code = normalise(code);
    let step = if is_totp_code(&code) {
        totp(state, actor, &row.secret)?.check(&code, unix_now(state))
    } else {
        None
    };
    let Some(step) = step.and_then(|s| i64::try_from(s).ok()) else {
        return Err(Error::Validation(
            "the code is wrong; check the time on your device and type the code it shows now"
                .into(),
        ));
    };
    let codes = new_recovery_codes();
    let mut tx = state.db.begin().await?;
    if !db::two_factor::enable(&mut *tx, user.id, &row.secret, step, state.clock.now()).await? {
        return Err(Error::Conflict(
            "the set-up changed meanwhile; start again".into(),
        ));
    }
    db::two_factor::replace_recovery_codes(&mut tx, user.id, &digests(&codes)).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "two-factor authentication turned on");
    Ok(codes)
}

/// Turns two-factor authentication off, once the password and a code (or
/// a recovery code) are given.
pub async fn disable(
    state: &AppState,
    user: &User,
    actor: &Actor,
    password: &str,
    code: &str,
) -> Result<()> {
    if !is_enabled(state, user).await? {
        return Err(Error::Conflict("two-factor authentication is off".into()));
    }
    if !sessions::verify_password(state, user, password).await? {
        return Err(Error::Validation("the password is wrong".into()));
    }
    if !verify(state, user, actor, code).await? {
        return Err(Error::Validation("the code is wrong".into()));
    }
    let mut tx = state.db.begin().await?;
    db::two_factor::delete(&mut tx, user.id).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, "two-factor authentication turned off");
    Ok(())
}

/// New recovery codes in place of the old ones, once the password is
/// given; shown this once.
pub async fn regenerate_recovery_codes(
    state: &AppState,
    user: &User,
    password: &str,
) -> Result<Vec<String>> {
    if !is_enabled(state, user).await? {
        return Err(Error::Conflict("two-factor authentication is off".into()));
    }
    if !sessions::verify_password(state, user, password).await? {
        return Err(Error::Validation("the password is wrong".into()));
    }
    let codes = new_recovery_codes();
    let mut tx = state.db.begin().await?;
    db::two_factor::replace_recovery_codes(&mut tx, user.id, &digests(&codes)).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Checks a second factor of `user`: a code of the authenticator app (its
/// time step not used before) or an unused recovery code (used up now).
/// Every check counts against the account's limit of failed sign-ins
/// before it is made, as password checks do; a right code clears the
/// count.
pub async fn verify(state: &AppState, user: &User, actor: &Actor, code: &str) -> Result<bool> {
    let key = sessions::account_limit_key(user);
    if !state
        .limits
        .hit(ratelimit::SIGN_IN_ACCOUNT, &key)
        .await?
        .allowed
    {
        return Err(Error::TooManyRequests);
    }
    let right = check(state, user, actor, code).await?;
    if right {
        state.limits.clear(ratelimit::SIGN_IN_ACCOUNT, &key).await?;
    }
    Ok(right)
}

async fn check(state: &AppState, user: &User, actor: &Actor, code: &str) -> Result<bool> {
    let Some(row) = db::two_factor::find(&state.db, user.id)
        .await?
        .filter(|r| r.enabled_at.is_some())
    else {
        return Ok(false);
    };
    let code = normalise(code);
    if code.is_empty() {
        return Ok(false);
    }
    if is_totp_code(&code) {
        let step = totp(state, actor, &row.secret)?.check(&code, unix_now(state));
        return match step.and_then(|s| i64::try_from(s).ok()) {
            Some(step) => Ok(db::two_factor::take_step(&state.db, user.id, step).await?),
            None => Ok(false),
        };
    }
    Ok(db::two_factor::use_recovery_code(
        &state.db,
        user.id,
        &Sha256::digest(code.as_bytes()),
        state.clock.now(),
    )
    .await?)
}

fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut code = String::with_capacity(RECOVERY_LENGTH + 3);
            for i in 0..RECOVERY_LENGTH {
                if i > 0 && i % 4 == 0 {
                    code.push('-');
                }
                let at = rng.gen_range(0..RECOVERY_ALPHABET.len());
                code.push(char::from(RECOVERY_ALPHABET[at]));
            }
            code
        })
        .collect()
}

fn digests(codes: &[String]) -> Vec<Vec<u8>> {
    codes
        .iter()
        .map(|c| Sha256::digest(normalise(c).as_bytes()).to_vec())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_ten_distinct_groups_of_the_alphabet() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        for code in &codes {
            assert_eq!(code.len(), 19, "{code}");
            assert_eq!(code.matches('-').count(), 3);
            assert!(
                code.bytes()
                    .all(|b| b == b'-' || RECOVERY_ALPHABET.contains(&b))
            );
        }
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
    }

    #[test]
    fn codes_are_read_without_spaces_dashes_or_case() {
        assert_eq!(normalise(" 123 456 "), "123456");
        assert!(is_totp_code(&normalise("123 456")));
        assert!(!is_totp_code(&normalise("12345")));
        assert_eq!(normalise("ABCD-efgh ijkm-npqr"), "abcdefghijkmnpqr");
        let code = "abcd-efgh-ijkm-npqr".to_string();
        assert_eq!(
            digests(std::slice::from_ref(&code))[0],
            Sha256::digest("abcdefghijkmnpqr".as_bytes()).to_vec()
        );
    }

    #[test]
    fn the_qr_code_is_an_svg_drawing_without_an_xml_declaration() {
        let svg = qr_svg("otpauth://totp/a.example:alice%40a.example?secret=JBSWY3DPEHPK3PXP")
            .expect("a QR code");
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.ends_with("</svg>"));
    }
}
