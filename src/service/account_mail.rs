//! What is proved by e-mail: a sign-up's address (the confirmation link; an
//! unconfirmed account cannot sign in) and a forgotten password (a reset
//! link). Tokens are random, mailed once, kept only as SHA-256 digests,
//! used once and expire; a new link makes the user's earlier one of the
//! same kind useless. Asking for a link answers the same whether or not
//! the address belongs to an account.

use chrono::Duration;
use sqlx::PgConnection;

use crate::db::{self, mail::Purpose};
use crate::error::{Error, Result};
use crate::mail::messages::Mail;
use crate::ratelimit;
use crate::service::types::User;
use crate::service::{mail, oauth, password};
use crate::state::AppState;

/// How long a confirmation link works.
pub const CONFIRMATION_TTL: Duration = Duration::hours(24);
/// How long a password reset link works.
pub const RESET_TTL: Duration = Duration::hours(1);

/// What an unconfirmed account is told when it tries to sign in.
pub const UNCONFIRMED: &str =
    "confirm your e-mail address first: follow the link in the e-mail sent to you";

/// Whether this user's address is confirmed.
pub fn is_confirmed(user: &User) -> bool {
    user.confirmed_at.is_some()
}

/// Whether this user may sign in as far as e-mail is concerned: confirmed,
/// or e-mail is off (an instance that stopped sending mail does not lock
/// out the sign-ups still waiting for their link).
pub fn may_sign_in(state: &AppState, user: &User) -> bool {
    is_confirmed(user) || !mail::enabled(state)
}

/// A new token of `purpose` for `user_id`, stored as its digest; the link
/// that carries it.
async fn new_link(
    tx: &mut PgConnection,
    state: &AppState,
    user_id: i64,
    purpose: Purpose,
) -> Result<String> {
    let token = oauth::new_secret();
    let now = state.clock.now();
    let ttl = match purpose {
        Purpose::Confirmation => CONFIRMATION_TTL,
        Purpose::PasswordReset => RESET_TTL,
    };
    db::mail::insert_token(tx, user_id, purpose, &oauth::digest(&token), now, now + ttl).await?;
    let path = match purpose {
        Purpose::Confirmation => "/auth/confirmation",
        Purpose::PasswordReset => "/auth/password/edit",
    };
    // The token is URL-safe base64: nothing in it needs escaping.
    Ok(format!("{}{path}?token={token}", state.urls.origin()))
}

/// Queues the confirmation e-mail of a new (or still unconfirmed) account,
/// in the caller's transaction.
pub async fn queue_confirmation(
    tx: &mut PgConnection,
    state: &AppState,
    user: &User,
    username: &str,
) -> Result<()> {
    let Some(email) = user.email.as_deref() else {
        return Ok(());
    };
    let link = new_link(tx, state, user.id, Purpose::Confirmation).await?;
    mail::queue(
        tx,
        state,
        email,
        &Mail::Confirmation {
            username,
            link: &link,
        },
    )
    .await
}

