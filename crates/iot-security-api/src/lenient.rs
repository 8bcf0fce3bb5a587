//! Lenient field decoding shared by the record models.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::fast_json::{Reader, Scanned, Token, read_field};
use crate::json::Json;
use crate::model::AlertMsg;
use crate::small_string::SmallString;

/// One field's value, borrowed from a record: what [`Device::field`](crate::Device::field)
/// and friends hand back, so a mapper can render every field without knowing its type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldRef<'a> {
    /// A string (also a number or flag that arrived as one and was kept typed).
    Text(&'a str),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Any JSON value kept as received (unknown fields, lists, objects, null).
    Json(&'a Value),
    /// An alert's nested `msg` object.
    Msg(&'a AlertMsg),
}

impl FieldRef<'_> {
    /// Whether the value is null, an empty string, an empty list or an empty object.
    pub fn is_empty(&self) -> bool {
        match self {
            Self::Text(text) => text.is_empty(),
            Self::Json(Value::Null) => true,
            Self::Json(Value::String(text)) => text.is_empty(),
            Self::Json(Value::Array(items)) => items.is_empty(),
            Self::Json(Value::Object(map)) => map.is_empty(),
            _ => false,
        }
    }
}

/// Strings print raw; numbers and flags as JSON does; lists, objects and `msg` as
/// compact JSON; null as the empty string.
impl fmt::Display for FieldRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(text) => f.write_str(text),
            Self::Int(number) => write!(f, "{number}"),
            Self::Float(number) => write!(f, "{number}"),
            Self::Bool(flag) => write!(f, "{flag}"),
            Self::Json(Value::Null) => Ok(()),
            Self::Json(Value::String(text)) => f.write_str(text),
            Self::Json(value) => write!(f, "{value}"),
            Self::Msg(msg) => match serde_json::to_string(msg) {
                Ok(json) => f.write_str(&json),
                Err(_) => Err(fmt::Error),
            },
        }
    }
}

