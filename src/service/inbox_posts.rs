//! Remote posts arriving in the inbox: Create and Delete of Notes (Question,
//! Article and Page read as Notes, as Mastodon does).
//!
//! An object is trusted only when it belongs to the sender: embedded objects
//! attributed to someone else are refused; objects sent by id are fetched
//! from their origin first. Mentions and notifications come from `tag`,
//! never from the HTML. A Delete that arrives before its Create leaves a
//! tombstone, so the post never appears.

use serde_json::Value;
use url::Url;

use crate::db::{self, actors::Actor};
use crate::domain::interaction::InteractionPolicy;
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::federation::fetch::{self, id_of};
use crate::federation::html;
use crate::service::discovery::authority;
use crate::service::reply_controls::{self, Verdict};
use crate::state::AppState;

type Tx<'a> = sqlx::Transaction<'a, sqlx::Postgres>;

/// Object types read as posts.
const POST_TYPES: [&str; 4] = ["Note", "Question", "Article", "Page"];

/// The longest content kept (Mastodon's JSON-LD limit is 1 MB in all).
const MAX_CONTENT: usize = 100_000;

/// The post type of an object: its `type`, or the first post type of a
/// `type` list (`["Note", "Article"]` is a Note, as Mastodon reads it).
fn post_type(object: &Value) -> Option<&str> {
    let kinds: Vec<&str> = match object.get("type") {
        Some(Value::String(kind)) => vec![kind],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    kinds.into_iter().find(|k| POST_TYPES.contains(k))
}

/// The object of a Create, fetched from its origin when only its id came.
/// Runs before the inbox's transaction, since it may go to the network.
pub async fn object_of_create(
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<Option<Value>> {
    match activity.get("object") {
        Some(object @ Value::Object(_)) => Ok(Some(object.clone())),
        Some(Value::String(id)) => {
            let url =
                Url::parse(id).map_err(|_| Error::BadRequest("the object is not a URL".into()))?;
            if authority(&url) != actor.domain.clone().unwrap_or_default() {
                return Err(Error::Forbidden(
                    "the object is not on its actor's host".into(),
                ));
            }
            match fetch::fetch_object(state, &url).await {
                Ok(object) => Ok(Some(object)),
                Err(e) => {
                    tracing::info!(object = %id, error = %e, "the object of a Create cannot be fetched");
                    Ok(None)
                }
            }
        }
        _ => Err(Error::BadRequest("the activity has no object".into())),
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| id_of(i).map(String::from))
            .collect(),
        Some(object @ Value::Object(_)) => id_of(object).map(String::from).into_iter().collect(),
        _ => Vec::new(),
    }
}

fn tags(object: &Value) -> Vec<&Value> {
    match object.get("tag") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(tag @ Value::Object(_)) => vec![tag],
        _ => Vec::new(),
    }
}

/// Create of a post by its author.
pub async fn on_create(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &Value,
    reply_approved: bool,
) -> Result<bool> {
    store(tx, state, actor, object, true, reply_approved).await
}

