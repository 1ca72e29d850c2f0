//! The admin area, for moderators and admins: the front page and the audit
//! log. Each section (domain policy, accounts, reports) is one page group
//! over the same services as Mastodon's admin API; every action they take
//! lands in the audit log.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use serde::Deserialize;

use super::{Chrome, StaffSession, WebResult, render};
use crate::error::Error;
use crate::service::inbox::dead_letters;
use crate::service::types::Relay;
use crate::service::{audit, queue_health, relays};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/audit_log", get(audit_log))
        .route("/admin/federation", get(federation))
        .route(
            "/admin/federation/kept/{id}/{action}",
            axum::routing::post(kept_activity),
        )
        .route("/admin/relays", axum::routing::post(subscribe_relay))
        .route(
            "/admin/relays/{id}/remove",
            axum::routing::post(unsubscribe_relay),
        )
}

#[derive(Template)]
#[template(path = "web/admin/index.html")]
struct IndexPage {
    chrome: Chrome,
    section: &'static str,
    is_admin: bool,
    /// The SMTP host e-mail goes through, None when e-mail is off.
    mail_host: Option<String>,
    /// E-mail waiting to be sent.
    mail_waiting: i64,
    /// Why the latest attempt among them failed.
    mail_error: Option<String>,
}

/// `GET /admin`
async fn index(State(state): State<AppState>, staff: StaffSession) -> WebResult {
    let mail_host = crate::service::mail::enabled(&state).then(|| state.config.smtp.host.clone());
    let (mail_waiting, mail_error) = match mail_host {
        Some(_) => crate::service::mail::waiting(&state).await?,
        None => (0, None),
    };
    render(&IndexPage {
        is_admin: staff.staff.is_admin(),
        chrome: staff.me.chrome,
        section: "index",
        mail_host,
        mail_waiting,
        mail_error,
    })
}

/// One audit log row as shown.
pub struct ActionView {
    pub who: String,
    pub via: String,
    pub action: String,
    pub target: String,
    pub details: String,
    pub at_iso: String,
    pub at: String,
}

#[derive(Template)]
#[template(path = "web/admin/audit_log.html")]
struct AuditLogPage {
    chrome: Chrome,
    section: &'static str,
    actions: Vec<ActionView>,
    older: Option<i64>,
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    max_id: Option<String>,
}

const PAGE: i64 = 50;

