//! The event model and its builder.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use time::OffsetDateTime;

use crate::digits;
use crate::escape::{self, TextBuffer};
use crate::keys::{
    FloatKey, IntKey, Ipv4Key, Ipv6Key, Key, KeyDef, KeyKind, LongKey, MacKey, PortKey, TextKey,
    TimeKey,
};
use crate::mac::MacAddress;
use crate::severity::Severity;
use crate::timestamp::{TimeFormat, fits_text_form, write_timestamp};

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
pub(crate) enum ValueText {
    /// Nothing in the value was escaped: it is this byte range of the extension's text.
    Wire(usize, usize),
    /// The unescaped value, which differs from its escaped form in the extension's text.
    Unescaped(String),
}

/// One `key=value` pair, as ranges of the extension's text.
#[derive(Clone)]
pub(crate) struct PairIndex {
    pub(crate) key: (usize, usize),
    pub(crate) value: ValueText,
}

/// Writes a header as CEF text: `CEF:0|` and the six fields, each closed by `|`. The fields
/// must be cleaned (no line breaks); `\` and `|` are escaped here, except in the fields
/// `known_plain` marks as holding neither (the builder has checked them already).
pub(crate) fn write_header(
    out: &mut impl TextBuffer,
    version: CefVersion,
    fields: &[Cow<'_, str>; 5],
    known_plain: [bool; 5],
    severity: Severity,
) {
    out.push_text(version.prefix());
    for (field, known_plain) in fields.iter().zip(known_plain) {
        if known_plain || escape::is_plain_header(field) {
            out.push_text(field);
        } else {
            escape::push_escaped(out, field, &escape::HEADER);
        }
        out.push_text("|");
    }
    out.push_text(severity.as_str());
    out.push_text("|");
}

/// About how long [`write_header`] writes these fields: exact unless something is escaped.
fn header_len(fields: &[Cow<'_, str>; 5]) -> usize {
    // `CEF:0|`, the fields and their `|`, and the longest severity (`Very-High`) with its `|`.
    6 + fields.iter().map(|field| field.len() + 1).sum::<usize>() + 10
}

/// Room the builder reserves for an extension when its first pair is added: a typical
/// event's extension fits, rather than growing the text 8, 16, 32... bytes at a time.
pub(crate) const EXTENSION_CAPACITY: usize = 512;

/// An extension as CEF text, written pair by pair: keys as given (the caller validated
/// them), values cleaned and escaped as they are added, so the text is final. It is kept
/// as bytes so numbers are written without UTF-8 checks; everything appended is UTF-8.
#[derive(Clone, Default)]
pub(crate) struct ExtensionText(Vec<u8>);

impl fmt::Debug for ExtensionText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&String::from_utf8_lossy(&self.0), f)
    }
}

impl ExtensionText {
    pub(crate) fn with_capacity(len: usize) -> ExtensionText {
        ExtensionText(Vec::with_capacity(len))
    }

    /// Starts a pair with a dictionary key's `" key="`, without the space for the first pair.
    #[inline]
    fn dictionary_key(&mut self, def: &KeyDef) {
        let first = self.0.is_empty();
        if first {
            self.0.reserve(EXTENSION_CAPACITY);
        }
        def.push_pair_prefix(&mut self.0, first);
    }

    /// Starts a pair with a key that holds none of space, `=` and `\`.
    pub(crate) fn key(&mut self, key: &str) {
        if self.0.is_empty() {
            self.0.reserve(EXTENSION_CAPACITY);
        } else {
            self.0.push(b' ');
        }
        self.0.extend_from_slice(key.as_bytes());
        self.0.push(b'=');
    }

    /// Ends a pair with its value, cleaned and escaped.
    #[inline]
    pub(crate) fn value(&mut self, value: &str) {
        escape::push_value(&mut self.0, value);
    }

    /// The text as a `String`.
    fn into_string(self) -> String {
        // Only UTF-8 was appended, so the lossy branch is never taken.
        String::from_utf8(self.0)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
    }
}

