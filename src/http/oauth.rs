//! OAuth 2 over HTTP (<https://docs.joinmastodon.org/methods/oauth/>): the
//! sign-in (with its second step for two-factor authentication) and consent
//! page, the token endpoint (authorization code, password and client
//! credentials grants) and revocation, and the authorization server's
//! metadata (RFC 8414).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::scopes;
use crate::error::Error;
use crate::http::api::params;
use crate::http::client_ip::ClientIp;
use crate::http::session::{self, MaybeSession, PRE_SESSION_COOKIE, PlainHttp};
use crate::http::transport::OverHttps;
use crate::service::oauth::{self, AuthorizeParams, ClientCredentials, OAuthError};
use crate::service::sessions;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oauth/authorize", get(authorize).post(decide))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route("/.well-known/oauth-authorization-server", get(metadata))
}

#[derive(Template)]
#[template(path = "oauth/sign_in.html")]
struct SignInPage<'a> {
    instance_name: &'a str,
    app_name: Option<String>,
    error: Option<String>,
    action: &'a str,
    csrf_token: String,
    hidden: Vec<(&'static str, String)>,
    login: String,
    /// Set when this browser cannot keep the sign-in cookie here.
    plain_http: Option<PlainHttp>,
}

#[derive(Template)]
#[template(path = "oauth/two_factor.html")]
struct TwoFactorPage<'a> {
    instance_name: &'a str,
    app_name: Option<String>,
    error: Option<String>,
    action: &'a str,
    csrf_token: String,
    hidden: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "oauth/consent.html")]
struct ConsentPage<'a> {
    instance_name: &'a str,
    app_name: String,
    website: Option<String>,
    username: String,
    domain: String,
    scopes: Vec<String>,
    action: &'a str,
    csrf_token: String,
    hidden: Vec<(&'static str, String)>,
    switch_account: String,
}

#[derive(Template)]
#[template(path = "oauth/code.html")]
struct CodePage<'a> {
    instance_name: &'a str,
    app_name: String,
    code: String,
}

#[derive(Template)]
#[template(path = "oauth/error.html")]
struct ErrorPage<'a> {
    instance_name: &'a str,
    message: String,
}

const ACTION: &str = "/oauth/authorize";

fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, [(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Err(e) => Error::Internal(anyhow::anyhow!("rendering a page: {e}")).into_response(),
    }
}

fn error_page(state: &AppState, status: StatusCode, message: String) -> Response {
    page(
        status,
        &ErrorPage {
            instance_name: &state.config.instance.name,
            message,
        },
    )
}

/// The request's parameters, carried through the forms as hidden fields.
fn hidden(p: &AuthorizeParams) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("response_type", p.response_type.clone()),
        ("client_id", p.client_id.clone()),
        ("redirect_uri", p.redirect_uri.clone()),
    ];
    let optional = [
        ("scope", &p.scope),
        ("state", &p.state),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
        ("lang", &p.lang),
    ];
    for (name, value) in optional {
        if let Some(v) = value {
            fields.push((name, v.clone()));
        }
    }
    fields
}

fn query_of(p: &AuthorizeParams) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in hidden(p) {
        query.append_pair(k, &v);
    }
    query.finish()
}

/// Where errors after the client check go: back to the client, or onto a
/// page for the out-of-band flow.
fn send_back(
    state: &AppState,
    authorization_uri: &str,
    p: &AuthorizeParams,
    e: &OAuthError,
) -> Response {
    if authorization_uri == oauth::OOB {
        return error_page(state, StatusCode::BAD_REQUEST, e.to_string());
    }
    let target = oauth::redirect_with(
        authorization_uri,
        &[("error", e.code()), ("error_description", &e.to_string())],
        p.state.as_deref(),
    );
    Redirect::to(&target).into_response()
}

fn redirect_uri_of(app: &crate::service::types::App, p: &AuthorizeParams) -> String {
    if p.redirect_uri.is_empty() {
        app.redirect_uris.first().cloned().unwrap_or_default()
    } else {
        p.redirect_uri.clone()
    }
}