/// Stores a remote post. With `only_if_relevant`, only a post that concerns
/// this instance (see the module) is kept; parents fetched for a thread are
/// kept regardless. `reply_approved`: the reply's approval by the author of
/// the post it answers was checked (`reply_controls::approval_holds`).
async fn store(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &Value,
    only_if_relevant: bool,
    reply_approved: bool,
) -> Result<bool> {
    let Some(kind) = post_type(object) else {
        return Ok(false);
    };
    let ap_id = id_of(object).ok_or_else(|| Error::BadRequest("the object has no id".into()))?;
    let url =
        Url::parse(ap_id).map_err(|_| Error::BadRequest("the object id is not a URL".into()))?;
    let attributed = strings(object.get("attributedTo"));
    if !attributed.contains(&actor.ap_id) || Some(authority(&url)) != actor.domain {
        return Err(Error::Forbidden("the object is not the actor's own".into()));
    }
    if actor.suspended_at.is_some() {
        return Ok(false); // a suspended account's posts are not kept
    }
    // A post fetched by reference or embedded in another comes here without
    // the inbox's check of the activity: its quote is held to the policy.
    if let Some(host) = quoted_id(object)
        .and_then(|q| Url::parse(q).ok())
        .map(|q| authority(&q))
        && crate::service::domain_policy::refuses_in(tx, state, &host).await?
    {
        return Err(Error::Forbidden(format!(
            "this server does not federate with {host}"
        )));
    }
    if only_if_relevant && let Some(counted) = on_vote(tx, state, actor, object).await? {
        return Ok(counted);
    }
    if db::posts::find_by_ap_id(&mut **tx, ap_id).await?.is_some() {
        // Seen before, or deleted before it arrived: the tombstone wins.
        return Ok(false);
    }

    let to = strings(object.get("to"));
    let cc = strings(object.get("cc"));
    let visibility = Visibility::from_addressing(&to, &cc, actor.followers_url.as_deref());
    let mut mentioned = Vec::new();
    for tag in tags(object) {
        if tag.get("type").and_then(Value::as_str) == Some("Mention")
            && let Some(href) = tag.get("href").and_then(Value::as_str)
            && let Some(found) = db::actors::find_by_ap_id(&mut **tx, href).await?
            && !mentioned.iter().any(|a: &Actor| a.id == found.id)
        {
            mentioned.push(found);
        }
    }
    let in_reply_to = object.get("inReplyTo").and_then(id_of).map(String::from);
    let parent = match &in_reply_to {
        Some(id) => db::posts::find_by_ap_id(&mut **tx, id).await?,
        None => None,
    };
    // Only what concerns someone here is kept: posts of followed accounts,
    // posts mentioning or addressed to a local account, and replies to posts
    // we have.
    let followed = db::follows::has_local_follower(&mut **tx, actor.id).await?;
    let names_local =
        mentioned.iter().any(Actor::is_local) || addresses_local(tx, state, actor, object).await?;
    let quotes_local = match quoted_id(object) {
        Some(quoted) => match db::posts::find_by_ap_id(&mut **tx, quoted).await? {
            Some(q) => db::actors::find_by_id(&mut **tx, q.author_id)
                .await?
                .is_some_and(|a| a.is_local()),
            None => false,
        },
        None => false,
    };
    if only_if_relevant && !followed && !names_local && !quotes_local && parent.is_none() {
        return Ok(false);
    }
    // Reply controls: a reply the parent's policy refuses is not stored.
    if let Some(parent) = &parent
        && reply_controls::judge_reply(tx, state, actor, parent, object, reply_approved).await?
            != Verdict::Keep
    {
        return Ok(false);
    }

    let Text {
        content,
        summary,
        sensitive,
        language,
        hashtags,
    } = text_of(object);
    let published = published_of(object, state.clock.now());
    let page_url = match object.get("url") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(items)) => items.iter().find_map(|i| {
            id_of(i)
                .or(i.get("href").and_then(Value::as_str))
                .map(String::from)
        }),
        Some(link @ Value::Object(_)) => link.get("href").and_then(Value::as_str).map(String::from),
        _ => None,
    }
    // A page elsewhere would pass someone else's page off as the post's
    // (Mastodon drops it too and links the id).
    .filter(|u| {
        Url::parse(u).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && Some(authority(&u)) == actor.domain
        })
    });

    let post = db::posts::insert(
        tx,
        &db::posts::NewPost {
            id: None,
            ap_id,
            author_id: actor.id,
            url: page_url.as_deref(),
            content: &content,
            source: None,
            summary: &summary,
            sensitive,
            language: language.as_deref(),
            visibility: visibility.as_str(),
            in_reply_to_ap_id: in_reply_to.as_deref(),
            published,
        },
    )
    .await?;
    let ids: Vec<i64> = mentioned.iter().map(|a| a.id).collect();
    db::posts::add_mentions(&mut **tx, post.id, &ids).await?;
    let policy = InteractionPolicy::parse(object.get("interactionPolicy"));
    db::posts::set_interaction_policy(&mut **tx, post.id, policy.as_ref()).await?;
    let (attachments, emojis) = kept_media(tx, actor, object).await?;
    db::media::add_attachments(tx, post.id, &attachments).await?;
    db::media::add_emojis(&mut **tx, post.id, &emojis).await?;
    record_quote(tx, state, actor, &post, object).await?;
    if kind == "Question"
        && let Some((multiple, options)) = poll_options(object)
    {
        let expires_at = time_of(object, "endTime");
        let voters = voters_count(object, &options);
        db::polls::insert(&mut **tx, post.id, multiple, &options, expires_at, voters).await?;
    }
    db::posts::add_tags(&mut **tx, post.id, &hashtags).await?;
    if let Some(parent) = &parent {
        db::posts::add_replies(&mut **tx, parent.id, 1).await?;
    }
    if visibility == Visibility::Direct {
        let parent_id = parent.as_ref().map(|p| p.id);
        crate::service::conversations::on_direct_post(
            tx, state, &post, actor, &mentioned, parent_id,
        )
        .await?;
    }
    for local in mentioned.iter().filter(|a| a.is_local()) {
        db::notifications::notify(
            tx,
            local.id,
            "mention",
            actor.id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    if only_if_relevant {
        let own_thread = parent.as_ref().is_none_or(|p| p.author_id == actor.id);
        crate::service::posts::notify_followers(tx, state, &post, actor.id, own_thread, &mentioned)
            .await?;
    }
    Ok(true)
}

/// Delete of a post by its author: the post becomes a tombstone; a Delete of
/// a post not seen yet leaves one.
pub async fn on_delete(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object_id: &str,
) -> Result<bool> {
    let url =
        Url::parse(object_id).map_err(|_| Error::BadRequest("the object is not a URL".into()))?;
    match db::posts::find_by_ap_id(&mut **tx, object_id).await? {
        Some(post) => {
            if post.author_id != actor.id {
                return Err(Error::Forbidden("only the author may delete a post".into()));
            }
            if post.deleted_at.is_none() {
                db::posts::mark_deleted(tx, post.id, state.clock.now()).await?;
                if let Some(parent) = post.in_reply_to_id {
                    db::posts::add_replies(&mut **tx, parent, -1).await?;
                }
            }
            Ok(true)
        }
        None if Some(authority(&url)) == actor.domain => {
            db::posts::insert_tombstone(&mut **tx, object_id, actor.id, state.clock.now()).await?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Like of a post we have.
pub async fn on_like(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<bool> {
    let id = id_of(activity).unwrap_or_default();
    if db::inbox::was_undone(&mut **tx, actor.id, id).await? {
        return Ok(false);
    }
    let Some(object) = activity.get("object").and_then(id_of) else {
        return Err(Error::BadRequest("the activity has no object".into()));
    };
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, object)
        .await?
        .filter(|p| p.deleted_at.is_none() && p.reblog_of_id.is_none())
    else {
        return Ok(false);
    };
    if db::likes::insert(tx, actor.id, post.id, Some(id)).await? {
        db::notifications::notify(
            tx,
            post.author_id,
            "favourite",
            actor.id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    Ok(true)
}

/// Announce (repost) of a public post we have.
pub async fn on_announce(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<bool> {
    let id = id_of(activity).unwrap_or_default();
    if db::inbox::was_undone(&mut **tx, actor.id, id).await? {
        return Ok(false);
    }
    if activity.get("object").is_none() {
        return Err(Error::BadRequest("the activity has no object".into()));
    }
    let Some(object) = announced(activity) else {
        return Ok(false);
    };
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, object)
        .await?
        .filter(|p| {
            p.deleted_at.is_none()
                && p.reblog_of_id.is_none()
                && Visibility::parse(&p.visibility).is_some_and(Visibility::is_public)
        })
    else {
        return Ok(false);
    };
    let to = strings(activity.get("to"));
    let cc = strings(activity.get("cc"));
    let visibility = Visibility::from_addressing(&to, &cc, actor.followers_url.as_deref());
    let published = published_of(activity, state.clock.now());
    let repost = db::posts::insert_repost(
        tx,
        id,
        actor.id,
        post.id,
        visibility.as_str(),
        published,
        None,
    )
    .await?;
    if repost.is_some() {
        db::notifications::notify(
            tx,
            post.author_id,
            "reblog",
            actor.id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    Ok(true)
}

/// The post an Announce shares: its object, or the object of the Create
/// that a group relays (FEP-1b12, as Lemmy communities send their posts).
/// None for the other activities groups relay (Like, Update, Delete ...).
fn announced(activity: &Value) -> Option<&str> {
    let object = activity.get("object")?;
    match object.get("type").and_then(Value::as_str) {
        Some("Create") => object.get("object").and_then(id_of),
        Some(kind) if object.get("object").is_some() && !POST_TYPES.contains(&kind) => None,
        _ => id_of(object),
    }
}

/// Undo of a Like or an Announce by the actor who sent it.
pub async fn on_undo_interaction(tx: &mut Tx<'_>, actor: &Actor, object: &Value) -> Result<bool> {
    let kind = object.get("type").and_then(Value::as_str);
    let undone = id_of(object);
    let post = match object.get("object").and_then(id_of) {
        Some(target) => db::posts::find_by_ap_id(&mut **tx, target)
            .await?
            .map(|p| p.id),
        None => None,
    };
    if matches!(kind, None | Some("Like"))
        && db::likes::delete(tx, actor.id, post, undone)
            .await?
            .is_some()
    {
        return Ok(true);
    }
    if matches!(kind, None | Some("Announce"))
        && db::posts::delete_repost(tx, actor.id, post, undone)
            .await?
            .is_some()
    {
        return Ok(true);
    }
    Ok(false)
}

/// Update of a post by its author. An Update older than what is stored (by
/// its `updated` time) changes nothing.
pub async fn on_update(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &Value,
) -> Result<bool> {
    if post_type(object).is_none() {
        return Ok(false);
    }
    let ap_id = id_of(object).ok_or_else(|| Error::BadRequest("the object has no id".into()))?;
    if !strings(object.get("attributedTo")).contains(&actor.ap_id) {
        return Err(Error::Forbidden("the object is not the actor's own".into()));
    }
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, ap_id).await? else {
        return Ok(false);
    };
    if post.author_id != actor.id {
        return Err(Error::Forbidden("only the author may update a post".into()));
    }
    if post.deleted_at.is_some() {
        return Ok(false);
    }
    // A quote's approval arrives with an Update that is not an edit.
    record_quote(tx, state, actor, &post, object).await?;
    // A poll's counts change without an edit: take them as reported.
    // Updates travel in any order and carry no time of their own: counts
    // only ever go up, so an older report never undoes a newer one.
    if let Some((_, mut options)) = poll_options(object)
        && let Some(stored) = db::polls::lock(&mut **tx, post.id).await?
    {
        let same_options = stored.options.0.len() == options.len()
            && stored
                .options
                .0
                .iter()
                .zip(&options)
                .all(|(a, b)| a.title == b.title);
        let mut voters = voters_count(object, &options);
        if same_options {
            for (option, old) in options.iter_mut().zip(&stored.options.0) {
                option.votes = option.votes.max(old.votes);
            }
            voters = voters.max(stored.voters_count);
        }
        db::polls::set_counts(&mut **tx, post.id, &options, voters).await?;
    }
    let Some(updated) = time_of(object, "updated") else {
        return Ok(false);
    };
    // Times travel in whole seconds: a first edit in the second the post
    // was written carries its `published` time, and counts (as in
    // Mastodon); later edits must be newer than the last one applied.
    let newer = match post.updated {
        Some(last) => updated > last,
        None => updated >= post.published,
    };
    if !newer {
        return Ok(false);
    }
    let Text {
        content,
        summary,
        sensitive,
        language,
        hashtags,
    } = text_of(object);
    let policy = InteractionPolicy::parse(object.get("interactionPolicy"));
    db::posts::set_interaction_policy(&mut **tx, post.id, policy.as_ref()).await?;
    db::posts::edit(
        tx,
        &post,
        &content,
        None,
        &summary,
        sensitive,
        language.as_deref(),
        updated,
    )
    .await?;
    db::posts::set_tags(tx, post.id, &hashtags).await?;
    // An edit may change media and their alt text; the Update carries them all.
    let (attachments, _) = kept_media(tx, actor, object).await?;
    db::media::replace_attachments(tx, post.id, &attachments).await?;
    Ok(true)
}

/// Add or Remove of one of the actor's own posts to or from its featured
/// collection (pinning).
pub async fn on_pin(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
    pinned: bool,
) -> Result<bool> {
    let target = activity.get("target").and_then(id_of);
    if target.is_none() || target != actor.featured_url.as_deref() {
        return Ok(false);
    }
    let Some(object) = activity.get("object").and_then(id_of) else {
        return Err(Error::BadRequest("the activity has no object".into()));
    };
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, object).await? else {
        return Ok(false);
    };
    if post.author_id != actor.id {
        return Err(Error::Forbidden(
            "an actor may only pin its own posts".into(),
        ));
    }
    if pinned {
        db::pins::pin(&mut **tx, actor.id, post.id, state.clock.now()).await?;
    } else {
        db::pins::unpin(&mut **tx, actor.id, post.id).await?;
    }
    Ok(true)
}

/// Fetches a post that a followed account reposts and that is not here yet,
/// from its origin (its author's server, whatever the reposter's), so that
/// the repost has something to point at. Runs before the inbox's
/// transaction.
pub async fn fetch_announced(state: &AppState, actor: &Actor, activity: &Value) -> Result<bool> {
    let Some(object) = announced(activity) else {
        return Ok(false);
    };
    if db::posts::find_by_ap_id(&state.db, object).await?.is_some()
        || !db::follows::has_local_follower(&state.db, actor.id).await?
    {
        return Ok(false);
    }
    let Ok(url) = Url::parse(object) else {
        return Ok(false);
    };
    Ok(fetch_and_store(state, &url).await?.is_some())
}

/// A post by its id or URL: from here when known, else fetched from its
/// origin and stored (search with `resolve`).
pub async fn resolve(state: &AppState, url: &Url) -> Result<Option<db::posts::Post>> {
    if let Some(post) = db::posts::find_by_ap_id_or_url(&state.db, url.as_str()).await? {
        return Ok(Some(post));
    }
    match fetch_and_store(state, url).await? {
        Some(id) => Ok(db::posts::find_by_ap_id(&state.db, &id).await?),
        None => Ok(None),
    }
}

/// Fetches a post from its origin and stores it with its author; the id of
/// the post stored (or found stored already).
async fn fetch_and_store(state: &AppState, url: &Url) -> Result<Option<String>> {
    let post = match fetch::fetch_object(state, url).await {
        Ok(post) => post,
        Err(e) => {
            tracing::info!(post = %url, error = %e, "a post cannot be fetched");
            return Ok(None);
        }
    };
    let Some(id) = id_of(&post).map(String::from) else {
        return Ok(None);
    };
    if db::posts::find_by_ap_id(&state.db, &id).await?.is_some() {
        return Ok(Some(id));
    }
    let Some(author_url) = strings(post.get("attributedTo"))
        .into_iter()
        .next()
        .and_then(|a| Url::parse(&a).ok())
    else {
        return Ok(None);
    };
    let author = match crate::service::remote_actors::get_or_fetch(state, &author_url).await {
        Ok(author) if !author.is_local() => author,
        _ => return Ok(None),
    };
    let approved = reply_controls::approval_holds(state, &post).await;
    let mut tx = state.db.begin().await?;
    match store(&mut tx, state, &author, &post, false, approved).await {
        Ok(true) => {
            tx.commit().await?;
            Ok(Some(id))
        }
        Ok(false) => Ok(None),
        Err(e) => {
            tracing::info!(post = %url, error = %e, "a fetched post was not stored");
            Ok(None)
        }
    }
}

/// How far up a thread Skein fetches missing posts, and how many fetches one
/// incoming post may cause.
pub const MAX_PARENT_DEPTH: usize = 5;

/// Fetches and stores the posts above `object` that are missing here (at
/// most [`MAX_PARENT_DEPTH`], stopping at a loop or at a post we have), so
/// that a reply arrives with its thread. Only for posts that concern this
/// instance. Runs before the inbox's transaction: it goes to the network.
pub async fn fetch_missing_parents(
    state: &AppState,
    actor: &Actor,
    object: &Value,
) -> Result<usize> {
    let Some(mut next) = object.get("inReplyTo").and_then(id_of).map(String::from) else {
        return Ok(0);
    };
    if db::posts::find_by_ap_id(&state.db, &next).await?.is_some() {
        return Ok(0);
    }
    let followed = db::follows::has_local_follower(&state.db, actor.id).await?;
    if !followed
        && !mentions_local(state, object).await?
        && !addresses_local(&mut *state.db.acquire().await?, state, actor, object).await?
    {
        return Ok(0);
    }
    let mut seen: Vec<String> = id_of(object).map(String::from).into_iter().collect();
    let mut chain: Vec<(Actor, Value)> = Vec::new();
    while chain.len() < MAX_PARENT_DEPTH && !seen.contains(&next) {
        if db::posts::find_by_ap_id(&state.db, &next).await?.is_some() {
            break;
        }
        seen.push(next.clone());
        let Ok(url) = Url::parse(&next) else { break };
        let parent = match fetch::fetch_object(state, &url).await {
            Ok(parent) => parent,
            Err(e) => {
                tracing::info!(post = %next, error = %e, "a reply's parent cannot be fetched");
                break;
            }
        };
        let Some(author_url) = strings(parent.get("attributedTo")).into_iter().next() else {
            break;
        };
        let Ok(author_url) = Url::parse(&author_url) else {
            break;
        };
        let author = match crate::service::remote_actors::get_or_fetch(state, &author_url).await {
            Ok(author) if !author.is_local() => author,
            _ => break,
        };
        let following = parent.get("inReplyTo").and_then(id_of).map(String::from);
        chain.push((author, parent));
        match following {
            Some(id) => next = id,
            None => break,
        }
    }
    // Oldest first, so each reply finds its parent stored.
    let mut stored = 0;
    for (author, parent) in chain.iter().rev() {
        let approved = reply_controls::approval_holds(state, parent).await;
        let mut tx = state.db.begin().await?;
        match store(&mut tx, state, author, parent, false, approved).await {
            Ok(true) => {
                tx.commit().await?;
                stored += 1;
            }
            Ok(false) => {}
            Err(e) => tracing::info!(error = %e, "a fetched parent was not stored"),
        }
    }
    Ok(stored)
}

async fn mentions_local(state: &AppState, object: &Value) -> Result<bool> {
    for tag in tags(object) {
        if tag.get("type").and_then(Value::as_str) == Some("Mention")
            && let Some(href) = tag.get("href").and_then(Value::as_str)
            && db::actors::find_by_ap_id(&state.db, href)
                .await?
                .is_some_and(|a| a.is_local())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a public or unlisted post names a local account in `to` or `cc`.
/// Mastodon keeps such a post for its addressee even without a `Mention`
/// tag (`addresses_local_accounts?`); a non-public one needs the tag here,
/// since only mentioned accounts may see it.
async fn addresses_local(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    actor: &Actor,
    object: &Value,
) -> Result<bool> {
    let to = strings(object.get("to"));
    let cc = strings(object.get("cc"));
    if !Visibility::from_addressing(&to, &cc, actor.followers_url.as_deref()).is_public() {
        return Ok(false);
    }
    let ours = state.urls.domain();
    for id in to.iter().chain(&cc) {
        if Url::parse(id).is_ok_and(|u| authority(&u) == ours)
            && db::actors::find_by_ap_id(&mut *conn, id)
                .await?
                .is_some_and(|a| a.is_local())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A remote post's attachments and custom emoji, unless the instance
/// rejects media from its author's domain (then neither is kept).
async fn kept_media(
    tx: &mut Tx<'_>,
    author: &Actor,
    object: &Value,
) -> Result<(Vec<db::media::Attachment>, Vec<(String, String)>)> {
    let host = author.domain.as_deref().unwrap_or_default();
    if crate::service::domain_policy::rejects_media(tx, host).await? {
        return Ok((Vec::new(), Vec::new()));
    }
    Ok((attachments(object), emojis(object)))
}

/// The most attachments kept of one remote post.
const MAX_ATTACHMENTS: usize = 16;
/// Mastodon's limit for alt text.
const MAX_ALT_TEXT: usize = 10_000;

fn http_url(value: Option<&Value>) -> Option<String> {
    let raw = match value? {
        Value::String(s) => Some(s.as_str()),
        Value::Object(link) => link.get("href").and_then(Value::as_str),
        Value::Array(items) => return items.iter().find_map(|i| http_url(Some(i))),
        _ => None,
    }?;
    Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| u.to_string())
}

fn attachment_items(object: &Value) -> Vec<&Value> {
    match object.get("attachment") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    }
}

/// The link an Article or Page shares: its first `Link` attachment.
fn shared_link(object: &Value) -> Option<String> {
    attachment_items(object)
        .into_iter()
        .filter(|item| item.get("type").and_then(Value::as_str) == Some("Link"))
        .find_map(|item| http_url(item.get("href")))
}

/// Media of a remote post, with their type, URL, alt text, blurhash and
/// focal point.
pub fn attachments(object: &Value) -> Vec<db::media::Attachment> {
    attachment_items(object)
        .into_iter()
        // `Link`s are not media: Mastodon's preview card, a Lemmy post's link.
        .filter(|item| item.get("type").and_then(Value::as_str) != Some("Link"))
        .filter_map(|item| {
            // Only `url` holds media: a bare `href` is a link (FEP-0ea0
            // payment links, web pages), as Mastodon reads it.
            let url = http_url(item.get("url"))?;
            let media_type = item
                .get("mediaType")
                .and_then(Value::as_str)
                .map(|m| m.chars().take(255).collect::<String>());
            let kind = match (
                media_type.as_deref(),
                item.get("type").and_then(Value::as_str),
            ) {
                (Some(m), _) if m.starts_with("image/") => "image",
                (Some(m), _) if m.starts_with("video/") => "video",
                (Some(m), _) if m.starts_with("audio/") => "audio",
                (_, Some("Image")) => "image",
                (_, Some("Video")) => "video",
                (_, Some("Audio")) => "audio",
                _ => "unknown",
            };
            let focal = item
                .get("focalPoint")
                .and_then(Value::as_array)
                .and_then(|p| {
                    let x = p.first()?.as_f64()?;
                    let y = p.get(1)?.as_f64()?;
                    Some((x.clamp(-1.0, 1.0) as f32, y.clamp(-1.0, 1.0) as f32))
                });
            let dimension = |key: &str| {
                item.get(key)
                    .and_then(Value::as_i64)
                    .and_then(|v| i32::try_from(v).ok())
                    .filter(|v| *v > 0)
            };
            Some(db::media::Attachment {
                kind: kind.to_string(),
                url,
                media_type,
                // Mastodon reads alt text from `summary`, then `name`.
                description: ["summary", "name"]
                    .iter()
                    .map(|key| {
                        html::plain_text(
                            item.get(*key).and_then(Value::as_str).unwrap_or_default(),
                            MAX_ALT_TEXT,
                        )
                    })
                    .find(|text| !text.trim().is_empty())
                    .unwrap_or_default(),
                blurhash: item
                    .get("blurhash")
                    .and_then(Value::as_str)
                    .filter(|b| b.len() <= 100 && b.chars().all(|c| c.is_ascii_graphic()))
                    .map(String::from),
                focal_x: focal.map(|f| f.0),
                focal_y: focal.map(|f| f.1),
                width: dimension("width"),
                height: dimension("height"),
            })
        })
        .take(MAX_ATTACHMENTS)
        .collect()
}

/// Custom emoji of a remote post (`Emoji` tags): shortcode and image URL.
pub fn emojis(object: &Value) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for tag in tags(object) {
        if tag.get("type").and_then(Value::as_str) != Some("Emoji") {
            continue;
        }
        let Some(code) = tag
            .get("name")
            .and_then(Value::as_str)
            .map(|n| n.trim_matches(':').to_string())
            .filter(|c| {
                !c.is_empty()
                    && c.len() <= 100
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            })
        else {
            continue;
        };
        let Some(url) = tag.get("icon").and_then(|i| http_url(i.get("url"))) else {
            continue;
        };
        if !found.iter().any(|(c, _)| *c == code) {
            found.push((code, url));
        }
    }
    found
}

/// The options of a Question (`oneOf` or `anyOf`) with their counts.
fn poll_options(object: &Value) -> Option<(bool, Vec<db::polls::PollOption>)> {
    let (multiple, items) = match (object.get("oneOf"), object.get("anyOf")) {
        (Some(Value::Array(items)), _) => (false, items),
        (_, Some(Value::Array(items))) => (true, items),
        _ => return None,
    };
    let options: Vec<db::polls::PollOption> = items
        .iter()
        .filter_map(|item| {
            let title = html::plain_text(item.get("name").and_then(Value::as_str)?, 200);
            let votes = item
                .get("replies")
                .and_then(|r| r.get("totalItems"))
                .and_then(Value::as_i64)
                .and_then(|v| i32::try_from(v).ok())
                .unwrap_or(0)
                .max(0);
            Some(db::polls::PollOption { title, votes })
        })
        .take(MAX_REMOTE_POLL_OPTIONS)
        .collect();
    (!options.is_empty()).then_some((multiple, options))
}

/// The most options kept of a remote poll (Mastodon allows 500).
const MAX_REMOTE_POLL_OPTIONS: usize = 500;

fn voters_count(object: &Value, options: &[db::polls::PollOption]) -> i32 {
    object
        .get("votersCount")
        .and_then(Value::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .unwrap_or_else(|| options.iter().map(|o| o.votes).sum())
        .max(0)
}

/// A vote in one of our polls: a Note whose `name` is an option, in reply to
/// the poll, without content. None when the object is not a vote.
async fn on_vote(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &Value,
) -> Result<Option<bool>> {
    let Some(name) = object.get("name").and_then(Value::as_str) else {
        return Ok(None);
    };
    let Some(parent) = object.get("inReplyTo").and_then(id_of) else {
        return Ok(None);
    };
    let has_content = object
        .get("content")
        .and_then(Value::as_str)
        .is_some_and(|c| !c.trim().is_empty());
    if has_content {
        return Ok(None);
    }
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, parent).await? else {
        return Ok(None);
    };
    let Some(poll) = db::polls::lock(&mut **tx, post.id).await? else {
        return Ok(None);
    };
    let author_is_local = db::actors::find_by_id(&mut **tx, post.author_id)
        .await?
        .is_some_and(|a| a.is_local());
    if !author_is_local
        || post.deleted_at.is_some()
        || poll.is_closed(state.clock.now())
        || !crate::service::posts::can_see(state, &post, Some(actor)).await?
    {
        return Ok(Some(false));
    }
    let Some(choice) = poll.options.0.iter().position(|o| o.title == name) else {
        return Ok(Some(false));
    };
    let earlier = db::polls::choices_of(&mut **tx, post.id, actor.id).await?;
    if !poll.multiple && !earlier.is_empty() {
        return Ok(Some(false));
    }
    if !db::polls::vote(tx, post.id, actor.id, choice as i32, id_of(object)).await? {
        return Ok(Some(false));
    }
    crate::service::posts::queue_update(tx, state, &post).await?;
    Ok(Some(true))
}

/// The post a remote object quotes (FEP-044f `quote`, or the names other
/// servers use), or else the first FEP-e232 link to an ActivityPub object
/// among its tags (as Pleroma and Threads send it).
pub(crate) fn quoted_id(object: &Value) -> Option<&str> {
    ["quote", "quoteUri", "_misskey_quote", "quoteUrl"]
        .iter()
        .find_map(|key| object.get(*key).and_then(id_of))
        .or_else(|| {
            tags(object).into_iter().find_map(|tag| {
                let media_type = tag.get("mediaType").and_then(Value::as_str)?;
                let is_object = media_type == "application/activity+json"
                    || (media_type.starts_with("application/ld+json")
                        && media_type.contains("https://www.w3.org/ns/activitystreams"));
                (tag.get("type").and_then(Value::as_str) == Some("Link") && is_object)
                    .then(|| tag.get("href").and_then(Value::as_str))
                    .flatten()
            })
        })
}

/// Records what a remote post quotes and whether the quote is approved: for
/// a quote of a local post, by our own authorization; for others, by an
/// authorization on the quoted post's host.
async fn record_quote(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    post: &db::posts::Post,
    object: &Value,
) -> Result<()> {
    let Some(quoted) = quoted_id(object) else {
        return Ok(());
    };
    let authorization = object.get("quoteAuthorization").and_then(id_of);
    let quoted_post = db::posts::find_by_ap_id(&mut **tx, quoted).await?;
    let quoted_author = match &quoted_post {
        Some(q) => db::actors::find_by_id(&mut **tx, q.author_id).await?,
        None => None,
    };
    let accepted = match (&quoted_post, &quoted_author) {
        (Some(q), Some(a)) if a.is_local() => {
            db::posts::quote_authorized(&mut **tx, q.id, &post.ap_id).await?
        }
        _ => {
            let quoted_host = Url::parse(quoted).ok().map(|u| authority(&u));
            authorization
                .and_then(|a| Url::parse(a).ok())
                .is_some_and(|a| Some(authority(&a)) == quoted_host)
        }
    };
    let was_accepted = post.quote_state.as_deref() == Some("accepted");
    let state_name = if accepted { "accepted" } else { "pending" };
    db::posts::set_quote(
        &mut **tx,
        post.id,
        quoted,
        state_name,
        None,
        authorization.filter(|_| accepted),
    )
    .await?;
    if accepted
        && !was_accepted
        && let Some(author) = quoted_author.filter(|a| a.is_local())
    {
        db::notifications::notify(
            tx,
            author.id,
            "quote",
            actor.id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    let _ = state;
    Ok(())
}

/// QuoteRequest for one of our posts: approved under the post's policy with
/// an Accept carrying a QuoteAuthorization, or refused with a Reject.
pub async fn on_quote_request(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
) -> Result<bool> {
    let Some(object) = activity.get("object").and_then(id_of) else {
        return Err(Error::BadRequest("the activity has no object".into()));
    };
    let Some(quote) = activity.get("instrument").and_then(id_of) else {
        return Err(Error::BadRequest("the QuoteRequest names no quote".into()));
    };
    let quote_url =
        Url::parse(quote).map_err(|_| Error::BadRequest("the quote is not a URL".into()))?;
    if Some(authority(&quote_url)) != actor.domain {
        return Err(Error::Forbidden("the quote is not the actor's own".into()));
    }
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, object).await? else {
        return Ok(false);
    };
    let Some(author) = db::actors::find_by_id(&mut **tx, post.author_id)
        .await?
        .filter(|a| a.is_local())
    else {
        return Ok(false);
    };
    let mut request = activity.clone();
    if let Some(map) = request.as_object_mut() {
        map.remove("@context");
    }
    let visible = post.deleted_at.is_none()
        && Visibility::parse(&post.visibility).is_some_and(Visibility::is_public);
    let id = crate::federation::activities::new_id(&state.urls);
    let answer = if visible && crate::service::quotes::allowed(state, &post, &author, actor).await?
    {
        let grant = db::posts::authorize_quote(&mut **tx, post.id, quote, actor.id).await?;
        let grant = state.urls.quote_authorization(&author.username, grant);
        let mut accept = crate::federation::activities::accept(&id, &author.ap_id, request);
        accept["result"] = serde_json::json!(grant);
        accept["to"] = serde_json::json!([actor.ap_id]);
        accept
    } else {
        let mut reject = crate::federation::activities::reject(&id, &author.ap_id, request);
        reject["to"] = serde_json::json!([actor.ap_id]);
        reject
    };
    crate::service::outbox::queue_for(tx, state, &author, actor, &answer).await?;
    Ok(true)
}

/// Accept or Reject of a QuoteRequest we sent: only the quoted post's author
/// answers it. An approval is recorded and the quote's audience gets an
/// Update carrying the authorization.
pub async fn on_quote_answer(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    activity: &Value,
    accepted: bool,
) -> Result<Option<bool>> {
    let Some(request) = activity.get("object").and_then(id_of) else {
        return Ok(None);
    };
    let Some(post) = db::posts::find_by_quote_request(&mut **tx, request).await? else {
        return Ok(None);
    };
    let quoted_author = match post.quote_of_id {
        Some(id) => db::posts::find_by_id(&mut **tx, id)
            .await?
            .map(|q| q.author_id),
        None => None,
    };
    if quoted_author != Some(actor.id) {
        return Err(Error::Forbidden(
            "only the quoted author may answer a quote request".into(),
        ));
    }
    let quoted = post.quote_ap_id.clone().unwrap_or_default();
    if !accepted {
        db::posts::set_quote(&mut **tx, post.id, &quoted, "rejected", Some(request), None).await?;
        return Ok(Some(true));
    }
    let Some(result) = activity.get("result").and_then(id_of) else {
        return Err(Error::BadRequest(
            "the Accept carries no authorization".into(),
        ));
    };
    let result_url = Url::parse(result)
        .map_err(|_| Error::BadRequest("the authorization is not a URL".into()))?;
    if Some(authority(&result_url)) != actor.domain {
        return Err(Error::Forbidden(
            "the authorization is not on the author's host".into(),
        ));
    }
    db::posts::set_quote(
        &mut **tx,
        post.id,
        &quoted,
        "accepted",
        Some(request),
        Some(result),
    )
    .await?;
    let post = db::posts::find_by_id(&mut **tx, post.id)
        .await?
        .ok_or(Error::NotFound)?;
    crate::service::posts::queue_update(tx, state, &post).await?;
    Ok(Some(true))
}

/// What a remote post says: its sanitised content (an Article's or Page's
/// `name` as a bold first line, and the link it shares), content warning,
/// sensitivity, language and hashtags.
struct Text {
    content: String,
    summary: String,
    sensitive: bool,
    language: Option<String>,
    hashtags: Vec<String>,
}

/// The HTML of a remote post and its language: `content`, or the first
/// entry of `contentMap` when `content` is missing (as Mastodon reads it).
/// The language is the `contentMap` key whose text is `content`, else its
/// first key (GoToSocial's federation docs, "Content, ContentMap, and
/// Language").
fn content_and_language(object: &Value) -> (String, Option<String>) {
    let map = object.get("contentMap").and_then(Value::as_object);
    let content = object
        .get("content")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty());
    let entry = map.and_then(|m| {
        m.iter()
            .find(|(_, text)| content.is_some_and(|c| text.as_str() == Some(c)))
            .or_else(|| m.iter().next())
    });
    let language = entry
        .map(|(language, _)| language.clone())
        .filter(|l| !l.is_empty() && l.len() <= 16);
    let html = content
        .or_else(|| entry.and_then(|(_, text)| text.as_str()))
        .unwrap_or_default();
    (html.chars().take(MAX_CONTENT).collect(), language)
}

fn text_of(object: &Value) -> Text {
    let (html, language) = content_and_language(object);
    let mut content = html::sanitize(&html);
    if post_type(object) != Some("Note") {
        if let Some(name) = object.get("name").and_then(Value::as_str) {
            content = format!("<p><strong>{}</strong></p>{content}", html::escape(name));
        }
        // A link post (Lemmy, FEP-1b12 groups) shares its link as a `Link`
        // attachment: shown under the text, since it is not media.
        if let Some(link) = shared_link(object) {
            let link = html::escape(&link);
            content.push_str(&html::sanitize(&format!(
                "<p><a href=\"{link}\">{link}</a></p>"
            )));
        }
    }
    let summary = html::plain_text(
        object
            .get("summary")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        2048,
    );
    let sensitive = object
        .get("sensitive")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || !summary.is_empty();
    let mut hashtags: Vec<String> = Vec::new();
    for tag in tags(object) {
        if tag.get("type").and_then(Value::as_str) == Some("Hashtag")
            && let Some(name) = tag
                .get("name")
                .and_then(Value::as_str)
                .and_then(hashtag_name)
            && !hashtags.contains(&name)
        {
            hashtags.push(name);
        }
    }
    Text {
        content,
        summary,
        sensitive,
        language,
        hashtags,
    }
}

/// A remote hashtag's name as Mastodon keeps it: lower-cased, without `#`
/// and every other character that is not a letter, digit or `_`; None when
/// no letter or `_` is left (`#1234`, `#🐄`), as such a tag cannot be
/// written in a post.
fn hashtag_name(raw: &str) -> Option<String> {
    let name: String = raw
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect::<String>()
        .to_lowercase();
    (name.len() <= 100 && name.chars().any(|c| c.is_alphabetic() || c == '_')).then_some(name)
}

/// A timestamp property (RFC 3339).
fn time_of(object: &Value, key: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    object
        .get(key)
        .and_then(Value::as_str)
        .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
        .map(|p| p.with_timezone(&chrono::Utc))
}

/// When an object says it was published; never later than now.
fn published_of(
    object: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    time_of(object, "published")
        .filter(|p| *p <= now)
        .unwrap_or(now)
}
