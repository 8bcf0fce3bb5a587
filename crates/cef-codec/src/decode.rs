//! The decoder: strict for round trips and conforming producers, lenient for real-world lines.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::event::{CefVersion, Event, ExtensionText, PairIndex, ValueText, clean_header};
use crate::keys::{self, KeyKind};
use crate::mac::MacAddress;
use crate::scan;
use crate::severity::Severity;
use crate::timestamp::is_cef_timestamp;

/// Reads CEF lines into [`Event`]s that borrow from the line where no unescaping was needed.
///
/// - [`Decoder::strict`] accepts what the spec allows and nothing else: exact escapes
///   (`\\` `\|` in the header; `\\` `\=` `\n` `\r` in values), no raw `=` or line break in
///   a value, keys of `[A-Za-z0-9_]+`, exact severities, and dictionary values of the
///   right type (`src` an IPv4 address, `rt` a CEF timestamp...). It is what a round trip
///   through [`Event::encode_into`] needs: `decode(encode(e)) == e`.
/// - [`Decoder::lenient`] reads what producers really send: raw `=` inside values (a
///   value runs to the space before the next `key=`), unknown escapes kept as written,
///   `\|` in values read as `|`, keys with `.`, `-`, `[` and `]`, severities in any case,
///   spaces before the first key, a missing `|` after the severity, and trailing spaces
///   or line breaks at the end of the line (trimmed). Values are not type-checked.
///
/// Either mode optionally skips a leading syslog header ([`Decoder::syslog_header`]).
///
/// ```
/// use cef_codec::Decoder;
///
/// let line = "<134>Sep 19 08:26:10 host CEF:0|security|threatmanager|1.0|100|worm stopped|10|src=10.0.0.1 msg=a=b";
/// let event = Decoder::lenient().syslog_header(true).decode(line)?;
/// assert_eq!(event.get("msg"), Some("a=b"));
///
/// let error = Decoder::strict().syslog_header(true).decode(line).unwrap_err();
/// assert_eq!(error.offset(), 97); // the `=` after `msg=a`
/// # Ok::<(), cef_codec::DecodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Decoder {
    lenient: bool,
    syslog_header: bool,
}

/// Why a line could not be decoded, and the byte offset in the line where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CEF decode error at byte {offset}: {kind}")]
pub struct DecodeError {
    offset: usize,
    kind: DecodeErrorKind,
}

impl DecodeError {
    /// The byte offset in the line given to the decoder, syslog header included.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What went wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }
}

/// What went wrong while decoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The line is not UTF-8.
    #[error("the line is not valid UTF-8")]
    InvalidUtf8,
    /// The line does not start with `CEF:` (or, with a syslog header allowed, holds no ` CEF:`).
    #[error("expected `CEF:`")]
    NotCef,
    /// The version after `CEF:` is not `0` or `1`.
    #[error("expected CEF version 0 or 1 followed by `|`")]
    UnsupportedVersion,
    /// The line ended before this header field's closing `|`.
    #[error("the line ends inside the header, in field `{0}`")]
    MissingHeaderField(&'static str),
    /// A raw line break inside the event (strict).
    #[error("raw line break inside the event")]
    RawLineBreak,
    /// A control character other than tab, line feed and carriage return (strict): CEF has
    /// no escape for them, and NUL ends a NUL-framed syslog message.
    #[error("raw control character inside the event")]
    ControlCharacter,
    /// A backslash followed by a character that cannot be escaped there (strict), or a
    /// backslash at the very end.
    #[error("invalid escape sequence")]
    InvalidEscape,
    /// The severity is not one CEF allows.
    #[error("invalid severity `{0}`")]
    InvalidSeverity(String),
    /// No `key=` where a key should start.
    #[error("expected a key followed by `=`")]
    ExpectedKey,
    /// An `=` inside a value that is not escaped as `\=` (strict).
    #[error("unescaped `=` inside a value")]
    UnescapedEquals,
    /// A dictionary key's value is not of the key's type (strict).
    #[error("value of `{key}` is not a valid {kind}")]
    InvalidValue {
        /// The dictionary key.
        key: &'static str,
        /// The kind of value it takes.
        kind: KeyKind,
    },
}

