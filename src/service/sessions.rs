//! Browser sessions: signing in with a username (or e-mail address) and
//! password, and a code for accounts with two-factor authentication
//! (`service::two_factor`), finding the session behind a cookie, signing
//! out. Sessions live in PostgreSQL; the cookie holds a random secret whose
//! digest is the key.

use crate::db::{self, actors::Actor, users::User};
use crate::error::{Error, Result};
use crate::ratelimit;
use crate::service::{oauth, password, two_factor};
use crate::state::AppState;

/// A session lasts this long after it was last used.
pub const TTL: chrono::Duration = chrono::Duration::days(30);

/// The name of the session cookie.
pub const COOKIE: &str = "skein_session";

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub actor: Actor,
    /// The token every form of this session carries.
    pub csrf_token: String,
}

/// Where a sign-in came from, for the rate limit and the session list.
pub struct Client<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
}

/// How long a right password waits for the second factor of an account
/// with two-factor authentication.
pub const CHALLENGE_TTL: chrono::Duration = chrono::Duration::minutes(5);

/// What a right password leads to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the session cookie's value and the session.
    Done(String, Box<Session>),
    /// The account has two-factor authentication on: the token of the
    /// pending sign-in (for a short-lived cookie), to be finished with
    /// [`second_factor`]. No session is open yet.
    SecondFactor(String),
}

/// How the login names the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// The username or the e-mail address (the sign-in forms).
    UsernameOrEmail,
    /// The e-mail address only (the OAuth password grant, as Mastodon's).
    Email,
}

/// Checks the credentials and opens a session, or, for an account with
/// two-factor authentication, a pending sign-in that waits for a code.
/// Attempts are limited as [`authenticate`] says.
pub async fn sign_in(
    state: &AppState,
    login: &str,
    secret: &str,
    client: Client<'_>,
) -> Result<SignIn> {
    let user = authenticate(state, login, Login::UsernameOrEmail, secret, client.ip).await?;
    if two_factor::is_enabled(state, &user).await? {
        let token = oauth::new_secret();
        let now = state.clock.now();
        let mut conn = state.db.acquire().await?;
        db::two_factor::insert_challenge(
            &mut conn,
            &oauth::digest(&token),
            user.id,
            now,
            now + CHALLENGE_TTL,
        )
        .await?;
        return Ok(SignIn::SecondFactor(token));
    }
    let (cookie, session) = open(state, user, client).await?;
    Ok(SignIn::Done(cookie, Box::new(session)))
}

/// The user whose credentials these are, if they may sign in. Attempts are
/// limited per address (every attempt counts, so that an account of one's
/// own cannot reset the count) and per account (see [`verify_password`];
/// so that many addresses cannot share the guessing of one password); a
/// wrong login and a wrong password give the same answer.
pub async fn authenticate(
    state: &AppState,
    login: &str,
    by: Login,
    secret: &str,
    ip: &str,
) -> Result<User> {
    if !state
        .limits
        .hit(ratelimit::SIGN_IN, &ratelimit::address_key(ip))
        .await?
        .allowed
    {
        return Err(Error::TooManyRequests);
    }
    let invalid = || match by {
        Login::UsernameOrEmail => {
            Error::Unauthorized("invalid username, e-mail address or password".into())
        }
        Login::Email => Error::Unauthorized("invalid e-mail address or password".into()),
    };
    let login = login.trim();
    let user = match by {
        Login::UsernameOrEmail => db::users::find_by_login(&state.db, login).await?,
        Login::Email if login.is_empty() => None,
        Login::Email => db::users::find_by_email(&state.db, login).await?,
    };
    let Some(user) = user else {
        // Unknown logins are limited too, by what was typed, so that the
        // answer does not tell which accounts exist.
        let typed = format!("login:{}", login.to_lowercase());
        if !state
            .limits
            .hit(ratelimit::SIGN_IN_ACCOUNT, &typed)
            .await?
            .allowed
        {
            return Err(Error::TooManyRequests);
        }
        // Spend the same time as a real check, so that timing does not tell
        // which accounts exist.
        let _ = password::verify(secret, DUMMY_HASH).await;
        return Err(invalid());
    };
    if !verify_password(state, &user, secret).await? {
        return Err(invalid());
    }
    check_may_sign_in(state, &user).await?;
    Ok(user)
}

/// Refuses an account that may not sign in: disabled, waiting for its
/// e-mail address to be confirmed or for a moderator, suspended.
async fn check_may_sign_in(state: &AppState, user: &User) -> Result<()> {
    if user.disabled {
        return Err(Error::Forbidden("this account is disabled".into()));
    }
    if !crate::service::account_mail::may_sign_in(state, user) {
        return Err(Error::Forbidden(
            crate::service::account_mail::UNCONFIRMED.into(),
        ));
    }
    if !user.approved {
        return Err(Error::Forbidden(
            "this account is waiting for a moderator's approval".into(),
        ));
    }
    if db::actors::is_suspended(&state.db, user.actor_id).await? {
        return Err(Error::Forbidden(
            "this account is suspended by the moderators".into(),
        ));
    }
    Ok(())
}

/// How a second step ended, when it did not fail.
#[derive(Debug)]
pub enum SecondStep {
    /// Signed in: the session cookie's value and the session.
    Done(String, Box<Session>),
    /// The pending sign-in is unknown or has ended: sign in again.
    Expired,
}

