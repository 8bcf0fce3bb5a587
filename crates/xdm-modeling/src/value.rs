//! XQL values: null, booleans, integers and floats kept apart, strings, arrays, JSON
//! objects and timestamps.

use std::sync::Arc;

use serde_json::{Map, Value as Json};

/// One XQL value. Cloning is cheap: strings, arrays and objects are shared.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// No value.
    #[default]
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// Text.
    Str(Arc<str>),
    /// An array.
    Array(Arc<Vec<Value>>),
    /// A JSON object (a `nested_json` column, or `object_create`).
    Object(Arc<Map<String, Json>>),
    /// A point in time, microseconds since the Unix epoch, UTC.
    Timestamp(i64),
}

impl Value {
    /// A string value.
    #[must_use]
    pub fn str(s: &str) -> Self {
        Value::Str(Arc::from(s))
    }

    /// Whether this is `Null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as a condition: only `true` (or the text "true") holds.
    #[must_use]
    pub fn is_true(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Str(s) => s.eq_ignore_ascii_case("true"),
            _ => false,
        }
    }

    /// Converts a JSON value, keeping int and float apart.
    #[must_use]
    pub fn from_json(json: &Json) -> Self {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => number_value(n),
            Json::String(s) => Value::str(s),
            Json::Array(items) => {
                Value::Array(Arc::new(items.iter().map(Value::from_json).collect()))
            }
            Json::Object(map) => Value::Object(Arc::new(map.clone())),
        }
    }

    /// Converts an owned JSON value without copying objects.
    #[must_use]
    pub fn from_json_owned(json: Json) -> Self {
        match json {
            Json::Object(map) => Value::Object(Arc::new(map)),
            Json::Array(items) => Value::Array(Arc::new(
                items.into_iter().map(Value::from_json_owned).collect(),
            )),
            Json::String(s) => Value::Str(Arc::from(s)),
            other => Value::from_json(&other),
        }
    }

    /// The JSON form written to output records (timestamps as RFC 3339 text).
    #[must_use]
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(n) => Json::from(*n),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.to_string()),
            Value::Array(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(map) => Json::Object(map.as_ref().clone()),
            Value::Timestamp(us) => Json::String(crate::time_fmt::rfc3339(*us)),
        }
    }

    /// The text form used by `to_string`, `concat` and string comparisons; `None` for null.
    #[must_use]
    pub fn to_text(&self) -> Option<Arc<str>> {
        match self {
            Value::Null => None,
            Value::Str(s) => Some(s.clone()),
            other => Some(Arc::from(other.render().as_str())),
        }
    }

    /// Renders a non-string value as text (strings as themselves).
    fn render(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(n) => n.to_string(),
            Value::Float(f) => float_text(*f),
            Value::Str(s) => s.to_string(),
            // Serialised in place: no intermediate JSON tree is built.
            Value::Array(_) | Value::Object(_) => serde_json::to_string(self).unwrap_or_default(),
            Value::Timestamp(us) => crate::time_fmt::rfc3339(*us),
        }
    }

    /// The value as a number, reading numeric text; `None` when it is not one.
    #[must_use]
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Value::Int(n) => Some(Number::Int(*n)),
            Value::Float(f) => Some(Number::Float(*f)),
            Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => None,
            Value::Timestamp(us) => Some(Number::Int(*us)),
            Value::Str(s) => {
                let t = s.trim();
                t.parse::<i64>().map(Number::Int).ok().or_else(|| {
                    t.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .map(Number::Float)
                })
            }
        }
    }

    /// The XQL type name, as diagnostics and test diffs print it.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Array(_) => "list",
            Value::Object(_) => "dict",
            Value::Timestamp(_) => "timestamp",
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(n) => serializer.serialize_i64(*n),
            Value::Float(f) if f.is_finite() => serializer.serialize_f64(*f),
            Value::Float(_) => serializer.serialize_unit(),
            Value::Str(s) => serializer.serialize_str(s),
            Value::Array(items) => serializer.collect_seq(items.iter()),
            Value::Object(map) => map.serialize(serializer),
            Value::Timestamp(us) => serializer.serialize_str(&crate::time_fmt::rfc3339(*us)),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    /// Reads JSON straight into values (objects become [`Value::Object`]), without an
    /// intermediate JSON tree for scalars and arrays.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> serde::de::Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(
            i64::try_from(v)
                .map_or_else(|_| number_value(&serde_json::Number::from(v)), Value::Int),
        )
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::str(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::Array(Arc::new(items)))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            out.insert(key, value);
        }
        Ok(Value::Object(Arc::new(out)))
    }
}

/// A number read from a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// Integral.
    Int(i64),
    /// Floating point.
    Float(f64),
}

impl Number {
    /// As a float.
    #[must_use]
    #[allow(clippy::cast_precision_loss)] // XQL arithmetic mixes ints and floats as doubles.
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(n) => n as f64,
            Number::Float(f) => f,
        }
    }
}

pub(crate) fn number_value(n: &serde_json::Number) -> Value {
    if let Some(i) = n.as_i64() {
        Value::Int(i)
    } else if let Some(f) = n.as_f64() {
        Value::Float(f)
    } else {
        Value::Null
    }
}

/// Floats print like JSON does: integral values keep a `.0`.
pub(crate) fn float_text(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        format!("{f:.1}")
    } else {
        f.to_string()
    }
}
