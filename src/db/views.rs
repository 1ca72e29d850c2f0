//! Batch reads behind the client API's entities: for a page of posts or
//! accounts, everything an entity shows, in one query per kind of fact
//! (never one per row).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::actors::Actor;
use crate::db::media::Attachment;
use crate::db::polls::Poll;
use crate::db::posts::Post;

pub async fn actors(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Actor>, sqlx::Error> {
    sqlx::query_as("select * from actors where id = any($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}

pub async fn posts(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Post>, sqlx::Error> {
    sqlx::query_as("select * from posts where id = any($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// What an Account entity counts.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct AccountStats {
    pub id: i64,
    pub followers: i64,
    pub following: i64,
    pub posts: i64,
    pub last_post_at: Option<DateTime<Utc>>,
}

/// The counts of the given accounts, as `account_stats` keeps them.
pub async fn account_stats(
    db: impl PgExecutor<'_>,
    ids: &[i64],
) -> Result<HashMap<i64, AccountStats>, sqlx::Error> {
    let rows: Vec<AccountStats> = sqlx::query_as(
        "select actor_id as id, followers, following, posts, last_post_at
         from account_stats where actor_id = any($1)",
    )
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r)).collect())
}

/// Rebuilds the counts of every account from the rows they count (a repair:
/// the triggers of migration `account_stats` keep them as things change).
/// Returns how many accounts' counts were wrong.
pub async fn recount_account_stats(db: &sqlx::PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    // Follows and posts wait while the counts are rebuilt, so that none
    // committed meanwhile is lost.
    sqlx::query("lock table follows, posts in share mode")
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "create temporary table stats_before on commit drop as select * from account_stats",
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query("select account_stats_recount(null)")
        .execute(&mut *tx)
        .await?;
    let wrong: i64 = sqlx::query_scalar(
        "select count(*) from account_stats s
         left join stats_before b on b.actor_id = s.actor_id
         where (coalesce(b.followers, 0), coalesce(b.following, 0), coalesce(b.posts, 0),
                b.last_post_at)
               is distinct from (s.followers, s.following, s.posts, s.last_post_at)",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(wrong as u64)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostAttachment {
    pub id: i64,
    pub post_id: i64,
    #[sqlx(flatten)]
    pub attachment: Attachment,
}

pub async fn attachments(
    db: impl PgExecutor<'_>,
    post_ids: &[i64],
) -> Result<Vec<PostAttachment>, sqlx::Error> {
    sqlx::query_as(
        "select id, post_id, kind, url, media_type, description, blurhash, focal_x, focal_y,
                width, height, preview_url, duration
         from attachments where post_id = any($1) order by post_id, position",
    )
    .bind(post_ids)
    .fetch_all(db)
    .await
}

/// (post id, mentioned actor)
pub async fn mentions(
    db: impl PgExecutor<'_>,
    post_ids: &[i64],
) -> Result<Vec<(i64, Actor)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        post_id: i64,
        #[sqlx(flatten)]
        actor: Actor,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "select m.post_id, a.* from post_mentions m join actors a on a.id = m.actor_id
         where m.post_id = any($1) order by m.post_id, a.id",
    )
    .bind(post_ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.post_id, r.actor)).collect())
}

/// (post id, tag)
pub async fn tags(
    db: impl PgExecutor<'_>,
    post_ids: &[i64],
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "select post_id, tag from post_tags where post_id = any($1) order by post_id, tag",
    )
    .bind(post_ids)
    .fetch_all(db)
    .await
}

/// (post id, shortcode, url)
pub async fn emojis(
    db: impl PgExecutor<'_>,
    post_ids: &[i64],
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select post_id, shortcode, url from post_emojis
         where post_id = any($1) order by post_id, shortcode",
    )
    .bind(post_ids)
    .fetch_all(db)
    .await
}

/// The custom emoji of remote accounts' profiles: (actor id, shortcode,
/// url).
pub async fn actor_emojis(
    db: impl PgExecutor<'_>,
    actor_ids: &[i64],
) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "select actor_id, shortcode, url from actor_emojis
         where actor_id = any($1) order by actor_id, shortcode",
    )
    .bind(actor_ids)
    .fetch_all(db)
    .await
}

