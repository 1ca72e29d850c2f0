//! E-mail domain blocks and canonical e-mail blocks (Mastodon's
//! EmailDomainBlock and CanonicalEmailBlock): addresses refused at sign-up,
//! through the API and the web alike. A domain block covers its
//! subdomains; one with `allow_with_approval` sends the sign-up to the
//! approval queue instead. Each attempt a domain block stops is counted
//! per day and address (the entity's `history`). Admins only (Mastodon's
//! `manage_blocks`); every change is in the audit log.

use chrono::{Duration, NaiveDate};
use serde_json::json;

use crate::db::{self, email_blocks as store};
use crate::domain::email_blocks as rules;
use crate::error::{Error, Result};
use crate::service::audit::{self, Staff};
use crate::service::types::Page;
use crate::state::AppState;

pub use crate::db::email_blocks::{CanonicalEmailBlock, EmailDomainBlock};

/// One day of a domain block's history: (day, sign-up attempts, distinct
/// addresses they came from).
pub type HistoryDay = (NaiveDate, i64, i64);

/// A domain block with its last seven days, today first.
#[derive(Debug, Clone)]
pub struct WithHistory {
    pub block: EmailDomainBlock,
    pub history: Vec<HistoryDay>,
}

async fn with_history(state: &AppState, blocks: Vec<EmailDomainBlock>) -> Result<Vec<WithHistory>> {
    let today = state.clock.now().date_naive();
    let since = today - Duration::days(6);
    let ids: Vec<i64> = blocks.iter().map(|b| b.id).collect();
    let counted = store::history(&state.db, &ids, since).await?;
    Ok(blocks
        .into_iter()
        .map(|block| {
            let history = (0..7)
                .map(|back| {
                    let day = today - Duration::days(back);
                    counted
                        .iter()
                        .find(|(id, d, _, _)| *id == block.id && *d == day)
                        .map_or((day, 0, 0), |(_, _, uses, ips)| (day, *uses, *ips))
                })
                .collect();
            WithHistory { block, history }
        })
        .collect())
}

pub async fn domains(state: &AppState, _staff: &Staff, page: Page) -> Result<Vec<WithHistory>> {
    let blocks = store::list_domains(&state.db, page).await?;
    with_history(state, blocks).await
}

