//! Reading local profiles: the actor, its counts, and pages of its followers,
//! following and outbox.

use sqlx::PgPool;

use crate::db::{self, actors::Actor, actors::ProfileField, follows::Side, posts::Post};
use crate::domain::{limits, names, text};
use crate::error::{Error, Result};
use crate::federation::{activities, actor::document, html};
use crate::service::remote_actors::{self, ResolveError};
use crate::service::{link_verification, media, outbox};
use crate::state::AppState;

/// A local person, whether or not it shares with the fediverse (for this
/// instance's own pages).
/// A deleted account answers 410 Gone.
pub async fn local_person(pool: &PgPool, username: &str) -> Result<Actor> {
    match db::actors::find_local_person(pool, username).await? {
        Some(actor) if actor.gone_at.is_some() => Err(Error::Gone),
        Some(actor) => Ok(actor),
        None => Err(Error::NotFound),
    }
}

/// A local person as other servers may see it: one whose account shares
/// with the fediverse. Others are unknown to them.
/// A deleted account answers 410 Gone, so that servers that knew it drop
/// it.
pub async fn shared_person(pool: &PgPool, username: &str) -> Result<Actor> {
    match db::actors::find_shared_person(pool, username).await? {
        Some(actor) => Ok(actor),
        None => local_person(pool, username).await.and(Err(Error::NotFound)),
    }
}

/// An account by what its web page's address names: `user` (local),
/// `user@host` (local when the host is this instance's). A remote account
/// is looked up over federation when `resolve` is set (a signed-in
/// visitor), else only if stored; a stored copy stands in while its
/// server is unreachable.
pub async fn by_acct(state: &AppState, acct: &str, resolve: bool) -> Result<Actor> {
    let acct = acct.trim().trim_start_matches('@');
    let Some((user, host)) = acct.split_once('@') else {
        return local_person(&state.db, acct).await;
    };
    if host.eq_ignore_ascii_case(&state.urls.domain()) {
        return local_person(&state.db, user).await;
    }
    if resolve {
        match remote_actors::resolve(state, acct).await {
            Ok(actor) => return Ok(actor),
            Err(ResolveError::Unavailable(reason)) => {
                tracing::info!(%acct, %reason, "showing the stored copy of an account");
            }
            Err(e) => return Err(e.into()),
        }
    }
    db::actors::find_remote_by_handle(&state.db, user, &host.to_lowercase())
        .await?
        .ok_or(Error::NotFound)
}

/// An account by what its web page's address names, for showing the page:
/// like [`by_acct`], with stored accounts read through `AppState::read`,
/// which a read replica may serve. The viewer's own account is the one
/// signed in, read on the primary.
pub async fn for_page(
    state: &AppState,
    viewer: Option<&Actor>,
    acct: &str,
    resolve: bool,
) -> Result<Actor> {
    let acct = acct.trim().trim_start_matches('@');
    let (user, host) = match acct.split_once('@') {
        None => (acct, None),
        Some((user, host)) => (user, Some(host)),
    };
    match host {
        Some(host) if !host.eq_ignore_ascii_case(&state.urls.domain()) => {
            match state
                .read
                .remote_by_handle(user, &host.to_lowercase())
                .await?
            {
                // The stored copy is shown at once; a stale one is
                // refreshed in the background, as Mastodon does, so that a
                // slow or dead server never holds the page up.
                Some(stored) => {
                    let stale = stored
                        .fetched_at
                        .is_none_or(|at| at <= state.clock.now() - remote_actors::STALE_AFTER);
                    if resolve && stale {
                        let (state, acct) = (state.clone(), acct.to_string());
                        state.background.clone().spawn(async move {
                            if let Err(e) = remote_actors::resolve(&state, &acct).await {
                                tracing::debug!(%acct, error = %e, "refreshing an account failed");
                            }
                        });
                    }
                    Ok(stored)
                }
                None if resolve => by_acct(state, acct, true).await,
                None => Err(Error::NotFound),
            }
        }
        _ => {
            if let Some(me) =
                viewer.filter(|me| me.is_local() && me.username.eq_ignore_ascii_case(user))
            {
                return Ok(me.clone());
            }
            match state.read.local_person(user).await? {
                Some(actor) if actor.gone_at.is_some() => Err(Error::Gone),
                Some(actor) => Ok(actor),
                None => Err(Error::NotFound),
            }
        }
    }
}

