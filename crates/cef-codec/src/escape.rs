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

/// The escaped form of `text`, or `None` when it has nothing to escape. Every special
/// byte is ASCII, so runs between them are cut on character boundaries.
pub(crate) fn escape(text: &str, table: &EscapeTable) -> Option<String> {
    let bytes = text.as_bytes();
    let first = bytes.iter().position(|b| table[usize::from(*b)] != 0)?;
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(text.get(..first).unwrap_or_default());
    for c in text.get(first..).unwrap_or_default().chars() {
        let letter = u8::try_from(c).map_or(0, |b| table[usize::from(b)]);
        if letter == 0 {
            out.push(c);
        } else {
            out.push('\\');
            out.push(char::from(letter));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_only_what_each_place_needs() {
        assert_eq!(escape("plain é text", &VALUE), None);
        assert_eq!(escape("a|b", &VALUE), None);
        assert_eq!(escape("a=b\\c\nd\re", &VALUE).unwrap(), r"a\=b\\c\nd\re");
        assert_eq!(escape("a=b", &HEADER), None);
        assert_eq!(escape("é|\\", &HEADER).unwrap(), r"é\|\\");
    }
}
