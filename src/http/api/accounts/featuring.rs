//! What an account says about others on its own
//! (<https://docs.joinmastodon.org/methods/accounts/>): endorsing
//! (`pin`/`unpin`, and `endorse`/`unendorse` since Mastodon 4.4), the
//! accounts an account endorses, private notes (`note`), and familiar
//! followers.

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use serde::Deserialize;

use crate::error::Result;
use crate::http::api::{MaybeToken, PageParams, Params, Token, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::endorsements;
use crate::service::types::Listing;
use crate::state::AppState;

use super::{account, listing, profile_account, relationship};

/// `POST /api/v1/accounts/{id}/pin` and `/endorse`.
pub(super) async fn endorse(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:accounts")?;
    let target = account(&state, &raw).await?;
    endorsements::endorse(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

/// `POST /api/v1/accounts/{id}/unpin` and `/unendorse`.
pub(super) async fn unendorse(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:accounts")?;
    let target = account(&state, &raw).await?;
    endorsements::unendorse(&state, viewer, &target).await?;
    relationship(&state, viewer, &target).await
}

/// `GET /api/v1/accounts/{id}/endorsements`: public, paged like
/// `GET /api/v1/endorsements`.
pub(super) async fn endorsed_by(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:accounts")?;
    let subject = profile_account(&state, viewer, &raw).await?;
    listing(
        &state,
        &uri,
        viewer,
        Listing::Endorsements,
        subject.id,
        &page,
    )
    .await
}

#[derive(Deserialize, Default)]
pub(super) struct NoteParams {
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/v1/accounts/{id}/note`: sets (or, empty, removes) the
/// viewer's private note about the account.
pub(super) async fn note(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<NoteParams>,
) -> Result<Json<e::Relationship>> {
    let (_, viewer) = token.user("write:accounts")?;
    let target = account(&state, &raw).await?;
    endorsements::set_note(&state, viewer, &target, p.comment.as_deref().unwrap_or("")).await?;
    relationship(&state, viewer, &target).await
}

#[derive(Deserialize)]
pub(super) struct FamiliarQuery {
    #[serde(default, deserialize_with = "lenient::list")]
    id: Vec<String>,
}

/// `GET /api/v1/accounts/familiar_followers?id[]=...`: for each account,
/// the accounts the viewer follows that follow it.
pub(super) async fn familiar_followers(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<FamiliarQuery>,
) -> Result<Json<Vec<e::FamiliarFollowers>>> {
    let (_, viewer) = token.user("read:follows")?;
    let ids: Vec<i64> =
        p.id.iter()
            .filter_map(|i| i.parse().ok())
            .take(40)
            .collect();
    let found = endorsements::familiar_followers(&state, viewer, &ids).await?;
    let presenter = Presenter::new(&state, Some(viewer));
    let mut out = Vec::with_capacity(found.len());
    for (id, followers) in found {
        out.push(e::FamiliarFollowers {
            id: id.to_string(),
            accounts: presenter.accounts(&followers).await?,
        });
    }
    Ok(Json(out))
}
