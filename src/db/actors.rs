//! The `actors` table: every account Skein knows, local and remote, and the
//! instance actor.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A row of `actors`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Actor {
    pub id: i64,
    pub ap_id: String,
    pub kind: String,
    pub username: String,
    pub domain: Option<String>,
    pub display_name: String,
    pub summary: String,
    pub url: Option<String>,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub featured_url: Option<String>,
    pub public_key_id: String,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    pub manually_approves_followers: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub fields: sqlx::types::Json<Vec<ProfileField>>,
    pub also_known_as: Vec<String>,
    pub moved_to: Option<String>,
    pub published: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub gone_at: Option<DateTime<Utc>>,
    pub key_refetched_at: Option<DateTime<Utc>>,
    /// Suspended by a moderator here.
    pub suspended_at: Option<DateTime<Utc>>,
    /// Silenced (limited) by a moderator here.
    pub silenced_at: Option<DateTime<Utc>>,
    /// Mastodon's "force sensitive": its posts' media are shown as
    /// sensitive while set.
    pub sensitized_at: Option<DateTime<Utc>>,
}

impl Actor {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }

    /// Where activities for this actor's whole server go: its shared inbox,
    /// or its own inbox when its server has none.
    pub fn server_inbox(&self) -> String {
        self.shared_inbox_url
            .clone()
            .unwrap_or_else(|| self.inbox_url.clone())
    }
}

/// A profile field ("name: value"); the value is HTML.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProfileField {
    pub name: String,
    pub value: String,
    /// When the link in `value` was found to link back with `rel="me"`;
    /// cleared whenever the value changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<DateTime<Utc>>,
}

/// What it takes to create a local actor; URLs are built by the caller from
/// the configured domain.
#[derive(Debug, Clone)]
pub struct NewLocalActor<'a> {
    pub kind: &'a str,
    pub username: &'a str,
    pub ap_id: &'a str,
    pub url: &'a str,
    pub inbox_url: &'a str,
    pub shared_inbox_url: &'a str,
    pub outbox_url: &'a str,
    pub followers_url: Option<&'a str>,
    pub following_url: Option<&'a str>,
    pub featured_url: Option<&'a str>,
    pub public_key_id: &'a str,
    pub public_key_pem: &'a str,
    pub private_key_pem: &'a str,
    pub manually_approves_followers: bool,
}

/// Unique constraint on lower(username) per domain.
pub const USERNAME_TAKEN: &str = "actors_local_username_key";

pub async fn insert_local(
    db: impl PgExecutor<'_>,
    new: &NewLocalActor<'_>,
) -> Result<Actor, sqlx::Error> {
    sqlx::query_as(
        "insert into actors (kind, username, ap_id, url, inbox_url, shared_inbox_url, outbox_url,
                             followers_url, following_url, featured_url, public_key_id,
                             public_key_pem, private_key_pem, manually_approves_followers)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         returning *",
    )
    .bind(new.kind)
    .bind(new.username)
    .bind(new.ap_id)
    .bind(new.url)
    .bind(new.inbox_url)
    .bind(new.shared_inbox_url)
    .bind(new.outbox_url)
    .bind(new.followers_url)
    .bind(new.following_url)
    .bind(new.featured_url)
    .bind(new.public_key_id)
    .bind(new.public_key_pem)
    .bind(new.private_key_pem)
    .bind(new.manually_approves_followers)
    .fetch_one(db)
    .await
}

/// A local Person by username, case-insensitively.
pub async fn find_local_person(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as(
        "select * from actors
         where domain is null and kind in ('Person', 'Service') and lower(username) = lower($1)",
    )
    .bind(username)
    .fetch_optional(db)
    .await
}

/// A local Person whose account shares with the fediverse: the only local
/// accounts other servers may see.
pub async fn find_shared_person(
    db: impl PgExecutor<'_>,
    username: &str,
) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as(
        "select a.* from actors a join users u on u.actor_id = a.id
         where a.domain is null and a.kind in ('Person', 'Service') and lower(a.username) = lower($1)
           and u.federating",
    )
    .bind(username)
    .fetch_optional(db)
    .await
}

/// The instance actor, if it was created.
pub async fn find_instance_actor(db: impl PgExecutor<'_>) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as("select * from actors where domain is null and kind = 'Application'")
        .fetch_optional(db)
        .await
}

