//! CEF escaping, done once when an event is built or decoded, so writing is a plain copy.

use crate::block;

/// A buffer text is appended to: the builder's `String`, or the caller's `Vec<u8>` when an
/// event is encoded straight from its builder.
pub(crate) trait TextBuffer {
    /// Appends `text`.
    fn push_text(&mut self, text: &str);
}

impl TextBuffer for String {
    #[inline]
    fn push_text(&mut self, text: &str) {
        self.push_str(text);
    }
}

impl TextBuffer for Vec<u8> {
    #[inline]
    fn push_text(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
}

/// For each byte, the letter written after a backslash to escape it, or 0.
pub(crate) type EscapeTable = [u8; 256];

const fn escape_table(escapes: &[(u8, u8)]) -> EscapeTable {
    let mut table = [0u8; 256];
    let mut index = 0;
    while index < escapes.len() {
        let (byte, letter) = escapes[index];
        table[byte as usize] = letter;
        index += 1;
    }
    table
}

/// Header fields escape `\` and `|`; the builder has already replaced line breaks.
pub(crate) static HEADER: EscapeTable = escape_table(&[(b'\\', b'\\'), (b'|', b'|')]);

/// Extension values escape `\`, `=` and line breaks.
pub(crate) static VALUE: EscapeTable =
    escape_table(&[(b'\\', b'\\'), (b'=', b'='), (b'\n', b'n'), (b'\r', b'r')]);

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The high bit of each of the eight bytes of `word` that is a control character, DEL,
/// `\` or `special` (which must be ASCII), and perhaps of bytes just above one that is: any
/// bit means such a byte is present, none means none is. `word - 0x01..` borrows into a
/// byte's high bit when that byte is zero (or was below the subtracted value), so each term
/// flags the bytes equal to one value, or below 0x20; bytes of 0x80 and above are never
/// flagged themselves, as every value looked for is ASCII.
#[inline]
fn special_bytes(word: u64, special: u8) -> u64 {
    let control = word.wrapping_sub(ONES * 0x20);
    let delete = (word ^ (ONES * 0x7f)).wrapping_sub(ONES);
    let backslash = (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES);
    let special = (word ^ (ONES * u64::from(special))).wrapping_sub(ONES);
    (control | delete | backslash | special) & !word & HIGH_BITS
}

/// Whether `text` holds no control character, DEL, `\\` or `special`: then it needs neither
/// cleaning nor escaping, and is copied as it is. Every byte looked for is ASCII, so a byte
/// scan over UTF-8 is exact. Texts are checked a word at a time: sixteen bytes per step and
/// the last eight as one word that may overlap bytes already checked; shorter texts are
/// gathered into one word (their bytes, some twice, padded with `a`), as most values are
/// short.
#[inline(always)]
fn is_plain(text: &str, special: u8) -> bool {
    let bytes = text.as_bytes();
    let specials = |word: [u8; 8]| special_bytes(u64::from_ne_bytes(word), special);
    let plain = |word: u64| special_bytes(word, special) == 0;
    if let Some(&last) = bytes.last_chunk::<8>() {
        let mut pairs = bytes.chunks_exact(16);
        for pair in &mut pairs {
            let (Some(&first), Some(&second)) = (pair.first_chunk::<8>(), pair.last_chunk::<8>())
            else {
                return false;
            };
            if specials(first) | specials(second) != 0 {
                return false;
            }
        }
        let rest = pairs.remainder().first_chunk::<8>();
        return rest.is_none_or(|&word| plain(u64::from_ne_bytes(word)))
            && plain(u64::from_ne_bytes(last));
    }
    if let (Some(&first), Some(&last)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        return plain(
            u64::from(u32::from_ne_bytes(first)) << 32 | u64::from(u32::from_ne_bytes(last)),
        );
    }
    match (bytes.first(), bytes.get(bytes.len() / 2), bytes.last()) {
        (Some(&first), Some(&middle), Some(&last)) => plain(u64::from_ne_bytes([
            first, middle, last, b'a', b'a', b'a', b'a', b'a',
        ])),
        _ => true,
    }
}

/// The longest text [`plain_short`] copies.
pub(crate) const SHORT: usize = 32;

/// The two words of sixteen bytes, in memory order.
// The casts keep each half of the 128-bit word whole.
#[allow(clippy::cast_possible_truncation)]
#[inline(always)]
fn halves(chunk: &[u8; 16]) -> (u64, u64) {
    let word = u128::from_ne_bytes(*chunk);
    (word as u64, (word >> 64) as u64)
}

/// Copies `text` to the start of `block` when it has at most [`SHORT`] bytes, and returns
/// whether it has none of the bytes [`is_plain`] looks for (`false` for a longer text). Fixed-size chunks are loaded from both ends of the text (overlapping in the
/// middle), checked as words and stored into the block at the same offsets, so checking
/// and copying a short text is a few register operations and no call.
#[inline(always)]
fn plain_short(text: &str, special: u8, block: &mut [u8; SHORT]) -> bool {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let found = if let (Some(head), Some(tail)) = (bytes.first_chunk::<16>(), bytes.last_chunk()) {
        if len > SHORT {
            return false;
        }
        let ((a, b), (c, d)) = (halves(head), halves(tail));
        block::put(block, 0, head);
        block::put(block, len - 16, tail);
        special_bytes(a, special)
            | special_bytes(b, special)
            | special_bytes(c, special)
            | special_bytes(d, special)
    } else if let (Some(head), Some(tail)) = (bytes.first_chunk::<8>(), bytes.last_chunk()) {
        block::put(block, 0, head);
        block::put(block, len - 8, tail);
        special_bytes(u64::from_ne_bytes(*head), special)
            | special_bytes(u64::from_ne_bytes(*tail), special)
    } else if let (Some(head), Some(tail)) = (bytes.first_chunk::<4>(), bytes.last_chunk()) {
        block::put(block, 0, head);
        block::put(block, len - 4, tail);
        special_bytes(
            u64::from(u32::from_ne_bytes(*head)) << 32 | u64::from(u32::from_ne_bytes(*tail)),
            special,
        )
    } else if let (Some(&first), Some(&middle), Some(&last)) =
        (bytes.first(), bytes.get(len / 2), bytes.last())
    {
        block::put(block, 0, &[first]);
        block::put(block, len / 2, &[middle]);
        block::put(block, len - 1, &[last]);
        special_bytes(
            u64::from_ne_bytes([first, middle, last, b'a', b'a', b'a', b'a', b'a']),
            special,
        )
    } else {
        0
    };
    found == 0
}

/// [`plain_short`] for an extension value: copies it to `block` and returns `true` when
/// it has at most [`SHORT`] bytes and needs neither cleaning nor escaping.
#[inline(always)]
pub(crate) fn plain_short_value(text: &str, block: &mut [u8; SHORT]) -> bool {
    plain_short(text, b'=', block)
}

/// Appends a header field of at most [`SHORT`] bytes that needs neither cleaning nor
/// escaping, and returns `true`; returns `false`, appending nothing, for any other field.
#[inline(always)]
pub(crate) fn push_plain_short_header(out: &mut Vec<u8>, text: &str) -> bool {
    let mut block = [0u8; SHORT];
    let plain = plain_short(text, b'|', &mut block);
    if plain {
        block::push_block(out, &block, text.len());
    }
    plain
}

/// Whether an extension value is written exactly as it is.
#[inline]
pub(crate) fn is_plain_value(text: &str) -> bool {
    is_plain(text, b'=')
}

/// Whether a header field is written exactly as it is.
#[inline]
pub(crate) fn is_plain_header(text: &str) -> bool {
    is_plain(text, b'|')
}

/// Appends `text` to `out` escaped; returns whether anything was escaped. Runs of
/// ordinary text are copied whole; every special byte is ASCII, so runs end on character
/// boundaries.
pub(crate) fn push_escaped(out: &mut impl TextBuffer, text: &str, table: &EscapeTable) -> bool {
    let mut run_start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let letter = table[usize::from(byte)];
        if letter != 0 {
            out.push_text(text.get(run_start..index).unwrap_or_default());
            out.push_text(ESCAPED[usize::from(letter)]);
            run_start = index + 1;
        }
    }
    if run_start == 0 {
        out.push_text(text);
        return false;
    }
    out.push_text(text.get(run_start..).unwrap_or_default());
    true
}

