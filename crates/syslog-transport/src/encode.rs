//! The encoder: a [`Formatter`] and a [`Framer`] joined, plus the size limit, so a file
//! sink or a benchmark can produce exactly the bytes the sender puts on the wire.

use time::OffsetDateTime;

use crate::config::{ConfigError, OversizePolicy, TransportConfig};
use crate::format::{FormatError, Formatter};
use crate::frame::Framer;

/// A message that cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The header or timestamp breaks the RFC.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The formatted message is over the limit and the policy is `reject`.
    #[error("formatted message is {len} bytes, over the {limit}-byte limit")]
    Oversize {
        /// Its formatted length.
        len: usize,
        /// The limit.
        limit: usize,
    },
}

/// Whether the message went out whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoded {
    /// As formatted.
    Whole,
    /// Cut to the limit (policy `truncate`).
    Truncated {
        /// Its formatted length before the cut.
        from: usize,
    },
}

/// Formats and frames messages.
#[derive(Debug, Clone)]
pub struct Encoder {
    formatter: Formatter,
    framer: Framer,
    limit: Option<(usize, OversizePolicy)>,
    scratch: Vec<u8>,
}

impl Encoder {
    /// An encoder without a size limit.
    pub fn new(formatter: Formatter, framer: Framer) -> Self {
        Self {
            formatter,
            framer,
            limit: None,
            scratch: Vec::with_capacity(1024),
        }
    }

    /// Limits each formatted message (before framing) to `limit` bytes.
    pub fn with_limit(mut self, limit: usize, policy: OversizePolicy) -> Self {
        self.limit = Some((limit, policy));
        self
    }

    /// The encoder a [`crate::Sender`] with `config` uses.
    pub fn from_config(config: &TransportConfig) -> Result<Self, ConfigError> {
        let formatter = Formatter::new(&config.format)?;
        let framer = Framer::new(config.effective_framing(), config.line_breaks);
        let encoder = Self::new(formatter, framer);
        Ok(match config.message_limit() {
            Some(limit) => encoder.with_limit(limit, config.oversize),
            None => encoder,
        })
    }

    /// The formatter.
    pub fn formatter(&self) -> &Formatter {
        &self.formatter
    }

    /// The framer.
    pub fn framer(&self) -> &Framer {
        &self.framer
    }

    /// Appends the framed message for `payload` to `out`. On error `out` is unchanged.
    pub fn encode(
        &mut self,
        payload: &[u8],
        timestamp: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> Result<Encoded, EncodeError> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let result = self.message(payload, timestamp, &mut scratch);
        if result.is_ok() {
            self.framer.frame(&scratch, out);
        }
        self.scratch = scratch;
        result
    }

    /// Appends the formatted message for `payload` to `out`, without framing (for
    /// datagrams and RELP, which carry their own). On error `out` is unchanged.
    pub fn message(
        &self,
        payload: &[u8],
        timestamp: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> Result<Encoded, EncodeError> {
        let start = out.len();
        if let Err(e) = self.formatter.write(payload, timestamp, out) {
            out.truncate(start);
            return Err(e.into());
        }
        let len = out.len() - start;
        match self.limit {
            Some((limit, policy)) if len > limit => match policy {
                OversizePolicy::Reject => {
                    out.truncate(start);
                    Err(EncodeError::Oversize { len, limit })
                }
                OversizePolicy::Truncate => {
                    out.truncate(start + char_boundary(&out[start..], limit));
                    Ok(Encoded::Truncated { from: len })
                }
            },
            _ => Ok(Encoded::Whole),
        }
    }
}

/// The largest cut at or below `limit` that does not split a UTF-8 sequence (for
/// non-UTF-8 bytes this is `limit` or at most three bytes less).
fn char_boundary(message: &[u8], limit: usize) -> usize {
    let mut cut = limit;
    // Back off over continuation bytes (10xxxxxx) so the cut lands before a lead byte.
    while cut > 0 && limit - cut < 3 && message.get(cut).is_some_and(|b| b & 0xC0 == 0x80) {
        cut -= 1;
    }
    cut
}
