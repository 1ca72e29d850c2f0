//! Link previews: `preview_cards` (one per URL), `post_preview_cards` (the
//! card a post shows), `preview_card_fetches` (the queue, claimed with `for
//! update skip locked`), `preview_card_removals` (previews their authors
//! removed) and `preview_card_domain_exclusions`.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use super::events;
use crate::domain::events::Change;

/// A stored card.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Card {
    pub id: i64,
    pub url: String,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub author_name: String,
    pub author_url: String,
    pub provider_name: String,
    pub provider_url: String,
    pub html: String,
    pub width: i32,
    pub height: i32,
    pub image_file: Option<String>,
    pub image_content_type: Option<String>,
    pub image_width: Option<i32>,
    pub image_height: Option<i32>,
    pub image_description: String,
    pub blurhash: Option<String>,
    pub embed_url: String,
    pub language: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub fetched_at: DateTime<Utc>,
}

/// A card's content, as a fetch made it.
#[derive(Debug, Clone, Default)]
pub struct NewCard {
    pub url: String,
    pub title: String,
    pub description: String,
    pub kind: &'static str,
    pub author_name: String,
    pub author_url: String,
    pub provider_name: String,
    pub provider_url: String,
    pub width: i32,
    pub height: i32,
    /// Where the picture was found (not stored: it is fetched once).
    pub image_remote: Option<String>,
    pub image_file: Option<String>,
    pub image_content_type: Option<&'static str>,
    pub image_width: Option<i32>,
    pub image_height: Option<i32>,
    pub image_description: String,
    pub blurhash: Option<String>,
    pub embed_url: String,
    pub language: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "c.id, c.url, c.title, c.description, c.kind, c.author_name, c.author_url,
    c.provider_name, c.provider_url, c.html, c.width, c.height, c.image_file,
    c.image_content_type, c.image_width, c.image_height, c.image_description, c.blurhash,
    c.embed_url, c.language, c.published_at, c.fetched_at";

/// Queues a post's first link to be fetched; a post queued already is due
/// now and queued anew (a worker holding it leaves the new row be).
pub async fn queue(
    db: impl PgExecutor<'_>,
    post_id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into preview_card_fetches (post_id, due_at, queued_at) values ($1, $2, $2)
         on conflict (post_id) do update
             set due_at = least(preview_card_fetches.due_at, $2), queued_at = $2, attempts = 0",
    )
    .bind(post_id)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// A claimed post: its id, attempts (this one included), and when it was
/// queued (to leave a row queued again meanwhile).
pub type Claimed = (i64, i32, DateTime<Utc>);

/// Claims up to `limit` due posts: each is not due again before
/// `lease_until`, so that a worker that dies leaves it to another then.
pub async fn claim_due(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    sqlx::query_as(
        "update preview_card_fetches f set attempts = f.attempts + 1, due_at = $2
         where f.post_id in (select post_id from preview_card_fetches
                             where due_at <= $1
                             order by due_at, post_id
                             limit $3
                             for update skip locked)
         returning f.post_id, f.attempts, f.queued_at",
    )
    .bind(now)
    .bind(lease_until)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Takes a post off the queue, unless it was queued again since `queued_at`.
pub async fn done(
    db: impl PgExecutor<'_>,
    post_id: i64,
    queued_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from preview_card_fetches where post_id = $1 and queued_at = $2")
        .bind(post_id)
        .bind(queued_at)
        .execute(db)
        .await
        .map(drop)
}

/// Posts waiting in the queue.
pub async fn waiting(db: impl PgExecutor<'_>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from preview_card_fetches")
        .fetch_one(db)
        .await
}

pub async fn find_by_url(db: impl PgExecutor<'_>, url: &str) -> Result<Option<Card>, sqlx::Error> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from preview_cards c where c.url = $1"
    ))
    .bind(url)
    .fetch_optional(db)
    .await
}

/// Stores a card for its URL, replacing what an earlier fetch stored;
/// returns it and the image file it replaced (to remove after the commit).
pub async fn upsert(
    db: &mut PgConnection,
    card: &NewCard,
    now: DateTime<Utc>,
) -> Result<(Card, Option<String>), sqlx::Error> {
    let previous: Option<Option<String>> =
        sqlx::query_scalar("select image_file from preview_cards where url = $1 for update")
            .bind(&card.url)
            .fetch_optional(&mut *db)
            .await?;
    let stored: Card = sqlx::query_as(&format!(
        "insert into preview_cards as c (url, title, description, kind, author_name, author_url,
             provider_name, provider_url, width, height, image_file, image_content_type,
             image_width, image_height, image_description, blurhash, embed_url, language,
             published_at, fetched_at, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
             $18, $19, $20, $20)
         on conflict (url) do update set title = $2, description = $3, kind = $4,
             author_name = $5, author_url = $6, provider_name = $7, provider_url = $8,
             width = $9, height = $10, image_file = $11, image_content_type = $12,
             image_width = $13, image_height = $14, image_description = $15, blurhash = $16,
             embed_url = $17, language = $18, published_at = $19, fetched_at = $20
         returning {COLUMNS}"
    ))
    .bind(&card.url)
    .bind(&card.title)
    .bind(&card.description)
    .bind(card.kind)
    .bind(&card.author_name)
    .bind(&card.author_url)
    .bind(&card.provider_name)
    .bind(&card.provider_url)
    .bind(card.width)
    .bind(card.height)
    .bind(&card.image_file)
    .bind(card.image_content_type)
    .bind(card.image_width)
    .bind(card.image_height)
    .bind(&card.image_description)
    .bind(&card.blurhash)
    .bind(&card.embed_url)
    .bind(&card.language)
    .bind(card.published_at)
    .bind(now)
    .fetch_one(&mut *db)
    .await?;
    let replaced = previous
        .flatten()
        .filter(|old| stored.image_file.as_deref() != Some(old.as_str()));
    Ok((stored, replaced))
}

