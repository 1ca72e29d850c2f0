//! The `deliveries` queue's own rows (what is sent, from whom, to which
//! inbox) and the per-host failure bookkeeping (`domain_failures`,
//! `unavailable_domains`). Claiming and recording outcomes are
//! `db::queue`'s, shared with Web Push.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::domain::events::{CHANNEL, Change, QUEUED};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub activity_id: String,
    /// The stored activity (`db::outbound`) whose body is sent.
    pub outbound_id: i64,
    pub sender_id: i64,
    pub inbox_url: String,
    pub host: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub locked_by: Option<i32>,
    pub last_error: Option<String>,
    pub last_status: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Queues one stored activity (`db::outbound`) for each inbox (an inbox
/// that already has a row for this activity id is left alone), due now;
/// when anything was queued, announces it (`Change::Queued`) in the same
/// statement, so idle workers of every process wake once it commits.
pub async fn enqueue(
    db: &mut PgConnection,
    activity_id: &str,
    outbound_id: i64,
    sender_id: i64,
    inboxes: &[String],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    if inboxes.is_empty() {
        return Ok(0);
    }
    let hosts: Vec<String> = inboxes.iter().map(|i| host_of(i)).collect();
    let (queued, _): (i64, Option<String>) = sqlx::query_as(
        "with queued as (
             insert into deliveries (activity_id, outbound_id, sender_id, inbox_url, host,
                                     next_attempt_at, created_at)
             select $1, $2, $3, inbox, host, $6, $6
             from unnest($4::text[], $5::text[]) as t (inbox, host)
             on conflict (activity_id, inbox_url) do nothing
             returning 1
         )
         select count(*), case when count(*) > 0 and $9 then pg_notify($7, $8)::text end
         from queued",
    )
    .bind(activity_id)
    .bind(outbound_id)
    .bind(sender_id)
    .bind(inboxes)
    .bind(&hosts)
    .bind(now)
    .bind(CHANNEL)
    .bind(QUEUED)
    .bind(!events::deferring())
    .fetch_one(db)
    .await?;
    if queued > 0 {
        events::defer(Change::Queued);
    }
    Ok(queued as u64)
}

/// `host[:port]` of an inbox URL, in the one form hosts are compared in.
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .map(|u| crate::domain::domain_name::authority(&u))
        .unwrap_or_default()
}

/// Fails every pending delivery of a sender and drops its waiting fan-out
/// jobs (its account stopped sharing).
pub async fn cancel_pending_from(
    db: impl PgExecutor<'_>,
    sender_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "with jobs as (delete from fanouts where sender_id = $1)
         update deliveries set state = 'failed', last_error = $2, finished_at = $3,
                               locked_by = null, locked_until = null
         where sender_id = $1 and state = 'pending'",
    )
    .bind(sender_id)
    .bind(reason)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// Distinct inboxes this sender's deliveries reached.
pub async fn delivered_inboxes(
    db: impl PgExecutor<'_>,
    sender_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct inbox_url from deliveries where sender_id = $1 and state = 'delivered'",
    )
    .bind(sender_id)
    .fetch_all(db)
    .await
}

/// The host answered (a delivery succeeded or it sent us an activity): it
/// is available again and its failure days are forgotten. One statement of
/// two index probes, which write nothing when the host had no failures
/// (the usual case, paid on every activity received).
pub async fn heard_from(db: &mut PgConnection, host: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with failures as (delete from domain_failures where host = $1)
         delete from unavailable_domains where host = $1",
    )
    .bind(host)
    .execute(db)
    .await
    .map(drop)
}

/// Which of `hosts` are unavailable (one statement for a claimed batch).
pub async fn unavailable_among(
    db: impl PgExecutor<'_>,
    hosts: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select host from unavailable_domains where host = any($1)")
        .bind(hosts)
        .fetch_all(db)
        .await
}

/// Records that deliveries to each of `hosts` failed on `day`; returns the
/// hosts that have now failed on `days` distinct days or more since they
/// were last heard from.
pub async fn record_failure_days(
    db: &mut PgConnection,
    hosts: &[String],
    day: NaiveDate,
    days: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "insert into domain_failures (host, day) select host, $2 from unnest($1::text[]) as host
         on conflict do nothing",
    )
    .bind(hosts)
    .bind(day)
    .execute(&mut *db)
    .await?;
    sqlx::query_scalar(
        "select host from domain_failures where host = any($1)
         group by host having count(*) >= $2",
    )
    .bind(hosts)
    .bind(days)
    .fetch_all(&mut *db)
    .await
}

/// Marks each of `hosts` unavailable (those already marked keep their date).
pub async fn mark_unavailable_all(
    db: impl PgExecutor<'_>,
    hosts: &[String],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into unavailable_domains (host, since) select host, $2 from unnest($1::text[]) as host
         on conflict do nothing",
    )
    .bind(hosts)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// `heard_from` for many hosts, in one statement.
pub async fn heard_from_all(db: &mut PgConnection, hosts: &[String]) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with failures as (delete from domain_failures where host = any($1))
         delete from unavailable_domains where host = any($1)",
    )
    .bind(hosts)
    .execute(db)
    .await
    .map(drop)
}
