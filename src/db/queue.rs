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

pub async fn mark_delivered(
    db: impl PgExecutor<'_>,
    queue: Queue,
    id: i64,
    status: i32,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "update {} set state = 'delivered', last_status = $2, finished_at = $3,
                       locked_by = null, locked_until = null, last_error = null
         where id = $1",
        queue.table()
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(status)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

pub async fn mark_failed(
    db: impl PgExecutor<'_>,
    queue: Queue,
    id: i64,
    status: Option<i32>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "update {} set state = 'failed', last_status = $2, last_error = $3,
                       finished_at = $4, locked_by = null, locked_until = null
         where id = $1",
        queue.table()
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(status)
        .bind(reason)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

/// Releases a claimed row to be tried again at `next_attempt_at`.
pub async fn reschedule(
    db: impl PgExecutor<'_>,
    queue: Queue,
    id: i64,
    status: Option<i32>,
    reason: &str,
    next_attempt_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "update {} set last_status = $2, last_error = $3, next_attempt_at = $4,
                       locked_by = null, locked_until = null
         where id = $1",
        queue.table()
    );
    sqlx::query(&sql)
        .bind(id)
        .bind(status)
        .bind(reason)
        .bind(next_attempt_at)
        .execute(db)
        .await
        .map(drop)
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
