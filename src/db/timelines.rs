//! Timeline reads: newest first, keyset-paginated on the post id
//! (`max_id`, `since_id`, `min_id` as Mastodon pages), visibility enforced in
//! SQL for the viewer.
//!
//! Page bounds are written into the SQL only when the page has them, never
//! as `($2 is null or p.id < $2)`: PostgreSQL switches a prepared statement
//! to a generic plan after five executions, and in a generic plan such a
//! condition cannot bound an index scan, so every deep page would scan from
//! the newest post down (`benches/timelines.rs` measures this).

use sqlx::{PgConnection, PgExecutor};

use crate::db::posts::Post;
use crate::domain::lists::RepliesPolicy;

/// Which slice of a timeline to read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Page {
    /// Older than this id.
    pub max_id: Option<i64>,
    /// Newer than this id, newest first.
    pub since_id: Option<i64>,
    /// Newer than this id, the ones right after it (read oldest first, then
    /// returned newest first).
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl Page {
    /// Just the post `id`, for asking whether a timeline holds it (read
    /// through the same filters as a page, so a live stream shows exactly
    /// what its timeline would).
    pub fn only(id: i64) -> Page {
        Page {
            max_id: Some(id.saturating_add(1)),
            since_id: Some(id.saturating_sub(1)),
            min_id: None,
            limit: 1,
        }
    }

    fn lower(&self) -> Option<i64> {
        self.min_id.or(self.since_id)
    }
    fn ascending(&self) -> bool {
        self.min_id.is_some()
    }
}

/// The page bounds on `column` (`$2` above, `$3` below), only those the page
/// has.
fn bounds(page: &Page, column: &str) -> String {
    let mut sql = String::new();
    if page.max_id.is_some() {
        sql.push_str(&format!(" and {column} < $2"));
    }
    if page.lower().is_some() {
        sql.push_str(&format!(" and {column} > $3"));
    }
    sql
}

/// Conditions every timeline shares: live rows, the page bounds.
fn live(page: &Page) -> String {
    format!("p.deleted_at is null{}", bounds(page, "p.id"))
}

/// What `$1` (the viewer) may see: public and unlisted posts, followers-only
/// posts of accounts it follows, posts that mention it, its own; nothing of
/// accounts it blocks or that block it. Other reads (notifications,
/// conversations) use it on a post aliased `p`.
pub(crate) const VISIBLE: &str = "(p.author_id = $1
      or p.visibility in ('public', 'unlisted')
      or (p.visibility = 'private' and exists (
             select 1 from follows f
             where f.follower_id = $1 and f.followee_id = p.author_id and f.state = 'accepted'))
      or exists (select 1 from post_mentions m where m.post_id = p.id and m.actor_id = $1))
     and not exists (select 1 from blocks b
                     where (b.blocker_id = $1 and b.blocked_id = p.author_id)
                        or (b.blocker_id = p.author_id and b.blocked_id = $1))
     and not exists (select 1 from actors sx where sx.id = p.author_id and sx.suspended_at is not null)";

/// What `$1` chose not to see: accounts it mutes (until `$6`, the
/// present) and whole domains it blocks for itself, as authors and as the
/// authors of reposted posts; and reposts of posts by accounts it blocks or
/// that block it (as Mastodon keeps them out of home feeds).
///
/// The mutes and domain blocks are each guarded by an uncorrelated test
/// (one look per query, as in [`FOLLOWED_TAG`]): a viewer who mutes no one
/// or blocks no domain pays nothing per post, where the generic plan of a
/// prepared statement otherwise joined every row against them (a thread of
/// 300 replies spent most of its time there).
pub(crate) const HIDDEN: &str = "not exists (
         select 1 from posts r join blocks b
           on (b.blocker_id = $1 and b.blocked_id = r.author_id)
           or (b.blocker_id = r.author_id and b.blocked_id = $1)
         where r.id = p.reblog_of_id)
     and not (exists (select 1 from mutes m0 where m0.actor_id = $1) and exists (
         select 1 from mutes m
         where m.actor_id = $1
           and (m.target_id = p.author_id
                or m.target_id = (select r.author_id from posts r where r.id = p.reblog_of_id))
           and (m.expires_at is null or m.expires_at > $6)))
     and not (exists (select 1 from user_domain_blocks d0 where d0.actor_id = $1) and exists (
         select 1 from user_domain_blocks d join actors a on a.domain = d.domain
         where d.actor_id = $1
           and (a.id = p.author_id
                or a.id = (select r.author_id from posts r where r.id = p.reblog_of_id))))";

