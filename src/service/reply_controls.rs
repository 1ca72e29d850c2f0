//! Reply controls and hidden replies.
//!
//! Every post has an interaction policy ([`crate::domain::interaction`]):
//! a local post's comes from its author's choice of who may reply, a remote
//! post's is the one it published. Local accounts are held to both before
//! anything is sent; replies arriving from the fediverse to a local post
//! that its policy does not admit are not stored and are answered with a
//! Reject, as GoToSocial does; replies to remote posts that the post's own
//! policy refuses are dropped here too.
//!
//! The author of a post may also hide a reply to it from the thread.

use serde_json::{Value, json};

use crate::domain::follows::FollowState;
use crate::federation::inbound::RemotePost;
use sqlx::PgConnection;

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::interaction::{Interaction, InteractionPolicy, Owner, Permission, Subject};
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::service::discovery::authority;
use crate::service::outbox;
use crate::state::AppState;

/// How a policy names the author of a post.
pub fn owner(author: &Actor) -> Owner<'_> {
    Owner {
        ap_id: &author.ap_id,
        followers: author.followers_url.as_deref(),
        following: author.following_url.as_deref(),
    }
}

/// The policy of a post by `author`: made from the reply control for local
/// posts, as published for remote ones.
pub async fn policy_of(
    conn: &mut PgConnection,
    post: &Post,
    author: &Actor,
) -> Result<InteractionPolicy> {
    if author.is_local() {
        let mentioned = db::posts::mentioned_ap_ids(&mut *conn, post.id).await?;
        Ok(InteractionPolicy::local(
            post.reply_policy,
            post.visibility,
            &owner(author),
            &mentioned,
        ))
    } else {
        Ok(post
            .interaction_policy
            .as_ref()
            .map(|p| p.0.clone())
            .unwrap_or_default())
    }
}

/// What `post`'s policy says about `subject` doing `kind`, with what this
/// server knows of follows between them.
pub async fn permission(
    conn: &mut PgConnection,
    post: &Post,
    author: &Actor,
    subject: &Actor,
    kind: Interaction,
) -> Result<Permission> {
    if subject.id == author.id {
        return Ok(Permission::Automatic);
    }
    let policy = policy_of(conn, post, author).await?;
    let accepted =
        |f: Option<db::follows::Follow>| f.is_some_and(|f| f.state == FollowState::Following);
    let facts = Subject {
        ap_id: &subject.ap_id,
        mentioned: db::posts::is_mentioned(&mut *conn, post.id, subject.id).await?,
        follows_owner: accepted(db::follows::find(&mut *conn, subject.id, author.id).await?),
        followed_by_owner: accepted(db::follows::find(&mut *conn, author.id, subject.id).await?),
    };
    Ok(policy.permission(kind, &owner(author), &facts))
}

/// Holds a local account to a post's policy before it replies, likes or
/// reposts. An interaction that needs the author's approval is let through:
/// the author's server decides, and a Reject of it is honoured when it comes.
pub async fn require(
    state: &AppState,
    post: &Post,
    subject: &Actor,
    kind: Interaction,
) -> Result<()> {
    let author = db::actors::find_by_id(&state.db, post.author_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut conn = state.db.acquire().await?;
    match permission(&mut conn, post, &author, subject, kind).await? {
        Permission::Automatic | Permission::Manual => Ok(()),
        Permission::Denied => {
            let policy = policy_of(&mut conn, post, &author).await?;
            let rule = match kind {
                Interaction::Reply => policy.reply_summary(&owner(&author)).describe(),
                _ => "only some accounts may",
            };
            Err(Error::Forbidden(format!(
                "the author limits {} to this post ({})",
                kind.noun(),
                rule.to_lowercase()
            )))
        }
    }
}

/// What becomes of a reply arriving from the fediverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    /// Not stored; the local author's server answered with a Reject.
    Rejected,
    /// Not stored: the remote post's policy refuses it.
    Dropped,
}

