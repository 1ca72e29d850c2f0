//! `/api/v2/filters/...` and Mastodon 4's `/api/v1/filters` (one v1 filter
//! per keyword of a v2 filter) (<https://docs.joinmastodon.org/methods/filters/>).

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::http::api::{Params, Token, id, params::lenient};
use crate::mastodon::entities as e;
use crate::mastodon::filtering as present;
use crate::service::filters::{self, FilterInput, KeywordChange};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/filters", get(v1_index).post(v1_create))
        .route(
            "/api/v1/filters/{id}",
            get(v1_show).put(v1_update).delete(v1_delete),
        )
        .route("/api/v2/filters", get(index).post(create))
        .route(
            "/api/v2/filters/keywords/{id}",
            get(keyword).put(update_keyword).delete(delete_keyword),
        )
        .route(
            "/api/v2/filters/statuses/{id}",
            get(status).delete(remove_status),
        )
        .route(
            "/api/v2/filters/{id}",
            get(show).put(update).delete(destroy),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(keywords).post(add_keyword),
        )
        .route(
            "/api/v2/filters/{id}/statuses",
            get(statuses).post(add_status),
        )
}

/// `Some` whenever the field is given, so "given empty" (never expire)
/// differs from "left out" (unchanged).
fn given_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    lenient::opt_i64(d).map(Some)
}

fn given_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    lenient::list(d).map(Some)
}

#[derive(Deserialize)]
struct KeywordParams {
    #[serde(default, deserialize_with = "lenient::opt_id")]
    id: Option<String>,
    #[serde(default)]
    keyword: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
    #[serde(default, rename = "_destroy", deserialize_with = "lenient::bool")]
    destroy: bool,
}

#[derive(Deserialize)]
struct FilterParams {
    title: Option<String>,
    #[serde(default, deserialize_with = "given_list")]
    context: Option<Vec<String>>,
    filter_action: Option<String>,
    #[serde(default, deserialize_with = "given_i64")]
    expires_in: Option<Option<i64>>,
    #[serde(default, deserialize_with = "lenient::objects")]
    keywords_attributes: Option<Vec<serde_json::Map<String, Value>>>,
}

impl FilterParams {
    fn input(self) -> Result<FilterInput> {
        let mut keywords = Vec::new();
        for raw in self.keywords_attributes.unwrap_or_default() {
            let k: KeywordParams = serde_json::from_value(Value::Object(raw))
                .map_err(|e| Error::Validation(format!("invalid parameters: {e}")))?;
            keywords.push(KeywordChange {
                id: k.id.as_deref().map(id).transpose()?,
                keyword: k.keyword,
                whole_word: k.whole_word,
                destroy: k.destroy,
            });
        }
        Ok(FilterInput {
            title: self.title,
            context: self.context,
            action: self.filter_action,
            expires_in: self.expires_in,
            keywords,
        })
    }
}

async fn index(State(state): State<AppState>, token: Token) -> Result<Json<Vec<e::Filter>>> {
    let (_, owner) = token.user("read:filters")?;
    let all = filters::all(&state, owner).await?;
    Ok(Json(all.iter().map(present::filter).collect()))
}

/// Mastodon 4's compatibility view: one v1 filter per keyword.
async fn v1_index(State(state): State<AppState>, token: Token) -> Result<Json<Vec<e::V1Filter>>> {
    let (_, owner) = token.user("read:filters")?;
    let all = filters::all(&state, owner).await?;
    Ok(Json(all.iter().flat_map(present::v1_filters).collect()))
}

#[derive(Deserialize)]
struct V1Params {
    phrase: Option<String>,
    #[serde(default, deserialize_with = "given_list")]
    context: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    irreversible: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
    #[serde(default, deserialize_with = "given_i64")]
    expires_in: Option<Option<i64>>,
}

impl V1Params {
    fn input(self) -> filters::V1Input {
        filters::V1Input {
            phrase: self.phrase,
            context: self.context,
            irreversible: self.irreversible,
            whole_word: self.whole_word,
            expires_in: self.expires_in,
        }
    }
}

/// The v1 filter of keyword `keyword` in `view`.
fn v1_of(view: &filters::FilterView, keyword: i64) -> Result<e::V1Filter> {
    present::v1_filters(view)
        .into_iter()
        .find(|f| f.id == keyword.to_string())
        .ok_or(Error::NotFound)
}

async fn v1_show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::V1Filter>> {
    let (_, owner) = token.user("read:filters")?;
    let keyword = filters::keyword(&state, owner, id(&raw)?).await?;
    let view = filters::get(&state, owner, keyword.filter_id).await?;
    Ok(Json(v1_of(&view, keyword.id)?))
}

