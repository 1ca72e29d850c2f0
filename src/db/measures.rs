//! What the admin API's measures, dimensions and retention cohorts count
//! (Mastodon's `Admin::Metrics`), read from the tables that hold it. Days
//! are UTC dates; a range is inclusive of both ends.

use chrono::NaiveDate;
use sqlx::PgExecutor;

/// How a measure's rows add up: by summing their amounts, or by counting
/// the distinct things they name (a day's total and the period's total
/// count each thing once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    Sum,
    Distinct,
}

/// A measure Skein counts: its rows, `(day date, n bigint)` for a sum or
/// `(day date, k text)` for distinct counts, between `$1` and `$2`, with
/// the measure's parameter (a hashtag's id, a domain) as `$3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    ActiveUsers,
    NewUsers,
    Interactions,
    OpenedReports,
    ResolvedReports,
    TagAccounts,
    TagUses,
    TagServers,
    InstanceAccounts,
    InstanceMediaAttachments,
    InstanceReports,
    InstanceStatuses,
    InstanceFollows,
    InstanceFollowers,
}

fn day(column: &str) -> String {
    format!("({column} at time zone 'UTC')::date")
}

impl Measure {
    pub fn aggregate(self) -> Aggregate {
        match self {
            Measure::ActiveUsers
            | Measure::TagAccounts
            | Measure::TagServers
            | Measure::TagUses => Aggregate::Distinct,
            _ => Aggregate::Sum,
        }
    }

    fn rows(self) -> String {
        let within = |column: &str| format!("{} between $1 and $2", day(column));
        let tagged = "from post_tags pt join tags t on t.tag = pt.tag
                      join posts p on p.id = pt.post_id
                      join actors a on a.id = p.author_id
                      where t.id::text = $3 and p.deleted_at is null";
        match self {
            Measure::ActiveUsers => "select day, user_id::text as k from user_active_days
                 where day between $1 and $2"
                .to_string(),
            Measure::NewUsers => format!(
                "select {} as day, 1::bigint as n from users u where {}",
                day("u.created_at"),
                within("u.created_at")
            ),
            // Likes, reposts and replies that local posts received.
            Measure::Interactions => format!(
                "select {d_l} as day, 1::bigint as n from likes l
                   join posts p on p.id = l.post_id join actors a on a.id = p.author_id
                   where a.domain is null and {w_l}
                 union all
                 select {d_r}, 1 from posts r
                   join posts p on p.id = coalesce(r.reblog_of_id, r.in_reply_to_id)
                   join actors a on a.id = p.author_id
                   where a.domain is null and r.deleted_at is null and r.author_id <> p.author_id
                     and {w_r}",
                d_l = day("l.created_at"),
                w_l = within("l.created_at"),
                d_r = day("r.created_at"),
                w_r = within("r.created_at"),
            ),
            Measure::OpenedReports => format!(
                "select {} as day, 1::bigint as n from reports r where {}",
                day("r.created_at"),
                within("r.created_at")
            ),
            Measure::ResolvedReports => format!(
                "select {} as day, 1::bigint as n from reports r where {}",
                day("r.resolved_at"),
                within("r.resolved_at")
            ),
            Measure::TagAccounts => format!(
                "select {} as day, p.author_id::text as k {tagged} and {}",
                day("p.published"),
                within("p.published")
            ),
            Measure::TagUses => format!(
                "select {} as day, p.id::text as k {tagged} and {}",
                day("p.published"),
                within("p.published")
            ),
            Measure::TagServers => format!(
                "select {} as day, coalesce(a.domain, '') as k {tagged} and {}",
                day("p.published"),
                within("p.published")
            ),
            Measure::InstanceAccounts => format!(
                "select {} as day, 1::bigint as n from actors a
                 where a.domain = $3 and a.gone_at is null and {}",
                day("a.created_at"),
                within("a.created_at")
            ),
            Measure::InstanceMediaAttachments => format!(
                "select {} as day, coalesce(m.file_size, 0)::bigint as n from remote_media m
                 where m.domain = $3 and m.kind = 'attachment' and m.state = 'stored' and {}",
                day("m.created_at"),
                within("m.created_at")
            ),
            Measure::InstanceReports => format!(
                "select {} as day, 1::bigint as n from reports r
                 join actors a on a.id = r.target_id where a.domain = $3 and {}",
                day("r.created_at"),
                within("r.created_at")
            ),
            Measure::InstanceStatuses => format!(
                "select {} as day, 1::bigint as n from posts p
                 join actors a on a.id = p.author_id
                 where a.domain = $3 and p.deleted_at is null and {}",
                day("p.created_at"),
                within("p.created_at")
            ),
            Measure::InstanceFollows => format!(
                "select {} as day, 1::bigint as n from follows f
                 join actors fr on fr.id = f.follower_id join actors fe on fe.id = f.followee_id
                 where fr.domain is null and fe.domain = $3 and {}",
                day("f.created_at"),
                within("f.created_at")
            ),
            Measure::InstanceFollowers => format!(
                "select {} as day, 1::bigint as n from follows f
                 join actors fr on fr.id = f.follower_id join actors fe on fe.id = f.followee_id
                 where fr.domain = $3 and fe.domain is null and {}",
                day("f.created_at"),
                within("f.created_at")
            ),
        }
    }

