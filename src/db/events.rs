//! Emitting change events with `pg_notify`. Called inside the transaction of
//! the change: PostgreSQL delivers the event when (and only if) it commits.
//!
//! A transaction that called NOTIFY commits holding PostgreSQL's one global
//! notification lock, WAL flush included, so such commits cannot share a
//! flush (group commit) and run one at a time. Hot paths (the inbox) run
//! their transaction inside [`deferred`]: the changes it announces are
//! collected instead, and [`announce`]d right after the commit, from a
//! statement that writes nothing and so flushes nothing. A change is then
//! lost if the process dies between the two, which live updates tolerate
//! (clients catch up through the REST timelines; idle workers also look for
//! due work on their own timer).

use std::cell::RefCell;

use sqlx::{PgConnection, PgExecutor};

use crate::domain::events::{CHANNEL, Change};

tokio::task_local! {
    /// The changes of a transaction run in [`deferred`], not announced yet.
    static PENDING: RefCell<Vec<Change>>;
}

/// Whether the changes of the running task are collected for after its
/// commit (see the module).
pub fn deferring() -> bool {
    PENDING.try_with(|_| ()).is_ok()
}

/// Collects `change` when deferring; false otherwise.
pub fn defer(change: Change) -> bool {
    PENDING
        .try_with(|pending| pending.borrow_mut().push(change.clone()))
        .is_ok()
}

/// Runs `work` with its announcements collected; returns them with its
/// result, for the caller to [`announce`] once its transaction committed.
pub async fn deferred<T>(work: impl Future<Output = T>) -> (T, Vec<Change>) {
    PENDING
        .scope(RefCell::new(Vec::new()), async {
            let result = work.await;
            let changes = PENDING.with(|pending| pending.take());
            (result, changes)
        })
        .await
}

/// Announces changes whose transaction committed, in one statement.
pub async fn announce(db: impl PgExecutor<'_>, changes: &[Change]) -> Result<(), sqlx::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let payloads = changes
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<String>, _>>()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("select pg_notify($1, payload) from unnest($2::text[]) as payload")
        .bind(CHANNEL)
        .bind(payloads)
        .execute(db)
        .await
        .map(drop)
}

pub async fn emit(db: &mut PgConnection, change: &Change) -> Result<(), sqlx::Error> {
    if defer(change.clone()) {
        return Ok(());
    }
    let payload = serde_json::to_string(change).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("select pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(db)
        .await
        .map(drop)
}