/// Any stored account by id.
pub async fn by_id(pool: &PgPool, id: i64) -> Result<Actor> {
    db::actors::find_by_id(pool, id)
        .await?
        .ok_or(Error::NotFound)
}

/// A local account's bio as typed.
pub async fn bio_source(pool: &PgPool, actor: &Actor) -> Result<String> {
    Ok(db::actors::summary_source(pool, actor.id).await?)
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

/// Mastodon's limits for local profiles.
pub const MAX_DISPLAY_NAME: usize = limits::DISPLAY_NAME;
pub const MAX_BIO: usize = limits::BIO;
pub const MAX_FIELDS: usize = limits::PROFILE_FIELDS;
pub const MAX_FIELD_LEN: usize = limits::PROFILE_FIELD;

/// A change to a local profile; None leaves a part as it is. Texts are
/// plain text, as people type them.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub bio: Option<String>,
    pub locked: Option<bool>,
    pub discoverable: Option<bool>,
    /// Public posts may be found by anyone's full-text search (Mastodon's
    /// `indexable`).
    pub indexable: Option<bool>,
    /// An automated account (Mastodon's `bot`): the actor's type becomes
    /// `Service`.
    pub bot: Option<bool>,
    pub fields: Option<Vec<(String, String)>>,
    /// A new avatar image, as uploaded (checked and re-encoded as media).
    pub avatar: Option<bytes::Bytes>,
    /// A new header image.
    pub header: Option<bytes::Bytes>,
    /// Back to the default avatar or header (a new image given wins).
    pub remove_avatar: bool,
    pub remove_header: bool,
}

