//! Mastodon's paging: `max_id`, `since_id`, `min_id` and `limit` in, a
//! `Link` header with `next` (older) and `prev` (newer) pages out.

use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::http::api::params::lenient;
use crate::service::types::Page;
use crate::state::AppState;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub max_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub since_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id")]
    pub min_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub limit: Option<i64>,
}

impl PageParams {
    /// The page, with the limit brought within `default` and `max`. Ids
    /// that are not numbers page from nothing (Mastodon ignores them too).
    pub fn page(&self, default: i64, max: i64) -> Page {
        let id = |v: &Option<String>| v.as_deref().and_then(|s| s.parse::<i64>().ok());
        Page {
            max_id: id(&self.max_id),
            since_id: id(&self.since_id),
            min_id: id(&self.min_id),
            limit: self.limit.unwrap_or(default).clamp(1, max),
        }
    }
}

/// A JSON list with the Link header that pages it by the ids `first`
/// (newest) and `last` (oldest) of the items shown.
pub fn paged<T: Serialize>(
    state: &AppState,
    uri: &Uri,
    items: Vec<T>,
    bounds: Option<(i64, i64)>,
) -> Response {
    linked(state, uri, items, bounds)
}

/// Any JSON body with the Link header that pages it by the ids `first`
/// (newest) and `last` (oldest), as [`paged`] does for lists.
pub fn linked<T: Serialize>(
    state: &AppState,
    uri: &Uri,
    body: T,
    bounds: Option<(i64, i64)>,
) -> Response {
    let mut response = axum::Json(body).into_response();
    if let Some((first, last)) = bounds {
        let base = format!("{}{}", state.urls.origin(), uri.path());
        let kept: Vec<(String, String)> =
            url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .filter(|(k, _)| !matches!(k.as_ref(), "max_id" | "since_id" | "min_id"))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
        let link = |key: &str, id: i64| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &kept {
                query.append_pair(k, v);
            }
            query.append_pair(key, &id.to_string());
            format!("{base}?{}", query.finish())
        };
        let value = format!(
            "<{}>; rel=\"next\", <{}>; rel=\"prev\"",
            link("max_id", last),
            link("min_id", first)
        );
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    response
}

/// `offset` and `limit` paging (trends, suggestions), as Mastodon's:
/// the limit within `default` and `max`, a negative offset as 0.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OffsetParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub offset: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub limit: Option<i64>,
}

impl OffsetParams {
    /// (limit, offset)
    pub fn get(&self, default: i64, max: i64) -> (i64, i64) {
        (
            self.limit.unwrap_or(default).clamp(1, max),
            self.offset.unwrap_or(0).max(0),
        )
    }
}

/// A JSON list with Mastodon's offset `Link` header: `next` when the page
/// is full, `prev` when the offset is beyond one page; `limit` is kept
/// when the request gave it.
pub fn offset_paged<T: Serialize>(
    state: &AppState,
    uri: &Uri,
    items: Vec<T>,
    params: &OffsetParams,
    limit: i64,
    offset: i64,
) -> Response {
    let full = items.len() as i64 == limit;
    let mut response = axum::Json(items).into_response();
    let base = format!("{}{}", state.urls.origin(), uri.path());
    let link = |to: i64| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if params.limit.is_some() {
            query.append_pair("limit", &limit.to_string());
        }
        query.append_pair("offset", &to.to_string());
        format!("{base}?{}", query.finish())
    };
    let mut links = Vec::new();
    if full {
        links.push(format!("<{}>; rel=\"next\"", link(offset + limit)));
    }
    if offset > limit {
        links.push(format!("<{}>; rel=\"prev\"", link(offset - limit)));
    }
    if !links.is_empty()
        && let Ok(v) = HeaderValue::from_str(&links.join(", "))
    {
        response.headers_mut().insert(header::LINK, v);
    }
    response
}