pub async fn find_by_id(db: impl PgExecutor<'_>, id: i64) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as("select * from actors where id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Actors by id (those that exist), in one statement.
pub async fn find_by_ids(db: impl PgExecutor<'_>, ids: &[i64]) -> Result<Vec<Actor>, sqlx::Error> {
    sqlx::query_as("select * from actors where id = any($1)")
        .bind(ids)
        .fetch_all(db)
        .await
}

pub async fn find_by_ap_id(
    db: impl PgExecutor<'_>,
    ap_id: &str,
) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as("select * from actors where ap_id = $1")
        .bind(ap_id)
        .fetch_optional(db)
        .await
}

/// Inserts or refreshes a remote actor by its ActivityPub id. A local actor
/// is never overwritten: the update only applies to remote rows.
pub async fn upsert_remote(
    db: impl PgExecutor<'_>,
    actor: &crate::federation::actor::RemoteActor,
    domain: &str,
    now: DateTime<Utc>,
) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as(
        "insert into actors (ap_id, kind, username, domain, display_name, summary, url,
                             inbox_url, shared_inbox_url, outbox_url, followers_url,
                             following_url, featured_url, public_key_id, public_key_pem,
                             manually_approves_followers, discoverable, indexable, avatar_url,
                             header_url, fields, also_known_as, moved_to, published,
                             created_at, updated_at, fetched_at)
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18,
                -- Pictures from a domain whose media is rejected are not kept.
                case when media_rejected then null else $19 end,
                case when media_rejected then null else $20 end,
                $21, $22, $23, coalesce($24, $25), $25, $25, $25
         from (select exists (select 1 from domain_blocks b
                              where domain_covers($4, b.domain)
                                and (b.reject_media or b.severity = 'suspend'))
                      as media_rejected) r
         on conflict (ap_id) do update set
             kind = excluded.kind, username = excluded.username,
             display_name = excluded.display_name, summary = excluded.summary,
             url = excluded.url, inbox_url = excluded.inbox_url,
             shared_inbox_url = excluded.shared_inbox_url, outbox_url = excluded.outbox_url,
             followers_url = excluded.followers_url, following_url = excluded.following_url,
             featured_url = excluded.featured_url, public_key_id = excluded.public_key_id,
             public_key_pem = excluded.public_key_pem,
             manually_approves_followers = excluded.manually_approves_followers,
             discoverable = excluded.discoverable, indexable = excluded.indexable,
             avatar_url = excluded.avatar_url, header_url = excluded.header_url,
             -- Verification marks stay while the fields are unchanged.
             fields = case when (select coalesce(jsonb_agg(f - 'verified_at' order by i), '[]')
                                 from jsonb_array_elements(actors.fields) with ordinality t (f, i))
                                = excluded.fields
                           then actors.fields else excluded.fields end,
             also_known_as = excluded.also_known_as,
             moved_to = excluded.moved_to, updated_at = $25, fetched_at = $25, gone_at = null
         where actors.domain is not null
         returning *",
    )
    .bind(&actor.ap_id)
    .bind(&actor.kind)
    .bind(&actor.username)
    .bind(domain)
    .bind(&actor.display_name)
    .bind(&actor.summary)
    .bind(&actor.url)
    .bind(&actor.inbox_url)
    .bind(&actor.shared_inbox_url)
    .bind(&actor.outbox_url)
    .bind(&actor.followers_url)
    .bind(&actor.following_url)
    .bind(&actor.featured_url)
    .bind(&actor.public_key_id)
    .bind(&actor.public_key_pem)
    .bind(actor.manually_approves_followers)
    .bind(actor.discoverable)
    .bind(actor.indexable)
    .bind(&actor.avatar_url)
    .bind(&actor.header_url)
    .bind(sqlx::types::Json(&actor.fields))
    .bind(&actor.also_known_as)
    .bind(&actor.moved_to)
    .bind(actor.published)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// Replaces a remote actor's custom emoji (shortcode, image URL) with