/// Finds the pairs of an extension [`ExtensionText`] wrote. Its text is canonical: keys hold
/// no space, `=` or `\`, values hold no raw `=`, and every `\` starts a two-byte escape, so
/// each raw `=` ends a key, and that key starts after the last space before it.
fn index_pairs(text: &str) -> Vec<PairIndex> {
    let bytes = text.as_bytes();
    let rest = |at: usize| bytes.get(at..).unwrap_or_default();
    // One raw `=` per pair; counting escaped ones too only makes the vector a little larger.
    let mut pairs = Vec::with_capacity(memchr::memchr_iter(b'=', bytes).count());
    let mut key_start = 0;
    while let Some(offset) = memchr::memchr(b'=', rest(key_start)) {
        let key_end = key_start + offset;
        let value_start = key_end + 1;
        let mut at = value_start;
        let mut escaped = false;
        let next_key_end = loop {
            match memchr::memchr2(b'=', b'\\', rest(at)) {
                Some(offset) if bytes.get(at + offset) == Some(&b'\\') => {
                    escaped = true;
                    at += offset + 2;
                }
                Some(offset) => break Some(at + offset),
                None => break None,
            }
        };
        let value_end = match next_key_end {
            Some(next_key_end) => bytes
                .get(value_start..next_key_end)
                .and_then(|between| memchr::memrchr(b' ', between))
                .map_or(next_key_end, |space| value_start + space),
            None => bytes.len(),
        };
        let value = if escaped {
            let wire = text.get(value_start..value_end).unwrap_or_default();
            ValueText::Unescaped(escape::unescape_value(wire))
        } else {
            ValueText::Wire(value_start, value_end)
        };
        pairs.push(PairIndex {
            key: (key_start, key_end),
            value,
        });
        key_start = value_end + 1;
    }
    pairs
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
    /// Where each pair is: the strict decoder sets it, a built event finds it the first
    /// time it is asked, so events that are only written never pay for it.
    pairs: OnceLock<Vec<PairIndex>>,
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
        pairs: Vec<PairIndex>,
    ) -> Event<'a> {
        Event {
            version,
            severity,
            fields,
            header,
            extension,
            pairs: OnceLock::from(pairs),
        }
    }

    /// Puts an event together from its cleaned header fields and a written extension;
    /// `known_plain` marks the fields known to need no escaping.
    pub(crate) fn assemble(
        version: CefVersion,
        severity: Severity,
        fields: [Cow<'a, str>; 5],
        known_plain: [bool; 5],
        extension: ExtensionText,
    ) -> Event<'a> {
        let mut header = String::with_capacity(header_len(&fields));
        write_header(&mut header, version, &fields, known_plain, severity);
        Event {
            version,
            severity,
            fields,
            header: Cow::Owned(header),
            extension: Cow::Owned(extension.into_string()),
            pairs: OnceLock::new(),
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

    fn pair<'s>(&'s self, pair: &'s PairIndex) -> (&'s str, &'s str) {
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
        self.pairs
            .get_or_init(|| index_pairs(&self.extension))
            .iter()
            .map(|pair| self.pair(pair))
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
            pairs: self.pairs,
        }
    }
}

/// A value longer than its key's limit, already cut in the text; [`LengthPolicy::Reject`]
/// refuses it.
#[derive(Debug, Clone, Copy)]
struct Overlong {
    pair: usize,
    field: &'static str,
    chars: usize,
    max: usize,
}

/// A timestamp in the extension: where its text is, to write it again if the time format
/// changes.
#[derive(Debug, Clone, Copy)]
struct TimeValue {
    start: usize,
    end: usize,
    at: OffsetDateTime,
}

/// What the extension's pairs leave to be decided when the event is finished: the length
/// policy and the time format may change after a pair was added, and they decide whether
/// it is refused.
#[derive(Debug, Clone, Default)]
struct Deferred {
    /// Pairs added so far; they are numbered from 0 in that order.
    pairs: usize,
    /// The first value that was over its limit.
    first_overlong: Option<Overlong>,
    /// The first timestamp [`TimeFormat::Text`] cannot write, and its key.
    first_unwritable_time: Option<(usize, &'static str)>,
    /// The timestamps in the order they were added; most events have one, which needs no
    /// allocation.
    first_time: Option<TimeValue>,
    more_times: Vec<TimeValue>,
}

impl Deferred {
    fn push_time(&mut self, time: TimeValue) {
        if self.first_time.is_none() {
            self.first_time = Some(time);
        } else {
            self.more_times.push(time);
        }
    }

