//! Background work: the delivery and Web Push worker pools, and timed
//! housekeeping. Workers claim rows from PostgreSQL, so any number of
//! processes can share one queue.

pub mod cards;
pub mod cleanup;
pub mod delivery;
pub mod imports;
pub mod mail;
pub mod media;
pub mod outcome;
pub mod pool;
pub mod push;
pub mod remote_media;
pub mod reply_fetches;
pub mod timed;

use rand::Rng;
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

use crate::db;

/// This process's worker id, held as a PostgreSQL advisory lock on a
/// connection of its own for as long as the process lives. When the process
/// dies, PostgreSQL drops the lock with the connection, and other processes
/// take over its claimed deliveries at once.
pub struct WorkerLock {
    pub id: i32,
    connection: PgConnection,
}

impl WorkerLock {
    pub async fn acquire(pool: &PgPool) -> anyhow::Result<WorkerLock> {
        let options: PgConnectOptions = pool.connect_options().as_ref().clone();
        let mut connection = options.connect().await?;
        loop {
            let id = rand::thread_rng().gen_range(1..i32::MAX);
            if db::queue::lock_worker_id(&mut connection, id).await? {
                return Ok(WorkerLock { id, connection });
            }
        }
    }

    /// Gives up the lock (its claims become free at once) and the connection.
    pub async fn release(mut self) {
        let _ = db::queue::unlock_worker_id(&mut self.connection, self.id).await;
        let _ = self.connection.close().await;
    }
}
