//! A JSON value kept as the text received, decoded on first use.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::lenient::Key;
use crate::small_string::SmallString;

/// The name serde_json's parser answers with a value's raw text (the protocol behind
/// its public `RawValue`): the text is borrowed from the input when it can be, so a
/// short list costs no allocation at all.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// A JSON value (tag lists, nested objects) kept as the text received and decoded into a
/// [`Value`] only when first looked at: records carry several such fields that most
/// consumers pass through untouched, and building `Value` trees for them was a quarter of
/// the cost of decoding a device. It dereferences to the [`Value`].
///
/// ```
/// use iot_security_api::Json;
/// use serde_json::json;
///
/// let tags: Json = serde_json::from_str(r#"[ "a", {"b": 1} ]"#).unwrap();
/// assert_eq!(tags.raw(), r#"[ "a", {"b": 1} ]"#);
/// assert_eq!(tags[1]["b"], 1);
/// assert_eq!(tags, Json::from(json!(["a", {"b": 1}])));
/// ```
#[derive(Clone)]
pub struct Json {
    /// The JSON text, as received (valid JSON: the parser checked it when it captured it).
    raw: SmallString,
    /// The decoded value, once asked for.
    value: OnceLock<Box<Value>>,
}

impl Json {
    /// The JSON text as received (whitespace included).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The decoded value (decoded on the first call, then kept).
    pub fn value(&self) -> &Value {
        self.value.get_or_init(|| {
            // The text was captured by serde_json's parser or written from a `Value`, so
            // it decodes; should it ever not, it is kept as a string rather than dropped.
            Box::new(
                serde_json::from_str(&self.raw)
                    .unwrap_or_else(|_| Value::String(self.raw.to_string())),
            )
        })
    }

    /// The decoded value, owned.
    pub fn into_value(self) -> Value {
        match self.value.into_inner() {
            Some(value) => *value,
            None => {
                serde_json::from_str(&self.raw).unwrap_or_else(|_| Value::String(self.raw.into()))
            }
        }
    }

    /// A value from its text, already checked to be JSON.
    pub(crate) fn from_checked_text(raw: &str) -> Self {
        Self {
            raw: SmallString::from(raw),
            value: OnceLock::new(),
        }
    }

    /// Whether the text is JSON `null`.
    pub(crate) fn is_null(&self) -> bool {
        &*self.raw == "null"
    }
}

impl Deref for Json {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.value()
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        Self {
            raw: SmallString::from(value.to_string()),
            value: OnceLock::from(Box::new(value)),
        }
    }
}

impl From<Json> for Value {
    fn from(json: Json) -> Self {
        json.into_value()
    }
}

/// Equal when the decoded values are (whitespace in the text does not matter).
impl PartialEq for Json {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw || self.value() == other.value()
    }
}

impl PartialEq<Value> for Json {
    fn eq(&self, other: &Value) -> bool {
        self.value() == other
    }
}

/// Prints the decoded value, as `Value` does.
impl fmt::Debug for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.value(), f)
    }
}

/// Compact JSON, as `Value` prints.
impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.value(), f)
    }
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(RAW_VALUE_TOKEN, JsonVisitor)
    }
}

/// Takes the raw text from serde_json (its parser and its `Value` both answer the raw
/// value protocol); any other format hands over the value itself.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        // serde_json's raw value protocol: one entry, whose value is the raw text.
        if map.next_key::<IgnoredAny>()?.is_none() {
            return Err(serde::de::Error::custom(
                "a raw JSON value was announced but not sent",
            ));
        }
        let raw = match map.next_value::<Key<'de>>()?.0 {
            Cow::Borrowed(text) => SmallString::from(text),
            Cow::Owned(text) => SmallString::from(text),
        };
        Ok(Json {
            raw,
            value: OnceLock::new(),
        })
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        serde::Deserialize::deserialize(deserializer).map(|value: Value| Json::from(value))
    }
}