/// A field type that accepts the shapes seen in the wild and gives back what does not fit.
pub(crate) trait Lenient: Sized {
    /// Reads the typed value straight from the parser (no intermediate JSON value), or
    /// the JSON value when its shape does not fit (it then goes to `extra`, so nothing
    /// is dropped).
    fn deserialize_lenient<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Result<Self, Value>, D::Error>;
    /// The typed value from a value the fast page reader read itself, as
    /// `deserialize_lenient` would make it; `None` when it takes serde_json to decode.
    fn from_token(scanned: &Scanned<'_>) -> Option<Result<Self, Value>>;
    /// A borrowed view for generic field access.
    fn as_field(&self) -> FieldRef<'_>;
    /// Reads the field's value on the fast page reader, as [`put`] does on serde's
    /// decoder; types override it to read their most common shape first.
    #[inline(always)]
    fn read_fast(
        reader: &mut Reader<'_>,
        slot: &mut Option<Self>,
        extra: &mut Map<String, Value>,
        key: &str,
    ) -> Option<()> {
        read_field(reader, slot, extra, key)
    }
}

/// How a scalar type takes each JSON shape; what it refuses comes back as a value.
trait Scalar: Sized {
    fn from_str(text: &str) -> Result<Self, Value>;
    fn from_string(text: String) -> Result<Self, Value> {
        Self::from_str(&text).map_err(|_| Value::String(text))
    }
    fn from_i64(number: i64) -> Result<Self, Value> {
        Err(Value::from(number))
    }
    fn from_u64(number: u64) -> Result<Self, Value> {
        Err(Value::from(number))
    }
    fn from_f64(number: f64) -> Result<Self, Value> {
        Err(Value::from(number))
    }
    fn from_bool(flag: bool) -> Result<Self, Value> {
        Err(Value::Bool(flag))
    }
}

impl Scalar for String {
    fn from_str(text: &str) -> Result<Self, Value> {
        Ok(text.to_owned())
    }
    fn from_string(text: String) -> Result<Self, Value> {
        Ok(text)
    }
    fn from_i64(number: i64) -> Result<Self, Value> {
        Ok(number.to_string())
    }
    fn from_u64(number: u64) -> Result<Self, Value> {
        Ok(number.to_string())
    }
    fn from_f64(number: f64) -> Result<Self, Value> {
        match serde_json::Number::from_f64(number) {
            Some(number) => Ok(number.to_string()),
            None => Err(Value::Null),
        }
    }
}

impl Scalar for SmallString {
    fn from_str(text: &str) -> Result<Self, Value> {
        Ok(Self::from(text))
    }
    fn from_string(text: String) -> Result<Self, Value> {
        Ok(Self::from(text))
    }
    fn from_i64(number: i64) -> Result<Self, Value> {
        String::from_i64(number).map(Self::from)
    }
    fn from_u64(number: u64) -> Result<Self, Value> {
        String::from_u64(number).map(Self::from)
    }
    fn from_f64(number: f64) -> Result<Self, Value> {
        String::from_f64(number).map(Self::from)
    }
}

impl Scalar for i64 {
    fn from_str(text: &str) -> Result<Self, Value> {
        text.trim()
            .parse()
            .map_err(|_| Value::String(text.to_owned()))
    }
    fn from_i64(number: i64) -> Result<Self, Value> {
        Ok(number)
    }
    fn from_u64(number: u64) -> Result<Self, Value> {
        i64::try_from(number).map_err(|_| Value::from(number))
    }
}

impl Scalar for f64 {
    fn from_str(text: &str) -> Result<Self, Value> {
        match text.trim().parse::<f64>() {
            Ok(number) if number.is_finite() => Ok(number),
            _ => Err(Value::String(text.to_owned())),
        }
    }
    fn from_i64(number: i64) -> Result<Self, Value> {
        // JSON integers as floats: a float field holds what JSON numbers mean.
        Ok(number as f64)
    }
    fn from_u64(number: u64) -> Result<Self, Value> {
        Ok(number as f64)
    }
    fn from_f64(number: f64) -> Result<Self, Value> {
        Ok(number)
    }
}

impl Scalar for bool {
    fn from_str(text: &str) -> Result<Self, Value> {
        match text.to_ascii_lowercase().as_str() {
            "true" | "yes" => Ok(true),
            "false" | "no" => Ok(false),
            _ => Err(Value::String(text.to_owned())),
        }
    }
    fn from_bool(flag: bool) -> Result<Self, Value> {
        Ok(flag)
    }
}

/// Reads any JSON shape into a [`Scalar`], falling back to a [`Value`].
struct ScalarVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Scalar> Visitor<'de> for ScalarVisitor<T> {
    type Value = Result<T, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(T::from_str(text))
    }
    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(T::from_string(text))
    }
    fn visit_i64<E>(self, number: i64) -> Result<Self::Value, E> {
        Ok(T::from_i64(number))
    }
    fn visit_u64<E>(self, number: u64) -> Result<Self::Value, E> {
        Ok(T::from_u64(number))
    }
    fn visit_f64<E>(self, number: f64) -> Result<Self::Value, E> {
        Ok(T::from_f64(number))
    }
    fn visit_bool<E>(self, flag: bool) -> Result<Self::Value, E> {
        Ok(T::from_bool(flag))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Err(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Err)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Err)
    }
}