fn order(page: &Page) -> &'static str {
    if page.ascending() { "asc" } else { "desc" }
}

async fn read(
    db: impl PgExecutor<'_>,
    filter: &str,
    viewer: Option<i64>,
    extra: Option<&str>,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let sql = format!(
        "select p.* from posts p where {} and ({filter}) and {HIDDEN}
         order by p.id {} limit $4",
        live(&page),
        order(&page)
    );
    fetch(db, &sql, viewer, extra, page, now).await
}

/// Runs a timeline query with the parameters every one of them takes.
async fn fetch(
    db: impl PgExecutor<'_>,
    sql: &str,
    viewer: Option<i64>,
    extra: Option<&str>,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let mut posts: Vec<Post> = sqlx::query_as(sql)
        .bind(viewer.unwrap_or(0))
        .bind(page.max_id)
        .bind(page.lower())
        .bind(page.limit)
        .bind(extra)
        .bind(now)
        .fetch_all(db)
        .await?;
    if page.ascending() {
        posts.reverse();
    }
    Ok(posts)
}

/// A post `p` that enters `$1`'s home timeline through a hashtag it
/// follows, as Mastodon's fan-out to hashtag followers: a public original
/// post by someone else, stored since the hashtag was followed, whose
/// author is not limited by the moderators (unless followed), and that
/// mentions no account the viewer blocks or mutes. The first test is
/// uncorrelated (one look at `tag_follows` per query), so a viewer who
/// follows no hashtag pays nothing more per post.
const FOLLOWED_TAG: &str = "(exists (select 1 from tag_follows tf0 where tf0.actor_id = $1)
     and p.visibility = 'public' and p.reblog_of_id is null and p.author_id <> $1
     and exists (select 1 from post_tags pt
                 join tag_follows tf on tf.actor_id = $1 and tf.tag = pt.tag
                 where pt.post_id = p.id and p.created_at >= tf.created_at)
     and not exists (
         select 1 from actors sa
         where sa.id = p.author_id
           and (sa.silenced_at is not null
                or (sa.domain is not null and exists (
                      select 1 from domain_blocks b
                      where b.severity in ('silence', 'suspend')
                        and domain_covers(sa.domain, b.domain))))
           and not exists (select 1 from follows sf
                           where sf.follower_id = $1 and sf.followee_id = sa.id
                             and sf.state = 'accepted'))
     and not exists (
         select 1 from post_mentions pm
         where pm.post_id = p.id
           and (exists (select 1 from blocks b
                        where b.blocker_id = $1 and b.blocked_id = pm.actor_id)
                or exists (select 1 from mutes m
                           where m.actor_id = $1 and m.target_id = pm.actor_id
                             and (m.expires_at is null or m.expires_at > $6)))))";

/// How many of the newest posts (within the page bounds) the first way of
/// reading a home timeline looks at.
const HOME_WINDOW: i64 = 1000;

