//! The `follows` table: who follows whom, and follow requests still pending.

use sqlx::PgExecutor;

use crate::domain::follows::FollowState;

/// One entry of a followers or following listing: the relation's id (the
/// keyset cursor) and the other actor's ActivityPub id.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowEntry {
    pub id: i64,
    pub ap_id: String,
}

/// Which side of the relation a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Actors following the given one.
    Followers,
    /// Actors the given one follows.
    Following,
}

/// How many accepted follows an actor has on one side, as `account_stats`
/// keeps it.
pub async fn count_accepted(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    side: Side,
) -> Result<i64, sqlx::Error> {
    let sql = match side {
        Side::Followers => {
            "select coalesce((select followers from account_stats where actor_id = $1), 0)"
        }
        Side::Following => {
            "select coalesce((select following from account_stats where actor_id = $1), 0)"
        }
    };
    sqlx::query_scalar(sql).bind(actor_id).fetch_one(db).await
}

/// Accepted relations, newest first, with ids below `max_id` when given.
pub async fn page_accepted(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    side: Side,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<FollowEntry>, sqlx::Error> {
    let sql = match side {
        Side::Followers => {
            "select f.id, a.ap_id from follows f join actors a on a.id = f.follower_id
             where f.followee_id = $1 and f.state = 'accepted' and ($2::bigint is null or f.id < $2)
             order by f.id desc limit $3"
        }
        Side::Following => {
            "select f.id, a.ap_id from follows f join actors a on a.id = f.followee_id
             where f.follower_id = $1 and f.state = 'accepted' and ($2::bigint is null or f.id < $2)
             order by f.id desc limit $3"
        }
    };
    sqlx::query_as(sql)
        .bind(actor_id)
        .bind(max_id)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Records an accepted follow (also used by tests to set up relations).
pub async fn insert_accepted(
    db: impl PgExecutor<'_>,
    follower_id: i64,
    followee_id: i64,
    ap_id: Option<&str>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into follows (follower_id, followee_id, ap_id, state)
         values ($1, $2, $3, 'accepted') returning id",
    )
    .bind(follower_id)
    .bind(followee_id)
    .bind(ap_id)
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Follow {
    pub id: i64,
    pub follower_id: i64,
    pub followee_id: i64,
    pub ap_id: Option<String>,
    pub state: FollowState,
}

pub async fn find(
    db: impl PgExecutor<'_>,
    follower_id: i64,
    followee_id: i64,
) -> Result<Option<Follow>, sqlx::Error> {
    sqlx::query_as(
        "select id, follower_id, followee_id, ap_id, state from follows
         where follower_id = $1 and followee_id = $2",
    )
    .bind(follower_id)
    .bind(followee_id)
    .fetch_optional(db)
    .await
}

pub async fn find_by_ap_id(
    db: impl PgExecutor<'_>,
    ap_id: &str,
) -> Result<Option<Follow>, sqlx::Error> {
    sqlx::query_as(
        "select id, follower_id, followee_id, ap_id, state from follows where ap_id = $1",
    )
    .bind(ap_id)
    .fetch_optional(db)
    .await
}

/// Creates or updates the relation; returns it.
pub async fn upsert(
    db: impl PgExecutor<'_>,
    follower_id: i64,
    followee_id: i64,
    ap_id: Option<&str>,
    state: FollowState,
) -> Result<Follow, sqlx::Error> {
    sqlx::query_as(
        "insert into follows (follower_id, followee_id, ap_id, state)
         values ($1, $2, $3, $4)
         on conflict (follower_id, followee_id) do update
             set ap_id = coalesce(excluded.ap_id, follows.ap_id),
                 state = case when follows.state = 'accepted' then 'accepted' else excluded.state end,
                 updated_at = now()
         returning id, follower_id, followee_id, ap_id, state",
    )
    .bind(follower_id)
    .bind(followee_id)
    .bind(ap_id)
    .bind(state)
    .fetch_one(db)
    .await
}

pub async fn set_accepted(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("update follows set state = 'accepted', updated_at = now() where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

pub async fn delete(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from follows where id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Removes the relations between two actors in both directions.
pub async fn delete_between(db: impl PgExecutor<'_>, a: i64, b: i64) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "delete from follows
         where (follower_id = $1 and followee_id = $2) or (follower_id = $2 and followee_id = $1)",
    )
    .bind(a)
    .bind(b)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// Inboxes of remote accepted followers, one per server (shared inbox when
/// the server has one).
pub async fn follower_inboxes(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct coalesce(a.shared_inbox_url, a.inbox_url)
         from follows f join actors a on a.id = f.follower_id
         where f.followee_id = $1 and f.state = 'accepted' and a.domain is not null",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// Inboxes of every remote actor related to this one by a follow in either
/// direction, pending or accepted: the servers that know the account.
pub async fn related_inboxes(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct coalesce(a.shared_inbox_url, a.inbox_url)
         from follows f
         join actors a on a.id = case when f.follower_id = $1 then f.followee_id else f.follower_id end
         where (f.follower_id = $1 or f.followee_id = $1) and a.domain is not null",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// Removes every relation between this actor and remote actors.
pub async fn delete_remote_relations(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "delete from follows f using actors a
         where a.id = case when f.follower_id = $1 then f.followee_id else f.follower_id end
           and (f.follower_id = $1 or f.followee_id = $1) and a.domain is not null",
    )
    .bind(actor_id)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// Pending follow requests to a local actor: the requesters' ids, oldest
/// first.
pub async fn pending_requests(
    db: impl PgExecutor<'_>,
    followee_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select follower_id from follows where followee_id = $1 and state = 'pending' order by id",
    )
    .bind(followee_id)
    .fetch_all(db)
    .await
}

/// Whether any local account follows this actor.
pub async fn has_local_follower(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from follows f join actors a on a.id = f.follower_id
                        where f.followee_id = $1 and f.state = 'accepted' and a.domain is null)",
    )
    .bind(actor_id)
    .fetch_one(db)
    .await
}

/// An actor's local followers, as a remote post's arrival needs them.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct LocalFollowers {
    /// It has at least one.
    pub any: bool,
    /// Those who asked to be notified of its posts.
    pub notified: Vec<i64>,
}

/// Whether an actor has local followers, and which of them asked to be
/// notified of its posts, in one statement.
pub async fn local_followers(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<LocalFollowers, sqlx::Error> {
    sqlx::query_as(
        "select exists (select 1 from follows f join actors a on a.id = f.follower_id
                        where f.followee_id = $1 and f.state = 'accepted'
                          and a.domain is null) as any,
                array(select f.follower_id from follows f join actors a on a.id = f.follower_id
                      where f.followee_id = $1 and f.state = 'accepted' and f.notify
                        and a.domain is null) as notified",
    )
    .bind(actor_id)
    .fetch_one(db)
    .await
}

/// Every relation, pending or accepted and in either direction, between
/// this actor and actors on `domain`.
pub async fn with_domain(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    domain: &str,
) -> Result<Vec<Follow>, sqlx::Error> {
    sqlx::query_as(
        "select f.id, f.follower_id, f.followee_id, f.ap_id, f.state
         from follows f
         join actors a on a.id = case when f.follower_id = $1 then f.followee_id else f.follower_id end
         where (f.follower_id = $1 or f.followee_id = $1) and a.domain = $2
         order by f.id",
    )
    .bind(actor_id)
    .bind(domain)
    .fetch_all(db)
    .await
}

/// Local accounts that follow `actor_id` (accepted follows): the home
/// timelines its posts enter.
pub async fn local_follower_ids(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select f.follower_id from follows f join actors a on a.id = f.follower_id
         where f.followee_id = $1 and f.state = 'accepted' and a.domain is null",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// The follows of this actor by local accounts, pending or accepted: the
/// relations a Move carries over.
pub async fn by_local_followers(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<Follow>, sqlx::Error> {
    sqlx::query_as(
        "select f.id, f.follower_id, f.followee_id, f.ap_id, f.state
         from follows f join actors a on a.id = f.follower_id
         where f.followee_id = $1 and f.state = 'accepted' and a.domain is null
         order by f.id",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// The accounts an actor follows or asked to follow, oldest first:
/// what an export lists and an overwrite compares.
pub async fn followees(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<crate::db::actors::Actor>, sqlx::Error> {
    sqlx::query_as(
        "select a.* from follows f join actors a on a.id = f.followee_id
         where f.follower_id = $1 order by f.id",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// Every relation of an actor, pending or accepted, in either direction.
pub async fn involving(db: impl PgExecutor<'_>, actor_id: i64) -> Result<Vec<Follow>, sqlx::Error> {
    sqlx::query_as(
        "select id, follower_id, followee_id, ap_id, state from follows
         where follower_id = $1 or followee_id = $1
         order by id",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// What a follower asked of a follow.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FollowOptions {
    pub show_reblogs: bool,
    pub notify: bool,
    pub languages: Option<Vec<String>>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            show_reblogs: true,
            notify: false,
            languages: None,
        }
    }
}

/// Sets the options of a follow (or request); false when there is none.
pub async fn set_options(
    db: impl PgExecutor<'_>,
    follower_id: i64,
    followee_id: i64,
    options: &FollowOptions,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "update follows set show_reblogs = $3, notify = $4, languages = $5
         where follower_id = $1 and followee_id = $2",
    )
    .bind(follower_id)
    .bind(followee_id)
    .bind(options.show_reblogs)
    .bind(options.notify)
    .bind(&options.languages)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

pub async fn options(
    db: impl PgExecutor<'_>,
    follower_id: i64,
    followee_id: i64,
) -> Result<Option<FollowOptions>, sqlx::Error> {
    sqlx::query_as(
        "select show_reblogs, notify, languages from follows
         where follower_id = $1 and followee_id = $2",
    )
    .bind(follower_id)
    .bind(followee_id)
    .fetch_optional(db)
    .await
}

/// Local accounts that asked to be notified of `actor_id`'s new posts.
pub async fn notified_followers(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select f.follower_id from follows f join actors a on a.id = f.follower_id
         where f.followee_id = $1 and f.state = 'accepted' and f.notify and a.domain is null",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// An account followed, with the follow's options: a following export's row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Followee {
    #[sqlx(flatten)]
    pub actor: crate::db::actors::Actor,
    #[sqlx(flatten)]
    pub options: FollowOptions,
}

/// The accounts an actor follows or asked to follow, with the options of
/// each follow, oldest first.
pub async fn followees_with_options(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<Followee>, sqlx::Error> {
    sqlx::query_as(
        "select a.*, f.show_reblogs, f.notify, f.languages
         from follows f join actors a on a.id = f.followee_id
         where f.follower_id = $1 order by f.id",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// For each of `ids`: the accounts `viewer` follows that follow it
/// (Mastodon's familiar followers), as (account, follower) pairs, oldest
/// follow first. Suspended and gone followers are left out.
pub async fn familiar_followers(
    db: impl PgExecutor<'_>,
    viewer: i64,
    ids: &[i64],
) -> Result<Vec<(i64, crate::db::actors::Actor)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        target: i64,
        #[sqlx(flatten)]
        actor: crate::db::actors::Actor,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select f.followee_id as target, a.*
         from follows f
         join follows mine on mine.follower_id = $1 and mine.followee_id = f.follower_id
                          and mine.state = 'accepted'
         join actors a on a.id = f.follower_id
         where f.followee_id = any($2) and f.state = 'accepted'
           and a.suspended_at is null and a.gone_at is null
         order by f.followee_id, f.id",
    )
    .bind(viewer)
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.target, r.actor)).collect())
}