/// Judges a remote reply (`note` by `replier`) to `parent` before it is
/// stored. For a local parent a refused reply is answered with a Reject from
/// the parent's author, queued in the caller's transaction, and an admitted
/// reply to a post with limited replies is approved. For a remote parent
/// the reply is kept when its policy admits the replier without approval,
/// or when its approval was checked (`proven`, by [`approval_holds`]).
pub async fn judge_reply(
    tx: &mut PgConnection,
    state: &AppState,
    replier: &Actor,
    parent: &Post,
    note: &RemotePost,
    proven: bool,
) -> Result<Verdict> {
    let Some(author) = db::actors::find_by_id(&mut *tx, parent.author_id).await? else {
        return Ok(Verdict::Keep);
    };
    let permission = permission(tx, parent, &author, replier, Interaction::Reply).await?;
    if author.is_local() {
        if permission == Permission::Automatic {
            let limited = !policy_of(tx, parent, &author)
                .await?
                .rule(Interaction::Reply)
                .is_public();
            if limited && replier.id != author.id {
                approve(tx, state, &author, replier, parent, note).await?;
            }
            return Ok(Verdict::Keep);
        }
        let note_id = note.id.as_str();
        let mut reject = activities::reject(
            &activities::new_id(&state.urls),
            &author.ap_id,
            json!({ "id": note_id, "type": "Note", "actor": replier.ap_id }),
        );
        reject["object"] = json!(note_id);
        reject["to"] = json!([replier.ap_id]);
        reject["target"] = json!(parent.ap_id);
        outbox::queue_for(&mut *tx, state, &author, replier, &reject).await?;
        tracing::info!(
            reply = note_id,
            parent = %parent.ap_id,
            "a reply the post's reply control does not admit was rejected"
        );
        return Ok(Verdict::Rejected);
    }
    if permission == Permission::Automatic && !needs_proof(parent, &author, replier) {
        return Ok(Verdict::Keep);
    }
    if proven {
        return Ok(Verdict::Keep);
    }
    Ok(Verdict::Dropped)
}

/// Approves an admitted reply to a local post with limited replies, as
/// GoToSocial expects: an authorization is recorded and an Accept carrying
/// it goes to the replier, whose server may then show the reply to others
/// with the proof.
async fn approve(
    tx: &mut PgConnection,
    state: &AppState,
    author: &Actor,
    replier: &Actor,
    parent: &Post,
    note: &RemotePost,
) -> Result<()> {
    let note_id = note.id.as_str();
    let grant =
        db::posts::authorize_reply(&mut *tx, parent.id, note_id, replier.id, state.clock.now())
            .await?;
    let accept = activities::reply_approval(
        &state.urls.reply_approval(&author.username, grant),
        &author.ap_id,
        &replier.ap_id,
        note_id,
        &parent.ap_id,
        &state.urls.reply_authorization(&author.username, grant),
    );
    outbox::queue_for(tx, state, author, replier, &accept).await
}

