//! Reading notifications: a local account's list with Mastodon's type and
//! sender filters, one by id, dismissing and clearing, and the unread count
//! behind the notifications marker; the same grouped (Mastodon 4.3's
//! `/api/v2/notifications`); the notification policy and the requests of
//! the senders it filtered. What is hidden (muted, blocked and
//! domain-blocked senders, posts the reader can no longer see, what the
//! policy filtered) is decided in SQL (`db::notifications`); the policy is
//! applied where notifications are made (`db::notifications::notify`).

use std::collections::HashMap;

use crate::db::notification_requests::NotificationRequest;
use crate::db::notifications::{GroupKey, NotificationGroup};
use crate::db::{self, actors::Actor, notifications::Filter, notifications::Notification};
use crate::db::{timelines::Page, users::User};
use crate::domain::notifications::{GROUP_SAMPLE_ACCOUNTS, NotificationKind, NotificationPolicy};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Mastodon's page sizes for notifications.
pub const DEFAULT_LIMIT: i64 = 40;
pub const MAX_LIMIT: i64 = 80;
/// Mastodon's cap of the unread count.
pub const DEFAULT_COUNT_LIMIT: i64 = 100;
pub const MAX_COUNT_LIMIT: i64 = 1000;

/// The filter for `types[]`, `exclude_types[]`, `account_id` and
/// `include_filtered`, as Mastodon's `Notification.browserable` reads them:
/// the known types asked for (all when none), less the excluded ones; names
/// Mastodon does not know are ignored. Asking for one sender's
/// notifications includes the filtered ones.
pub fn filter(
    types: &[String],
    exclude_types: &[String],
    from_actor_id: Option<i64>,
    include_filtered: bool,
) -> Filter {
    let named = |names: &[String], kind: NotificationKind| names.iter().any(|n| n == kind.as_str());
    let kinds: Vec<NotificationKind> = NotificationKind::ALL
        .into_iter()
        .filter(|k| types.is_empty() || named(types, *k))
        .filter(|k| !named(exclude_types, *k))
        .collect();
    Filter {
        kinds: (kinds.len() < NotificationKind::ALL.len()).then_some(kinds),
        from_actor_id,
        include_filtered: include_filtered || from_actor_id.is_some(),
        replies: None,
        verified_senders: false,
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

/// Removes one notification (404 when the viewer has none by that id); a
/// filtered one counts no more in its sender's request.
pub async fn dismiss(state: &AppState, viewer: &Actor, id: i64) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let Some(n) = db::notifications::find_by_id(&mut *tx, id)
        .await?
        .filter(|n| n.recipient_id == viewer.id)
    else {
        return Err(Error::NotFound);
    };
    db::notifications::delete(&mut *tx, viewer.id, id).await?;
    if n.filtered {
        db::notification_requests::reconsider(&mut *tx, viewer.id, Some(n.from_actor_id)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Removes every notification, and the requests left without any.
pub async fn clear(state: &AppState, viewer: &Actor) -> Result<()> {
    let mut tx = state.db.begin().await?;
    db::notifications::clear(&mut *tx, viewer.id).await?;
    db::notification_requests::reconsider(&mut *tx, viewer.id, None).await?;
    tx.commit().await?;
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

/// The kinds `grouped_types[]` lets group: those Mastodon groups among the
/// names given, all of them when none is.
pub fn grouped_kinds(names: &[String]) -> Vec<NotificationKind> {
    NotificationKind::GROUPABLE
        .into_iter()
        .filter(|k| names.is_empty() || names.iter().any(|n| n == k.as_str()))
        .collect()
}

/// A page of grouped notifications (Mastodon's `/api/v2/notifications`):
/// one notification per group, newest first, each with its group's count,
/// newest id and sample senders up to the page's newest notification, and
/// the part of the group on the page.
pub async fn grouped(
    state: &AppState,
    viewer: &Actor,
    filter: &Filter,
    page: Page,
    grouped: &[NotificationKind],
) -> Result<Vec<NotificationGroup>> {
    let now = state.clock.now();
    let rows =
        db::notifications::group_page(&state.db, viewer.id, filter, page, grouped, now).await?;
    let (Some(newest), Some(oldest)) = (rows.first(), rows.last()) else {
        return Ok(Vec::new());
    };
    // The ids the groups' data covers: the page, or on an incomplete (last)
    // page everything up to the bound it was asked from.
    let mut range = (Some(oldest.id), Some(newest.id));
    if (rows.len() as i64) < page.limit {
        if page.min_id.is_some() {
            range = (Some(oldest.id), page.max_id.map(|m| m - 1));
        } else {
            range = (page.since_id.map(|s| s + 1), Some(newest.id));
        }
    }
    groups_of(state, viewer, rows, grouped, Some(range)).await
}

/// The groups of `rows`: those of the grouped kinds with their data (over
/// `range` when paging), the others alone.
async fn groups_of(
    state: &AppState,
    viewer: &Actor,
    rows: Vec<Notification>,
    grouped: &[NotificationKind],
    range: Option<(Option<i64>, Option<i64>)>,
) -> Result<Vec<NotificationGroup>> {
    let key_of = |n: &Notification| n.group_key.clone().filter(|_| grouped.contains(&n.kind));
    let keys: Vec<String> = rows.iter().filter_map(key_of).collect();
    let data: HashMap<String, db::notifications::GroupData> = db::notifications::groups(
        &state.db,
        viewer.id,
        &keys,
        range,
        GROUP_SAMPLE_ACCOUNTS,
        state.clock.now(),
    )
    .await?
    .into_iter()
    .map(|d| (d.group_key.clone(), d))
    .collect();
    Ok(rows
        .into_iter()
        .map(|n| match key_of(&n).and_then(|k| data.get(&k)) {
            Some(d) => NotificationGroup {
                key: d.group_key.clone(),
                count: d.count,
                most_recent_id: d.most_recent_id.unwrap_or(n.id),
                sample_actor_ids: d.sample_actor_ids.clone(),
                page: range.map(|_| {
                    (
                        d.page_min_id.unwrap_or(n.id),
                        d.latest_at.unwrap_or(n.created_at),
                    )
                }),
                notification: n,
            },
            None => NotificationGroup {
                key: format!("ungrouped-{}", n.id),
                count: 1,
                most_recent_id: n.id,
                sample_actor_ids: vec![n.from_actor_id],
                page: range.map(|_| (n.id, n.created_at)),
                notification: n,
            },
        })
        .collect())
}

/// One group by its key (`GET /api/v2/notifications/:group_key`), filtered
/// notifications included, whole.
pub async fn group(state: &AppState, viewer: &Actor, key: &str) -> Result<NotificationGroup> {
    let n = db::notifications::find_group(
        &state.db,
        viewer.id,
        &GroupKey::parse(key),
        state.clock.now(),
    )
    .await?
    .ok_or(Error::NotFound)?;
    let mut groups = groups_of(state, viewer, vec![n], &NotificationKind::GROUPABLE, None).await?;
    groups.pop().ok_or(Error::NotFound)
}

/// Removes a group's notifications (none is no error, as in Mastodon).
pub async fn dismiss_group(state: &AppState, viewer: &Actor, key: &str) -> Result<()> {
    let mut tx = state.db.begin().await?;
    if db::notifications::delete_group(&mut *tx, viewer.id, &GroupKey::parse(key)).await? > 0 {
        db::notification_requests::reconsider(&mut *tx, viewer.id, None).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A page of who is in a group, newest first: the notifications (for
/// their ids) and their senders.
pub async fn group_accounts(
    state: &AppState,
    viewer: &Actor,
    key: &str,
    page: Page,
) -> Result<Vec<(i64, Actor)>> {
    let rows = db::notifications::group_members(
        &state.db,
        viewer.id,
        &GroupKey::parse(key),
        page,
        state.clock.now(),
    )
    .await?;
    let ids: Vec<i64> = rows.iter().map(|n| n.from_actor_id).collect();
    let actors: HashMap<i64, Actor> = db::views::actors(&state.db, &ids)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    Ok(rows
        .iter()
        .filter_map(|n| Some((n.id, actors.get(&n.from_actor_id)?.clone())))
        .collect())
}

/// How many groups have shown notifications newer than the notifications
/// marker (all without one), at most `limit`.
pub async fn unread_group_count(
    state: &AppState,
    user: &User,
    viewer: &Actor,
    filter: &Filter,
    grouped: &[NotificationKind],
    limit: i64,
) -> Result<i64> {
    let markers = db::markers::find(&state.db, user.id, &["notifications".to_string()]).await?;
    let after = markers
        .first()
        .and_then(|m| m.last_read_id.parse::<i64>().ok());
    Ok(db::notifications::count_groups_after(
        &state.db,
        viewer.id,
        filter,
        after,
        limit,
        grouped,
        state.clock.now(),
    )
    .await?)
}

/// The viewer's notification policy, with its pending requests and the
/// notifications they hold (Mastodon's summary).
pub async fn policy(state: &AppState, viewer: &Actor) -> Result<(NotificationPolicy, (i64, i64))> {
    let policy = db::notification_requests::policy(&state.db, viewer.id).await?;
    let summary = db::notification_requests::summary(&state.db, viewer.id).await?;
    Ok((policy, summary))
}

/// Changes the viewer's policy: `change` edits the stored one. What was
/// filtered before stays so.
pub async fn update_policy(
    state: &AppState,
    viewer: &Actor,
    change: impl FnOnce(&mut NotificationPolicy),
) -> Result<(NotificationPolicy, (i64, i64))> {
    let mut tx = state.db.begin().await?;
    let mut policy = db::notification_requests::policy(&mut *tx, viewer.id).await?;
    change(&mut policy);
    db::notification_requests::set_policy(&mut *tx, viewer.id, &policy, state.clock.now()).await?;
    let summary = db::notification_requests::summary(&mut *tx, viewer.id).await?;
    tx.commit().await?;
    Ok((policy, summary))
}

/// Mastodon's page sizes for requests (its accounts' limits).
pub const DEFAULT_REQUESTS_LIMIT: i64 = 40;
pub const MAX_REQUESTS_LIMIT: i64 = 80;

pub async fn requests(
    state: &AppState,
    viewer: &Actor,
    page: Page,
) -> Result<Vec<NotificationRequest>> {
    Ok(db::notification_requests::page(&state.db, viewer.id, page).await?)
}

pub async fn request(state: &AppState, viewer: &Actor, id: i64) -> Result<NotificationRequest> {
    db::notification_requests::find(&state.db, viewer.id, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Accepts requests (404 for a single id the viewer has no request by;
/// ids of others' or of none are skipped in bulk): their senders' filtered
/// notifications join the list, and they are never filtered again.
pub async fn accept_requests(
    state: &AppState,
    viewer: &Actor,
    ids: &[i64],
    single: bool,
) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let requests = db::notification_requests::find_many(&mut tx, viewer.id, ids).await?;
    if single && requests.is_empty() {
        return Err(Error::NotFound);
    }
    let now = state.clock.now();
    for request in &requests {
        db::notification_requests::accept(&mut tx, request, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Dismisses requests: their filtered notifications go with them.
pub async fn dismiss_requests(
    state: &AppState,
    viewer: &Actor,
    ids: &[i64],
    single: bool,
) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let requests = db::notification_requests::find_many(&mut tx, viewer.id, ids).await?;
    if single && requests.is_empty() {
        return Err(Error::NotFound);
    }
    for request in &requests {
        db::notification_requests::dismiss(&mut tx, request).await?;
    }
    tx.commit().await?;
    Ok(())
}