    fn aggregates(self) -> &'static str {
        match self.aggregate() {
            Aggregate::Sum => "coalesce(sum(n), 0)::bigint",
            Aggregate::Distinct => "count(distinct k)",
        }
    }
}

/// Each day of the range with its value, oldest first.
pub async fn daily(
    db: impl PgExecutor<'_>,
    measure: Measure,
    start: NaiveDate,
    end: NaiveDate,
    param: &str,
) -> Result<Vec<(NaiveDate, i64)>, sqlx::Error> {
    let sql = format!(
        "with rows as ({rows})
         select d::date, coalesce(r.value, 0)::bigint
         from generate_series($1::date::timestamp, $2::date::timestamp, interval '1 day') d
         left join (select day, {agg} as value from rows group by day) r on r.day = d::date
         order by d",
        rows = measure.rows(),
        agg = measure.aggregates(),
    );
    sqlx::query_as(&sql)
        .bind(start)
        .bind(end)
        .bind(param)
        .fetch_all(db)
        .await
}

/// The range's total (each thing counted once for distinct measures).
pub async fn total(
    db: impl PgExecutor<'_>,
    measure: Measure,
    start: NaiveDate,
    end: NaiveDate,
    param: &str,
) -> Result<i64, sqlx::Error> {
    let sql = format!(
        "with rows as ({rows}) select {agg} from rows",
        rows = measure.rows(),
        agg = measure.aggregates(),
    );
    sqlx::query_scalar(&sql)
        .bind(start)
        .bind(end)
        .bind(param)
        .fetch_one(db)
        .await
}

/// A dimension's rows: `(key, value)`, largest first, at most `$4`, from
/// what happened between `$1` and `$2` (with the parameter as `$3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Languages of local accounts' posts.
    Languages,
    /// The apps sign-ups came through (`web` for the web).
    Sources,
    /// Remote servers by posts received.
    Servers,
    /// Servers by posts with a hashtag.
    TagServers,
    /// Languages of posts with a hashtag.
    TagLanguages,
    /// A domain's accounts by followers.
    InstanceAccounts,
    /// Languages of a domain's posts.
    InstanceLanguages,
}