/// The viewer's own posts and those of the accounts it follows, their
/// reposts included (unless the follow hides them) and in the follow's
/// languages (when it names some); members of its exclusive lists are left
/// to those lists.
///
/// Read in one of two ways. First, newest first through all posts, keeping
/// the viewer's, but looking at no more than the newest `HOME_WINDOW`: that
/// fills a page after a few hundred rows when the followed accounts write a
/// fair share of what the instance holds. When it does not fill the page
/// (a new account, or one following a few quiet accounts, which would
/// otherwise read every post there is), the page is read per author
/// instead: at most a page from each followed account (an index-only scan
/// of `posts_author_live`), plus the direct posts of those accounts that
/// mention the viewer (found by walking the viewer's mentions), merged. That
/// costs about the number of accounts followed times the page size, and the
/// mentions walked, however sparse the timeline. Posts with a hashtag the
/// viewer follows ([`FOLLOWED_TAG`]) are read the same way: the first way
/// tests each of the window's posts; the second reads at most a page of
/// each followed hashtag's public posts from the hashtag's index
/// (`post_tags_tag`, newest first within the page bounds), merged with the
/// rest.
pub async fn home(
    db: &mut PgConnection,
    viewer: i64,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let filter = format!(
        "(p.author_id = $1 or (
             exists (
                 select 1 from follows fo
                 where fo.follower_id = $1 and fo.followee_id = p.author_id
                   and fo.state = 'accepted'
                   -- The follow's options: reposts, and languages.
                   and (fo.show_reblogs or p.reblog_of_id is null)
                   and (fo.languages is null or p.language is null
                        or split_part(p.language, '-', 1) = any (fo.languages)))
             and not exists (
                 select 1 from list_accounts m join lists l on l.id = m.list_id
                 where l.actor_id = $1 and l.exclusive and m.actor_id = p.author_id))
             or {FOLLOWED_TAG})
         and {VISIBLE} and {HIDDEN}"
    );
    let order = order(&page);
    let recent = format!(
        "select p.* from (select * from posts p where {} order by p.id {order} limit {HOME_WINDOW}) p
         where {filter} order by p.id {order} limit $4",
        live(&page)
    );
    let posts = fetch(&mut *db, &recent, Some(viewer), None, page, now).await?;
    if posts.len() as i64 >= page.limit {
        return Ok(posts);
    }
    // For the accounts followed (and not blocked either way) VISIBLE comes
    // down to: the viewer's own posts, and the others unless direct; direct
    // ones when they mention the viewer. The outer query checks VISIBLE
    // again all the same.
    let per_author = format!(
        "with authors as (
             select $1::bigint as id
             union
             select f.followee_id from follows f
             where f.follower_id = $1 and f.state = 'accepted'
               and not exists (select 1 from blocks b
                               where (b.blocker_id = $1 and b.blocked_id = f.followee_id)
                                  or (b.blocker_id = f.followee_id and b.blocked_id = $1))
         )
         select p.* from posts p
         where p.id in (
             select c.id from (
                 select l.id from authors a
                 cross join lateral (
                     select p.id from posts p
                     where p.author_id = a.id and {live}
                       and (p.visibility <> 'direct' or p.author_id = $1)
                     order by p.id {order} limit $4) l
                 union all
                 -- Newest mentions first, each post looked up by its key (a
                 -- scalar subquery, so that no plan joins all direct posts
                 -- of all the authors against every mention).
                 (select m.post_id from post_mentions m
                  where m.actor_id = $1{mention_bounds}
                    and (select q.visibility = 'direct' and q.deleted_at is null
                                and q.author_id = any (array(select id from authors))
                         from posts q where q.id = m.post_id)
                  order by m.post_id {order} limit $4)
                 union
                 -- A page of each followed hashtag, from its index.
                 select l.post_id from tag_follows tf
                 cross join lateral (
                     select t.post_id from post_tags t join posts q on q.id = t.post_id
                     where t.tag = tf.tag{tag_bounds}
                       and q.visibility = 'public' and q.reblog_of_id is null
                       and q.deleted_at is null and q.author_id <> $1
                       and q.created_at >= tf.created_at
                     order by t.post_id {order} limit $4) l
                 where tf.actor_id = $1
             ) c
             order by c.id {order} limit $4)
           and {live} and {filter}
         order by p.id {order} limit $4",
        live = live(&page),
        mention_bounds = bounds(&page, "m.post_id"),
        tag_bounds = bounds(&page, "t.post_id"),
    );
    fetch(&mut *db, &per_author, Some(viewer), None, page, now).await
}

