//! Integers, IPv4 and MAC addresses written straight into a `String`, without the `fmt`
//! machinery: the builder writes several per event.

use std::net::Ipv4Addr;

/// Writes the decimal digits of `value` at the end of `digits`; returns where they start.
fn digits_of(mut value: u64, digits: &mut [u8; 20]) -> usize {
    // u64::MAX has 20 digits.
    let mut start = digits.len();
    loop {
        start -= 1;
        // The remainder is below 10, so the cast keeps it whole.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (value % 10) as u8;
        digits[start] = b'0' + digit;
        value /= 10;
        if value == 0 {
            return start;
        }
    }
}

/// Appends the decimal digits of `value`.
pub(crate) fn push_u64(out: &mut String, value: u64) {
    let mut digits = [0u8; 20];
    let start = digits_of(value, &mut digits);
    push_ascii(out, &digits[start..]);
}

/// Appends bytes that are all ASCII.
fn push_ascii(out: &mut String, ascii: &[u8]) {
    out.push_str(std::str::from_utf8(ascii).unwrap_or_default());
}

/// Appends `value` in decimal, with a leading `-` when negative.
pub(crate) fn push_i64(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    push_u64(out, value.unsigned_abs());
}

/// Appends an IPv4 address in dotted decimal, as its `Display` writes it.
pub(crate) fn push_ipv4(out: &mut String, address: Ipv4Addr) {
    let mut text = [0u8; 15];
    let mut len = 0;
    for (index, octet) in address.octets().into_iter().enumerate() {
        if index > 0 {
            text[len] = b'.';
            len += 1;
        }
        let (hundreds, tens, ones) = (octet / 100, octet / 10 % 10, octet % 10);
        if hundreds > 0 {
            text[len] = b'0' + hundreds;
            len += 1;
        }
        if hundreds > 0 || tens > 0 {
            text[len] = b'0' + tens;
            len += 1;
        }
        text[len] = b'0' + ones;
        len += 1;
    }
    push_ascii(out, &text[..len]);
}

/// Six octets as upper-case hexadecimal separated by colons.
pub(crate) fn mac_text(octets: [u8; 6]) -> [u8; 17] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut text = [b':'; 17];
    for (index, octet) in octets.into_iter().enumerate() {
        text[index * 3] = HEX[usize::from(octet >> 4)];
        text[index * 3 + 1] = HEX[usize::from(octet & 0x0f)];
    }
    text
}

/// Appends six octets as [`mac_text`] writes them.
pub(crate) fn push_mac(out: &mut String, octets: [u8; 6]) {
    push_ascii(out, &mac_text(octets));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(write: impl FnOnce(&mut String)) -> String {
        let mut out = String::from(">");
        write(&mut out);
        out
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
