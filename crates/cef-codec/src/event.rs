//! The event model and its builder.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::net::{Ipv4Addr, Ipv6Addr};

use time::OffsetDateTime;

use crate::digits;
use crate::escape;
use crate::keys::{
    FloatKey, IntKey, Ipv4Key, Ipv6Key, Key, KeyDef, KeyKind, LongKey, MacKey, PortKey, TextKey,
    TimeKey,
};
use crate::mac::MacAddress;
use crate::severity::Severity;
use crate::timestamp::{TimeFormat, write_timestamp};

/// The CEF version written after `CEF:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CefVersion {
    /// `CEF:0`, spec versions 0.x; every receiver reads it. The default.
    #[default]
    V0,
    /// `CEF:1`, spec versions 1.x (CEF 1.2 adds keys such as `frameworkName`).
    V1,
}

impl CefVersion {
    /// The prefix of an event of this version, `CEF:0|` or `CEF:1|`.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            CefVersion::V0 => "CEF:0|",
            CefVersion::V1 => "CEF:1|",
        }
    }
}

/// What the builder does with a value longer than its key's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LengthPolicy {
    /// Cut the value to the limit, on a character boundary. The default: the event is
    /// delivered, the tail of the long value is not.
    #[default]
    Truncate,
    /// Refuse the event with [`BuildError::TooLong`].
    Reject,
}

/// Why [`EventBuilder::build`] refused an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A header field was never set.
    #[error("CEF header field `{0}` was not set")]
    MissingHeader(&'static str),
    /// A value was over its limit under [`LengthPolicy::Reject`].
    #[error("CEF field `{field}` is {chars} characters long, over its limit of {max}")]
    TooLong {
        /// The header field or extension key.
        field: &'static str,
        /// The value's length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// A vendor key is empty or holds a character outside `[A-Za-z0-9_]`.
    #[error("`{0}` is not a valid CEF key: keys are one or more of A-Z, a-z, 0-9 and _")]
    InvalidVendorKey(String),
    /// A vendor key is a dictionary key, which has to be set through its typed method.
    #[error("`{0}` is a CEF dictionary key: set it with its typed builder method")]
    DictionaryKeyAsVendorKey(String),
    /// [`EventBuilder::label`] was given a key that has no label slot.
    #[error("CEF key `{0}` has no label key")]
    NoLabelSlot(&'static str),
    /// A floating point value was NaN or infinite.
    #[error("CEF key `{0}` got a value that is not a finite number")]
    NotFinite(&'static str),
    /// A timestamp cannot be written in [`TimeFormat::Text`] (its year is outside 1-9999).
    #[error("CEF key `{0}` got a timestamp whose year is outside 1-9999")]
    TimeOutOfRange(&'static str),
}

/// Where a pair's unescaped value is.
#[derive(Clone)]
pub(crate) enum ValueText<'a> {
    /// Nothing in the value was escaped: it is this byte range of the extension's text.
    Wire(usize, usize),
    /// The unescaped value, which differs from its escaped form in the extension's text.
    Unescaped(Cow<'a, str>),
}

/// One `key=value` pair, as ranges of the extension's text.
#[derive(Clone)]
pub(crate) struct PairIndex<'a> {
    pub(crate) key: (usize, usize),
    pub(crate) value: ValueText<'a>,
}

impl PairIndex<'_> {
    fn into_owned(self) -> PairIndex<'static> {
        let value = match self.value {
            ValueText::Wire(start, end) => ValueText::Wire(start, end),
            ValueText::Unescaped(text) => ValueText::Unescaped(Cow::Owned(text.into_owned())),
        };
        PairIndex {
            key: self.key,
            value,
        }
    }
}

/// Writes a header as CEF text: `CEF:0|` and the six fields, each closed by `|`.
pub(crate) fn header_text(
    version: CefVersion,
    fields: &[Cow<'_, str>; 5],
    severity: Severity,
) -> String {
    let length: usize = fields.iter().map(|field| field.len() + 1).sum();
    let mut header = String::with_capacity(length + 16);
    header.push_str(version.prefix());
    for field in fields {
        if escape::is_plain_header(field) {
            header.push_str(field);
        } else {
            escape::push_escaped(&mut header, field, &escape::HEADER);
        }
        header.push('|');
    }
    header.push_str(severity.as_str());
    header.push('|');
    header
}

/// Writes an extension as CEF text pair by pair, keeping where each key and value is.
#[derive(Default)]
pub(crate) struct ExtensionWriter<'a> {
    text: String,
    pairs: Vec<PairIndex<'a>>,
}

impl<'a> ExtensionWriter<'a> {
    pub(crate) fn with_capacity(pairs: usize, text_len: usize) -> ExtensionWriter<'a> {
        ExtensionWriter {
            text: String::with_capacity(text_len),
            pairs: Vec::with_capacity(pairs),
        }
    }

    /// Writes the separator, the key and `=`; returns the key's range.
    fn key(&mut self, key: &str) -> (usize, usize) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        let start = self.text.len();
        self.text.push_str(key);
        let end = self.text.len();
        self.text.push('=');
        (start, end)
    }

    /// Adds a pair whose value is cleaned (see [`clean_value`]) and escaped as it is written.
    pub(crate) fn text(&mut self, key: &str, value: Cow<'a, str>) {
        let key = self.key(key);
        let start = self.text.len();
        if escape::is_plain_value(&value) {
            self.text.push_str(&value);
            let end = self.text.len();
            self.pairs.push(PairIndex {
                key,
                value: ValueText::Wire(start, end),
            });
            return;
        }
        let value = clean_value(value);
        let value = if escape::push_escaped(&mut self.text, &value, &escape::VALUE) {
            ValueText::Unescaped(value)
        } else {
            ValueText::Wire(start, self.text.len())
        };
        self.pairs.push(PairIndex { key, value });
    }

    /// Adds a pair whose value `write` writes, with nothing to escape. When `write` fails,
    /// the pair is taken back.
    fn plain(&mut self, key: &str, write: impl FnOnce(&mut String) -> Option<()>) -> Option<()> {
        let before = self.text.len();
        let key = self.key(key);
        let start = self.text.len();
        if write(&mut self.text).is_none() {
            self.text.truncate(before);
            return None;
        }
        self.pairs.push(PairIndex {
            key,
            value: ValueText::Wire(start, self.text.len()),
        });
        Some(())
    }
}

