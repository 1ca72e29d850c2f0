//! `announcements`, with who dismissed them (`announcement_dismissals`)
//! and the emoji reactions to them (`announcement_reactions`). Publishing,
//! editing a published one, withdrawing one and reacting are announced to
//! the streams (`db::events`) in the transaction of the change.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::domain::events::Change;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Announcement {
    pub id: i64,
    pub text: String,
    pub published: bool,
    pub published_at: Option<DateTime<Utc>>,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub all_day: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What an admin writes.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    pub text: &'a str,
    pub scheduled_at: Option<DateTime<Utc>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub all_day: bool,
}

/// One reaction's count on an announcement, and whether the viewer gave it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReactionCount {
    pub announcement_id: i64,
    pub name: String,
    pub count: i64,
    pub me: bool,
}

pub async fn insert(
    db: &mut PgConnection,
    fields: &Fields<'_>,
    published: bool,
    now: DateTime<Utc>,
) -> Result<Announcement, sqlx::Error> {
    let row: Announcement = sqlx::query_as(
        "insert into announcements (text, published, published_at, scheduled_at, starts_at,
                                    ends_at, all_day, created_at, updated_at)
         values ($1, $2, case when $2 then $7 end, $3, $4, $5, $6, $7, $7)
         returning *",
    )
    .bind(fields.text)
    .bind(published)
    .bind(fields.scheduled_at)
    .bind(fields.starts_at)
    .bind(fields.ends_at)
    .bind(fields.all_day)
    .bind(now)
    .fetch_one(&mut *db)
    .await?;
    if row.published {
        events::emit(
            db,
            &Change::Announced {
                announcement: row.id,
            },
        )
        .await?;
    }
    Ok(row)
}

pub async fn update(
    db: &mut PgConnection,
    id: i64,
    fields: &Fields<'_>,
    now: DateTime<Utc>,
) -> Result<Option<Announcement>, sqlx::Error> {
    let row: Option<Announcement> = sqlx::query_as(
        "update announcements
         set text = $2, scheduled_at = $3, starts_at = $4, ends_at = $5, all_day = $6,
             updated_at = $7
         where id = $1 returning *",
    )
    .bind(id)
    .bind(fields.text)
    .bind(fields.scheduled_at)
    .bind(fields.starts_at)
    .bind(fields.ends_at)
    .bind(fields.all_day)
    .bind(now)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(a) = row.as_ref().filter(|a| a.published) {
        events::emit(db, &Change::Announced { announcement: a.id }).await?;
    }
    Ok(row)
}

/// Publishes or unpublishes one; None if there is none. Publishing sets
/// the publication time (and drops a schedule that is now moot).
pub async fn set_published(
    db: &mut PgConnection,
    id: i64,
    published: bool,
    now: DateTime<Utc>,
) -> Result<Option<Announcement>, sqlx::Error> {
    let row: Option<Announcement> = sqlx::query_as(
        "update announcements
         set published = $2,
             published_at = case when $2 then $3 else published_at end,
             scheduled_at = case when $2 then null else scheduled_at end,
             updated_at = $3
         where id = $1 returning *",
    )
    .bind(id)
    .bind(published)
    .bind(now)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(a) = &row {
        let change = if published {
            Change::Announced { announcement: a.id }
        } else {
            Change::AnnouncementWithdrawn { announcement: a.id }
        };
        events::emit(db, &change).await?;
    }
    Ok(row)
}

pub async fn delete(db: &mut PgConnection, id: i64) -> Result<bool, sqlx::Error> {
    let was_published: Option<bool> =
        sqlx::query_scalar("delete from announcements where id = $1 returning published")
            .bind(id)
            .fetch_optional(&mut *db)
            .await?;
    if was_published == Some(true) {
        events::emit(db, &Change::AnnouncementWithdrawn { announcement: id }).await?;
    }
    Ok(was_published.is_some())
}

