//! OAuth 2 as Mastodon speaks it (<https://docs.joinmastodon.org/spec/oauth/>):
//! registering applications, authorization codes (with PKCE), the
//! password and client-credentials grants, revocation, and bearer-token
//! authentication.
//!
//! Codes and tokens are random 256-bit strings handed out once; only their
//! SHA-256 digests are stored.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use url::Url;

use crate::db::{self, actors::Actor, oauth::App, users::User};
use crate::domain::scopes::Scopes;
use crate::error::{Error, Result};
use crate::service::sessions::{self, Login};
use crate::service::two_factor;
use crate::state::AppState;

/// The redirect URI that shows the code on a page instead of redirecting.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// How long an authorization code may wait to be exchanged (Doorkeeper's
/// and Mastodon's default).
const CODE_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// A fresh secret: 32 random bytes, URL-safe base64 without padding.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    B64.encode(bytes)
}

pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// What `POST /api/v1/apps` asks for.
pub struct Registration<'a> {
    pub name: &'a str,
    pub website: Option<&'a str>,
    /// One or more URIs, as given (a list, or one string with newlines).
    pub redirect_uris: Vec<String>,
    pub scopes: &'a str,
}

const MAX_APP_NAME: usize = crate::domain::limits::APP_NAME;
const MAX_URI: usize = crate::domain::limits::URI;

pub async fn register(state: &AppState, registration: Registration<'_>) -> Result<App> {
    let name = registration.name.trim();
    if name.is_empty() {
        return Err(Error::Validation("client_name can't be blank".into()));
    }
    if name.chars().count() > MAX_APP_NAME {
        return Err(Error::Validation(format!(
            "client_name is too long (at most {MAX_APP_NAME} characters)"
        )));
    }
    let website = registration
        .website
        .map(str::trim)
        .filter(|w| !w.is_empty());
    if let Some(site) = website
        && (site.len() > MAX_URI || !Url::parse(site).is_ok_and(|u| is_web_url(&u)))
    {
        return Err(Error::Validation("website is not a valid URL".into()));
    }
    let redirect_uris: Vec<String> = registration
        .redirect_uris
        .iter()
        .flat_map(|u| u.split('\n'))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(String::from)
        .collect();
    if redirect_uris.is_empty() {
        return Err(Error::Validation("redirect_uris can't be blank".into()));
    }
    for uri in &redirect_uris {
        valid_redirect_uri(uri)?;
    }
    let scopes =
        Scopes::parse(registration.scopes).map_err(|e| Error::Validation(e.to_string()))?;
    let app = db::oauth::insert_app(
        &state.db,
        &db::oauth::NewApp {
            name,
            website,
            redirect_uris: &redirect_uris,
            scopes: &scopes.to_string(),
            client_id: &new_secret(),
            client_secret: &new_secret(),
            owner_user_id: None,
            now: state.clock.now(),
        },
    )
    .await?;
    Ok(app)
}

fn is_web_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

/// A redirect URI is absolute, has no fragment (RFC 6749 §3.1.2) and is
/// either the out-of-band URN, a web URL or an app's own scheme
/// (`com.example.app:/callback`).
fn valid_redirect_uri(uri: &str) -> Result<()> {
    if uri == OOB {
        return Ok(());
    }
    match Url::parse(uri) {
        Ok(url) if uri.len() <= MAX_URI && url.fragment().is_none() => Ok(()),
        _ => Err(Error::Validation(format!(
            "redirect_uri `{uri}` must be an absolute URI without a fragment"
        ))),
    }
}

/// Why a request to the authorization or token endpoint fails, with the
/// error codes of RFC 6749 §4.1.2.1 and §5.2.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    #[error("client authentication failed")]
    InvalidClient,
    #[error("{0}")]
    InvalidGrant(String),
    #[error("the authorization grant type is not supported")]
    UnsupportedGrantType,
    #[error("the authorization server does not support this response type")]
    UnsupportedResponseType,
    #[error("{0}")]
    InvalidScope(String),
    #[error("the resource owner denied the request")]
    AccessDenied,
    /// Too many sign-in attempts for the address or the account.
    #[error("Too many requests")]
    TooManyRequests,
    #[error(transparent)]
    Internal(#[from] Error),
}