/// Saves a local profile and sends Update(Person) to the servers that
/// follow the account.
pub async fn update(state: &AppState, actor: &Actor, change: ProfileUpdate) -> Result<Actor> {
    if !actor.is_local() {
        return Err(Error::Forbidden(
            "only local profiles are edited here".into(),
        ));
    }
    let display_name = match change.display_name {
        Some(name) => {
            let name = name.trim().to_string();
            if name.chars().count() > MAX_DISPLAY_NAME {
                return Err(Error::Validation(format!(
                    "a display name has at most {MAX_DISPLAY_NAME} characters"
                )));
            }
            // What would reorder or hide text around the name goes, as
            // from remote names.
            names::visible_text(&name).trim().to_string()
        }
        None => actor.display_name.clone(),
    };
    let summary_source = change.bio.as_deref().map(str::trim).map(String::from);
    let summary = match change.bio {
        Some(bio) => {
            if bio.chars().count() > MAX_BIO {
                return Err(Error::Validation(format!(
                    "a bio has at most {MAX_BIO} characters"
                )));
            }
            // Bios are rendered as posts are: links and hashtags.
            text::render(
                &text::tokenize(&bio),
                |_, _| None,
                |tag| state.urls.tag(tag),
            )
        }
        None => actor.summary.clone(),
    };
    let fields = match change.fields {
        Some(fields) => {
            if fields.len() > MAX_FIELDS {
                return Err(Error::Validation(format!(
                    "a profile has at most {MAX_FIELDS} fields"
                )));
            }
            let mut kept = Vec::new();
            for (name, value) in fields {
                if name.chars().count() > MAX_FIELD_LEN || value.chars().count() > MAX_FIELD_LEN {
                    return Err(Error::Validation(format!(
                        "profile field names and values have at most {MAX_FIELD_LEN} characters"
                    )));
                }
                if name.trim().is_empty() && value.trim().is_empty() {
                    continue;
                }
                let value = html::escape(value.trim());
                // An unchanged link keeps its verification (Mastodon's rule).
                let verified_at = actor
                    .fields
                    .0
                    .iter()
                    .find(|f| f.value == value)
                    .and_then(|f| f.verified_at);
                kept.push(ProfileField {
                    name: names::visible_text(name.trim()).trim().to_string(),
                    value,
                    verified_at,
                });
            }
            kept
        }
        None => actor.fields.0.clone(),
    };
    // Pictures are processed before the transaction (CPU work on a blocking
    // thread); an upload not taken because the update fails is swept later
    // as an unattached upload.
    let avatar = match change.avatar {
        Some(bytes) => Some(media::upload(state, actor, bytes, None, None).await?),
        None => None,
    };
    let header = match change.header {
        Some(bytes) => Some(media::upload(state, actor, bytes, None, None).await?),
        None => None,
    };
    let mut tx = state.db.begin().await?;
    let mut replaced = Vec::new();
    if let Some(upload) = &avatar {
        replaced
            .extend(db::uploads::set_profile_image(&mut tx, actor.id, upload.id, "avatar").await?);
        // The preview (at most 640x360) is avatar-sized.
        db::actors::set_picture(&mut *tx, actor.id, "avatar", Some(&upload.preview_url)).await?;
    } else if change.remove_avatar {
        replaced.extend(db::uploads::clear_profile_image(&mut tx, actor.id, "avatar").await?);
        db::actors::set_picture(&mut *tx, actor.id, "avatar", None).await?;
    }
    if let Some(upload) = &header {
        replaced
            .extend(db::uploads::set_profile_image(&mut tx, actor.id, upload.id, "header").await?);
        db::actors::set_picture(&mut *tx, actor.id, "header", Some(&upload.url)).await?;
    } else if change.remove_header {
        replaced.extend(db::uploads::clear_profile_image(&mut tx, actor.id, "header").await?);
        db::actors::set_picture(&mut *tx, actor.id, "header", None).await?;
    }
    if let Some(bot) = change.bot {
        db::actors::set_bot(&mut *tx, actor.id, bot).await?;
    }
    let updated = db::actors::update_local_profile(
        &mut *tx,
        actor.id,
        &display_name,
        &summary,
        summary_source.as_deref(),
        change.locked.unwrap_or(actor.manually_approves_followers),
        change.discoverable.unwrap_or(actor.discoverable),
        change.indexable.unwrap_or(actor.indexable),
        &fields,
        state.clock.now(),
    )
    .await?;
    queue_update(&mut tx, state, &updated).await?;
    tx.commit().await?;
    media::remove_files(state, &replaced).await;
    link_verification::check_if_needed(state, &updated);
    Ok(updated)
}

/// A local account's actor document, with the `Emoji` tags of the
/// instance's custom emoji its name, bio and fields use (none while it is
/// suspended: its profile is not shown).
pub async fn actor_document(
    db: impl sqlx::PgExecutor<'_>,
    state: &AppState,
    actor: &Actor,
) -> Result<crate::federation::actor::ActorDocument> {
    let mut doc = document(actor)?;
    if !doc.suspended && actor.is_local() {
        let texts = crate::service::custom_emoji::account_texts(actor);
        doc.tag = crate::service::custom_emoji::tags_for(db, state, &texts).await?;
    }
    Ok(doc)
}

/// Queues Update(Person) with the local actor's document as it now is, to
/// the servers of its followers, inside the caller's transaction.
pub async fn queue_update(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    updated: &Actor,
) -> Result<()> {
    if !db::users::is_federating(&mut *tx, updated.id).await? {
        return Ok(());
    }
    let activity = activities::update_actor(
        &activities::new_id(&state.urls),
        serde_json::to_value(actor_document(&mut *tx, state, updated).await?)
            .map_err(|e| anyhow::anyhow!(e))?,
        updated.followers_url.as_deref(),
    );
    let audience = outbox::Audience::followers_and(Vec::new());
    outbox::queue_to(tx, state, updated.id, &activity, audience).await?;
    Ok(())
}

