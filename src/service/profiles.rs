//! Reading local profiles: the actor, its counts, and pages of its followers,
//! following and outbox.

use sqlx::PgPool;

use crate::db::{self, actors::Actor, follows::Side, posts::Post};
use crate::error::{Error, Result};

pub async fn local_person(pool: &PgPool, username: &str) -> Result<Actor> {
    db::actors::find_local_person(pool, username)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn instance_actor(pool: &PgPool) -> Result<Actor> {
    db::actors::find_instance_actor(pool)
        .await?
        .ok_or(Error::NotFound)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub followers: i64,
    pub following: i64,
    pub posts: i64,
}

pub async fn counts(pool: &PgPool, actor: &Actor) -> Result<Counts> {
    Ok(Counts {
        followers: db::follows::count_accepted(pool, actor.id, Side::Followers).await?,
        following: db::follows::count_accepted(pool, actor.id, Side::Following).await?,
        posts: db::posts::count_outbox(pool, actor.id).await?,
    })
}

/// A page of a collection: its items, the total, and the cursor for the next
/// page when this one is full.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub total: i64,
    pub items: Vec<T>,
    pub next_cursor: Option<i64>,
}

fn paged<T>(total: i64, items: Vec<T>, limit: i64, cursor: impl Fn(&T) -> i64) -> Page<T> {
    let next_cursor = if items.len() as i64 == limit {
        items.last().map(&cursor)
    } else {
        None
    };
    Page {
        total,
        items,
        next_cursor,
    }
}

/// Accepted followers or followees of a local actor, by ActivityPub id.
pub async fn relations(
    pool: &PgPool,
    actor: &Actor,
    side: Side,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Page<String>> {
    let total = db::follows::count_accepted(pool, actor.id, side).await?;
    let entries = db::follows::page_accepted(pool, actor.id, side, max_id, limit).await?;
    let page = paged(total, entries, limit, |e| e.id);
    Ok(Page {
        total: page.total,
        items: page.items.into_iter().map(|e| e.ap_id).collect(),
        next_cursor: page.next_cursor,
    })
}

/// Public and unlisted posts of a local actor, newest first.
pub async fn outbox(
    pool: &PgPool,
    actor: &Actor,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Page<Post>> {
    let total = db::posts::count_outbox(pool, actor.id).await?;
    let posts = db::posts::page_outbox(pool, actor.id, max_id, limit).await?;
    Ok(paged(total, posts, limit, |p| p.id))
}