/// The escape sequence for each letter an [`EscapeTable`] holds.
static ESCAPED: [&str; 128] = {
    let mut escaped = [""; 128];
    escaped[b'\\' as usize] = "\\\\";
    escaped[b'|' as usize] = "\\|";
    escaped[b'=' as usize] = "\\=";
    escaped[b'n' as usize] = "\\n";
    escaped[b'r' as usize] = "\\r";
    escaped
};

/// Whether a byte of UTF-8 is a control character other than tab, CR and LF. Those have no
/// CEF escape and some end syslog frames (NUL framing), so they are replaced with U+FFFD.
/// Every control character is ASCII, and no byte of a multi-byte character is ASCII, so a
/// byte scan finds exactly them.
pub(crate) fn is_forbidden_control_byte(byte: u8) -> bool {
    byte.is_ascii_control() && !matches!(byte, b'\t' | b'\n' | b'\r')
}

/// Appends an extension value as CEF text: forbidden control characters become U+FFFD and
/// `\\`, `=`, line feed and carriage return are escaped. Plain short text, the common case,
/// is one check and one copy of fixed size.
#[inline(always)]
pub(crate) fn push_value(out: &mut Vec<u8>, text: &str) {
    let mut block = [0u8; SHORT];
    if plain_short_value(text, &mut block) {
        block::push_block(out, &block, text.len());
    } else {
        push_other_value(out, text, &block);
    }
}

