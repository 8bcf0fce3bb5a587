//! The framer: delimits formatted messages on a byte stream (RFC 6587 / RFC 5425), and
//! its inverse, the [`Deframer`], for receivers and round-trip tests.

use serde::Deserialize;

use crate::format::push_decimal;

/// How messages are delimited on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Framing {
    /// `LEN SP MSG` (RFC 5425, RFC 6587 §3.4.1): transparent, any byte may appear in MSG.
    #[serde(alias = "octet_counting")]
    OctetCounting,
    /// `MSG LF` (RFC 6587 §3.4.2, non-transparent). Line breaks inside MSG are rewritten
    /// per [`LineBreaks`] so that a message can never end its frame early.
    Lf,
    /// `MSG NUL` (non-transparent). NUL bytes inside MSG are rewritten per [`LineBreaks`].
    Nul,
    /// No framing: one message per datagram (UDP, Unix datagram).
    None,
}

impl std::fmt::Display for Framing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::OctetCounting => "octet-counting",
            Self::Lf => "lf",
            Self::Nul => "nul",
            Self::None => "none",
        })
    }
}

/// What non-transparent framing does with a byte inside a message that would end the
/// frame (LF and CR for [`Framing::Lf`], since Splunk and others also break on CR; NUL
/// for [`Framing::Nul`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineBreaks {
    /// Write it as a two-character escape: `\n`, `\r`, `\0` (the CEF convention). A
    /// backslash already in the message is left alone, so this is readable but not
    /// reversible; use octet counting where the bytes must come back exactly.
    #[default]
    Escape,
    /// Replace it with one space.
    Space,
}

/// Frames formatted messages. Stateless and cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framer {
    framing: Framing,
    line_breaks: LineBreaks,
}

impl Framer {
    /// A framer for `framing`; `line_breaks` matters only for [`Framing::Lf`] and
    /// [`Framing::Nul`].
    pub fn new(framing: Framing, line_breaks: LineBreaks) -> Self {
        Self {
            framing,
            line_breaks,
        }
    }

    /// The framing this framer writes.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Appends the framed `message` to `out`.
    pub fn frame(&self, message: &[u8], out: &mut Vec<u8>) {
        match self.framing {
            Framing::OctetCounting => {
                match u32::try_from(message.len()) {
                    Ok(len) => push_decimal(out, len),
                    Err(_) => out.extend_from_slice(message.len().to_string().as_bytes()),
                }
                out.push(b' ');
                out.extend_from_slice(message);
            }
            Framing::Lf => {
                self.write_escaped(message, b'\n', Some(b'\r'), out);
                out.push(b'\n');
            }
            Framing::Nul => {
                self.write_escaped(message, 0, None, out);
                out.push(0);
            }
            Framing::None => out.extend_from_slice(message),
        }
    }

    /// Appends one frame whose message is `header` followed by `payload`. The header
    /// must hold no byte that ends a frame (a formatter's header never does), so only the
    /// payload is scanned.
    pub(crate) fn frame_parts(&self, header: &[&[u8]], payload: &[u8], out: &mut Vec<u8>) {
        match self.framing {
            Framing::OctetCounting => {
                let len = header.iter().map(|h| h.len()).sum::<usize>() + payload.len();
                match u32::try_from(len) {
                    Ok(len) => push_decimal(out, len),
                    Err(_) => out.extend_from_slice(len.to_string().as_bytes()),
                }
                out.push(b' ');
                header.iter().for_each(|h| out.extend_from_slice(h));
                out.extend_from_slice(payload);
            }
            Framing::Lf => {
                header.iter().for_each(|h| out.extend_from_slice(h));
                self.write_escaped(payload, b'\n', Some(b'\r'), out);
                out.push(b'\n');
            }
            Framing::Nul => {
                header.iter().for_each(|h| out.extend_from_slice(h));
                self.write_escaped(payload, 0, None, out);
                out.push(0);
            }
            Framing::None => {
                header.iter().for_each(|h| out.extend_from_slice(h));
                out.extend_from_slice(payload);
            }
        }
    }

