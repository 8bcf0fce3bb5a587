//! XQL values: null, booleans, integers and floats kept apart, strings, arrays, JSON
//! objects and timestamps.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value as Json};

/// Shared, immutable text: a whole string, or a part of a larger one (a field of the event
/// line it was read from), so that reading and copying values does not copy their text.
#[derive(Clone)]
pub struct Text {
    buf: Arc<str>,
    /// Where the text starts in `buf`; the top bit is [`PLAIN`].
    start: u32,
    /// Where it ends, or [`WHOLE`].
    end: u32,
}

/// Set in `Text::start` when the text is known to hold no character that JSON escapes
/// (`"`, `\`, control characters): a string read unescaped from JSON text. It is then
/// written to JSON as it is, without scanning it.
const PLAIN: u32 = 1 << 31;

/// `Text::end` of text that is the whole of a buffer too large for 31-bit offsets.
const WHOLE: u32 = u32::MAX;

impl Text {
    /// Text holding a copy of `s`.
    #[must_use]
    pub fn new(s: &str) -> Text {
        Text::whole(Arc::from(s))
    }

    fn whole(buf: Arc<str>) -> Text {
        match u32::try_from(buf.len()) {
            Ok(end) if end < PLAIN => Text { buf, start: 0, end },
            _ => Text {
                buf,
                start: 0,
                end: WHOLE,
            },
        }
    }

    /// `part` as text sharing `buf` when `part` lies inside it (no copy), a copy otherwise.
    /// `plain` tells that `part` holds no character JSON escapes.
    pub(crate) fn within(buf: &Arc<str>, part: &str, plain: bool) -> Text {
        let base = buf.as_ptr() as usize;
        let at = (part.as_ptr() as usize).wrapping_sub(base);
        if at <= buf.len()
            && buf.len() - at >= part.len()
            && let (Ok(start), Ok(end)) = (u32::try_from(at), u32::try_from(at + part.len()))
            && end < PLAIN
        {
            return Text {
                buf: Arc::clone(buf),
                start: if plain { start | PLAIN } else { start },
                end,
            };
        }
        Text::new(part)
    }

    /// The bytes `start..end` of `buf` (char boundaries) as text sharing it, a copy when
    /// the offsets are too large to share.
    pub(crate) fn at(buf: &Arc<str>, start: usize, end: usize, plain: bool) -> Text {
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(s), Ok(e)) if e < PLAIN && s <= e => Text {
                buf: Arc::clone(buf),
                start: if plain { s | PLAIN } else { s },
                end: e,
            },
            _ => Text::new(buf.get(start..end).unwrap_or_default()),
        }
    }

    /// A part of this text (`part` must be a slice of it) sharing its buffer.
    pub(crate) fn slice(&self, part: &str) -> Text {
        Text::within(&self.buf, part, self.is_plain())
    }

    /// Whether the text is known to hold no character that JSON escapes.
    pub(crate) fn is_plain(&self) -> bool {
        self.start & PLAIN != 0
    }

    /// The text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        if self.end == WHOLE {
            return &self.buf;
        }
        // Offsets are set from char boundaries of `buf`, so the slice always exists.
        self.buf
            .get((self.start & !PLAIN) as usize..self.end as usize)
            .unwrap_or_default()
    }

    /// Text written by `build` (which tells whether it wrote only characters JSON does not
    /// escape) into a per-thread scratch buffer, then copied once into its own allocation.
    pub(crate) fn build(build: impl FnOnce(&mut String) -> bool) -> Text {
        thread_local! {
            static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        SCRATCH.with(|cell| {
            let mut fresh = String::new();
            let mut borrowed = cell.try_borrow_mut();
            // A build inside a build writes to a buffer of its own.
            let scratch = match &mut borrowed {
                Ok(scratch) => &mut **scratch,
                Err(_) => &mut fresh,
            };
            scratch.clear();
            let plain = build(scratch);
            let mut text = Text::new(scratch);
            if plain && text.end != WHOLE {
                text.start |= PLAIN;
            }
            text
        })
    }

    /// Text holding a copy of `s`, marked as needing no JSON escapes when it does not:
    /// for text made once, such as a rule's literals.
    pub(crate) fn checked(s: &str) -> Text {
        let mut text = Text::new(s);
        if text.end != WHOLE && !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
            text.start |= PLAIN;
        }
        text
    }

    /// Where the text lies in [`Text::buffer`].
    pub(crate) fn range(&self) -> (usize, usize) {
        if self.end == WHOLE {
            (0, self.buf.len())
        } else {
            ((self.start & !PLAIN) as usize, self.end as usize)
        }
    }

    /// The buffer this text is part of, so that JSON read from the text can share it.
    pub(crate) fn buffer(&self) -> &Arc<str> {
        &self.buf
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::new(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::whole(Arc::from(s))
    }
}