/// A CEF event: the seven header fields and the extension, in the order its pairs were added.
///
/// An event holds exactly what is written, already escaped: the builder has cut long values,
/// turned line breaks in header fields into spaces and replaced control characters, so
/// [`Event::encode_into`] is two copies and cannot fail, and a decoder reading the output
/// gets the same event back. Text is borrowed where it can be (`Event<'a>`): a strictly
/// decoded event borrows its header and extension from the line. [`Event::into_owned`]
/// detaches it.
///
/// Build one with [`Event::builder`], read one with [`crate::Decoder`]. Two events are equal
/// when they have the same CEF text.
#[derive(Clone)]
pub struct Event<'a> {
    version: CefVersion,
    severity: Severity,
    /// Vendor, product, device version, signature ID and name, unescaped.
    fields: [Cow<'a, str>; 5],
    /// `CEF:0|` through the `|` after the severity, escaped.
    header: Cow<'a, str>,
    /// The extension, escaped.
    extension: Cow<'a, str>,
    pairs: Vec<PairIndex<'a>>,
}

impl PartialEq for Event<'_> {
    fn eq(&self, other: &Self) -> bool {
        // The text is a one-to-one function of the fields and pairs.
        self.header == other.header && self.extension == other.extension
    }
}

impl Eq for Event<'_> {}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [vendor, product, device_version, signature_id, name] = &self.fields;
        f.debug_struct("Event")
            .field("version", &self.version)
            .field("vendor", vendor)
            .field("product", product)
            .field("device_version", device_version)
            .field("signature_id", signature_id)
            .field("name", name)
            .field("severity", &self.severity)
            .field("extension", &self.extension().collect::<Vec<_>>())
            .finish()
    }
}