/// those of its latest document; none are kept for a server whose media
/// are rejected.
pub async fn replace_emojis(
    db: &mut sqlx::PgConnection,
    actor_id: i64,
    emojis: &[(String, String)],
) -> Result<(), sqlx::Error> {
    sqlx::query("delete from actor_emojis where actor_id = $1")
        .bind(actor_id)
        .execute(&mut *db)
        .await?;
    if emojis.is_empty() {
        return Ok(());
    }
    let (codes, urls): (Vec<String>, Vec<String>) = emojis.iter().cloned().unzip();
    sqlx::query(
        "insert into actor_emojis (actor_id, shortcode, url)
         select $1, e.shortcode, e.url
         from unnest($2::text[], $3::text[]) as e (shortcode, url)
         join actors a on a.id = $1 and a.domain is not null
         where not exists (select 1 from domain_blocks b
                           where domain_covers(a.domain, b.domain)
                             and (b.reject_media or b.severity = 'suspend'))
         on conflict do nothing",
    )
    .bind(actor_id)
    .bind(&codes)
    .bind(&urls)
    .execute(&mut *db)
    .await
    .map(drop)
}

pub async fn mark_gone(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update actors set gone_at = $2 where id = $1 and domain is not null")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

pub async fn set_key_refetched(
    db: impl PgExecutor<'_>,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update actors set key_refetched_at = $2 where id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

/// The most recently fetched remote actor with this handle.
pub async fn find_remote_by_handle(
    db: impl PgExecutor<'_>,
    username: &str,
    domain: &str,
) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as(
        "select * from actors
         where domain = $2 and lower(username) = lower($1) and gone_at is null
         order by fetched_at desc nulls last limit 1",
    )
    .bind(username)
    .bind(domain)
    .fetch_optional(db)
    .await
}

/// Removes a remote actor and, by cascade, everything it posted and its
/// relations.
pub async fn delete_remote(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from actors where id = $1 and domain is not null")
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// Saves a local actor's editable profile.
#[allow(clippy::too_many_arguments)]
pub async fn update_local_profile(
    db: impl PgExecutor<'_>,
    id: i64,
    display_name: &str,
    summary: &str,
    summary_source: Option<&str>,
    manually_approves_followers: bool,
    discoverable: bool,
    indexable: bool,
    fields: &[ProfileField],
    now: DateTime<Utc>,
) -> Result<Actor, sqlx::Error> {
    sqlx::query_as(
        "update actors set display_name = $2, summary = $3, manually_approves_followers = $4,
                           discoverable = $5, fields = $6, updated_at = $7,
                           summary_source = coalesce($8, summary_source), indexable = $9
         where id = $1 and domain is null
         returning *",
    )
    .bind(id)
    .bind(display_name)
    .bind(summary)
    .bind(manually_approves_followers)
    .bind(discoverable)
    .bind(sqlx::types::Json(fields))
    .bind(now)
    .bind(summary_source)
    .bind(indexable)
    .fetch_one(db)
    .await
}

/// Marks a local person as automated (type `Service`, Mastodon's bot) or
/// not (`Person`).
pub async fn set_bot(db: impl PgExecutor<'_>, id: i64, bot: bool) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update actors set kind = case when $2 then 'Service' else 'Person' end
         where id = $1 and domain is null and kind in ('Person', 'Service')",
    )
    .bind(id)
    .bind(bot)
    .execute(db)
    .await
    .map(drop)
}

/// The bio of a local actor as its owner typed it.
pub async fn summary_source(db: impl PgExecutor<'_>, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("select summary_source from actors where id = $1")
        .bind(id)
        .fetch_one(db)
        .await
}

/// The shared inbox of the remote actor with this personal inbox, if any.
pub async fn shared_inbox_of(
    db: impl PgExecutor<'_>,
    inbox: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select shared_inbox_url from actors
         where (inbox_url = $1 or shared_inbox_url = $1) and shared_inbox_url is not null
         limit 1",
    )
    .bind(inbox)
    .fetch_optional(db)
    .await
}

/// The remote actor whose key has this id.
pub async fn find_by_key_id(
    db: impl PgExecutor<'_>,
    key_id: &str,
) -> Result<Option<Actor>, sqlx::Error> {
    sqlx::query_as("select * from actors where public_key_id = $1 and domain is not null limit 1")
        .bind(key_id)
        .fetch_optional(db)
        .await
}

