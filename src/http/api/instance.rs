//! The instance's description for apps: `/api/v1/instance`,
//! `/api/v2/instance`, `/api/v1/instance/rules`
//! (<https://docs.joinmastodon.org/methods/instance/>),
//! `/api/v1/custom_emojis`.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::config::Registrations;
use crate::error::Result;
use crate::federation::nodeinfo;
use crate::mastodon::{Presenter, entities as e};
use crate::service::{
    custom_emoji, discovery, instance as instance_service, posts, rules as rule_service,
};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/instance", get(v1))
        .route("/api/v2/instance", get(v2))
        .route("/api/v1/instance/rules", get(rules))
        .route("/api/v1/custom_emojis", get(custom_emojis))
}

/// The Mastodon version whose client API Skein serves, with its own after
/// it (apps read the first number, and `api_versions.mastodon`, to decide
/// which features to offer). Mastodon 4.5's API: grouped notifications and
/// the notification policy (4.3), quotes and their API (4.5); what is left
/// out is listed in README's "Client API coverage" and checked by the
/// `endpoints` test.
pub fn version() -> String {
    format!("4.5.0 (compatible; Skein {})", nodeinfo::VERSION)
}

/// Mastodon's API version number of 4.5.0 (`api_versions.mastodon`).
pub const MASTODON_API_VERSION: u32 = 7;

fn configuration(state: &AppState) -> Value {
    let supported_types: Vec<&str> = ["image/jpeg", "image/png", "image/gif", "image/webp"]
        .into_iter()
        .chain(crate::transcode::UPLOAD_TYPES)
        .collect();
    json!({
        "urls": { "streaming": streaming_url(state) },
        "vapid": { "public_key": crate::service::push::vapid_public_key(state) },
        "accounts": { "max_featured_tags": crate::domain::limits::FEATURED_TAGS, "max_pinned_statuses": posts::MAX_PINS },
        "statuses": {
            "max_characters": state.config.posts.max_characters,
            "max_media_attachments": crate::domain::media::MAX_PER_POST,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": supported_types,
            "image_size_limit": state.config.media.max_image_bytes,
            "image_matrix_limit": crate::imaging::MAX_INPUT_PIXELS,
            "description_limit": crate::domain::media::MAX_DESCRIPTION_CHARS,
            "video_size_limit": state.config.media.max_video_bytes,
            "video_frame_rate_limit": state.config.media.max_frame_rate,
            "video_matrix_limit": state.config.media.max_video_pixels,
            // Not Mastodon's: the longest video or audio, in seconds.
            "video_duration_limit": state.config.media.max_duration_seconds,
        },
        "polls": {
            "max_options": posts::MAX_POLL_OPTIONS,
            "max_characters_per_option": posts::MAX_POLL_OPTION_CHARS,
            "min_expiration": posts::MIN_POLL_DURATION.num_seconds(),
            "max_expiration": posts::MAX_POLL_DURATION.num_seconds(),
        },
        "translation": { "enabled": crate::service::translation::enabled(state) },
    })
}

fn streaming_url(state: &AppState) -> String {
    let root = state.urls.origin();
    match root.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", root.trim_start_matches("http://")),
    }
}

fn registrations(state: &AppState) -> (bool, bool) {
    match state.config.registrations {
        Registrations::Open => (true, false),
        Registrations::Approval => (true, true),
        Registrations::Closed => (false, false),
    }
}

fn thumbnail(state: &AppState) -> String {
    format!("{}/static/header.png", state.urls.origin())
}

/// The instance's rules in their order, as Mastodon's Rule entities.
async fn rule_entities(state: &AppState) -> Result<Vec<e::Rule>> {
    Ok(rule_service::list(&state.db)
        .await?
        .iter()
        .map(e::Rule::from)
        .collect())
}

/// `GET /api/v1/instance/rules`
async fn rules(State(state): State<AppState>) -> Result<Json<Vec<e::Rule>>> {
    Ok(Json(rule_entities(&state).await?))
}

/// The contact account as an Account entity (seen by no one in particular).
async fn contact_account(state: &AppState) -> Result<Option<e::Account>> {
    match instance_service::contact_account(&state.db).await? {
        Some(actor) => Ok(Some(Presenter::new(state, None).account(&actor).await?)),
        None => Ok(None),
    }
}

async fn v2(State(state): State<AppState>) -> Result<Json<Value>> {
    let usage = discovery::usage(&state.db).await?;
    let instance = &state.config.instance;
    let (enabled, approval_required) = registrations(&state);
    Ok(Json(json!({
        "domain": state.urls.domain(),
        "title": instance.name,
        "version": version(),
        "source_url": "https://github.com/skein-social/skein",
        "description": instance.description,
        "usage": { "users": { "active_month": usage.users_active_month } },
        "thumbnail": { "url": thumbnail(&state) },
        "icon": [],
        "languages": ["en"],
        "configuration": configuration(&state),
        "registrations": {
            "enabled": enabled,
            "approval_required": approval_required,
            "message": null,
            "url": null,
        },
        "api_versions": { "mastodon": MASTODON_API_VERSION },
        "contact": { "email": instance.contact_email, "account": contact_account(&state).await? },
        "rules": rule_entities(&state).await?,
    })))
}

async fn v1(State(state): State<AppState>) -> Result<Json<Value>> {
    let usage = discovery::usage(&state.db).await?;
    let domains = discovery::known_domains(&state.db).await?;
    let instance = &state.config.instance;
    let (enabled, approval_required) = registrations(&state);
    let short = crate::federation::html::plain_text(&instance.description, 200);
    Ok(Json(json!({
        "uri": state.urls.domain(),
        "title": instance.name,
        "short_description": short,
        "description": instance.description,
        "email": instance.contact_email,
        "version": version(),
        "urls": { "streaming_api": streaming_url(&state) },
        "stats": {
            "user_count": usage.users_total,
            "status_count": usage.local_posts,
            "domain_count": domains,
        },
        "thumbnail": thumbnail(&state),
        "languages": ["en"],
        "registrations": enabled,
        "approval_required": approval_required,
        "invites_enabled": false,
        "configuration": configuration(&state),
        "contact_account": contact_account(&state).await?,
        "rules": rule_entities(&state).await?,
    })))
}

/// The instance's enabled custom emoji, by shortcode; public and cached
/// for three minutes, as Mastodon's.
async fn custom_emojis(State(state): State<AppState>) -> Result<Response> {
    let emojis: Vec<e::CustomEmoji> = custom_emoji::enabled(&state)
        .await?
        .iter()
        .map(|emoji| crate::mastodon::load::local_emoji(&state, emoji))
        .collect();
    Ok((
        [(header::CACHE_CONTROL, "public, max-age=180")],
        Json(emojis),
    )
        .into_response())
}