impl<'a> Event<'a> {
    /// Starts an event. Set the five text header fields and the severity, then add the
    /// extension pairs in the order they should be written.
    pub fn builder() -> EventBuilder<'a> {
        EventBuilder::default()
    }

    /// Puts an event together from its parts; `header` and `extension` must be their CEF
    /// text, as the strict decoder finds them in a line.
    pub(crate) fn from_parts(
        version: CefVersion,
        severity: Severity,
        fields: [Cow<'a, str>; 5],
        header: Cow<'a, str>,
        extension: Cow<'a, str>,
        pairs: Vec<PairIndex<'a>>,
    ) -> Event<'a> {
        Event {
            version,
            severity,
            fields,
            header,
            extension,
            pairs,
        }
    }

    /// Puts an event together from its fields and a written extension.
    pub(crate) fn assemble(
        version: CefVersion,
        severity: Severity,
        fields: [Cow<'a, str>; 5],
        extension: ExtensionWriter<'a>,
    ) -> Event<'a> {
        let header = Cow::Owned(header_text(version, &fields, severity));
        Event {
            version,
            severity,
            fields,
            header,
            extension: Cow::Owned(extension.text),
            pairs: extension.pairs,
        }
    }

    /// `CEF:0` or `CEF:1`.
    pub fn cef_version(&self) -> CefVersion {
        self.version
    }

    /// Device Vendor.
    pub fn vendor(&self) -> &str {
        &self.fields[0]
    }

    /// Device Product.
    pub fn product(&self) -> &str {
        &self.fields[1]
    }

    /// Device Version.
    pub fn device_version(&self) -> &str {
        &self.fields[2]
    }

    /// Signature ID (Device Event Class ID).
    pub fn signature_id(&self) -> &str {
        &self.fields[3]
    }

    /// Name.
    pub fn name(&self) -> &str {
        &self.fields[4]
    }

    /// Severity.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The header as CEF text, from `CEF:` through the `|` after the severity.
    pub fn header_text(&self) -> &str {
        &self.header
    }

    /// The extension as CEF text.
    pub fn extension_text(&self) -> &str {
        &self.extension
    }

    /// The exact length in bytes of the event's encoding, as [`Event::encode_into`] writes it.
    pub fn encoded_len(&self) -> usize {
        self.header.len() + self.extension.len()
    }

    fn pair<'s>(&'s self, pair: &'s PairIndex<'a>) -> (&'s str, &'s str) {
        let text =
            |(start, end): (usize, usize)| self.extension.get(start..end).unwrap_or_default();
        let value = match &pair.value {
            ValueText::Wire(start, end) => text((*start, *end)),
            ValueText::Unescaped(value) => value,
        };
        (text(pair.key), value)
    }

    /// The extension's `(key, value)` pairs in order, unescaped.
    pub fn extension(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.pairs.iter().map(|pair| self.pair(pair))
    }

    /// The value of the first pair with this key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extension()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value)
    }

    /// The same event with all its text owned.
    pub fn into_owned(self) -> Event<'static> {
        Event {
            version: self.version,
            severity: self.severity,
            fields: self.fields.map(|field| Cow::Owned(field.into_owned())),
            header: Cow::Owned(self.header.into_owned()),
            extension: Cow::Owned(self.extension.into_owned()),
            pairs: self.pairs.into_iter().map(PairIndex::into_owned).collect(),
        }
    }
}

/// A value waiting for [`EventBuilder::build`], which applies the length policy and the time
/// format whatever order the builder's methods were called in.
#[derive(Debug, Clone)]
enum Pending<'a> {
    Text {
        text: Cow<'a, str>,
        max_chars: Option<usize>,
    },
    Typed(Typed),
}

/// A typed value: its text never needs escaping.
#[derive(Debug, Clone, Copy)]
enum Typed {
    Integer(i64),
    Float(f64),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Mac(MacAddress),
    Time(OffsetDateTime),
}

impl Typed {
    fn write(self, out: &mut String, time_format: TimeFormat) -> Option<()> {
        match self {
            Typed::Integer(value) => {
                digits::push_i64(out, value);
                Some(())
            }
            Typed::Float(value) => write!(out, "{value}").ok(),
            Typed::Ipv4(value) => {
                digits::push_ipv4(out, value);
                Some(())
            }
            Typed::Ipv6(value) => write!(out, "{value}").ok(),
            Typed::Mac(value) => {
                digits::push_mac(out, value.0);
                Some(())
            }
            Typed::Time(value) => write_timestamp(out, value, time_format),
        }
    }
}

#[derive(Debug, Clone)]
struct PendingPair<'a> {
    key: Cow<'a, str>,
    /// The dictionary key's name, for errors; only dictionary keys have limits and times.
    field: &'static str,
    value: Pending<'a>,
}

