//! The shapes ActivityPub properties come in on the wire, read leniently in
//! one place: a reference is a string or an object with an `id`; a list is
//! one value or an array; a timestamp is RFC 3339.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// The `id` of a document or a reference to one: a string, or an object's
/// `id`.
pub fn id_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(map) => map.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// The ids a property names: one reference or an array of them (`to`,
/// `cc`, `attributedTo` come either way).
pub fn ids(value: Option<&Value>) -> Vec<String> {
    items(value)
        .into_iter()
        .filter_map(|item| id_of(item).map(String::from))
        .collect()
}

/// The values of a property that may be one value or an array (`tag`,
/// `attachment`).
pub fn items(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Null) | None => Vec::new(),
        Some(item) => vec![item],
    }
}

/// A string property.
pub fn string<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// The `type` names of an object: one string or a list (`["Note",
/// "Article"]`).
pub fn types(object: &Value) -> Vec<&str> {
    match object.get("type") {
        Some(Value::String(kind)) => vec![kind],
        Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A timestamp property (RFC 3339).
pub fn time(object: &Value, key: &str) -> Option<DateTime<Utc>> {
    string(object, key)
        .and_then(|p| DateTime::parse_from_rfc3339(p).ok())
        .map(|p| p.with_timezone(&Utc))
}

/// The first http(s) URL a property gives: a string, a `Link` object's
/// `href`, or the first such in an array.
pub fn http_url(value: Option<&Value>) -> Option<String> {
    let raw = match value? {
        Value::String(s) => Some(s.as_str()),
        Value::Object(link) => link.get("href").and_then(Value::as_str),
        Value::Array(items) => return items.iter().find_map(|i| http_url(Some(i))),
        _ => None,
    }?;
    url::Url::parse(raw)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reference_is_a_string_or_an_object_with_an_id() {
        assert_eq!(
            id_of(&json!("https://a.example/1")),
            Some("https://a.example/1")
        );
        assert_eq!(
            id_of(&json!({"id": "https://a.example/1", "type": "Note"})),
            Some("https://a.example/1")
        );
        assert_eq!(id_of(&json!({"type": "Note"})), None);
        assert_eq!(id_of(&json!(3)), None);
    }

    #[test]
    fn addressing_comes_as_one_value_or_a_list() {
        let one = json!({"to": "https://a.example/followers"});
        let many = json!({"to": ["https://a.example/followers", {"id": "https://b.example/u"}]});
        assert_eq!(ids(one.get("to")), vec!["https://a.example/followers"]);
        assert_eq!(
            ids(many.get("to")),
            vec!["https://a.example/followers", "https://b.example/u"]
        );
        assert!(ids(json!({}).get("to")).is_empty());
        assert!(ids(json!({"to": null}).get("to")).is_empty());
    }

    #[test]
    fn tags_and_attachments_come_as_one_object_or_a_list() {
        let one = json!({"tag": {"type": "Hashtag", "name": "#a"}});
        let many = json!({"tag": [{"type": "Hashtag"}, {"type": "Mention"}]});
        assert_eq!(items(one.get("tag")).len(), 1);
        assert_eq!(items(many.get("tag")).len(), 2);
    }

    #[test]
    fn a_type_may_be_a_list() {
        assert_eq!(
            types(&json!({"type": ["Note", "Article"]})),
            vec!["Note", "Article"]
        );
        assert_eq!(types(&json!({"type": "Note"})), vec!["Note"]);
    }

    #[test]
    fn urls_come_as_strings_links_or_lists_and_only_http_counts() {
        assert_eq!(
            http_url(Some(
                &json!([{"type": "Link", "href": "ftp://x"}, "https://a.example/p"])
            )),
            Some("https://a.example/p".into())
        );
        assert_eq!(
            http_url(Some(
                &json!({"type": "Link", "href": "https://a.example/p"})
            )),
            Some("https://a.example/p".into())
        );
        assert_eq!(http_url(Some(&json!("javascript:alert(1)"))), None);
    }
}
