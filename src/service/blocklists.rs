//! Subscriptions to shared domain block lists, as GoToSocial's domain
//! permission subscriptions: an admin subscribes the instance to a list by
//! URL (Mastodon's CSV export, GoToSocial's JSON export, or a plain list of
//! domains); it is fetched through the outbound client (its address rules
//! and size cap) every day and on demand.
//!
//! Each entry becomes a block marked with its list. A refresh changes only
//! the blocks its own list made: a domain gone from the list is unblocked,
//! a changed entry updates its block. A block made by hand, or by another
//! list, is never changed or lifted by a list (the entry is reported as
//! kept). A list that fails to download or to read leaves everything as
//! the last good fetch made it, and the error is shown. A dry run (`plan`)
//! shows what a refresh would do without doing it.

use std::collections::{HashMap, HashSet};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use url::Url;

use crate::db::{self, blocklists::Subscription, domain_policy::DomainBlock};
use crate::error::{Error, Result};
use crate::service::audit::{self, Staff};
use crate::service::domain_policy::{self, BlockRequest};
use crate::state::AppState;

/// How often every list is fetched again (GoToSocial: daily).
pub const REFRESH_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// What a refresh of a list does, or would do.
#[derive(Debug, Default, Clone)]
pub struct Plan {
    /// Domains the list blocks that nothing blocks yet.
    pub add: Vec<BlockRequest>,
    /// Blocks of this list whose entry changed, and the entry now.
    pub update: Vec<(DomainBlock, BlockRequest)>,
    /// Blocks of this list whose domain left it.
    pub lift: Vec<DomainBlock>,
    /// Entries left as they are: already blocked by hand or by another
    /// list, or not a domain this instance may block; with the reason.
    pub kept: Vec<(String, String)>,
    /// Domains in the list.
    pub entries: usize,
    /// The media type the list was read as.
    pub content_type: String,
}

/// The formats a list may be read as.
pub const FORMATS: [&str; 3] = ["text/csv", "application/json", "text/plain"];

/// What a list's fetched body says, read by its media type (the admin's
/// choice, else the server's; when neither says, by its first character).
pub fn read_list(content_type: &str, body: &str) -> Result<(Vec<BlockRequest>, &'static str)> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let start = body.trim_start();
    let format = match essence.as_str() {
        "application/json" => "application/json",
        "text/csv" => "text/csv",
        "text/plain" if start.starts_with("#domain") => "text/csv",
        "text/plain" => "text/plain",
        _ if essence.ends_with("+json") || start.starts_with('[') => "application/json",
        _ if start.starts_with("#domain") => "text/csv",
        _ => "text/plain",
    };
    let entries = match format {
        "application/json" => domain_policy::parse_json(body)?,
        "text/csv" => domain_policy::parse_csv(body)?,
        _ => plain_list(body),
    };
    Ok((entries, format))
}

/// A plain list: one domain a line, `#` comments, each a suspension.
fn plain_list(body: &str) -> Vec<BlockRequest> {
    body.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .map(|domain| BlockRequest {
            domain: domain.to_string(),
            severity: domain_policy::Severity::Suspend,
            reject_media: false,
            reject_reports: false,
            private_comment: String::new(),
            public_comment: String::new(),
            obfuscate: false,
        })
        .collect()
}

/// The comment seen by staff on the blocks a list makes.
fn private_comment(subscription: &Subscription) -> String {
    let name = if subscription.title.trim().is_empty() {
        &subscription.url
    } else {
        &subscription.title
    };
    format!("From the block list {name}")
}

