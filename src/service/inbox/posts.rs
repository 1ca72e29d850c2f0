//! Remote posts from the inbox: Create, Update and Delete of posts, votes
//! in local polls, and pins (Add and Remove).
//!
//! An object is trusted only when it belongs to the sender: embedded
//! objects attributed to someone else are refused; objects sent by id are
//! fetched from their origin first (`fetching`). Mentions and notifications
//! come from `tag`, never from the HTML. A Delete that arrives before its
//! Create leaves a tombstone, so the post never appears.

use url::Url;

use super::{Received, Tx, quotes};
use crate::db::{self, actors::Actor};
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::federation::inbound::{Envelope, PostKind, RemotePost};
use crate::service::discovery::authority;
use crate::service::posts::store::{self, NewPoll};
use crate::service::reply_controls::{self, Verdict};
use crate::state::AppState;

/// Create of a post by its author.
pub async fn on_create(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    post: &RemotePost,
    reply_approved: bool,
) -> Result<Received> {
    store_remote(tx, state, actor, post, true, reply_approved).await
}

/// Stores a remote post. With `only_if_relevant`, only a post that concerns
/// this instance is kept (posts of followed accounts, posts mentioning or
/// addressed to a local account, quotes of local posts, replies to posts we
/// have); parents fetched for a thread are kept regardless.
/// `reply_approved`: the reply's approval by the author of the post it
/// answers was checked (`reply_controls::approval_holds`).
pub async fn store_remote(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &RemotePost,
    only_if_relevant: bool,
    reply_approved: bool,
) -> Result<Received> {
    let url = Url::parse(&object.id)
        .map_err(|_| Error::BadRequest("the object id is not a URL".into()))?;
    if !object.attributed_to.contains(&actor.ap_id) || Some(authority(&url)) != actor.domain {
        return Err(Error::Forbidden("the object is not the actor's own".into()));
    }
    if actor.suspended_at.is_some() {
        return Ok(Received::Ignored(
            "a suspended account's posts are not kept",
        ));
    }
    // A post fetched by reference or embedded in another comes here without
    // the inbox's check of the activity: its quote is held to the policy.
    if let Some(host) = object
        .quote
        .as_deref()
        .and_then(|q| Url::parse(q).ok())
        .map(|q| authority(&q))
        && crate::service::domain_policy::refuses_in(tx, state, &host).await?
    {
        return Err(Error::Forbidden(format!(
            "this server does not federate with {host}"
        )));
    }
    if only_if_relevant
        && let Some(choice) = object.vote_choice()
        && let Some(counted) = on_vote(tx, state, actor, object, choice).await?
    {
        return Ok(counted);
    }
    if db::posts::find_by_ap_id(&mut **tx, &object.id)
        .await?
        .is_some()
    {
        return Ok(Received::Ignored(
            "the post is here already, or was deleted before it came",
        ));
    }

    let visibility =
        Visibility::from_addressing(&object.to, &object.cc, actor.followers_url.as_deref());
    let mut mentioned: Vec<Actor> = Vec::new();
    for href in &object.mentions {
        if let Some(found) = db::actors::find_by_ap_id(&mut **tx, href).await?
            && !mentioned.iter().any(|a| a.id == found.id)
        {
            mentioned.push(found);
        }
    }
    let parent = match &object.in_reply_to {
        Some(id) => db::posts::find_by_ap_id(&mut **tx, id).await?,
        None => None,
    };
    // Who follows the author here, looked up once for the relevance check
    // and the notifications.
    let followers = if only_if_relevant {
        db::follows::local_followers(&mut **tx, actor.id).await?
    } else {
        Default::default()
    };
    if only_if_relevant
        && parent.is_none()
        && !followers.any
        && !mentioned.iter().any(Actor::is_local)
        && !addresses_local(tx, state, actor, object).await?
        && !quotes_local(tx, object).await?
    {
        return Ok(Received::Ignored("the post concerns no one here"));
    }
    // Reply controls: a reply the parent's policy refuses is not stored.
    if let Some(parent) = &parent
        && reply_controls::judge_reply(tx, state, actor, parent, object, reply_approved).await?
            != Verdict::Keep
    {
        return Ok(Received::Ignored(
            "the reply is not admitted by its parent's policy",
        ));
    }

    let content = object.html();
    let host = actor.domain.clone().unwrap_or_default();
    let poll = object.poll.as_ref().map(|poll| NewPoll {
        multiple: poll.multiple,
        options: poll.options.clone(),
        expires_at: poll.end_time,
        voters_count: poll.voters_count,
    });
    let post = store::store(
        tx,
        state,
        store::NewPost {
            author: actor,
            row: db::posts::NewPost {
                id: None,
                ap_id: &object.id,
                author_id: actor.id,
                url: object.page_on(&host),
                content: &content,
                source: None,
                summary: &object.summary,
                sensitive: object.sensitive,
                language: object.language.as_deref(),
                visibility,
                in_reply_to_ap_id: object.in_reply_to.as_deref(),
                published: object.published_before(state.clock.now()),
                // A remote post's own policy is `interaction_policy`.
                quote_policy: Default::default(),
                reply_policy: Default::default(),
                interaction_policy: object.interaction_policy.as_ref(),
            },
            parent: parent.as_ref(),
            // A post may mention its own author (Mastodon shows it).
            mentioned: &mentioned,
            hashtags: &object.hashtags,
            poll: poll.filter(|_| object.kind == PostKind::Question),
            follower_notices: if only_if_relevant {
                store::FollowerNotices::These(&followers.notified)
            } else {
                store::FollowerNotices::Nobody
            },
        },
    )
    .await?;
    if !crate::service::domain_policy::rejects_media_of(state, &host) {
        db::media::add_attachments(tx, post.id, &object.attachments).await?;
        db::media::add_emojis(&mut **tx, post.id, &object.emojis).await?;
        queue_media(tx, state, &host, object, true).await?;
    }
    quotes::record(tx, state, actor, &post, object).await?;
    Ok(Received::Applied)
}

