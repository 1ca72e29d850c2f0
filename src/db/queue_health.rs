//! How the work queues stand, for metrics and the admin area.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct QueueHealth {
    /// Deliveries waiting (due or retrying later).
    pub deliveries: i64,
    /// When the oldest waiting delivery was queued.
    pub oldest_delivery: Option<DateTime<Utc>>,
    pub pushes: i64,
    pub oldest_push: Option<DateTime<Utc>>,
    /// Hosts given up on until they are heard from.
    pub unavailable_hosts: i64,
    /// Hosts with a failed delivery in the last day, not yet unavailable.
    pub failing_hosts: i64,
    /// Inbox activities kept after repeated failures, waiting for an admin.
    pub kept_activities: i64,
}

pub async fn read(db: impl PgExecutor<'_>, now: DateTime<Utc>) -> Result<QueueHealth, sqlx::Error> {
    sqlx::query_as(
        "select
             (select count(*) from deliveries where state = 'pending') as deliveries,
             (select min(created_at) from deliveries where state = 'pending') as oldest_delivery,
             (select count(*) from push_deliveries where state = 'pending') as pushes,
             (select min(created_at) from push_deliveries where state = 'pending') as oldest_push,
             (select count(*) from unavailable_domains) as unavailable_hosts,
             (select count(distinct f.host) from domain_failures f
              where f.day >= ($1::timestamptz - interval '1 day')::date
                and not exists (select 1 from unavailable_domains u where u.host = f.host))
                 as failing_hosts,
             (select count(*) from inbox_dead_letters where dead_at is not null)
                 as kept_activities",
    )
    .bind(now)
    .fetch_one(db)
    .await
}

/// A host whose deliveries fail, for the admin area.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FailingHost {
    pub host: String,
    /// Distinct days with failures (7 make a host unavailable).
    pub failure_days: i64,
    pub last_failure_day: chrono::NaiveDate,
    /// Since when the host is given up on, if it is.
    pub unavailable_since: Option<DateTime<Utc>>,
    /// Deliveries to it still waiting.
    pub waiting: i64,
}

/// The hosts with failure days or marked unavailable, worst first.
pub async fn failing_hosts(
    db: impl PgExecutor<'_>,
    limit: i64,
) -> Result<Vec<FailingHost>, sqlx::Error> {
    sqlx::query_as(
        "with hosts as (
             select host from domain_failures union select host from unavailable_domains
         )
         select * from (
         select h.host,
                (select count(*) from domain_failures f where f.host = h.host) as failure_days,
                coalesce((select max(day) from domain_failures f where f.host = h.host),
                         (select since::date from unavailable_domains u where u.host = h.host))
                    as last_failure_day,
                (select since from unavailable_domains u where u.host = h.host)
                    as unavailable_since,
                (select count(*) from deliveries d where d.host = h.host and d.state = 'pending')
                    as waiting
         from hosts h
         ) listed
         order by unavailable_since is null, failure_days desc, host
         limit $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await
}