macro_rules! scalar_lenient {
    ($($ty:ident => $variant:ident),*) => {
        $(
            impl Lenient for $ty {
                #[inline(always)]
                fn deserialize_lenient<'de, D: Deserializer<'de>>(
                    deserializer: D,
                ) -> Result<Result<Self, Value>, D::Error> {
                    deserializer.deserialize_any(ScalarVisitor::<$ty>(std::marker::PhantomData))
                }
                fn from_token(scanned: &Scanned<'_>) -> Option<Result<Self, Value>> {
                    Some(match scanned.token {
                        Token::Str(text) => <$ty as Scalar>::from_str(text),
                        Token::U64(number) => <$ty as Scalar>::from_u64(number),
                        Token::Bool(flag) => <$ty as Scalar>::from_bool(flag),
                        Token::Null => Err(Value::Null),
                        Token::Other => return None,
                    })
                }
                fn as_field(&self) -> FieldRef<'_> {
                    FieldRef::$variant(scalar_lenient!(@view self, $variant))
                }
                scalar_lenient!(@read_fast $ty);
            }
        )*
    };
    (@view $value:expr, Text) => { $value };
    (@view $value:expr, $other:ident) => { *$value };
    // Texts, integers and flags read their usual shapes straight from the page; the
    // rest goes the general way (`read_field`).
    (@read_fast String) => {
        scalar_lenient!(@read_fast_text |reader: &mut Reader<'_>| reader.plain_string_value().map(String::from));
    };
    (@read_fast SmallString) => {
        scalar_lenient!(@read_fast_text |reader: &mut Reader<'_>| reader.small_string_value());
    };
    (@read_fast i64) => {
        #[inline(always)]
        fn read_fast(
            reader: &mut Reader<'_>,
            slot: &mut Option<Self>,
            extra: &mut Map<String, Value>,
            key: &str,
        ) -> Option<()> {
            if slot.is_none() {
                let start = reader.position();
                // Digits, or a string of them (as `from_str` reads it).
                let number = match reader.plain_integer_value() {
                    Some(digits) => digits.parse().ok(),
                    None => reader.plain_string_value().and_then(|text| text.trim().parse().ok()),
                };
                if number.is_some() {
                    *slot = number;
                    return Some(());
                }
                reader.rewind(start);
            }
            read_field(reader, slot, extra, key)
        }
    };
    (@read_fast bool) => {
        #[inline(always)]
        fn read_fast(
            reader: &mut Reader<'_>,
            slot: &mut Option<Self>,
            extra: &mut Map<String, Value>,
            key: &str,
        ) -> Option<()> {
            if slot.is_none()
                && let Some(flag) = reader.flag_value()
            {
                *slot = Some(flag);
                return Some(());
            }
            read_field(reader, slot, extra, key)
        }
    };
    (@read_fast $ty:ident) => {};
    (@read_fast_text $read_string:expr) => {
        #[inline(always)]
        fn read_fast(
            reader: &mut Reader<'_>,
            slot: &mut Option<Self>,
            extra: &mut Map<String, Value>,
            key: &str,
        ) -> Option<()> {
            if slot.is_none() {
                // A string without escapes, or an integer whose digits are its text.
                let text = match $read_string(reader) {
                    Some(text) => Some(text),
                    None => reader.plain_integer_value().map(Self::from),
                };
                if text.is_some() {
                    *slot = text;
                    return Some(());
                }
            }
            read_field(reader, slot, extra, key)
        }
    };
}

scalar_lenient!(String => Text, SmallString => Text, i64 => Int, f64 => Float, bool => Bool);

impl Lenient for Json {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Result<Self, Value>, D::Error> {
        let json = Json::deserialize(deserializer)?;
        Ok(if json.is_null() {
            Err(Value::Null)
        } else {
            Ok(json)
        })
    }
    fn from_token(scanned: &Scanned<'_>) -> Option<Result<Self, Value>> {
        Some(match scanned.token {
            Token::Null => Err(Value::Null),
            _ => Ok(Json::from_checked_text(scanned.raw)),
        })
    }
    fn as_field(&self) -> FieldRef<'_> {
        FieldRef::Json(self.value())
    }
    #[inline(always)]
    fn read_fast(
        reader: &mut Reader<'_>,
        slot: &mut Option<Self>,
        extra: &mut Map<String, Value>,
        key: &str,
    ) -> Option<()> {
        if slot.is_some() {
            return read_field(reader, slot, extra, key);
        }
        // As `from_token`, without the detour through a `Result`.
        let scanned = reader.value()?;
        match scanned.token {
            Token::Null => {
                extra.insert(key.to_owned(), Value::Null);
            }
            _ => *slot = Some(Json::from_checked_text(scanned.raw)),
        }
        Some(())
    }
}

/// A field read leniently: typed, or the value that did not fit.
pub(crate) struct Shape<T>(pub(crate) Result<T, Value>);

impl<'de, T: Lenient> Deserialize<'de> for Shape<T> {
    #[inline(always)]
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize_lenient(deserializer).map(Shape)
    }
}

/// Reads the value of a typed field: into its slot when it fits and the slot is free (an
/// alias may have filled it), otherwise under its own key in `extra`.
#[inline(always)]
pub(crate) fn put<'de, T: Lenient, A: MapAccess<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    extra: &mut Map<String, Value>,
    key: Cow<'de, str>,
) -> Result<(), A::Error> {
    if slot.is_some() {
        let value: Value = map.next_value()?;
        extra.insert(key.into_owned(), value);
        return Ok(());
    }
    match map.next_value::<Shape<T>>()?.0 {
        Ok(typed) => *slot = Some(typed),
        Err(value) => {
            extra.insert(key.into_owned(), value);
        }
    }
    Ok(())
}