pub async fn polls(db: impl PgExecutor<'_>, post_ids: &[i64]) -> Result<Vec<Poll>, sqlx::Error> {
    sqlx::query_as("select * from polls where post_id = any($1)")
        .bind(post_ids)
        .fetch_all(db)
        .await
}

/// The viewer's relation to each of these posts.
#[derive(Debug, Clone, Default)]
pub struct ViewerFlags {
    pub favourited: HashSet<i64>,
    pub reblogged: HashSet<i64>,
    pub bookmarked: HashSet<i64>,
    pub pinned: HashSet<i64>,
    /// Posts in threads the viewer muted.
    pub muted: HashSet<i64>,
    /// The viewer's choices in the polls of these posts, in order.
    pub votes: HashMap<i64, Vec<i64>>,
}

/// The viewer's likes, live reposts, bookmarks, pins and poll choices
/// among these posts, in one query.
pub async fn viewer_flags(
    db: impl PgExecutor<'_>,
    viewer: i64,
    post_ids: &[i64],
) -> Result<ViewerFlags, sqlx::Error> {
    let rows: Vec<(String, i64, i32)> = sqlx::query_as(
        "select 'favourited', post_id, 0 from likes where actor_id = $1 and post_id = any($2)
         union all
         select 'reblogged', reblog_of_id, 0 from posts
         where author_id = $1 and reblog_of_id = any($2) and deleted_at is null
         union all
         select 'bookmarked', post_id, 0 from bookmarks where actor_id = $1 and post_id = any($2)
         union all
         select 'pinned', post_id, 0 from pins where actor_id = $1 and post_id = any($2)
         union all
         select 'muted', x.id, 0 from unnest($2::bigint[]) as x(id)
         where exists (select 1 from conversation_mutes where actor_id = $1)
           and exists (select 1 from conversation_mutes c
                       where c.actor_id = $1 and c.root_id = thread_root(x.id))
         union all
         (select 'voted', post_id, choice from poll_votes
          where actor_id = $1 and post_id = any($2) order by post_id, choice)",
    )
    .bind(viewer)
    .bind(post_ids)
    .fetch_all(db)
    .await?;
    let mut flags = ViewerFlags::default();
    for (kind, post_id, choice) in rows {
        match kind.as_str() {
            "favourited" => {
                flags.favourited.insert(post_id);
            }
            "reblogged" => {
                flags.reblogged.insert(post_id);
            }
            "bookmarked" => {
                flags.bookmarked.insert(post_id);
            }
            "pinned" => {
                flags.pinned.insert(post_id);
            }
            "muted" => {
                flags.muted.insert(post_id);
            }
            _ => flags
                .votes
                .entry(post_id)
                .or_default()
                .push(i64::from(choice)),
        }
    }
    Ok(flags)
}

/// (post id, its author) of these posts: who replies answer.
pub async fn authors_of(
    db: impl PgExecutor<'_>,
    post_ids: &[i64],
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("select id, author_id from posts where id = any($1)")
        .bind(post_ids)
        .fetch_all(db)
        .await
}

