//! The `posts` table: local and remote posts.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::db::events;
use crate::domain::events::Change;
use crate::domain::interaction::{InteractionPolicy, ReplyPolicy};
use crate::domain::visibility::{QuotePolicy, QuoteState, Visibility};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Post {
    pub id: i64,
    pub ap_id: String,
    pub author_id: i64,
    pub url: Option<String>,
    pub content: String,
    pub source: Option<String>,
    pub summary: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub visibility: Visibility,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_ap_id: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub reblog_of_id: Option<i64>,
    pub replies_count: i32,
    pub likes_count: i32,
    pub reposts_count: i32,
    pub quote_of_id: Option<i64>,
    pub quote_ap_id: Option<String>,
    pub quote_state: Option<QuoteState>,
    pub quote_request_id: Option<String>,
    pub quote_authorization: Option<String>,
    pub quote_policy: QuotePolicy,
    /// Who may reply to a local post.
    pub reply_policy: ReplyPolicy,
    /// The policy a remote post published (none: anyone may interact).
    pub interaction_policy: Option<sqlx::types::Json<InteractionPolicy>>,
    /// When the author of the post replied to hid this reply.
    pub reply_hidden_at: Option<DateTime<Utc>>,
    /// For a local reply: the approval the replied-to post's server gave.
    pub reply_authorization: Option<String>,
    /// For a local reply: the Accept that carried the approval.
    pub reply_approved_by: Option<String>,
}

/// A new post. Without an id, one is made from `published`, so that ids
/// sort remote posts by when they were written.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    pub id: Option<i64>,
    pub ap_id: &'a str,
    pub author_id: i64,
    pub url: Option<&'a str>,
    pub content: &'a str,
    pub source: Option<&'a str>,
    pub summary: &'a str,
    pub sensitive: bool,
    pub language: Option<&'a str>,
    pub visibility: Visibility,
    pub in_reply_to_ap_id: Option<&'a str>,
    pub published: DateTime<Utc>,
    pub quote_policy: QuotePolicy,
    pub reply_policy: ReplyPolicy,
    /// The interaction policy a remote post published.
    pub interaction_policy: Option<&'a InteractionPolicy>,
}

/// How often an insert takes a new id because a concurrent transaction was
/// inserting the one `next_post_id` gave (which skips committed ones): once
/// is already a wrap of the 16-bit sequence within one transaction's life.
const ID_ATTEMPTS: usize = 4;

/// Stores a post with its mentioned accounts and hashtags, in one
/// statement, and tells live listeners once the transaction commits.
/// Without `new.id`, the id comes from `published` (`next_post_id`), and
/// one taken meanwhile is replaced, never an error.
pub async fn insert(
    db: &mut PgConnection,
    new: &NewPost<'_>,
    mentions: &[i64],
    tags: &[String],
) -> Result<Post, sqlx::Error> {
    // With an id of its own (a local post's, already in its ActivityPub id),
    // a clash is the database's error; a made one is taken again.
    let (id, on_conflict) = if new.id.is_some() {
        ("$12", "")
    } else {
        ("next_post_id($11)", "on conflict (id) do nothing")
    };
    let sql = format!(
        "with p as (
             insert into posts (id, ap_id, author_id, url, content, source, summary, sensitive,
                                language, visibility, in_reply_to_ap_id, in_reply_to_id,
                                published, quote_policy, reply_policy, interaction_policy)
             values ({id}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                     (select id from posts where ap_id = $10), $11, $13, $14, $15)
             {on_conflict}
             returning *
         ),
         mentioned as (
             insert into post_mentions (post_id, actor_id)
             select p.id, unnest($16::bigint[]) from p
             on conflict do nothing
         ),
         tagged as (
             insert into post_tags (post_id, tag)
             select p.id, unnest($17::text[]) from p
             on conflict do nothing
         )
         select * from p"
    );
    for _ in 0..ID_ATTEMPTS {
        let inserted: Option<Post> = sqlx::query_as(&sql)
            .bind(new.ap_id)
            .bind(new.author_id)
            .bind(new.url)
            .bind(new.content)
            .bind(new.source)
            .bind(new.summary)
            .bind(new.sensitive)
            .bind(new.language)
            .bind(new.visibility)
            .bind(new.in_reply_to_ap_id)
            .bind(new.published)
            .bind(new.id)
            .bind(new.quote_policy)
            .bind(new.reply_policy)
            .bind(new.interaction_policy.map(sqlx::types::Json))
            .bind(mentions)
            .bind(tags)
            .fetch_optional(&mut *db)
            .await?;
        if let Some(post) = inserted {
            events::emit(db, &Change::Posted { post: post.id }).await?;
            return Ok(post);
        }
    }
    Err(id_not_found(new.published))
}