fn sign_in_page(
    state: &AppState,
    p: &AuthorizeParams,
    app_name: Option<String>,
    error: Option<String>,
    login: String,
    status: StatusCode,
    plain_http: Option<PlainHttp>,
) -> Response {
    let csrf = oauth::new_secret();
    let mut response = page(
        status,
        &SignInPage {
            instance_name: &state.config.instance.name,
            app_name,
            error,
            action: ACTION,
            csrf_token: csrf.clone(),
            hidden: hidden(p),
            login,
            plain_http,
        },
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_pre_session_cookie(state, &csrf),
    );
    response
}

/// The second step of signing in, for an account with two-factor
/// authentication: asks for a code. `challenge`, when given, is the new
/// pending sign-in, set as its cookie.
fn two_factor_page(
    state: &AppState,
    p: &AuthorizeParams,
    app_name: Option<String>,
    error: Option<String>,
    status: StatusCode,
    challenge: Option<&str>,
) -> Response {
    let csrf = oauth::new_secret();
    let mut response = page(
        status,
        &TwoFactorPage {
            instance_name: &state.config.instance.name,
            app_name,
            error,
            action: ACTION,
            csrf_token: csrf.clone(),
            hidden: hidden(p),
        },
    );
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session::set_pre_session_cookie(state, &csrf),
    );
    if let Some(challenge) = challenge {
        headers.append(
            header::SET_COOKIE,
            session::set_challenge_cookie(state, challenge),
        );
    }
    response
}

/// Signed in: back to the authorization request, now with a session.
fn signed_in(state: &AppState, p: &AuthorizeParams, cookie: &str) -> Response {
    let mut response = Redirect::to(&format!("{ACTION}?{}", query_of(p))).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        session::set_session_cookie(state, cookie),
    );
    headers.append(header::SET_COOKIE, session::clear_challenge_cookie(state));
    response
}

/// `GET /oauth/authorize`: sign in if needed, then ask for consent.
async fn authorize(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    over: OverHttps,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    let app = match oauth::check_client(&state, &p).await {
        Ok(app) => app,
        Err(e) => return error_page(&state, StatusCode::BAD_REQUEST, e.to_string()),
    };
    let target = redirect_uri_of(&app, &p);
    let authorization = match oauth::check_request(app, &p) {
        Ok(a) => a,
        Err(e) => return send_back(&state, &target, &p, &e),
    };
    let force_login = p
        .force_login
        .as_deref()
        .is_some_and(|v| matches!(v, "true" | "1"));
    let Some(current) = current.filter(|_| !force_login) else {
        return sign_in_page(
            &state,
            &p,
            Some(authorization.app.name.clone()),
            None,
            String::new(),
            StatusCode::OK,
            session::plain_http(
                &state,
                over,
                &headers,
                &format!("{ACTION}?{}", query_of(&p)),
            ),
        );
    };
    let mut switch = p.clone();
    switch.force_login = Some("true".into());
    page(
        StatusCode::OK,
        &ConsentPage {
            instance_name: &state.config.instance.name,
            app_name: authorization.app.name.clone(),
            website: authorization.app.website.clone(),
            username: current.actor.username.clone(),
            domain: state.urls.domain(),
            scopes: authorization.scopes.iter().map(describe_scope).collect(),
            action: ACTION,
            csrf_token: current.csrf_token.clone(),
            hidden: hidden(&p),
            switch_account: format!("{ACTION}?{}&force_login=true", query_of(&p)),
        },
    )
}

fn describe_scope(scope: &str) -> String {
    let what = match scope {
        "read" => "read all your account's data",
        "write" => "change all your account's data",
        "follow" => "follow, block and mute accounts",
        "push" => "receive push notifications",
        "profile" => "read only your account's profile",
        s if s.starts_with("read:") => "read part of your account's data",
        s if s.starts_with("write:") => "change part of your account's data",
        s if s.starts_with("admin:") => "moderate the instance",
        _ => "",
    };
    if what.is_empty() {
        scope.to_string()
    } else {
        format!("{scope}: {what}")
    }
}

#[derive(Deserialize)]
struct Decision {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    step: String,
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    /// The second step's code (authenticator app or recovery code).
    #[serde(default)]
    code: String,
}

