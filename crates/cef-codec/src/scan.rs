//! Finding the first of a few ASCII bytes in a line, eight bytes at a time.
//!
//! `(word - 0x01..) & !word & 0x80..` sets the high bit of the first zero byte of `word`
//! (read little-endian) and of no byte before it; bytes after it may be flagged wrongly by
//! the borrow, so only the lowest flag is used. XOR with a repeated byte turns "equal to
//! it" into "zero", and subtracting `0x20..` flags "below 0x20" the same way.

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGH_BITS: u64 = u64::from_le_bytes([0x80; 8]);

/// High bits of the bytes of `word` equal to `byte`; exact up to the lowest one.
#[inline]
fn equal_to(word: u64, byte: u8) -> u64 {
    let zeroed = word ^ (ONES * u64::from(byte));
    zeroed.wrapping_sub(ONES) & !zeroed & HIGH_BITS
}

/// The first position at or after `from` whose byte `flags` marks in its word (see the
/// module docs), confirmed by `is_match` for a single byte.
#[inline]
fn find(
    bytes: &[u8],
    from: usize,
    flags: impl Fn(u64) -> u64,
    is_match: impl Fn(u8) -> bool,
) -> Option<usize> {
    let mut at = from;
    while let Some(&word) = bytes.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        let flagged = flags(u64::from_le_bytes(word));
        if flagged != 0 {
            // The lowest flag is exact; the cast keeps a bit index below 64 whole.
            #[allow(clippy::cast_possible_truncation)]
            return Some(at + (flagged.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = bytes.get(at..)?;
    rest.iter()
        .position(|&byte| is_match(byte))
        .map(|offset| at + offset)
}

/// The first space, `\` or `=` at or after `from`: where a value may end or needs a look.
pub(crate) fn find_value_stop(bytes: &[u8], from: usize) -> Option<usize> {
    find(
        bytes,
        from,
        |word| equal_to(word, b' ') | equal_to(word, b'\\') | equal_to(word, b'='),
        |byte| matches!(byte, b' ' | b'\\' | b'='),
    )
}

/// The first byte at or after `from` that an extension value cannot hold as it is: a
/// control character (tab included), DEL, `\\` or `=`.
pub(crate) fn find_value_special(bytes: &[u8], from: usize) -> Option<usize> {
    find(
        bytes,
        from,
        |word| {
            (word.wrapping_sub(ONES * 0x20) & !word & HIGH_BITS)
                | equal_to(word, 0x7f)
                | equal_to(word, b'\\')
                | equal_to(word, b'=')
        },
        |byte| byte < 0x20 || matches!(byte, 0x7f | b'\\' | b'='),
    )
}

/// The first control character other than tab (DEL included) at or after `from`.
pub(crate) fn find_control(bytes: &[u8], from: usize) -> Option<usize> {
    let is_control = |byte: u8| byte.is_ascii_control() && byte != b'\t';
    let mut at = from;
    loop {
        let found = find(
            bytes,
            at,
            |word| (word.wrapping_sub(ONES * 0x20) & !word & HIGH_BITS) | equal_to(word, 0x7f),
            is_control,
        )?;
        // The word check also stops at tabs, which are allowed.
        if bytes.get(found).is_some_and(|&byte| is_control(byte)) {
            return Some(found);
        }
        at = found + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn finds_what_a_byte_by_byte_search_finds(
            text in prop::collection::vec(prop::sample::select(vec![b'a', b'Z', 0xc3, 0xa9, 0x80, 0xff, b' ', b'\\', b'=', b'\t', 0, b'\n', 0x1f, 0x7f, 0x20, 0x21]), 0..40),
            from in 0usize..42,
        ) {
            let naive = |is_match: fn(u8) -> bool| {
                text.iter().enumerate().skip(from).find(|(_, byte)| is_match(**byte)).map(|(at, _)| at)
            };
            prop_assert_eq!(find_value_stop(&text, from), naive(|byte| matches!(byte, b' ' | b'\\' | b'=')));
            prop_assert_eq!(find_control(&text, from), naive(|byte| byte.is_ascii_control() && byte != b'\t'));
            prop_assert_eq!(find_value_special(&text, from), naive(|byte| byte < 0x20 || matches!(byte, 0x7f | b'\\' | b'=')));
        }
    }
}
