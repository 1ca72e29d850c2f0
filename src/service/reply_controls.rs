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
use sqlx::PgConnection;

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::interaction::{
    Interaction, InteractionPolicy, Owner, Permission, ReplyPolicy, Subject,
};
use crate::domain::visibility::Visibility;
use crate::error::{Error, Result};
use crate::federation::activities;
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

/// The reply control of a local post.
pub fn reply_policy(post: &Post) -> ReplyPolicy {
    ReplyPolicy::parse(&post.reply_policy).unwrap_or_default()
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
        let visibility = Visibility::parse(&post.visibility).unwrap_or(Visibility::Direct);
        Ok(InteractionPolicy::local(
            reply_policy(post),
            visibility,
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
    let accepted = |f: Option<db::follows::Follow>| f.is_some_and(|f| f.state == "accepted");
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
/// the parent's author, queued in the caller's transaction. For a remote
/// parent the reply is kept when its policy admits the replier without
/// approval, or when the reply carries an approval from the parent author's
/// server.
pub async fn judge_reply(
    tx: &mut PgConnection,
    state: &AppState,
    replier: &Actor,
    parent: &Post,
    note: &Value,
) -> Result<Verdict> {
    let Some(author) = db::actors::find_by_id(&mut *tx, parent.author_id).await? else {
        return Ok(Verdict::Keep);
    };
    let permission = permission(tx, parent, &author, replier, Interaction::Reply).await?;
    if author.is_local() {
        if permission == Permission::Automatic {
            return Ok(Verdict::Keep);
        }
        let note_id = note.get("id").and_then(Value::as_str).unwrap_or_default();
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
    if approved_by_parent_server(note, &author) {
        return Ok(Verdict::Keep);
    }
    Ok(Verdict::Dropped)
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

/// Whether a reply names an approval (`replyAuthorization` or the older
/// `approvedBy`) issued on the parent author's server.
fn approved_by_parent_server(note: &Value, author: &Actor) -> bool {
    let Some(domain) = author.domain.as_deref() else {
        return false;
    };
    ["replyAuthorization", "approvedBy"].iter().any(|name| {
        note.get(*name)
            .and_then(Value::as_str)
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| crate::service::discovery::authority(&u) == domain)
    })
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