/// Whether a post quotes a local post.
async fn quotes_local(tx: &mut Tx<'_>, object: &RemotePost) -> Result<bool> {
    let Some(quoted) = &object.quote else {
        return Ok(false);
    };
    Ok(match db::posts::find_by_ap_id(&mut **tx, quoted).await? {
        Some(q) => db::actors::find_by_id(&mut **tx, q.author_id)
            .await?
            .is_some_and(|a| a.is_local()),
        None => false,
    })
}

/// Whether a public or unlisted post names a local account in `to` or `cc`.
/// Mastodon keeps such a post for its addressee even without a `Mention`
/// tag (`addresses_local_accounts?`); a non-public one needs the tag here,
/// since only mentioned accounts may see it.
pub async fn addresses_local(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    actor: &Actor,
    object: &RemotePost,
) -> Result<bool> {
    if !Visibility::from_addressing(&object.to, &object.cc, actor.followers_url.as_deref())
        .is_public()
    {
        return Ok(false);
    }
    let ours = state.urls.domain();
    for id in object.to.iter().chain(&object.cc) {
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

/// Delete of a post by its author: the post becomes a tombstone; a Delete of
/// a post not seen yet leaves one. Those who saw the post through a local
/// account's repost hear of the Delete too (`forwarding`).
pub async fn on_delete(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object_id: &str,
    envelope: &Envelope,
) -> Result<Received> {
    let url =
        Url::parse(object_id).map_err(|_| Error::BadRequest("the object is not a URL".into()))?;
    match db::posts::find_by_ap_id(&mut **tx, object_id).await? {
        Some(post) => {
            if post.author_id != actor.id {
                return Err(Error::Forbidden("only the author may delete a post".into()));
            }
            if post.deleted_at.is_none() {
                super::forwarding::forward_delete(tx, state, actor, &post, envelope).await?;
                db::posts::mark_deleted(tx, post.id, state.clock.now()).await?;
                if let Some(parent) = post.in_reply_to_id {
                    db::posts::add_replies(&mut **tx, parent, -1).await?;
                }
            }
            Ok(Received::Applied)
        }
        // A quote's approval taken back by the quoted post's author.
        None if let Some(_) =
            crate::service::quotes::on_authorization_deleted(tx, actor, object_id).await? =>
        {
            Ok(Received::Applied)
        }
        None if Some(authority(&url)) == actor.domain => {
            db::posts::insert_tombstone(&mut **tx, object_id, actor.id, state.clock.now()).await?;
            Ok(Received::Applied)
        }
        None => Ok(Received::Ignored("the Delete names a post on another host")),
    }
}

/// Update of a post by its author. An Update older than what is stored (by
/// its `updated` time) changes nothing.
pub async fn on_update(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &RemotePost,
) -> Result<Received> {
    if !object.attributed_to.contains(&actor.ap_id) {
        return Err(Error::Forbidden("the object is not the actor's own".into()));
    }
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, &object.id).await? else {
        return Ok(Received::Ignored("the Update names no post here"));
    };
    if post.author_id != actor.id {
        return Err(Error::Forbidden("only the author may update a post".into()));
    }
    if post.deleted_at.is_some() {
        return Ok(Received::Ignored("the post was deleted"));
    }
    // A quote's approval arrives with an Update that is not an edit.
    quotes::record(tx, state, actor, &post, object).await?;
    // A poll's counts change without an edit: take them as reported.
    // Updates travel in any order and carry no time of their own: counts
    // only ever go up, so an older report never undoes a newer one.
    if let Some(poll) = &object.poll
        && let Some(stored) = db::polls::lock(&mut **tx, post.id).await?
    {
        let mut options = poll.options.clone();
        let same_options = stored.options.0.len() == options.len()
            && stored
                .options
                .0
                .iter()
                .zip(&options)
                .all(|(a, b)| a.title == b.title);
        let mut voters = poll.voters_count;
        if same_options {
            for (option, old) in options.iter_mut().zip(&stored.options.0) {
                option.votes = option.votes.max(old.votes);
            }
            voters = voters.max(stored.voters_count);
        }
        db::polls::set_counts(&mut **tx, post.id, &options, voters).await?;
    }
    let Some(updated) = object.updated else {
        return Ok(Received::Applied);
    };
    // Times travel in whole seconds: a first edit in the second the post
    // was written carries its `published` time, and counts (as in
    // Mastodon); later edits must be newer than the last one applied.
    let newer = match post.updated {
        Some(last) => updated > last,
        None => updated >= post.published,
    };
    if !newer {
        return Ok(Received::Ignored("the Update is not newer than the post"));
    }
    let content = object.html();
    db::posts::set_interaction_policy(&mut **tx, post.id, object.interaction_policy.as_ref())
        .await?;
    db::posts::edit(
        tx,
        &post,
        &content,
        None,
        &object.summary,
        object.sensitive,
        object.language.as_deref(),
        updated,
    )
    .await?;
    db::posts::set_tags(tx, post.id, &object.hashtags).await?;
    crate::service::cards::queue_edited(tx, state, &post).await?;
    // An edit may change media and their alt text; the Update carries them all.
    let host = actor.domain.as_deref().unwrap_or_default();
    let attachments = if crate::service::domain_policy::rejects_media_of(state, host) {
        Vec::new()
    } else {
        object.attachments.clone()
    };
    db::media::replace_attachments(tx, post.id, &attachments).await?;
    if !attachments.is_empty() {
        queue_media(tx, state, host, object, false).await?;
    }
    Ok(Received::Applied)
}

/// Queues a remote post's attachments (and custom emoji, `with_emoji`:
/// an edit keeps the emoji first stored) for download in the background
/// (`service::remote_media`); the post shows their remote URLs until they
/// are stored.
async fn queue_media(
    tx: &mut Tx<'_>,
    state: &AppState,
    host: &str,
    object: &RemotePost,
    with_emoji: bool,
) -> Result<()> {
    use crate::service::remote_media::{self, Kind};
    let urls: Vec<(&str, Kind)> = object
        .attachments
        .iter()
        .map(|a| (a.url.as_str(), Kind::Attachment))
        .chain(
            object
                .emojis
                .iter()
                .filter(|_| with_emoji)
                .map(|(_, url)| (url.as_str(), Kind::Emoji)),
        )
        .collect();
    remote_media::queue(&mut **tx, state, host, &urls).await
}

/// Add or Remove of one of the actor's own posts to or from its featured
/// collection (pinning).
pub async fn on_pin(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &str,
    target: Option<&str>,
    pinned: bool,
) -> Result<Received> {
    if target.is_none() || target != actor.featured_url.as_deref() {
        return Ok(Received::Ignored(
            "the collection is not the actor's featured posts",
        ));
    }
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, object).await? else {
        return Ok(Received::Ignored("the pinned post is not here"));
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
    Ok(Received::Applied)
}

/// A vote in one of our polls (see [`RemotePost::vote_choice`]). None when
/// the object is not a vote in a poll here.
async fn on_vote(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &RemotePost,
    name: &str,
) -> Result<Option<Received>> {
    let Some(parent) = &object.in_reply_to else {
        return Ok(None);
    };
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, parent).await? else {
        return Ok(None);
    };
    let Some(poll) = db::polls::lock(&mut **tx, post.id).await? else {
        return Ok(None);
    };
    let refused = Some(Received::Ignored("the vote does not count"));
    let author_is_local = db::actors::find_by_id(&mut **tx, post.author_id)
        .await?
        .is_some_and(|a| a.is_local());
    if !author_is_local
        || post.deleted_at.is_some()
        || poll.is_closed(state.clock.now())
        || !crate::service::posts::can_see(state, &post, Some(actor)).await?
    {
        return Ok(refused);
    }
    let Some(choice) = poll.options.0.iter().position(|o| o.title == name) else {
        return Ok(refused);
    };
    let earlier = db::polls::choices_of(&mut **tx, post.id, actor.id).await?;
    if !poll.multiple && !earlier.is_empty() {
        return Ok(refused);
    }
    if !db::polls::vote(tx, post.id, actor.id, choice as i32, Some(&object.id)).await? {
        return Ok(refused);
    }
    crate::service::posts::queue_update(tx, state, &post).await?;
    Ok(Some(Received::Applied))
}
