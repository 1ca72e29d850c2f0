//! Outgoing activities, stored once each (`outbound_activities`), and the
//! fan-out jobs (`fanouts`) that turn one into delivery rows in batches.
//! A job row is locked (`for update skip locked`) by the transaction that
//! expands a batch of it, so any number of processes share the jobs and a
//! crashed process's batch is simply expanded again by another.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::domain::events::{CHANNEL, Change, QUEUED};

/// Stores an activity; returns its row id and whether one of the sender's
/// fan-out jobs is still waiting (then a new activity must wait its turn).
pub async fn store(
    db: &mut PgConnection,
    activity_id: &str,
    sender_id: i64,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<(i64, bool), sqlx::Error> {
    sqlx::query_as(
        "with stored as (
             insert into outbound_activities (activity_id, sender_id, payload, created_at)
             values ($1, $2, $3, $4)
             returning id
         )
         select id, exists (select 1 from fanouts where sender_id = $2) from stored",
    )
    .bind(activity_id)
    .bind(sender_id)
    .bind(payload)
    .bind(now)
    .fetch_one(db)
    .await
}

/// The bodies of stored activities, by row id.
pub async fn payloads(
    db: impl PgExecutor<'_>,
    ids: &[i64],
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as("select id, payload from outbound_activities where id = any($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// A fan-out job: where one stored activity still has to be queued.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Fanout {
    pub id: i64,
    pub outbound_id: i64,
    pub sender_id: i64,
    /// The stored activity's id (`outbound_activities.activity_id`).
    pub activity_id: String,
    pub inboxes: Vec<String>,
    pub named_done: bool,
    pub followers: bool,
    pub follows_before: Option<i64>,
    pub created_at: DateTime<Utc>,
}

/// Inserts a job (as it stands after any inline expansion) and announces
/// it, so idle workers of every process look for it once it commits.
pub async fn insert_fanout(db: &mut PgConnection, job: &Fanout) -> Result<i64, sqlx::Error> {
    let id = sqlx::query_scalar(
        "insert into fanouts (outbound_id, sender_id, inboxes, named_done, followers,
                              follows_before, created_at)
         values ($1, $2, $3, $4, $5, $6, $7)
         returning id",
    )
    .bind(job.outbound_id)
    .bind(job.sender_id)
    .bind(&job.inboxes)
    .bind(job.named_done)
    .bind(job.followers)
    .bind(job.follows_before)
    .bind(job.created_at)
    .fetch_one(&mut *db)
    .await?;
    announce_queued(db).await?;
    Ok(id)
}

/// Locks the oldest job whose sender has no older job, skipping jobs other
/// transactions hold; the lock lasts until the caller's transaction ends.
pub async fn lock_next_fanout(db: &mut PgConnection) -> Result<Option<Fanout>, sqlx::Error> {
    sqlx::query_as(
        "select f.*, o.activity_id
         from fanouts f join outbound_activities o on o.id = f.outbound_id
         where not exists (select 1 from fanouts e where e.sender_id = f.sender_id and e.id < f.id)
         order by f.id
         limit 1
         for update of f skip locked",
    )
    .fetch_optional(db)
    .await
}

/// Saves how far a job got.
pub async fn save_fanout(db: impl PgExecutor<'_>, job: &Fanout) -> Result<(), sqlx::Error> {
    sqlx::query("update fanouts set named_done = $2, follows_before = $3 where id = $1")
        .bind(job.id)
        .bind(job.named_done)
        .bind(job.follows_before)
        .execute(db)
        .await
        .map(drop)
}

pub async fn delete_fanout(db: impl PgExecutor<'_>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("delete from fanouts where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(drop)
}

/// How many jobs wait (all senders).
pub async fn waiting_fanouts(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from fanouts")
        .fetch_one(db)
        .await
}

/// One batch of an account's remote followers' inboxes (the shared inbox
/// where they have one), newest follow first, before the follow
/// `before`; with the last follow's id, the cursor of the next batch.
pub async fn follower_inboxes_page(
    db: impl PgExecutor<'_>,
    followee_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "select f.id, coalesce(a.shared_inbox_url, a.inbox_url)
         from follows f join actors a on a.id = f.follower_id
         where f.followee_id = $1 and f.state = 'accepted' and a.domain is not null
           and ($2::bigint is null or f.id < $2)
         order by f.id desc
         limit $3",
    )
    .bind(followee_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Announces `Change::Queued` (deferred when the caller defers).
async fn announce_queued(db: &mut PgConnection) -> Result<(), sqlx::Error> {
    if !events::defer(Change::Queued) {
        sqlx::query("select pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(QUEUED)
            .execute(db)
            .await?;
    }
    Ok(())
}
