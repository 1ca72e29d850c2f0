//! `markers`: where a user stopped reading its home timeline and its
//! notifications, shared between its apps.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Marker {
    pub timeline: String,
    pub last_read_id: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// The user's markers of these timelines (those it has).
pub async fn find(
    db: impl PgExecutor<'_>,
    user_id: i64,
    timelines: &[String],
) -> Result<Vec<Marker>, sqlx::Error> {
    sqlx::query_as(
        "select timeline, last_read_id, version, updated_at from markers
         where user_id = $1 and timeline = any($2) order by timeline",
    )
    .bind(user_id)
    .bind(timelines)
    .fetch_all(db)
    .await
}

/// Sets a marker. A new marker has version 0; each change of its position
/// adds one (Mastodon's optimistic lock version); setting the same
/// position again changes nothing.
pub async fn set(
    conn: &mut PgConnection,
    user_id: i64,
    timeline: &str,
    last_read_id: &str,
    now: DateTime<Utc>,
) -> Result<Marker, sqlx::Error> {
    let changed: Option<Marker> = sqlx::query_as(
        "insert into markers (user_id, timeline, last_read_id, version, updated_at)
         values ($1, $2, $3, 0, $4)
         on conflict (user_id, timeline) do update
             set last_read_id = excluded.last_read_id,
                 version = markers.version + 1,
                 updated_at = excluded.updated_at
             where markers.last_read_id <> excluded.last_read_id
         returning timeline, last_read_id, version, updated_at",
    )
    .bind(user_id)
    .bind(timeline)
    .bind(last_read_id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    match changed {
        Some(marker) => Ok(marker),
        None => {
            sqlx::query_as(
                "select timeline, last_read_id, version, updated_at from markers
                 where user_id = $1 and timeline = $2",
            )
            .bind(user_id)
            .bind(timeline)
            .fetch_one(&mut *conn)
            .await
        }
    }
}
