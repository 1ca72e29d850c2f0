//! `GET /api/v1/statuses/{id}/context`: a post's thread.

use axum::Json;
use axum::extract::{Path, State};

use crate::domain::filters::Context as FilterContext;
use crate::error::Result;
use crate::http::api::MaybeToken;
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::timelines;
use crate::service::types::Post;
use crate::state::AppState;

use super::visible_post;

pub(super) async fn context(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<e::Context>> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    let thread = timelines::thread(&state, viewer, &post).await?;
    // One page for both sides, so the viewer's filters are read once.
    let above: std::collections::HashSet<String> =
        thread.ancestors.iter().map(|p| p.id.to_string()).collect();
    let both: Vec<Post> = thread
        .ancestors
        .into_iter()
        .chain(thread.descendants)
        .collect();
    let (ancestors, descendants) = Presenter::new(&state, viewer)
        .in_context(FilterContext::Thread)
        .statuses(&both)
        .await?
        .into_iter()
        .partition(|s| above.contains(&s.id));
    Ok(Json(e::Context {
        ancestors,
        descendants,
    }))
}