/// Finishes a pending sign-in with a code of the authenticator app or a
/// recovery code (used up). A wrong code counts against the account's
/// limit of failed sign-ins, as a wrong password does, and against the
/// address's; the pending sign-in stays until it ends, so the code may be
/// typed again.
pub async fn second_factor(
    state: &AppState,
    challenge: &str,
    code: &str,
    client: Client<'_>,
) -> Result<SecondStep> {
    if !state
        .limits
        .hit(ratelimit::SIGN_IN, &ratelimit::address_key(client.ip))
        .await?
        .allowed
    {
        return Err(Error::TooManyRequests);
    }
    let digest = oauth::digest(challenge);
    let Some(user_id) =
        db::two_factor::find_challenge(&state.db, &digest, state.clock.now()).await?
    else {
        return Ok(SecondStep::Expired);
    };
    let Some(user) = db::users::find_by_id(&state.db, user_id).await? else {
        return Ok(SecondStep::Expired);
    };
    check_may_sign_in(state, &user).await?;
    let actor = db::actors::find_by_id(&state.db, user.actor_id)
        .await?
        .ok_or(Error::NotFound)?;
    if !two_factor::verify(state, &user, &actor, code).await? {
        return Err(Error::Unauthorized(
            "the code is wrong or was used already".into(),
        ));
    }
    db::two_factor::delete_challenge(&state.db, &digest).await?;
    let (cookie, session) = open(state, user, client).await?;
    Ok(SecondStep::Done(cookie, Box::new(session)))
}

/// The key of the account's limit of failed sign-ins (wrong passwords and
/// wrong codes count alike).
pub fn account_limit_key(user: &User) -> String {
    format!("user:{}", user.id)
}

/// Checks a password of `user` (signing in, and before the account moves,
/// is deleted or changes its password). Every check counts against the
/// account's limit before it is made, so that concurrent guesses, from
/// however many addresses and whether the account is named by its username
/// or its e-mail address, cannot pass it; the right password clears the
/// count, unless the account has two-factor authentication on: then only
/// a right code does, so that someone who knows the password cannot reset
/// the count of wrong codes.
pub async fn verify_password(state: &AppState, user: &User, secret: &str) -> Result<bool> {
    let key = account_limit_key(user);
    if !state
        .limits
        .hit(ratelimit::SIGN_IN_ACCOUNT, &key)
        .await?
        .allowed
    {
        return Err(Error::TooManyRequests);
    }
    let right = password::verify(secret, &user.password_hash).await?;
    if right && !two_factor::is_enabled(state, user).await? {
        state.limits.clear(ratelimit::SIGN_IN_ACCOUNT, &key).await?;
    }
    Ok(right)
}

/// Opens a session for a user who has just proved who they are (signed in
/// or signed up).
pub async fn open(state: &AppState, user: User, client: Client<'_>) -> Result<(String, Session)> {
    let actor = db::actors::find_by_id(&state.db, user.actor_id)
        .await?
        .ok_or(Error::NotFound)?;
    let cookie = oauth::new_secret();
    let csrf_token = oauth::new_secret();
    let now = state.clock.now();
    db::sessions::insert(
        &state.db,
        &db::sessions::NewSession {
            digest: &oauth::digest(&cookie),
            user_id: user.id,
            csrf_token: &csrf_token,
            user_agent: truncate(client.user_agent, 300),
            ip: truncate(client.ip, 64),
            now,
            expires_at: now + TTL,
        },
    )
    .await?;
    Ok((
        cookie,
        Session {
            user,
            actor,
            csrf_token,
        },
    ))
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

/// The live session behind a cookie, if any.
pub async fn find(state: &AppState, cookie: &str) -> Result<Option<Session>> {
    let found =
        db::sessions::find_live(&state.db, &oauth::digest(cookie), state.clock.now(), TTL).await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let Some(user) = db::users::find_by_id(&state.db, found.user_id).await? else {
        return Ok(None);
    };
    if user.disabled || !user.approved || !crate::service::account_mail::may_sign_in(state, &user) {
        return Ok(None);
    }
    let Some(actor) = db::actors::find_by_id(&state.db, user.actor_id)
        .await?
        .filter(|a| a.suspended_at.is_none())
    else {
        return Ok(None);
    };
    Ok(Some(Session {
        user,
        actor,
        csrf_token: found.csrf_token,
    }))
}

/// Changes a signed-in user's password once the current one is proved.
/// Every session of the user ends (a stolen session dies with the old
/// password) and a new one opens for the browser that made the change;
/// its cookie is returned.
pub async fn change_password(
    state: &AppState,
    session: &Session,
    current: &str,
    new: &str,
    client: Client<'_>,
) -> Result<(String, Session)> {
    if !state
        .limits
        .hit(ratelimit::SIGN_IN, &ratelimit::address_key(client.ip))
        .await?
        .allowed
    {
        return Err(Error::TooManyRequests);
    }
    let user = db::users::find_by_id(&state.db, session.user.id)
        .await?
        .ok_or(Error::NotFound)?;
    if !verify_password(state, &user, current).await? {
        return Err(Error::Validation("the current password is wrong".into()));
    }
    password::validate(new)?;
    let hash = password::hash(new).await?;
    let mut tx = state.db.begin().await?;
    db::users::set_password_hash(&mut *tx, &session.actor.username, &hash).await?;
    db::sessions::delete_for_user(&mut *tx, user.id).await?;
    tx.commit().await?;
    open(state, user, client).await
}

pub async fn sign_out(state: &AppState, cookie: &str) -> Result<()> {
    db::sessions::delete(&state.db, &oauth::digest(cookie)).await?;
    Ok(())
}

/// A valid Argon2id hash of a random password, verified against when the
/// login names no account.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2tlaW5kdW1teXNhbHQ$0Yw3Yp0r7q0m3x9CkPjBq6T2e6v7t8l9JZfM4mC3S9g";

#[cfg(test)]
mod tests {
    #[test]
    fn the_dummy_hash_parses_so_that_unknown_logins_cost_a_real_check() {
        assert!(argon2::password_hash::PasswordHash::new(super::DUMMY_HASH).is_ok());
    }
}
