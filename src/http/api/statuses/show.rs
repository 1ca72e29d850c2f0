//! `GET /api/v1/statuses/{id}`, `GET /api/v1/statuses?id[]=`,
//! `/api/v1/statuses/{id}/history` and `/source`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::http::api::{MaybeToken, Params, Token, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities::{self as e, time};
use crate::service::posts;
use crate::state::AppState;

use super::visible_post;

pub(super) async fn show(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<e::Status>> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    Ok(Json(Presenter::new(&state, viewer).status(&post).await?))
}

#[derive(Deserialize)]
pub(super) struct IdList {
    #[serde(default, deserialize_with = "lenient::list")]
    id: Vec<String>,
}

pub(super) async fn many(
    State(state): State<AppState>,
    token: MaybeToken,
    Params(p): Params<IdList>,
) -> Result<Json<Vec<e::Status>>> {
    let viewer = token.viewer("read:statuses")?;
    let mut found = Vec::new();
    for raw in p.id.iter().take(20) {
        if let Ok(post) = visible_post(&state, viewer, raw).await {
            found.push(post);
        }
    }
    Ok(Json(Presenter::new(&state, viewer).statuses(&found).await?))
}

pub(super) async fn history(
    State(state): State<AppState>,
    token: MaybeToken,
    Path(raw): Path<String>,
) -> Result<Json<Vec<e::StatusEdit>>> {
    let viewer = token.viewer("read:statuses")?;
    let post = visible_post(&state, viewer, &raw).await?;
    let presenter = Presenter::new(&state, viewer);
    let current = presenter.status(&post).await?;
    let mut versions: Vec<e::StatusEdit> = posts::history(&state, &post)
        .await?
        .into_iter()
        .map(|(content, summary, sensitive, at)| e::StatusEdit {
            content,
            spoiler_text: summary,
            sensitive,
            created_at: time(at),
            account: current.account.clone(),
            poll: None,
            media_attachments: Vec::new(),
            emojis: Vec::new(),
        })
        .collect();
    versions.push(e::StatusEdit {
        content: current.content.clone(),
        spoiler_text: current.spoiler_text.clone(),
        sensitive: current.sensitive,
        created_at: current
            .edited_at
            .clone()
            .unwrap_or(current.created_at.clone()),
        account: current.account.clone(),
        poll: None,
        media_attachments: current.media_attachments.clone(),
        emojis: current.emojis.clone(),
    });
    Ok(Json(versions))
}

pub(super) async fn source(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::StatusSource>> {
    let (_, author) = token.user("read:statuses")?;
    let post = visible_post(&state, Some(author), &raw).await?;
    if post.author_id != author.id {
        return Err(Error::NotFound);
    }
    Ok(Json(e::StatusSource {
        id: post.id.to_string(),
        text: post.source.clone().unwrap_or_default(),
        spoiler_text: post.summary.clone(),
    }))
}
