//! Who is calling the client API: the bearer token (header, or the
//! `access_token` query parameter that browsers' WebSockets need), its scopes
//! and the account behind it.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::domain::scopes::Scopes;
use crate::error::Error;
use crate::service::audit::{Role, Staff, Via};
use crate::service::oauth;
use crate::service::types::{Actor, App, User};
use crate::state::AppState;

/// A request with a valid bearer token (app-only or a user's).
#[derive(Debug, Clone)]
pub struct Token {
    pub token_id: i64,
    pub scopes: Scopes,
    pub app: Option<App>,
    pub account: Option<(User, Actor)>,
}

impl Token {
    /// Refuses with 403 unless the token's scopes allow `scope`.
    pub fn require(&self, scope: &str) -> Result<(), Error> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "This action is outside the authorized scopes".into(),
            ))
        }
    }

    /// The signed-in account, with the scope checked; app-only tokens get
    /// Mastodon's 422.
    pub fn user(&self, scope: &str) -> Result<(&User, &Actor), Error> {
        self.require(scope)?;
        self.account
            .as_ref()
            .map(|(u, a)| (u, a))
            .ok_or_else(|| Error::Validation("This method requires an authenticated user".into()))
    }

    /// A moderator or admin (at least `needed`) calling the admin API, with
    /// the scope checked; anyone else gets Mastodon's 403.
    pub fn staff(&self, scope: &str, needed: Role) -> Result<Staff, Error> {
        let (user, actor) = self.user(scope)?;
        Staff::of(user, actor, needed, Via::Api)
    }
}

/// The token string a request carries, if any.
pub fn bearer(parts: &Parts) -> Option<String> {
    let from_header = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        });
    from_header.or_else(|| {
        url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    })
}

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<Token>, Error> {
    let Some(raw) = bearer(parts) else {
        return Ok(None);
    };
    match oauth::authenticate(state, &raw).await? {
        Some(found) => Ok(Some(Token {
            token_id: found.token_id,
            scopes: found.scopes,
            app: found.app,
            account: found.account,
        })),
        None => Err(Error::Unauthorized("The access token is invalid".into())),
    }
}

impl FromRequestParts<AppState> for Token {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(token) = parts.extensions.get::<Token>() {
            return Ok(token.clone());
        }
        match authenticate(parts, state).await? {
            Some(token) => {
                parts.extensions.insert(token.clone());
                Ok(token)
            }
            None => Err(Error::Unauthorized("The access token is invalid".into())),
        }
    }
}

/// A token when one is given (public endpoints); an invalid one is still
/// refused, as Mastodon does.
#[derive(Debug, Clone)]
pub struct MaybeToken(pub Option<Token>);

impl MaybeToken {
    /// The viewer's actor, when a user's token was given; the scope is
    /// checked when there is a user.
    pub fn viewer(&self, scope: &str) -> Result<Option<&Actor>, Error> {
        match &self.0 {
            Some(t) => match &t.account {
                Some((_, actor)) => {
                    t.require(scope)?;
                    Ok(Some(actor))
                }
                None => Ok(None),
            },
            None => Ok(None),
        }
    }
}

impl FromRequestParts<AppState> for MaybeToken {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(token) = parts.extensions.get::<Token>() {
            return Ok(MaybeToken(Some(token.clone())));
        }
        let token = authenticate(parts, state).await?;
        if let Some(t) = &token {
            parts.extensions.insert(t.clone());
        }
        Ok(MaybeToken(token))
    }
}

/// The text of the request's token, for the one feature that hands it back
/// to its client: Web Push payloads carry it, as Mastodon's do. Use with
/// [`Token`], which checks it.
pub struct BearerText(pub String);

impl FromRequestParts<AppState> for BearerText {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Error> {
        bearer(parts)
            .map(BearerText)
            .ok_or_else(|| Error::Unauthorized("The access token is invalid".into()))
    }
}