/// The posts of a list's (`$5`) members, their reposts included, as the
/// list's owner (the viewer) may see them; direct messages stay out of lists,
/// as in Mastodon. Replies to others than the
/// author itself and the owner are shown as the list's policy says.
pub async fn list(
    db: impl PgExecutor<'_>,
    viewer: i64,
    list_id: i64,
    replies: RepliesPolicy,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let replies_to = match replies {
        RepliesPolicy::Followed => {
            "or exists (select 1 from follows f where f.follower_id = $1
                        and f.followee_id = parent.author_id and f.state = 'accepted')"
        }
        RepliesPolicy::List => {
            "or exists (select 1 from list_accounts o where o.list_id = $5::text::bigint
                        and o.actor_id = parent.author_id)"
        }
        RepliesPolicy::None => "",
    };
    let filter = format!(
        "p.author_id in (select m.actor_id from list_accounts m where m.list_id = $5::text::bigint)
         and p.visibility <> 'direct'
         and (p.in_reply_to_ap_id is null
              or exists (select 1 from posts parent where parent.id = p.in_reply_to_id
                         and (parent.author_id = p.author_id or parent.author_id = $1
                              {replies_to})))
         and {VISIBLE}"
    );
    read(
        db,
        &filter,
        Some(viewer),
        Some(&list_id.to_string()),
        page,
        now,
    )
    .await
}

/// The viewer's direct posts and the direct posts that mention it (the
/// direct timeline Mastodon served before conversations), newest first;
/// posts of accounts it mutes or blocks stay out, as on every timeline.
pub async fn direct(
    db: impl PgExecutor<'_>,
    viewer: i64,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let filter = format!(
        "p.visibility = 'direct' and p.reblog_of_id is null
         and (p.author_id = $1
              or exists (select 1 from post_mentions dm where dm.post_id = p.id and dm.actor_id = $1))
         and {VISIBLE}"
    );
    read(db, &filter, Some(viewer), None, page, now).await
}

/// Which public timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Local,
    Remote,
    All,
}

/// The condition that keeps posts of local, remote or all authors.
fn origin(scope: Scope) -> &'static str {
    match scope {
        Scope::Local => {
            "and exists (select 1 from actors a where a.id = p.author_id and a.domain is null)"
        }
        Scope::Remote => {
            "and exists (select 1 from actors a where a.id = p.author_id and a.domain is not null)"
        }
        Scope::All => "",
    }
}

/// Posts of silenced accounts and of accounts on silenced domains stay out
/// of public timelines, except for their followers and themselves
/// (Mastodon's "limited").
pub(crate) const NOT_SILENCED: &str = "not exists (
         select 1 from actors sa
         where sa.id = p.author_id
           and (sa.silenced_at is not null
                or (sa.domain is not null and exists (
                      select 1 from domain_blocks b
                      where b.severity in ('silence', 'suspend')
                        and domain_covers(sa.domain, b.domain))))
           and sa.id <> $1
           and not exists (select 1 from follows sf
                           where sf.follower_id = $1 and sf.followee_id = sa.id
                             and sf.state = 'accepted'))";

/// Public original posts, local, remote or all.
pub async fn public(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    scope: Scope,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let filter = format!(
        "p.visibility = 'public' and p.reblog_of_id is null {} and {VISIBLE} and {NOT_SILENCED}",
        origin(scope)
    );
    read(db, &filter, viewer, None, page, now).await
}

/// Public posts with a hashtag (`$5`), local, remote or all.
pub async fn tag(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    tag: &str,
    scope: Scope,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    // The page bounds are repeated on t.post_id so that the scan can start
    // from the tag's entries as well as from the posts.
    let filter = format!(
        "p.visibility = 'public' and p.reblog_of_id is null {}
         and exists (select 1 from post_tags t where t.post_id = p.id and t.tag = $5{})
         and {VISIBLE} and {NOT_SILENCED}",
        origin(scope),
        bounds(&page, "t.post_id")
    );
    read(db, &filter, viewer, Some(tag), page, now).await
}

