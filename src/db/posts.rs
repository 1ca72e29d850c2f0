//! The `posts` table: local and remote posts.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

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
    pub visibility: String,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_ap_id: Option<String>,
    pub published: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A new post; the id comes from the database.
#[derive(Debug, Clone)]
pub struct NewPost<'a> {
    pub ap_id: &'a str,
    pub author_id: i64,
    pub url: Option<&'a str>,
    pub content: &'a str,
    pub source: Option<&'a str>,
    pub summary: &'a str,
    pub sensitive: bool,
    pub language: Option<&'a str>,
    pub visibility: &'a str,
    pub in_reply_to_ap_id: Option<&'a str>,
    pub published: DateTime<Utc>,
}

pub async fn insert(db: impl PgExecutor<'_>, new: &NewPost<'_>) -> Result<Post, sqlx::Error> {
    sqlx::query_as(
        "insert into posts (id, ap_id, author_id, url, content, source, summary, sensitive,
                            language, visibility, in_reply_to_ap_id,
                            in_reply_to_id, published)
         values (next_id($11), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
                 (select id from posts where ap_id = $10), $11)
         returning *",
    )
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
    .fetch_one(db)
    .await
}

/// Posts that belong in an actor's public outbox: public and unlisted ones.
pub async fn count_outbox(db: impl PgExecutor<'_>, author_id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from posts
         where author_id = $1 and visibility in ('public', 'unlisted')",
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
           and ($2::bigint is null or id < $2)
         order by id desc limit $3",
    )
    .bind(author_id)
    .bind(max_id)
    .bind(limit)
    .fetch_all(db)
    .await
}