impl PendingPair<'_> {
    /// About how many bytes the pair takes in the extension: enough that writing a typical
    /// event's extension never grows its buffer.
    fn estimated_len(&self) -> usize {
        // A space, `=`, and for text a few escapes.
        let value = match &self.value {
            Pending::Text { text, .. } => text.len() + 4,
            // The longest typed values, IPv6 addresses and text timestamps, are under 40.
            Pending::Typed(_) => 40,
        };
        self.key.len() + 2 + value
    }
}

/// Builds an [`Event`]. Every method can be chained; the first mistake is kept and returned
/// by [`EventBuilder::build`], so call sites read as one expression.
///
/// Empty values are not written: CEF cannot tell `key=` from an absent key (ArcSight reads
/// both as null), so adding an empty string adds nothing. Pairs are written in the order
/// they were added; a key added twice is written twice.
#[derive(Debug, Clone, Default)]
#[must_use = "an EventBuilder does nothing until build() is called"]
pub struct EventBuilder<'a> {
    version: CefVersion,
    vendor: Option<Cow<'a, str>>,
    product: Option<Cow<'a, str>>,
    device_version: Option<Cow<'a, str>>,
    signature_id: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    severity: Option<Severity>,
    extension: Vec<PendingPair<'a>>,
    length_policy: LengthPolicy,
    time_format: TimeFormat,
    error: Option<BuildError>,
}

/// The header's length limits, in characters.
const VENDOR_MAX: usize = 63;
const PRODUCT_MAX: usize = 63;
const DEVICE_VERSION_MAX: usize = 31;
const SIGNATURE_ID_MAX: usize = 1023;
const NAME_MAX: usize = 512;

impl<'a> EventBuilder<'a> {
    /// `CEF:0` (the default) or `CEF:1`.
    #[inline]
    pub fn cef_version(mut self, version: CefVersion) -> Self {
        self.version = version;
        self
    }

    /// What to do with values over their limit; [`LengthPolicy::Truncate`] by default.
    #[inline]
    pub fn length_policy(mut self, policy: LengthPolicy) -> Self {
        self.length_policy = policy;
        self
    }

    /// How timestamps are written; [`TimeFormat::EpochMillis`] by default.
    #[inline]
    pub fn time_format(mut self, format: TimeFormat) -> Self {
        self.time_format = format;
        self
    }

    /// Device Vendor (at most 63 characters).
    #[inline]
    pub fn vendor(mut self, vendor: impl Into<Cow<'a, str>>) -> Self {
        self.vendor = Some(vendor.into());
        self
    }

    /// Device Product (at most 63 characters).
    #[inline]
    pub fn product(mut self, product: impl Into<Cow<'a, str>>) -> Self {
        self.product = Some(product.into());
        self
    }

    /// Device Version (at most 31 characters).
    #[inline]
    pub fn device_version(mut self, version: impl Into<Cow<'a, str>>) -> Self {
        self.device_version = Some(version.into());
        self
    }

    /// Signature ID, the Device Event Class ID (at most 1023 characters).
    #[inline]
    pub fn signature_id(mut self, id: impl Into<Cow<'a, str>>) -> Self {
        self.signature_id = Some(id.into());
        self
    }