/// `GET /admin/audit_log`: newest first, 50 a page.
async fn audit_log(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<PageQuery>,
) -> WebResult {
    let max_id = match q.max_id.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| Error::BadRequest("max_id must be an integer".into()))?,
        ),
    };
    let rows = audit::list(&state, &staff.staff, None, max_id, PAGE).await?;
    let older = super::older(&rows, PAGE, |a| a.id);
    let actions = rows
        .into_iter()
        .map(|a| ActionView {
            who: a.actor_name,
            via: a.via,
            action: a.action,
            target: format!("{} {}", a.target_type, a.target),
            details: match &a.details {
                serde_json::Value::Object(map) if map.is_empty() => String::new(),
                other => other.to_string(),
            },
            at_iso: a.created_at.to_rfc3339(),
            at: a.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect();
    render(&AuditLogPage {
        chrome: staff.me.chrome,
        section: "audit_log",
        actions,
        older,
    })
}

/// A host whose deliveries fail, as shown.
pub struct HostView {
    pub host: String,
    pub failure_days: i64,
    pub last_failure: String,
    pub unavailable_since: Option<String>,
    pub waiting: i64,
}

#[derive(Template)]
#[template(path = "web/admin/federation.html")]
struct FederationPage {
    chrome: Chrome,
    section: &'static str,
    deliveries: i64,
    oldest_delivery: Option<String>,
    pushes: i64,
    oldest_push: Option<String>,
    unavailable: i64,
    failing: i64,
    hosts: Vec<HostView>,
    kept: Vec<KeptView>,
    relays: Vec<Relay>,
    is_admin: bool,
    notice: Option<String>,
}

/// An inbox activity kept after repeated failures, as shown.
pub struct KeptView {
    pub id: i64,
    pub activity_id: String,
    pub kind: String,
    pub sender: String,
    pub error: String,
    pub attempts: i32,
    pub kept_at: String,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf_token: String,
}

/// `POST /admin/federation/kept/{id}/{replay|discard}` (admins).
async fn kept_activity(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::extract::Path((raw, action)): axum::extract::Path<(String, String)>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let id = super::id(&raw)?;
    let notice = match action.as_str() {
        "replay" => match dead_letters::replay(&state, &staff.staff, id).await {
            Ok(_) => "The activity was processed.".to_string(),
            Err(Error::NotFound) => return Err(Error::NotFound.into()),
            Err(Error::Forbidden(m)) => return Err(Error::Forbidden(m).into()),
            Err(e) => format!("The activity failed again: {e}"),
        },
        "discard" => {
            dead_letters::discard(&state, &staff.staff, id).await?;
            "The activity was discarded.".to_string()
        }
        _ => return Err(Error::NotFound.into()),
    };
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Ok(super::see_other(&format!(
        "/admin/federation?notice={encoded}"
    )))
}

#[derive(Deserialize)]
pub struct RelayForm {
    csrf_token: String,
    #[serde(default)]
    inbox_url: String,
}

fn federation_notice(notice: &str) -> WebResult {
    let encoded: String = url::form_urlencoded::byte_serialize(notice.as_bytes()).collect();
    Ok(super::see_other(&format!(
        "/admin/federation?notice={encoded}"
    )))
}

/// `POST /admin/relays` (admins): subscribes to a relay.
async fn subscribe_relay(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::Form(form): axum::Form<RelayForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    match relays::subscribe(&state, &staff.staff, &form.inbox_url).await {
        Ok(relay) => federation_notice(&format!(
            "Asked {} to relay; it is used once the relay accepts.",
            relay.inbox_url
        )),
        Err(Error::Validation(message)) | Err(Error::Forbidden(message))
            if staff.staff.is_admin() =>
        {
            federation_notice(&message)
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/relays/{id}/remove` (admins): ends a subscription.
async fn unsubscribe_relay(
    State(state): State<AppState>,
    staff: StaffSession,
    axum::extract::Path(raw): axum::extract::Path<String>,
    axum::Form(form): axum::Form<CsrfForm>,
) -> WebResult {
    staff.me.check(&form.csrf_token)?;
    let relay = relays::unsubscribe(&state, &staff.staff, super::id(&raw)?).await?;
    federation_notice(&format!("Unsubscribed from {}.", relay.inbox_url))
}

/// `GET /admin/federation`: the delivery and Web Push queues, and the
/// hosts whose deliveries fail.
async fn federation(
    State(state): State<AppState>,
    staff: StaffSession,
    Query(q): Query<NoticeQuery>,
) -> WebResult {
    let (health, hosts) = queue_health::overview(&state, &staff.staff).await?;
    let kept = dead_letters::list(&state, &staff.staff)
        .await?
        .into_iter()
        .map(|k| KeptView {
            id: k.id,
            activity_id: k.activity_id,
            kind: k.kind,
            sender: k.sender,
            error: k.error,
            attempts: k.attempts,
            kept_at: k.kept_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        })
        .collect();
    let now = state.clock.now();
    let age = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(|at| ago(now - at));
    render(&FederationPage {
        is_admin: staff.staff.is_admin(),
        relays: relays::list(&state).await?,
        kept,
        notice: q.notice,
        chrome: staff.me.chrome,
        section: "federation",
        deliveries: health.deliveries,
        oldest_delivery: age(health.oldest_delivery),
        pushes: health.pushes,
        oldest_push: age(health.oldest_push),
        unavailable: health.unavailable_hosts,
        failing: health.failing_hosts,
        hosts: hosts
            .into_iter()
            .map(|h| HostView {
                host: h.host,
                failure_days: h.failure_days,
                last_failure: h.last_failure_day.format("%Y-%m-%d").to_string(),
                unavailable_since: h
                    .unavailable_since
                    .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()),
                waiting: h.waiting,
            })
            .collect(),
    })
}

/// A duration as the queue page says it ("3 min", "2 h", "5 days").
fn ago(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ages_read_in_the_largest_whole_unit() {
        use chrono::Duration;
        assert_eq!(super::ago(Duration::seconds(42)), "42 s");
        assert_eq!(super::ago(Duration::seconds(150)), "2 min");
        assert_eq!(super::ago(Duration::hours(5)), "5 h");
        assert_eq!(super::ago(Duration::days(3)), "3 days");
        assert_eq!(super::ago(Duration::seconds(-5)), "0 s");
    }
}