/// A local account's privacy settings, as the web settings page sets them.
#[derive(Debug, Clone, Copy)]
pub struct Privacy {
    /// Followers need approval.
    pub locked: bool,
    /// Public posts may be found by full-text search (`indexable`).
    pub indexable: bool,
    pub fediverse_sharing: bool,
    pub default_visibility: crate::domain::visibility::Visibility,
    /// Search engines may index the account's pages (Mastodon's
    /// "include profile page in search engines").
    pub search_engine_indexing: bool,
}

/// Saves the privacy settings: each part that changed, as its own use case
/// does it (a locked account sends Update(Person); sharing switched off
/// tells other servers the account is gone).
pub async fn set_privacy(
    state: &AppState,
    user: &db::users::User,
    actor: &Actor,
    privacy: Privacy,
) -> Result<()> {
    if actor.manually_approves_followers != privacy.locked || actor.indexable != privacy.indexable {
        let change = ProfileUpdate {
            locked: Some(privacy.locked),
            indexable: Some(privacy.indexable),
            ..ProfileUpdate::default()
        };
        update(state, actor, change).await?;
    }
    set_fediverse_sharing(state, actor, privacy.fediverse_sharing).await?;
    let preferences = crate::service::accounts::Preferences {
        visibility: Some(privacy.default_visibility),
        ..Default::default()
    };
    crate::service::accounts::set_preferences(state, user, preferences).await?;
    if user.search_engine_indexing != privacy.search_engine_indexing {
        db::users::set_search_engine_indexing(&state.db, user.id, privacy.search_engine_indexing)
            .await?;
    }
    Ok(())
}

/// Switches fediverse sharing. Off: the account becomes unknown to other
/// servers: every server that knew it gets Delete(Person), its queued
/// deliveries are dropped and its relations with remote accounts end. On:
/// it is discoverable again (remote accounts follow it anew).
pub async fn set_fediverse_sharing(state: &AppState, actor: &Actor, on: bool) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let was = db::users::is_federating(&mut *tx, actor.id).await?;
    if was == on {
        return Ok(());
    }
    db::users::set_federating(&mut *tx, actor.id, on).await?;
    if !on {
        let now = state.clock.now();
        db::deliveries::cancel_pending_from(
            &mut *tx,
            actor.id,
            "fediverse sharing turned off",
            now,
        )
        .await?;
        let inboxes = known_inboxes(&mut tx, actor.id).await?;
        db::follows::delete_remote_relations(&mut *tx, actor.id).await?;
        let delete = activities::delete_actor(&activities::new_id(&state.urls), &actor.ap_id);
        outbox::queue(&mut tx, state, actor.id, &delete, &inboxes).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The inboxes of every server that knows a local account: those of the
/// accounts related to it by a follow either way or that took part in its
/// posts (likes, reposts, replies, mentions, blocks), and every inbox it
/// ever delivered to (one per server where we know its shared inbox).
pub(crate) async fn known_inboxes(
    tx: &mut sqlx::PgConnection,
    actor_id: i64,
) -> Result<Vec<String>> {
    let mut inboxes = db::follows::related_inboxes(&mut *tx, actor_id).await?;
    inboxes.extend(db::actors::interacted_inboxes(&mut *tx, actor_id).await?);
    for inbox in db::deliveries::delivered_inboxes(&mut *tx, actor_id).await? {
        inboxes.push(shared_inbox_for(tx, &inbox).await?);
    }
    inboxes.sort();
    inboxes.dedup();
    Ok(inboxes)
}

/// The shared inbox of the server behind a personal inbox we delivered to,
/// so that a server gets one Delete.
async fn shared_inbox_for(tx: &mut sqlx::PgConnection, inbox: &str) -> Result<String> {
    Ok(db::actors::shared_inbox_of(tx, inbox)
        .await?
        .unwrap_or_else(|| inbox.to_string()))
}

/// The author of a post.
pub async fn author_of(pool: &PgPool, post: &Post) -> Result<Actor> {
    db::actors::find_by_id(pool, post.author_id)
        .await?
        .ok_or(Error::NotFound)
}
