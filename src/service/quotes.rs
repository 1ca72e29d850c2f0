//! Quote approval (FEP-044f): who may quote a local post, answering
//! QuoteRequests, and the authorizations given.

use crate::db::{self, actors::Actor, posts::Post, timelines::Page};
use crate::domain::follows::FollowState;
use crate::domain::visibility::{QuotePolicy, QuoteState};
use crate::error::{Error, Result};
use crate::state::AppState;

/// Whether `quoting` may quote `post` by `author` under the post's policy.
pub async fn allowed(
    state: &AppState,
    post: &Post,
    author: &Actor,
    quoting: &Actor,
) -> Result<bool> {
    if quoting.id == author.id {
        return Ok(true);
    }
    Ok(match post.quote_policy {
        QuotePolicy::Public => true,
        QuotePolicy::Followers => db::follows::find(&state.db, quoting.id, author.id)
            .await?
            .is_some_and(|f| f.state == FollowState::Following),
        QuotePolicy::Nobody => false,
    })
}

/// An authorization as its author serves it.
pub async fn authorization(state: &AppState, username: &str, id: i64) -> Result<serde_json::Value> {
    let grant = db::posts::find_quote_authorization(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    let quoted = db::posts::find_by_id(&state.db, grant.quoted_post_id)
        .await?
        .ok_or(Error::NotFound)?;
    let author = db::actors::find_by_id(&state.db, quoted.author_id)
        .await?
        .filter(|a| a.is_local() && a.username.eq_ignore_ascii_case(username))
        .ok_or(Error::NotFound)?;
    Ok(crate::federation::activities::quote_authorization(
        &state.urls.quote_authorization(&author.username, id),
        &author.ap_id,
        &grant.quote_ap_id,
        &quoted.ap_id,
    ))
}

/// The approved quotes of a post `viewer` may see (`GET
/// /api/v1/statuses/:id/quotes`), newest first, paged by the quoting
/// post's id; and the page's bounds. Quotes the viewer may not see are
/// left out of the page.
pub async fn of_post(
    state: &AppState,
    viewer: Option<&Actor>,
    post_id: i64,
    page: Page,
) -> Result<(Vec<Post>, Option<(i64, i64)>)> {
    let quoted = crate::service::posts::visible(state, viewer, post_id).await?;
    let rows = db::posts::accepted_quotes(&state.db, quoted.id, page).await?;
    let bounds = match (rows.first(), rows.last()) {
        (Some(first), Some(last)) => Some((first.id, last.id)),
        _ => None,
    };
    let shown: std::collections::HashSet<i64> =
        crate::service::posts::visible_ids(state, &rows, viewer)
            .await?
            .into_iter()
            .collect();
    Ok((
        rows.into_iter().filter(|p| shown.contains(&p.id)).collect(),
        bounds,
    ))
}

/// The author of `quoted_id` takes back the approval of the quote
/// `quoting_id` (`POST /api/v1/statuses/:id/quotes/:quoting_status_id/revoke`):
/// an approved quote becomes `revoked` (a waiting one `rejected`), the
/// authorization is no longer served, and a Delete of it goes to the
/// servers that got either post, as Mastodon does. Answers the quoting
/// post as it now is.
pub async fn revoke(
    state: &AppState,
    author: &Actor,
    quoted_id: i64,
    quoting_id: i64,
) -> Result<Post> {
    let quoted = db::posts::find_by_id(&state.db, quoted_id)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or(Error::NotFound)?;
    if quoted.author_id != author.id {
        return Err(Error::Forbidden(
            "only the quoted post's author may revoke a quote".into(),
        ));
    }
    let quoting = db::posts::find_quoting(&state.db, quoted.id, quoting_id)
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = state.db.begin().await?;
    let now = state.clock.now();
    let revoked = db::posts::change_quote_state(
        &mut *tx,
        quoting.id,
        &[QuoteState::Accepted],
        QuoteState::Revoked,
    )
    .await?;
    if !revoked {
        db::posts::change_quote_state(
            &mut *tx,
            quoting.id,
            &[QuoteState::Pending],
            QuoteState::Rejected,
        )
        .await?;
    }
    let grant =
        db::posts::revoke_quote_authorization(&mut *tx, quoted.id, &quoting.ap_id, now).await?;
    if let Some(grant) = grant
        && db::users::is_federating(&mut *tx, author.id).await?
    {
        let authorization = state.urls.quote_authorization(&author.username, grant);
        let activity = crate::federation::activities::delete_quote_authorization(
            &authorization,
            &author.ap_id,
        );
        // The servers that got the quote: its author's, and, when the
        // quote is local, its author's followers'; the quoted post's went
        // to the revoking author's followers.
        let mut inboxes = Vec::new();
        if let Some(quoting_author) = db::actors::find_by_id(&mut *tx, quoting.author_id).await? {
            if quoting_author.is_local() {
                inboxes.extend(db::follows::follower_inboxes(&mut *tx, quoting_author.id).await?);
            } else {
                inboxes.push(
                    quoting_author
                        .shared_inbox_url
                        .clone()
                        .unwrap_or_else(|| quoting_author.inbox_url.clone()),
                );
            }
        }
        inboxes.sort();
        inboxes.dedup();
        crate::service::outbox::queue_to(
            &mut tx,
            state,
            author.id,
            &activity,
            crate::service::outbox::Audience::followers_and(inboxes),
        )
        .await?;
    }
    db::posts::announce_edit(&mut tx, quoting.id).await?;
    tx.commit().await?;
    db::posts::find_by_id(&state.db, quoting.id)
        .await?
        .ok_or(Error::NotFound)
}

/// A Delete of a QuoteAuthorization from the quoted post's author (or its
/// server): the quotes that rested on it are revoked. None when no stored
/// quote rests on it.
pub async fn on_authorization_deleted(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    authorization: &str,
) -> Result<Option<usize>> {
    let quoting = db::posts::quoting_by_authorization(&mut *tx, authorization).await?;
    if quoting.is_empty() {
        return Ok(None);
    }
    let mut changed = 0;
    for post in quoting {
        // Only who approved may take back: the quoted post's author, or
        // an actor of the server that served the authorization.
        let quoted_author = match post.quote_of_id {
            Some(id) => db::posts::find_by_id(&mut *tx, id)
                .await?
                .map(|q| q.author_id),
            None => None,
        };
        let same_server = url::Url::parse(authorization)
            .ok()
            .map(|u| crate::service::discovery::authority(&u))
            .is_some_and(|host| Some(host) == actor.domain);
        let entitled = match quoted_author {
            Some(author_id) => author_id == actor.id,
            None => same_server,
        };
        if !entitled {
            return Err(Error::Forbidden(
                "only the quoted post's author may revoke its quote".into(),
            ));
        }
        if db::posts::change_quote_state(
            &mut *tx,
            post.id,
            &[QuoteState::Accepted, QuoteState::Pending],
            QuoteState::Revoked,
        )
        .await?
        {
            db::posts::announce_edit(&mut *tx, post.id).await?;
            changed += 1;
        }
    }
    Ok(Some(changed))
}

/// Who may quote one of the author's own posts, changed afterwards (`PUT
/// /api/v1/statuses/:id/interaction_policy`); servers that got the post
/// get an Update when it changed. Quotes already approved stay.
pub async fn set_policy(
    state: &AppState,
    author: &Actor,
    post: &Post,
    policy: Option<&str>,
) -> Result<Post> {
    if post.author_id != author.id || !author.is_local() {
        return Err(Error::Forbidden(
            "only the author may change who may quote a post".into(),
        ));
    }
    let policy = match policy.map(str::trim).filter(|p| !p.is_empty()) {
        None => post.quote_policy,
        Some(raw) => QuotePolicy::parse(raw)
            .ok_or_else(|| Error::Validation(format!("`{raw}` is not a quote approval policy")))?,
    };
    // Private and direct posts cannot be quoted: their policy stays
    // `nobody`, as Mastodon keeps it.
    let policy = if post.visibility.is_public() {
        policy
    } else {
        QuotePolicy::Nobody
    };
    if policy != post.quote_policy {
        let mut tx = state.db.begin().await?;
        db::posts::set_quote_policy(&mut *tx, post.id, policy).await?;
        let changed = db::posts::find_by_id(&mut *tx, post.id)
            .await?
            .ok_or(Error::NotFound)?;
        crate::service::posts::queue_update(&mut tx, state, &changed).await?;
        db::posts::announce_edit(&mut tx, post.id).await?;
        tx.commit().await?;
    }
    db::posts::find_by_id(&state.db, post.id)
        .await?
        .ok_or(Error::NotFound)
}
