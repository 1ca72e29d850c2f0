//! The `polls` and `poll_votes` tables.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use sqlx::types::Json;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PollOption {
    pub title: String,
    pub votes: i32,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Poll {
    pub post_id: i64,
    pub multiple: bool,
    pub options: Json<Vec<PollOption>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub voters_count: i32,
}

impl Poll {
    pub fn is_closed(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    post_id: i64,
    multiple: bool,
    options: &[PollOption],
    expires_at: Option<DateTime<Utc>>,
    voters_count: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into polls (post_id, multiple, options, expires_at, voters_count)
         values ($1, $2, $3, $4, $5) on conflict (post_id) do nothing",
    )
    .bind(post_id)
    .bind(multiple)
    .bind(Json(options))
    .bind(expires_at)
    .bind(voters_count)
    .execute(db)
    .await
    .map(drop)
}

pub async fn find(db: impl PgExecutor<'_>, post_id: i64) -> Result<Option<Poll>, sqlx::Error> {
    sqlx::query_as("select * from polls where post_id = $1")
        .bind(post_id)
        .fetch_optional(db)
        .await
}

/// Replaces the counts of a remote poll with what its server reports.
pub async fn set_counts(
    db: impl PgExecutor<'_>,
    post_id: i64,
    options: &[PollOption],
    voters_count: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query("update polls set options = $2, voters_count = $3 where post_id = $1")
        .bind(post_id)
        .bind(Json(options))
        .bind(voters_count)
        .execute(db)
        .await
        .map(drop)
}

/// Choices this actor made in a poll.
pub async fn choices_of(
    db: impl PgExecutor<'_>,
    post_id: i64,
    actor_id: i64,
) -> Result<Vec<i32>, sqlx::Error> {
    sqlx::query_scalar(
        "select choice from poll_votes where post_id = $1 and actor_id = $2 order by choice",
    )
    .bind(post_id)
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// Records one choice and counts it (and the voter, on its first choice);
/// false when this choice was recorded already.
pub async fn vote(
    db: &mut sqlx::PgConnection,
    post_id: i64,
    actor_id: i64,
    choice: i32,
    ap_id: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let first: bool = sqlx::query_scalar(
        "select not exists (select 1 from poll_votes where post_id = $1 and actor_id = $2)",
    )
    .bind(post_id)
    .bind(actor_id)
    .fetch_one(&mut *db)
    .await?;
    let inserted = sqlx::query(
        "insert into poll_votes (post_id, actor_id, choice, ap_id) values ($1, $2, $3, $4)
         on conflict do nothing",
    )
    .bind(post_id)
    .bind(actor_id)
    .bind(choice)
    .bind(ap_id)
    .execute(&mut *db)
    .await?
    .rows_affected()
        == 1;
    if inserted {
        sqlx::query(
            "update polls
             set options = jsonb_set(options, array[$2::text, 'votes'],
                                     to_jsonb(coalesce((options -> $2::int ->> 'votes')::int, 0) + 1)),
                 voters_count = voters_count + $3::int
             where post_id = $1",
        )
        .bind(post_id)
        .bind(choice)
        .bind(i32::from(first))
        .execute(&mut *db)
        .await?;
    }
    Ok(inserted)
}

/// Locks a poll's row for the rest of the transaction, so that one voter's
/// concurrent votes are counted one after the other.
pub async fn lock(db: impl PgExecutor<'_>, post_id: i64) -> Result<Option<Poll>, sqlx::Error> {
    sqlx::query_as("select * from polls where post_id = $1 for update")
        .bind(post_id)
        .fetch_optional(db)
        .await
}

/// Inboxes of remote accounts that voted in a poll (one per server).
pub async fn voter_inboxes(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct coalesce(a.shared_inbox_url, a.inbox_url)
         from poll_votes v join actors a on a.id = v.actor_id
         where v.post_id = $1 and a.domain is not null",
    )
    .bind(post_id)
    .fetch_all(db)
    .await
}

/// A poll that ended, and the local accounts to tell: its voters and its
/// author.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Ended {
    pub post_id: i64,
    pub author_id: i64,
    pub recipients: Vec<i64>,
}

/// Marks up to `limit` polls that ended by `now` as told, and returns them
/// (polls of deleted posts are marked with nobody to tell). Rows another
/// transaction is marking are skipped, so concurrent callers tell each
/// poll's end once.
pub async fn take_ended(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Ended>, sqlx::Error> {
    sqlx::query_as(
        "with ended as (
             select post_id from polls
             where end_noticed_at is null and expires_at <= $1
             order by expires_at
             limit $2
             for update skip locked
         ),
         marked as (
             update polls p set end_noticed_at = $1
             from ended where p.post_id = ended.post_id
             returning p.post_id
         )
         select m.post_id, s.author_id,
                array(select v.actor_id from poll_votes v join actors a on a.id = v.actor_id
                      where v.post_id = m.post_id and a.domain is null and s.deleted_at is null
                      union
                      select a.id from actors a
                      where a.id = s.author_id and a.domain is null and s.deleted_at is null
                ) as recipients
         from marked m join posts s on s.id = m.post_id",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}