/// A reply approval a local author gave, as served at its id: the
/// ReplyAuthorization, or (`accept`) the Accept that carried it.
pub async fn authorization_document(
    state: &AppState,
    username: &str,
    id: i64,
    accept: bool,
) -> Result<Value> {
    let grant = db::posts::find_reply_authorization(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let post = db::posts::find_by_id(&state.db, grant.post_id)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or(Error::NotFound)?;
    let author = db::actors::find_by_id(&state.db, post.author_id)
        .await?
        .filter(|a| a.is_local() && a.username.eq_ignore_ascii_case(username))
        .ok_or(Error::NotFound)?;
    let authorization = state.urls.reply_authorization(&author.username, id);
    if !accept {
        return Ok(activities::reply_authorization(
            &authorization,
            &author.ap_id,
            &grant.reply_ap_id,
            &post.ap_id,
        ));
    }
    let replier = db::actors::find_by_id(&state.db, grant.replier_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(activities::reply_approval(
        &state.urls.reply_approval(&author.username, id),
        &author.ap_id,
        &replier.ap_id,
        &grant.reply_ap_id,
        &post.ap_id,
        &authorization,
    ))
}

/// Whether a remote reply carries a valid approval from the author of the
/// remote post it answers, for a post whose policy asks for one: the
/// `replyAuthorization` (or the older `approvedBy`, an Accept) is fetched
/// from the post author's server and must name the author, the reply and
/// the post. Goes to the network: call it before the transaction.
pub async fn approval_holds(state: &AppState, note: &RemotePost) -> bool {
    use crate::federation::fetch;
    let Some(link) = note.reply_approval.as_deref() else {
        return false;
    };
    let (reply_id, Some(parent_id)) = (note.id.as_str(), note.in_reply_to.as_deref()) else {
        return false;
    };
    let Ok(Some(parent)) = db::posts::find_by_ap_id(&state.db, parent_id).await else {
        return false;
    };
    if parent.interaction_policy.is_none() {
        return false; // nothing to prove
    }
    let Ok(Some(author)) = db::actors::find_by_id(&state.db, parent.author_id).await else {
        return false;
    };
    let Ok(url) = url::Url::parse(link) else {
        return false;
    };
    if author.is_local() || Some(authority(&url)) != author.domain {
        return false;
    }
    let document = match fetch::fetch_object(state, &url).await {
        Ok(document) => document,
        Err(e) => {
            tracing::info!(approval = %url, error = %e, "a reply's approval cannot be fetched");
            return false;
        }
    };
    let approval = crate::federation::inbound::Approval::parse(&document);
    approval.by.as_deref() == Some(author.ap_id.as_str())
        && approval.object.as_deref() == Some(reply_id)
        && approval.target.as_deref().is_none_or(|t| t == parent.ap_id)
}

/// An Accept from the author of a remote post of a local reply to it: the
/// approval is kept and the reply, updated with it, goes out again so that
/// other servers see the proof. False when the Accept is about something
/// else.
pub async fn on_accept(
    tx: &mut PgConnection,
    state: &AppState,
    actor: &Actor,
    approved_by: &str,
    object: Option<&str>,
    result: Option<&str>,
) -> Result<bool> {
    let Some(object) = object else {
        return Ok(false);
    };
    let Some((reply, _)) = local_reply_to(tx, actor, object).await? else {
        return Ok(false);
    };
    // The authorization must live on the approving server.
    let authorization =
        result.filter(|r| url::Url::parse(r).is_ok_and(|u| Some(authority(&u)) == actor.domain));
    if reply.deleted_at.is_some()
        || (reply.reply_approved_by.as_deref() == Some(approved_by)
            && reply.reply_authorization.as_deref() == authorization)
    {
        return Ok(true);
    }
    db::posts::set_reply_approval(&mut *tx, reply.id, authorization, approved_by).await?;
    let updated = db::posts::find_by_id(&mut *tx, reply.id)
        .await?
        .ok_or(Error::NotFound)?;
    tracing::info!(reply = %reply.ap_id, "the author of the post replied to approved the reply");
    crate::service::posts::queue_update(tx, state, &updated).await?;
    Ok(true)
}

/// The local reply `object_id` names (its id or its Create's), when it
/// answers a post by `actor`; with its author.
async fn local_reply_to(
    tx: &mut PgConnection,
    actor: &Actor,
    object_id: &str,
) -> Result<Option<(Post, Actor)>> {
    let reply_id = object_id.strip_suffix("/activity").unwrap_or(object_id);
    let Some(reply) = db::posts::find_by_ap_id(&mut *tx, reply_id).await? else {
        return Ok(None);
    };
    let Some(parent_id) = reply.in_reply_to_id else {
        return Ok(None);
    };
    let Some(parent) = db::posts::find_by_id(&mut *tx, parent_id).await? else {
        return Ok(None);
    };
    if parent.author_id != actor.id {
        return Ok(None);
    }
    let Some(author) = db::actors::find_by_id(&mut *tx, reply.author_id)
        .await?
        .filter(Actor::is_local)
    else {
        return Ok(None);
    };
    Ok(Some((reply, author)))
}

/// A remote policy that admits the replier only through the author's
/// followers or following collection: GoToSocial asks third servers to wait
/// for the author's approval then, unless this server knows the relation
/// itself (it always does for a follow from a local account).
fn needs_proof(parent: &Post, author: &Actor, replier: &Actor) -> bool {
    let Some(policy) = parent.interaction_policy.as_ref() else {
        return false;
    };
    let rule = policy.0.rule(Interaction::Reply);
    let named = rule.automatic.iter().any(|u| u == &replier.ap_id);
    !(rule.is_public() || named || replier.is_local() || author.is_local())
}

/// A Reject from a post's author of a local reply to it: the reply is
/// deleted (its Delete goes to everyone who got it). Returns the files to
/// remove once the caller has committed, or `None` when the Reject is not
/// about such a reply.
pub async fn on_reject(
    tx: &mut PgConnection,
    state: &AppState,
    actor: &Actor,
    object_id: &str,
) -> Result<Option<Vec<String>>> {
    let Some((reply, author)) = local_reply_to(tx, actor, object_id).await? else {
        return Ok(None);
    };
    if reply.deleted_at.is_some() {
        return Ok(Some(Vec::new()));
    }
    tracing::info!(reply = %reply.ap_id, "the author of the post replied to rejected the reply");
    let removed = crate::service::posts::delete_in(tx, state, &author, &reply).await?;
    Ok(Some(removed))
}

/// Hides a reply to one of `me`'s posts from its thread, or shows it again.
pub async fn set_hidden(state: &AppState, me: &Actor, reply: &Post, hidden: bool) -> Result<()> {
    let parent = match reply.in_reply_to_id {
        Some(id) => db::posts::find_by_id(&state.db, id).await?,
        None => None,
    };
    if parent.is_none_or(|p| p.author_id != me.id) {
        return Err(Error::Forbidden(
            "only the author of the post replied to may hide a reply".into(),
        ));
    }
    if reply.author_id == me.id {
        return Err(Error::Validation(
            "one's own replies cannot be hidden".into(),
        ));
    }
    let at = hidden.then(|| reply.reply_hidden_at.unwrap_or(state.clock.now()));
    db::posts::set_reply_hidden(&state.db, reply.id, at).await?;
    Ok(())
}
