//! The writer: copies the event's already-escaped text into the caller's buffer.

use std::fmt;

use crate::event::Event;

impl Event<'_> {
    /// Appends the event's CEF text to `out`, without a line terminator or syslog header.
    /// Allocates nothing beyond growing `out`; reuse one buffer across events.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        out.extend_from_slice(self.header_text().as_bytes());
        out.extend_from_slice(self.extension_text().as_bytes());
    }

    /// The event's CEF text as a new buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_into(&mut out);
        out
    }
}

/// The CEF text, exactly as [`Event::encode_into`] writes it.
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_text())?;
        f.write_str(self.extension_text())
    }
}
