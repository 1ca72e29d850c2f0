//! Emitting change events with `pg_notify`. Called inside the transaction of
//! the change: PostgreSQL delivers the event when (and only if) it commits.

use sqlx::PgConnection;

use crate::domain::events::{CHANNEL, Change};

pub async fn emit(db: &mut PgConnection, change: &Change) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(change).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    sqlx::query("select pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(db)
        .await
        .map(drop)
}
