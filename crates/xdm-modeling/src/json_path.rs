//! JSON paths (`$.a.b[0]['odd.key']`) and extraction from JSON values or JSON text.

use std::sync::Arc;

use serde::de::DeserializeSeed;

use crate::line::{Reader, Scratch};
use crate::value::{Text, Value, ValueSeed};

/// A parsed path: keys, where a numeric key also indexes arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonPath(pub(crate) Vec<String>);

impl JsonPath {
    /// Parses `$.a.b`, `$.a[0]`, `$['k']`, `$.` (root) and bare `a.b`.
    pub(crate) fn parse(text: &str) -> Option<JsonPath> {
        let text = text.trim();
        let mut rest = text.strip_prefix('$').unwrap_or(text);
        let mut segments = Vec::new();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                rest = r;
                continue;
            }
            if let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']')?;
                let inner = r[..close].trim();
                let key = inner
                    .strip_prefix('\'')
                    .and_then(|k| k.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|k| k.strip_suffix('"')))
                    .unwrap_or(inner);
                segments.push(key.to_owned());
                rest = &r[close + 1..];
                continue;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            segments.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
        Some(JsonPath(segments))
    }

    /// Follows the path inside `root`.
    pub(crate) fn get<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        get_in(root, &self.0)
    }
}

