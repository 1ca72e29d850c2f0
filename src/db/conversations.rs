//! `conversations`, `conversation_posts` and `account_conversations`:
//! threads of direct posts, and each local participant's view of them
//! (Mastodon's conversations).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::timelines::Page;

/// The conversation a post belongs to, if it is in one.
pub async fn of_post(db: impl PgExecutor<'_>, post_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select conversation_id from conversation_posts where post_id = $1")
        .bind(post_id)
        .fetch_optional(db)
        .await
}

/// Puts a post in the conversation of `parent` (when the parent is in
/// one) or in a new conversation; returns the conversation.
pub async fn add_post(
    conn: &mut PgConnection,
    post_id: i64,
    parent_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let existing = match parent_id {
        Some(parent) => of_post(&mut *conn, parent).await?,
        None => None,
    };
    let conversation_id = match existing {
        Some(id) => id,
        None => {
            sqlx::query_scalar("insert into conversations (created_at) values ($1) returning id")
                .bind(now)
                .fetch_one(&mut *conn)
                .await?
        }
    };
    sqlx::query(
        "insert into conversation_posts (post_id, conversation_id) values ($1, $2)
         on conflict (post_id) do nothing",
    )
    .bind(post_id)
    .bind(conversation_id)
    .execute(&mut *conn)
    .await?;
    Ok(conversation_id)
}

/// Adds a post to a local participant's view of a conversation with these
/// other participants (sorted), creating the view when it is the first.
/// The view is unread unless the participant wrote the post. A participant
/// who blocks or mutes the author (`sender_id`), or blocks its domain, is
/// left out, as Mastodon does not tell them of the mention either.
pub async fn add_for(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    conversation_id: i64,
    participant_ids: &[i64],
    post_id: i64,
    sender_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into account_conversations
             (actor_id, conversation_id, participant_ids, post_ids, last_post_id, unread, updated_at)
         select $1, $2, $3, array[$4::bigint], $4, $1 <> $5, $6
         where $1 = $5
            or (not exists (select 1 from blocks b where b.blocker_id = $1 and b.blocked_id = $5)
                and not exists (select 1 from mutes m where m.actor_id = $1 and m.target_id = $5
                                and (m.expires_at is null or m.expires_at > $6))
                and not exists (select 1 from user_domain_blocks d join actors a on a.domain = d.domain
                                where d.actor_id = $1 and a.id = $5))
         on conflict (actor_id, conversation_id, participant_ids) do update
             set post_ids = case when $4 = any(account_conversations.post_ids)
                                 then account_conversations.post_ids
                                 else account_conversations.post_ids || $4::bigint end,
                 last_post_id = greatest(account_conversations.last_post_id, $4),
                 unread = excluded.unread,
                 updated_at = excluded.updated_at",
    )
    .bind(actor_id)
    .bind(conversation_id)
    .bind(participant_ids)
    .bind(post_id)
    .bind(sender_id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// A local participant's view of a conversation, with the newest of its
/// posts that is not deleted (what it shows as the last status).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountConversation {
    pub id: i64,
    pub actor_id: i64,
    pub participant_ids: Vec<i64>,
    pub last_post_id: i64,
    pub unread: bool,
    pub shown_post_id: Option<i64>,
}

const COLUMNS: &str = "c.id, c.actor_id, c.participant_ids, c.last_post_id, c.unread,
     (select max(p.id) from posts p
      where p.id = any(c.post_ids) and p.deleted_at is null) as shown_post_id";

/// The actor's conversations, the one with the newest post first (paged by
/// that post's id, as Mastodon pages them); those whose posts are all
/// deleted are left out.
pub async fn page(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    page: Page,
) -> Result<Vec<AccountConversation>, sqlx::Error> {
    let order = if page.min_id.is_some() { "asc" } else { "desc" };
    let sql = format!(
        "select {COLUMNS} from account_conversations c
         where c.actor_id = $1
           and ($2::bigint is null or c.last_post_id < $2)
           and ($3::bigint is null or c.last_post_id > $3)
           and exists (select 1 from posts p where p.id = any(c.post_ids) and p.deleted_at is null)
         order by c.last_post_id {order}, c.id {order} limit $4"
    );
    let mut rows: Vec<AccountConversation> = sqlx::query_as(&sql)
        .bind(actor_id)
        .bind(page.max_id)
        .bind(page.min_id.or(page.since_id))
        .bind(page.limit)
        .fetch_all(db)
        .await?;
    if page.min_id.is_some() {
        rows.reverse();
    }
    Ok(rows)
}

pub async fn find(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<Option<AccountConversation>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from account_conversations c where c.actor_id = $1 and c.id = $2"
    );
    sqlx::query_as(&sql)
        .bind(actor_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn mark_read(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("update account_conversations set unread = false where actor_id = $1 and id = $2")
        .bind(actor_id)
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Marks one of the actor's conversations unread again.
pub async fn mark_unread(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query("update account_conversations set unread = true where actor_id = $1 and id = $2")
        .bind(actor_id)
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Removes the actor's view of a conversation (the posts stay).
pub async fn delete(db: impl PgExecutor<'_>, actor_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from account_conversations where actor_id = $1 and id = $2")
        .bind(actor_id)
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// The viewer's conversation holding this post, if any.
pub async fn of_viewer_post(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    post_id: i64,
) -> Result<Option<AccountConversation>, sqlx::Error> {
    let sql = format!(
        "select {COLUMNS} from account_conversations c
         where c.actor_id = $1 and $2 = any(c.post_ids)"
    );
    sqlx::query_as(&sql)
        .bind(actor_id)
        .bind(post_id)
        .fetch_optional(db)
        .await
}