/// Public original posts that show the card `$5` (Mastodon's LinkFeed for
/// a trending link), by discoverable accounts, local, remote or all.
pub async fn link(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    card_id: i64,
    scope: Scope,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let filter = format!(
        "p.visibility = 'public' and p.reblog_of_id is null {}
         and exists (select 1 from post_preview_cards lc
                     where lc.post_id = p.id and lc.card_id = $5::text::bigint)
         and exists (select 1 from actors da where da.id = p.author_id and da.discoverable)
         and {VISIBLE} and {NOT_SILENCED}",
        origin(scope)
    );
    read(db, &filter, viewer, Some(&card_id.to_string()), page, now).await
}

/// What a profile shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileTab {
    /// Posts that are not replies (reposts included).
    Posts,
    /// Replies.
    Replies,
    /// Reposts only.
    Reposts,
}

/// Mastodon's filters of an account's statuses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub only_replies: bool,
    pub only_reblogs: bool,
    pub only_media: bool,
    /// Only posts with this hashtag (lower case).
    pub tagged: Option<String>,
}

impl From<ProfileTab> for AccountFilter {
    fn from(tab: ProfileTab) -> AccountFilter {
        match tab {
            ProfileTab::Posts => AccountFilter {
                exclude_replies: true,
                ..AccountFilter::default()
            },
            ProfileTab::Replies => AccountFilter {
                only_replies: true,
                ..AccountFilter::default()
            },
            ProfileTab::Reposts => AccountFilter {
                only_reblogs: true,
                ..AccountFilter::default()
            },
        }
    }
}

/// An account's posts (`$5`) as the viewer may see them. Mastodon keeps
/// replies to oneself (threads) with the posts when replies are excluded.
pub async fn profile(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    author: i64,
    filter: impl Into<AccountFilter>,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let f = filter.into();
    let mut conditions = vec!["p.author_id = $5::text::bigint".to_string()];
    if f.exclude_replies {
        conditions.push(
            "(p.in_reply_to_ap_id is null
              or exists (select 1 from posts parent where parent.id = p.in_reply_to_id
                         and parent.author_id = p.author_id))"
                .into(),
        );
    }
    if f.only_replies {
        conditions.push("p.in_reply_to_ap_id is not null".into());
    }
    if f.exclude_reblogs {
        conditions.push("p.reblog_of_id is null".into());
    }
    if f.only_reblogs {
        conditions.push("p.reblog_of_id is not null".into());
    }
    if f.only_media {
        conditions.push("exists (select 1 from attachments m where m.post_id = p.id)".into());
    }
    if let Some(tag) = &f.tagged {
        // Tags are matched as stored: lower case, letters, digits and `_`.
        let clean: String = tag
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == '_')
            .collect::<String>()
            .to_lowercase();
        conditions.push(format!(
            "exists (select 1 from post_tags t where t.post_id = p.id and t.tag = '{clean}')"
        ));
    }
    let filter = format!("{} and {VISIBLE}", conditions.join(" and "));
    read(db, &filter, viewer, Some(&author.to_string()), page, now).await
}

/// An account's own posts (`$5`; not its reposts) that the viewer may see,
/// newest first, whether or not the viewer muted it: what a report of the
/// account can name.
pub async fn reportable(
    db: impl PgExecutor<'_>,
    viewer: i64,
    author: i64,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let sql = format!(
        "select p.* from posts p
         where {} and p.author_id = $5::text::bigint and p.reblog_of_id is null and {VISIBLE}
         order by p.id {} limit $4",
        live(&page),
        order(&page)
    );
    fetch(db, &sql, Some(viewer), Some(&author.to_string()), page, now).await
}

/// The chain of posts above `post_id`, nearest last (at most 40), without
/// what the viewer chose not to see (see [`HIDDEN`]; `now` for mutes).
pub async fn ancestors(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    post_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let hidden = HIDDEN.replace("$6", "$3");
    let sql = format!(
        "with recursive up (id, depth) as (
             select in_reply_to_id, 1 from posts where id = $2 and in_reply_to_id is not null
             union all
             select p.in_reply_to_id, up.depth + 1 from posts p join up on p.id = up.id
             where p.in_reply_to_id is not null and up.depth < 40
         )
         select p.* from posts p join up on p.id = up.id
         where p.deleted_at is null and {VISIBLE} and {hidden}
         order by up.depth desc"
    );
    sqlx::query_as(&sql)
        .bind(viewer.unwrap_or(0))
        .bind(post_id)
        .bind(now)
        .fetch_all(db)
        .await
}