    fn times_mut(&mut self) -> impl Iterator<Item = &mut TimeValue> {
        self.first_time.iter_mut().chain(&mut self.more_times)
    }

    /// Cuts `text` to `max` characters on a character boundary, noting the first value cut.
    #[inline]
    fn fit<'t>(&mut self, field: &'static str, text: &'t str, max: usize) -> &'t str {
        // A string of at most `max` bytes has at most `max` characters.
        if text.len() <= max {
            return text;
        }
        let Some((cut, _)) = text.char_indices().nth(max) else {
            return text;
        };
        self.first_overlong.get_or_insert(Overlong {
            pair: self.pairs,
            field,
            chars: text.chars().count(),
            max,
        });
        text.get(..cut).unwrap_or(text)
    }

    /// The error of the first pair these settings refuse.
    fn error(&self, policy: LengthPolicy, format: TimeFormat) -> Option<BuildError> {
        let overlong = self
            .first_overlong
            .filter(|_| policy == LengthPolicy::Reject)
            .map(
                |Overlong {
                     pair,
                     field,
                     chars,
                     max,
                 }| { (pair, BuildError::TooLong { field, chars, max }) },
            );
        let unwritable_time = self
            .first_unwritable_time
            .filter(|_| format == TimeFormat::Text)
            .map(|(pair, key)| (pair, BuildError::TimeOutOfRange(key)));
        [overlong, unwritable_time]
            .into_iter()
            .flatten()
            .min_by_key(|(pair, _)| *pair)
            .map(|(_, error)| error)
    }
}

/// Builds an [`Event`], or writes one straight into a buffer ([`EventBuilder::encode_into`]).
/// Every method can be chained; the first mistake is kept and returned by
/// [`EventBuilder::build`], so call sites read as one expression.
///
/// Each extension value is cut, cleaned and escaped into the extension's CEF text as it is
/// added, so finishing the event is writing the header and one copy. The length policy and
/// the time format still apply to every pair, whenever they are set.
///
/// Empty values are not written: CEF cannot tell `key=` from an absent key (ArcSight reads
/// both as null), so adding an empty string adds nothing. Pairs are written in the order
/// they were added; a key added twice is written twice.
#[derive(Debug, Clone, Default)]
#[must_use = "an EventBuilder does nothing until build() or encode_into() is called"]
pub struct EventBuilder<'a> {
    state: Box<BuilderState<'a>>,
}

/// What an [`EventBuilder`] has been given, behind one pointer: moving a builder through
/// a chain of calls then copies a pointer, not the whole state.
#[derive(Debug, Clone, Default)]
struct BuilderState<'a> {
    version: CefVersion,
    vendor: Option<Cow<'a, str>>,
    product: Option<Cow<'a, str>>,
    device_version: Option<Cow<'a, str>>,
    signature_id: Option<Cow<'a, str>>,
    name: Option<Cow<'a, str>>,
    severity: Option<Severity>,
    extension: ExtensionText,
    deferred: Deferred,
    length_policy: LengthPolicy,
    time_format: TimeFormat,
    error: Option<BuildError>,
}

/// The header's length limits, in characters.
pub(crate) const VENDOR_MAX: usize = 63;
pub(crate) const PRODUCT_MAX: usize = 63;
pub(crate) const DEVICE_VERSION_MAX: usize = 31;
pub(crate) const SIGNATURE_ID_MAX: usize = 1023;
pub(crate) const NAME_MAX: usize = 512;

/// An event whose every check passed, ready to be written.
struct Checked<'a> {
    version: CefVersion,
    severity: Severity,
    fields: [Cow<'a, str>; 5],
    /// Which fields need no escaping, as the check found.
    plain: [bool; 5],
    extension: ExtensionText,
}