/// Sets a local actor's avatar or header URL.
pub async fn set_picture(
    db: impl PgExecutor<'_>,
    id: i64,
    which: &str,
    url: Option<&str>,
) -> Result<(), sqlx::Error> {
    let sql = match which {
        "avatar" => "update actors set avatar_url = $2 where id = $1 and domain is null",
        _ => "update actors set header_url = $2 where id = $1 and domain is null",
    };
    sqlx::query(sql)
        .bind(id)
        .bind(url)
        .execute(db)
        .await
        .map(drop)
}

/// Marks the fields of an actor whose value is one of `values` verified at
/// `now`; fields changed since they were checked are left alone. Returns
/// how many fields were marked.
pub async fn mark_fields_verified(
    db: impl PgExecutor<'_>,
    actor_id: i64,
    values: &[String],
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let marked: Option<i64> = sqlx::query_scalar(
        "with marked as (
             select coalesce(jsonb_agg(case when f->>'value' = any($2) and not f ? 'verified_at'
                                            then f || jsonb_build_object('verified_at', $3::timestamptz)
                                            else f end
                                       order by i), '[]') as fields,
                    count(*) filter (where f->>'value' = any($2) and not f ? 'verified_at') as n
             from actors a, jsonb_array_elements(a.fields) with ordinality t (f, i)
             where a.id = $1
         )
         update actors set fields = marked.fields from marked
         where actors.id = $1 and marked.n > 0
         returning marked.n",
    )
    .bind(actor_id)
    .bind(values)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(marked.unwrap_or(0) as u64)
}