/// `POST /oauth/authorize`: the sign-in form (and its second step for
/// accounts with two-factor authentication), or the user's answer.
async fn decide(
    State(state): State<AppState>,
    MaybeSession(current): MaybeSession,
    over: OverHttps,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    axum::Form(d): axum::Form<Decision>,
) -> Response {
    let p = &d.params;
    let app = match oauth::check_client(&state, p).await {
        Ok(app) => app,
        Err(e) => return error_page(&state, StatusCode::BAD_REQUEST, e.to_string()),
    };
    let target = redirect_uri_of(&app, p);
    let authorization = match oauth::check_request(app, p) {
        Ok(a) => a,
        Err(e) => return send_back(&state, &target, p, &e),
    };
    // A browser that cannot keep the cookies here is sent to the same
    // request at the instance's https address.
    let plain_http =
        session::plain_http(&state, over, &headers, &format!("{ACTION}?{}", query_of(p)));
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let client = sessions::Client {
        ip: &ip,
        user_agent,
    };
    let app_name = Some(authorization.app.name.clone());
    match d.step.as_str() {
        "sign_in" | "two_factor" => {
            let expected = session::cookie(&headers, PRE_SESSION_COOKIE).unwrap_or_default();
            if expected.is_empty()
                && let Some(plain) = &plain_http
            {
                return crate::http::web::plain_http_page(&state, plain);
            }
            if let Err(e) = session::check_csrf(&expected, &d.csrf_token) {
                return error_page(&state, StatusCode::FORBIDDEN, e.to_string());
            }
            if d.step == "two_factor" {
                return second_step(&state, p, app_name, &headers, &d.code, client).await;
            }
            match sessions::sign_in(&state, &d.login, &d.password, client).await {
                Ok(sessions::SignIn::Done(cookie, _)) => signed_in(&state, p, &cookie),
                Ok(sessions::SignIn::SecondFactor(challenge)) => {
                    two_factor_page(&state, p, app_name, None, StatusCode::OK, Some(&challenge))
                }
                Err(e) => {
                    let status = e.status();
                    if status.is_server_error() {
                        return e.into_response();
                    }
                    sign_in_page(
                        &state,
                        p,
                        app_name,
                        Some(e.public_message()),
                        d.login.clone(),
                        status,
                        None,
                    )
                }
            }
        }
        "approve" | "deny" => {
            let Some(current) = current else {
                return sign_in_page(
                    &state,
                    p,
                    Some(authorization.app.name.clone()),
                    None,
                    String::new(),
                    StatusCode::UNAUTHORIZED,
                    plain_http,
                );
            };
            if let Err(e) = session::check_csrf(&current.csrf_token, &d.csrf_token) {
                return error_page(&state, StatusCode::FORBIDDEN, e.to_string());
            }
            if d.step == "deny" {
                return send_back(&state, &target, p, &OAuthError::AccessDenied);
            }
            let code = match oauth::grant_code(&state, &authorization, &current.user).await {
                Ok(code) => code,
                Err(e) => return e.into_response(),
            };
            if authorization.redirect_uri == oauth::OOB {
                return page(
                    StatusCode::OK,
                    &CodePage {
                        instance_name: &state.config.instance.name,
                        app_name: authorization.app.name.clone(),
                        code,
                    },
                );
            }
            Redirect::to(&oauth::redirect_with(
                &authorization.redirect_uri,
                &[("code", &code)],
                authorization.state.as_deref(),
            ))
            .into_response()
        }
        _ => error_page(
            &state,
            StatusCode::BAD_REQUEST,
            "the form is incomplete".into(),
        ),
    }
}

/// The code of the second step: signed in, the code asked for again, or
/// the sign-in page when the pending sign-in has ended.
async fn second_step(
    state: &AppState,
    p: &AuthorizeParams,
    app_name: Option<String>,
    headers: &HeaderMap,
    code: &str,
    client: sessions::Client<'_>,
) -> Response {
    let challenge = session::cookie(headers, session::SIGN_IN_CHALLENGE_COOKIE).unwrap_or_default();
    let expired = |state: &AppState| {
        sign_in_page(
            state,
            p,
            app_name.clone(),
            Some("the sign-in has expired; sign in again".into()),
            String::new(),
            StatusCode::UNAUTHORIZED,
            None,
        )
    };
    if challenge.is_empty() {
        return expired(state);
    }
    match sessions::second_factor(state, &challenge, code, client).await {
        Ok(sessions::SecondStep::Done(cookie, _)) => signed_in(state, p, &cookie),
        Ok(sessions::SecondStep::Expired) => expired(state),
        Err(e) if e.status().is_client_error() => two_factor_page(
            state,
            p,
            app_name.clone(),
            Some(e.public_message()),
            e.status(),
            None,
        ),
        Err(e) => e.into_response(),
    }
}

