//! Field values as CEF text, and the typed keys with their fallbacks.

use std::borrow::Cow;
use std::net::IpAddr;

use cef_codec::keys::{Ipv4Key, MacKey, TimeKey};
use cef_codec::{EventWriter, MacAddress, keys};
use iot_security_api::FieldRef;
use serde_json::Value;

/// A field as plain text: strings as they are, numbers and flags as JSON writes them,
/// lists of scalars joined with `, `, objects as compact JSON, null as nothing.
pub(super) fn plain(field: FieldRef<'_>) -> Cow<'_, str> {
    if let Some(text) = as_text(field) {
        return Cow::Borrowed(text);
    }
    match field {
        FieldRef::Json(Value::Array(items)) if items.iter().all(is_scalar) => Cow::Owned(
            items
                .iter()
                .map(|item| plain(FieldRef::Json(item)))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => Cow::Owned(other.to_string()),
    }
}

/// The value when it is a string.
pub(super) fn as_text(field: FieldRef<'_>) -> Option<&str> {
    match field {
        FieldRef::Text(text) => Some(text),
        FieldRef::Json(Value::String(text)) => Some(text.as_str()),
        _ => None,
    }
}

fn is_scalar(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// Whether Python would call the value true: the old converter left out `0`, `""`,
/// `false`, `[]`, `{}` and `null`.
pub(super) fn truthy(field: FieldRef<'_>) -> bool {
    match field {
        FieldRef::Int(0) | FieldRef::Bool(false) => false,
        FieldRef::Float(number) => number != 0.0,
        FieldRef::Json(Value::Bool(flag)) => *flag,
        FieldRef::Json(Value::Number(number)) => number.as_f64() != Some(0.0),
        other => !other.is_empty(),
    }
}

/// Where an address that does not fit its typed key goes instead.
pub(super) struct Leftovers<'a> {
    pairs: Vec<(&'a str, Cow<'a, str>)>,
}

impl<'a> Leftovers<'a> {
    pub(super) fn new() -> Self {
        Self { pairs: Vec::new() }
    }

    pub(super) fn len(&self) -> usize {
        self.pairs.len()
    }

    pub(super) fn push(&mut self, name: &'a str, value: Cow<'a, str>) {
        if !value.is_empty() {
            self.pairs.push((name, value));
        }
    }

    /// `name=value; name=value` (the codec escapes `=`), or nothing.
    pub(super) fn into_msg<'o>(self, event: EventWriter<'o>) -> EventWriter<'o> {
        if self.pairs.is_empty() {
            return event;
        }
        let text = self
            .pairs
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        event.text(keys::MSG, &text)
    }
}

/// An IPv4 address into `key`; an IPv6 one into `c6a1` (labelled `label`); anything else
/// into the leftovers under `name`.
pub(super) fn address<'a, 'o>(
    event: EventWriter<'o>,
    key: Ipv4Key,
    label: &'a str,
    name: &'a str,
    text: &'a str,
    leftovers: &mut Leftovers<'a>,
) -> EventWriter<'o> {
    match text.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => event.ipv4(key, v4),
        Ok(IpAddr::V6(v6)) => event.label(keys::C6A1, label).ipv6(keys::C6A1, v6),
        Err(_) => {
            leftovers.push(name, Cow::Borrowed(text));
            event
        }
    }
}

/// A MAC address into `key`, anything else into the leftovers.
pub(super) fn mac<'a, 'o>(
    event: EventWriter<'o>,
    key: MacKey,
    name: &'a str,
    text: &'a str,
    leftovers: &mut Leftovers<'a>,
) -> EventWriter<'o> {
    match text.trim().parse::<MacAddress>() {
        Ok(mac) => event.mac(key, mac),
        Err(_) => {
            leftovers.push(name, Cow::Borrowed(text));
            event
        }
    }
}

/// A timestamp (ISO-8601 text, or epoch milliseconds as a number or digits) into `key`,
/// anything else into the leftovers.
pub(super) fn time<'a, 'o>(
    event: EventWriter<'o>,
    key: TimeKey,
    name: &'a str,
    field: FieldRef<'a>,
    leftovers: &mut Leftovers<'a>,
) -> EventWriter<'o> {
    match timestamp(field) {
        Some(at) => event.time(key, at),
        None => {
            leftovers.push(name, plain(field));
            event
        }
    }
}

fn timestamp(field: FieldRef<'_>) -> Option<time::OffsetDateTime> {
    let millis = match (field, as_text(field)) {
        (_, Some(text)) => {
            let text = text.trim();
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                text.parse().ok()
            } else {
                return iot_security_api::parse_timestamp(text);
            }
        }
        (FieldRef::Int(millis), None) => Some(millis),
        (FieldRef::Json(Value::Number(number)), None) => number.as_i64(),
        _ => None,
    }?;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()
}
