//! Request parameters as Mastodon clients send them: in the query string,
//! as a form (`media_ids[]=1&media_ids[]=2`, `poll[options][]=a`,
//! `fields_attributes[0][name]=x`) or as JSON, merged into one value and
//! read with lenient types (form values are strings: "true", "1", "42").
//! Failures answer 422 with Mastodon's `{"error": ...}` body.

use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::Error;

/// Parameters of type `T` from the query string and the body together.
pub struct Params<T>(pub T);

impl<S, T> FromRequest<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (value, _) = collect(req, state, false).await?;
        T::deserialize(value)
            .map(Params)
            .map_err(|e| Error::Validation(format!("invalid parameters: {e}")))
    }
}

/// Parameters with files: a multipart form's file parts by field name
/// (`file`, `avatar`, `header`), besides parameters as [`Params`] reads
/// them.
pub struct WithFiles<T> {
    pub params: T,
    pub files: HashMap<String, Bytes>,
}

impl<S, T> FromRequest<S> for WithFiles<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (value, files) = collect(req, state, true).await?;
        let params = T::deserialize(value)
            .map_err(|e| Error::Validation(format!("invalid parameters: {e}")))?;
        Ok(WithFiles { params, files })
    }
}

async fn collect<S: Send + Sync>(
    req: Request,
    state: &S,
    allow_files: bool,
) -> Result<(Value, HashMap<String, Bytes>), Error> {
    let query = req.uri().query().unwrap_or_default().to_string();
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut merged = from_pairs(form_urlencoded(query.as_bytes()));
    let mut files = HashMap::new();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(req, state)
            .await
            .map_err(|e| Error::BadRequest(format!("the form is invalid: {e}")))?;
        let mut pairs = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_string();
            if field.file_name().is_some() {
                if !allow_files {
                    return Err(Error::Validation(format!(
                        "files are not accepted here (field `{name}`)"
                    )));
                }
                let bytes = field.bytes().await.map_err(multipart_error)?;
                files.insert(name, bytes);
            } else {
                let text = field.text().await.map_err(multipart_error)?;
                pairs.push((name, text));
            }
        }
        merge(&mut merged, from_pairs(pairs));
        return Ok((merged, files));
    }
    let body = Bytes::from_request(req, state)
        .await
        .map_err(|_| Error::PayloadTooLarge)?;
    if !body.is_empty() {
        let from_body = if content_type.starts_with("application/json") {
            serde_json::from_slice::<Value>(&body)
                .map_err(|e| Error::BadRequest(format!("the JSON body is invalid: {e}")))?
        } else {
            from_pairs(form_urlencoded(&body))
        };
        merge(&mut merged, from_body);
    }
    Ok((merged, files))
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> Error {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge
    } else {
        Error::BadRequest(format!("the form is invalid: {}", e.body_text()))
    }
}

fn form_urlencoded(bytes: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Builds a JSON object from bracketed form keys: `a[]` appends to an
/// array, `a[b]` and `a[0]` nest (numeric keys stay object keys; readers of
/// such fields accept both shapes).
pub fn from_pairs(pairs: Vec<(String, String)>) -> Value {
    let mut root = Value::Object(Map::new());
    for (key, value) in pairs {
        let path = split_key(&key);
        insert(&mut root, &path, Value::String(value));
    }
    root
}

fn split_key(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    parts.push(head.to_string());
    while let Some(stripped) = rest.strip_prefix('[') {
        match stripped.find(']') {
            Some(end) => {
                parts.push(stripped[..end].to_string());
                rest = &stripped[end + 1..];
            }
            None => break,
        }
    }
    parts
}

fn insert(node: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if first.is_empty() {
        // `[]`: append to an array.
        if !node.is_array() {
            *node = Value::Array(Vec::new());
        }
        if let Value::Array(items) = node {
            if rest.is_empty() {
                items.push(value);
            } else {
                // `a[][b]`: objects appended one key at a time; a repeated
                // key starts a new object.
                let needs_new = match items.last() {
                    Some(Value::Object(last)) => last.contains_key(&rest[0]),
                    _ => true,
                };
                if needs_new {
                    items.push(Value::Object(Map::new()));
                }
                if let Some(last) = items.last_mut() {
                    insert(last, rest, value);
                }
            }
        }
        return;
    }
    if !node.is_object() {
        *node = Value::Object(Map::new());
    }
    if let Value::Object(map) = node {
        if rest.is_empty() {
            map.insert(first.clone(), value);
        } else {
            let child = map.entry(first.clone()).or_insert(Value::Null);
            insert(child, rest, value);
        }
    }
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                a.insert(k, v);
            }
        }
        (slot, other) => *slot = other,
    }
}