/// A reply `p` that is in the thread for viewer `$1`: not hidden by the
/// author of the post it answers, unless the viewer wrote either of them.
/// What lies below a hidden reply is hidden with it.
const SHOWN: &str = "(p.reply_hidden_at is null or p.author_id = $1
     or exists (select 1 from posts q where q.id = p.in_reply_to_id and q.author_id = $1))";

/// The replies below `post_id`, depth first in the order they were written
/// (at most 4000), without hidden ones (see [`SHOWN`]).
pub async fn descendants(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    post_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let hidden = HIDDEN.replace("$6", "$3");
    let sql = format!(
        "with recursive down (id, path) as (
             select id, array[id] from posts p where in_reply_to_id = $2 and {SHOWN}
             union all
             select p.id, down.path || p.id from posts p join down on p.in_reply_to_id = down.id
             where cardinality(down.path) < 100 and not p.id = any(down.path) and {SHOWN}
         )
         select p.* from posts p join (select id, path from down limit 4000) d on d.id = p.id
         where p.deleted_at is null and {VISIBLE} and {hidden}
         order by d.path"
    );
    sqlx::query_as(&sql)
        .bind(viewer.unwrap_or(0))
        .bind(post_id)
        .bind(now)
        .fetch_all(db)
        .await
}

/// Ids of the public and unlisted direct replies to a post, oldest first.
pub async fn public_reply_ids(
    db: impl PgExecutor<'_>,
    post_id: i64,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select ap_id from posts
         where in_reply_to_id = $1 and deleted_at is null and visibility in ('public', 'unlisted')
           and reply_hidden_at is null
         order by id limit $2",
    )
    .bind(post_id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// How far back the For you feed looks for the posts of accounts followed
/// and interacted with (trending posts are as old as trends keep them).
pub const FOR_YOU_WINDOW_HOURS: i64 = 72;
/// At most this many accounts followed (those that posted last) and this
/// many accounts interacted with are read, each for at most
/// `FOR_YOU_PER_AUTHOR` posts; at most `FOR_YOU_TRENDING` trending posts.
/// With `FOR_YOU_INTERACTIONS` likes and as many replies and reposts read,
/// the candidate set is at most 550 × 10 + 100 posts, whatever the size of
/// the database, each found by an index.
pub const FOR_YOU_FOLLOWED: i64 = 500;
pub const FOR_YOU_INTERACTED: i64 = 50;
pub const FOR_YOU_PER_AUTHOR: i64 = 10;
pub const FOR_YOU_TRENDING: i64 = 100;
pub const FOR_YOU_INTERACTIONS: i64 = 200;

/// What the For you feed may take from trends: nothing when trends are off,
/// else the posts the moderators let trend (as `db::trends::trending_posts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrendsUse {
    Off,
    Reviewed,
    NotRejected,
}