async fn v1_create(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<V1Params>,
) -> Result<Json<e::V1Filter>> {
    let (_, owner) = token.user("write:filters")?;
    let (view, keyword) = filters::v1_create(&state, owner, p.input()).await?;
    Ok(Json(v1_of(&view, keyword)?))
}

async fn v1_update(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<V1Params>,
) -> Result<Json<e::V1Filter>> {
    let (_, owner) = token.user("write:filters")?;
    let keyword = id(&raw)?;
    let view = filters::v1_update(&state, owner, keyword, p.input()).await?;
    Ok(Json(v1_of(&view, keyword)?))
}

async fn v1_delete(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, owner) = token.user("write:filters")?;
    filters::delete_keyword(&state, owner, id(&raw)?).await?;
    Ok(Json(json!({})))
}

async fn show(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::Filter>> {
    let (_, owner) = token.user("read:filters")?;
    let view = filters::get(&state, owner, id(&raw)?).await?;
    Ok(Json(present::filter(&view)))
}

async fn create(
    State(state): State<AppState>,
    token: Token,
    Params(p): Params<FilterParams>,
) -> Result<Json<e::Filter>> {
    let (_, owner) = token.user("write:filters")?;
    let view = filters::create(&state, owner, p.input()?).await?;
    Ok(Json(present::filter(&view)))
}

async fn update(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<FilterParams>,
) -> Result<Json<e::Filter>> {
    let (_, owner) = token.user("write:filters")?;
    let view = filters::update(&state, owner, id(&raw)?, p.input()?).await?;
    Ok(Json(present::filter(&view)))
}

async fn destroy(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, owner) = token.user("write:filters")?;
    filters::delete(&state, owner, id(&raw)?).await?;
    Ok(Json(json!({})))
}

async fn keywords(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Vec<e::FilterKeyword>>> {
    let (_, owner) = token.user("read:filters")?;
    let all = filters::keywords(&state, owner, id(&raw)?).await?;
    Ok(Json(all.iter().map(present::keyword).collect()))
}

#[derive(Deserialize)]
struct KeywordBody {
    keyword: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    whole_word: Option<bool>,
}

async fn add_keyword(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<KeywordBody>,
) -> Result<Json<e::FilterKeyword>> {
    let (_, owner) = token.user("write:filters")?;
    let keyword = filters::add_keyword(
        &state,
        owner,
        id(&raw)?,
        p.keyword.as_deref().unwrap_or_default(),
        p.whole_word,
    )
    .await?;
    Ok(Json(present::keyword(&keyword)))
}

async fn keyword(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::FilterKeyword>> {
    let (_, owner) = token.user("read:filters")?;
    let keyword = filters::keyword(&state, owner, id(&raw)?).await?;
    Ok(Json(present::keyword(&keyword)))
}

async fn update_keyword(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<KeywordBody>,
) -> Result<Json<e::FilterKeyword>> {
    let (_, owner) = token.user("write:filters")?;
    let keyword =
        filters::update_keyword(&state, owner, id(&raw)?, p.keyword.as_deref(), p.whole_word)
            .await?;
    Ok(Json(present::keyword(&keyword)))
}

async fn delete_keyword(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, owner) = token.user("write:filters")?;
    filters::delete_keyword(&state, owner, id(&raw)?).await?;
    Ok(Json(json!({})))
}

async fn statuses(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Vec<e::FilterStatus>>> {
    let (_, owner) = token.user("read:filters")?;
    let all = filters::statuses(&state, owner, id(&raw)?).await?;
    Ok(Json(all.iter().map(present::status).collect()))
}

#[derive(Deserialize)]
struct StatusBody {
    #[serde(default, deserialize_with = "lenient::opt_id")]
    status_id: Option<String>,
}

async fn add_status(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
    Params(p): Params<StatusBody>,
) -> Result<Json<e::FilterStatus>> {
    let (_, owner) = token.user("write:filters")?;
    let filter_id = id(&raw)?;
    let status_id = id(p.status_id.as_deref().unwrap_or_default())?;
    let entry = filters::add_status(&state, owner, filter_id, status_id).await?;
    Ok(Json(present::status(&entry)))
}

async fn status(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<e::FilterStatus>> {
    let (_, owner) = token.user("read:filters")?;
    let entry = filters::status(&state, owner, id(&raw)?).await?;
    Ok(Json(present::status(&entry)))
}

async fn remove_status(
    State(state): State<AppState>,
    token: Token,
    Path(raw): Path<String>,
) -> Result<Json<Value>> {
    let (_, owner) = token.user("write:filters")?;
    filters::remove_status(&state, owner, id(&raw)?).await?;
    Ok(Json(json!({})))
}