/// The error when every attempt found its id taken: only possible if other
/// transactions keep inserting into the same millisecond at once.
fn id_not_found(published: DateTime<Utc>) -> sqlx::Error {
    sqlx::Error::Protocol(format!(
        "no free post id for {published} after {ID_ATTEMPTS} attempts"
    ))
}

/// A fresh post id for `at`, for local posts whose ActivityPub id contains
/// it: one no stored post has.
pub async fn next_id(db: impl PgExecutor<'_>, at: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select next_post_id($1)")
        .bind(at)
        .fetch_one(db)
        .await
}

pub async fn find_by_ap_id(
    db: impl PgExecutor<'_>,
    ap_id: &str,
) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query_as("select * from posts where ap_id = $1")
        .bind(ap_id)
        .fetch_optional(db)
        .await
}

/// A post by its ActivityPub id or its `url` (a link people paste).
pub async fn find_by_ap_id_or_url(
    db: impl PgExecutor<'_>,
    id: &str,
) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query_as(
        "select * from posts where ap_id = $1 or url = $1 order by ap_id = $1 desc limit 1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

pub async fn find_by_id(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query_as("select * from posts where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn add_mentions(
    db: impl PgExecutor<'_>,
    post_id: i64,
    actor_ids: &[i64],
) -> Result<(), sqlx::Error> {
    if actor_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into post_mentions (post_id, actor_id) select $1, unnest($2::bigint[])
         on conflict do nothing",
    )
    .bind(post_id)
    .bind(actor_ids)
    .execute(db)
    .await
    .map(drop)
}

pub async fn add_tags(
    db: impl PgExecutor<'_>,
    post_id: i64,
    tags: &[String],
) -> Result<(), sqlx::Error> {
    if tags.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "insert into post_tags (post_id, tag) select $1, unnest($2::text[]) on conflict do nothing",
    )
    .bind(post_id)
    .bind(tags)
    .execute(db)
    .await
    .map(drop)
}