/// Lenient readers for form-encoded values.
pub mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn truthy(v: &Value) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Number(n) => Some(n.as_i64() != Some(0)),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "yes" => Some(true),
                "false" | "0" | "off" | "no" | "" => Some(false),
                _ => None,
            },
            Value::Null => None,
            _ => None,
        }
    }

    pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        let v = Value::deserialize(d)?;
        match v {
            Value::Null => Ok(None),
            other => truthy(&other)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("expected a boolean")),
        }
    }

    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(opt_bool(d)?.unwrap_or(false))
    }

    pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        let v = Value::deserialize(d)?;
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("expected an integer")),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an integer"))),
            _ => Err(serde::de::Error::custom("expected an integer")),
        }
    }

    pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let v = Value::deserialize(d)?;
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => Ok(n.as_f64()),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a number"))),
            _ => Err(serde::de::Error::custom("expected a number")),
        }
    }

    /// An id (Mastodon's ids are strings; some clients send numbers).
    pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let v = Value::deserialize(d)?;
        match v {
            Value::Null => Ok(None),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::String(s) if s.is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s)),
            _ => Err(serde::de::Error::custom("expected an id")),
        }
    }

    /// A list given as an array, as one value, or as an object with index
    /// keys (`a[0]=x&a[1]=y`).
    pub fn list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let v = Value::deserialize(d)?;
        let items: Vec<Value> = match v {
            Value::Null => Vec::new(),
            Value::Array(items) => items,
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(u64::MAX));
                entries.into_iter().map(|(_, v)| v).collect()
            }
            other => vec![other],
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                _ => Err(serde::de::Error::custom("expected a list of strings")),
            })
            .collect()
    }

    /// A list that may be left out (None) or given, even empty (Some).
    pub fn opt_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
        list(d).map(Some)
    }

    /// Objects given as an array or keyed by index
    /// (`fields_attributes[0][name]=...`).
    pub fn objects<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<serde_json::Map<String, Value>>>, D::Error> {
        let v = Value::deserialize(d)?;
        let items: Vec<Value> = match v {
            Value::Null => return Ok(None),
            Value::Array(items) => items,
            Value::Object(map) => {
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by_key(|(k, _)| k.parse::<u64>().unwrap_or(u64::MAX));
                entries.into_iter().map(|(_, v)| v).collect()
            }
            _ => return Err(serde::de::Error::custom("expected a list of objects")),
        };
        items
            .into_iter()
            .map(|item| match item {
                Value::Object(m) => Ok(m),
                _ => Err(serde::de::Error::custom("expected a list of objects")),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn bracketed_form_keys_become_arrays_and_objects() {
        let v = from_pairs(pairs(&[
            ("status", "hi"),
            ("media_ids[]", "1"),
            ("media_ids[]", "2"),
            ("poll[options][]", "a"),
            ("poll[options][]", "b"),
            ("poll[expires_in]", "300"),
            ("fields_attributes[0][name]", "n"),
            ("fields_attributes[0][value]", "v"),
            ("fields_attributes[1][name]", "m"),
        ]));
        assert_eq!(
            v,
            json!({
                "status": "hi",
                "media_ids": ["1", "2"],
                "poll": {"options": ["a", "b"], "expires_in": "300"},
                "fields_attributes": {"0": {"name": "n", "value": "v"}, "1": {"name": "m"}},
            })
        );
    }

    #[test]
    fn arrays_of_objects_start_a_new_object_on_a_repeated_key() {
        let v = from_pairs(pairs(&[
            ("keywords_attributes[][keyword]", "a"),
            ("keywords_attributes[][whole_word]", "true"),
            ("keywords_attributes[][keyword]", "b"),
        ]));
        assert_eq!(
            v,
            json!({"keywords_attributes": [{"keyword": "a", "whole_word": "true"}, {"keyword": "b"}]})
        );
    }
}
