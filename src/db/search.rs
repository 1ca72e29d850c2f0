//! Full-text search of posts (`post_search_documents`, kept by triggers:
//! see the migration `post_search`): the posts a query matches that the
//! viewer may find, newest first.
//!
//! Who finds what is Mastodon's rule: the viewer's library (its own posts
//! and those it liked, reposted, bookmarked, voted in, was mentioned in,
//! replied to, or that replied to it) and the public posts of accounts that
//! opted in (`indexable`); always within what the viewer may see
//! (`timelines::VISIBLE`), without what it chose not to see
//! (`timelines::HIDDEN`), and without accounts the moderators limited
//! unless followed (`timelines::NOT_SILENCED`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::db::posts::Post;
use crate::db::timelines::{HIDDEN, NOT_SILENCED, VISIBLE};
use crate::domain::search::{Condition, Scope};

/// Text search configuration of documents and queries alike.
const CONFIG: &str = "'simple'";

/// A condition with the account `from:` names already looked up (None: no
/// such account, which matches no post).
#[derive(Debug, Clone)]
pub struct Clause {
    pub negated: bool,
    pub condition: Condition,
    pub author_id: Option<i64>,
}

/// A search as the store runs it.
#[derive(Debug, Clone)]
pub struct StatusSearch {
    pub viewer: i64,
    pub clauses: Vec<Clause>,
    pub scope: Scope,
    /// Only this account's posts (`account_id`).
    pub account_id: Option<i64>,
    pub max_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

/// The viewer's library: the post is `$1`'s, or `$1` interacted with it.
const LIBRARY: &str = "(p.author_id = $1
     or exists (select 1 from likes l where l.post_id = p.id and l.actor_id = $1)
     or exists (select 1 from bookmarks b where b.post_id = p.id and b.actor_id = $1)
     or exists (select 1 from posts r where r.reblog_of_id = p.id and r.author_id = $1
                                      and r.deleted_at is null)
     or exists (select 1 from poll_votes v where v.post_id = p.id and v.actor_id = $1)
     or exists (select 1 from post_mentions m where m.post_id = p.id and m.actor_id = $1)
     or exists (select 1 from posts q where q.id = p.in_reply_to_id and q.author_id = $1)
     or exists (select 1 from posts q where q.in_reply_to_id = p.id and q.author_id = $1
                                      and q.deleted_at is null))";

/// Public posts of accounts that opted in to search.
const INDEXABLE: &str = "(p.visibility = 'public'
     and exists (select 1 from actors ia where ia.id = p.author_id and ia.indexable))";

enum Arg {
    Int(i64),
    Text(String),
    Time(DateTime<Utc>),
}

/// Collects bind values after the two fixed ones (`$1` the viewer, `$2`
/// the present), handing out their placeholders.
struct Args(Vec<Arg>);

impl Args {
    fn push(&mut self, arg: Arg) -> String {
        self.0.push(arg);
        format!("${}", self.0.len() + 2)
    }
}

/// The SQL of one condition (never null, so that `not` negates it).
fn condition_sql(clause: &Clause, args: &mut Args) -> String {
    match &clause.condition {
        Condition::Words(words) => format!(
            "s.document @@ plainto_tsquery({CONFIG}, {})",
            args.push(Arg::Text(words.clone()))
        ),
        Condition::Phrase(phrase) => format!(
            "s.document @@ phraseto_tsquery({CONFIG}, {})",
            args.push(Arg::Text(phrase.clone()))
        ),
        Condition::Tag(tag) => format!(
            "exists (select 1 from post_tags t where t.post_id = p.id and t.tag = {})",
            args.push(Arg::Text(tag.clone()))
        ),
        Condition::From(_) => match clause.author_id {
            Some(id) => format!("p.author_id = {}", args.push(Arg::Int(id))),
            None => "false".into(),
        },
        Condition::Has(what) => has(what).into(),
        Condition::Is(what) => match what.as_str() {
            "reply" => "p.in_reply_to_ap_id is not null".into(),
            "sensitive" => "p.sensitive".into(),
            _ => "false".into(),
        },
        Condition::Language(code) => format!(
            "lower(split_part(replace(coalesce(p.language, ''), '_', '-'), '-', 1)) = {}",
            args.push(Arg::Text(code.clone()))
        ),
        Condition::Before(at) => format!("p.published < {}", args.push(Arg::Time(*at))),
        Condition::After(at) => format!("p.published >= {}", args.push(Arg::Time(*at))),
        Condition::During(start, end) => format!(
            "(p.published >= {} and p.published < {})",
            args.push(Arg::Time(*start)),
            args.push(Arg::Time(*end))
        ),
    }
}