/// What applying `entries` for `subscription` would change, beside the
/// blocks there are now.
pub fn plan(
    own_domain: &str,
    subscription: &Subscription,
    entries: Vec<BlockRequest>,
    blocks: &[DomainBlock],
) -> Plan {
    let by_domain: HashMap<&str, &DomainBlock> =
        blocks.iter().map(|b| (b.domain.as_str(), b)).collect();
    let own_host = own_domain.split(':').next().unwrap_or(own_domain);
    let mut plan = Plan::default();
    let mut listed = HashSet::new();
    for mut entry in entries {
        let Ok(domain) = domain_policy::normalized(&entry.domain) else {
            plan.kept
                .push((entry.domain.clone(), "not a domain name".into()));
            continue;
        };
        if own_host == domain || own_host.ends_with(&format!(".{domain}")) {
            plan.kept
                .push((domain, "this instance's own domain".into()));
            continue;
        }
        if !listed.insert(domain.clone()) {
            continue;
        }
        entry.domain = domain.clone();
        entry.private_comment = private_comment(subscription);
        match by_domain.get(domain.as_str()) {
            None => plan.add.push(entry),
            Some(block) if block.subscription_id == Some(subscription.id) => {
                if !same(block, &entry) {
                    plan.update.push(((*block).clone(), entry));
                }
            }
            Some(block) => {
                let reason = if block.subscription_id.is_some() {
                    "blocked by another list"
                } else {
                    "blocked by hand"
                };
                plan.kept.push((domain, reason.into()));
            }
        }
    }
    plan.entries = listed.len();
    plan.lift = blocks
        .iter()
        .filter(|b| b.subscription_id == Some(subscription.id) && !listed.contains(&b.domain))
        .cloned()
        .collect();
    plan
}

fn same(block: &DomainBlock, entry: &BlockRequest) -> bool {
    let f = entry.fields();
    block.severity == f.severity
        && block.reject_media == f.reject_media
        && block.reject_reports == f.reject_reports
        && block.private_comment == f.private_comment
        && block.public_comment == f.public_comment
        && block.obfuscate == f.obfuscate
}

/// Subscribes the instance to the list at `raw_url` (admins only). Nothing
/// is fetched yet: the admin previews with `plan_refresh` or applies with
/// `refresh`, and the daily refresh applies it too.
pub async fn subscribe(
    state: &AppState,
    staff: &Staff,
    raw_url: &str,
    title: &str,
    content_type: Option<&str>,
) -> Result<Subscription> {
    staff.require_admin()?;
    let content_type = content_type.map(str::trim).filter(|t| !t.is_empty());
    if let Some(t) = content_type
        && !FORMATS.contains(&t)
    {
        return Err(Error::Validation(format!(
            "a list is read as one of {}, not {t:?}",
            FORMATS.join(", ")
        )));
    }
    let url = Url::parse(raw_url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| Error::Validation(format!("{:?} is not an http(s) URL", raw_url.trim())))?;
    let title = title.trim();
    if crate::domain::limits::too_long(title, crate::domain::limits::DOMAIN_BLOCK_COMMENT) {
        return Err(Error::Validation("the title is too long".into()));
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    let subscription = db::blocklists::insert(
        &mut *tx,
        url.as_str(),
        title,
        content_type,
        staff.actor_id,
        now,
    )
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.constraint() == Some(db::blocklists::URL_TAKEN) => {
            Error::Validation(format!("already subscribed to {url}"))
        }
        _ => Error::from(e),
    })?;
    audit::record(
        &mut tx,
        now,
        staff,
        "blocklist.subscribe",
        "blocklist",
        url.as_str(),
        serde_json::json!({ "title": title }),
    )
    .await?;
    tx.commit().await?;
    Ok(subscription)
}

/// Renames a subscription (admins only).
pub async fn retitle(
    state: &AppState,
    staff: &Staff,
    id: i64,
    title: &str,
) -> Result<Subscription> {
    staff.require_admin()?;
    let title = title.trim();
    if crate::domain::limits::too_long(title, crate::domain::limits::DOMAIN_BLOCK_COMMENT) {
        return Err(Error::Validation("the title is too long".into()));
    }
    db::blocklists::set_title(&state.db, id, title)
        .await?
        .ok_or(Error::NotFound)
}

/// Ends a subscription (admins only). Its blocks are lifted when
/// `lift_blocks`, or kept as blocks made by hand.
pub async fn unsubscribe(
    state: &AppState,
    staff: &Staff,
    id: i64,
    lift_blocks: bool,
) -> Result<Subscription> {
    staff.require_admin()?;
    let subscription = find(state, id).await?;
    if lift_blocks {
        for block in db::domain_policy::list(&state.db).await? {
            if block.subscription_id == Some(id) {
                domain_policy::delete_block(state, staff, block.id).await?;
            }
        }
    }
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    db::blocklists::delete(&mut *tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        now,
        staff,
        "blocklist.unsubscribe",
        "blocklist",
        &subscription.url,
        serde_json::json!({ "lifted_blocks": lift_blocks }),
    )
    .await?;
    tx.commit().await?;
    domain_policy::reload(state).await?;
    Ok(subscription)
}

