//! Integers, IPv4 and MAC addresses written straight into the builder's bytes, without the
//! `fmt` machinery: the builder writes several per event.

use std::fmt;
use std::net::Ipv4Addr;

use crate::block::{push_block, put};

/// Lets `write!` append UTF-8 text to a byte buffer, for the rarer values (floats, IPv6
/// addresses, text timestamps) that `fmt` writes.
pub(crate) struct ByteWriter<'a>(pub(crate) &'a mut Vec<u8>);

impl fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

/// Appends `value` as its `Display` writes it.
pub(crate) fn push_display(out: &mut Vec<u8>, value: impl fmt::Display) {
    // Writing to a Vec cannot fail.
    let _ = fmt::Write::write_fmt(&mut ByteWriter(out), format_args!("{value}"));
}

/// "00" to "99": two digits per division.
// Every value cast is below 100.
#[allow(clippy::cast_possible_truncation)]
static DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0u8; 2]; 100];
    let mut value = 0;
    while value < 100 {
        pairs[value] = [b'0' + (value / 10) as u8, b'0' + (value % 10) as u8];
        value += 1;
    }
    pairs
};

/// The two digits of `value % 100`.
// The index is below 100.
#[allow(clippy::cast_possible_truncation)]
#[inline(always)]
fn pair(value: u32) -> [u8; 2] {
    DIGIT_PAIRS
        .get((value % 100) as usize)
        .copied()
        .unwrap_or_default()
}

/// The eight digits of `value` (below 10^8), zero-padded: divisions by constants, which
/// compile to multiplications.
#[inline(always)]
fn eight_digits(value: u32) -> [u8; 8] {
    let (high, low) = (value / 10_000, value % 10_000);
    let [a, b] = pair(high / 100);
    let [c, d] = pair(high);
    let [e, f] = pair(low / 100);
    let [g, h] = pair(low);
    [a, b, c, d, e, f, g, h]
}

/// The decimal digits of `value`, left-aligned in a block, and how many there are.
// Every cast value is below 10^8, every digit count at most 20.
#[allow(clippy::cast_possible_truncation)]
#[inline]
fn digits_of(value: u64) -> ([u8; 24], usize) {
    // u64::MAX has 20 digits.
    let len = value
        .checked_ilog10()
        .map_or(1, |log| log as usize + 1)
        .min(20);
    let mut digits = [0u8; 24];
    let mut end = len;
    let mut rest = value;
    while rest >= 100_000_000 {
        end = end.saturating_sub(8);
        put(&mut digits, end, &eight_digits((rest % 100_000_000) as u32));
        rest /= 100_000_000;
    }
    let mut rest = rest as u32;
    while rest >= 100 {
        end = end.saturating_sub(2);
        put(&mut digits, end, &pair(rest));
        rest /= 100;
    }
    if rest >= 10 {
        put(&mut digits, end.saturating_sub(2), &pair(rest));
    } else {
        put(&mut digits, end.saturating_sub(1), &[b'0' + rest as u8]);
    }
    (digits, len)
}

/// Appends the decimal digits of `value`.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, value: u64) {
    let (digits, len) = digits_of(value);
    push_block(out, &digits, len);
}

/// Appends `value` in decimal, with a leading `-` when negative.
pub(crate) fn push_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    push_u64(out, value.unsigned_abs());
}

/// Each octet's decimal digits followed by a `.`, padded to four bytes, and how many digits.
// Every value cast is below 256, every digit below 10.
#[allow(clippy::cast_possible_truncation)]
static OCTET_TEXT: [([u8; 4], u8); 256] = {
    let mut texts = [([0u8; 4], 0u8); 256];
    let mut octet = 0;
    while octet < 256 {
        let (hundreds, tens, ones) = (
            (octet / 100) as u8,
            (octet / 10 % 10) as u8,
            (octet % 10) as u8,
        );
        texts[octet] = if octet >= 100 {
            ([b'0' + hundreds, b'0' + tens, b'0' + ones, b'.'], 3)
        } else if octet >= 10 {
            ([b'0' + tens, b'0' + ones, b'.', 0], 2)
        } else {
            ([b'0' + ones, b'.', 0, 0], 1)
        };
        octet += 1;
    }
    texts
};

/// Appends an IPv4 address in dotted decimal, as its `Display` writes it: four table
/// look-ups, each octet's text copied whole and overwritten from its end by the next.
pub(crate) fn push_ipv4(out: &mut Vec<u8>, address: Ipv4Addr) {
    let mut text = [0u8; 16];
    let mut len = 0;
    for octet in address.octets() {
        let (digits, count) = OCTET_TEXT[usize::from(octet)];
        put(&mut text, len, &digits);
        len += usize::from(count) + 1;
    }
    // Without the last octet's `.`.
    push_block(out, &text, len - 1);
}

/// Each byte as two upper-case hexadecimal digits.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut pairs = [[0u8; 2]; 256];
    let mut byte = 0;
    while byte < 256 {
        pairs[byte] = [HEX[byte >> 4], HEX[byte & 0x0f]];
        byte += 1;
    }
    pairs
};

/// Six octets as upper-case hexadecimal separated by colons.
pub(crate) fn mac_text(octets: [u8; 6]) -> [u8; 17] {
    let mut text = [b':'; 17];
    for (index, octet) in octets.into_iter().enumerate() {
        if let Some(slot) = text.get_mut(index * 3..index * 3 + 2) {
            slot.copy_from_slice(&HEX_PAIRS[usize::from(octet)]);
        }
    }
    text
}

/// Appends six octets as [`mac_text`] writes them.
pub(crate) fn push_mac(out: &mut Vec<u8>, octets: [u8; 6]) {
    out.extend_from_slice(&mac_text(octets));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = b">".to_vec();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn edges_match_display() {
        for value in [0, 9, 10, 99, 100, i64::MAX, i64::MIN, -1, -10] {
            assert_eq!(written(|out| push_i64(out, value)), format!(">{value}"));
        }
        assert_eq!(
            written(|out| push_u64(out, u64::MAX)),
            format!(">{}", u64::MAX)
        );
        assert_eq!(
            written(|out| push_mac(out, [0x00, 0x0d, 0x60, 0xaf, 0x1b, 0xff])),
            ">00:0D:60:AF:1B:FF"
        );
    }

    #[test]
    fn display_values_are_written_as_display_writes_them() {
        assert_eq!(written(|out| push_display(out, 1.5f64)), ">1.5");
        assert_eq!(
            written(|out| push_display(out, std::net::Ipv6Addr::LOCALHOST)),
            ">::1"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn integers_match_display(value: i64) {
            prop_assert_eq!(written(|out| push_i64(out, value)), format!(">{value}"));
        }

        #[test]
        fn ipv4_matches_display(octets: [u8; 4]) {
            let address = Ipv4Addr::from(octets);
            prop_assert_eq!(written(|out| push_ipv4(out, address)), format!(">{address}"));
        }

        #[test]
        fn mac_matches_its_format(octets: [u8; 6]) {
            let [a, b, c, d, e, g] = octets;
            prop_assert_eq!(
                written(|out| push_mac(out, octets)),
                format!(">{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{g:02X}")
            );
        }
    }
}