/// Follows the path of `segments` inside `root`.
pub(crate) fn get_in<'v>(root: &'v Value, segments: &[String]) -> Option<&'v Value> {
    let mut node = root;
    for segment in segments {
        node = match node {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(node)
}

/// Runs `f` on the JSON inside `value`: an object or array directly, text after parsing it.
pub(crate) fn with_json<T>(value: &Value, f: impl FnOnce(&Value) -> Option<T>) -> Option<T> {
    match value {
        Value::Object(_) => f(value),
        Value::Array(_) => f(&value.json_ready()),
        Value::Str(s) => f(&parse_text(s)?),
        _ => None,
    }
}

/// Follows `path` in `value`; in JSON text, only the node found is read into a value.
pub(crate) fn lookup<T>(
    value: &Value,
    path: &JsonPath,
    f: impl FnOnce(&Value) -> Option<T>,
) -> Option<T> {
    match value {
        Value::Object(_) => f(path.get(value)?),
        Value::Str(text) => f(&text_lookup(text, &path.0)?),
        _ => with_json(value, |json| f(path.get(json)?)),
    }
}

/// JSON text as a value, its strings sharing the text's buffer; `None` when it is not
/// one JSON value.
pub(crate) fn parse_text(text: &Text) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_str(text.as_str());
    let value = ValueSeed {
        shared: Some(text.buffer()),
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    Some(value)
}

/// The node at `path` inside JSON `text`, parsing only that node: everything else is
/// checked for syntax and skipped, so no tree is built for the rest. As parsing the whole
/// text and following the path: `None` for invalid JSON, and a repeated key's last value
/// wins.
fn text_lookup(text: &Text, path: &[String]) -> Option<Value> {
    let (start, end) = text.range();
    let mut scratch = Scratch::default();
    if let Some(found) = Reader::part(text.buffer(), start, end, &mut scratch).lookup(path) {
        return found;
    }
    let mut de = serde_json::Deserializer::from_str(text.as_str());
    let found = PathSeed {
        path,
        shared: text.buffer(),
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    found
}

/// Deserialises the node at a path below the current one (`None` when absent).
#[derive(Clone, Copy)]
struct PathSeed<'p> {
    path: &'p [String],
    shared: &'p Arc<str>,
}

impl<'de> serde::de::DeserializeSeed<'de> for PathSeed<'_> {
    type Value = Option<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        if self.path.is_empty() {
            return ValueSeed {
                shared: Some(self.shared),
            }
            .deserialize(d)
            .map(Some);
        }
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for PathSeed<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (segment, rest) = (&self.path[0], &self.path[1..]);
        let below = PathSeed { path: rest, ..self };
        let mut found = None;
        while let Some(matched) = map.next_key_seed(KeyIs(segment))? {
            if matched {
                found = map.next_value_seed(below)?;
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (segment, rest) = (&self.path[0], &self.path[1..]);
        let below = PathSeed { path: rest, ..self };
        let wanted = segment.parse::<usize>().ok();
        let mut found = None;
        let mut i = 0;
        loop {
            let more = if Some(i) == wanted {
                seq.next_element_seed(below)?.map(|node| found = node)
            } else {
                seq.next_element::<serde::de::IgnoredAny>()?.map(|_| ())
            };
            if more.is_none() {
                return Ok(found);
            }
            i += 1;
        }
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Reads an object key and tells whether it is the one wanted, without copying it.
struct KeyIs<'p>(&'p str);

impl<'de> serde::de::DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The scalar text at a node: strings as themselves, numbers and booleans rendered as
/// JSON writes them.
pub(crate) fn scalar_text(node: &Value) -> Option<Value> {
    match node {
        Value::Str(s) => Some(Value::Str(s.clone())),
        Value::Int(n) => Some(Value::Str(Text::from(n.to_string()))),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map(|n| Value::Str(Text::from(n.to_string())))
        }
        Value::Bool(b) => Some(Value::str(if *b { "true" } else { "false" })),
        // Only as JSON holds it: RFC 3339 text.
        Value::Timestamp(us) => Some(Value::Str(Text::from(crate::time_fmt::rfc3339(*us)))),
        _ => None,
    }
}

/// The JSON text of a node (strings keep their quotes).
pub(crate) fn json_text(node: &Value) -> Option<Value> {
    match node {
        Value::Null => None,
        other => Some(Value::Str(other.json_text())),
    }
}

/// An array node as JSON texts per element.
pub(crate) fn array_texts(node: &Value) -> Option<Value> {
    match node {
        Value::Array(items) => Some(Value::Array(Arc::new(
            items.iter().map(|i| Value::Str(i.json_text())).collect(),
        ))),
        _ => None,
    }
}

/// An array node as plain scalar strings per element (non-scalars dropped).
pub(crate) fn array_scalars(node: &Value) -> Option<Value> {
    match node {
        Value::Array(items) => Some(Value::Array(Arc::new(
            items.iter().filter_map(scalar_text).collect(),
        ))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{JsonPath, parse_text, text_lookup};
    use crate::value::{Text, Value};

    fn json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            "[ab0]{0,2}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
                proptest::collection::vec(("[ab0]{0,1}", inner), 0..4).prop_map(|entries| {
                    // Written as text below, so repeated keys reach the parser.
                    serde_json::Value::Array(
                        entries
                            .into_iter()
                            .map(|(k, v)| serde_json::json!([k, v]))
                            .collect(),
                    )
                }),
            ]
        })
    }

    /// Renders pairs arrays `[[k, v], ...]` tagged by `as_object` as objects with
    /// possibly repeated keys.
    fn text(v: &serde_json::Value, as_object: bool) -> String {
        match v {
            serde_json::Value::Array(items) if as_object => {
                let body: Vec<String> = items
                    .iter()
                    .filter_map(|pair| {
                        let k = pair.get(0)?.as_str()?;
                        Some(format!("{:?}:{}", k, text(pair.get(1)?, k.is_empty())))
                    })
                    .collect();
                format!("{{{}}}", body.join(","))
            }
            serde_json::Value::Array(items) => {
                let body: Vec<String> = items.iter().map(|i| text(i, false)).collect();
                format!("[{}]", body.join(","))
            }
            other => other.to_string(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Looking up a path in JSON text finds what parsing the whole text and following
        /// the path finds, repeated keys and invalid text included.
        #[test]
        fn text_lookup_agrees_with_full_parse(v in json(), as_object: bool, path in proptest::collection::vec("[ab01]{0,1}", 1..4), cut in 0usize..3) {
            let mut t = text(&v, as_object);
            if cut == 0 && !t.is_empty() {
                t.pop();
            }
            let path = JsonPath(path);
            let full: Option<Value> = serde_json::from_str(&t).ok().map(|j| Value::from_json(&j));
            let expected = full.as_ref().and_then(|v| path.get(v)).cloned();
            prop_assert_eq!(text_lookup(&Text::new(&t), &path.0), expected, "text {}", t);
        }

        /// Reading JSON text into values keeps what serde_json keeps, in its order: a
        /// repeated key holds its first place and its last value.
        #[test]
        fn parse_text_agrees_with_serde_json(v in json(), as_object: bool) {
            let t = text(&v, as_object);
            let full: serde_json::Value = serde_json::from_str(&t).unwrap();
            let parsed = parse_text(&Text::new(&t)).unwrap();
            prop_assert_eq!(parsed.json_text().to_string(), full.to_string());
            prop_assert_eq!(parsed, Value::from_json(&full));
        }
    }
}