impl From<Arc<str>> for Text {
    fn from(s: Arc<str>) -> Text {
        Text::whole(s)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JSON object: its entries in order of first appearance, each key once (a repeated
/// key keeps its first place and takes its last value, as JSON parsers do).
#[derive(Clone, Default)]
pub struct Object {
    entries: Vec<(Text, Value)>,
    /// The object's compact JSON text, when it was read from text that was already
    /// exactly that (no whitespace, escapes, repeated keys or numbers of other forms).
    raw: Option<Text>,
}

impl Object {
    /// An empty object.
    #[must_use]
    pub fn new() -> Object {
        Object::default()
    }

    /// An object of `entries`, a repeated key keeping its first place and last value.
    #[must_use]
    pub fn from_entries(mut entries: Vec<(Text, Value)>) -> Object {
        if has_repeated_key(&entries) {
            let mut unique: Vec<(Text, Value)> = Vec::with_capacity(entries.len());
            let mut places = std::collections::HashMap::with_capacity(entries.len());
            for (key, value) in entries {
                match places.get(key.as_str()) {
                    Some(&at) => {
                        let slot: &mut (Text, Value) = &mut unique[at];
                        slot.1 = value;
                    }
                    None => {
                        places.insert(key.clone(), unique.len());
                        unique.push((key, value));
                    }
                }
            }
            entries = unique;
        }
        Object { entries, raw: None }
    }

    /// An object of entries whose keys are known to be distinct.
    pub(crate) fn from_distinct_entries(entries: Vec<(Text, Value)>) -> Object {
        debug_assert!(!has_repeated_key(&entries));
        Object { entries, raw: None }
    }

    /// The object with `raw` as its compact JSON text; the caller knows that it is.
    pub(crate) fn with_raw(mut self, raw: Text) -> Object {
        self.raw = Some(raw);
        self
    }

    /// The object's compact JSON text, when known without writing it.
    pub(crate) fn raw(&self) -> Option<&Text> {
        self.raw.as_ref()
    }

    /// Sets `key` to `value`: in place when the key is present, at the end otherwise.
    pub fn insert(&mut self, key: Text, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The value of `key`.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    /// The entries in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&Text, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn has_repeated_key(entries: &[(Text, Value)]) -> bool {
    if entries.len() <= 16 {
        // Each key's text taken once, then compared pairwise.
        let mut seen = [""; 16];
        for (i, (key, _)) in entries.iter().enumerate() {
            let key = key.as_str();
            if seen[..i].contains(&key) {
                return true;
            }
            seen[i] = key;
        }
        return false;
    }
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    entries.iter().any(|(k, _)| !seen.insert(k.as_str()))
}

/// Objects are equal when they hold the same keys with equal values, in any order.
impl PartialEq for Object {
    fn eq(&self, other: &Object) -> bool {
        self.len() == other.len()
            && self
                .entries
                .iter()
                .all(|(k, v)| other.get(k).is_some_and(|w| w == v))
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

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
    Str(Text),
    /// An array.
    Array(Arc<Vec<Value>>),
    /// A JSON object (a `nested_json` column, or `object_create`).
    Object(Arc<Object>),
    /// A point in time, microseconds since the Unix epoch, UTC.
    Timestamp(i64),
}

impl Value {
    /// A string value.
    #[must_use]
    pub fn str(s: &str) -> Self {
        Value::Str(Text::new(s))
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
            Json::Object(map) => Value::Object(Arc::new(Object {
                entries: map
                    .iter()
                    .map(|(k, v)| (Text::new(k), Value::from_json(v)))
                    .collect(),
                raw: None,
            })),
        }
    }

    /// Converts an owned JSON value, moving its strings.
    #[must_use]
    pub fn from_json_owned(json: Json) -> Self {
        match json {
            Json::Object(map) => Value::Object(Arc::new(Object {
                entries: map
                    .into_iter()
                    .map(|(k, v)| (Text::from(k), Value::from_json_owned(v)))
                    .collect(),
                raw: None,
            })),
            Json::Array(items) => Value::Array(Arc::new(
                items.into_iter().map(Value::from_json_owned).collect(),
            )),
            Json::String(s) => Value::Str(Text::from(s)),
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
            Value::Object(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect::<Map<String, Json>>(),
            ),
            Value::Timestamp(us) => Json::String(crate::time_fmt::rfc3339(*us)),
        }
    }

    /// The value as JSON holds it: timestamps become their RFC 3339 text and non-finite
    /// floats null, inside arrays too (objects are built that way already). Shared, not
    /// copied, when nothing changes.
    #[must_use]
    pub(crate) fn json_ready(&self) -> Value {
        fn changes(v: &Value) -> bool {
            match v {
                Value::Timestamp(_) => true,
                Value::Float(f) => !f.is_finite(),
                Value::Array(items) => items.iter().any(changes),
                _ => false,
            }
        }
        match self {
            Value::Timestamp(us) => Value::Str(Text::from(crate::time_fmt::rfc3339(*us))),
            Value::Float(f) if !f.is_finite() => Value::Null,
            Value::Array(items) if items.iter().any(changes) => {
                Value::Array(Arc::new(items.iter().map(Value::json_ready).collect()))
            }
            other => other.clone(),
        }
    }

    /// The text form used by `to_string`, `concat` and string comparisons; `None` for null.
    #[must_use]
    pub fn to_text(&self) -> Option<Text> {
        match self {
            Value::Null => None,
            Value::Str(s) => Some(s.clone()),
            Value::Array(_) | Value::Object(_) => Some(self.json_text()),
            // Numbers, booleans and RFC 3339 text hold nothing JSON escapes.
            other => Some(Text::build(|out| {
                other.render_into(out);
                true
            })),
        }
    }

    /// Writes a scalar's text (what `to_string` gives) into `out`.
    pub(crate) fn render_into(&self, out: &mut String) {
        use std::fmt::Write;
        // Writing to a String cannot fail.
        let _ = match self {
            Value::Null => Ok(()),
            Value::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
            Value::Int(n) => write!(out, "{n}"),
            Value::Float(f) => write_float_text(out, *f),
            Value::Str(s) => out.write_str(s),
            Value::Array(_) | Value::Object(_) => out.write_str(&self.json_text()),
            Value::Timestamp(us) => out.write_str(&crate::time_fmt::rfc3339(*us)),
        };
    }

    /// The compact JSON text of the value.
    pub(crate) fn json_text(&self) -> Text {
        if let Value::Object(map) = self
            && let Some(raw) = map.raw()
        {
            return raw.clone();
        }
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|cell| {
            let mut fresh = Vec::new();
            let mut borrowed = cell.try_borrow_mut();
            let scratch = match &mut borrowed {
                Ok(scratch) => &mut **scratch,
                Err(_) => &mut fresh,
            };
            scratch.clear();
            crate::json_out::value(scratch, self);
            // json_out writes UTF-8 only: escapes are ASCII and text is copied whole.
            Text::new(&String::from_utf8_lossy(scratch))
        })
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
            Value::Object(map) => serializer.collect_map(map.iter().map(|(k, v)| (k.as_str(), v))),
            Value::Timestamp(us) => serializer.serialize_str(&crate::time_fmt::rfc3339(*us)),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    /// Reads JSON straight into values, without an intermediate JSON tree.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ValueSeed { shared: None }.deserialize(deserializer)
    }
}

/// Reads one JSON value into a [`Value`]. With `shared`, the buffer the JSON text is read
/// from, strings without escapes (keys too) share that buffer instead of being copied.
#[derive(Clone, Copy)]
pub(crate) struct ValueSeed<'b> {
    pub(crate) shared: Option<&'b Arc<str>>,
}

impl ValueSeed<'_> {
    /// Text of a string borrowed from the JSON text: serde_json's reader hands out a
    /// borrowed string only when it holds no escape, and it rejects raw control
    /// characters, so the string needs no escaping to be written back.
    fn text(self, s: &str) -> Text {
        match self.shared {
            Some(buf) => Text::within(buf, s, true),
            None => Text::new(s),
        }
    }
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value, E> {
        Ok(Value::Str(self.text(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::str(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(Text::from(v)))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(Arc::new(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(key) = map.next_key_seed(KeySeed(self))? {
            entries.push((key, map.next_value_seed(self)?));
        }
        Ok(Value::Object(Arc::new(Object::from_entries(entries))))
    }
}

/// Reads an object key as [`Text`], shared as [`ValueSeed`] shares strings.
struct KeySeed<'b>(ValueSeed<'b>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Text;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text, E> {
        Ok(self.0.text(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Text, E> {
        Ok(Text::new(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Text, E> {
        Ok(Text::from(v))
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
fn write_float_text(out: &mut String, f: f64) -> fmt::Result {
    use std::fmt::Write;
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e16 {
        // Integral and below 1e16: the integer is exact, and cheaper to print.
        #[allow(clippy::cast_possible_truncation)]
        let n = f as i64;
        if n == 0 && f.is_sign_negative() {
            return out.write_str("-0.0");
        }
        write!(out, "{n}.0")
    } else {
        write!(out, "{f}")
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Integral floats print as `{:.1}` prints them.
        #[test]
        fn integral_floats_keep_one_decimal(n in -10_000_000_000_000_000i64..10_000_000_000_000_000, negative_zero: bool) {
            #[allow(clippy::cast_precision_loss)]
            let f = if negative_zero { -0.0 } else { n as f64 };
            let mut text = String::new();
            super::write_float_text(&mut text, f).unwrap();
            prop_assert_eq!(text, format!("{f:.1}"));
        }
    }
}