/// Reports by id (those a page of notifications is about).
pub async fn reports(
    db: impl PgExecutor<'_>,
    ids: &[i64],
) -> Result<Vec<crate::db::reports::Report>, sqlx::Error> {
    sqlx::query_as("select * from reports where id = any($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}

/// (post id, application name, website) of local posts written with an app.
pub async fn applications(
    db: impl PgExecutor<'_>,
    post_ids: &[i64],
) -> Result<Vec<(i64, String, Option<String>)>, sqlx::Error> {
    sqlx::query_as(
        "select p.id, a.name, a.website from posts p join oauth_apps a on a.id = p.app_id
         where p.id = any($1)",
    )
    .bind(post_ids)
    .fetch_all(db)
    .await
}

/// The viewer's relationship to each of these accounts.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Relationship {
    pub id: i64,
    pub following: bool,
    pub requested: bool,
    pub followed_by: bool,
    pub requested_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub domain_blocking: bool,
    /// The viewer's follow options (meaningful while following or asking).
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    /// The viewer features the account on its profile.
    pub endorsed: bool,
    /// The viewer's private note about the account.
    pub note: String,
}

pub async fn relationships(
    db: impl PgExecutor<'_>,
    viewer: i64,
    ids: &[i64],
    now: DateTime<Utc>,
) -> Result<Vec<Relationship>, sqlx::Error> {
    sqlx::query_as(
        "select t.id,
                exists (select 1 from follows f where f.follower_id = $1 and f.followee_id = t.id
                        and f.state = 'accepted') as following,
                exists (select 1 from follows f where f.follower_id = $1 and f.followee_id = t.id
                        and f.state = 'pending') as requested,
                exists (select 1 from follows f where f.follower_id = t.id and f.followee_id = $1
                        and f.state = 'accepted') as followed_by,
                exists (select 1 from follows f where f.follower_id = t.id and f.followee_id = $1
                        and f.state = 'pending') as requested_by,
                exists (select 1 from blocks b
                        where b.blocker_id = $1 and b.blocked_id = t.id) as blocking,
                exists (select 1 from blocks b
                        where b.blocker_id = t.id and b.blocked_id = $1) as blocked_by,
                exists (select 1 from mutes m where m.actor_id = $1 and m.target_id = t.id
                        and (m.expires_at is null or m.expires_at > $3)) as muting,
                exists (select 1 from mutes m where m.actor_id = $1 and m.target_id = t.id
                        and m.notifications
                        and (m.expires_at is null or m.expires_at > $3)) as muting_notifications,
                exists (select 1 from user_domain_blocks d join actors a on a.domain = d.domain
                        where d.actor_id = $1 and a.id = t.id) as domain_blocking,
                exists (select 1 from endorsements e
                        where e.actor_id = $1 and e.target_id = t.id) as endorsed,
                coalesce((select n.comment from account_notes n
                          where n.actor_id = $1 and n.target_id = t.id), '') as note,
                coalesce(o.show_reblogs, false) as showing_reblogs,
                coalesce(o.notify, false) as notifying,
                o.languages
         from unnest($2::bigint[]) as t(id)
         left join follows o on o.follower_id = $1 and o.followee_id = t.id",
    )
    .bind(viewer)
    .bind(ids)
    .bind(now)
    .fetch_all(db)
    .await
}

/// An actor in a listing, with the id of the row that put it there (the
/// cursor of Mastodon's paging).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub cursor: i64,
    #[sqlx(flatten)]
    pub actor: Actor,
}

/// Listings of accounts, each a relation read newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Accepted followers of `$1`.
    Followers,
    /// Accounts `$1` follows.
    Following,
    /// Accounts asking to follow `$1`.
    FollowRequests,
    /// Accounts `$1` blocks.
    Blocks,
    /// Accounts `$1` mutes (live mutes only).
    Mutes,
    /// Accounts that liked post `$1`.
    FavouritedBy,
    /// Accounts that reposted post `$1`.
    RebloggedBy,
    /// Accounts `$1` endorses (features on its profile).
    Endorsements,
}