impl<'a> EventBuilder<'a> {
    /// `CEF:0` (the default) or `CEF:1`.
    #[inline]
    pub fn cef_version(mut self, version: CefVersion) -> Self {
        self.state.version = version;
        self
    }

    /// What to do with values over their limit; [`LengthPolicy::Truncate`] by default.
    #[inline]
    pub fn length_policy(mut self, policy: LengthPolicy) -> Self {
        self.state.length_policy = policy;
        self
    }

    /// How timestamps are written; [`TimeFormat::EpochMillis`] by default. Applies to the
    /// timestamps already added too.
    #[inline]
    pub fn time_format(mut self, format: TimeFormat) -> Self {
        if format != self.state.time_format && self.state.deferred.first_time.is_some() {
            self.state.rewrite_times(format);
        }
        self.state.time_format = format;
        self
    }

    /// Device Vendor (at most 63 characters).
    #[inline]
    pub fn vendor(mut self, vendor: impl Into<Cow<'a, str>>) -> Self {
        self.state.vendor = Some(vendor.into());
        self
    }

    /// Device Product (at most 63 characters).
    #[inline]
    pub fn product(mut self, product: impl Into<Cow<'a, str>>) -> Self {
        self.state.product = Some(product.into());
        self
    }

    /// Device Version (at most 31 characters).
    #[inline]
    pub fn device_version(mut self, version: impl Into<Cow<'a, str>>) -> Self {
        self.state.device_version = Some(version.into());
        self
    }

    /// Signature ID, the Device Event Class ID (at most 1023 characters).
    #[inline]
    pub fn signature_id(mut self, id: impl Into<Cow<'a, str>>) -> Self {
        self.state.signature_id = Some(id.into());
        self
    }

    /// Name (at most 512 characters).
    #[inline]
    pub fn name(mut self, name: impl Into<Cow<'a, str>>) -> Self {
        self.state.name = Some(name.into());
        self
    }

