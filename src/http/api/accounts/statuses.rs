//! `GET /api/v1/accounts/{id}/statuses`: an account's posts, with Mastodon's
//! filters.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use serde::Deserialize;

use crate::domain::filters::Context as FilterContext;
use crate::error::Result;
use crate::http::api::{MaybeToken, PageParams, Params, paged, params::lenient};
use crate::mastodon::Presenter;
use crate::service::timelines;
use crate::state::AppState;

use super::{bounds, profile_account};

#[derive(Deserialize)]
pub(super) struct StatusesQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::bool")]
    only_media: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    exclude_replies: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    exclude_reblogs: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    pinned: bool,
    tagged: Option<String>,
}

pub(super) async fn statuses(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(raw): Path<String>,
    Params(p): Params<StatusesQuery>,
) -> Result<Response> {
    let viewer = token.viewer("read:statuses")?;
    let author = profile_account(&state, viewer, &raw).await?;
    let presenter = Presenter::new(&state, viewer).in_context(FilterContext::Account);
    if p.pinned {
        // Pins are few and not paged.
        let pinned = crate::service::posts::pinned(&state, &author).await?;
        let shown: std::collections::HashSet<i64> =
            crate::service::posts::visible_ids(&state, &pinned, viewer)
                .await?
                .into_iter()
                .collect();
        let visible: Vec<_> = pinned
            .into_iter()
            .filter(|p| shown.contains(&p.id))
            .collect();
        let statuses = presenter.statuses(&visible).await?;
        return Ok(paged(&state, &uri, statuses, None));
    }
    let filter = timelines::AccountFilter {
        exclude_replies: p.exclude_replies,
        exclude_reblogs: p.exclude_reblogs,
        only_media: p.only_media,
        tagged: p.tagged.map(|t| t.trim_start_matches('#').to_lowercase()),
        ..Default::default()
    };
    let posts = timelines::profile(
        &state,
        viewer,
        &author,
        filter,
        p.page.page(timelines::DEFAULT_LIMIT, timelines::MAX_LIMIT),
    )
    .await?;
    let bounds = bounds(&posts, |p| p.id);
    let statuses = presenter.statuses(&posts).await?;
    Ok(paged(&state, &uri, statuses, bounds))
}
