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

/// The current second's timestamp, rendered once; only the microseconds change
/// within a second.
#[derive(Debug, Clone)]
struct Clock {
    second: Option<u64>,
    text: Vec<u8>,
}

/// Formats and frames messages.
#[derive(Debug, Clone)]
pub struct Encoder {
    formatter: Formatter,
    framer: Framer,
    limit: Option<(usize, OversizePolicy)>,
    scratch: Vec<u8>,
    clock: Clock,
}

impl Encoder {
    /// An encoder without a size limit.
    pub fn new(formatter: Formatter, framer: Framer) -> Self {
        Self {
            formatter,
            framer,
            limit: None,
            scratch: Vec::with_capacity(1024),
            clock: Clock {
                second: None,
                text: Vec::with_capacity(32),
            },
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

    /// Like [`Encoder::encode`], stamped with the current time. Faster: the timestamp is
    /// rendered once per second, and the message is framed as it is written.
    pub fn encode_now(
        &mut self,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Encoded, EncodeError> {
        self.tick()?;
        let header = [
            self.formatter.prefix(),
            &self.clock.text[..],
            self.formatter.after_timestamp(),
        ];
        let len = header.iter().map(|h| h.len()).sum::<usize>() + payload.len();
        match self.limit {
            Some((limit, _)) if len > limit => {
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                header.iter().for_each(|h| scratch.extend_from_slice(h));
                scratch.extend_from_slice(payload);
                let result = self.apply_limit(&mut scratch, 0);
                if result.is_ok() {
                    self.framer.frame(&scratch, out);
                }
                self.scratch = scratch;
                result
            }
            _ => {
                self.framer.frame_parts(&header, payload, out);
                Ok(Encoded::Whole)
            }
        }
    }

    /// Like [`Encoder::message`], stamped with the current time.
    pub fn message_now(
        &mut self,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Encoded, EncodeError> {
        self.tick()?;
        let start = out.len();
        out.extend_from_slice(self.formatter.prefix());
        out.extend_from_slice(&self.clock.text);
        out.extend_from_slice(self.formatter.after_timestamp());
        out.extend_from_slice(payload);
        self.apply_limit(out, start)
    }

    /// Brings the cached timestamp up to now.
    fn tick(&mut self) -> Result<(), FormatError> {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let second = since_epoch.as_secs();
        if self.clock.second != Some(second) {
            let whole = i64::try_from(second)
                .ok()
                .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH);
            self.clock.text.clear();
            self.formatter
                .write_timestamp(whole, &mut self.clock.text)?;
            self.clock.second = Some(second);
        }
        if self.formatter.format() == crate::SyslogFormat::Rfc5424 {
            // `YYYY-MM-DDThh:mm:ss.ffffffZ`: the six digits at 20..26.
            let mut micros = since_epoch.subsec_micros();
            if let Some(digits) = self.clock.text.get_mut(20..26) {
                for slot in digits.iter_mut().rev() {
                    // `micros % 10` is below 10.
                    *slot = b'0' + (micros % 10) as u8;
                    micros /= 10;
                }
            }
        }
        Ok(())
    }

    /// Applies the size limit to the message at `out[start..]`.
    fn apply_limit(&self, out: &mut Vec<u8>, start: usize) -> Result<Encoded, EncodeError> {
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
        self.apply_limit(out, start)
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
