//! The writer: copies the event's already-escaped text into the caller's buffer.

use std::fmt;

use crate::event::Event;

/// Where encoded text goes: a byte buffer (infallible) or a formatter.
trait Sink {
    fn put(&mut self, text: &str) -> fmt::Result;

    /// Makes room for `additional` bytes, where the sink can.
    fn reserve(&mut self, additional: usize);
}

impl Sink for Vec<u8> {
    #[inline]
    fn reserve(&mut self, additional: usize) {
        Vec::reserve(self, additional);
    }

    #[inline]
    fn put(&mut self, text: &str) -> fmt::Result {
        self.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

impl Sink for fmt::Formatter<'_> {
    fn put(&mut self, text: &str) -> fmt::Result {
        self.write_str(text)
    }

    fn reserve(&mut self, _additional: usize) {}
}

impl Event<'_> {
    fn write_to<S: Sink>(&self, sink: &mut S) -> fmt::Result {
        sink.reserve(self.encoded_len());
        sink.put(self.version.prefix())?;
        for field in [
            &self.vendor,
            &self.product,
            &self.device_version,
            &self.signature_id,
            &self.name,
        ] {
            sink.put(field.wire())?;
            sink.put("|")?;
        }
        sink.put(self.severity.as_str())?;
        sink.put("|")?;
        for (index, pair) in self.extension.iter().enumerate() {
            if index > 0 {
                sink.put(" ")?;
            }
            sink.put(&pair.key_eq)?;
            sink.put(pair.value.wire())?;
        }
        Ok(())
    }

    /// Appends the event's CEF text to `out`, without a line terminator or syslog header.
    /// Allocates nothing beyond growing `out`; reuse one buffer across events.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        // Writing to a Vec<u8> cannot fail.
        let _infallible = self.write_to(out);
    }

    /// The event's CEF text as a new buffer.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        self.encode_into(&mut out);
        out
    }
}

/// The CEF text, exactly as [`Event::encode_into`] writes it.
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}
