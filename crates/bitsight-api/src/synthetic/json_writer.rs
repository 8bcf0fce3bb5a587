//! A small JSON writer for the synthetic server's hot path: findings are rendered
//! straight into the page buffer, with exactly serde_json's compact formatting (so
//! the text reads back and re-serialises to itself), without serde's per-byte
//! string escaping or `fmt` for numbers and dates.

use time::Date;

/// Bytes serde_json escapes inside a string: `"`, `\` and the C0 controls.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Writes `text` as a JSON string, escaped as serde_json escapes it.
pub(crate) fn push_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        if !needs_escape(byte) {
            continue;
        }
        out.extend_from_slice(&bytes[start..at]);
        start = at + 1;
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            control => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(control >> 4)]);
                out.push(HEX[usize::from(control & 0xf)]);
            }
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes `value` in decimal.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0_u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        // A remainder of 10 is a single digit.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (value % 10) as u8;
        digits[at] = b'0' + digit;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Writes `value` in lower-case hexadecimal, at least `width` digits (zero-padded).
pub(crate) fn push_hex(out: &mut Vec<u8>, value: u64, width: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let significant = (64 - value.leading_zeros()).div_ceil(4).max(1);
    let digits = usize::try_from(significant).unwrap_or(16).max(width);
    for place in (0..digits).rev() {
        let shift = u32::try_from(place * 4).unwrap_or(u32::MAX);
        let nibble = value.checked_shr(shift).unwrap_or(0) & 0xf;
        out.push(HEX[usize::try_from(nibble).unwrap_or(0)]);
    }
}

/// Writes `date` as `YYYY-MM-DD` (what `format_date` gives).
pub(crate) fn push_date(out: &mut Vec<u8>, date: Date) {
    let Ok(year) = u16::try_from(date.year()) else {
        out.extend_from_slice(crate::lenient::format_date(date).as_bytes());
        return;
    };
    if year > 9999 {
        out.extend_from_slice(crate::lenient::format_date(date).as_bytes());
        return;
    }
    let two = |n: u8| [b'0' + n / 10, b'0' + n % 10];
    // Each quotient is below 100.
    #[allow(clippy::cast_possible_truncation)]
    let (century, rest) = ((year / 100) as u8, (year % 100) as u8);
    out.extend_from_slice(&two(century));
    out.extend_from_slice(&two(rest));
    out.push(b'-');
    out.extend_from_slice(&two(u8::from(date.month())));
    out.push(b'-');
    out.extend_from_slice(&two(date.day()));
}

/// Writes `value` as serde_json writes an `f64`.
pub(crate) fn push_f64(out: &mut Vec<u8>, value: f64) {
    // Writing a number into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &value);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lenient::format_date;
    use proptest::prelude::*;

    fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn strings_escape_as_serde_json_does(text in "(.|[\\x00-\\x1f\"\\\\\u{7f}])*") {
            prop_assert_eq!(written(|out| push_str(out, &text)), serde_json::to_string(&text).unwrap());
        }

        #[test]
        fn numbers_match_fmt(value in any::<u64>(), width in 0_usize..20) {
            prop_assert_eq!(written(|out| push_u64(out, value)), value.to_string());
            prop_assert_eq!(written(|out| push_hex(out, value, width)), format!("{value:0width$x}"));
        }

        #[test]
        fn dates_match_format_date(days in -800_000_i64..3_000_000) {
            let date = Date::from_julian_day(i32::try_from(days).unwrap()).unwrap();
            prop_assert_eq!(written(|out| push_date(out, date)), format_date(date));
        }
    }
}