/// The names of the five text header fields, for errors.
const HEADER_FIELDS: [&str; 5] = [
    "vendor",
    "product",
    "device_version",
    "signature_id",
    "name",
];

/// Splits a leading syslog header from the CEF text: the header is everything before the
/// first `CEF:` that starts the line or follows a space. Returns the header (without the
/// separating space) when there is one, and the CEF text.
///
/// ```
/// use cef_codec::split_syslog_header;
///
/// let line = "<14>1 2021-03-01T21:06:08.438Z host app - - - CEF:0|V|P|1|id|n|3|";
/// assert_eq!(
///     split_syslog_header(line),
///     (Some("<14>1 2021-03-01T21:06:08.438Z host app - - -"), "CEF:0|V|P|1|id|n|3|")
/// );
/// assert_eq!(split_syslog_header("CEF:0|V|P|1|id|n|3|"), (None, "CEF:0|V|P|1|id|n|3|"));
/// ```
pub fn split_syslog_header(line: &str) -> (Option<&str>, &str) {
    if line.starts_with("CEF:") {
        return (None, line);
    }
    match memchr::memmem::find(line.as_bytes(), b" CEF:") {
        Some(space) => (line.get(..space), line.get(space + 1..).unwrap_or(line)),
        None => (None, line),
    }
}

impl Decoder {
    /// A strict decoder, without syslog header.
    pub fn strict() -> Decoder {
        Decoder {
            lenient: false,
            syslog_header: false,
        }
    }

    /// A lenient decoder, without syslog header.
    pub fn lenient() -> Decoder {
        Decoder {
            lenient: true,
            syslog_header: false,
        }
    }

    /// Whether a leading syslog header is allowed (and skipped), as
    /// [`split_syslog_header`] finds it. Off by default.
    pub fn syslog_header(mut self, allowed: bool) -> Decoder {
        self.syslog_header = allowed;
        self
    }

    /// Decodes one line given as bytes; it must be UTF-8.
    pub fn decode_bytes<'a>(&self, line: &'a [u8]) -> Result<Event<'a>, DecodeError> {
        let line = std::str::from_utf8(line).map_err(|error| DecodeError {
            offset: error.valid_up_to(),
            kind: DecodeErrorKind::InvalidUtf8,
        })?;
        self.decode(line)
    }

    /// Decodes one line. A final `\n` or `\r\n` is ignored (the lenient decoder also trims
    /// trailing spaces).
    pub fn decode<'a>(&self, line: &'a str) -> Result<Event<'a>, DecodeError> {
        let mut end = line.len();
        if self.lenient {
            end = line.trim_end().len();
        } else if let Some(rest) = line.strip_suffix('\n') {
            end = rest.strip_suffix('\r').unwrap_or(rest).len();
        }
        let start = if self.syslog_header {
            let (_, cef) = split_syslog_header(line);
            line.len() - cef.len()
        } else {
            0
        };
        let mut parser = Parser {
            line,
            end,
            pos: start,
            value_end: start,
            lenient: self.lenient,
        };
        parser.event()
    }
}

/// [`KEY_BYTES`] flag of `[A-Za-z0-9_]`, the bytes of a key.
const KEY_BYTE: u8 = 1;
/// [`KEY_BYTES`] flag of the other bytes the lenient decoder reads in keys: `.-[]`.
const LENIENT_KEY_BYTE: u8 = 2;

/// What each byte can be in a key: one table look-up per byte.
static KEY_BYTES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut byte = 0;
    while byte < 256 {
        // `byte` is below 256, so the cast keeps it whole.
        #[allow(clippy::cast_possible_truncation)]
        let b = byte as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            table[byte] = KEY_BYTE;
        } else if matches!(b, b'.' | b'-' | b'[' | b']') {
            table[byte] = LENIENT_KEY_BYTE;
        }
        byte += 1;
    }
    table
};

