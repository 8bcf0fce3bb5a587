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