/// [`push_value`] for a value that is long or needs a look at each byte; `block` holds the
/// value when it is short, as [`plain_short`] left it.
#[inline(never)]
pub(crate) fn push_other_value(out: &mut Vec<u8>, text: &str, block: &[u8; SHORT]) {
    if text.len() <= SHORT {
        push_short_escaped_value(out, text.as_bytes(), block);
    } else if is_plain_value(text) {
        out.extend_from_slice(text.as_bytes());
    } else {
        push_value_slow(out, text);
    }
}

/// [`push_value_slow`] for a value of at most [`SHORT`] bytes, copied in `input`: the
/// value is written into a block, each run between special bytes copied as a chunk of
/// fixed size (the block is cut back over what the chunk copied past the run), then the
/// block is appended.
fn push_short_escaped_value(out: &mut Vec<u8>, bytes: &[u8], input: &[u8; SHORT]) {
    // Room for a chunk read anywhere in the value, and for every byte written as three.
    let mut padded = [0u8; 2 * SHORT];
    block::put(&mut padded, 0, input);
    let mut output = [0u8; 4 * SHORT];
    let copy_run = |output: &mut [u8; 4 * SHORT], from: usize, to: usize| {
        if let Some(chunk) = padded
            .get(from..)
            .and_then(|rest| rest.first_chunk::<SHORT>())
        {
            block::put(output, to, chunk);
        }
    };
    let (mut from, mut written) = (0, 0);
    while let Some(at) = crate::scan::find_value_special(bytes, from) {
        copy_run(&mut output, from, written);
        written += at - from;
        let (replacement, len) = replacement(bytes.get(at).copied().unwrap_or_default());
        block::put(&mut output, written, &replacement);
        written += len;
        from = at + 1;
    }
    copy_run(&mut output, from, written);
    written += bytes.len() - from;
    block::push_block(out, &output, written);
}

/// What an extension value holds for a byte [`crate::scan::find_value_special`] finds, and
/// its length: an escape, a tab as it is, or U+FFFD for another control character.
fn replacement(byte: u8) -> ([u8; 3], usize) {
    match VALUE[usize::from(byte)] {
        0 if byte == b'\t' => ([b'\t', 0, 0], 1),
        0 => ([0xef, 0xbf, 0xbd], 3),
        letter => ([b'\\', letter, 0], 2),
    }
}

fn push_value_slow(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut run_start = 0;
    while let Some(at) = crate::scan::find_value_special(bytes, run_start) {
        let byte = bytes.get(at).copied().unwrap_or_default();
        let letter = VALUE[usize::from(byte)];
        let replacement = if letter != 0 {
            ESCAPED[usize::from(letter)]
        } else if is_forbidden_control_byte(byte) {
            "\u{FFFD}"
        } else {
            // A tab, kept as it is.
            "\t"
        };
        out.push_text(text.get(run_start..at).unwrap_or_default());
        out.push_text(replacement);
        run_start = at + 1;
    }
    out.push_text(text.get(run_start..).unwrap_or_default());
}