impl From<sqlx::Error> for OAuthError {
    fn from(e: sqlx::Error) -> Self {
        OAuthError::Internal(e.into())
    }
}

impl OAuthError {
    /// The `error` code of the response.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::UnsupportedResponseType => "unsupported_response_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::AccessDenied => "access_denied",
            OAuthError::TooManyRequests => "too_many_requests",
            OAuthError::Internal(_) => "server_error",
        }
    }
}

/// `GET /oauth/authorize`'s query, as the client sent it.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeParams {
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    #[serde(default)]
    pub force_login: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

/// An authorization request that has been checked: the app exists and the
/// redirect URI is one of its own, so errors past this point may be sent
/// back to the redirect URI.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub app: App,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
}

/// The first check: the client and its redirect URI. Failing here, the
/// user sees an error page; nothing is redirected to an unchecked URI.
pub async fn check_client(state: &AppState, params: &AuthorizeParams) -> Result<App, OAuthError> {
    let app = db::oauth::find_app_by_client_id(&state.db, &params.client_id)
        .await?
        .ok_or(OAuthError::InvalidClient)?;
    let redirect_uri = if params.redirect_uri.is_empty() && app.redirect_uris.len() == 1 {
        app.redirect_uris[0].clone()
    } else {
        params.redirect_uri.clone()
    };
    if !app.redirect_uris.contains(&redirect_uri) {
        return Err(OAuthError::InvalidRequest(
            "the redirect URI is not one registered for this application".into(),
        ));
    }
    Ok(app)
}

/// The second check, whose errors go back to the client: the response
/// type, the scopes (within those registered) and PKCE.
pub fn check_request(app: App, params: &AuthorizeParams) -> Result<Authorization, OAuthError> {
    let redirect_uri = if params.redirect_uri.is_empty() {
        app.redirect_uris[0].clone()
    } else {
        params.redirect_uri.clone()
    };
    if params.response_type != "code" {
        return Err(OAuthError::UnsupportedResponseType);
    }
    let registered = Scopes::parse(&app.scopes).map_err(|e| OAuthError::InvalidScope(e.0))?;
    let scopes = match params.scope.as_deref() {
        Some(s) if !s.trim().is_empty() => {
            Scopes::parse(s).map_err(|e| OAuthError::InvalidScope(e.to_string()))?
        }
        _ => registered.clone(),
    };
    if !scopes.within(&registered) {
        return Err(OAuthError::InvalidScope(
            "the requested scope is not one registered for this application".into(),
        ));
    }
    let code_challenge = match params.code_challenge.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(challenge) => {
            if params.code_challenge_method.as_deref() != Some("S256") {
                return Err(OAuthError::InvalidRequest(
                    "code_challenge_method must be S256".into(),
                ));
            }
            if challenge.len() != 43
                || !challenge
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(OAuthError::InvalidRequest(
                    "code_challenge is not a base64url SHA-256 digest".into(),
                ));
            }
            Some(challenge.to_string())
        }
    };
    Ok(Authorization {
        app,
        redirect_uri,
        scopes,
        state: params.state.clone(),
        code_challenge,
    })
}

/// The user said yes: a code for the client, to be exchanged within ten
/// minutes.
pub async fn grant_code(
    state: &AppState,
    authorization: &Authorization,
    user: &User,
) -> Result<String> {
    if !crate::service::account_mail::may_sign_in(state, user) {
        return Err(Error::Forbidden(
            crate::service::account_mail::UNCONFIRMED.into(),
        ));
    }
    if !user.approved || user.disabled {
        return Err(Error::Forbidden("this account cannot sign in".into()));
    }
    let code = new_secret();
    let now = state.clock.now();
    db::oauth::insert_code(
        &state.db,
        &db::oauth::NewCode {
            digest: &digest(&code),
            app_id: authorization.app.id,
            user_id: user.id,
            redirect_uri: &authorization.redirect_uri,
            scopes: &authorization.scopes.to_string(),
            code_challenge: authorization.code_challenge.as_deref(),
            now,
            expires_at: now + CODE_TTL,
        },
    )
    .await?;
    Ok(code)
}