    /// Severity.
    #[inline]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.state.severity = Some(severity);
        self
    }

    /// A string value, cut or refused past the key's limit.
    #[inline]
    pub fn text(mut self, key: TextKey, value: impl Into<Cow<'a, str>>) -> Self {
        self.state.add_text(key.def(), &value.into());
        self
    }

    /// A 32-bit integer value.
    #[inline]
    pub fn int(mut self, key: IntKey, value: i32) -> Self {
        self.state
            .add_plain(key.def(), |out| digits::push_i64(out, value.into()));
        self
    }

    /// A port number.
    #[inline]
    pub fn port(mut self, key: PortKey, value: u16) -> Self {
        self.state
            .add_plain(key.def(), |out| digits::push_u64(out, value.into()));
        self
    }

    /// A 64-bit integer value.
    #[inline]
    pub fn long(mut self, key: LongKey, value: i64) -> Self {
        self.state
            .add_plain(key.def(), |out| digits::push_i64(out, value));
        self
    }

    /// A floating point value; NaN and infinities are refused.
    #[inline]
    pub fn float(mut self, key: FloatKey, value: f64) -> Self {
        if value.is_finite() {
            self.state
                .add_plain(key.def(), |out| digits::push_display(out, value));
        } else {
            self.state.fail(BuildError::NotFinite(key.def().name()));
        }
        self
    }

    /// An IPv4 address.
    #[inline]
    pub fn ipv4(mut self, key: Ipv4Key, value: Ipv4Addr) -> Self {
        self.state
            .add_plain(key.def(), |out| digits::push_ipv4(out, value));
        self
    }

    /// An IPv6 address, in its canonical compressed form.
    #[inline]
    pub fn ipv6(mut self, key: Ipv6Key, value: Ipv6Addr) -> Self {
        self.state
            .add_plain(key.def(), |out| digits::push_display(out, value));
        self
    }

    /// A MAC address, as `00:0D:60:AF:1B:61`.
    #[inline]
    pub fn mac(mut self, key: MacKey, value: MacAddress) -> Self {
        self.state
            .add_plain(key.def(), |out| digits::push_mac(out, value.0));
        self
    }

    /// A timestamp, written in the builder's [`TimeFormat`].
    #[inline]
    pub fn time(mut self, key: TimeKey, value: OffsetDateTime) -> Self {
        self.state.add_time(key.def(), value);
        self
    }

    /// The label of a custom slot: `label(keys::CS1, "Firmware")` writes `cs1Label=Firmware`.
    /// Keys without a label slot are refused with [`BuildError::NoLabelSlot`].
    #[inline]
    pub fn label(mut self, key: impl Key, label: impl Into<Cow<'a, str>>) -> Self {
        match key.def().label() {
            Some(label_key) => self.state.add_text(label_key, &label.into()),
            None => self.state.fail(BuildError::NoLabelSlot(key.def().name())),
        }
        self
    }

    /// A vendor key outside the dictionary, such as `PANWIoTProfile`. The key must match
    /// `[A-Za-z0-9_]+` and must not be a dictionary key; its value has no length limit.
    #[inline]
    pub fn vendor_field(
        mut self,
        key: impl Into<Cow<'a, str>>,
        value: impl Into<Cow<'a, str>>,
    ) -> Self {
        self.state.add_vendor_field(key.into(), &value.into());
        self
    }

    /// The event, or the first mistake made while building it: a mistake in a method
    /// call, then a missing or (under [`LengthPolicy::Reject`]) overlong header field, then
    /// the first pair refused, in the order they were added.
    pub fn build(mut self) -> Result<Event<'a>, BuildError> {
        let Checked {
            version,
            severity,
            fields,
            plain,
            extension,
        } = self.state.check()?;
        Ok(Event::assemble(version, severity, fields, plain, extension))
    }

    /// Appends the event's CEF text to `out`, exactly as `build()?.encode_into(out)` does,
    /// without making an [`Event`]: the header is written and the extension, already
    /// escaped, copied. The way to write events in bulk; reuse `out` across events.
    ///
    /// On error `out` is left as it was, and the error is the one [`EventBuilder::build`]
    /// returns.
    ///
    /// ```
    /// use cef_codec::{keys, Event, Severity};
    ///
    /// let mut out = Vec::new();
    /// for host in ["pump-1", "pump=2"] {
    ///     Event::builder()
    ///         .vendor("V").product("P").device_version("1").signature_id("id").name("n")
    ///         .severity(Severity::LOW)
    ///         .text(keys::DVCHOST, host)
    ///         .encode_into(&mut out)?;
    ///     out.push(b'\n');
    /// }
    /// assert_eq!(
    ///     out,
    ///     b"CEF:0|V|P|1|id|n|Low|dvchost=pump-1\nCEF:0|V|P|1|id|n|Low|dvchost=pump\\=2\n"
    /// );
    /// # Ok::<(), cef_codec::BuildError>(())
    /// ```
    pub fn encode_into(mut self, out: &mut Vec<u8>) -> Result<(), BuildError> {
        let Checked {
            version,
            severity,
            fields,
            plain,
            extension,
        } = self.state.check()?;
        out.reserve(header_len(&fields) + extension.0.len());
        write_header(out, version, &fields, plain, severity);
        out.extend_from_slice(&extension.0);
        Ok(())
    }
}

impl<'a> BuilderState<'a> {
    /// Writes the timestamps already in the extension again, in `format`.
    fn rewrite_times(&mut self, format: TimeFormat) {
        let old = std::mem::take(&mut self.extension.0);
        let mut text = Vec::with_capacity(old.len() + 32 * (1 + self.deferred.more_times.len()));
        let mut copied = 0;
        for time in self.deferred.times_mut() {
            text.extend_from_slice(old.get(copied..time.start).unwrap_or_default());
            copied = time.end;
            time.start = text.len();
            // A timestamp the format cannot write is left empty: the event is refused
            // (`first_unwritable_time`) unless the format changes back.
            let _ = write_timestamp(&mut text, time.at, format);
            time.end = text.len();
        }
        text.extend_from_slice(old.get(copied..).unwrap_or_default());
        self.extension.0 = text;
    }

