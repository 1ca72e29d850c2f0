//! Discovery endpoints: WebFinger (RFC 7033), host-meta (RFC 6415) and
//! NodeInfo, with the answers Mastodon expects (shared/INTEROP.md,
//! "Discovery").

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::config::Registrations;
use crate::error::{Error, Result};
use crate::federation::{nodeinfo, webfinger};
use crate::http::AppState;
use crate::service::discovery::{self, Found};

/// `GET /.well-known/webfinger?resource=...`
pub async fn webfinger(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response> {
    let resource = query
        .get("resource")
        .map(String::as_str)
        .unwrap_or_default();
    let urls = &state.urls;
    let jrd = match discovery::webfinger(&state.db, urls, resource).await? {
        Found::Person(actor) => webfinger::person(
            format!("acct:{}@{}", actor.username, urls.domain()),
            &actor.ap_id,
            actor.url.as_deref().unwrap_or(&actor.ap_id),
            urls.authorize_interaction_template(),
        ),
        Found::InstanceActor(actor) => {
            let subject = if resource.starts_with("http") {
                urls.root()
            } else {
                format!("acct:{}@{}", actor.username, urls.domain())
            };
            webfinger::instance_actor(subject, &actor.ap_id)
        }
    };
    Ok((
        [(header::CONTENT_TYPE, webfinger::JRD_CONTENT_TYPE)],
        Json(jrd),
    )
        .into_response())
}

/// `GET /.well-known/host-meta`: XRD, or JSON for clients that ask for it.
pub async fn host_meta(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("json") && !a.contains("xml"));
    if wants_json {
        return host_meta_json(State(state)).await;
    }
    (
        [(header::CONTENT_TYPE, "application/xrd+xml; charset=utf-8")],
        webfinger::host_meta_xrd(&state.urls.webfinger_template()),
    )
        .into_response()
}

/// `GET /.well-known/host-meta.json`
pub async fn host_meta_json(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, webfinger::JRD_CONTENT_TYPE)],
        Json(webfinger::host_meta_json(&state.urls.webfinger_template())),
    )
        .into_response()
}

/// `GET /.well-known/nodeinfo`
pub async fn nodeinfo_links(State(state): State<AppState>) -> Response {
    let urls = &state.urls;
    Json(nodeinfo::discovery(
        &urls.nodeinfo("2.0"),
        &urls.nodeinfo("2.1"),
        &urls.instance_actor(),
    ))
    .into_response()
}

/// `GET /nodeinfo/2.0` and `/nodeinfo/2.1`
pub async fn nodeinfo(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> Result<Response> {
    let version = version.trim_end_matches(".json");
    if version != "2.0" && version != "2.1" {
        return Err(Error::NotFound);
    }
    let usage = discovery::usage(&state.db).await?;
    let config = &state.config;
    let document = nodeinfo::document(
        version,
        &usage,
        &nodeinfo::Metadata {
            node_name: &config.instance.name,
            node_description: &config.instance.description,
            open_registrations: config.registrations != Registrations::Closed,
            approval_required: config.registrations == Registrations::Approval,
        },
    );
    Ok((
        [(header::CONTENT_TYPE, nodeinfo::content_type(version))],
        Json(document),
    )
        .into_response())
}
