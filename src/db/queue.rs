//! What the durable work queues share: `deliveries` (activities to other
//! servers) and `push_deliveries` (Web Push) are both rows with a state,
//! attempts, a due time and a claim. Claims use `for update skip locked`, a
//! lease, and the claiming process's id. Each process holds a PostgreSQL
//! advisory lock (class [`WORKER_LOCK_CLASS`]) on its id for its whole life;
//! a claim whose owner's lock is gone belongs to a dead process and is taken
//! over at once.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgExecutor};

/// The first key of the advisory locks that mark live worker processes.
pub const WORKER_LOCK_CLASS: i32 = 0x536b; // "Sk"

/// A queue table. Both have the columns `state` ('pending', 'delivered',
/// 'failed'), `attempts`, `next_attempt_at`, `locked_by`, `locked_until`,
/// `last_status`, `last_error` and `finished_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Deliveries,
    Pushes,
}

impl Queue {
    fn table(self) -> &'static str {
        match self {
            Queue::Deliveries => "deliveries",
            Queue::Pushes => "push_deliveries",
        }
    }
}

/// Claims up to `limit` due rows for `worker` until `lease_until`, oldest
/// due first; a claim of a process whose worker lock is gone is taken over
/// at once.
pub async fn claim<T>(
    db: impl PgExecutor<'_>,
    queue: Queue,
    worker: i32,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let table = queue.table();
    let sql = format!(
        "with live as (
             select array_agg(objid::bigint) as ids from pg_locks
             where locktype = 'advisory' and classid = $5::bigint::oid and objsubid = 2 and granted
               and database = (select oid from pg_database where datname = current_database())
         ),
         due as (
             select d.id from {table} d, live
             where d.state = 'pending' and d.next_attempt_at <= $2
               and (d.locked_by is null
                    or d.locked_until < $2
                    or not (d.locked_by::bigint = any(coalesce(live.ids, '{{}}'))))
             order by d.next_attempt_at, d.id
             limit $4
             for update of d skip locked
         )
         update {table} d
         set locked_by = $1, locked_until = $3, attempts = d.attempts + 1
         from due where d.id = due.id
         returning d.*"
    );
    sqlx::query_as(&sql)
        .bind(worker)
        .bind(now)
        .bind(lease_until)
        .bind(limit)
        .bind(WORKER_LOCK_CLASS)
        .fetch_all(db)
        .await
}

/// The outcomes of a batch of claimed rows, by row id.
#[derive(Debug, Default)]
pub struct Settled {
    /// Delivered, with the answer's status.
    pub delivered: Vec<(i64, i32)>,
    /// Failed for good, with the answer's status and the reason.
    pub failed: Vec<(i64, Option<i32>, String)>,
    /// Released to be tried again at the given time.
    pub rescheduled: Vec<(i64, Option<i32>, String, DateTime<Utc>)>,
}

impl Settled {
    pub fn is_empty(&self) -> bool {
        self.delivered.is_empty() && self.failed.is_empty() && self.rescheduled.is_empty()
    }
}

/// Records a batch of outcomes: one statement per kind of outcome present.
pub async fn settle(
    db: &mut PgConnection,
    queue: Queue,
    settled: &Settled,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let table = queue.table();
    if !settled.delivered.is_empty() {
        let (ids, statuses): (Vec<i64>, Vec<i32>) = settled.delivered.iter().copied().unzip();
        let sql = format!(
            "update {table} t set state = 'delivered', last_status = u.status, finished_at = $3,
                                 locked_by = null, locked_until = null, last_error = null
             from unnest($1::bigint[], $2::int[]) as u (id, status)
             where t.id = u.id"
        );
        sqlx::query(&sql)
            .bind(ids)
            .bind(statuses)
            .bind(now)
            .execute(&mut *db)
            .await?;
    }
    if !settled.failed.is_empty() {
        let ids: Vec<i64> = settled.failed.iter().map(|f| f.0).collect();
        let statuses: Vec<Option<i32>> = settled.failed.iter().map(|f| f.1).collect();
        let reasons: Vec<&str> = settled.failed.iter().map(|f| f.2.as_str()).collect();
        let sql = format!(
            "update {table} t set state = 'failed', last_status = u.status, last_error = u.reason,
                                 finished_at = $4, locked_by = null, locked_until = null
             from unnest($1::bigint[], $2::int[], $3::text[]) as u (id, status, reason)
             where t.id = u.id"
        );
        sqlx::query(&sql)
            .bind(ids)
            .bind(statuses)
            .bind(reasons)
            .bind(now)
            .execute(&mut *db)
            .await?;
    }
    if !settled.rescheduled.is_empty() {
        let ids: Vec<i64> = settled.rescheduled.iter().map(|r| r.0).collect();
        let statuses: Vec<Option<i32>> = settled.rescheduled.iter().map(|r| r.1).collect();
        let reasons: Vec<&str> = settled.rescheduled.iter().map(|r| r.2.as_str()).collect();
        let at: Vec<DateTime<Utc>> = settled.rescheduled.iter().map(|r| r.3).collect();
        let sql = format!(
            "update {table} t set last_status = u.status, last_error = u.reason,
                                 next_attempt_at = u.at, locked_by = null, locked_until = null
             from unnest($1::bigint[], $2::int[], $3::text[], $4::timestamptz[])
                  as u (id, status, reason, at)
             where t.id = u.id"
        );
        sqlx::query(&sql)
            .bind(ids)
            .bind(statuses)
            .bind(reasons)
            .bind(at)
            .execute(&mut *db)
            .await?;
    }
    Ok(())
}

/// Takes the advisory lock that marks `worker` as a live process; false if
/// another session holds it.
pub async fn lock_worker_id(db: &mut PgConnection, worker: i32) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select pg_try_advisory_lock($1, $2)")
        .bind(WORKER_LOCK_CLASS)
        .bind(worker)
        .fetch_one(db)
        .await
}

/// Gives up the advisory lock of `worker`.
pub async fn unlock_worker_id(db: &mut PgConnection, worker: i32) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_unlock($1, $2)")
        .bind(WORKER_LOCK_CLASS)
        .bind(worker)
        .execute(db)
        .await
        .map(drop)
}
