//! Reading JSON from other servers strictly: a document in which some
//! object names the same key twice is refused, at any depth.
//!
//! Parsers disagree on such documents (serde_json keeps the last value,
//! others the first), so two readers of one signed activity could act on
//! different contents: one checks an `actor` or `id` that another never
//! sees. Mastodon's JSON reader refuses them outright; so does this.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Why a body is not strict JSON.
#[derive(Debug, thiserror::Error)]
#[error("the body is not valid JSON: {0}")]
pub struct JsonError(#[from] serde_json::Error);

/// Parses `bytes` as one JSON value, refusing any object with a duplicate
/// key (and, as serde_json does, trailing data and nesting deeper than 128).
pub fn parse_strict(bytes: &[u8]) -> Result<Value, JsonError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// Builds a `serde_json::Value` as serde_json does, except for objects.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never hands over a NaN or an infinity.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let value = map.next_value_seed(StrictValue)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_without_duplicate_keys_read_as_serde_json_reads_them() {
        let text = r#"{"@context":["https://www.w3.org/ns/activitystreams",{"toot":"http://joinmastodon.org/ns#"}],"id":"https://a.example/1","type":"Create","n":-3,"u":18446744073709551615,"f":1.5,"e":1e3,"t":true,"z":null,"s":"\u00e9\ud83d\ude00","object":{"type":"Note","tag":[{"type":"Mention"},{"type":"Hashtag"}]}}"#;
        let strict = parse_strict(text.as_bytes()).expect("valid");
        let loose: Value = serde_json::from_str(text).expect("valid");
        assert_eq!(strict, loose);
        // Key order is kept (`preserve_order`).
        let keys: Vec<&String> = strict.as_object().expect("object").keys().collect();
        assert_eq!(keys[0], "@context");
        assert_eq!(keys[1], "id");
        assert_eq!(
            parse_strict(b" [1, \"a\"] ").expect("valid"),
            json!([1, "a"])
        );
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        for text in [
            r#"{"actor":"https://a.example/users/a","actor":"https://b.example/users/b"}"#,
            r#"{"object":{"id":"https://a.example/1","type":"Note","id":"https://a.example/2"}}"#,
            r#"{"tag":[{"type":"Mention"},{"href":"x","href":"y"}]}"#,
            r#"[[[{"a":1,"b":{"c":{"d":1,"d":1}}}]]]"#,
            // The same key spelled with an escape is still the same key.
            r#"{"id":"x","\u0069d":"y"}"#,
        ] {
            let error = parse_strict(text.as_bytes()).expect_err(text);
            assert!(error.to_string().contains("duplicate key"), "{error}");
        }
    }

    #[test]
    fn malformed_documents_and_trailing_data_are_refused() {
        for text in ["", "{", "{\"a\":1}{\"a\":2}", "{\"a\":1} x", "[1,]"] {
            assert!(parse_strict(text.as_bytes()).is_err(), "{text}");
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_strict(deep.as_bytes()).is_err());
    }
}