/// The URI the browser is sent to after the user answered: the code (or an
/// error) and the client's `state` in the query.
pub fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> String {
    match Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
                if let Some(s) = state {
                    query.append_pair("state", s);
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_string(),
    }
}

/// The client's credentials, from the form or HTTP Basic.
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: Option<String>,
}

async fn authenticate_client(
    state: &AppState,
    client: &ClientCredentials,
) -> Result<App, OAuthError> {
    let app = db::oauth::find_app_by_client_id(&state.db, &client.client_id)
        .await?
        .ok_or(OAuthError::InvalidClient)?;
    match &client.client_secret {
        Some(secret) if constant_time_eq(secret.as_bytes(), app.client_secret.as_bytes()) => {
            Ok(app)
        }
        _ => Err(OAuthError::InvalidClient),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A token handed to a client.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: String,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
}

/// `grant_type=authorization_code`.
pub async fn exchange_code(
    state: &AppState,
    client: &ClientCredentials,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<Grant, OAuthError> {
    // A public client (PKCE, no secret) is identified by client_id alone;
    // the verifier then proves it is the one that asked.
    let app = if client.client_secret.is_some() {
        authenticate_client(state, client).await?
    } else {
        db::oauth::find_app_by_client_id(&state.db, &client.client_id)
            .await?
            .ok_or(OAuthError::InvalidClient)?
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let found = db::oauth::take_code(&mut tx, &digest(code), now).await?;
    let Some(found) = found.filter(|c| c.app_id == app.id) else {
        return Err(OAuthError::InvalidGrant(
            "the authorization code is invalid".into(),
        ));
    };
    if found.used_at.is_some() {
        // A replayed code: revoke what it gave (RFC 6749 §4.1.2).
        db::oauth::revoke_tokens_of_user_app(&mut *tx, app.id, found.user_id, now).await?;
        tx.commit().await?;
        return Err(OAuthError::InvalidGrant(
            "the authorization code was already used".into(),
        ));
    }
    if found.expires_at <= now {
        return Err(OAuthError::InvalidGrant(
            "the authorization code has expired".into(),
        ));
    }
    if redirect_uri.is_some_and(|r| r != found.redirect_uri) {
        return Err(OAuthError::InvalidGrant(
            "redirect_uri does not match the authorization request".into(),
        ));
    }
    match (&found.code_challenge, code_verifier) {
        (Some(challenge), Some(verifier)) => {
            let computed = B64.encode(Sha256::digest(verifier.as_bytes()));
            if !constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                return Err(OAuthError::InvalidGrant(
                    "code_verifier does not match the code challenge".into(),
                ));
            }
        }
        (Some(_), None) => {
            return Err(OAuthError::InvalidGrant("code_verifier is missing".into()));
        }
        (None, _) if client.client_secret.is_none() => return Err(OAuthError::InvalidClient),
        (None, _) => {}
    }
    let user = db::users::find_by_id(&mut *tx, found.user_id)
        .await?
        .filter(|u| {
            u.approved && !u.disabled && crate::service::account_mail::may_sign_in(state, u)
        })
        .ok_or_else(|| OAuthError::InvalidGrant("the account cannot sign in".into()))?;
    let grant = issue(&mut tx, Some(app.id), Some(user.id), &found.scopes, now).await?;
    tx.commit().await?;
    Ok(grant)
}

/// `grant_type=client_credentials`: an app-only token (it can read public
/// data and register, not act as anyone).
pub async fn client_credentials(
    state: &AppState,
    client: &ClientCredentials,
    scope: Option<&str>,
) -> Result<Grant, OAuthError> {
    let app = authenticate_client(state, client).await?;
    let registered = Scopes::parse(&app.scopes).map_err(|e| OAuthError::InvalidScope(e.0))?;
    let scopes = match scope.filter(|s| !s.trim().is_empty()) {
        Some(s) => Scopes::parse(s).map_err(|e| OAuthError::InvalidScope(e.to_string()))?,
        None => registered.clone(),
    };
    if !scopes.within(&registered) {
        return Err(OAuthError::InvalidScope(
            "the requested scope is not one registered for this application".into(),
        ));
    }
    let mut conn = state.db.acquire().await?;
    issue(
        &mut conn,
        Some(app.id),
        None,
        &scopes.to_string(),
        state.clock.now(),
    )
    .await
}

/// The scope Doorkeeper (and so Mastodon) grants when a token request
/// names none.
const DEFAULT_SCOPE: &str = "read";

/// `grant_type=password` (RFC 6749 §4.3), as Mastodon's Doorkeeper set-up
/// has it: `username` is the account's e-mail address (Mastodon looks
/// accounts up by e-mail alone), the client authenticates with its secret,
/// the scope is within the app's (`read` when none is asked for). The
/// password is checked as the sign-in forms check it, under the same
/// limits per address and per account; an account that may not sign in
/// (disabled, unconfirmed, waiting for approval, suspended) or that has
/// two-factor authentication on gets `invalid_grant`, as with Mastodon.
pub async fn password_grant(
    state: &AppState,
    client: &ClientCredentials,
    username: Option<&str>,
    password: Option<&str>,
    scope: Option<&str>,
    ip: &str,
) -> Result<Grant, OAuthError> {
    let app = authenticate_client(state, client).await?;
    let registered = Scopes::parse(&app.scopes).map_err(|e| OAuthError::InvalidScope(e.0))?;
    let requested = scope
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(DEFAULT_SCOPE);
    let scopes = Scopes::parse(requested).map_err(|e| OAuthError::InvalidScope(e.to_string()))?;
    if !scopes.within(&registered) {
        return Err(OAuthError::InvalidScope(
            "the requested scope is not one registered for this application".into(),
        ));
    }
    let (Some(username), Some(password)) = (username, password) else {
        return Err(OAuthError::InvalidRequest(
            "username and password are required".into(),
        ));
    };
    let user = match sessions::authenticate(state, username, Login::Email, password, ip).await {
        Ok(user) => user,
        Err(Error::TooManyRequests) => return Err(OAuthError::TooManyRequests),
        Err(Error::Unauthorized(message) | Error::Forbidden(message)) => {
            return Err(OAuthError::InvalidGrant(message));
        }
        Err(e) => return Err(e.into()),
    };
    if two_factor::is_enabled(state, &user).await? {
        return Err(OAuthError::InvalidGrant(
            "this account uses two-factor authentication: sign in through the browser instead"
                .into(),
        ));
    }
    let mut conn = state.db.acquire().await?;
    issue(
        &mut conn,
        Some(app.id),
        Some(user.id),
        &scopes.to_string(),
        state.clock.now(),
    )
    .await
}

async fn issue(
    db: &mut sqlx::PgConnection,
    app_id: Option<i64>,
    user_id: Option<i64>,
    scopes: &str,
    now: DateTime<Utc>,
) -> Result<Grant, OAuthError> {
    let token = new_secret();
    let stored = db::oauth::insert_token(db, &digest(&token), app_id, user_id, scopes, now).await?;
    Ok(Grant {
        access_token: token,
        scopes: Scopes::parse(&stored.scopes).map_err(|e| OAuthError::InvalidScope(e.0))?,
        created_at: stored.created_at,
    })
}

/// A token for an account just made through the API, with the scopes of
/// the app token that made it.
pub async fn issue_for_user(
    state: &AppState,
    app: &App,
    user: &User,
    scopes: &Scopes,
) -> Result<Grant> {
    let mut conn = state.db.acquire().await?;
    issue(
        &mut conn,
        Some(app.id),
        Some(user.id),
        &scopes.to_string(),
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        OAuthError::Internal(e) => e,
        other => Error::Internal(anyhow::anyhow!("{other}")),
    })
}

/// `POST /oauth/revoke` (RFC 7009): revoking an unknown token is not an
/// error, but the client must authenticate.
pub async fn revoke(
    state: &AppState,
    client: &ClientCredentials,
    token: &str,
) -> Result<(), OAuthError> {
    let app = authenticate_client(state, client).await?;
    db::oauth::revoke_token(&state.db, &digest(token), app.id, state.clock.now()).await?;
    Ok(())
}

/// Who a bearer token speaks for.
#[derive(Debug, Clone)]
pub struct Bearer {
    pub token_id: i64,
    pub scopes: Scopes,
    pub app: Option<App>,
    /// None for app-only tokens.
    pub account: Option<(User, Actor)>,
}

/// The token's owner, when the token is live and its account may sign in.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Option<Bearer>> {
    let Some(found) =
        db::oauth::find_live_token(&state.db, &digest(token), state.clock.now()).await?
    else {
        return Ok(None);
    };
    let account = match found.user_id {
        None => None,
        Some(user_id) => {
            let Some(user) = db::users::find_by_id(&state.db, user_id).await? else {
                return Ok(None);
            };
            if user.disabled || !user.approved {
                return Ok(None);
            }
            // As Mastodon answers it, so that apps ask for the e-mail to be
            // confirmed rather than sign the account out.
            if !crate::service::account_mail::may_sign_in(state, &user) {
                return Err(Error::Forbidden(
                    "Your login is missing a confirmed e-mail address".into(),
                ));
            }
            let Some(actor) = db::actors::find_by_id(&state.db, user.actor_id)
                .await?
                .filter(|a| a.suspended_at.is_none())
            else {
                return Ok(None);
            };
            Some((user, actor))
        }
    };
    let app = match found.app_id {
        Some(id) => db::oauth::find_app(&state.db, id).await?,
        None => None,
    };
    let scopes = Scopes::parse(&found.scopes).map_err(|e| Error::Internal(e.into()))?;
    Ok(Some(Bearer {
        token_id: found.id,
        scopes,
        app,
        account,
    }))
}

