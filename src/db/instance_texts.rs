//! The instance's about texts (`instance_texts`: the extended description
//! and the privacy policy; `terms_of_service`: dated versions), and the
//! figures `/api/v1/instance/activity` and `/api/v1/instance/peers` read.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Text {
    pub text: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Terms {
    pub id: i64,
    pub text: String,
    pub changelog: String,
    pub effective_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// One week of activity: its Monday, local posts, accounts active, sign-ups.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Week {
    pub week: DateTime<Utc>,
    pub statuses: i64,
    pub logins: i64,
    pub registrations: i64,
}

pub async fn get(db: impl PgExecutor<'_>, name: &str) -> Result<Option<Text>, sqlx::Error> {
    sqlx::query_as("select text, updated_at from instance_texts where name = $1")
        .bind(name)
        .fetch_optional(db)
        .await
}

pub async fn set(
    db: impl PgExecutor<'_>,
    name: &str,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into instance_texts (name, text, updated_at) values ($1, $2, $3)
         on conflict (name) do update set text = excluded.text, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(text)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// Every version of the terms, the latest date first.
pub async fn terms(db: impl PgExecutor<'_>) -> Result<Vec<Terms>, sqlx::Error> {
    sqlx::query_as("select * from terms_of_service order by effective_date desc")
        .fetch_all(db)
        .await
}

/// The version of the terms in force on `today` (the latest that took
/// effect), else the first one to come.
pub async fn current_terms(
    db: impl PgExecutor<'_>,
    today: NaiveDate,
) -> Result<Option<Terms>, sqlx::Error> {
    sqlx::query_as(
        "select * from terms_of_service
         order by (effective_date <= $1) desc,
                  case when effective_date <= $1 then effective_date end desc,
                  effective_date asc
         limit 1",
    )
    .bind(today)
    .fetch_optional(db)
    .await
}

pub async fn terms_on(
    db: impl PgExecutor<'_>,
    date: NaiveDate,
) -> Result<Option<Terms>, sqlx::Error> {
    sqlx::query_as("select * from terms_of_service where effective_date = $1")
        .bind(date)
        .fetch_optional(db)
        .await
}

/// The date of the version after the one of `date`, if any.
pub async fn next_terms_date(
    db: impl PgExecutor<'_>,
    date: NaiveDate,
) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar("select min(effective_date) from terms_of_service where effective_date > $1")
        .bind(date)
        .fetch_one(db)
        .await
}

pub const TERMS_DATE_TAKEN: &str = "terms_of_service_effective_date_key";

pub async fn insert_terms(
    db: impl PgExecutor<'_>,
    text: &str,
    changelog: &str,
    effective_date: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Terms, sqlx::Error> {
    sqlx::query_as(
        "insert into terms_of_service (text, changelog, effective_date, created_at)
         values ($1, $2, $3, $4) returning *",
    )
    .bind(text)
    .bind(changelog)
    .bind(effective_date)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn delete_terms(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Terms>, sqlx::Error> {
    sqlx::query_as("delete from terms_of_service where id = $1 returning *")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The last `weeks` weeks (Monday to Sunday, UTC), the current one first:
/// local posts written, local accounts active, local accounts created.
pub async fn activity(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    weeks: i32,
) -> Result<Vec<Week>, sqlx::Error> {
    sqlx::query_as(
        "with weeks as (
             select (date_trunc('week', $1 at time zone 'UTC') - make_interval(weeks => n))
                        at time zone 'UTC' as week
             from generate_series(0, $2 - 1) n
         )
         select w.week,
                (select count(*) from posts p join actors a on a.id = p.author_id
                 where a.domain is null and p.reblog_of_id is null and p.deleted_at is null
                   and p.published >= w.week and p.published < w.week + interval '7 days')
                    as statuses,
                (select count(*) from user_active_weeks u
                 where u.week = (w.week at time zone 'UTC')::date) as logins,
                (select count(*) from users u
                 where u.created_at >= w.week and u.created_at < w.week + interval '7 days')
                    as registrations
         from weeks w order by w.week desc",
    )
    .bind(now)
    .bind(weeks)
    .fetch_all(db)
    .await
}

/// The servers this one knows of (hosts of stored accounts), leaving out
/// suspended ones, in order.
pub async fn peers(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct split_part(a.domain, ':', 1) as host from actors a
         where a.domain is not null
           and not exists (select 1 from domain_blocks b
                           where b.severity = 'suspend' and domain_covers(a.domain, b.domain))
         order by host",
    )
    .fetch_all(db)
    .await
}

/// Up to `limit` known servers (hosts of stored accounts) whose name starts
/// with `prefix` (`LIKE` wildcards in it are literal), those with the most
/// accounts first; blocked ones (any severity) left out.
pub async fn peers_starting_with(
    db: impl PgExecutor<'_>,
    prefix: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select host from (
             select split_part(a.domain, ':', 1) as host, count(*) as accounts
             from actors a
             where a.domain is not null
               and a.domain like replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'
               and not exists (select 1 from domain_blocks b where domain_covers(a.domain, b.domain))
             group by 1
         ) known
         order by accounts desc, host
         limit $2",
    )
    .bind(prefix)
    .bind(limit)
    .fetch_all(db)
    .await
}