pub async fn find(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Announcement>, sqlx::Error> {
    sqlx::query_as("select * from announcements where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Every announcement, newest first (the admin area).
pub async fn all(db: impl PgExecutor<'_>) -> Result<Vec<Announcement>, sqlx::Error> {
    sqlx::query_as("select * from announcements order by id desc")
        .fetch_all(db)
        .await
}

/// The published announcements in Mastodon's chronological order (by the
/// time they are about, else when they were published), leaving out those
/// `account_id` dismissed unless `with_dismissed`.
pub async fn published(
    db: impl PgExecutor<'_>,
    account_id: i64,
    with_dismissed: bool,
) -> Result<Vec<(Announcement, bool)>, sqlx::Error> {
    let rows: Vec<AnnouncementRead> = sqlx::query_as(
        "select a.*, (d.account_id is not null) as read
         from announcements a
         left join announcement_dismissals d
           on d.announcement_id = a.id and d.account_id = $1
         where a.published and ($2 or d.account_id is null)
         order by coalesce(a.starts_at, a.scheduled_at, a.published_at, a.created_at), a.id",
    )
    .bind(account_id)
    .bind(with_dismissed)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.announcement, r.read)).collect())
}

#[derive(sqlx::FromRow)]
struct AnnouncementRead {
    #[sqlx(flatten)]
    announcement: Announcement,
    read: bool,
}

/// Whether `account_id` dismissed the announcement.
pub async fn dismissed(
    db: impl PgExecutor<'_>,
    id: i64,
    account_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from announcement_dismissals
                        where announcement_id = $1 and account_id = $2)",
    )
    .bind(id)
    .bind(account_id)
    .fetch_one(db)
    .await
}

pub async fn dismiss(
    db: impl PgExecutor<'_>,
    id: i64,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into announcement_dismissals (announcement_id, account_id, created_at)
         values ($1, $2, $3) on conflict do nothing",
    )
    .bind(id)
    .bind(account_id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// Adds a reaction; false if the account had already given it.
pub async fn react(
    db: &mut PgConnection,
    id: i64,
    account_id: i64,
    name: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let added = sqlx::query(
        "insert into announcement_reactions (announcement_id, account_id, name, created_at)
         values ($1, $2, $3, $4) on conflict do nothing",
    )
    .bind(id)
    .bind(account_id)
    .bind(name)
    .bind(now)
    .execute(&mut *db)
    .await?
    .rows_affected()
        == 1;
    if added {
        reacted(db, id, name).await?;
    }
    Ok(added)
}

async fn reacted(db: &mut PgConnection, id: i64, name: &str) -> Result<(), sqlx::Error> {
    let change = Change::AnnouncementReacted {
        announcement: id,
        name: name.to_string(),
    };
    events::emit(db, &change).await
}

/// Removes a reaction; false if the account had not given it.
pub async fn unreact(
    db: &mut PgConnection,
    id: i64,
    account_id: i64,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query(
        "delete from announcement_reactions
         where announcement_id = $1 and account_id = $2 and name = $3",
    )
    .bind(id)
    .bind(account_id)
    .bind(name)
    .execute(&mut *db)
    .await?
    .rows_affected()
        == 1;
    if removed {
        reacted(db, id, name).await?;
    }
    Ok(removed)
}

/// How many accounts gave reaction `name` to an announcement.
pub async fn reaction_count(
    db: impl PgExecutor<'_>,
    id: i64,
    name: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from announcement_reactions where announcement_id = $1 and name = $2",
    )
    .bind(id)
    .bind(name)
    .fetch_one(db)
    .await
}

/// Reactions to these announcements by name, in the order each name was
/// first given, with whether `viewer` gave it.
pub async fn reactions(
    db: impl PgExecutor<'_>,
    ids: &[i64],
    viewer: i64,
) -> Result<Vec<ReactionCount>, sqlx::Error> {
    sqlx::query_as(
        "select announcement_id, name, count(*) as count, bool_or(account_id = $2) as me
         from announcement_reactions where announcement_id = any($1)
         group by announcement_id, name
         order by announcement_id, min(created_at), name",
    )
    .bind(ids)
    .bind(viewer)
    .fetch_all(db)
    .await
}

/// Unpublished announcements whose time to be published has come.
pub async fn due_to_publish(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select id from announcements
         where not published and scheduled_at is not null and scheduled_at <= $1
           and (ends_at is null or ends_at > $1)
         order by scheduled_at",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

/// Published announcements whose end has passed.
pub async fn due_to_unpublish(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select id from announcements where published and ends_at is not null and ends_at <= $1",
    )
    .bind(now)
    .fetch_all(db)
    .await
}