    /// Name (at most 512 characters).
    #[inline]
    pub fn name(mut self, name: impl Into<Cow<'a, str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Severity.
    #[inline]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    #[inline]
    fn push(mut self, key: Cow<'a, str>, field: &'static str, value: Pending<'a>) -> Self {
        if self.error.is_none() {
            if self.extension.capacity() == 0 {
                // Room for a typical event's pairs at once, rather than growing 4, 8, 16.
                self.extension.reserve(16);
            }
            self.extension.push(PendingPair { key, field, value });
        }
        self
    }

    #[inline]
    fn push_text(self, def: &'static KeyDef, text: Cow<'a, str>) -> Self {
        if text.is_empty() {
            return self;
        }
        let max_chars = match def.kind() {
            KeyKind::Text { max_chars } => Some(max_chars),
            _ => None,
        };
        self.push(
            Cow::Borrowed(def.name()),
            def.name(),
            Pending::Text { text, max_chars },
        )
    }

    #[inline]
    fn push_typed(self, def: &'static KeyDef, value: Typed) -> Self {
        self.push(Cow::Borrowed(def.name()), def.name(), Pending::Typed(value))
    }

    #[inline]
    fn fail(mut self, error: BuildError) -> Self {
        self.error.get_or_insert(error);
        self
    }

    /// A string value, cut or refused past the key's limit.
    #[inline]
    pub fn text(self, key: TextKey, value: impl Into<Cow<'a, str>>) -> Self {
        self.push_text(key.def(), value.into())
    }

    /// A 32-bit integer value.
    #[inline]
    pub fn int(self, key: IntKey, value: i32) -> Self {
        self.push_typed(key.def(), Typed::Integer(value.into()))
    }

    /// A port number.
    #[inline]
    pub fn port(self, key: PortKey, value: u16) -> Self {
        self.push_typed(key.def(), Typed::Integer(value.into()))
    }

    /// A 64-bit integer value.
    #[inline]
    pub fn long(self, key: LongKey, value: i64) -> Self {
        self.push_typed(key.def(), Typed::Integer(value))
    }

    /// A floating point value; NaN and infinities are refused.
    #[inline]
    pub fn float(self, key: FloatKey, value: f64) -> Self {
        if value.is_finite() {
            self.push_typed(key.def(), Typed::Float(value))
        } else {
            self.fail(BuildError::NotFinite(key.def().name()))
        }
    }

    /// An IPv4 address.
    #[inline]
    pub fn ipv4(self, key: Ipv4Key, value: Ipv4Addr) -> Self {
        self.push_typed(key.def(), Typed::Ipv4(value))
    }

    /// An IPv6 address, in its canonical compressed form.
    #[inline]
    pub fn ipv6(self, key: Ipv6Key, value: Ipv6Addr) -> Self {
        self.push_typed(key.def(), Typed::Ipv6(value))
    }

    /// A MAC address, as `00:0D:60:AF:1B:61`.
    #[inline]
    pub fn mac(self, key: MacKey, value: MacAddress) -> Self {
        self.push_typed(key.def(), Typed::Mac(value))
    }

    /// A timestamp, written in the builder's [`TimeFormat`].
    #[inline]
    pub fn time(self, key: TimeKey, value: OffsetDateTime) -> Self {
        self.push_typed(key.def(), Typed::Time(value))
    }

    /// The label of a custom slot: `label(keys::CS1, "Firmware")` writes `cs1Label=Firmware`.
    /// Keys without a label slot are refused with [`BuildError::NoLabelSlot`].
    #[inline]
    pub fn label(self, key: impl Key, label: impl Into<Cow<'a, str>>) -> Self {
        match key.def().label() {
            Some(label_key) => self.push_text(label_key, label.into()),
            None => self.fail(BuildError::NoLabelSlot(key.def().name())),
        }
    }

    /// A vendor key outside the dictionary, such as `PANWIoTProfile`. The key must match
    /// `[A-Za-z0-9_]+` and must not be a dictionary key; its value has no length limit.
    #[inline]
    pub fn vendor_field(
        self,
        key: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Self {
        let key = key.into();
        if !crate::keys::is_valid_key_name(&key) {
            return self.fail(BuildError::InvalidVendorKey(key.into_owned()));
        }
        if crate::keys::lookup(&key).is_some() {
            return self.fail(BuildError::DictionaryKeyAsVendorKey(key.into_owned()));
        }
        let text = value.into();
        if text.is_empty() {
            return self;
        }
        self.push(
            key,
            "vendor key",
            Pending::Text {
                text,
                max_chars: None,
            },
        )
    }

    /// The event, or the first mistake made while building it.
    pub fn build(self) -> Result<Event<'a>, BuildError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let policy = self.length_policy;
        let header = |field: Option<Cow<'a, str>>, name: &'static str, max: usize| {
            let text = field.ok_or(BuildError::MissingHeader(name))?;
            fit(name, clean_header(text), Some(max), policy)
        };
        let fields = [
            header(self.vendor, "vendor", VENDOR_MAX)?,
            header(self.product, "product", PRODUCT_MAX)?,
            header(self.device_version, "device_version", DEVICE_VERSION_MAX)?,
            header(self.signature_id, "signature_id", SIGNATURE_ID_MAX)?,
            header(self.name, "name", NAME_MAX)?,
        ];
        let severity = self.severity.ok_or(BuildError::MissingHeader("severity"))?;

        let text_len = self.extension.iter().map(PendingPair::estimated_len).sum();
        let mut extension = ExtensionWriter::with_capacity(self.extension.len(), text_len);
        for PendingPair { key, field, value } in self.extension {
            match value {
                Pending::Text { text, max_chars } => {
                    // Cleaning replaces characters one for one, so cutting first is the same.
                    extension.text(&key, fit(field, text, max_chars, policy)?);
                }
                Pending::Typed(typed) => extension
                    .plain(&key, |out| typed.write(out, self.time_format))
                    .ok_or(BuildError::TimeOutOfRange(field))?,
            }
        }
        Ok(Event::assemble(self.version, severity, fields, extension))
    }
}

/// Whether a character is a control character other than tab, CR and LF. Those have no
/// CEF escape and some end syslog frames (NUL framing), so they are replaced.
fn is_forbidden_control(c: char) -> bool {
    u8::try_from(c).is_ok_and(is_forbidden_control_byte)
}

/// [`is_forbidden_control`] for one byte of UTF-8: every control character is ASCII, and
/// no byte of a multi-byte character is ASCII, so a byte scan finds exactly them.
fn is_forbidden_control_byte(byte: u8) -> bool {
    byte.is_ascii_control() && !matches!(byte, b'\t' | b'\n' | b'\r')
}

/// Header fields cannot hold line breaks: CRLF, CR and LF each become one space.
pub(crate) fn clean_header(text: Cow<'_, str>) -> Cow<'_, str> {
    if escape::is_plain_header(&text) || !text.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push(' ');
            }
            '\n' => out.push(' '),
            c if is_forbidden_control(c) => out.push(char::REPLACEMENT_CHARACTER),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Extension values keep line breaks (they are escaped); other controls are replaced.
fn clean_value(text: Cow<'_, str>) -> Cow<'_, str> {
    if !text.bytes().any(is_forbidden_control_byte) {
        return text;
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if is_forbidden_control(c) {
                    char::REPLACEMENT_CHARACTER
                } else {
                    c
                }
            })
            .collect(),
    )
}

/// Applies the length policy: counts characters, and cuts on a character boundary.
fn fit<'a>(
    field: &'static str,
    text: Cow<'a, str>,
    max_chars: Option<usize>,
    policy: LengthPolicy,
) -> Result<Cow<'a, str>, BuildError> {
    let Some(max) = max_chars else {
        return Ok(text);
    };
    // A string of at most `max` bytes has at most `max` characters.
    if text.len() <= max {
        return Ok(text);
    }
    let Some((cut, _)) = text.char_indices().nth(max) else {
        return Ok(text);
    };
    match policy {
        LengthPolicy::Reject => Err(BuildError::TooLong {
            field,
            chars: text.chars().count(),
            max,
        }),
        LengthPolicy::Truncate => Ok(match text {
            Cow::Borrowed(text) => Cow::Borrowed(text.get(..cut).unwrap_or(text)),
            Cow::Owned(mut text) => {
                text.truncate(cut);
                Cow::Owned(text)
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;

    fn minimal() -> EventBuilder<'static> {
        Event::builder()
            .vendor("V")
            .product("P")
            .device_version("1")
            .signature_id("id")
            .name("n")
            .severity(Severity::LOW)
    }

    #[test]
    fn every_missing_header_field_is_named() {
        type Unset = fn(EventBuilder<'static>) -> EventBuilder<'static>;
        let full = minimal();
        let cases: [(&str, Unset); 6] = [
            ("vendor", |mut b| {
                b.vendor = None;
                b
            }),
            ("product", |mut b| {
                b.product = None;
                b
            }),
            ("device_version", |mut b| {
                b.device_version = None;
                b
            }),
            ("signature_id", |mut b| {
                b.signature_id = None;
                b
            }),
            ("name", |mut b| {
                b.name = None;
                b
            }),
            ("severity", |mut b| {
                b.severity = None;
                b
            }),
        ];
        for (field, drop_field) in cases {
            assert_eq!(
                drop_field(full.clone()).build(),
                Err(BuildError::MissingHeader(field))
            );
        }
        assert_eq!(
            BuildError::MissingHeader("name").to_string(),
            "CEF header field `name` was not set"
        );
    }

    #[test]
    fn truncates_on_a_character_boundary() {
        let long = "é".repeat(50);
        let event = minimal()
            .text(keys::EXTERNAL_ID, long.as_str())
            .build()
            .unwrap();
        assert_eq!(event.get("externalId"), Some("é".repeat(40).as_str()));
        let owned = minimal()
            .text(keys::EXTERNAL_ID, "\u{1}".repeat(41))
            .build()
            .unwrap();
        assert_eq!(owned.get("externalId").unwrap().chars().count(), 40);
    }

    #[test]
    fn a_value_at_its_limit_is_kept_whole() {
        let exact = "é".repeat(40);
        let event = minimal()
            .length_policy(LengthPolicy::Reject)
            .text(keys::EXTERNAL_ID, exact.as_str())
            .build()
            .unwrap();
        assert_eq!(event.get("externalId"), Some(exact.as_str()));
    }

    #[test]
    fn reject_policy_names_the_field_whatever_the_call_order() {
        let error = minimal()
            .text(keys::EXTERNAL_ID, "x".repeat(41))
            .length_policy(LengthPolicy::Reject)
            .build()
            .unwrap_err();
        assert_eq!(
            error,
            BuildError::TooLong {
                field: "externalId",
                chars: 41,
                max: 40
            }
        );
        assert_eq!(
            error.to_string(),
            "CEF field `externalId` is 41 characters long, over its limit of 40"
        );
        let header = minimal()
            .length_policy(LengthPolicy::Reject)
            .vendor("v".repeat(64))
            .build()
            .unwrap_err();
        assert_eq!(
            header,
            BuildError::TooLong {
                field: "vendor",
                chars: 64,
                max: 63
            }
        );
    }

    #[test]
    fn header_line_breaks_become_single_spaces() {
        let event = minimal().vendor("a\r\nb\nc\rd\u{0}e\tf").build().unwrap();
        assert_eq!(event.vendor(), "a b c d\u{FFFD}e\tf");
    }

    #[test]
    fn value_controls_other_than_line_breaks_are_replaced() {
        let event = minimal()
            .text(keys::MSG, "a\r\n\u{0}\u{1b}\tb")
            .build()
            .unwrap();
        assert_eq!(event.get("msg"), Some("a\r\n\u{FFFD}\u{FFFD}\tb"));
    }

    #[test]
    fn empty_values_are_not_written() {
        let event = minimal()
            .text(keys::MSG, "")
            .vendor_field("Zb", "")
            .label(keys::CS1, "")
            .build();
        assert_eq!(event.unwrap().extension().len(), 0);
    }

    #[test]
    fn vendor_keys_are_validated() {
        assert_eq!(
            minimal().vendor_field("bad key", "x").build(),
            Err(BuildError::InvalidVendorKey("bad key".to_owned()))
        );
        assert_eq!(
            minimal().vendor_field("", "x").build(),
            Err(BuildError::InvalidVendorKey(String::new()))
        );
        assert_eq!(
            minimal().vendor_field("src", "x").build(),
            Err(BuildError::DictionaryKeyAsVendorKey("src".to_owned()))
        );
    }

    #[test]
    fn the_first_error_wins_and_later_pairs_are_ignored() {
        let error = minimal()
            .float(keys::CFP1, f64::NAN)
            .label(keys::SRC, "x")
            .text(keys::MSG, "after")
            .build()
            .unwrap_err();
        assert_eq!(error, BuildError::NotFinite("cfp1"));
        assert_eq!(
            error.to_string(),
            "CEF key `cfp1` got a value that is not a finite number"
        );
        let error = minimal().label(keys::SRC, "x").build().unwrap_err();
        assert_eq!(error, BuildError::NoLabelSlot("src"));
        assert_eq!(error.to_string(), "CEF key `src` has no label key");
    }

    #[test]
    fn text_timestamps_out_of_range_are_refused() {
        let ancient = time::macros::datetime!(0000-06-01 00:00 UTC);
        let error = minimal()
            .time_format(TimeFormat::Text)
            .time(keys::RT, ancient)
            .build()
            .unwrap_err();
        assert_eq!(error, BuildError::TimeOutOfRange("rt"));
        assert_eq!(
            error.to_string(),
            "CEF key `rt` got a timestamp whose year is outside 1-9999"
        );
        let millis = minimal().time(keys::RT, ancient).build().unwrap();
        assert_eq!(millis.get("rt"), Some("-62154086400000"));
    }

    #[test]
    fn into_owned_keeps_the_event() {
        let text = String::from("borrowed");
        let event = minimal().text(keys::MSG, text.as_str()).build().unwrap();
        let owned: Event<'static> = event.clone().into_owned();
        assert_eq!(owned, event);
    }
}
