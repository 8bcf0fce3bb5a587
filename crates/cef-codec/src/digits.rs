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

const ASCII_ZEROS: u64 = u64::from_le_bytes([b'0'; 8]);

/// The eight decimal digits of `value` (below 10^8, zero-padded), as the bytes of a
/// little-endian word, first digit first. The value is split into halves of four digits
/// in the word's two 32-bit lanes, each lane into two-digit halves in 16-bit lanes, and
/// each of those into digits in bytes: every lane is divided by a constant at once, by a
/// multiplication and a shift exact for the lane's range (x / 100 = x * 10486 >> 20 for
/// x < 10^4, x / 10 = x * 103 >> 10 for x < 100, no product leaving its lane).
#[inline(always)]
fn eight_digits(value: u32) -> u64 {
    let halves = u64::from(value / 10_000) | u64::from(value % 10_000) << 32;
    let hundreds = ((halves * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let pairs = hundreds | (halves - hundreds * 100) << 16;
    let tens = ((pairs * 103) >> 10) & 0x000f_000f_000f_000f;
    let digits = tens | (pairs - tens * 10) << 8;
    digits | ASCII_ZEROS
}

/// Appends `value` (below 10^8) without leading zeros: its eight digits with the leading
/// `0`s shifted out, as one block.
#[inline(always)]
fn push_up_to_eight_digits(out: &mut Vec<u8>, value: u32) {
    let digits = eight_digits(value);
    // Each leading `0` is a zero byte at the low end once the zeros are taken away; the last
    // digit is kept even when it is a `0`.
    let zeros = ((digits ^ ASCII_ZEROS).trailing_zeros() / 8).min(7);
    push_block(
        out,
        &(digits >> (8 * zeros)).to_le_bytes(),
        8 - zeros as usize,
    );
}

/// Appends the decimal digits of `value`: at most eight at a time, so in at most three
/// steps.
// Every cast value is below 10^8.
#[allow(clippy::cast_possible_truncation)]
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, value: u64) {
    const EIGHT: u64 = 100_000_000;
    if value < EIGHT {
        push_up_to_eight_digits(out, value as u32);
    } else if value < EIGHT * EIGHT {
        push_up_to_eight_digits(out, (value / EIGHT) as u32);
        out.extend_from_slice(&eight_digits((value % EIGHT) as u32).to_le_bytes());
    } else {
        push_up_to_eight_digits(out, (value / (EIGHT * EIGHT)) as u32);
        out.extend_from_slice(&eight_digits((value / EIGHT % EIGHT) as u32).to_le_bytes());
        out.extend_from_slice(&eight_digits((value % EIGHT) as u32).to_le_bytes());
    }
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

    #[test]
    fn lane_divisions_are_exact_over_their_range() {
        for x in 0..10_000u64 {
            assert_eq!((x * 10_486) >> 20, x / 100, "{x}");
        }
        for x in 0..100u64 {
            assert_eq!((x * 103) >> 10, x / 10, "{x}");
        }
    }

    #[test]
    fn every_digit_count_matches_display() {
        let mut power = 1u64;
        for _ in 0..20 {
            for value in [power - 1, power, power + 1, power / 2 + 7] {
                assert_eq!(written(|out| push_u64(out, value)), format!(">{value}"));
            }
            power = power.saturating_mul(10);
        }
        for value in [
            0,
            10_000,
            99_999_999,
            100_000_000,
            1_795_492_800_250,
            u64::MAX,
        ] {
            assert_eq!(written(|out| push_u64(out, value)), format!(">{value}"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn short_integers_match_display(value in 0u64..100_000_000) {
            prop_assert_eq!(written(|out| push_u64(out, value)), format!(">{value}"));
        }

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
