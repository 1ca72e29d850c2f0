//! `instance_secrets`: keys the instance makes once (the VAPID key).

use sqlx::PgExecutor;

pub async fn find(db: impl PgExecutor<'_>, name: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("select value from instance_secrets where name = $1")
        .bind(name)
        .fetch_optional(db)
        .await
}

/// Stores `value` unless a value is there already; returns the stored one.
pub async fn insert_or_get(
    db: impl PgExecutor<'_>,
    name: &str,
    value: &[u8],
) -> Result<Vec<u8>, sqlx::Error> {
    sqlx::query_scalar(
        "with inserted as (
             insert into instance_secrets (name, value) values ($1, $2)
             on conflict (name) do nothing
             returning value
         )
         select value from inserted
         union all
         select value from instance_secrets where name = $1
         limit 1",
    )
    .bind(name)
    .bind(value)
    .fetch_one(db)
    .await
}
