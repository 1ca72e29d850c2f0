//! The instance's domain policy: which servers Skein federates with, as
//! Mastodon's admins set it. A block has a severity (`silence`: kept out of
//! public timelines, follows still work; `suspend`: nothing in or out, and
//! what was stored is purged, follows severed) and may reject media; it
//! covers the domain's subdomains. In the allow-list mode
//! (`federation.mode`), only allowed domains federate.
//!
//! Enforced where federation happens: the inbox refuses activities whose
//! actor, object, object's author or quoted or reposted post lives on a
//! refused host (`check_activity`); fetches and WebFinger refuse them
//! (`federation::fetch`); deliveries to them are not queued or sent
//! (`service::outbox`, `jobs::delivery`). Every change is written to the
//! audit log in its transaction.
//!
//! Checks read the process's snapshot (`AppState::domain_policy`, a
//! `domain::domain_policy::Snapshot`), never the database: a change reloads
//! it here after its commit, and `db::domain_policy` announces the change
//! on the change channel in its transaction, so every other process's
//! listener (`streaming::listener`) reloads it too.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use url::Url;

use crate::config::FederationMode;
use crate::db::{
    self,
    domain_policy::{BlockFields, DomainAllow, DomainBlock},
};
use crate::domain::domain_policy::{Rule, Snapshot};
use crate::domain::{domain_name, portability};
use crate::error::{Error, Result};
use crate::service::audit::{self, Staff};
use crate::service::discovery::authority;
use crate::state::AppState;

pub use crate::domain::domain_policy::Severity;

/// A block as an admin asks for it.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    pub domain: String,
    pub severity: Severity,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: String,
    pub public_comment: String,
    pub obfuscate: bool,
}