    /// Adds a text pair: cuts the value to the key's limit, then cleans and escapes it.
    /// Inlined where the compiler finds it worth it (measured: fewer instructions than
    /// keeping it out of line, more when forced inline everywhere).
    #[inline]
    fn add_text(&mut self, def: &'static KeyDef, text: &str) {
        if text.is_empty() || self.error.is_some() {
            return;
        }
        let text = match def.kind() {
            KeyKind::Text { max_chars } => self.deferred.fit(def.name(), text, max_chars),
            _ => text,
        };
        self.extension.dictionary_key(def);
        self.extension.value(text);
        self.deferred.pairs += 1;
    }

    /// Adds a pair whose value `write` writes, with nothing to escape.
    #[inline]
    fn add_plain(&mut self, def: &'static KeyDef, write: impl FnOnce(&mut Vec<u8>)) {
        if self.error.is_none() {
            self.extension.dictionary_key(def);
            write(&mut self.extension.0);
            self.deferred.pairs += 1;
        }
    }

    #[inline(never)]
    fn add_time(&mut self, def: &'static KeyDef, value: OffsetDateTime) {
        if self.error.is_some() {
            return;
        }
        self.extension.dictionary_key(def);
        let start = self.extension.0.len();
        // A timestamp the format cannot write is left empty and the event refused, unless
        // the format changes.
        let _ = write_timestamp(&mut self.extension.0, value, self.time_format);
        if !fits_text_form(value) {
            self.deferred
                .first_unwritable_time
                .get_or_insert((self.deferred.pairs, def.name()));
        }
        self.deferred.push_time(TimeValue {
            start,
            end: self.extension.0.len(),
            at: value,
        });
        self.deferred.pairs += 1;
    }

    #[inline(never)]
    fn add_vendor_field(&mut self, key: Cow<'a, str>, value: &str) {
        if !crate::keys::is_valid_key_name(&key) {
            self.fail(BuildError::InvalidVendorKey(key.into_owned()));
        } else if crate::keys::lookup(&key).is_some() {
            self.fail(BuildError::DictionaryKeyAsVendorKey(key.into_owned()));
        } else if !value.is_empty() && self.error.is_none() {
            self.extension.key(&key);
            self.extension.value(value);
            self.deferred.pairs += 1;
        }
    }

    /// Keeps `error` unless an earlier mistake was kept.
    fn fail(&mut self, error: BuildError) {
        self.error.get_or_insert(error);
    }

    /// Applies the checks `build` documents; returns the cleaned and fitted header fields
    /// with the extension, taking them out of the state (which is dropped after).
    fn check(&mut self) -> Result<Checked<'a>, BuildError> {
        if let Some(error) = self.error.take() {
            return Err(error);
        }
        let policy = self.length_policy;
        let header = |field: &mut Option<Cow<'a, str>>, name: &'static str, max: usize| {
            let text = field.take().ok_or(BuildError::MissingHeader(name))?;
            // A field with nothing to clean or escape stays so when cut.
            if escape::is_plain_header(&text) {
                Ok((fit(name, text, max, policy)?, true))
            } else {
                Ok((fit(name, clean_header(text), max, policy)?, false))
            }
        };
        let [
            (vendor, vendor_plain),
            (product, product_plain),
            (device_version, device_version_plain),
            (signature_id, signature_id_plain),
            (name, name_plain),
        ] = [
            header(&mut self.vendor, "vendor", VENDOR_MAX)?,
            header(&mut self.product, "product", PRODUCT_MAX)?,
            header(
                &mut self.device_version,
                "device_version",
                DEVICE_VERSION_MAX,
            )?,
            header(&mut self.signature_id, "signature_id", SIGNATURE_ID_MAX)?,
            header(&mut self.name, "name", NAME_MAX)?,
        ];
        let severity = self.severity.ok_or(BuildError::MissingHeader("severity"))?;
        if let Some(error) = self.deferred.error(policy, self.time_format) {
            return Err(error);
        }
        Ok(Checked {
            version: self.version,
            severity,
            fields: [vendor, product, device_version, signature_id, name],
            plain: [
                vendor_plain,
                product_plain,
                device_version_plain,
                signature_id_plain,
                name_plain,
            ],
            extension: std::mem::take(&mut self.extension),
        })
    }
}

