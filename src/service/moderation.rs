//! Account moderation and moderators' deletions: suspending and silencing
//! local and remote accounts (and lifting either), approving or rejecting
//! pending sign-ups, deleting posts. Every action is in the audit log, in
//! the transaction that makes it; one taken about a report resolves it.
//!
//! Suspending a local account signs it out everywhere and refuses its
//! sign-ins, hides its posts and empties its public profile; its followers'
//! servers get Update(Person) with `suspended: true` (Mastodon's flag). Its
//! data stays, so that lifting the suspension restores it. Suspending a
//! remote account refuses its activities from then on, ends relations with
//! it both ways (its server is told) and purges what was stored of it, as
//! a domain suspension does. Silencing keeps an account's posts out of
//! public and hashtag timelines except for its followers.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::db::{self, actors::Actor, posts::Post};
use crate::error::{Error, Result};
use crate::mail::messages::{Mail, Moderated};
use crate::service::audit::{self, Staff};
use crate::service::{follows, mail, media, posts, profiles};
use crate::state::AppState;

/// What a moderator does to an account (Mastodon's admin account actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    Suspend,
    Unsuspend,
    Silence,
    Unsilence,
    /// Freeze a local account's sign-in (Mastodon's "disable"); its
    /// profile and posts stay.
    Disable,
    /// Lift a freeze.
    Enable,
    /// Approve a pending sign-up.
    Approve,
    /// Reject a pending sign-up: the account is removed.
    Reject,
    /// Confirm a sign-up's e-mail address for it (its mail was lost).
    Confirm,
    /// Nothing but a note in the audit log (and resolving the report).
    Warn,
    /// Mark the account's media sensitive, now and from now on
    /// (Mastodon's "force sensitive").
    Sensitive,
    /// Lift it.
    Unsensitive,
}

impl AccountAction {
    /// Mastodon's names: `type` of `POST /api/v1/admin/accounts/:id/action`
    /// (`none`, `silence`, `suspend`) and the paths of the others.
    pub fn parse(name: &str) -> Option<AccountAction> {
        match name {
            "suspend" => Some(AccountAction::Suspend),
            "unsuspend" => Some(AccountAction::Unsuspend),
            "silence" => Some(AccountAction::Silence),
            "unsilence" => Some(AccountAction::Unsilence),
            "disable" => Some(AccountAction::Disable),
            "enable" => Some(AccountAction::Enable),
            "approve" => Some(AccountAction::Approve),
            "reject" => Some(AccountAction::Reject),
            "confirm" => Some(AccountAction::Confirm),
            "none" | "warn" => Some(AccountAction::Warn),
            "sensitive" => Some(AccountAction::Sensitive),
            "unsensitive" => Some(AccountAction::Unsensitive),
            _ => None,
        }
    }

    fn audit_name(self) -> &'static str {
        match self {
            AccountAction::Suspend => "account.suspend",
            AccountAction::Unsuspend => "account.unsuspend",
            AccountAction::Silence => "account.silence",
            AccountAction::Unsilence => "account.unsilence",
            AccountAction::Disable => "account.disable",
            AccountAction::Enable => "account.enable",
            AccountAction::Approve => "account.approve",
            AccountAction::Reject => "account.reject",
            AccountAction::Confirm => "account.confirm",
            AccountAction::Warn => "account.warn",
            AccountAction::Sensitive => "account.sensitive",
            AccountAction::Unsensitive => "account.unsensitive",
        }
    }
}

/// An account action as asked: on whom, and optionally about which report
/// and why.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    pub report_id: Option<i64>,
    pub text: &'a str,
}

/// The accounts staff look through (the admin area and the admin API),
/// newest first, as `filter` narrows them. Staff only: `Staff` is proof.
pub async fn accounts(
    state: &AppState,
    _staff: &Staff,
    filter: &db::actors::AdminFilter<'_>,
) -> Result<Vec<Actor>> {
    Ok(db::actors::admin_list(&state.db, filter).await?)
}

