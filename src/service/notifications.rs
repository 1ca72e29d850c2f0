//! Reading notifications: a local account's list with Mastodon's type and
//! sender filters, one by id, dismissing and clearing, and the unread count
//! behind the notifications marker. What is hidden (muted, blocked and
//! domain-blocked senders, posts the reader can no longer see) is decided
//! in SQL (`db::notifications`).

use crate::db::{self, actors::Actor, notifications::Filter, notifications::Notification};
use crate::db::{timelines::Page, users::User};
use crate::domain::notifications::NotificationKind;
use crate::error::{Error, Result};
use crate::state::AppState;

/// Mastodon's page sizes for notifications.
pub const DEFAULT_LIMIT: i64 = 40;
pub const MAX_LIMIT: i64 = 80;
/// Mastodon's cap of the unread count.
pub const DEFAULT_COUNT_LIMIT: i64 = 100;
pub const MAX_COUNT_LIMIT: i64 = 1000;

/// The filter for `types[]`, `exclude_types[]` and `account_id`, as
/// Mastodon's `Notification.browserable` reads them: the known types asked
/// for (all when none), less the excluded ones; names Mastodon does not
/// know are ignored.
pub fn filter(types: &[String], exclude_types: &[String], from_actor_id: Option<i64>) -> Filter {
    let named = |names: &[String], kind: NotificationKind| names.iter().any(|n| n == kind.as_str());
    let kinds: Vec<NotificationKind> = NotificationKind::ALL
        .into_iter()
        .filter(|k| types.is_empty() || named(types, *k))
        .filter(|k| !named(exclude_types, *k))
        .collect();
    Filter {
        kinds: (kinds.len() < NotificationKind::ALL.len()).then_some(kinds),
        from_actor_id,
    }
}

pub async fn list(
    state: &AppState,
    viewer: &Actor,
    filter: &Filter,
    page: Page,
) -> Result<Vec<Notification>> {
    Ok(db::notifications::page(&state.db, viewer.id, filter, page, state.clock.now()).await?)
}

pub async fn get(state: &AppState, viewer: &Actor, id: i64) -> Result<Notification> {
    db::notifications::find(&state.db, viewer.id, id, state.clock.now())
        .await?
        .ok_or(Error::NotFound)
}

/// Removes one notification (404 when the viewer has none by that id).
pub async fn dismiss(state: &AppState, viewer: &Actor, id: i64) -> Result<()> {
    if db::notifications::delete(&state.db, viewer.id, id).await? {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

pub async fn clear(state: &AppState, viewer: &Actor) -> Result<()> {
    db::notifications::clear(&state.db, viewer.id).await?;
    Ok(())
}

/// How many shown notifications are newer than the notifications marker
/// (all of them without a marker), at most `limit`.
pub async fn unread_count(
    state: &AppState,
    user: &User,
    viewer: &Actor,
    filter: &Filter,
    limit: i64,
) -> Result<i64> {
    let markers = db::markers::find(&state.db, user.id, &["notifications".to_string()]).await?;
    let after = markers
        .first()
        .and_then(|m| m.last_read_id.parse::<i64>().ok());
    Ok(db::notifications::count_after(
        &state.db,
        viewer.id,
        filter,
        after,
        limit,
        state.clock.now(),
    )
    .await?)
}