/// The For you feed of `$1`: public original posts by others, ranked.
///
/// Candidates, each read through an index and bounded:
/// - the posts of the last `FOR_YOU_WINDOW_HOURS` (`$2`, the lowest post id
///   of the window) of the `FOR_YOU_FOLLOWED` accounts followed that posted
///   last (`account_stats.last_post_at`), `FOR_YOU_PER_AUTHOR` each
///   (`posts_author_live`);
/// - the same of the `FOR_YOU_INTERACTED` accounts the viewer interacted
///   with most among its latest `FOR_YOU_INTERACTIONS` likes
///   (`likes_actor`) and latest as many replies and reposts
///   (`posts_author`);
/// - the `FOR_YOU_TRENDING` posts trending most (`post_trends_score`).
///
/// Each is scored (the formula README.md documents):
///
/// ```text
/// score = (3·F + 2·I + 2·T + ln(1 + likes + 2·reposts + replies)) · 0.5^(age_hours / 24)
/// ```
///
/// F = 1 when the viewer follows the author; I = min(n, 10) / 10, n the
/// author's share of the interactions read; T = 1 when the post trends
/// here. Then the home timeline's rules: what the viewer may see
/// ([`VISIBLE`]), what it chose not to see ([`HIDDEN`]: mutes, blocks,
/// its domain blocks), accounts the moderators limited ([`NOT_SILENCED`]).
/// Ties go to the newer post; `$3`/`$4` are the limit and offset, `$6` the
/// present.
pub async fn for_you(
    db: impl PgExecutor<'_>,
    viewer: i64,
    trends: TrendsUse,
    limit: i64,
    offset: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let since = now - chrono::Duration::hours(FOR_YOU_WINDOW_HOURS);
    // Post ids begin with their time in milliseconds (`next_post_id`).
    let lowest_id = since.timestamp_millis().max(0) << 16;
    let trend_ok = match trends {
        TrendsUse::Off => "false",
        TrendsUse::Reviewed => "r.trendable",
        TrendsUse::NotRejected => "(r.trendable or r.trendable is null)",
    };
    let sql = format!(
        "with followed as (
             select f.followee_id as id
             from follows f join account_stats s on s.actor_id = f.followee_id
             where f.follower_id = $1 and f.state = 'accepted' and s.last_post_at >= $5
             order by s.last_post_at desc limit {FOR_YOU_FOLLOWED}
         ),
         interacted as (
             select x.author_id as id, count(*) as n from (
                 (select p.author_id from likes l join posts p on p.id = l.post_id
                  where l.actor_id = $1 order by l.id desc limit {FOR_YOU_INTERACTIONS})
                 union all
                 (select r.author_id from posts q
                  join posts r on r.id = coalesce(q.reblog_of_id, q.in_reply_to_id)
                  where q.author_id = $1 and q.deleted_at is null
                    and (q.reblog_of_id is not null or q.in_reply_to_id is not null)
                  order by q.id desc limit {FOR_YOU_INTERACTIONS})
             ) x
             where x.author_id <> $1
             group by x.author_id order by count(*) desc, x.author_id limit {FOR_YOU_INTERACTED}
         ),
         trending as (
             select t.post_id from post_trends t
             left join post_trend_reviews r on r.post_id = t.post_id
             where {trend_ok}
             order by t.score desc, t.post_id desc limit {FOR_YOU_TRENDING}
         ),
         candidates as (
             select c.id from (select id from followed union select id from interacted) a
             cross join lateral (
                 select p.id from posts p
                 where p.author_id = a.id and p.deleted_at is null and p.id >= $2
                   and p.visibility = 'public' and p.reblog_of_id is null
                 order by p.id desc limit {FOR_YOU_PER_AUTHOR}) c
             union
             select post_id from trending
         )
         select p.* from (
             select p.*,
                 (3.0 * (exists (select 1 from follows f
                                 where f.follower_id = $1 and f.followee_id = p.author_id
                                   and f.state = 'accepted'))::int
                  + 2.0 * coalesce((select least(i.n, 10)::float8 / 10.0
                                    from interacted i where i.id = p.author_id), 0.0)
                  + 2.0 * (exists (select 1 from trending t where t.post_id = p.id))::int
                  + ln(1.0 + greatest(p.likes_count, 0) + 2.0 * greatest(p.reposts_count, 0)
                       + greatest(p.replies_count, 0)))
                 * power(0.5::float8,
                         greatest(extract(epoch from ($6 - p.published))::float8, 0.0) / 86400.0)
                 as for_you_score
             from posts p
             where p.id in (select id from candidates)
               and p.deleted_at is null and p.visibility = 'public' and p.reblog_of_id is null
               and p.author_id <> $1
               and {VISIBLE} and {HIDDEN} and {NOT_SILENCED}
         ) p
         order by p.for_you_score desc, p.id desc
         limit $3 offset $4"
    );
    sqlx::query_as(&sql)
        .bind(viewer)
        .bind(lowest_id)
        .bind(limit)
        .bind(offset.max(0))
        .bind(since)
        .bind(now)
        .fetch_all(db)
        .await
}