/// Sets a local actor's aliases (`alsoKnownAs`): the accounts allowed to
/// move here.
pub async fn set_also_known_as(
    db: impl PgExecutor<'_>,
    id: i64,
    aliases: &[String],
    now: DateTime<Utc>,
) -> Result<Actor, sqlx::Error> {
    sqlx::query_as(
        "update actors set also_known_as = $2, updated_at = $3
         where id = $1 and domain is null
         returning *",
    )
    .bind(id)
    .bind(aliases)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Marks an actor (local or remote) as moved to the account `target`.
pub async fn set_moved_to(
    db: impl PgExecutor<'_>,
    id: i64,
    target: &str,
    now: DateTime<Utc>,
) -> Result<Actor, sqlx::Error> {
    sqlx::query_as(
        "update actors set moved_to = $2, updated_at = $3
         where id = $1
         returning *",
    )
    .bind(id)
    .bind(target)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Removes a local actor's row; everything that references it goes with it
/// (its user, sessions and tokens, posts, likes, follows, uploads' rows,
/// queued deliveries).
pub async fn delete_local(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("delete from actors where id = $1 and domain is null")
        .bind(id)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// What stays of a deleted local account: its ids and key (so that its
/// Delete can still be signed and checked) and its username (so that no one
/// takes it), with no profile, gone since `now`.
pub async fn insert_tombstone(
    db: impl PgExecutor<'_>,
    deleted: &Actor,
    now: DateTime<Utc>,
) -> Result<Actor, sqlx::Error> {
    sqlx::query_as(
        "insert into actors (kind, username, ap_id, url, inbox_url, shared_inbox_url, outbox_url,
                             followers_url, following_url, featured_url, public_key_id,
                             public_key_pem, private_key_pem, published, gone_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
         returning *",
    )
    .bind(&deleted.kind)
    .bind(&deleted.username)
    .bind(&deleted.ap_id)
    .bind(&deleted.url)
    .bind(&deleted.inbox_url)
    .bind(&deleted.shared_inbox_url)
    .bind(&deleted.outbox_url)
    .bind(&deleted.followers_url)
    .bind(&deleted.following_url)
    .bind(&deleted.featured_url)
    .bind(&deleted.public_key_id)
    .bind(&deleted.public_key_pem)
    .bind(&deleted.private_key_pem)
    .bind(deleted.published)
    .bind(now)
    .fetch_one(db)
    .await
}

/// Sets or lifts a moderator's suspension.
pub async fn set_suspended(
    db: impl PgExecutor<'_>,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update actors set suspended_at = $2 where id = $1")
        .bind(id)
        .bind(at)
        .execute(db)
        .await
        .map(drop)
}

/// Sets or lifts a moderator's silence.
pub async fn set_silenced(
    db: impl PgExecutor<'_>,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update actors set silenced_at = $2 where id = $1")
        .bind(id)
        .bind(at)
        .execute(db)
        .await
        .map(drop)
}

pub async fn set_sensitized(
    db: impl PgExecutor<'_>,
    id: i64,
    at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    sqlx::query("update actors set sensitized_at = $2 where id = $1")
        .bind(id)
        .bind(at)
        .execute(db)
        .await
        .map(drop)
}

/// Whether an account is suspended here.
pub async fn is_suspended(db: impl PgExecutor<'_>, id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "select exists (select 1 from actors where id = $1 and suspended_at is not null)",
    )
    .bind(id)
    .fetch_one(db)
    .await
}

/// Which accounts an admin listing shows (Mastodon's admin account filters).
#[derive(Debug, Clone, Default)]
pub struct AdminFilter<'a> {
    /// `local`, `remote`, or all.
    pub origin: Option<&'a str>,
    pub domain: Option<&'a str>,
    pub pending: bool,
    pub suspended: bool,
    pub silenced: bool,
    pub staff: bool,
    /// Usernames starting with this (case-insensitive).
    pub username: Option<&'a str>,
    pub max_id: Option<i64>,
    pub limit: i64,
}

/// Accounts for moderators, newest first: people (local and remote), not
/// the instance actor or deleted accounts.
pub async fn admin_list(
    db: impl PgExecutor<'_>,
    f: &AdminFilter<'_>,
) -> Result<Vec<Actor>, sqlx::Error> {
    sqlx::query_as(
        "select a.* from actors a left join users u on u.actor_id = a.id
         where not (a.domain is null and a.kind = 'Application') and a.gone_at is null
           and ($1::text is null or ($1 = 'local' and a.domain is null)
                or ($1 = 'remote' and a.domain is not null))
           and ($2::text is null or a.domain = lower($2))
           and (not $3 or (u.id is not null and not u.approved))
           and (not $4 or a.suspended_at is not null)
           and (not $5 or a.silenced_at is not null)
           and (not $6 or u.role in ('moderator', 'admin'))
           and ($7::text is null
                or lower(a.username) like replace(replace(replace(lower($7), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%')
           and ($8::bigint is null or a.id < $8)
         order by a.id desc
         limit $9",
    )
    .bind(f.origin)
    .bind(f.domain)
    .bind(f.pending)
    .bind(f.suspended)
    .bind(f.silenced)
    .bind(f.staff)
    .bind(f.username)
    .bind(f.max_id)
    .bind(f.limit)
    .fetch_all(db)
    .await
}

/// The inboxes (shared ones where known) of the remote actors that took
/// part in what a local actor wrote or was named in: who liked, reposted or
/// answered its posts, who mentioned it, who its posts mentioned, and who
/// blocked it or was blocked by it. Their servers know the account without
/// following it.
pub async fn interacted_inboxes(
    db: impl PgExecutor<'_>,
    actor_id: i64,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select distinct coalesce(a.shared_inbox_url, a.inbox_url) from actors a
         where a.domain is not null and a.gone_at is null and a.id in (
             select l.actor_id from likes l join posts p on p.id = l.post_id
             where p.author_id = $1
             union select r.author_id from posts r join posts p
                 on p.id = r.reblog_of_id or p.id = r.in_reply_to_id
             where p.author_id = $1
             union select p.author_id from post_mentions m join posts p on p.id = m.post_id
             where m.actor_id = $1
             union select m.actor_id from post_mentions m join posts p on p.id = m.post_id
             where p.author_id = $1
             union select case when b.blocker_id = $1 then b.blocked_id else b.blocker_id end
             from blocks b where b.blocker_id = $1 or b.blocked_id = $1)",
    )
    .bind(actor_id)
    .fetch_all(db)
    .await
}

/// Whether the moderators limited an account: silenced, or on a silenced
/// domain (Mastodon's "limited": its follows wait for approval).
pub async fn is_limited(db: impl PgExecutor<'_>, actor_id: i64) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(concat!(
        "select exists (select 1 from actors a where a.id = $1 and ",
        limited_actor!("a"),
        ")"
    ))
    .bind(actor_id)
    .fetch_one(db)
    .await
}
