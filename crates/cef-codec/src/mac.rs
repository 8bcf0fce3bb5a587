//! MAC addresses as CEF writes them.

use std::fmt;
use std::str::FromStr;

/// A 48-bit MAC address. Written as six upper-case hexadecimal octets separated by colons
/// (`00:0D:60:AF:1B:61`), the form the CEF dictionary shows.
///
/// ```
/// use cef_codec::MacAddress;
///
/// let mac: MacAddress = "00-0d-60-af-1b-61".parse()?;
/// assert_eq!(mac.to_string(), "00:0D:60:AF:1B:61");
/// # Ok::<(), cef_codec::ParseMacError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddress(pub [u8; 6]);

/// Text that is not six hexadecimal octets separated by `:` or `-`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a MAC address (six hex octets separated by `:` or `-`)")]
pub struct ParseMacError(pub String);

impl MacAddress {
    /// Parses the colon-separated form only, as the strict decoder requires.
    pub(crate) fn parse_colon(text: &str) -> Option<MacAddress> {
        parse_with(text, b':')
    }
}

fn parse_with(text: &str, separator: u8) -> Option<MacAddress> {
    let bytes = text.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut octets = [0u8; 6];
    for (index, octet) in octets.iter_mut().enumerate() {
        let at = index * 3;
        if index > 0 && bytes.get(at - 1) != Some(&separator) {
            return None;
        }
        let hex = text.get(at..at + 2)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        *octet = u8::from_str_radix(hex, 16).ok()?;
    }
    Some(MacAddress(octets))
}

impl FromStr for MacAddress {
    type Err = ParseMacError;

    /// Accepts `:` or `-` as the separator and either letter case.
    fn from_str(text: &str) -> Result<MacAddress, ParseMacError> {
        parse_with(text, b':')
            .or_else(|| parse_with(text, b'-'))
            .ok_or_else(|| ParseMacError(text.to_owned()))
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = crate::digits::mac_text(self.0);
        f.write_str(std::str::from_utf8(&text).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_separators_and_cases() {
        let expected = MacAddress([0x00, 0x0d, 0x60, 0xaf, 0x1b, 0x61]);
        assert_eq!("00:0D:60:AF:1B:61".parse(), Ok(expected));
        assert_eq!("00-0d-60-af-1b-61".parse(), Ok(expected));
        assert_eq!(MacAddress::parse_colon("00:0d:60:af:1b:61"), Some(expected));
        assert_eq!(MacAddress::parse_colon("00-0d-60-af-1b-61"), None);
    }

    #[test]
    fn rejects_malformed_text() {
        for text in [
            "",
            "00:0D:60:AF:1B",
            "00:0D:60:AF:1B:6G",
            "00:0D-60:AF:1B:61",
            "000D60AF1B61ab:ab",
            "+0:0D:60:AF:1B:61",
            "00:0D:60:AF:1B:é",
        ] {
            assert_eq!(
                text.parse::<MacAddress>(),
                Err(ParseMacError(text.to_owned())),
                "{text}"
            );
        }
    }
}
