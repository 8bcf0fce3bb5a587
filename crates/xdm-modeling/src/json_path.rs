//! JSON paths (`$.a.b[0]['odd.key']`) and extraction from JSON values or JSON text.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::value::Value;

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
    pub(crate) fn get<'j>(&self, root: &'j Json) -> Option<&'j Json> {
        let mut node = root;
        for segment in &self.0 {
            node = match node {
                Json::Object(map) => map.get(segment)?,
                Json::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

/// Runs `f` on the JSON inside `value`: an object or array directly, text after parsing it.
pub(crate) fn with_json<T>(value: &Value, f: impl FnOnce(&Json) -> Option<T>) -> Option<T> {
    match value {
        Value::Object(map) => {
            // Borrowing the map as a Json value needs an owned wrapper; objects are shared,
            // so the clone is of the top level only when paths are taken from a column.
            let json = Json::Object(map.as_ref().clone());
            f(&json)
        }
        Value::Array(_) => f(&value.to_json()),
        Value::Str(s) => {
            let json: Json = serde_json::from_str(s).ok()?;
            f(&json)
        }
        _ => None,
    }
}

/// Follows `path` in `value` without copying the whole object when it is one.
pub(crate) fn lookup<T>(
    value: &Value,
    path: &JsonPath,
    f: impl FnOnce(&Json) -> Option<T>,
) -> Option<T> {
    if let Value::Object(map) = value {
        let (first, rest) = path.0.split_first()?;
        let mut node = map.get(first)?;
        for segment in rest {
            node = match node {
                Json::Object(m) => m.get(segment)?,
                Json::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        return f(node);
    }
    with_json(value, |json| f(path.get(json)?))
}

/// The scalar text at a node: strings as themselves, numbers and booleans rendered.
pub(crate) fn scalar_text(node: &Json) -> Option<Value> {
    match node {
        Json::String(s) => Some(Value::Str(Arc::from(s.as_str()))),
        Json::Number(n) => Some(Value::str(&n.to_string())),
        Json::Bool(b) => Some(Value::str(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// The JSON text of a node (strings keep their quotes).
pub(crate) fn json_text(node: &Json) -> Option<Value> {
    match node {
        Json::Null => None,
        other => Some(Value::str(&other.to_string())),
    }
}

/// An array node as JSON texts per element.
pub(crate) fn array_texts(node: &Json) -> Option<Value> {
    match node {
        Json::Array(items) => Some(Value::Array(Arc::new(
            items.iter().map(|i| Value::str(&i.to_string())).collect(),
        ))),
        _ => None,
    }
}

/// An array node as plain scalar strings per element (non-scalars dropped).
pub(crate) fn array_scalars(node: &Json) -> Option<Value> {
    match node {
        Json::Array(items) => Some(Value::Array(Arc::new(
            items.iter().filter_map(scalar_text).collect(),
        ))),
        _ => None,
    }
}