/// Marks a card fetched now, its content unchanged (a refresh that found
/// nothing better).
pub async fn touch(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update preview_cards set fetched_at = $2 where id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

/// Shows `card_id` on a post, in place of any card it had, and announces
/// the post as changed (streams send `status.update`).
pub async fn attach(
    db: &mut PgConnection,
    post_id: i64,
    card_id: i64,
    url: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into post_preview_cards (post_id, card_id, url) values ($1, $2, $3)
         on conflict (post_id) do update set card_id = $2, url = $3",
    )
    .bind(post_id)
    .bind(card_id)
    .bind(url)
    .execute(&mut *db)
    .await?;
    events::emit(db, &Change::Edited { post: post_id }).await
}

/// Takes a post's card away; whether it had one. Announces the change
/// when it did.
pub async fn detach(db: &mut PgConnection, post_id: i64) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query("delete from post_preview_cards where post_id = $1")
        .bind(post_id)
        .execute(&mut *db)
        .await?
        .rows_affected()
        > 0;
    if removed {
        events::emit(db, &Change::Edited { post: post_id }).await?;
    }
    Ok(removed)
}

/// The card each of `post_ids` shows: (post id, card).
pub async fn for_posts(
    db: impl PgExecutor<'_>,
    post_ids: &[i64],
) -> Result<Vec<(i64, Card)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        post_id: i64,
        #[sqlx(flatten)]
        card: Card,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "select p.post_id, {COLUMNS} from post_preview_cards p
         join preview_cards c on c.id = p.card_id where p.post_id = any($1)"
    ))
    .bind(post_ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.post_id, r.card)).collect())
}

/// The link of a post's card, when it shows one.
pub async fn card_url_of(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select url from post_preview_cards where post_id = $1")
        .bind(post_id)
        .fetch_optional(db)
        .await
}

/// Records that a post's author removed the preview of `url`.
pub async fn remove_for(
    db: impl PgExecutor<'_>,
    post_id: i64,
    url: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into preview_card_removals (post_id, url, removed_at) values ($1, $2, $3)
         on conflict (post_id) do update set url = $2, removed_at = $3",
    )
    .bind(post_id)
    .bind(url)
    .bind(now)
    .execute(db)
    .await
    .map(drop)
}

/// Forgets a post's removed preview (its author wants it back).
pub async fn unremove(db: impl PgExecutor<'_>, post_id: i64) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("delete from preview_card_removals where post_id = $1")
            .bind(post_id)
            .execute(db)
            .await?
            .rows_affected()
            > 0,
    )
}

/// The link whose preview a post's author removed.
pub async fn removed_url(
    db: impl PgExecutor<'_>,
    post_id: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select url from preview_card_removals where post_id = $1")
        .bind(post_id)
        .fetch_optional(db)
        .await
}

/// The excluded domains, in order.
pub async fn excluded_domains(db: impl PgExecutor<'_>) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("select domain from preview_card_domain_exclusions order by domain")
        .fetch_all(db)
        .await
}

/// Excludes a domain; whether it was not excluded yet.
pub async fn exclude(
    db: impl PgExecutor<'_>,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "insert into preview_card_domain_exclusions (domain, created_at) values ($1, $2)
         on conflict do nothing",
    )
    .bind(domain)
    .bind(now)
    .execute(db)
    .await?
    .rows_affected()
        > 0)
}

/// Lifts an exclusion; whether there was one.
pub async fn include(db: impl PgExecutor<'_>, domain: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("delete from preview_card_domain_exclusions where domain = $1")
            .bind(domain)
            .execute(db)
            .await?
            .rows_affected()
            > 0,
    )
}

/// Takes the cards of excluded `domain` (and its subdomains) off every
/// post: the posts ids, announced as changed.
pub async fn detach_domain(db: &mut PgConnection, domain: &str) -> Result<Vec<i64>, sqlx::Error> {
    let posts: Vec<i64> = sqlx::query_scalar(
        "delete from post_preview_cards p using preview_cards c
         where c.id = p.card_id
           and domain_covers(lower(substring(c.url from '^[a-z]+://([^/?#]+)')), $1)
         returning p.post_id",
    )
    .bind(domain)
    .fetch_all(&mut *db)
    .await?;
    for post in &posts {
        events::emit(db, &Change::Edited { post: *post }).await?;
    }
    Ok(posts)
}
