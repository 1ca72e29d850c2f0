//! ActivityPub relays, as Mastodon speaks to them: an admin subscribes the
//! instance by the relay's inbox URL; the instance actor sends it a
//! `Follow` of the Public collection, and the relay answers `Accept` (or
//! `Reject`). Once accepted, every public post of a local account (its
//! Create, Update and Delete) also goes to the relay's inbox, and what the
//! relay sends (`service::inbox::relayed`) is taken into the fediverse
//! timeline. Unsubscribing sends `Undo(Follow)`.

use sqlx::PgConnection;
use url::Url;

use crate::db::{self, relays::Relay};
use crate::error::{Error, Result};
use crate::federation::{PUBLIC, activities};
use crate::service::audit::{self, Staff};
use crate::service::outbox;
use crate::state::AppState;

pub async fn list(state: &AppState) -> Result<Vec<Relay>> {
    Ok(db::relays::list(&state.db).await?)
}

async fn instance_actor(state: &AppState) -> Result<db::actors::Actor> {
    crate::service::instance::ensure_actor(&state.db, &state.urls).await
}

/// Subscribes to the relay whose inbox is `raw_inbox` (admins only): the
/// Follow is queued in the same transaction.
pub async fn subscribe(state: &AppState, staff: &Staff, raw_inbox: &str) -> Result<Relay> {
    staff.require_admin()?;
    let inbox = Url::parse(raw_inbox.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            Error::Validation(format!(
                "{:?} is not a relay's inbox URL (such as https://relay.example/inbox)",
                raw_inbox.trim()
            ))
        })?;
    crate::service::domain_policy::check_url(state, &inbox).await?;
    let actor = instance_actor(state).await?;
    let now = state.clock.now();
    let follow_id = activities::new_id(&state.urls);
    let mut tx = state.db.begin().await?;
    let relay = db::relays::insert(&mut *tx, inbox.as_str(), &follow_id, now)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.constraint() == Some(db::relays::INBOX_TAKEN) => {
                Error::Validation(format!("already subscribed to {inbox}"))
            }
            _ => Error::from(e),
        })?;
    let follow = activities::follow(&follow_id, &actor.ap_id, PUBLIC);
    outbox::queue(
        &mut tx,
        state,
        actor.id,
        &follow,
        std::slice::from_ref(&relay.inbox_url),
    )
    .await?;
    audit::record(
        &mut tx,
        now,
        staff,
        "relay.subscribe",
        "relay",
        &relay.inbox_url,
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(relay)
}

/// Ends a subscription (admins only): `Undo(Follow)` goes to the relay,
/// and nothing more is sent to it or taken from it.
pub async fn unsubscribe(state: &AppState, staff: &Staff, id: i64) -> Result<Relay> {
    staff.require_admin()?;
    let actor = instance_actor(state).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let relay = db::relays::delete(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    if relay.state != "rejected" {
        let follow = activities::follow_object(&relay.follow_activity_id, &actor.ap_id, PUBLIC);
        let undo = activities::undo(&activities::new_id(&state.urls), &actor.ap_id, follow);
        outbox::queue(
            &mut tx,
            state,
            actor.id,
            &undo,
            std::slice::from_ref(&relay.inbox_url),
        )
        .await?;
    }
    audit::record(
        &mut tx,
        now,
        staff,
        "relay.unsubscribe",
        "relay",
        &relay.inbox_url,
        serde_json::json!({ "state": relay.state }),
    )
    .await?;
    tx.commit().await?;
    Ok(relay)
}

/// The relays' inboxes a local post goes to as well: every accepted relay
/// for a public post, none for the others.
pub async fn inboxes_for(
    tx: &mut PgConnection,
    visibility: crate::domain::visibility::Visibility,
) -> Result<Vec<String>> {
    if visibility != crate::domain::visibility::Visibility::Public {
        return Ok(Vec::new());
    }
    Ok(db::relays::accepted_inboxes(&mut *tx).await?)
}