/// A pair as read from the line: where its key and value are, and the unescaped value.
struct RawPair<'a> {
    key: (usize, usize),
    value_range: (usize, usize),
    value: Cow<'a, str>,
}

struct Parser<'a> {
    line: &'a str,
    /// Where the event ends: before the line terminator.
    end: usize,
    pos: usize,
    /// Where the last value read ends.
    value_end: usize,
    lenient: bool,
}

impl<'a> Parser<'a> {
    fn fail<T>(&self, offset: usize, kind: DecodeErrorKind) -> Result<T, DecodeError> {
        Err(DecodeError { offset, kind })
    }

    fn bytes(&self) -> &'a [u8] {
        self.line.as_bytes().get(..self.end).unwrap_or_default()
    }

    fn slice(&self, from: usize, to: usize) -> &'a str {
        self.line.get(from..to).unwrap_or_default()
    }

    fn event(&mut self) -> Result<Event<'a>, DecodeError> {
        let header_start = self.pos;
        if !self.lenient {
            self.refuse_controls()?;
        }
        let version = self.version()?;
        let [vendor, product, device_version, signature_id, name] = HEADER_FIELDS;
        let fields = [
            self.header_field(vendor)?,
            self.header_field(product)?,
            self.header_field(device_version)?,
            self.header_field(signature_id)?,
            self.header_field(name)?,
        ];
        let severity = self.severity()?;
        let header_end = self.pos;
        // The lenient decoder lets through what no encoder may write: normalise it as the
        // builder does, so re-encoding its events is safe.
        let fields = if self.lenient {
            fields.map(clean_header)
        } else {
            fields
        };
        let pairs = self.extension()?;
        if self.lenient || pairs.iter().any(|pair| pair.value.is_empty()) {
            // Rewrite the extension as CEF text: the line's own is not in canonical form.
            // Escaped text is about as long as the line's extension was.
            let text_len = self.end.saturating_sub(header_end) + 16;
            let mut writer = ExtensionText::with_capacity(text_len);
            for pair in pairs.into_iter().filter(|pair| !pair.value.is_empty()) {
                writer.key(self.slice(pair.key.0, pair.key.1));
                writer.value(&pair.value);
            }
            return Ok(Event::assemble(
                version, severity, fields, [false; 5], writer,
            ));
        }
        // A strictly read line is CEF text in canonical form: borrow it.
        let extension_start = header_end;
        let relative =
            |(start, end): (usize, usize)| (start - extension_start, end - extension_start);
        let pairs = pairs
            .into_iter()
            .map(|pair| PairIndex {
                key: relative(pair.key),
                value: match pair.value {
                    Cow::Borrowed(_) => {
                        let (start, end) = relative(pair.value_range);
                        ValueText::Wire(start, end)
                    }
                    Cow::Owned(unescaped) => ValueText::Unescaped(unescaped),
                },
            })
            .collect();
        Ok(Event::from_parts(
            version,
            severity,
            fields,
            Cow::Borrowed(self.slice(header_start, header_end)),
            Cow::Borrowed(self.slice(extension_start, self.end)),
            pairs,
        ))
    }

    /// Strict: no raw line break or other control character (tab aside) in the event.
    fn refuse_controls(&self) -> Result<(), DecodeError> {
        let bytes = self.bytes();
        match scan::find_control(bytes, self.pos) {
            Some(at) => {
                let kind = match bytes.get(at) {
                    Some(b'\n' | b'\r') => DecodeErrorKind::RawLineBreak,
                    _ => DecodeErrorKind::ControlCharacter,
                };
                self.fail(at, kind)
            }
            None => Ok(()),
        }
    }

    fn version(&mut self) -> Result<CefVersion, DecodeError> {
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        if !rest.starts_with(b"CEF:") {
            return self.fail(self.pos, DecodeErrorKind::NotCef);
        }
        let version = match rest.get(4..6) {
            Some(b"0|") => CefVersion::V0,
            Some(b"1|") => CefVersion::V1,
            _ => return self.fail(self.pos + 4, DecodeErrorKind::UnsupportedVersion),
        };
        self.pos += 6;
        Ok(version)
    }

    /// One header field up to its unescaped `|`, unescaped.
    fn header_field(&mut self, field: &'static str) -> Result<Cow<'a, str>, DecodeError> {
        let bytes = self.bytes();
        let start = self.pos;
        let mut owned: Option<String> = None;
        let mut run_start = start;
        let mut at = start;
        loop {
            let Some(found) = bytes
                .get(at..)
                .and_then(|rest| memchr::memchr2(b'|', b'\\', rest))
                .map(|offset| at + offset)
            else {
                return self.fail(self.end, DecodeErrorKind::MissingHeaderField(field));
            };
            match bytes.get(found) {
                Some(b'|') => {
                    self.pos = found + 1;
                    let text = match owned {
                        Some(mut text) => {
                            text.push_str(self.slice(run_start, found));
                            Cow::Owned(text)
                        }
                        None => Cow::Borrowed(self.slice(start, found)),
                    };
                    return Ok(text);
                }
                Some(b'\\') => {
                    let unescaped = match bytes.get(found + 1) {
                        Some(b'\\') => "\\",
                        Some(b'|') => "|",
                        Some(_) if self.lenient => {
                            // An unknown escape is kept as written.
                            at = found + 1;
                            continue;
                        }
                        _ => return self.fail(found, DecodeErrorKind::InvalidEscape),
                    };
                    let text = owned.get_or_insert_with(String::new);
                    text.push_str(self.slice(run_start, found));
                    text.push_str(unescaped);
                    run_start = found + 2;
                    at = found + 2;
                }
                // memchr2 found `|` or `\`, handled above.
                _ => at = found + 1,
            }
        }
    }

    fn severity(&mut self) -> Result<Severity, DecodeError> {
        let bytes = self.bytes();
        let start = self.pos;
        let rest = bytes.get(start..).unwrap_or_default();
        let end = match memchr::memchr(b'|', rest) {
            Some(offset) => start + offset,
            None if self.lenient => self.end,
            None => return self.fail(self.end, DecodeErrorKind::MissingHeaderField("severity")),
        };
        let text = self.slice(start, end);
        self.pos = (end + 1).min(self.end);
        let parsed = if self.lenient {
            Severity::parse_lenient(text)
        } else {
            text.parse()
        };
        parsed.or_else(|_| self.fail(start, DecodeErrorKind::InvalidSeverity(text.to_owned())))
    }

    /// The length of the key starting at `at` when it is followed by `=`.
    fn key_at(&self, at: usize) -> Option<usize> {
        let rest = self.bytes().get(at..)?;
        let kinds = if self.lenient {
            KEY_BYTE | LENIENT_KEY_BYTE
        } else {
            KEY_BYTE
        };
        let len = rest
            .iter()
            .take_while(|&&byte| KEY_BYTES[usize::from(byte)] & kinds != 0)
            .count();
        (len > 0 && rest.get(len) == Some(&b'=')).then_some(len)
    }

    /// The extension's pairs, empty values included.
    fn extension(&mut self) -> Result<Vec<RawPair<'a>>, DecodeError> {
        // Every pair has an `=`: room for all of them at once.
        let rest = self.bytes().get(self.pos..).unwrap_or_default();
        let mut pairs = Vec::with_capacity(memchr::memchr_iter(b'=', rest).count());
        if self.lenient {
            let rest = self.bytes().get(self.pos..).unwrap_or_default();
            self.pos += rest.iter().take_while(|b| **b == b' ').count();
        }
        while self.pos < self.end {
            let key_start = self.pos;
            let Some(key_len) = self.key_at(key_start) else {
                return self.fail(key_start, DecodeErrorKind::ExpectedKey);
            };
            let key = (key_start, key_start + key_len);
            self.pos = key.1 + 1;
            let value_start = self.pos;
            let value = self.value()?;
            if !self.lenient && !value.is_empty() {
                check_type(self.slice(key.0, key.1), &value).map_err(|kind| DecodeError {
                    offset: value_start,
                    kind,
                })?;
            }
            pairs.push(RawPair {
                key,
                value_range: (value_start, self.value_end),
                value,
            });
        }
        Ok(pairs)
    }

    /// One value, up to the space before the next `key=` or the end; leaves `pos` on the
    /// next key.
    fn value(&mut self) -> Result<Cow<'a, str>, DecodeError> {
        let bytes = self.bytes();
        let start = self.pos;
        let mut owned: Option<String> = None;
        let mut run_start = start;
        let mut at = start;
        let value_end = loop {
            // Jump to the next byte that can end the value or needs a look; raw line breaks
            // were already refused for the whole extension (strict) or are kept (lenient).
            let Some(found) = scan::find_value_stop(bytes, at) else {
                self.pos = self.end;
                break self.end;
            };
            at = found;
            let Some(&byte) = bytes.get(at) else {
                self.pos = self.end;
                break self.end;
            };
            match byte {
                b' ' if self.key_at(at + 1).is_some() => {
                    self.pos = at + 1;
                    break at;
                }
                b'\\' => {
                    let unescaped = match bytes.get(at + 1) {
                        Some(b'\\') => "\\",
                        Some(b'=') => "=",
                        Some(b'n') => "\n",
                        Some(b'r') => "\r",
                        Some(b'|') if self.lenient => "|",
                        Some(_) if self.lenient => {
                            // An unknown escape is kept as written; the escaped byte
                            // (perhaps a space) cannot end the value.
                            at += 2;
                            continue;
                        }
                        _ if self.lenient => {
                            at += 1;
                            continue;
                        }
                        _ => return self.fail(at, DecodeErrorKind::InvalidEscape),
                    };
                    let text = owned.get_or_insert_with(String::new);
                    text.push_str(self.slice(run_start, at));
                    text.push_str(unescaped);
                    at += 2;
                    run_start = at;
                }
                b'=' if !self.lenient => return self.fail(at, DecodeErrorKind::UnescapedEquals),
                _ => at += 1,
            }
        };
        self.value_end = value_end;
        Ok(match owned {
            Some(mut text) => {
                text.push_str(self.slice(run_start, value_end));
                Cow::Owned(text)
            }
            None => Cow::Borrowed(self.slice(start, value_end)),
        })
    }
}

/// Checks a dictionary key's value against its type; vendor keys and strings pass.
fn check_type(key: &str, value: &str) -> Result<(), DecodeErrorKind> {
    let Some(def) = keys::lookup(key) else {
        return Ok(());
    };
    let valid = match def.kind() {
        KeyKind::Text { .. } => true,
        KeyKind::Int => value.parse::<i32>().is_ok(),
        KeyKind::Port => value.parse::<u16>().is_ok(),
        KeyKind::Long => value.parse::<i64>().is_ok(),
        KeyKind::Float => value.parse::<f64>().is_ok_and(f64::is_finite),
        KeyKind::Ipv4 => value.parse::<Ipv4Addr>().is_ok(),
        KeyKind::Ipv6 => value.parse::<Ipv6Addr>().is_ok(),
        KeyKind::Mac => MacAddress::parse_colon(value).is_some(),
        KeyKind::Time => is_cef_timestamp(value),
    };
    if valid {
        Ok(())
    } else {
        Err(DecodeErrorKind::InvalidValue {
            key: def.name(),
            kind: def.kind(),
        })
    }
}
