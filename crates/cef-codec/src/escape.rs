//! CEF escaping, done once when an event is built or decoded, so writing is a plain copy.

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

/// Whether any of the eight bytes in `word` is below `limit`, which must be at most 0x80.
fn has_byte_below(word: u64, limit: u8) -> bool {
    word.wrapping_sub(ONES * u64::from(limit)) & !word & HIGH_BITS != 0
}

/// Whether any of the eight bytes in `word` is `byte`.
fn has_byte(word: u64, byte: u8) -> bool {
    has_byte_below(word ^ (ONES * u64::from(byte)), 1)
}

/// Whether `text` holds no control character, DEL, `\` or `special`: then it needs neither
/// cleaning nor escaping, and is copied as it is. Eight bytes are checked at a time; every
/// byte looked for is ASCII, so a byte scan over UTF-8 is exact.
#[inline]
fn is_plain(text: &str, special: u8) -> bool {
    let is_special = |byte: u8| byte < 0x20 || byte == 0x7f || byte == b'\\' || byte == special;
    let mut words = text.as_bytes().chunks_exact(8);
    for word in &mut words {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let word = u64::from_ne_bytes(bytes);
        if has_byte_below(word, 0x20)
            || has_byte(word, 0x7f)
            || has_byte(word, b'\\')
            || has_byte(word, special)
        {
            return false;
        }
    }
    !words.remainder().iter().any(|&byte| is_special(byte))
}

/// Whether an extension value is written exactly as it is.
pub(crate) fn is_plain_value(text: &str) -> bool {
    is_plain(text, b'=')
}

/// Whether a header field is written exactly as it is.
pub(crate) fn is_plain_header(text: &str) -> bool {
    is_plain(text, b'|')
}

/// Appends `text` to `out` escaped; returns whether anything was escaped. Runs of
/// ordinary text are copied whole; every special byte is ASCII, so runs end on character
/// boundaries.
pub(crate) fn push_escaped(out: &mut String, text: &str, table: &EscapeTable) -> bool {
    let mut run_start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let letter = table[usize::from(byte)];
        if letter != 0 {
            out.push_str(text.get(run_start..index).unwrap_or_default());
            out.push('\\');
            out.push(char::from(letter));
            run_start = index + 1;
        }
    }
    if run_start == 0 {
        out.push_str(text);
        return false;
    }
    out.push_str(text.get(run_start..).unwrap_or_default());
    true
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
            for at in 0..20 {
                let text = format!("{}{special}{}", "é".repeat(at / 2), "x".repeat(at % 2 + 9));
                assert!(!is_plain_value(&text), "{text:?}");
            }
        }
        for at in 0..20 {
            let text = format!("{}|{}", "a".repeat(at), "b".repeat(20 - at));
            assert!(!is_plain_header(&text), "{text:?}");
            assert!(is_plain_value(&text), "{text:?}");
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
}