/// Takes `action` on the account `target_id`. Returns the account as it is
/// afterwards (None when a rejected sign-up was removed).
pub async fn act_on_account(
    state: &AppState,
    staff: &Staff,
    target_id: i64,
    action: AccountAction,
    request: &Request<'_>,
) -> Result<Option<Actor>> {
    if crate::domain::limits::too_long(request.text, crate::domain::limits::MODERATION_TEXT) {
        return Err(Error::Validation(format!(
            "the text has at most {} characters",
            crate::domain::limits::MODERATION_TEXT
        )));
    }
    let now = state.clock.now();
    let target = db::actors::find_by_id(&state.db, target_id)
        .await?
        .filter(|a| a.gone_at.is_none() || a.is_local())
        .ok_or(Error::NotFound)?;
    if target.is_local() && target.kind == "Application" {
        return Err(Error::Validation(
            "the instance actor cannot be moderated".into(),
        ));
    }
    if Some(target.id) == staff.actor_id
        && matches!(
            action,
            AccountAction::Suspend | AccountAction::Silence | AccountAction::Sensitive
        )
    {
        return Err(Error::Validation(
            "moderators cannot act on themselves".into(),
        ));
    }
    let user = match target.is_local() {
        true => db::users::find_by_actor(&state.db, target.id).await?,
        false => None,
    };
    if let Some(user) = &user
        && matches!(
            action,
            AccountAction::Suspend
                | AccountAction::Silence
                | AccountAction::Disable
                | AccountAction::Sensitive
        )
        && user.role != "user"
        && !staff.is_admin()
    {
        return Err(Error::Forbidden(
            "only an admin may act on a staff account".into(),
        ));
    }

    let mut tx = state.db.begin().await?;
    let mut files = Vec::new();
    match action {
        AccountAction::Suspend => {
            if target.suspended_at.is_some() {
                return Err(Error::Validation("the account is already suspended".into()));
            }
            db::actors::set_suspended(&mut *tx, target.id, Some(now)).await?;
            if target.is_local() {
                suspend_local(&mut tx, state, &target).await?;
            } else {
                suspend_remote(&mut tx, state, &target, now).await?;
            }
        }
        AccountAction::Unsuspend => {
            if target.suspended_at.is_none() {
                return Err(Error::Validation("the account is not suspended".into()));
            }
            db::actors::set_suspended(&mut *tx, target.id, None).await?;
            if target.is_local() {
                let lifted = db::actors::find_by_id(&mut *tx, target.id)
                    .await?
                    .ok_or(Error::NotFound)?;
                profiles::queue_update(&mut tx, state, &lifted).await?;
            }
        }
        AccountAction::Silence => {
            db::actors::set_silenced(&mut *tx, target.id, Some(target.silenced_at.unwrap_or(now)))
                .await?;
        }
        AccountAction::Unsilence => {
            db::actors::set_silenced(&mut *tx, target.id, None).await?;
        }
        AccountAction::Disable | AccountAction::Enable => {
            let Some(user) = &user else {
                return Err(Error::Validation(
                    "only local accounts sign in here: suspend a remote one".into(),
                ));
            };
            db::users::set_disabled(&mut *tx, user.id, action == AccountAction::Disable).await?;
        }
        AccountAction::Approve | AccountAction::Reject => {
            let Some(user) = &user else {
                return Err(Error::Validation(
                    "only local sign-ups wait for approval".into(),
                ));
            };
            if user.approved {
                return Err(Error::Validation("the account is already approved".into()));
            }
            if action == AccountAction::Approve {
                db::users::set_approved(&mut *tx, user.id).await?;
            } else {
                // Never federated: the account goes, and its name is free.
                files = db::uploads::files_of_owner(&mut *tx, target.id).await?;
                db::actors::delete_local(&mut *tx, target.id).await?;
            }
        }
        AccountAction::Confirm => {
            let Some(user) = &user else {
                return Err(Error::Validation(
                    "only local accounts confirm an e-mail address".into(),
                ));
            };
            if user.confirmed_at.is_some() {
                return Err(Error::Validation(
                    "the e-mail address is already confirmed".into(),
                ));
            }
            db::users::set_confirmed(&mut *tx, user.id, now).await?;
        }
        AccountAction::Sensitive => {
            db::actors::set_sensitized(
                &mut *tx,
                target.id,
                Some(target.sensitized_at.unwrap_or(now)),
            )
            .await?;
        }
        AccountAction::Unsensitive => {
            if target.sensitized_at.is_none() {
                return Err(Error::Validation(
                    "the account's media are not marked sensitive".into(),
                ));
            }
            db::actors::set_sensitized(&mut *tx, target.id, None).await?;
        }
        AccountAction::Warn => {}
    }
    if let Some(report) = request.report_id {
        let me = staff
            .actor_id
            .ok_or_else(|| Error::Validation("reports are handled by a staff account".into()))?;
        let found = db::reports::find(&mut *tx, report)
            .await?
            .filter(|r| r.target_id == target.id)
            .ok_or_else(|| Error::Validation("the report is not about this account".into()))?;
        db::reports::set_resolved(&mut *tx, found.id, Some(me), now).await?;
    }
    if let Some(user) = &user {
        tell_owner(&mut tx, state, &target, user, action, request.text).await?;
    }
    audit::record(
        &mut tx,
        now,
        staff,
        action.audit_name(),
        "account",
        &handle(state, &target),
        json!({ "report_id": request.report_id, "text": request.text }),
    )
    .await?;
    tx.commit().await?;
    media::remove_files(state, &files).await;
    tracing::info!(account = %target.ap_id, action = action.audit_name(), "account moderated");
    Ok(db::actors::find_by_id(&state.db, target.id).await?)
}

