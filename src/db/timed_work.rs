//! `timed_work`: one row per kind of timed work, claimed by one worker
//! process per run (see `jobs::timed`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::queue::WORKER_LOCK_CLASS;

/// Makes sure a row exists for `name`, first due at `first_run_at`.
pub async fn ensure(
    db: impl PgExecutor<'_>,
    name: &str,
    first_run_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into timed_work (name, next_run_at) values ($1, $2)
         on conflict (name) do nothing",
    )
    .bind(name)
    .bind(first_run_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Claims the run of `name` for `worker` if it is due and nobody holds it:
/// unclaimed, or claimed by a process whose worker lock is gone, or by one
/// whose claim ran out (`locked_until`). Concurrent claims wait on the row
/// and see the winner's claim: one of them gets it.
pub async fn claim(
    db: impl PgExecutor<'_>,
    name: &str,
    worker: i32,
    now: DateTime<Utc>,
    locked_until: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let claimed: Option<String> = sqlx::query_scalar(
        "with live as (
             select array_agg(objid::bigint) as ids from pg_locks
             where locktype = 'advisory' and classid = $5::bigint::oid and objsubid = 2 and granted
               and database = (select oid from pg_database where datname = current_database())
         )
         update timed_work t set locked_by = $2, locked_until = $4
         from live
         where t.name = $1 and t.next_run_at <= $3
           and (t.locked_by is null
                or t.locked_until < $3
                or not (t.locked_by::bigint = any(coalesce(live.ids, '{}'))))
         returning t.name",
    )
    .bind(name)
    .bind(worker)
    .bind(now)
    .bind(locked_until)
    .bind(WORKER_LOCK_CLASS)
    .fetch_optional(db)
    .await?;
    Ok(claimed.is_some())
}

/// Ends `worker`'s run of `name`: the next one is due at `next_run_at`.
/// False if the claim was taken over meanwhile.
pub async fn finish(
    db: impl PgExecutor<'_>,
    name: &str,
    worker: i32,
    now: DateTime<Utc>,
    next_run_at: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "update timed_work
         set locked_by = null, locked_until = null, last_run_at = $3,
             next_run_at = $4, runs = runs + 1
         where name = $1 and locked_by = $2",
    )
    .bind(name)
    .bind(worker)
    .bind(now)
    .bind(next_run_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives up `worker`'s claim of `name` without counting a run (the run
/// failed or the process is stopping): it is due again at once.
pub async fn release(db: impl PgExecutor<'_>, name: &str, worker: i32) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update timed_work set locked_by = null, locked_until = null
         where name = $1 and locked_by = $2",
    )
    .bind(name)
    .bind(worker)
    .execute(db)
    .await?;
    Ok(())
}