/// Header fields cannot hold line breaks: CRLF, CR and LF each become one space; other
/// control characters but tab become U+FFFD.
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
            c if u8::try_from(c).is_ok_and(escape::is_forbidden_control_byte) => {
                out.push(char::REPLACEMENT_CHARACTER);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Applies the length policy to a header field: counts characters, and cuts on a character
/// boundary.
pub(crate) fn fit<'a>(
    field: &'static str,
    text: Cow<'a, str>,
    max: usize,
    policy: LengthPolicy,
) -> Result<Cow<'a, str>, BuildError> {
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
                b.state.vendor = None;
                b
            }),
            ("product", |mut b| {
                b.state.product = None;
                b
            }),
            ("device_version", |mut b| {
                b.state.device_version = None;
                b
            }),
            ("signature_id", |mut b| {
                b.state.signature_id = None;
                b
            }),
            ("name", |mut b| {
                b.state.name = None;
                b
            }),
            ("severity", |mut b| {
                b.state.severity = None;
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
    fn a_late_time_format_rewrites_the_timestamps_already_added() {
        let at = time::macros::datetime!(2023-11-14 22:13:20.123 +02:00);
        let late = minimal()
            .time(keys::RT, at)
            .text(keys::MSG, "between")
            .time(keys::END, at)
            .time_format(TimeFormat::Text);
        let early = minimal()
            .time_format(TimeFormat::Text)
            .time(keys::RT, at)
            .text(keys::MSG, "between")
            .time(keys::END, at);
        let event = late.clone().build().unwrap();
        assert_eq!(event, early.build().unwrap());
        assert_eq!(
            event.extension_text(),
            "rt=Nov 14 2023 22:13:20.123 GMT+02:00 msg=between end=Nov 14 2023 22:13:20.123 GMT+02:00"
        );
        let back = late.time_format(TimeFormat::EpochMillis).build().unwrap();
        assert_eq!(
            back.extension_text(),
            "rt=1699992800123 msg=between end=1699992800123"
        );
    }

    #[test]
    fn the_first_refused_pair_is_named_whatever_the_order_of_settings() {
        let ancient = time::macros::datetime!(0000-06-01 00:00 UTC);
        let long_then_ancient = minimal()
            .text(keys::EXTERNAL_ID, "x".repeat(41))
            .time(keys::RT, ancient)
            .time_format(TimeFormat::Text);
        assert_eq!(
            long_then_ancient
                .clone()
                .length_policy(LengthPolicy::Reject)
                .build()
                .unwrap_err(),
            BuildError::TooLong {
                field: "externalId",
                chars: 41,
                max: 40
            }
        );
        assert_eq!(
            long_then_ancient.clone().build().unwrap_err(),
            BuildError::TimeOutOfRange("rt")
        );
        // Writing the time as epoch milliseconds and cutting the value: nothing is refused.
        let event = long_then_ancient
            .time_format(TimeFormat::EpochMillis)
            .build()
            .unwrap();
        assert_eq!(event.get("externalId"), Some("x".repeat(40).as_str()));
        let ancient_then_long = minimal()
            .length_policy(LengthPolicy::Reject)
            .time_format(TimeFormat::Text)
            .time(keys::RT, ancient)
            .text(keys::EXTERNAL_ID, "x".repeat(41));
        assert_eq!(
            ancient_then_long.build().unwrap_err(),
            BuildError::TimeOutOfRange("rt")
        );
    }

    #[test]
    fn a_builder_shows_its_extension_as_text() {
        let debug = format!("{:?}", minimal().text(keys::MSG, "a=b"));
        assert!(debug.contains(r#"extension: "msg=a\\=b""#), "{debug}");
    }

    #[test]
    fn into_owned_keeps_the_event() {
        let text = String::from("borrowed");
        let event = minimal().text(keys::MSG, text.as_str()).build().unwrap();
        let owned: Event<'static> = event.clone().into_owned();
        assert_eq!(owned, event);
    }
}
