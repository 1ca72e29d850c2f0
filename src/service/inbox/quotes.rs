//! Quotes from the inbox (FEP-044f): what a remote post quotes and whether
//! the quote is approved, QuoteRequests for local posts, and the answers to
//! the QuoteRequests Skein sent.

use url::Url;

use super::{Received, Tx};
use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::notifications::NotificationKind;
use crate::domain::visibility::QuoteState;
use crate::error::{Error, Result};
use crate::federation::inbound::{Envelope, Reference, RemotePost};
use crate::service::discovery::authority;
use crate::state::AppState;

/// Records what a remote post quotes and whether the quote is approved: for
/// a quote of a local post, by our own authorization; for others, by an
/// authorization on the quoted post's host.
pub async fn record(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    post: &Post,
    object: &RemotePost,
) -> Result<()> {
    let Some(quoted) = object.quote.as_deref() else {
        return Ok(());
    };
    // A revoked approval stays revoked, whatever the quote's server says
    // of it later.
    if post.quote_state == Some(QuoteState::Revoked) && post.quote_ap_id.as_deref() == Some(quoted)
    {
        return Ok(());
    }
    let authorization = object.quote_authorization.as_deref();
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
    let was_accepted = post.quote_state == Some(QuoteState::Accepted);
    let quote_state = if accepted {
        QuoteState::Accepted
    } else {
        QuoteState::Pending
    };
    db::posts::set_quote(
        &mut **tx,
        post.id,
        quoted,
        quote_state,
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
            NotificationKind::Quote,
            actor.id,
            Some(post.id),
            state.clock.now(),
        )
        .await?;
    }
    Ok(())
}

/// QuoteRequest for one of our posts: approved under the post's policy with
/// an Accept carrying a QuoteAuthorization, or refused with a Reject.
pub async fn on_request(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    envelope: &Envelope,
    object: &str,
    quote: &str,
) -> Result<Received> {
    let quote_url =
        Url::parse(quote).map_err(|_| Error::BadRequest("the quote is not a URL".into()))?;
    if Some(authority(&quote_url)) != actor.domain {
        return Err(Error::Forbidden("the quote is not the actor's own".into()));
    }
    let Some(post) = db::posts::find_by_ap_id(&mut **tx, object).await? else {
        return Ok(Received::Ignored("the QuoteRequest names no post here"));
    };
    let Some(author) = db::actors::find_by_id(&mut **tx, post.author_id)
        .await?
        .filter(|a| a.is_local())
    else {
        return Ok(Received::Ignored("the QuoteRequest names a post not ours"));
    };
    // The answer echoes the request, as FEP-044f asks.
    let mut request =
        crate::federation::activities::quote_request(&envelope.id, &actor.ap_id, object, quote);
    // The answer takes the request's context, which defines QuoteRequest.
    let context = request
        .as_object_mut()
        .and_then(|map| map.remove("@context"));
    let visible = post.deleted_at.is_none() && post.visibility.is_public();
    let id = crate::federation::activities::new_id(&state.urls);
    let allowed = visible && crate::service::quotes::allowed(state, &post, &author, actor).await?;
    // An approval the author revoked is not given again.
    let grant = match allowed {
        true => db::posts::authorize_quote(&mut **tx, post.id, quote, actor.id).await?,
        false => None,
    };
    let answer = if let Some(grant) = grant {
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
    let mut answer = answer;
    if let Some(context) = context {
        answer["@context"] = context;
    }
    crate::service::outbox::queue_for(tx, state, &author, actor, &answer).await?;
    Ok(Received::Applied)
}

/// Accept or Reject of a QuoteRequest we sent: only the quoted post's author
/// answers it. An approval is recorded and the quote's audience gets an
/// Update carrying the authorization. None when the answer is not about a
/// QuoteRequest.
pub async fn on_answer(
    tx: &mut Tx<'_>,
    state: &AppState,
    actor: &Actor,
    object: &Reference,
    result: Option<&str>,
    accepted: bool,
) -> Result<Option<Received>> {
    let Some(request) = object.id.as_deref() else {
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
        db::posts::set_quote(
            &mut **tx,
            post.id,
            &quoted,
            QuoteState::Rejected,
            Some(request),
            None,
        )
        .await?;
        return Ok(Some(Received::Applied));
    }
    let Some(result) = result else {
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
        QuoteState::Accepted,
        Some(request),
        Some(result),
    )
    .await?;
    let post = db::posts::find_by_id(&mut **tx, post.id)
        .await?
        .ok_or(Error::NotFound)?;
    crate::service::posts::queue_update(tx, state, &post).await?;
    Ok(Some(Received::Applied))
}
