//! Timeline reads: newest first, keyset-paginated on the post id
//! (`max_id`, `since_id`, `min_id` as Mastodon pages), visibility enforced in
//! SQL for the viewer.

use sqlx::PgExecutor;

use crate::db::posts::Post;

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

/// Conditions every timeline shares: live rows, the page bounds.
const PAGE: &str = "p.deleted_at is null
     and ($2::bigint is null or p.id < $2)
     and ($3::bigint is null or p.id > $3)";

/// What `$1` (the viewer) may see: public and unlisted posts, followers-only
/// posts of accounts it follows, posts that mention it, its own; nothing of
/// accounts it blocks or that block it.
const VISIBLE: &str = "(p.author_id = $1
      or p.visibility in ('public', 'unlisted')
      or (p.visibility = 'private' and exists (
             select 1 from follows f
             where f.follower_id = $1 and f.followee_id = p.author_id and f.state = 'accepted'))
      or exists (select 1 from post_mentions m where m.post_id = p.id and m.actor_id = $1))
     and not exists (select 1 from blocks b
                     where (b.blocker_id = $1 and b.blocked_id = p.author_id)
                        or (b.blocker_id = p.author_id and b.blocked_id = $1))";

/// What `$1` chose not to see: accounts it mutes (until `$6`, the
/// present) and whole domains it blocks for itself, as authors and as the
/// authors of reposted posts.
const HIDDEN: &str = "not exists (
         select 1 from mutes m
         where m.actor_id = $1
           and (m.target_id = p.author_id
                or m.target_id = (select r.author_id from posts r where r.id = p.reblog_of_id))
           and (m.expires_at is null or m.expires_at > $6))
     and not exists (
         select 1 from user_domain_blocks d join actors a on a.domain = d.domain
         where d.actor_id = $1
           and (a.id = p.author_id
                or a.id = (select r.author_id from posts r where r.id = p.reblog_of_id)))";

async fn read(
    db: impl PgExecutor<'_>,
    filter: &str,
    viewer: Option<i64>,
    extra: Option<&str>,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let order = if page.ascending() { "asc" } else { "desc" };
    let sql = format!(
        "select p.* from posts p where {PAGE} and ({filter}) and {HIDDEN}
         order by p.id {order} limit $4"
    );
    let mut posts: Vec<Post> = sqlx::query_as(&sql)
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

/// The viewer's own posts and those of the accounts it follows, their
/// reposts included.
pub async fn home(
    db: impl PgExecutor<'_>,
    viewer: i64,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let filter = format!(
        "(p.author_id = $1 or p.author_id in (
             select followee_id from follows where follower_id = $1 and state = 'accepted'))
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

/// Public original posts, local, remote or all.
pub async fn public(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    scope: Scope,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let origin = match scope {
        Scope::Local => {
            "and exists (select 1 from actors a where a.id = p.author_id and a.domain is null)"
        }
        Scope::Remote => {
            "and exists (select 1 from actors a where a.id = p.author_id and a.domain is not null)"
        }
        Scope::All => "",
    };
    let filter =
        format!("p.visibility = 'public' and p.reblog_of_id is null {origin} and {VISIBLE}");
    read(db, &filter, viewer, None, page, now).await
}

/// Public posts with a hashtag (`$5`).
pub async fn tag(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    tag: &str,
    page: Page,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let filter = format!(
        "p.visibility = 'public' and p.reblog_of_id is null
         and exists (select 1 from post_tags t where t.post_id = p.id and t.tag = $5)
         and {VISIBLE}"
    );
    read(db, &filter, viewer, Some(tag), page, now).await
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

/// The chain of posts above `post_id`, nearest last (at most 40).
pub async fn ancestors(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    post_id: i64,
) -> Result<Vec<Post>, sqlx::Error> {
    let sql = format!(
        "with recursive up (id, depth) as (
             select in_reply_to_id, 1 from posts where id = $2 and in_reply_to_id is not null
             union all
             select p.in_reply_to_id, up.depth + 1 from posts p join up on p.id = up.id
             where p.in_reply_to_id is not null and up.depth < 40
         )
         select p.* from posts p join up on p.id = up.id
         where p.deleted_at is null and {VISIBLE}
         order by up.depth desc"
    );
    sqlx::query_as(&sql)
        .bind(viewer.unwrap_or(0))
        .bind(post_id)
        .fetch_all(db)
        .await
}

/// The replies below `post_id`, depth first in the order they were written
/// (at most 4000).
pub async fn descendants(
    db: impl PgExecutor<'_>,
    viewer: Option<i64>,
    post_id: i64,
) -> Result<Vec<Post>, sqlx::Error> {
    let sql = format!(
        "with recursive down (id, path) as (
             select id, array[id] from posts where in_reply_to_id = $2
             union all
             select p.id, down.path || p.id from posts p join down on p.in_reply_to_id = down.id
             where cardinality(down.path) < 100 and not p.id = any(down.path)
         )
         select p.* from posts p join (select id, path from down limit 4000) d on d.id = p.id
         where p.deleted_at is null and {VISIBLE}
         order by d.path"
    );
    sqlx::query_as(&sql)
        .bind(viewer.unwrap_or(0))
        .bind(post_id)
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
         order by id limit $2",
    )
    .bind(post_id)
    .bind(limit)
    .fetch_all(db)
    .await
}