pub async fn list_actors(
    db: impl PgExecutor<'_>,
    listing: Listing,
    subject: i64,
    page: crate::db::timelines::Page,
    now: DateTime<Utc>,
) -> Result<Vec<Listed>, sqlx::Error> {
    let (cursor, from) = match listing {
        Listing::Followers => (
            "f.id",
            "follows f join actors a on a.id = f.follower_id
             where f.followee_id = $1 and f.state = 'accepted'",
        ),
        Listing::Following => (
            "f.id",
            "follows f join actors a on a.id = f.followee_id
             where f.follower_id = $1 and f.state = 'accepted'",
        ),
        Listing::FollowRequests => (
            "f.id",
            "follows f join actors a on a.id = f.follower_id
             where f.followee_id = $1 and f.state = 'pending'",
        ),
        Listing::Blocks => (
            "b.id",
            "blocks b join actors a on a.id = b.blocked_id where b.blocker_id = $1",
        ),
        Listing::Mutes => (
            "m.id",
            "mutes m join actors a on a.id = m.target_id
             where m.actor_id = $1 and (m.expires_at is null or m.expires_at > $5)",
        ),
        Listing::FavouritedBy => (
            "l.id",
            "likes l join actors a on a.id = l.actor_id where l.post_id = $1",
        ),
        Listing::RebloggedBy => (
            "r.id",
            "posts r join actors a on a.id = r.author_id
             where r.reblog_of_id = $1 and r.deleted_at is null",
        ),
        Listing::Endorsements => (
            "e.id",
            "endorsements e join actors a on a.id = e.target_id
             where e.actor_id = $1 and a.suspended_at is null and a.gone_at is null",
        ),
    };
    let order = if page.min_id.is_some() { "asc" } else { "desc" };
    let sql = format!(
        "select {cursor} as cursor, a.* from {from}
           and ($2::bigint is null or {cursor} < $2)
           and ($3::bigint is null or {cursor} > $3)
         order by {cursor} {order} limit $4"
    );
    let mut rows: Vec<Listed> = sqlx::query_as(&sql)
        .bind(subject)
        .bind(page.max_id)
        .bind(page.min_id.or(page.since_id))
        .bind(page.limit)
        .bind(now)
        .fetch_all(db)
        .await?;
    if page.min_id.is_some() {
        rows.reverse();
    }
    Ok(rows)
}

/// Accounts whose handle or display name starts with the query, local ones
/// and those the viewer follows first.
pub async fn search_actors(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    username: &str,
    domain: Option<&str>,
    following_only: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<Actor>, sqlx::Error> {
    sqlx::query_as(
        "select a.* from actors a
         where a.kind <> 'Application' and a.gone_at is null
           and (lower(a.username) like $2 || '%' escape '\\'
                or ($3::text is null and lower(a.display_name) like '%' || $2 || '%' escape '\\'))
           and ($3::text is null or a.domain = $3 or ($3 = '' and a.domain is null))
           and (not $4 or exists (select 1 from follows f where f.follower_id = $1
                                  and f.followee_id = a.id and f.state = 'accepted'))
           and not exists (select 1 from blocks b
                           where (b.blocker_id = $1 and b.blocked_id = a.id)
                              or (b.blocker_id = a.id and b.blocked_id = $1))
         order by (a.domain is null) desc,
                  exists (select 1 from follows f where f.follower_id = $1
                          and f.followee_id = a.id) desc,
                  (lower(a.username) = $2) desc, a.id
         limit $5 offset $6",
    )
    .bind(viewer.unwrap_or(0))
    .bind(like_escape(&username.to_lowercase()))
    .bind(domain)
    .bind(following_only)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await
}

fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Which of these posts `viewer` (None: signed out) may see, by the rules
/// of `service::posts::can_see` (deleted posts are not asked about here):
/// not by a suspended account, no block either way, and public or unlisted,
/// or the viewer's own, or mentioning the viewer, or followers-only with
/// the viewer an accepted follower. One query for a page's quoted posts.
pub async fn visible(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    post_ids: &[i64],
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select p.id from posts p join actors a on a.id = p.author_id
         where p.id = any($2) and a.suspended_at is null
           and ($1::bigint is null or p.author_id = $1 or not exists (
                    select 1 from blocks b
                    where (b.blocker_id = $1 and b.blocked_id = p.author_id)
                       or (b.blocker_id = p.author_id and b.blocked_id = $1)))
           and (p.visibility in ('public', 'unlisted')
                or ($1::bigint is not null
                    and (p.author_id = $1
                         or exists (select 1 from post_mentions m
                                    where m.post_id = p.id and m.actor_id = $1)
                         or (p.visibility = 'private' and exists (
                                 select 1 from follows f
                                 where f.follower_id = $1 and f.followee_id = p.author_id
                                   and f.state = 'accepted')))))",
    )
    .bind(viewer)
    .bind(post_ids)
    .fetch_all(db)
    .await
}

/// Actors by their ActivityPub ids (the accounts moved to, for a page).
pub async fn actors_by_ap_id(
    db: impl PgExecutor<'_>,
    ap_ids: &[String],
) -> Result<Vec<Actor>, sqlx::Error> {
    sqlx::query_as("select * from actors where ap_id = any($1)")
        .bind(ap_ids)
        .fetch_all(db)
        .await
}
