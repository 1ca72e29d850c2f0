//! A local account's own domain blocks
//! (<https://docs.joinmastodon.org/methods/domain_blocks/>): the domain's
//! posts and notifications leave the account's view, and, as Mastodon's
//! `AfterBlockDomainFromAccountService` does, every follow between the
//! account and that domain ends. Its follows there are undone
//! (Undo(Follow)); followers and requests from there are refused
//! (Reject(Follow)); its notifications from there are removed. All of it
//! in one transaction with the deliveries it causes.

use crate::db::{self, actors::Actor, timelines::Page, user_domain_blocks::Blocked};
use crate::domain::domain_name;
use crate::error::{Error, Result};
use crate::service::follows;
use crate::state::AppState;

/// Mastodon's page sizes for domain blocks.
pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 200;

fn normalized(raw: &str) -> Result<String> {
    domain_name::normalize(raw).ok_or_else(|| {
        Error::Validation("Validation failed: Domain is not a valid domain name".into())
    })
}

pub async fn list(state: &AppState, actor: &Actor, page: Page) -> Result<Vec<Blocked>> {
    Ok(db::user_domain_blocks::page(&state.db, actor.id, page).await?)
}

/// Blocks a domain for `actor` (blocking it again changes nothing).
pub async fn block(state: &AppState, actor: &Actor, raw: &str) -> Result<()> {
    let domain = normalized(raw)?;
    if !actor.is_local() {
        return Err(Error::Forbidden(
            "only local accounts block domains here".into(),
        ));
    }
    if domain == state.urls.domain() {
        return Err(Error::Validation(
            "Validation failed: Domain is this server's own".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    if !db::user_domain_blocks::insert(&mut *tx, actor.id, &domain, state.clock.now()).await? {
        return Ok(());
    }
    let relations = db::follows::with_domain(&mut *tx, actor.id, &domain).await?;
    let others: Vec<i64> = relations
        .iter()
        .map(|f| {
            if f.follower_id == actor.id {
                f.followee_id
            } else {
                f.follower_id
            }
        })
        .collect();
    let others = db::views::actors(&mut *tx, &others).await?;
    for follow in &relations {
        let other_id = if follow.follower_id == actor.id {
            follow.followee_id
        } else {
            follow.follower_id
        };
        if let Some(other) = others.iter().find(|a| a.id == other_id) {
            follows::sever(&mut tx, state, actor, follow, other).await?;
        }
    }
    db::notifications::delete_from_domain(&mut *tx, actor.id, &domain).await?;
    tx.commit().await?;
    Ok(())
}

/// Lifts a domain block (follows that ended stay ended).
pub async fn unblock(state: &AppState, actor: &Actor, raw: &str) -> Result<()> {
    let domain = normalized(raw)?;
    db::user_domain_blocks::delete(&state.db, actor.id, &domain).await?;
    Ok(())
}
