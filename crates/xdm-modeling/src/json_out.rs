//! Writes values as JSON text straight into a byte buffer, byte for byte as serde_json
//! would, but copying runs of plain text in bulk instead of escaping byte by byte.

use std::io::Write;

use crate::time_fmt;
use crate::value::{Text, Value};

/// Writes `value` as JSON.
pub(crate) fn value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        // Writing to a Vec does no I/O and cannot fail.
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(n) => number(out, &n),
            None => out.extend_from_slice(b"null"),
        },
        Value::Str(s) => text(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                self::value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            if let Some(raw) = map.raw() {
                out.extend_from_slice(raw.as_bytes());
                return;
            }
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                text(out, key);
                out.push(b':');
                self::value(out, item);
            }
            out.push(b'}');
        }
        Value::Timestamp(us) => {
            // RFC 3339 text holds nothing JSON escapes.
            out.push(b'"');
            time_fmt::write_rfc3339(out, *us);
            out.push(b'"');
        }
    }
}

fn number(out: &mut Vec<u8>, n: &serde_json::Number) {
    // Writing to a Vec does no I/O and a Number always serialises.
    let _ = serde_json::to_writer(&mut *out, n);
}

/// Writes the JSON text of `value` escaped as the content of a JSON string (a JSON
/// string holding JSON), in one pass: no JSON text is built to be escaped afterwards.
pub(crate) fn value_in_string(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value_in_string(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                text_in_string(out, key);
                out.push(b':');
                value_in_string(out, item);
            }
            out.push(b'}');
        }
        Value::Str(s) => text_in_string(out, s),
        // Their JSON (letters, digits, `.`, `+`, `-`) holds nothing a string escapes.
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
            self::value(out, value);
        }
        // Timestamps: their JSON string, escaped.
        other => {
            let mut json = Vec::new();
            self::value(&mut json, other);
            string_content(out, &String::from_utf8_lossy(&json));
        }
    }
}

/// Writes text's JSON string (quotes included) escaped as the content of a JSON string.
fn text_in_string(out: &mut Vec<u8>, s: &Text) {
    if s.is_plain() {
        out.extend_from_slice(b"\\\"");
        out.extend_from_slice(s.as_bytes());
        out.extend_from_slice(b"\\\"");
    } else {
        let mut json = Vec::with_capacity(s.len() + 2);
        text(&mut json, s);
        string_content(out, &String::from_utf8_lossy(&json));
    }
}

/// Writes text as a JSON string, copying text known to need no escapes as it is.
pub(crate) fn text(out: &mut Vec<u8>, s: &Text) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    text_content(out, s);
    out.push(b'"');
}

/// Writes text escaped as inside a JSON string, without the quotes.
pub(crate) fn text_content(out: &mut Vec<u8>, s: &Text) {
    if s.is_plain() {
        out.extend_from_slice(s.as_bytes());
    } else {
        string_content(out, s);
    }
}

/// Writes `s` as a JSON string, escaping as serde_json does (`\"`, `\\`, the short forms
/// `\b \f \n \r \t`, other control characters as `\u00XX`).
pub(crate) fn string(out: &mut Vec<u8>, s: &str) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    string_content(out, s);
    out.push(b'"');
}

/// Writes `s` escaped as inside a JSON string, without the quotes.
pub(crate) fn string_content(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip eight plain bytes at a time.
        if let Some(chunk) = bytes.get(i..i + 8)
            && let Ok(word) = <[u8; 8]>::try_from(chunk)
            && !needs_escape(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        let b = bytes[i];
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether any of the eight bytes is a control character, `"` or `\\`.
pub(crate) fn needs_escape(word: u64) -> bool {
    escape_mask(word) != 0
}

/// A mask whose lowest set bit is the high bit of the first (lowest-addressed, read
/// little-endian) byte that is a control character, `"` or `\\`; zero when none is.
/// Bits above the lowest may be set spuriously.
pub(crate) fn escape_mask(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    below_space
        | has_zero(word ^ (ONES * u64::from(b'"')))
        | has_zero(word ^ (ONES * u64::from(b'\\')))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The mask's lowest bit marks the first byte that JSON escapes.
        #[test]
        fn escape_mask_finds_the_first_special_byte(word in proptest::array::uniform8(prop_oneof![Just(b'"'), Just(b'\\'), 0u8..0x20, 0x20u8..=0xff])) {
            let first = word.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            let mask = super::escape_mask(u64::from_le_bytes(word));
            let found = (mask != 0).then(|| (mask.trailing_zeros() / 8) as usize);
            prop_assert_eq!(found, first);
        }

        /// Strings are written exactly as serde_json writes them.
        #[test]
        fn strings_match_serde_json(s in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f])*") {
            let mut out = Vec::new();
            super::string(&mut out, &s);
            prop_assert_eq!(out, serde_json::to_vec(&s).unwrap());
        }

        /// Values, arrays and objects too.
        #[test]
        fn values_match_serde_json(v in proptest::collection::vec(("\\PC{0,12}", -1e9f64..1e9, any::<i64>()), 0..6)) {
            let json = serde_json::json!(v.iter().map(|(s, f, n)| serde_json::json!({s.clone(): [f, n, s]})).collect::<Vec<_>>());
            let mut out = Vec::new();
            super::value(&mut out, &crate::value::Value::from_json(&json));
            prop_assert_eq!(out, serde_json::to_vec(&json).unwrap());
        }
    }
}