/// The application `skein token create` issues tokens for.
const SCRIPT_APP: &str = "skein command line";

/// A token with every scope for a local user, for scripts.
pub async fn create_script_token(
    pool: &sqlx::PgPool,
    now: DateTime<Utc>,
    username: &str,
) -> Result<String> {
    let user = db::users::find_by_username(pool, username)
        .await?
        .ok_or_else(|| Error::Validation(format!("there is no local user `{username}`")))?;
    let everything = Scopes::everything().to_string();
    let app = match db::oauth::find_app_by_name_without_redirect(pool, SCRIPT_APP).await? {
        Some(app) => app,
        None => {
            db::oauth::insert_app(
                pool,
                &db::oauth::NewApp {
                    name: SCRIPT_APP,
                    website: None,
                    redirect_uris: &[],
                    scopes: &everything,
                    client_id: &new_secret(),
                    client_secret: &new_secret(),
                    owner_user_id: None,
                    now,
                },
            )
            .await?
        }
    };
    // Staff get the admin API's scopes too.
    let scopes = if matches!(user.role.as_str(), "admin" | "moderator") {
        format!("{everything} admin:read admin:write")
    } else {
        everything
    };
    let mut conn = pool.acquire().await?;
    let grant = issue(&mut conn, Some(app.id), Some(user.id), &scopes, now)
        .await
        .map_err(|e| match e {
            OAuthError::Internal(e) => e,
            other => Error::Internal(anyhow::anyhow!("{other}")),
        })?;
    Ok(grant.access_token)
}