/// Confirms the address behind a confirmation link. The user, or a
/// validation error when the link is unknown, used or expired.
pub async fn confirm(state: &AppState, token: &str) -> Result<User> {
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let user_id = db::mail::use_token(
        &mut *tx,
        Purpose::Confirmation,
        &oauth::digest(token.trim()),
        now,
    )
    .await?
    .ok_or_else(|| {
        Error::Validation("this confirmation link is not valid: it may have expired".into())
    })?;
    db::users::set_confirmed(&mut *tx, user_id, now).await?;
    let user = db::users::find_by_id(&mut *tx, user_id)
        .await?
        .ok_or(Error::NotFound)?;
    // A sign-up waiting for approval reaches the staff's mail now that its
    // address is known to work.
    if !user.approved
        && let Some(actor) = db::actors::find_by_id(&mut *tx, user.actor_id).await?
    {
        let reason = db::users::sign_up_reason(&mut *tx, user.id)
            .await?
            .unwrap_or_default();
        crate::service::accounts::mail_staff_pending(
            &mut tx,
            state,
            &user,
            &actor.username,
            &reason,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(user)
}

/// Counts a request for a mailed link from `ip` about `email`.
async fn limit(state: &AppState, ip: &str, email: &str) -> Result<()> {
    for key in [
        ratelimit::address_key(ip),
        format!("email:{}", email.trim().to_lowercase()),
    ] {
        if !state.limits.hit(ratelimit::MAIL_LINK, &key).await?.allowed {
            return Err(Error::TooManyRequests);
        }
    }
    Ok(())
}

/// Mails a new confirmation link to the unconfirmed account with this
/// address; nothing otherwise, and the same answer.
pub async fn resend_confirmation(state: &AppState, email: &str, ip: &str) -> Result<()> {
    if !mail::enabled(state) {
        return Err(Error::Validation("this server does not send e-mail".into()));
    }
    limit(state, ip, email).await?;
    let Some(user) = db::users::find_by_email(&state.db, email.trim()).await? else {
        return Ok(());
    };
    resend_to(state, &user).await
}

/// Mails a new confirmation link to `user` when it is still unconfirmed
/// (Mastodon's `POST /api/v1/emails/confirmations`).
pub async fn resend_to(state: &AppState, user: &User) -> Result<()> {
    if is_confirmed(user) || user.disabled {
        return Ok(());
    }
    let Some(actor) = db::actors::find_by_id(&state.db, user.actor_id).await? else {
        return Ok(());
    };
    let mut tx = state.db.begin().await?;
    queue_confirmation(&mut tx, state, user, &actor.username).await?;
    tx.commit().await?;
    Ok(())
}

/// Mails the confirmation link again to the owner of an app token, when
/// that account is still unconfirmed (Mastodon's `POST
/// /api/v1/emails/confirmations`); refused for any other token.
pub async fn resend_for_token(state: &AppState, token: &str) -> Result<()> {
    let not_waiting = || {
        Error::Forbidden(
            "This method is only available while the e-mail is awaiting confirmation".into(),
        )
    };
    if !mail::enabled(state) {
        return Err(not_waiting());
    }
    let found = db::oauth::find_live_token(&state.db, &oauth::digest(token), state.clock.now())
        .await?
        .ok_or_else(|| Error::Unauthorized("The access token is invalid".into()))?;
    let user = match found.user_id {
        Some(id) => db::users::find_by_id(&state.db, id).await?,
        None => None,
    }
    .filter(|u| !is_confirmed(u) && !u.disabled)
    .ok_or_else(not_waiting)?;
    let key = format!("user:{}", user.id);
    if !state.limits.hit(ratelimit::MAIL_LINK, &key).await?.allowed {
        return Err(Error::TooManyRequests);
    }
    resend_to(state, &user).await
}

/// Whether the e-mail address of the token's user is confirmed (Mastodon's
/// `GET /api/v1/emails/check_confirmation`, which apps poll during
/// sign-up): the token of an account still waiting for its link is
/// accepted, as it must be; it needs `read` or `read:accounts`, and a
/// user (an app's own token gets 401, as Mastodon's
/// `require_authenticated_user!`).
pub async fn confirmed_for_token(state: &AppState, token: &str) -> Result<bool> {
    let invalid = || Error::Unauthorized("The access token is invalid".into());
    let found = db::oauth::find_live_token(&state.db, &oauth::digest(token), state.clock.now())
        .await?
        .ok_or_else(invalid)?;
    let scopes = crate::domain::scopes::Scopes::parse(&found.scopes)
        .map_err(|e| Error::Internal(e.into()))?;
    if !scopes.allows("read:accounts") {
        return Err(Error::Forbidden(
            "This action is outside the authorized scopes".into(),
        ));
    }
    let user = match found.user_id {
        Some(id) => db::users::find_by_id(&state.db, id).await?,
        None => None,
    }
    .filter(|u| !u.disabled)
    .ok_or_else(|| Error::Unauthorized("This method requires an authenticated user".into()))?;
    Ok(is_confirmed(&user))
}

/// "Forgot your password?": mails a reset link to the account with this
/// address, if there is one that can sign in; the same answer otherwise.
pub async fn request_reset(state: &AppState, email: &str, ip: &str) -> Result<()> {
    if !mail::enabled(state) {
        return Err(Error::Validation("this server does not send e-mail".into()));
    }
    limit(state, ip, email).await?;
    let Some(user) = db::users::find_by_email(&state.db, email.trim()).await? else {
        return Ok(());
    };
    let Some(address) = user.email.clone() else {
        return Ok(());
    };
    let Some(actor) = db::actors::find_by_id(&state.db, user.actor_id).await? else {
        return Ok(());
    };
    if user.disabled || actor.suspended_at.is_some() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let link = new_link(&mut tx, state, user.id, Purpose::PasswordReset).await?;
    mail::queue(
        &mut tx,
        state,
        &address,
        &Mail::PasswordReset {
            username: &actor.username,
            link: &link,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether a reset link still works (the page that asks for the new
/// password is only shown for one that does).
pub async fn reset_link_works(state: &AppState, token: &str) -> Result<bool> {
    Ok(db::mail::live_token_user(
        &state.db,
        Purpose::PasswordReset,
        &oauth::digest(token.trim()),
        state.clock.now(),
    )
    .await?
    .is_some())
}

/// Sets a new password with a reset link, which is used up. Every session
/// and app token of the account ends, as when a password is changed.
pub async fn reset_password(state: &AppState, token: &str, new_password: &str) -> Result<()> {
    password::validate(new_password)?;
    let hash = password::hash(new_password).await?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let user_id = db::mail::use_token(
        &mut *tx,
        Purpose::PasswordReset,
        &oauth::digest(token.trim()),
        now,
    )
    .await?
    .ok_or_else(|| {
        Error::Validation("this password reset link is not valid: it may have expired".into())
    })?;
    db::users::set_password_hash_by_id(&mut *tx, user_id, &hash).await?;
    db::sessions::delete_for_user(&mut *tx, user_id).await?;
    db::oauth::revoke_tokens_of_user(&mut *tx, user_id, now).await?;
    tx.commit().await?;
    // The old password's failed guesses no longer count against the new one.
    state
        .limits
        .clear(ratelimit::SIGN_IN_ACCOUNT, &format!("user:{user_id}"))
        .await?;
    Ok(())
}
