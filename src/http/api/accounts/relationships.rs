//! `GET /api/v1/accounts/relationships`.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::error::Result;
use crate::http::api::{Params, Token, params::lenient};
use crate::mastodon::Presenter;
use crate::mastodon::entities as e;
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct RelationshipsQuery {
    #[serde(default, deserialize_with = "lenient::list")]
    id: Vec<String>,
}

pub(super) async fn relationships(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<RelationshipsQuery>,
) -> Result<Json<Vec<e::Relationship>>> {
    let (_, actor) = token.user("read:follows")?;
    let ids: Vec<i64> =
        p.id.iter()
            .filter_map(|i| i.parse().ok())
            .take(40)
            .collect();
    Ok(Json(
        Presenter::new(&state, Some(actor))
            .relationships(&ids)
            .await?,
    ))
}
