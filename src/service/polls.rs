//! Voting in polls. A vote in a remote poll goes to the poll's author as
//! Mastodon sends it (a Create of a Note whose `name` is the chosen option,
//! in reply to the poll); a vote in a local poll is counted here and the new
//! counts go out with an Update of the poll.

use serde_json::json;

use crate::db::{self, actors::Actor, polls::Poll, posts::Post};
use crate::error::{Error, Result};
use crate::federation::activities;
use crate::service::{outbox, posts};
use crate::state::AppState;

pub async fn vote(state: &AppState, voter: &Actor, post: &Post, choices: &[usize]) -> Result<Poll> {
    if !voter.is_local() {
        return Err(Error::Forbidden(
            "only local accounts vote from here".into(),
        ));
    }
    if post.deleted_at.is_some() || !posts::can_see(state, post, Some(voter)).await? {
        return Err(Error::NotFound);
    }
    let author = db::actors::find_by_id(&state.db, post.author_id)
        .await?
        .ok_or(Error::NotFound)?;
    if author.id == voter.id {
        return Err(Error::Validation(
            "one cannot vote in one's own poll".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    let poll = db::polls::lock(&mut *tx, post.id)
        .await?
        .ok_or(Error::NotFound)?;
    if poll.is_closed(state.clock.now()) {
        return Err(Error::Validation("the poll has ended".into()));
    }
    if !db::polls::choices_of(&mut *tx, post.id, voter.id)
        .await?
        .is_empty()
    {
        return Err(Error::Validation(
            "you have already voted in this poll".into(),
        ));
    }
    let mut picked: Vec<usize> = choices.to_vec();
    picked.sort_unstable();
    picked.dedup();
    if picked.is_empty()
        || picked.iter().any(|c| *c >= poll.options.0.len())
        || (!poll.multiple && picked.len() > 1)
    {
        return Err(Error::Validation("the choices do not fit this poll".into()));
    }
    let federate = !author.is_local() && db::users::is_federating(&mut *tx, voter.id).await?;
    for choice in &picked {
        let vote_id = activities::new_id(&state.urls);
        db::polls::vote(&mut tx, post.id, voter.id, *choice as i32, Some(&vote_id)).await?;
        if federate {
            let create = json!({
                "@context": crate::federation::context::activity_streams(),
                "id": format!("{vote_id}/activity"),
                "type": "Create",
                "actor": voter.ap_id,
                "to": [author.ap_id],
                "object": {
                    "id": vote_id,
                    "type": "Note",
                    "name": poll.options.0[*choice].title,
                    "attributedTo": voter.ap_id,
                    "inReplyTo": post.ap_id,
                    "to": [author.ap_id],
                },
            });
            outbox::queue_for(&mut tx, state, voter, &author, &create).await?;
        }
    }
    if author.is_local() {
        posts::queue_update(&mut tx, state, post).await?;
    }
    let poll = db::polls::find(&mut *tx, post.id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(poll)
}

/// Polls whose end is told per transaction.
const ENDINGS_PER_BATCH: i64 = 100;

/// Tells the local voters and author of every poll that has ended (a
/// `poll` notification from the author, as Mastodon sends it), once per
/// poll; returns how many polls ended.
pub async fn notice_endings(state: &AppState) -> Result<usize> {
    let mut total = 0;
    loop {
        let now = state.clock.now();
        let mut tx = state.db.begin().await?;
        let ended = db::polls::take_ended(&mut *tx, now, ENDINGS_PER_BATCH).await?;
        for poll in &ended {
            for recipient in &poll.recipients {
                db::notifications::notify(
                    &mut tx,
                    *recipient,
                    crate::domain::notifications::NotificationKind::Poll,
                    poll.author_id,
                    Some(poll.post_id),
                    now,
                )
                .await?;
            }
        }
        tx.commit().await?;
        total += ended.len();
        if (ended.len() as i64) < ENDINGS_PER_BATCH {
            return Ok(total);
        }
    }
}
