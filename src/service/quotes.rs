//! Quote approval (FEP-044f): who may quote a local post, answering
//! QuoteRequests, and the authorizations given.

use crate::db::{self, actors::Actor, posts::Post};
use crate::domain::follows::FollowState;
use crate::domain::visibility::QuotePolicy;
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
