//! `GET /api/v1/statuses/{id}/context`: a post's thread. For someone
//! signed in, opening a remote thread queues the fetch of its replies
//! (`service::reply_fetches`) and names it in the `Mastodon-Async-Refresh`
//! header while it runs, as Mastodon 4.4 does.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::domain::filters::Context as FilterContext;
use crate::error::Result;
use crate::http::api::MaybeToken;
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::service::types::Post;
use crate::service::{reply_fetches, timelines};
use crate::state::AppState;

use super::visible_post;

pub(super) async fn context(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Response> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    let refresh = reply_fetches::refresh_for(&state, viewer, &post).await?;
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
    let mut response = Json(e::Context {
        ancestors,
        descendants,
    })
    .into_response();
    if let Some(refresh) = refresh
        && refresh.running
        && let Ok(value) = HeaderValue::from_str(&refresh.header())
    {
        response
            .headers_mut()
            .insert(HeaderName::from_static("mastodon-async-refresh"), value);
    }
    Ok(response)
}