impl BlockRequest {
    fn check(&self) -> Result<()> {
        let max = crate::domain::limits::DOMAIN_BLOCK_COMMENT;
        for comment in [&self.private_comment, &self.public_comment] {
            if crate::domain::limits::too_long(comment.trim(), max) {
                return Err(Error::Validation(format!(
                    "a domain block's comments have at most {max} characters"
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn fields(&self) -> BlockFields {
        BlockFields {
            severity: self.severity.as_str().to_string(),
            reject_media: self.reject_media,
            reject_reports: self.reject_reports,
            private_comment: self.private_comment.trim().to_string(),
            public_comment: self.public_comment.trim().to_string(),
            obfuscate: self.obfuscate,
        }
    }
}

pub(crate) fn normalized(raw: &str) -> Result<String> {
    domain_name::normalize(raw)
        .ok_or_else(|| Error::Validation(format!("{:?} is not a domain name", raw.trim())))
}

/// The policy as stored, for the instance at `own`.
pub async fn load(db: &PgPool, own: &str, mode: FederationMode) -> Result<Snapshot> {
    let blocks = db::domain_policy::list(db).await?;
    let allows = db::domain_policy::list_allows(db).await?;
    Ok(Snapshot::new(
        own,
        blocks.into_iter().map(|b| {
            let rule = Rule {
                severity: Severity::parse(&b.severity).unwrap_or(Severity::Suspend),
                reject_media: b.reject_media,
            };
            (b.domain, rule)
        }),
        allows.into_iter().map(|a| a.domain),
        mode == FederationMode::Allowlist,
    ))
}

/// Reads the policy again into the process's snapshot: after a change made
/// here, and when another process announces one.
pub async fn reload(state: &AppState) -> Result<()> {
    let snapshot = load(
        &state.db,
        &state.urls.domain(),
        state.config.federation.mode,
    )
    .await?;
    state.domain_policy.replace(snapshot);
    Ok(())
}

/// Whether Skein refuses to federate with `host` (`host[:port]`): a block
/// suspends it, or the allow-list mode does not list it. This instance's
/// own host is never refused. Read from the process's snapshot, no SQL.
pub async fn refuses(state: &AppState, host: &str) -> Result<bool> {
    Ok(state.domain_policy.get().refuses(host))
}

/// `refuses`, for callers inside a transaction (the snapshot needs no
/// connection).
pub async fn refuses_in(_conn: &mut PgConnection, state: &AppState, host: &str) -> Result<bool> {
    Ok(state.domain_policy.get().refuses(host))
}

/// Whether media from `host` are rejected, from the process's snapshot.
pub fn rejects_media_of(state: &AppState, host: &str) -> bool {
    state.domain_policy.get().rejects_media(host)
}

/// Refuses a URL on a refused host with 403.
pub async fn check_url(state: &AppState, url: &Url) -> Result<()> {
    let host = authority(url);
    if state.domain_policy.get().refuses(&host) {
        return Err(Error::Forbidden(format!(
            "this server does not federate with {host}"
        )));
    }
    Ok(())
}

/// Refuses an inbound activity that involves a refused host: every id it
/// names (`federation::inbound::Envelope::references`: its actor, its
/// object and the object's author, a quoted or reposted post, in whichever
/// form they came).
pub fn check_references(state: &AppState, references: &[String]) -> Result<()> {
    let policy = state.domain_policy.get();
    let refused = references
        .iter()
        .filter_map(|u| Url::parse(u).ok())
        .map(|u| authority(&u))
        .find(|host| policy.refuses(host));
    match refused {
        Some(host) => Err(Error::Forbidden(format!(
            "this server does not federate with {host}"
        ))),
        None => Ok(()),
    }
}

/// The inboxes among `inboxes` that Skein may deliver to.
pub async fn deliverable(
    _conn: &mut PgConnection,
    state: &AppState,
    mut inboxes: Vec<String>,
) -> Result<Vec<String>> {
    let policy = state.domain_policy.get();
    inboxes.retain(|inbox| !policy.refuses(&db::deliveries::host_of(inbox)));
    Ok(inboxes)
}

/// Blocks a domain (admins only). A suspension purges what is stored from
/// the domain and severs follows; rejecting media drops its attachments.
pub async fn block(state: &AppState, staff: &Staff, request: &BlockRequest) -> Result<DomainBlock> {
    let block = insert_block(state, staff, request, None).await?;
    reload(state).await?;
    Ok(block)
}

/// `block` without reloading the snapshot (an import or a block list's
/// refresh reloads once), made by hand or by the subscribed list `source`.
pub(crate) async fn insert_block(
    state: &AppState,
    staff: &Staff,
    request: &BlockRequest,
    source: Option<i64>,
) -> Result<DomainBlock> {
    staff.require_admin()?;
    request.check()?;
    let now = state.clock.now();
    let domain = normalized(&request.domain)?;
    let mut tx = state.db.begin().await?;
    if db::domain_policy::find_by_domain(&mut *tx, &domain)
        .await?
        .is_some()
    {
        return Err(Error::Validation(format!("{domain} is already blocked")));
    }
    let block = db::domain_policy::insert(&mut tx, &domain, &request.fields(), source, now).await?;
    apply(&mut tx, &block, now).await?;
    audit::record(
        &mut tx,
        now,
        staff,
        "domain_block.create",
        "domain",
        &domain,
        details(&block),
    )
    .await?;
    tx.commit().await?;
    Ok(block)
}

/// Changes a block (admins only); a block made stricter applies at once.
pub async fn update(
    state: &AppState,
    staff: &Staff,
    id: i64,
    request: &BlockRequest,
) -> Result<DomainBlock> {
    let block = update_block(state, staff, id, request, None).await?;
    reload(state).await?;
    Ok(block)
}

/// `update` without reloading the snapshot, by hand (`source` none: the
/// block is no longer a list's, and its refreshes leave it alone) or by the
/// subscribed list `source`.
pub(crate) async fn update_block(
    state: &AppState,
    staff: &Staff,
    id: i64,
    request: &BlockRequest,
    source: Option<i64>,
) -> Result<DomainBlock> {
    staff.require_admin()?;
    request.check()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let block = db::domain_policy::update(&mut tx, id, &request.fields(), source, now)
        .await?
        .ok_or(Error::NotFound)?;
    apply(&mut tx, &block, now).await?;
    audit::record(
        &mut tx,
        now,
        staff,
        "domain_block.update",
        "domain",
        &block.domain,
        details(&block),
    )
    .await?;
    tx.commit().await?;
    Ok(block)
}

/// Lifts a block (admins only). What a suspension purged stays purged, as
/// with Mastodon; the domain's accounts can be followed again.
pub async fn unblock(state: &AppState, staff: &Staff, id: i64) -> Result<DomainBlock> {
    let block = delete_block(state, staff, id).await?;
    reload(state).await?;
    Ok(block)
}

/// `unblock` without reloading the snapshot.
pub(crate) async fn delete_block(state: &AppState, staff: &Staff, id: i64) -> Result<DomainBlock> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let block = db::domain_policy::delete(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "domain_block.destroy",
        "domain",
        &block.domain,
        details(&block),
    )
    .await?;
    tx.commit().await?;
    Ok(block)
}

async fn apply(tx: &mut sqlx::PgConnection, block: &DomainBlock, now: DateTime<Utc>) -> Result<()> {
    if block.severity == "suspend" {
        db::domain_policy::purge(tx, &block.domain, now).await?;
    }
    if block.reject_media || block.severity == "suspend" {
        db::domain_policy::drop_media(tx, &block.domain).await?;
        crate::service::remote_media::forget_domain(tx, &block.domain, now).await?;
    }
    Ok(())
}

fn details(block: &DomainBlock) -> Value {
    serde_json::json!({
        "subscription_id": block.subscription_id,
        "severity": block.severity,
        "reject_media": block.reject_media,
        "reject_reports": block.reject_reports,
        "private_comment": block.private_comment,
        "public_comment": block.public_comment,
    })
}

pub async fn list(db: &PgPool) -> Result<Vec<DomainBlock>> {
    Ok(db::domain_policy::list(db).await?)
}

pub async fn find(db: &PgPool, id: i64) -> Result<DomainBlock> {
    db::domain_policy::find(db, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Allows a domain in the allow-list mode (admins only).
pub async fn allow(state: &AppState, staff: &Staff, raw: &str) -> Result<DomainAllow> {
    staff.require_admin()?;
    let now = state.clock.now();
    let domain = normalized(raw)?;
    let mut tx = state.db.begin().await?;
    let allow = db::domain_policy::insert_allow(&mut tx, &domain, now)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.constraint() == Some(db::domain_policy::ALLOW_TAKEN) => {
                Error::Validation(format!("{domain} is already allowed"))
            }
            _ => Error::from(e),
        })?;
    audit::record(
        &mut tx,
        now,
        staff,
        "domain_allow.create",
        "domain",
        &domain,
        Value::Object(Default::default()),
    )
    .await?;
    tx.commit().await?;
    reload(state).await?;
    Ok(allow)
}

pub async fn disallow(state: &AppState, staff: &Staff, id: i64) -> Result<DomainAllow> {
    staff.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let allow = db::domain_policy::delete_allow(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "domain_allow.destroy",
        "domain",
        &allow.domain,
        Value::Object(Default::default()),
    )
    .await?;
    tx.commit().await?;
    reload(state).await?;
    Ok(allow)
}

pub async fn allows(db: &PgPool) -> Result<Vec<DomainAllow>> {
    Ok(db::domain_policy::list_allows(db).await?)
}

/// Mastodon's CSV header for exported domain blocks.
pub const CSV_HEADER: &str =
    "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate";

/// Every block in Mastodon's CSV format.
pub fn export_csv(blocks: &[DomainBlock]) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for b in blocks {
        out.push_str(&portability::row(&[
            &b.domain,
            &b.severity,
            if b.reject_media { "true" } else { "false" },
            if b.reject_reports { "true" } else { "false" },
            &b.public_comment,
            if b.obfuscate { "true" } else { "false" },
        ]));
    }
    out
}

/// Reads Mastodon's CSV of domain blocks (with its `#domain,...` header,
/// or bare lines of domains, which Mastodon also accepts, as suspensions).
pub fn parse_csv(text: &str) -> Result<Vec<BlockRequest>> {
    let mut columns: Vec<String> = vec!["#domain".into()];
    let mut found = Vec::new();
    for (n, record) in portability::parse_csv(text).into_iter().enumerate() {
        let first = record.first().map(|f| f.trim()).unwrap_or_default();
        if first.is_empty() {
            continue;
        }
        if n == 0 && first.starts_with('#') {
            columns = record
                .iter()
                .map(|c| c.trim().to_ascii_lowercase())
                .collect();
            continue;
        }
        let get = |name: &str| {
            columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| record.get(i))
                .map(|v| v.trim())
                .unwrap_or_default()
        };
        let flag = |name: &str| matches!(get(name).to_ascii_lowercase().as_str(), "true" | "1");
        let severity = match get("#severity") {
            "" => Severity::Suspend,
            raw => Severity::parse(raw).ok_or_else(|| {
                Error::Validation(format!("line {}: unknown severity {raw:?}", n + 1))
            })?,
        };
        found.push(BlockRequest {
            domain: get("#domain").to_string(),
            severity,
            reject_media: flag("#reject_media"),
            reject_reports: flag("#reject_reports"),
            private_comment: String::new(),
            public_comment: get("#public_comment").to_string(),
            obfuscate: flag("#obfuscate"),
        });
    }
    Ok(found)
}

/// Reads GoToSocial's JSON export of domain blocks: an array of objects
/// with `domain` and, optionally, `public_comment`, `private_comment` and
/// `obfuscate`. GoToSocial's blocks are suspensions.
pub fn parse_json(text: &str) -> Result<Vec<BlockRequest>> {
    #[derive(serde::Deserialize)]
    struct Entry {
        domain: String,
        #[serde(default)]
        public_comment: Option<String>,
        #[serde(default)]
        private_comment: Option<String>,
        #[serde(default)]
        obfuscate: Option<bool>,
        #[serde(default)]
        severity: Option<String>,
    }
    let entries: Vec<Entry> = serde_json::from_str(text)
        .map_err(|e| Error::Validation(format!("not a JSON list of domain blocks: {e}")))?;
    entries
        .into_iter()
        .map(|e| {
            let severity = match e.severity.as_deref() {
                None | Some("") => Severity::Suspend,
                Some(raw) => Severity::parse(raw).ok_or_else(|| {
                    Error::Validation(format!("{}: unknown severity {raw:?}", e.domain))
                })?,
            };
            Ok(BlockRequest {
                domain: e.domain,
                severity,
                reject_media: false,
                reject_reports: false,
                private_comment: e.private_comment.unwrap_or_default(),
                public_comment: e.public_comment.unwrap_or_default(),
                obfuscate: e.obfuscate.unwrap_or(false),
            })
        })
        .collect()
}

/// What an import did.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub added: Vec<String>,
    /// Domains already blocked, left as they are (Mastodon's default).
    pub kept: Vec<String>,
    pub failed: Vec<(String, String)>,
}

/// Imports Mastodon's CSV of domain blocks: new domains are blocked; ones
/// already blocked are kept as they are.
pub async fn import_csv(state: &AppState, staff: &Staff, text: &str) -> Result<ImportReport> {
    staff.require_admin()?;
    let mut report = ImportReport::default();
    for request in parse_csv(text)? {
        match insert_block(state, staff, &request, None).await {
            Ok(block) => report.added.push(block.domain),
            Err(Error::Validation(reason)) if reason.ends_with("is already blocked") => {
                report.kept.push(request.domain)
            }
            Err(Error::Validation(reason)) => report.failed.push((request.domain, reason)),
            Err(e) => {
                reload(state).await?;
                return Err(e);
            }
        }
    }
    reload(state).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodons_csv_of_domain_blocks_is_read_and_written() {
        let text = "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate\n\
                    spam.example,suspend,false,false,\"Spam, lots\",false\n\
                    loud.example,silence,true,false,,true\n";
        let blocks = parse_csv(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].domain, "spam.example");
        assert_eq!(blocks[0].severity, Severity::Suspend);
        assert_eq!(blocks[0].public_comment, "Spam, lots");
        assert_eq!(blocks[1].severity, Severity::Silence);
        assert!(blocks[1].reject_media && blocks[1].obfuscate);
        // Bare lists of domains are suspensions.
        let bare = parse_csv("a.example\nb.example\n").unwrap();
        assert_eq!(bare.len(), 2);
        assert_eq!(bare[1].severity, Severity::Suspend);
        assert!(parse_csv("#domain,#severity\nx.example,explode\n").is_err());
    }

    #[test]
    fn gotosocials_json_of_domain_blocks_is_read() {
        let text = r#"[
            {"domain": "spam.example", "public_comment": "spam", "obfuscate": true,
             "id": "01H", "created_at": "2024-01-01T00:00:00.000Z"},
            {"domain": "bad.example"}
        ]"#;
        let blocks = parse_json(text).unwrap();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].domain, "spam.example");
        assert_eq!(blocks[0].public_comment, "spam");
        assert!(blocks[0].obfuscate);
        assert_eq!(blocks[1].severity, Severity::Suspend);
        assert!(parse_json("{\"domain\": \"x.example\"}").is_err());
        assert!(parse_json("[{\"domain\": \"x.example\", \"severity\": \"explode\"}]").is_err());
    }
}