/// What `has:` asks of a post, as Mastodon's searchable properties: media
/// of a kind, a poll, a link (a link preview, or a link in the text that is
/// no mention or hashtag), an embed (a video preview).
fn has(what: &str) -> &'static str {
    match what {
        "media" => "exists (select 1 from attachments a where a.post_id = p.id)",
        "image" => {
            "exists (select 1 from attachments a where a.post_id = p.id and a.kind = 'image')"
        }
        "video" => {
            "exists (select 1 from attachments a where a.post_id = p.id and a.kind = 'video')"
        }
        "audio" => {
            "exists (select 1 from attachments a where a.post_id = p.id and a.kind = 'audio')"
        }
        "poll" => "exists (select 1 from polls pl where pl.post_id = p.id)",
        "link" => {
            "(exists (select 1 from post_preview_cards c where c.post_id = p.id)
              or p.content ~* '<a (?![^>]*class=\"[^\"]*(mention|hashtag))[^>]*href=\"https?://')"
        }
        "embed" => {
            "exists (select 1 from post_preview_cards c join preview_cards k on k.id = c.card_id
                     where c.post_id = p.id and k.kind = 'video')"
        }
        _ => "false",
    }
}

/// The posts `search` finds, newest first: `limit` of them after skipping
/// `offset`, within `max_id`/`min_id`.
pub async fn statuses(
    db: impl PgExecutor<'_>,
    search: &StatusSearch,
    now: DateTime<Utc>,
) -> Result<Vec<Post>, sqlx::Error> {
    let mut args = Args(Vec::new());
    let mut conditions = vec![
        "p.deleted_at is null".to_string(),
        match search.scope {
            Scope::All => format!("({LIBRARY} or {INDEXABLE})"),
            Scope::Library => LIBRARY.to_string(),
            Scope::Public => INDEXABLE.to_string(),
        },
    ];
    for clause in &search.clauses {
        let sql = condition_sql(clause, &mut args);
        conditions.push(if clause.negated {
            format!("not ({sql})")
        } else {
            sql
        });
    }
    if let Some(id) = search.account_id {
        conditions.push(format!("p.author_id = {}", args.push(Arg::Int(id))));
    }
    if let Some(id) = search.max_id {
        conditions.push(format!("p.id < {}", args.push(Arg::Int(id))));
    }
    if let Some(id) = search.min_id {
        conditions.push(format!("p.id > {}", args.push(Arg::Int(id))));
    }
    let limit = args.push(Arg::Int(search.limit));
    let offset = args.push(Arg::Int(search.offset));
    let hidden = HIDDEN.replace("$6", "$2");
    let sql = format!(
        "select p.* from post_search_documents s join posts p on p.id = s.post_id
         where {} and {VISIBLE} and {hidden} and {NOT_SILENCED}
         order by p.id desc limit {limit} offset {offset}",
        conditions.join(" and ")
    );
    let mut query = sqlx::query_as::<_, Post>(&sql)
        .bind(search.viewer)
        .bind(now);
    for arg in args.0 {
        query = match arg {
            Arg::Int(v) => query.bind(v),
            Arg::Text(v) => query.bind(v),
            Arg::Time(v) => query.bind(v),
        };
    }
    query.fetch_all(db).await
}
