//! Trends (<https://docs.joinmastodon.org/methods/trends/>): the hashtags
//! and posts trending on this instance, paged by `offset` and `limit`;
//! `/api/v1/trends` is the deprecated name of the hashtags. Public: a
//! token only filters out what its account blocks or mutes. Links are
//! link previews with their history of shares (`service::link_trends`).

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::routing::get;

use crate::error::Result;
use crate::http::api::{MaybeToken, OffsetParams, Params, offset_paged};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::link_trends::{self, LinkView};
use crate::service::trends::{self, TagView};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/trends", get(tags))
        .route("/api/v1/trends/tags", get(tags))
        .route("/api/v1/trends/statuses", get(statuses))
        .route("/api/v1/trends/links", get(links))
}

/// A hashtag's history as Mastodon writes it, today first.
pub(crate) fn history(view: &TagView) -> Vec<e::TagHistory> {
    view.history
        .iter()
        .map(|d| e::TagHistory {
            day: d.day.timestamp().to_string(),
            uses: d.uses.to_string(),
            accounts: d.accounts.to_string(),
        })
        .collect()
}

pub(crate) fn trend_tag(state: &AppState, view: &TagView) -> e::TrendTag {
    e::TrendTag {
        id: view.tag.id.to_string(),
        name: view.tag.tag.clone(),
        url: state.urls.tag(&view.tag.tag),
        history: history(view),
    }
}

async fn tags(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    _token: MaybeToken,
    Params(p): Params<OffsetParams>,
) -> Result<Response> {
    let (limit, offset) = p.get(trends::TAGS_LIMITS.0, trends::TAGS_LIMITS.1);
    let found = trends::tags(&state, limit, offset).await?;
    let shown: Vec<e::TrendTag> = found.iter().map(|v| trend_tag(&state, v)).collect();
    Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
}

async fn statuses(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Params(p): Params<OffsetParams>,
) -> Result<Response> {
    let viewer = token
        .0
        .as_ref()
        .and_then(|t| t.account.as_ref().map(|(_, actor)| actor));
    let (limit, offset) = p.get(trends::STATUSES_LIMITS.0, trends::STATUSES_LIMITS.1);
    let posts = trends::statuses(&state, viewer, limit, offset).await?;
    let shown = Presenter::new(&state, viewer).statuses(&posts).await?;
    Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
}

/// A link's history as Mastodon writes it, today first.
fn link_history(view: &LinkView) -> Vec<e::TagHistory> {
    view.history
        .iter()
        .map(|d| e::TagHistory {
            day: d.day.timestamp().to_string(),
            uses: d.uses.to_string(),
            accounts: d.accounts.to_string(),
        })
        .collect()
}

/// A trending link: its PreviewCard and history.
pub(crate) fn trend_link(state: &AppState, view: &LinkView) -> e::TrendLink {
    let card = &view.trend.card;
    let image = card
        .image_file
        .as_deref()
        .map(|name| crate::service::media::media_url(state, name));
    e::TrendLink {
        card: crate::mastodon::present::preview_card(card, image),
        history: link_history(view),
    }
}

async fn links(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    _token: MaybeToken,
    Params(p): Params<OffsetParams>,
) -> Result<Response> {
    let (limit, offset) = p.get(trends::LINKS_LIMITS.0, trends::LINKS_LIMITS.1);
    let found = link_trends::links(&state, limit, offset).await?;
    let shown: Vec<e::TrendLink> = found.iter().map(|v| trend_link(&state, v)).collect();
    Ok(offset_paged(&state, &uri, shown, &p, limit, offset))
}
