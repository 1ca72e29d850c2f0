//! `GET /health`: 200 when the database answers, 503 when it does not;
//! with `?detailed=true` and an admin's token, also this process's
//! self-checks (`service::self_check`) and the queues. `POST
//! /actor/self_check`: where the instance's signed probe is checked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::error::Result;
use crate::http::AppState;
use crate::http::api::auth::MaybeToken;
use crate::service::audit::Role;
use crate::service::{queue_health, self_check};

#[derive(Deserialize, Default)]
pub struct HealthQuery {
    #[serde(default)]
    detailed: bool,
}

pub async fn health(
    State(state): State<AppState>,
    Query(query): Query<HealthQuery>,
    MaybeToken(token): MaybeToken,
) -> Result<Response> {
    if query.detailed {
        let token = token.ok_or_else(|| {
            crate::error::Error::Unauthorized("an admin's token is needed".into())
        })?;
        let staff = token.staff("admin:read", Role::Admin)?;
        return detailed(&state, &staff).await;
    }
    Ok(
        match crate::service::instance::database_answers(&state.db).await {
            Ok(()) => Json(json!({ "status": "ok", "database": "ok" })).into_response(),
            Err(e) => {
                tracing::warn!(error = %e, "health check: database unreachable");
                unavailable()
            }
        },
    )
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(json!({ "status": "unavailable", "database": "unreachable" })),
    )
        .into_response()
}

async fn detailed(state: &AppState, staff: &crate::service::audit::Staff) -> Result<Response> {
    let Ok((queues, _)) = queue_health::overview(state, staff).await else {
        return Ok(unavailable());
    };
    let report = state.self_checks.report();
    let holds = |c: &Option<self_check::Check>| c.as_ref().is_none_or(|c| c.ok);
    let status = if holds(&report.signature)
        && holds(&report.clock)
        && report.remote_clock_ok != Some(false)
    {
        "ok"
    } else {
        "degraded"
    };
    Ok(Json(json!({
        "status": status,
        "database": "ok",
        "role": format!("{:?}", state.config.role).to_lowercase(),
        "self_checks": report,
        "queues": {
            "deliveries": queues.deliveries,
            "oldest_delivery": queues.oldest_delivery,
            "pushes": queues.pushes,
            "oldest_push": queues.oldest_push,
            "failing_hosts": queues.failing_hosts,
            "unavailable_hosts": queues.unavailable_hosts,
            "kept_inbox_activities": queues.kept_activities,
        },
    }))
    .into_response())
}

/// `POST /actor/self_check`: 200 when the probe's signature holds here as
/// an inbox would check it, else 401 saying what did not hold.
pub async fn self_check_probe(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let header = |name: &str| -> Option<String> {
        let values: Vec<&str> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    };
    self_check::verify_probe(&state, uri.path(), uri.query(), &header, &body).await?;
    Ok(Json(json!({ "verified": true })).into_response())
}