pub async fn domain(state: &AppState, _staff: &Staff, id: i64) -> Result<WithHistory> {
    let block = store::find_domain(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(with_history(state, vec![block]).await?.remove(0))
}

pub async fn block_domain(
    state: &AppState,
    staff: &Staff,
    raw: &str,
    allow_with_approval: bool,
) -> Result<WithHistory> {
    staff.require_admin()?;
    if raw.trim().is_empty() {
        return Err(Error::Validation(
            "Validation failed: Domain can't be blank".into(),
        ));
    }
    let domain =
        crate::domain::domain_name::normalize(raw.trim_start_matches('@')).ok_or_else(|| {
            Error::Validation(format!(
                "Validation failed: Domain {raw:?} is not a domain name"
            ))
        })?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let block = store::insert_domain(&mut *tx, &domain, allow_with_approval, now)
        .await
        .map_err(|e| {
            if db::is_unique_violation(&e, store::DOMAIN_TAKEN) {
                Error::Validation("Validation failed: Domain has already been taken".into())
            } else {
                e.into()
            }
        })?;
    audit::record(
        &mut tx,
        now,
        staff,
        "email_domain_block.create",
        "email_domain_block",
        &block.domain,
        json!({ "allow_with_approval": allow_with_approval }),
    )
    .await?;
    tx.commit().await?;
    Ok(with_history(state, vec![block]).await?.remove(0))
}

pub async fn unblock_domain(state: &AppState, staff: &Staff, id: i64) -> Result<EmailDomainBlock> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let block = store::delete_domain(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "email_domain_block.destroy",
        "email_domain_block",
        &block.domain,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(block)
}

pub async fn canonical_blocks(
    state: &AppState,
    _staff: &Staff,
    page: Page,
) -> Result<Vec<CanonicalEmailBlock>> {
    Ok(store::list_canonical(&state.db, page).await?)
}

pub async fn canonical_block(
    state: &AppState,
    _staff: &Staff,
    id: i64,
) -> Result<CanonicalEmailBlock> {
    store::find_canonical(&state.db, id)
        .await?
        .ok_or(Error::NotFound)
}

/// The canonical blocks an address (or a hash given as is) matches.
pub async fn test_canonical(
    state: &AppState,
    _staff: &Staff,
    email: &str,
) -> Result<Vec<CanonicalEmailBlock>> {
    Ok(store::canonical_by_hash(&state.db, &rules::canonical_hash(email)).await?)
}

/// Blocks an address by its canonical form (`email`), or a canonical hash
/// given as is.
pub async fn block_canonical(
    state: &AppState,
    staff: &Staff,
    email: Option<&str>,
    hash: Option<&str>,
) -> Result<CanonicalEmailBlock> {
    staff.require_admin()?;
    let hash = match (
        email.map(str::trim).filter(|e| !e.is_empty()),
        hash.map(str::trim),
    ) {
        (Some(email), _) => rules::canonical_hash(email),
        (None, Some(h)) if rules::is_hash(h) => h.to_ascii_lowercase(),
        (None, Some(h)) if !h.is_empty() => {
            return Err(Error::Validation(
                "Validation failed: Canonical email hash is not a SHA-256 in hex".into(),
            ));
        }
        _ => {
            return Err(Error::Validation(
                "Validation failed: Canonical email hash can't be blank".into(),
            ));
        }
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let block = store::insert_canonical(&mut tx, &hash, None, now)
        .await?
        .ok_or_else(|| {
            Error::Validation(
                "Validation failed: Canonical email hash has already been taken".into(),
            )
        })?;
    audit::record(
        &mut tx,
        now,
        staff,
        "canonical_email_block.create",
        "canonical_email_block",
        &block.canonical_email_hash,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(block)
}

/// Reserves a deleted account's address (Mastodon's `reserve_email` when
/// staff delete an account), in the caller's transaction.
pub async fn reserve(
    tx: &mut sqlx::PgConnection,
    email: &str,
    account_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    store::insert_canonical(tx, &rules::canonical_hash(email), Some(account_id), now).await?;
    Ok(())
}

pub async fn unblock_canonical(
    state: &AppState,
    staff: &Staff,
    id: i64,
) -> Result<CanonicalEmailBlock> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let block = store::delete_canonical(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "canonical_email_block.destroy",
        "canonical_email_block",
        &block.canonical_email_hash,
        json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(block)
}

/// What an address meets at sign-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    RequiresApproval,
    Blocked,
}

/// Judges a sign-up's address: a canonical block or a full domain block
/// refuses it, a domain block with approval queues it. The attempt is
/// counted in the matching domain block's history (its own transaction:
/// a refused sign-up stores nothing else).
pub async fn judge(state: &AppState, email: &str, ip: &str) -> Result<Verdict> {
    if !store::canonical_by_hash(&state.db, &rules::canonical_hash(email))
        .await?
        .is_empty()
    {
        return Ok(Verdict::Blocked);
    }
    let domains = rules::covering_domains(email);
    if domains.is_empty() {
        return Ok(Verdict::Allowed);
    }
    let matched = store::matching_domains(&state.db, &domains).await?;
    let Some(block) = matched.first() else {
        return Ok(Verdict::Allowed);
    };
    let mut conn = state.db.acquire().await?;
    store::record_attempt(&mut conn, block.id, state.clock.now().date_naive(), ip).await?;
    Ok(if block.allow_with_approval {
        Verdict::RequiresApproval
    } else {
        Verdict::Blocked
    })
}