/// Reads back an extension value [`push_value`] wrote with escapes.
pub(crate) fn unescape_value(wire: &str) -> String {
    let mut value = String::with_capacity(wire.len());
    let mut run_start = 0;
    while let Some(offset) =
        memchr::memchr(b'\\', wire.as_bytes().get(run_start..).unwrap_or_default())
    {
        let at = run_start + offset;
        value.push_str(wire.get(run_start..at).unwrap_or_default());
        value.push_str(match wire.as_bytes().get(at + 1) {
            Some(b'n') => "\n",
            Some(b'r') => "\r",
            Some(b'=') => "=",
            _ => "\\",
        });
        run_start = at + 2;
    }
    value.push_str(wire.get(run_start..).unwrap_or_default());
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escape(text: &str, table: &EscapeTable) -> (String, bool) {
        let mut out = String::from(">");
        let escaped = push_escaped(&mut out, text, table);
        (out, escaped)
    }

    #[test]
    fn plain_text_is_found_in_every_position_of_a_word() {
        assert!(is_plain_value("plain é text, 100% | ok"));
        assert!(is_plain_header("plain é text, 100% = ok"));
        for special in ["\\", "=", "\n", "\r", "\t", "\u{0}", "\u{7f}"] {
            for at in 0..48 {
                let text = format!("{}{special}{}", "é".repeat(at / 2), "x".repeat(at % 2 + 9));
                assert!(!is_plain_value(&text), "{text:?}");
            }
        }
        for len in 0..=SHORT + 1 {
            let text = "x".repeat(len);
            let mut block = [0u8; SHORT];
            let short = plain_short(&text, b'=', &mut block).then(|| block[..len].to_vec());
            assert_eq!(short, (len <= SHORT).then(|| text.clone().into_bytes()));
            for at in 0..len {
                let mut text = text.clone().into_bytes();
                text[at] = b'=';
                let text = String::from_utf8(text).unwrap();
                assert!(!plain_short(&text, b'=', &mut block), "{text:?}");
                assert_eq!(
                    plain_short(&text, b'|', &mut block),
                    len <= SHORT,
                    "{text:?}"
                );
            }
        }
        for at in 0..40 {
            let text = format!("{}|{}", "a".repeat(at), "b".repeat(40 - at));
            assert!(!is_plain_header(&text), "{text:?}");
            assert!(is_plain_value(&text), "{text:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        #[test]
        fn plain_checks_agree_with_a_byte_by_byte_check(
            base in "[a-zé ]{0,40}",
            at in proptest::prelude::any::<proptest::sample::Index>(),
            special in proptest::sample::select(vec!["", "\\", "=", "|", "\n", "\r", "\t", "\u{0}", "\u{1f}", "\u{7f}"]),
        ) {
            let boundaries: Vec<usize> = base.char_indices().map(|(i, _)| i).chain([base.len()]).collect();
            let (before, after) = base.split_at(boundaries[at.index(boundaries.len())]);
            let text = format!("{before}{special}{after}");
            let plain = |special: u8| !text.bytes().any(|byte| byte < 0x20 || byte == 0x7f || byte == b'\\' || byte == special);
            proptest::prop_assert_eq!(is_plain_value(&text), plain(b'='));
            proptest::prop_assert_eq!(is_plain_header(&text), plain(b'|'));
            for special in [b'=', b'|'] {
                let mut block = [0u8; SHORT];
                let short = plain_short(&text, special, &mut block).then(|| block[..text.len()].to_vec());
                let expected = (plain(special) && text.len() <= SHORT).then(|| text.as_bytes().to_vec());
                proptest::prop_assert_eq!(short, expected);
            }
        }
    }

    /// What [`push_value`] writes, one character at a time.
    fn value_by_chars(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '\\' => "\\\\".to_owned(),
                '=' => "\\=".to_owned(),
                '\n' => "\\n".to_owned(),
                '\r' => "\\r".to_owned(),
                '\t' => "\t".to_owned(),
                c if c.is_ascii_control() => "\u{FFFD}".to_owned(),
                c => c.to_string(),
            })
            .collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn values_are_written_as_a_character_by_character_escape_writes_them(
            text in "[a-zé=\\\\\n\r\t\u{0}\u{1f}\u{7f} |]{0,40}",
        ) {
            let mut out = b">".to_vec();
            push_value(&mut out, &text);
            proptest::prop_assert_eq!(String::from_utf8(out).unwrap(), format!(">{}", value_by_chars(&text)));
        }
    }

    #[test]
    fn short_values_made_only_of_special_bytes_fit_their_block() {
        for special in ["=", "\u{0}", "\u{7f}", "\n"] {
            for len in [SHORT - 1, SHORT, SHORT + 1] {
                let text = special.repeat(len);
                let mut out = Vec::new();
                push_value(&mut out, &text);
                assert_eq!(String::from_utf8(out).unwrap(), value_by_chars(&text));
            }
        }
    }

    #[test]
    fn escapes_only_what_each_place_needs() {
        assert_eq!(
            escape("plain é text", &VALUE),
            (">plain é text".to_owned(), false)
        );
        assert_eq!(escape("a|b", &VALUE), (">a|b".to_owned(), false));
        assert_eq!(
            escape("a=b\\c\nd\re", &VALUE),
            (r">a\=b\\c\nd\re".to_owned(), true)
        );
        assert_eq!(escape("a=b", &HEADER), (">a=b".to_owned(), false));
        assert_eq!(escape("é|\\", &HEADER), (r">é\|\\".to_owned(), true));
    }

    #[test]
    fn values_are_cleaned_and_escaped_in_one_pass() {
        let value = |text: &str| {
            let mut out = b">".to_vec();
            push_value(&mut out, text);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(value("plain é text | ok"), ">plain é text | ok");
        assert_eq!(
            value("a=b\\c\nd\re\u{0}f\tg\u{7f}"),
            ">a\\=b\\\\c\\nd\\re\u{FFFD}f\tg\u{FFFD}"
        );
        let escaped = r"a\=b\\c\nd\re\\n";
        assert_eq!(unescape_value(escaped), "a=b\\c\nd\re\\n");
    }
}