impl Dimension {
    fn sql(self) -> String {
        let within = |column: &str| format!("{} between $1 and $2", day(column));
        let tagged = "from post_tags pt join tags t on t.tag = pt.tag
                      join posts p on p.id = pt.post_id
                      join actors a on a.id = p.author_id
                      where t.id::text = $3 and p.deleted_at is null";
        match self {
            Dimension::Languages => format!(
                "select p.language, count(*) from posts p join actors a on a.id = p.author_id
                 where a.domain is null and p.language is not null and p.deleted_at is null
                   and p.reblog_of_id is null and {}
                 group by p.language order by count(*) desc, p.language limit $4",
                within("p.published")
            ),
            Dimension::Sources => format!(
                "select coalesce(app.name, 'web'), count(*) from users u
                 left join oauth_apps app on app.id = u.sign_up_app_id
                 where {} group by 1 order by count(*) desc, 1 limit $4",
                within("u.created_at")
            ),
            Dimension::Servers => format!(
                "select a.domain, count(*) from posts p join actors a on a.id = p.author_id
                 where a.domain is not null and p.deleted_at is null and {}
                 group by a.domain order by count(*) desc, a.domain limit $4",
                within("p.created_at")
            ),
            Dimension::TagServers => format!(
                "select coalesce(a.domain, ''), count(*) {tagged} and {}
                 group by 1 order by count(*) desc, 1 limit $4",
                within("p.published")
            ),
            Dimension::TagLanguages => format!(
                "select p.language, count(*) {tagged} and p.language is not null and {}
                 group by 1 order by count(*) desc, 1 limit $4",
                within("p.published")
            ),
            Dimension::InstanceAccounts => "select a.username, coalesce(s.followers, 0)
                 from actors a left join account_stats s on s.actor_id = a.id
                 where a.domain = $3 and a.gone_at is null and ($1::date is not null)
                   and ($2::date is not null)
                 order by coalesce(s.followers, 0) desc, a.username limit $4"
                .to_string(),
            Dimension::InstanceLanguages => format!(
                "select p.language, count(*) from posts p join actors a on a.id = p.author_id
                 where a.domain = $3 and p.language is not null and p.deleted_at is null
                   and p.reblog_of_id is null and {}
                 group by p.language order by count(*) desc, p.language limit $4",
                within("p.created_at")
            ),
        }
    }
}

pub async fn dimension(
    db: impl PgExecutor<'_>,
    dimension: Dimension,
    start: NaiveDate,
    end: NaiveDate,
    param: &str,
    limit: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as(&dimension.sql())
        .bind(start)
        .bind(end)
        .bind(param)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// What the instance's stored data take: the database, and media files
/// (uploads with their previews, and remote media cached).
pub async fn space_usage(db: impl PgExecutor<'_>) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "select pg_database_size(current_database())::bigint,
                ((select coalesce(sum(file_size::bigint + small_size::bigint), 0) from uploads)
                 + (select coalesce(sum(file_size), 0) from remote_media where state = 'stored'))::bigint",
    )
    .fetch_one(db)
    .await
}

/// The database server's version (`server_version`).
pub async fn postgresql_version(db: impl PgExecutor<'_>) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("select current_setting('server_version')")
        .fetch_one(db)
        .await
}

/// Retention cohorts: for each period (`day` or `month`, by `date_trunc`)
/// between `start` and `end`, the users who signed up in it, and for it and
/// each later period up to `end`, how many of them were active then (a
/// sign-up counts as activity in its own period). Rows: (cohort, period,
/// active, cohort size).
pub async fn retention(
    db: impl PgExecutor<'_>,
    frequency: &str,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<(NaiveDate, NaiveDate, i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "with cohorts as (
             select u.id, date_trunc($1, u.created_at at time zone 'UTC')::date as cohort
             from users u
             where date_trunc($1, u.created_at at time zone 'UTC')::date
                   between date_trunc($1, $2::date::timestamp)::date and $3
         ), sizes as (
             select cohort, count(*) as size from cohorts group by cohort
         ), periods as (
             select p::date as period
             from generate_series(date_trunc($1, $2::date::timestamp), $3::date::timestamp,
                                  case when $1 = 'month' then interval '1 month'
                                       else interval '1 day' end) p
         ), active as (
             select c.cohort, date_trunc($1, d.day::timestamp)::date as period, count(distinct c.id) as n
             from cohorts c join user_active_days d on d.user_id = c.id
             where d.day between $2 and $3
             group by 1, 2
         )
         select s.cohort, p.period,
                case when p.period = s.cohort then s.size else coalesce(a.n, 0) end,
                s.size
         from sizes s
         join periods p on p.period >= s.cohort
         left join active a on a.cohort = s.cohort and a.period = p.period
         order by s.cohort, p.period",
    )
    .bind(frequency)
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await
}