    fn write_escaped(&self, message: &[u8], stop: u8, also: Option<u8>, out: &mut Vec<u8>) {
        let mut rest = message;
        loop {
            let hit = match also {
                Some(other) => memchr::memchr2(stop, other, rest),
                None => memchr::memchr(stop, rest),
            };
            let Some(at) = hit else {
                out.extend_from_slice(rest);
                return;
            };
            out.extend_from_slice(&rest[..at]);
            match self.line_breaks {
                LineBreaks::Escape => out.extend_from_slice(match rest[at] {
                    b'\n' => b"\\n",
                    b'\r' => b"\\r",
                    _ => b"\\0",
                }),
                LineBreaks::Space => out.push(b' '),
            }
            rest = &rest[at + 1..];
        }
    }
}

/// A frame that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeframeError {
    /// An octet-counted frame does not start with `LEN SP`.
    #[error("octet-counted frame at stream offset {offset} does not start with a length")]
    BadLength {
        /// Bytes consumed before this frame.
        offset: u64,
    },
    /// A frame is longer than the receiver's limit.
    #[error("frame at stream offset {offset} is {len} bytes long, the limit is {max}")]
    TooLong {
        /// Bytes consumed before this frame.
        offset: u64,
        /// Its length (or the bytes seen without a trailer so far).
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Splits a byte stream back into messages, for receivers and tests.
#[derive(Debug, Clone)]
pub struct Deframer {
    framing: Framing,
    max_frame: usize,
    consumed: u64,
}

impl Deframer {
    /// A deframer for `framing` that rejects frames over `max_frame` bytes.
    pub fn new(framing: Framing, max_frame: usize) -> Self {
        Self {
            framing,
            max_frame,
            consumed: 0,
        }
    }

    /// Takes the next complete message from the front of `buf` (removing its frame), or
    /// returns `None` when `buf` holds no complete frame yet. With [`Framing::None`] the
    /// whole buffer is one message.
    pub fn next_message(
        &mut self,
        buf: &mut bytes::BytesMut,
    ) -> Result<Option<bytes::Bytes>, DeframeError> {
        let offset = self.consumed;
        let (skip, len, trailer) = match self.framing {
            Framing::OctetCounting => {
                let Some(space) = buf.iter().take(11).position(|&b| b == b' ') else {
                    if buf.len() >= 11 || buf.iter().any(|b| !b.is_ascii_digit()) {
                        return Err(DeframeError::BadLength { offset });
                    }
                    return Ok(None);
                };
                let digits = &buf[..space];
                if digits.is_empty() || digits[0] == b'0' || !digits.iter().all(u8::is_ascii_digit)
                {
                    return Err(DeframeError::BadLength { offset });
                }
                let len = digits
                    .iter()
                    .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0'));
                if len > self.max_frame {
                    return Err(DeframeError::TooLong {
                        offset,
                        len,
                        max: self.max_frame,
                    });
                }
                if buf.len() < space + 1 + len {
                    return Ok(None);
                }
                (space + 1, len, 0)
            }
            Framing::Lf | Framing::Nul => {
                let stop = if self.framing == Framing::Lf {
                    b'\n'
                } else {
                    0
                };
                let Some(at) = memchr::memchr(stop, buf) else {
                    if buf.len() > self.max_frame {
                        return Err(DeframeError::TooLong {
                            offset,
                            len: buf.len(),
                            max: self.max_frame,
                        });
                    }
                    return Ok(None);
                };
                (0, at, 1)
            }
            Framing::None => {
                if buf.is_empty() {
                    return Ok(None);
                }
                (0, buf.len(), 0)
            }
        };
        let _ = buf.split_to(skip);
        let message = buf.split_to(len).freeze();
        let _ = buf.split_to(trailer);
        self.consumed += (skip + len + trailer) as u64;
        Ok(Some(message))
    }
}