/// An object key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
            fn visit_string<E>(self, key: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// Declares a record type: typed optional fields (each with its wire name and the
/// aliases seen in the wild) plus an `extra` map for everything else, with a lenient
/// `Deserialize`, a `Serialize` that writes canonical names, and generic field access.
macro_rules! lenient_record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                $field:ident : $ty:ty = $wire:literal $(| $alias:literal)*,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                pub $field: Option<$ty>,
            )*
            /// Every field this type does not type, as received (also a known field whose
            /// value had an unexpected shape, or a second alias of a filled field).
            pub extra: serde_json::Map<String, serde_json::Value>,
        }

        impl $name {
            /// The wire names of the typed fields (aliases are accepted on input and
            /// written back under these names).
            pub const KNOWN_FIELDS: &'static [&'static str] = &[$($wire),*];

            /// One field by its wire name (or an alias), typed or from `extra`. `extra`
            /// is looked at first: when a record carries two aliases of one field, the
            /// second is kept there under its own name and must be found by it.
            pub fn field(&self, name: &str) -> Option<$crate::FieldRef<'_>> {
                if let Some(value) = self.extra.get(name) {
                    return Some($crate::FieldRef::Json(value));
                }
                match name {
                    $( $wire $(| $alias)* => self.$field.as_ref().map($crate::lenient::Lenient::as_field), )*
                    _ => None,
                }
            }

            /// Every field present, typed ones first (in declaration order, under their
            /// canonical names), then `extra` in arrival order.
            pub fn fields(&self) -> impl Iterator<Item = (&str, $crate::FieldRef<'_>)> {
                let typed = [$( ($wire, self.$field.as_ref().map($crate::lenient::Lenient::as_field)) ),*];
                typed
                    .into_iter()
                    .filter_map(|(name, value)| value.map(|value| (name, value)))
                    .chain(self.extra.iter().map(|(name, value)| (name.as_str(), $crate::FieldRef::Json(value))))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct RecordVisitor;
                impl<'de> serde::de::Visitor<'de> for RecordVisitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut record = $name::default();
                        while let Some(key) = map.next_key::<$crate::lenient::Key<'de>>()? {
                            match key.0.as_ref() {
                                $( $wire $(| $alias)* => $crate::lenient::put(&mut map, &mut record.$field, &mut record.extra, key.0)?, )*
                                _ => {
                                    let value: serde_json::Value = map.next_value()?;
                                    record.extra.insert(key.0.into_owned(), value);
                                }
                            }
                        }
                        Ok(record)
                    }
                }
                deserializer.deserialize_map(RecordVisitor)
            }
        }

        const _: () = {
            /// Where a key's value goes on the fast path.
            #[allow(non_camel_case_types)]
            #[derive(Clone, Copy)]
            pub(crate) enum Slot {
                $( $field, )*
                Extra,
            }

            impl $crate::fast_json::FastRecord for $name {
                type Slot = Slot;

                fn slot_of(key: &str) -> Slot {
                    match key {
                        $( $wire $(| $alias)* => Slot::$field, )*
                        _ => Slot::Extra,
                    }
                }

                fn read_fast<'de>(
                    &mut self,
                    reader: &mut $crate::fast_json::Reader<'de>,
                    keys: &mut $crate::fast_json::KeyCache<'de, Slot>,
                ) -> Option<()> {
                    reader.record(keys, Self::slot_of, |reader, key, slot| match slot {
                        $( Slot::$field => $crate::lenient::Lenient::read_fast(reader, &mut self.$field, &mut self.extra, key), )*
                        Slot::Extra => $crate::fast_json::read_extra(reader, &mut self.extra, key),
                    })
                }
            }
        };

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(None)?;
                $(
                    if let Some(value) = &self.$field {
                        map.serialize_entry($wire, value)?;
                    }
                )*
                for (name, value) in &self.extra {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    };
}

pub(crate) use lenient_record;