/// Deletes the data of a suspended account for good (Mastodon's `DELETE
/// /api/v1/admin/accounts/:id`): a local account as its owner would delete
/// it (Delete(Person) to every server that knew it, a tombstone keeps its
/// name), a remote one's stored posts and relations (its row stays, so
/// that the suspension holds if it comes back). Only suspended accounts,
/// so that a deletion is never a moderator's first step.
pub async fn delete_suspended(state: &AppState, staff: &Staff, target_id: i64) -> Result<()> {
    let now = state.clock.now();
    let target = db::actors::find_by_id(&state.db, target_id)
        .await?
        .filter(|a| a.gone_at.is_none() && a.kind != "Application")
        .ok_or(Error::NotFound)?;
    if target.suspended_at.is_none() {
        return Err(Error::Forbidden(
            "only a suspended account's data can be deleted".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    audit::record(
        &mut tx,
        now,
        staff,
        "account.destroy",
        "account",
        &handle(state, &target),
        json!({}),
    )
    .await?;
    if target.is_local()
        && let Some(email) = db::users::find_by_actor(&mut *tx, target.id)
            .await?
            .and_then(|u| u.email)
    {
        // As Mastodon, the address cannot sign up again.
        crate::service::email_blocks::reserve(&mut tx, &email, target.id, now).await?;
    }
    let files = if target.is_local() {
        crate::service::deletion::remove(&mut tx, state, &target, now)
            .await?
            .1
    } else {
        db::domain_policy::purge_actors(&mut tx, &[target.id], now).await?;
        Vec::new()
    };
    tx.commit().await?;
    media::remove_files(state, &files).await;
    tracing::info!(account = %target.ap_id, "suspended account deleted");
    Ok(())
}

/// `user@host`, or `user` for a local account, for the audit log.
/// Mails the owner of a local account what a moderator did to it (nothing
/// for a rejected sign-up: the account is gone).
async fn tell_owner(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    target: &Actor,
    user: &db::users::User,
    action: AccountAction,
    note: &str,
) -> Result<()> {
    let Some(email) = user.email.as_deref() else {
        return Ok(());
    };
    let username = target.username.as_str();
    let moderated = match action {
        AccountAction::Approve => {
            let link = format!("{}/auth/sign_in", state.urls.origin());
            return mail::queue(
                tx,
                state,
                email,
                &Mail::Approved {
                    username,
                    link: &link,
                },
            )
            .await;
        }
        AccountAction::Reject | AccountAction::Confirm | AccountAction::Unsensitive => {
            return Ok(());
        }
        AccountAction::Sensitive => Moderated::Sensitized,
        AccountAction::Suspend => Moderated::Suspended,
        AccountAction::Unsuspend => Moderated::Unsuspended,
        AccountAction::Silence => Moderated::Silenced,
        AccountAction::Unsilence => Moderated::Unsilenced,
        AccountAction::Disable => Moderated::Disabled,
        AccountAction::Enable => Moderated::Enabled,
        AccountAction::Warn => Moderated::Warned,
    };
    mail::queue(
        tx,
        state,
        email,
        &Mail::Moderated {
            username,
            action: moderated,
            note,
        },
    )
    .await
}

fn handle(state: &AppState, actor: &Actor) -> String {
    let host = actor.domain.clone().unwrap_or_else(|| state.urls.domain());
    format!("{}@{host}", actor.username)
}

async fn suspend_local(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    target: &Actor,
) -> Result<()> {
    // Its sessions and tokens are refused while it is suspended (see
    // `service::sessions::find` and `service::oauth::authenticate`).
    let suspended = db::actors::find_by_id(&mut *tx, target.id)
        .await?
        .ok_or(Error::NotFound)?;
    profiles::queue_update(tx, state, &suspended).await
}

async fn suspend_remote(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    target: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    for follow in db::follows::involving(&mut *tx, target.id).await? {
        let local_id = if follow.follower_id == target.id {
            follow.followee_id
        } else {
            follow.follower_id
        };
        if let Some(local) = db::actors::find_by_id(&mut *tx, local_id)
            .await?
            .filter(Actor::is_local)
        {
            follows::sever(tx, state, &local, &follow, target).await?;
        }
    }
    db::domain_policy::purge_actors(tx, &[target.id], now).await?;
    Ok(())
}

/// Deletes a post as a moderator: a local post as its author would (its
/// Delete goes out), a remote one here only. Resolves `report_id` if given.
pub async fn delete_post(
    state: &AppState,
    staff: &Staff,
    post: &Post,
    report_id: Option<i64>,
) -> Result<()> {
    if post.deleted_at.is_some() {
        return Err(Error::NotFound);
    }
    let author = db::actors::find_by_id(&state.db, post.author_id)
        .await?
        .ok_or(Error::NotFound)?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let files = if author.is_local() {
        posts::delete_in(&mut tx, state, &author, post).await?
    } else {
        db::posts::mark_deleted(&mut tx, post.id, now).await?;
        if let Some(parent) = post.in_reply_to_id {
            db::posts::add_replies(&mut *tx, parent, -1).await?;
        }
        Vec::new()
    };
    if let Some(report) = report_id {
        let me = staff
            .actor_id
            .ok_or_else(|| Error::Validation("reports are handled by a staff account".into()))?;
        db::reports::set_resolved(&mut *tx, report, Some(me), now)
            .await?
            .ok_or(Error::NotFound)?;
    }
    audit::record(
        &mut tx,
        now,
        staff,
        "status.destroy",
        "status",
        &post.ap_id,
        json!({ "author": handle(state, &author), "report_id": report_id }),
    )
    .await?;
    tx.commit().await?;
    media::remove_files(state, &files).await;
    Ok(())
}
