//! IP blocks (Mastodon's IpBlock): address ranges whose sign-ups wait for
//! approval (`sign_up_requires_approval`), are refused (`sign_up_block`),
//! or whose every request is refused (`no_access`). The `no_access` ranges
//! live in memory (`AppState::refused_ips`, checked by
//! `http::client_ip::refuse_blocked` without SQL): reloaded here after a
//! change commits, and by every other process's listener when
//! `db::ip_blocks` announces it. Blocks may expire (`expires_in`, on the
//! injectable clock). Admins only; every change is in the audit log.

use serde_json::json;

use crate::db::{self, ip_blocks::Fields};
use crate::domain::ip_ranges::{Range, Refused};
use crate::error::{Error, Result};
use crate::service::audit::{self, Staff};
use crate::service::types::Page;
use crate::state::AppState;

pub use crate::db::ip_blocks::IpBlock;

/// Mastodon's severities, mildest first.
pub const SEVERITIES: [&str; 3] = ["sign_up_requires_approval", "sign_up_block", "no_access"];

/// What sign-ups from an address meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignUpRule {
    Open,
    RequiresApproval,
    Blocked,
}

/// Reads the `no_access` ranges into the process's set.
pub async fn reload(state: &AppState) -> Result<()> {
    let rows = db::ip_blocks::all_of(&state.db, "no_access", state.clock.now()).await?;
    state.refused_ips.replace(Refused::new(
        rows.into_iter()
            .filter_map(|b| Range::parse(&b.ip).map(|r| (r, b.expires_at))),
    ));
    Ok(())
}

/// What an address's sign-ups meet (one query, only at sign-up).
pub async fn sign_up_rule(state: &AppState, ip: &str) -> Result<SignUpRule> {
    if ip.parse::<std::net::IpAddr>().is_err() {
        return Ok(SignUpRule::Open);
    }
    let strictest = db::ip_blocks::strictest_for(&state.db, ip, state.clock.now()).await?;
    Ok(match strictest.as_ref().map(|b| b.severity.as_str()) {
        Some("no_access" | "sign_up_block") => SignUpRule::Blocked,
        Some(_) => SignUpRule::RequiresApproval,
        None => SignUpRule::Open,
    })
}

pub async fn list(state: &AppState, _staff: &Staff, page: Page) -> Result<Vec<IpBlock>> {
    Ok(db::ip_blocks::list(&state.db, page, state.clock.now()).await?)
}

pub async fn find(state: &AppState, _staff: &Staff, id: i64) -> Result<IpBlock> {
    db::ip_blocks::find(&state.db, id, state.clock.now())
        .await?
        .ok_or(Error::NotFound)
}

/// When a block ends, as asked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Expiry {
    /// As it was (never, for a new block).
    #[default]
    Keep,
    Never,
    /// This many seconds from now.
    In(i64),
}

/// A block as asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub ip: String,
    pub severity: String,
    pub comment: String,
    pub expires: Expiry,
}

fn checked(request: &Request) -> Result<()> {
    if request.ip.trim().is_empty() {
        return Err(Error::Validation(
            "Validation failed: Ip can't be blank".into(),
        ));
    }
    if Range::parse(&request.ip).is_none() {
        return Err(Error::Validation(format!(
            "Validation failed: Ip {:?} is not an address or range",
            request.ip
        )));
    }
    if !SEVERITIES.contains(&request.severity.as_str()) {
        return Err(Error::Validation(format!(
            "Validation failed: Severity {:?} is not one of {}",
            request.severity,
            SEVERITIES.join(", ")
        )));
    }
    if matches!(request.expires, Expiry::In(s) if s <= 0) {
        return Err(Error::Validation(
            "Validation failed: Expires in must be a positive number of seconds".into(),
        ));
    }
    if crate::domain::limits::too_long(&request.comment, crate::domain::limits::MODERATION_TEXT) {
        return Err(Error::Validation(format!(
            "Validation failed: Comment has at most {} characters",
            crate::domain::limits::MODERATION_TEXT
        )));
    }
    Ok(())
}

fn taken(e: sqlx::Error) -> Error {
    if db::is_unique_violation(&e, db::ip_blocks::IP_TAKEN) {
        Error::Validation("Validation failed: Ip has already been taken".into())
    } else {
        e.into()
    }
}

pub async fn create(state: &AppState, staff: &Staff, request: &Request) -> Result<IpBlock> {
    staff.require_admin()?;
    checked(request)?;
    let now = state.clock.now();
    let fields = Fields {
        ip: request.ip.trim(),
        severity: &request.severity,
        comment: request.comment.trim(),
        expires_at: match request.expires {
            Expiry::In(s) => Some(now + chrono::Duration::seconds(s)),
            Expiry::Keep | Expiry::Never => None,
        },
    };
    let mut tx = state.db.begin().await?;
    let block = db::ip_blocks::insert(&mut tx, &fields, now)
        .await
        .map_err(taken)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "ip_block.create",
        "ip_block",
        &block.ip,
        json!({ "severity": block.severity, "comment": block.comment, "expires_at": block.expires_at }),
    )
    .await?;
    tx.commit().await?;
    reload(state).await?;
    Ok(block)
}

pub async fn update(
    state: &AppState,
    staff: &Staff,
    id: i64,
    request: &Request,
) -> Result<IpBlock> {
    staff.require_admin()?;
    checked(request)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let current = db::ip_blocks::find(&mut *tx, id, now)
        .await?
        .ok_or(Error::NotFound)?;
    let fields = Fields {
        ip: request.ip.trim(),
        severity: &request.severity,
        comment: request.comment.trim(),
        expires_at: match request.expires {
            Expiry::In(s) => Some(now + chrono::Duration::seconds(s)),
            Expiry::Never => None,
            Expiry::Keep => current.expires_at,
        },
    };
    let block = db::ip_blocks::update(&mut tx, id, &fields, now)
        .await
        .map_err(taken)?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "ip_block.update",
        "ip_block",
        &block.ip,
        json!({ "severity": block.severity, "comment": block.comment, "expires_at": block.expires_at }),
    )
    .await?;
    tx.commit().await?;
    reload(state).await?;
    Ok(block)
}

pub async fn delete(state: &AppState, staff: &Staff, id: i64) -> Result<IpBlock> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let block = db::ip_blocks::delete(&mut tx, id, now)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "ip_block.destroy",
        "ip_block",
        &block.ip,
        json!({ "severity": block.severity }),
    )
    .await?;
    tx.commit().await?;
    reload(state).await?;
    Ok(block)
}
