//! `host_signature_modes`: which HTTP signature scheme each server takes
//! from us (RFC 9421 or draft-cavage), as deliveries learnt it.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::domain::signature_mode::SignatureMode;

/// The remembered modes among `hosts`; a cavage mode learnt before
/// `cavage_since` is left out, so that the host is tried with RFC 9421
/// again (servers add support).
pub async fn modes_among(
    db: impl PgExecutor<'_>,
    hosts: &[String],
    cavage_since: DateTime<Utc>,
) -> Result<Vec<(String, SignatureMode)>, sqlx::Error> {
    sqlx::query_as(
        "select host, mode from host_signature_modes
         where host = any($1) and (mode <> 'cavage' or updated_at >= $2)",
    )
    .bind(hosts)
    .bind(cavage_since)
    .fetch_all(db)
    .await
}

/// Remembers how each of `modes`' hosts takes our signatures, in one
/// statement (a host named twice keeps one of its modes).
pub async fn remember_all(
    db: impl PgExecutor<'_>,
    modes: &[(String, SignatureMode)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (hosts, modes): (Vec<&str>, Vec<&str>) = modes
        .iter()
        .map(|(host, mode)| (host.as_str(), mode.as_str()))
        .unzip();
    sqlx::query(
        "insert into host_signature_modes (host, mode, updated_at)
         select distinct on (host) host, mode, $3
         from unnest($1::text[], $2::text[]) as m (host, mode)
         on conflict (host) do update set mode = excluded.mode, updated_at = excluded.updated_at",
    )
    .bind(&hosts)
    .bind(&modes)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}
