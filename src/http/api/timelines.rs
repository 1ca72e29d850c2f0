//! `/api/v1/timelines/...` (<https://docs.joinmastodon.org/methods/timelines/>).

use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;

use crate::domain::filters::Context as FilterContext;
use crate::error::Result;
use crate::http::api::accounts::bounds;
use crate::http::api::{MaybeToken, PageParams, Params, Token, id, paged, params::lenient};
use crate::mastodon::Presenter;
use crate::service::timelines::{self, DEFAULT_LIMIT, MAX_LIMIT, Scope};
use crate::service::{link_trends, lists};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/timelines/home", get(home))
        .route("/api/v1/timelines/direct", get(direct))
        .route("/api/v1/timelines/public", get(public))
        .route("/api/v1/timelines/tag/{hashtag}", get(tag))
        .route("/api/v1/timelines/link", get(link))
        .route("/api/v1/timelines/list/{list_id}", get(list))
}

async fn home(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:statuses")?;
    let posts = timelines::home(&state, viewer, page.page(DEFAULT_LIMIT, MAX_LIMIT)).await?;
    let bounds = bounds(&posts, |p| p.id);
    let statuses = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Home)
        .statuses(&posts)
        .await?;
    Ok(paged(&state, &uri, statuses, bounds))
}

/// Mastodon's old direct timeline (deprecated in favour of conversations,
/// still routed): direct posts to and from the viewer. Filters apply in
/// the "thread" context, as Mastodon's direct timeline did.
async fn direct(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:statuses")?;
    let posts = timelines::direct(&state, viewer, page.page(DEFAULT_LIMIT, MAX_LIMIT)).await?;
    let bounds = bounds(&posts, |p| p.id);
    let statuses = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Thread)
        .statuses(&posts)
        .await?;
    Ok(paged(&state, &uri, statuses, bounds))
}

#[derive(Deserialize)]
struct PublicParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::bool")]
    local: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    remote: bool,
}

impl PublicParams {
    fn scope(&self) -> Scope {
        match (self.local, self.remote) {
            (true, false) => Scope::Local,
            (false, true) => Scope::Remote,
            _ => Scope::All,
        }
    }
}

async fn public(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Params(p): Params<PublicParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:statuses")?;
    let posts = timelines::public(
        &state,
        viewer,
        p.scope(),
        p.page.page(DEFAULT_LIMIT, MAX_LIMIT),
    )
    .await?;
    let bounds = bounds(&posts, |p| p.id);
    let statuses = Presenter::new(&state, viewer)
        .in_context(FilterContext::Public)
        .statuses(&posts)
        .await?;
    Ok(paged(&state, &uri, statuses, bounds))
}

async fn tag(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Path(hashtag): Path<String>,
    Params(p): Params<PublicParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:statuses")?;
    let posts = timelines::tag_in(
        &state,
        viewer,
        &hashtag,
        p.scope(),
        p.page.page(DEFAULT_LIMIT, MAX_LIMIT),
    )
    .await?;
    let bounds = bounds(&posts, |p| p.id);
    let statuses = Presenter::new(&state, viewer)
        .in_context(FilterContext::Public)
        .statuses(&posts)
        .await?;
    Ok(paged(&state, &uri, statuses, bounds))
}

#[derive(Deserialize)]
struct LinkParams {
    #[serde(flatten)]
    public: PublicParams,
    #[serde(default)]
    url: Option<String>,
}

/// The public posts sharing a trending link (`?url=`); 404 for a link that
/// is not trending for everyone, as Mastodon answers.
async fn link(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: MaybeToken,
    Params(p): Params<LinkParams>,
) -> Result<Response> {
    let viewer = token.viewer("read:statuses")?;
    let url = p.url.as_deref().unwrap_or_default();
    if url.trim().is_empty() {
        return Err(crate::error::Error::NotFound);
    }
    let posts = link_trends::timeline(
        &state,
        viewer,
        url,
        p.public.scope(),
        p.public.page.page(DEFAULT_LIMIT, MAX_LIMIT),
    )
    .await?;
    let bounds = bounds(&posts, |p| p.id);
    let statuses = Presenter::new(&state, viewer)
        .in_context(FilterContext::Public)
        .statuses(&posts)
        .await?;
    Ok(paged(&state, &uri, statuses, bounds))
}

/// A list's timeline: home's filters apply, as lists are part of "home" in
/// Mastodon's filter contexts.
async fn list(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, viewer) = token.user("read:lists")?;
    let posts = lists::timeline(
        &state,
        viewer,
        id(&raw)?,
        page.page(DEFAULT_LIMIT, MAX_LIMIT),
    )
    .await?;
    let bounds = bounds(&posts, |p| p.id);
    let statuses = Presenter::new(&state, Some(viewer))
        .in_context(FilterContext::Home)
        .statuses(&posts)
        .await?;
    Ok(paged(&state, &uri, statuses, bounds))
}
