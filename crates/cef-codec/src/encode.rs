//! The writer: escapes straight into the caller's buffer.

use std::fmt;

use crate::event::{Event, Text};

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

/// Header fields escape `\` and `|`; line breaks were already replaced by the builder.
fn header_escape(b: u8) -> Option<&'static str> {
    match b {
        b'\\' => Some(r"\\"),
        b'|' => Some(r"\|"),
        _ => None,
    }
}

/// Extension values escape `\`, `=` and line breaks.
fn value_escape(b: u8) -> Option<&'static str> {
    match b {
        b'\\' => Some(r"\\"),
        b'=' => Some(r"\="),
        b'\n' => Some(r"\n"),
        b'\r' => Some(r"\r"),
        _ => None,
    }
}

/// Copies runs of ordinary text whole and writes an escape for each special byte. Every
/// special byte is ASCII, so the runs are cut on character boundaries.
#[inline]
fn put_escaped<S: Sink>(
    sink: &mut S,
    text: &Text<'_>,
    escape: fn(u8) -> Option<&'static str>,
) -> fmt::Result {
    let text = &*text.text;
    if text.is_empty() {
        return Ok(());
    }
    let mut run_start = 0;
    for (index, &byte) in text.as_bytes().iter().enumerate() {
        if let Some(escaped) = escape(byte) {
            sink.put(text.get(run_start..index).unwrap_or_default())?;
            sink.put(escaped)?;
            run_start = index + 1;
        }
    }
    sink.put(text.get(run_start..).unwrap_or_default())
}

#[inline]
fn put_text<S: Sink>(
    sink: &mut S,
    text: &Text<'_>,
    escape: fn(u8) -> Option<&'static str>,
) -> fmt::Result {
    if text.is_plain() {
        sink.put(&text.text)
    } else {
        put_escaped(sink, text, escape)
    }
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
            put_text(sink, field, header_escape)?;
            sink.put("|")?;
        }
        sink.put(self.severity.as_str())?;
        sink.put("|")?;
        let mut separator = "";
        for pair in &self.extension {
            sink.put(separator)?;
            sink.put(&pair.key_eq)?;
            put_text(sink, &pair.value, value_escape)?;
            separator = " ";
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