/// Mentioned accounts of a post.
pub async fn mentions(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Vec<crate::db::actors::Actor>, sqlx::Error> {
    sqlx::query_as(
        "select a.* from post_mentions m join actors a on a.id = m.actor_id
         where m.post_id = $1 order by a.id",
    )
    .bind(post_id)
    .fetch_all(db)
    .await
}

pub async fn tags(db: impl PgExecutor<'_>, post_id: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select tag from post_tags where post_id = $1 order by tag")
        .bind(post_id)
        .fetch_all(db)
        .await
}

/// Counts a new or removed reply of the post.
pub async fn add_replies(
    db: impl PgExecutor<'_>,
    post_id: i64,
    delta: i32,
) -> Result<(), sqlx::Error> {
    sqlx::query("update posts set replies_count = greatest(replies_count + $2, 0) where id = $1")
        .bind(post_id)
        .bind(delta)
        .execute(db)
        .await
        .map(drop)
}

/// Turns a post into a tombstone: its content is gone, the row stays so that
/// its id answers 410 and a late Create of it is ignored. Its reposts are
/// removed.
pub async fn mark_deleted(
    db: &mut PgConnection,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let deleted: Option<(i64, Visibility)> = sqlx::query_as(
        "update posts set content = '', source = null, summary = '', deleted_at = $2
         where id = $1 and deleted_at is null
         returning author_id, visibility",
    )
    .bind(post_id)
    .bind(now)
    .fetch_optional(&mut *db)
    .await?;
    let Some((author, visibility)) = deleted else {
        return Ok(());
    };
    let change = Change::Deleted {
        post: post_id,
        author,
        visibility,
    };
    events::emit(&mut *db, &change).await?;
    // Reposts of a deleted post go with it, as in Mastodon.
    let reposts: Vec<(i64, i64, Visibility)> = sqlx::query_as(
        "delete from posts where reblog_of_id = $1 returning id, author_id, visibility",
    )
    .bind(post_id)
    .fetch_all(&mut *db)
    .await?;
    for (post, author, visibility) in reposts {
        let change = Change::Deleted {
            post,
            author,
            visibility,
        };
        events::emit(&mut *db, &change).await?;
    }
    Ok(())
}

/// A tombstone for a post deleted before it arrived.
pub async fn insert_tombstone(
    db: impl PgExecutor<'_>,
    ap_id: &str,
    author_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into posts (id, ap_id, author_id, visibility, published, deleted_at)
         values (next_post_id($3), $1, $2, 'direct', $3, $3)
         on conflict (ap_id) do nothing",
    )
    .bind(ap_id)
    .bind(author_id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// Posts that belong in an actor's public outbox: public and unlisted ones,
/// reposts included.
pub async fn count_outbox(db: impl PgExecutor<'_>, author_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from posts
         where author_id = $1 and visibility in ('public', 'unlisted')
           and deleted_at is null",
    )
    .bind(author_id)
    .fetch_one(db)
    .await
}

/// A page of the outbox, newest first, with ids below `max_id` when given.
pub async fn page_outbox(
    db: impl PgExecutor<'_>,
    author_id: i64,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Post>, sqlx::Error> {
    sqlx::query_as(
        "select * from posts
         where author_id = $1 and visibility in ('public', 'unlisted')
           and deleted_at is null
           and ($2::bigint is null or id < $2)
         order by id desc limit $3",
    )
    .bind(author_id)
    .bind(max_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Every live post and repost of an author, whatever its visibility, newest
/// first: what the author's own archive holds.
pub async fn page_authored(
    db: impl PgExecutor<'_>,
    author_id: i64,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Post>, sqlx::Error> {
    sqlx::query_as(
        "select * from posts
         where author_id = $1 and deleted_at is null
           and ($2::bigint is null or id < $2)
         order by id desc limit $3",
    )
    .bind(author_id)
    .bind(max_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Records a repost (a post of its own pointing at the reposted one) and
/// counts it; None when this actor already reposted it.
pub async fn insert_repost(
    db: &mut sqlx::PgConnection,
    ap_id: &str,
    author_id: i64,
    original_id: i64,
    visibility: Visibility,
    published: DateTime<Utc>,
    id: Option<i64>,
) -> Result<Option<Post>, sqlx::Error> {
    // `on conflict do nothing` covers the Announce's id and the one live
    // repost per account and post (`posts_one_live_repost`): of concurrent
    // reposts, one is stored and counted, the others wait for it and then
    // find it.
    let insert = |lenient: bool| {
        let sql = if lenient {
            "insert into posts (id, ap_id, author_id, reblog_of_id, visibility, published)
             values (coalesce($6, next_post_id($5)), $1, $2, $3, $4, $5)
             on conflict do nothing
             returning *"
        } else {
            "insert into posts (id, ap_id, author_id, reblog_of_id, visibility, published)
             values ($6, $1, $2, $3, $4, $5)
             returning *"
        };
        sqlx::query_as::<_, Post>(sql)
            .bind(ap_id)
            .bind(author_id)
            .bind(original_id)
            .bind(visibility)
            .bind(published)
            .bind(id)
    };
    for _ in 0..ID_ATTEMPTS {
        let mut stored = insert(true).fetch_optional(&mut *db).await?;
        if stored.is_none() {
            // Nothing stored: a repost that was there already, or, rarely,
            // an id a concurrent transaction took.
            let duplicate: bool = sqlx::query_scalar(
                "select exists (select 1 from posts where ap_id = $1)
                     or exists (select 1 from posts
                                where reblog_of_id = $3 and author_id = $2 and deleted_at is null)",
            )
            .bind(ap_id)
            .bind(author_id)
            .bind(original_id)
            .fetch_one(&mut *db)
            .await?;
            if duplicate {
                return Ok(None);
            }
            if id.is_some() {
                // A given id stays: the database names what holds it.
                stored = Some(insert(false).fetch_one(&mut *db).await?);
            }
        }
        if let Some(repost) = stored {
            sqlx::query("update posts set reposts_count = reposts_count + 1 where id = $1")
                .bind(original_id)
                .execute(&mut *db)
                .await?;
            events::emit(&mut *db, &Change::Posted { post: repost.id }).await?;
            return Ok(Some(repost));
        }
    }
    Err(id_not_found(published))
}

/// Removes a repost by its author and uncounts it; returns the removed row.
pub async fn delete_repost(
    db: &mut sqlx::PgConnection,
    author_id: i64,
    original_id: Option<i64>,
    ap_id: Option<&str>,
) -> Result<Option<Post>, sqlx::Error> {
    let removed: Option<Post> = sqlx::query_as(
        "delete from posts
         where author_id = $1 and reblog_of_id is not null
           and (reblog_of_id = $2 or ($3::text is not null and ap_id = $3))
         returning *",
    )
    .bind(author_id)
    .bind(original_id)
    .bind(ap_id)
    .fetch_optional(&mut *db)
    .await?;
    if let Some(repost) = &removed {
        if let Some(original) = repost.reblog_of_id {
            sqlx::query(
                "update posts set reposts_count = greatest(reposts_count - 1, 0) where id = $1",
            )
            .bind(original)
            .execute(&mut *db)
            .await?;
        }
        let change = Change::Deleted {
            post: repost.id,
            author: repost.author_id,
            visibility: repost.visibility,
        };
        events::emit(&mut *db, &change).await?;
    }
    Ok(removed)
}

/// Keeps the current version of a post in its edit history, then replaces
/// its content.
#[allow(clippy::too_many_arguments)]
pub async fn edit(
    db: &mut sqlx::PgConnection,
    post: &Post,
    content: &str,
    source: Option<&str>,
    summary: &str,
    sensitive: bool,
    language: Option<&str>,
    updated: DateTime<Utc>,
) -> Result<Post, sqlx::Error> {
    sqlx::query(
        "insert into post_edits (post_id, content, summary, sensitive, created_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(post.id)
    .bind(&post.content)
    .bind(&post.summary)
    .bind(post.sensitive)
    .bind(post.updated.unwrap_or(post.published))
    .execute(&mut *db)
    .await?;
    let edited: Post = sqlx::query_as(
        "update posts set content = $2, source = $3, summary = $4, sensitive = $5,
                          language = coalesce($6, language), updated = $7
         where id = $1 returning *",
    )
    .bind(post.id)
    .bind(content)
    .bind(source)
    .bind(summary)
    .bind(sensitive)
    .bind(language)
    .bind(updated)
    .fetch_one(&mut *db)
    .await?;
    events::emit(db, &Change::Edited { post: post.id }).await?;
    Ok(edited)
}

/// Earlier versions of a post, oldest first: (content, summary, sensitive, at).
pub async fn history(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Vec<(String, String, bool, DateTime<Utc>)>, sqlx::Error> {
    sqlx::query_as(
        "select content, summary, sensitive, created_at from post_edits where post_id = $1 order by id",
    )
    .bind(post_id)
    .fetch_all(db)
    .await
}

/// Replaces the hashtags of a post.
pub async fn set_tags(
    db: &mut sqlx::PgConnection,
    post_id: i64,
    tags: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from post_tags where post_id = $1")
        .bind(post_id)
        .execute(&mut *db)
        .await?;
    add_tags(&mut *db, post_id, tags).await
}

/// What a post quotes, and how far the quote's approval got.
#[allow(clippy::too_many_arguments)]
pub async fn set_quote(
    db: impl PgExecutor<'_>,
    post_id: i64,
    quote_ap_id: &str,
    state: QuoteState,
    request_id: Option<&str>,
    authorization: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update posts set quote_ap_id = $2,
                          quote_of_id = (select id from posts where ap_id = $2),
                          quote_state = $3, quote_request_id = $4, quote_authorization = $5
         where id = $1",
    )
    .bind(post_id)
    .bind(quote_ap_id)
    .bind(state)
    .bind(request_id)
    .bind(authorization)
    .execute(db)
    .await
    .map(drop)
}

/// The post whose author sent this QuoteRequest.
pub async fn find_by_quote_request(
    db: impl PgExecutor<'_>,
    request_id: &str,
) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query_as("select * from posts where quote_request_id = $1")
        .bind(request_id)
        .fetch_optional(db)
        .await
}

/// Records a local author's approval of a quote; returns its id. None when
/// the author revoked an approval of this quote before: it is not given
/// again.
pub async fn authorize_quote(
    db: impl PgExecutor<'_>,
    quoted_post_id: i64,
    quote_ap_id: &str,
    quoting_actor_id: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "insert into quote_authorizations (quoted_post_id, quote_ap_id, quoting_actor_id)
         values ($1, $2, $3)
         on conflict (quoted_post_id, quote_ap_id) do update set quote_ap_id = excluded.quote_ap_id
             where quote_authorizations.revoked_at is null
         returning id",
    )
    .bind(quoted_post_id)
    .bind(quote_ap_id)
    .bind(quoting_actor_id)
    .fetch_optional(db)
    .await
}

/// Takes back a local author's approval of a quote (None when there was
/// none in force); returns the authorization's id.
pub async fn revoke_quote_authorization(
    db: impl PgExecutor<'_>,
    quoted_post_id: i64,
    quote_ap_id: &str,
    at: DateTime<Utc>,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "update quote_authorizations set revoked_at = $3
         where quoted_post_id = $1 and quote_ap_id = $2 and revoked_at is null
         returning id",
    )
    .bind(quoted_post_id)
    .bind(quote_ap_id)
    .bind(at)
    .fetch_optional(db)
    .await
}

/// A quote's state changes from `from` to `to`; whether it did.
pub async fn change_quote_state(
    db: impl PgExecutor<'_>,
    post_id: i64,
    from: &[QuoteState],
    to: QuoteState,
) -> Result<bool, sqlx::Error> {
    sqlx::query(
        "update posts set quote_state = $3
         where id = $1 and quote_state = any($2)",
    )
    .bind(post_id)
    .bind(from)
    .bind(to)
    .execute(db)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Announces that a post changed without an edit (its quote's state, who
/// may quote it), so that streams show it again (`status.update`).
pub async fn announce_edit(db: &mut PgConnection, post_id: i64) -> Result<(), sqlx::Error> {
    events::emit(db, &Change::Edited { post: post_id }).await
}

/// Who may quote a post.
pub async fn set_quote_policy(
    db: impl PgExecutor<'_>,
    post_id: i64,
    policy: QuotePolicy,
) -> Result<(), sqlx::Error> {
    sqlx::query("update posts set quote_policy = $2 where id = $1")
        .bind(post_id)
        .bind(policy)
        .execute(db)
        .await
        .map(drop)
}

/// Posts whose quote rests on this authorization (its id, as the quoted
/// post's server serves it).
pub async fn quoting_by_authorization(
    db: impl PgExecutor<'_>,
    authorization: &str,
) -> Result<Vec<Post>, sqlx::Error> {
    sqlx::query_as("select * from posts where quote_authorization = $1")
        .bind(authorization)
        .fetch_all(db)
        .await
}

/// A post that quotes `quoted_post_id` (any quote state).
pub async fn find_quoting(
    db: impl PgExecutor<'_>,
    quoted_post_id: i64,
    quoting_post_id: i64,
) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query_as("select * from posts where id = $2 and quote_of_id = $1")
        .bind(quoted_post_id)
        .bind(quoting_post_id)
        .fetch_optional(db)
        .await
}

/// Live posts whose approved quote is of `quoted_post_id`, newest first,
/// paged by the quoting post's id.
pub async fn accepted_quotes(
    db: impl PgExecutor<'_>,
    quoted_post_id: i64,
    page: crate::db::timelines::Page,
) -> Result<Vec<Post>, sqlx::Error> {
    let order = if page.min_id.is_some() { "asc" } else { "desc" };
    let sql = format!(
        "select * from posts
         where quote_of_id = $1 and quote_state = 'accepted' and deleted_at is null
           and ($2::bigint is null or id < $2)
           and ($3::bigint is null or id > $3)
         order by id {order} limit $4"
    );
    let mut rows: Vec<Post> = sqlx::query_as(&sql)
        .bind(quoted_post_id)
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

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuoteAuthorization {
    pub id: i64,
    pub quoted_post_id: i64,
    pub quote_ap_id: String,
    pub quoting_actor_id: i64,
}

pub async fn find_quote_authorization(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<QuoteAuthorization>, sqlx::Error> {
    sqlx::query_as(
        "select id, quoted_post_id, quote_ap_id, quoting_actor_id from quote_authorizations
         where id = $1 and revoked_at is null",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Whether a local author approved this quote of this post.
pub async fn quote_authorized(
    db: impl PgExecutor<'_>,
    quoted_post_id: i64,
    quote_ap_id: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from quote_authorizations
                        where quoted_post_id = $1 and quote_ap_id = $2 and revoked_at is null)",
    )
    .bind(quoted_post_id)
    .bind(quote_ap_id)
    .fetch_one(db)
    .await
}

/// Records the application a local post was written with.
pub async fn set_app(
    db: impl PgExecutor<'_>,
    post_id: i64,
    app_id: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("update posts set app_id = $2 where id = $1")
        .bind(post_id)
        .bind(app_id)
        .execute(db)
        .await
        .map(drop)
}

/// The post an idempotency key already made, if any.
pub async fn find_by_idempotency_key(
    db: impl PgExecutor<'_>,
    user_id: i64,
    key: &str,
) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query_as(
        "select p.* from idempotency_keys k join posts p on p.id = k.post_id
         where k.user_id = $1 and k.key = $2",
    )
    .bind(user_id)
    .bind(key)
    .fetch_optional(db)
    .await
}

pub async fn remember_idempotency_key(
    db: impl PgExecutor<'_>,
    user_id: i64,
    key: &str,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into idempotency_keys (user_id, key, post_id, created_at) values ($1, $2, $3, $4)
         on conflict do nothing",
    )
    .bind(user_id)
    .bind(key)
    .bind(post_id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// Hashtags in use that start with `prefix` (lower case), most used first.
pub async fn tags_starting_with(
    db: impl PgExecutor<'_>,
    prefix: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select tag from post_tags
         where tag like replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'
         group by tag order by count(*) desc, tag limit $2 offset $3",
    )
    .bind(prefix)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

/// Keeps the interaction policy a remote post published (or none).
pub async fn set_interaction_policy(
    db: impl PgExecutor<'_>,
    id: i64,
    policy: Option<&InteractionPolicy>,
) -> Result<(), sqlx::Error> {
    // Unchanged (a new post without a policy, the usual case), nothing is
    // written.
    sqlx::query(
        "update posts set interaction_policy = $2
         where id = $1 and interaction_policy is distinct from $2",
    )
    .bind(id)
    .bind(policy.map(sqlx::types::Json))
    .execute(db)
    .await
    .map(drop)
}

/// Hides a reply from its thread, or shows it again (`at` = None).
pub async fn set_reply_hidden(
    db: impl PgExecutor<'_>,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update posts set reply_hidden_at = $2 where id = $1")
        .bind(id)
        .bind(at)
        .execute(db)
        .await
        .map(drop)
}

/// The ActivityPub ids of the accounts a post mentions.
pub async fn mentioned_ap_ids(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select a.ap_id from post_mentions m join actors a on a.id = m.actor_id
         where m.post_id = $1 order by a.ap_id",
    )
    .bind(post_id)
    .fetch_all(db)
    .await
}

/// Whether a post mentions an account.
pub async fn is_mentioned(
    db: impl PgExecutor<'_>,
    post_id: i64,
    actor_id: i64,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from post_mentions where post_id = $1 and actor_id = $2)",
    )
    .bind(post_id)
    .bind(actor_id)
    .fetch_one(db)
    .await
}

/// A reply approval a local author gave.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyAuthorization {
    pub id: i64,
    pub post_id: i64,
    pub reply_ap_id: String,
    pub replier_id: i64,
}

/// Records the approval of `reply_ap_id` as a reply to the local post
/// `post_id` (once; the same id again when recorded before).
pub async fn authorize_reply(
    db: impl PgExecutor<'_>,
    post_id: i64,
    reply_ap_id: &str,
    replier_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "insert into reply_authorizations (post_id, reply_ap_id, replier_id, created_at)
         values ($1, $2, $3, $4)
         on conflict on constraint reply_authorizations_reply_key
         do update set replier_id = excluded.replier_id
         returning id",
    )
    .bind(post_id)
    .bind(reply_ap_id)
    .bind(replier_id)
    .bind(now)
    .fetch_one(db)
    .await
}

pub async fn find_reply_authorization(
    db: impl PgExecutor<'_>,
    id: i64,
) -> Result<Option<ReplyAuthorization>, sqlx::Error> {
    sqlx::query_as(
        "select id, post_id, reply_ap_id, replier_id from reply_authorizations where id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Keeps the approval a remote author gave a local reply.
pub async fn set_reply_approval(
    db: impl PgExecutor<'_>,
    id: i64,
    authorization: Option<&str>,
    approved_by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("update posts set reply_authorization = $2, reply_approved_by = $3 where id = $1")
        .bind(id)
        .bind(authorization)
        .bind(approved_by)
        .execute(db)
        .await
        .map(drop)
}

/// The local accounts that reposted a post.
pub async fn local_reposters(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct p.author_id from posts p join actors a on a.id = p.author_id
         where p.reblog_of_id = $1 and a.domain is null",
    )
    .bind(post_id)
    .fetch_all(db)
    .await
}

/// Waits for and takes the session-level advisory lock on `key` (one writer
/// per user and idempotency key), held by this connection until
/// [`unlock_idempotency_key`].
pub async fn lock_idempotency_key(db: &mut PgConnection, key: i64) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut *db)
        .await
        .map(drop)
}

/// Gives up the lock [`lock_idempotency_key`] took.
pub async fn unlock_idempotency_key(db: &mut PgConnection, key: i64) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(key)
        .execute(&mut *db)
        .await
        .map(drop)
}

/// The live repost of `original_id` by `author_id`, if any.
pub async fn live_repost(
    db: impl PgExecutor<'_>,
    author_id: i64,
    original_id: i64,
) -> Result<Option<Post>, sqlx::Error> {
    sqlx::query_as(
        "select * from posts
         where reblog_of_id = $2 and author_id = $1 and deleted_at is null",
    )
    .bind(author_id)
    .bind(original_id)
    .fetch_optional(db)
    .await
}