/// An OAuth error as RFC 6749 §5.2 shapes it.
fn oauth_error(e: OAuthError) -> Response {
    if let OAuthError::Internal(inner) = e {
        return inner.into_response();
    }
    if let OAuthError::TooManyRequests = e {
        return Error::TooManyRequests.into_response();
    }
    let status = match e {
        OAuthError::InvalidClient => StatusCode::UNAUTHORIZED,
        _ => StatusCode::BAD_REQUEST,
    };
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "error": e.code(), "error_description": e.to_string() })),
    )
        .into_response()
}

#[derive(Deserialize, Default)]
struct TokenRequest {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    code_verifier: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    token: Option<String>,
    /// The password grant's e-mail address and password.
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1) or the body.
fn client_of(headers: &HeaderMap, body: &TokenRequest) -> Option<ClientCredentials> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| B64.decode(b.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some(ClientCredentials {
                client_id: decode(id),
                client_secret: Some(decode(secret)),
            })
        });
    basic.or_else(|| {
        Some(ClientCredentials {
            client_id: body.client_id.clone()?,
            client_secret: body.client_secret.clone().filter(|s| !s.is_empty()),
        })
    })
}

pub fn token_json(grant: &oauth::Grant) -> Value {
    json!({
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "scope": grant.scopes.to_string(),
        "created_at": grant.created_at.timestamp(),
    })
}

async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    params::Params(body): params::Params<TokenRequest>,
) -> Response {
    let Some(client) = client_of(&headers, &body) else {
        return oauth_error(OAuthError::InvalidClient);
    };
    let result = match body.grant_type.as_str() {
        "authorization_code" => match body.code.as_deref() {
            Some(code) => {
                oauth::exchange_code(
                    &state,
                    &client,
                    code,
                    body.redirect_uri.as_deref(),
                    body.code_verifier.as_deref(),
                )
                .await
            }
            None => Err(OAuthError::InvalidRequest("code is missing".into())),
        },
        "client_credentials" => {
            oauth::client_credentials(&state, &client, body.scope.as_deref()).await
        }
        "password" => {
            oauth::password_grant(
                &state,
                &client,
                body.username.as_deref(),
                body.password.as_deref(),
                body.scope.as_deref(),
                &ip,
            )
            .await
        }
        "" => Err(OAuthError::InvalidRequest("grant_type is missing".into())),
        _ => Err(OAuthError::UnsupportedGrantType),
    };
    match result {
        Ok(grant) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(token_json(&grant)),
        )
            .into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    params::Params(body): params::Params<TokenRequest>,
) -> Response {
    let Some(client) = client_of(&headers, &body) else {
        return oauth_error(OAuthError::InvalidClient);
    };
    let Some(token) = body.token.as_deref() else {
        return oauth_error(OAuthError::InvalidRequest("token is missing".into()));
    };
    match oauth::revoke(&state, &client, token).await {
        Ok(()) => Json(json!({})).into_response(),
        Err(OAuthError::InvalidClient) => (
            StatusCode::FORBIDDEN,
            Json(json!({
                "error": "unauthorized_client",
                "error_description": "You are not authorized to revoke this token",
            })),
        )
            .into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn metadata(State(state): State<AppState>) -> Json<Value> {
    let root = state.urls.origin();
    Json(json!({
        "issuer": format!("{root}/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{root}/oauth/authorize"),
        "token_endpoint": format!("{root}/oauth/token"),
        "app_registration_endpoint": format!("{root}/api/v1/apps"),
        "revocation_endpoint": format!("{root}/oauth/revoke"),
        "userinfo_endpoint": format!("{root}/oauth/userinfo"),
        "scopes_supported": scopes::ALL,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    }))
}