pub async fn list(state: &AppState) -> Result<Vec<Subscription>> {
    Ok(db::blocklists::list(&state.db).await?)
}

pub async fn find(state: &AppState, id: i64) -> Result<Subscription> {
    db::blocklists::find(&state.db, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Downloads and reads a list: its entries and the media type read.
async fn download(
    state: &AppState,
    subscription: &Subscription,
) -> Result<(Vec<BlockRequest>, &'static str)> {
    let url = Url::parse(&subscription.url)
        .map_err(|_| Error::Validation(format!("{} is not a URL", subscription.url)))?;
    let mut headers = HeaderMap::new();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("text/csv, application/json;q=0.9, text/plain;q=0.8"),
    );
    let fetched = state
        .http
        .get(&url, headers)
        .await
        .map_err(|e| Error::Validation(format!("the list could not be downloaded: {e}")))?;
    if !fetched.status.is_success() {
        return Err(Error::Validation(format!(
            "the list's server answered {}",
            fetched.status
        )));
    }
    let body = std::str::from_utf8(&fetched.body)
        .map_err(|_| Error::Validation("the list is not UTF-8 text".into()))?;
    let served_as = fetched
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if subscription.content_type.is_none()
        && (served_as.starts_with("text/html") || served_as.starts_with("application/xhtml"))
    {
        return Err(Error::Validation(
            "the list's address answered with a web page, not a list".into(),
        ));
    }
    let content_type = match &subscription.content_type {
        Some(chosen) => chosen.as_str(),
        None => fetched
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    };
    read_list(content_type, body)
}

/// What a refresh of the list would do now, without doing it (a dry run).
/// A list that cannot be downloaded or read is an error; nothing changes.
pub async fn plan_refresh(state: &AppState, staff: &Staff, id: i64) -> Result<Plan> {
    staff.require_admin()?;
    let subscription = find(state, id).await?;
    let (entries, content_type) = download(state, &subscription).await?;
    let blocks = db::domain_policy::list(&state.db).await?;
    let mut plan = plan(&state.urls.domain(), &subscription, entries, &blocks);
    plan.content_type = content_type.to_string();
    Ok(plan)
}

/// Fetches the list and applies it. A list that fails to download or to
/// read changes no block: the error is kept on the subscription and
/// returned.
pub async fn refresh(state: &AppState, staff: &Staff, id: i64) -> Result<Plan> {
    staff.require_admin()?;
    let subscription = find(state, id).await?;
    let now = state.clock.now();
    let (entries, content_type) = match download(state, &subscription).await {
        Ok(read) => read,
        Err(e) => {
            let reason = match &e {
                Error::Validation(reason) => reason.clone(),
                _ => "the list could not be read".to_string(),
            };
            tracing::info!(list = %subscription.url, error = %reason, "a block list failed to refresh; its blocks stay as they were");
            db::blocklists::failed(&state.db, id, &reason, now).await?;
            return Err(e);
        }
    };
    let blocks = db::domain_policy::list(&state.db).await?;
    let mut plan = plan(&state.urls.domain(), &subscription, entries, &blocks);
    plan.content_type = content_type.to_string();
    // A list that names no domain at all now, while it made blocks, is
    // taken for a broken download (an error page, a truncated file), not
    // for a list that lifted everything.
    if plan.entries == 0 && !plan.lift.is_empty() {
        let reason = "the list names no domain now; its blocks stay until it names some";
        db::blocklists::failed(&state.db, id, reason, now).await?;
        return Err(Error::Validation(reason.into()));
    }
    let applied = apply(state, staff, &subscription, &plan).await;
    domain_policy::reload(state).await?;
    applied?;
    db::blocklists::succeeded(&state.db, id, plan.entries as i32, now).await?;
    Ok(plan)
}

async fn apply(
    state: &AppState,
    staff: &Staff,
    subscription: &Subscription,
    plan: &Plan,
) -> Result<()> {
    for request in &plan.add {
        match domain_policy::insert_block(state, staff, request, Some(subscription.id)).await {
            Ok(_) => {}
            // Blocked meanwhile (by hand, or by another list): left as it is.
            Err(Error::Validation(reason)) if reason.ends_with("is already blocked") => {}
            Err(e) => return Err(e),
        }
    }
    for (block, request) in &plan.update {
        domain_policy::update_block(state, staff, block.id, request, Some(subscription.id)).await?;
    }
    for block in &plan.lift {
        match domain_policy::delete_block(state, staff, block.id).await {
            Ok(_) | Err(Error::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Refreshes every list (the daily timed work); a list that fails is
/// reported on its subscription and the others go on.
pub async fn refresh_all(state: &AppState) -> Result<usize> {
    let staff = Staff::scheduled("block list subscriptions");
    let mut refreshed = 0;
    for subscription in list(state).await? {
        match refresh(state, &staff, subscription.id).await {
            Ok(_) => refreshed += 1,
            Err(Error::Validation(_)) => {}
            Err(e) => {
                tracing::warn!(list = %subscription.url, error = %e, "refreshing a block list failed")
            }
        }
    }
    Ok(refreshed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn subscription(id: i64) -> Subscription {
        Subscription {
            id,
            url: "https://lists.example/tier0.csv".into(),
            title: "Tier 0".into(),
            created_by: None,
            created_at: Utc::now(),
            fetched_at: None,
            succeeded_at: None,
            last_error: None,
            entries: 0,
            content_type: None,
        }
    }

    fn block(id: i64, domain: &str, severity: &str, subscription_id: Option<i64>) -> DomainBlock {
        DomainBlock {
            id,
            domain: domain.into(),
            severity: severity.into(),
            reject_media: false,
            reject_reports: false,
            private_comment: "From the block list Tier 0".into(),
            public_comment: String::new(),
            obfuscate: false,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            subscription_id,
        }
    }

    #[test]
    fn lists_are_read_by_their_type_or_their_look() {
        let csv = "#domain,#severity\nspam.example,silence\n";
        let (entries, format) = read_list("text/csv; charset=utf-8", csv).unwrap();
        assert_eq!((entries.len(), format), (1, "text/csv"));
        assert_eq!(entries[0].severity, domain_policy::Severity::Silence);
        // Served as plain text, a CSV with Mastodon's header is still CSV.
        assert_eq!(read_list("text/plain", csv).unwrap().1, "text/csv");
        let (entries, format) = read_list("", "[{\"domain\": \"a.example\"}]").unwrap();
        assert_eq!((entries.len(), format), (1, "application/json"));
        let (entries, format) = read_list(
            "application/octet-stream",
            "# comment\na.example\n\nb.example # why\n",
        )
        .unwrap();
        assert_eq!(format, "text/plain");
        let domains: Vec<&str> = entries.iter().map(|e| e.domain.as_str()).collect();
        assert_eq!(domains, ["a.example", "b.example"]);
        assert!(read_list("application/json", "{").is_err());
    }

    #[test]
    fn a_plan_touches_only_the_lists_own_blocks() {
        let list = subscription(7);
        let entries = read_list(
            "text/plain",
            "new.example\nmine.example\nhand.example\nother.example\nBAD..name\nskein.example\n",
        )
        .unwrap()
        .0;
        let blocks = vec![
            block(1, "mine.example", "silence", Some(7)),
            block(2, "hand.example", "silence", None),
            block(3, "other.example", "suspend", Some(8)),
            block(4, "gone.example", "suspend", Some(7)),
            block(5, "kept.example", "suspend", None),
        ];
        let plan = plan("social.skein.example:8443", &list, entries, &blocks);
        let added: Vec<&str> = plan.add.iter().map(|r| r.domain.as_str()).collect();
        assert_eq!(added, ["new.example"]);
        assert_eq!(plan.add[0].private_comment, "From the block list Tier 0");
        // mine.example was a silence; the plain list makes suspensions.
        assert_eq!(plan.update.len(), 1);
        assert_eq!(plan.update[0].0.domain, "mine.example");
        let lifted: Vec<&str> = plan.lift.iter().map(|b| b.domain.as_str()).collect();
        assert_eq!(lifted, ["gone.example"]);
        let kept: Vec<(&str, &str)> = plan
            .kept
            .iter()
            .map(|(d, r)| (d.as_str(), r.as_str()))
            .collect();
        assert_eq!(
            kept,
            [
                ("hand.example", "blocked by hand"),
                ("other.example", "blocked by another list"),
                ("BAD..name", "not a domain name"),
                ("skein.example", "this instance's own domain"),
            ]
        );
        assert_eq!(plan.entries, 4);
    }
}
