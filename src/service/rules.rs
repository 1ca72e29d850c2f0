//! The instance's rules: read by everyone (the about page, sign-up, apps
//! through `/api/v1/instance/rules`), written by admins from the web admin
//! area or the command line. Every change is audit-logged in its
//! transaction. A removed rule is kept for the reports that named it.

use sqlx::PgExecutor;

use crate::db::{self, rules::Rule};
use crate::domain::limits;
use crate::error::{Error, Result};
use crate::service::audit::{self, Staff};
use crate::state::AppState;

/// The rules in force, in their order.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<Rule>> {
    Ok(db::rules::list(db).await?)
}

/// Rules by id, removed ones included (what reports named), in their order.
pub async fn by_ids(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Rule>> {
    Ok(db::rules::by_ids(db, ids).await?)
}

/// A rule's text and hint, trimmed and held to their limits.
fn checked<'a>(text: &'a str, hint: &'a str) -> Result<(&'a str, &'a str)> {
    let (text, hint) = (text.trim(), hint.trim());
    if text.is_empty() {
        return Err(Error::Validation("A rule needs a text".into()));
    }
    if limits::too_long(text, limits::RULE_TEXT) {
        return Err(Error::Validation(format!(
            "A rule has at most {} characters",
            limits::RULE_TEXT
        )));
    }
    if limits::too_long(hint, limits::RULE_HINT) {
        return Err(Error::Validation(format!(
            "A rule's explanation has at most {} characters",
            limits::RULE_HINT
        )));
    }
    Ok((text, hint))
}

/// Adds a rule after the others.
pub async fn add(state: &AppState, staff: &Staff, text: &str, hint: &str) -> Result<Rule> {
    staff.require_admin()?;
    let (text, hint) = checked(text, hint)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let rule = db::rules::insert(&mut *tx, text, hint, now).await?;
    audit::record(
        &mut tx,
        now,
        staff,
        "rule.create",
        "rule",
        &rule.id.to_string(),
        serde_json::json!({ "text": rule.text, "hint": rule.hint }),
    )
    .await?;
    tx.commit().await?;
    Ok(rule)
}

/// Changes a rule's text and hint.
pub async fn edit(
    state: &AppState,
    staff: &Staff,
    id: i64,
    text: &str,
    hint: &str,
) -> Result<Rule> {
    staff.require_admin()?;
    let (text, hint) = checked(text, hint)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let before = db::rules::find(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let rule = db::rules::update(&mut *tx, id, text, hint, now)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "rule.update",
        "rule",
        &rule.id.to_string(),
        serde_json::json!({
            "text": { "from": before.text, "to": rule.text },
            "hint": { "from": before.hint, "to": rule.hint },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(rule)
}

/// Removes a rule from those in force.
pub async fn remove(state: &AppState, staff: &Staff, id: i64) -> Result<Rule> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let rule = db::rules::delete(&mut *tx, id, now)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "rule.destroy",
        "rule",
        &rule.id.to_string(),
        serde_json::json!({ "text": rule.text }),
    )
    .await?;
    tx.commit().await?;
    Ok(rule)
}

/// Where a rule moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
}

impl Move {
    pub fn parse(name: &str) -> Option<Move> {
        match name {
            "up" => Some(Move::Up),
            "down" => Some(Move::Down),
            _ => None,
        }
    }
}

/// Moves a rule one place up or down; the first rule moved up (or the last
/// down) stays where it is. Returns the rules in their new order.
pub async fn move_rule(state: &AppState, staff: &Staff, id: i64, to: Move) -> Result<Vec<Rule>> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let mut rules = db::rules::list_for_update(&mut *tx).await?;
    let from = rules
        .iter()
        .position(|r| r.id == id)
        .ok_or(Error::NotFound)?;
    let target = match to {
        Move::Up => from.checked_sub(1),
        Move::Down => Some(from + 1).filter(|i| *i < rules.len()),
    };
    if let Some(target) = target {
        rules.swap(from, target);
        let ids: Vec<i64> = rules.iter().map(|r| r.id).collect();
        db::rules::set_order(&mut *tx, &ids, now).await?;
        audit::record(
            &mut tx,
            now,
            staff,
            "rule.move",
            "rule",
            &id.to_string(),
            serde_json::json!({ "from": from + 1, "to": target + 1 }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rules)
}

/// The rules a report names, checked against those in force: each id must
/// be a rule here. Duplicates are dropped; the order is the rules' order.
pub async fn check_ids(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rules = db::rules::list(db).await?;
    if ids.iter().any(|id| !rules.iter().any(|r| r.id == *id)) {
        return Err(Error::Validation(
            "Validation failed: Rule ids does not reference valid rules".into(),
        ));
    }
    Ok(rules
        .iter()
        .filter(|r| ids.contains(&r.id))
        .map(|r| r.id)
        .collect())
}
