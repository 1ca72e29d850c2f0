//! `/api/v1/lists/...` and `/api/v1/accounts/:id/lists`
//! (<https://docs.joinmastodon.org/methods/lists/>). The list timeline is
//! in `timelines`.

use axum::extract::{OriginalUri, Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Result;
use crate::http::api::accounts::{account, bounds};
use crate::http::api::{PageParams, Params, Token, id, paged, params::lenient};
use crate::mastodon::entities as e;
use crate::mastodon::{Presenter, filtering as present};
use crate::service::lists::{self, ListInput};
use crate::service::types::Actor;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/lists", get(index).post(create))
        .route("/api/v1/lists/{id}", get(show).put(update).delete(destroy))
        .route(
            "/api/v1/lists/{id}/accounts",
            get(members).post(add_members).delete(remove_members),
        )
        .route("/api/v1/accounts/{id}/lists", get(containing))
}

#[derive(Deserialize)]
struct ListParams {
    title: Option<String>,
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    exclusive: Option<bool>,
}

impl From<ListParams> for ListInput {
    fn from(p: ListParams) -> ListInput {
        ListInput {
            title: p.title,
            replies_policy: p.replies_policy,
            exclusive: p.exclusive,
        }
    }
}

async fn index(State(state): State<AppState>, token: Token) -> Result<Json<Vec<e::List>>> {
    let (_, owner) = token.user("read:lists")?;
    let all = lists::all(&state, owner).await?;
    Ok(Json(all.iter().map(present::list).collect()))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::List>> {
    let (_, owner) = token.user("read:lists")?;
    let list = lists::get(&state, owner, id(&raw)?).await?;
    Ok(Json(present::list(&list)))
}

async fn create(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<ListParams>,
) -> Result<Json<e::List>> {
    let (_, owner) = token.user("write:lists")?;
    let list = lists::create(&state, owner, p.into()).await?;
    Ok(Json(present::list(&list)))
}

async fn update(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<ListParams>,
) -> Result<Json<e::List>> {
    let (_, owner) = token.user("write:lists")?;
    let list = lists::update(&state, owner, id(&raw)?, p.into()).await?;
    Ok(Json(present::list(&list)))
}

async fn destroy(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, owner) = token.user("write:lists")?;
    lists::delete(&state, owner, id(&raw)?).await?;
    Ok(Json(json!({})))
}

/// Members, 40 a page by default (80 at most); `limit=0` gives all of them
/// unpaged, as Mastodon does.
async fn members(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    token: Token,
    Path(raw): Path<String>,
    Params(page): Params<PageParams>,
) -> Result<Response> {
    let (_, owner) = token.user("read:lists")?;
    let unpaged = page.limit == Some(0);
    let slice = (!unpaged).then(|| page.page(40, 80));
    let rows = lists::members(&state, owner, id(&raw)?, slice).await?;
    let bounds = if unpaged {
        None
    } else {
        bounds(&rows, |r| r.cursor)
    };
    let actors: Vec<Actor> = rows.into_iter().map(|r| r.actor).collect();
    let accounts = Presenter::new(&state, Some(owner))
        .accounts(&actors)
        .await?;
    Ok(paged(&state, &uri, accounts, bounds))
}

#[derive(Deserialize)]
struct AccountIds {
    #[serde(default, deserialize_with = "lenient::list")]
    account_ids: Vec<String>,
}

impl AccountIds {
    fn ids(&self) -> Result<Vec<i64>> {
        self.account_ids.iter().map(|raw| id(raw)).collect()
    }
}

async fn add_members(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<AccountIds>,
) -> Result<Json<Value>> {
    let (_, owner) = token.user("write:lists")?;
    lists::add_members(&state, owner, id(&raw)?, &p.ids()?).await?;
    Ok(Json(json!({})))
}

async fn remove_members(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<AccountIds>,
) -> Result<Json<Value>> {
    let (_, owner) = token.user("write:lists")?;
    // Ids that are not numbers name no member: nothing to remove.
    let ids: Vec<i64> = p
        .account_ids
        .iter()
        .filter_map(|r| r.parse().ok())
        .collect();
    lists::remove_members(&state, owner, id(&raw)?, &ids).await?;
    Ok(Json(json!({})))
}

/// The signed-in user's lists that an account is on.
async fn containing(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Vec<e::List>>> {
    let (_, owner) = token.user("read:lists")?;
    let member = account(&state, &raw).await?;
    let found = lists::containing(&state, owner, &member).await?;
    Ok(Json(found.iter().map(present::list).collect()))
}
