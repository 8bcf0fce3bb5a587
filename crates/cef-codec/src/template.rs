//! The fastest way to write many events: a header checked once, events written straight
//! into the caller's buffer.

use std::borrow::Cow;
use std::mem::ManuallyDrop;
use std::net::{Ipv4Addr, Ipv6Addr};

use time::OffsetDateTime;

use crate::block;
use crate::digits;
use crate::escape;
use crate::event::{
    BuildError, CefVersion, DEVICE_VERSION_MAX, EXTENSION_CAPACITY, LengthPolicy, NAME_MAX,
    PRODUCT_MAX, SIGNATURE_ID_MAX, VENDOR_MAX, clean_header, fit,
};
use crate::keys::{
    FloatKey, IntKey, Ipv4Key, Ipv6Key, Key, KeyDef, LongKey, MacKey, PortKey, TextKey, TimeKey,
};
use crate::mac::MacAddress;
use crate::severity::Severity;
use crate::timestamp::{TimeFormat, fits_text_form, write_timestamp};

/// The settings a [`HeaderTemplate`] fixes for every event it writes: the CEF version, the
/// [`LengthPolicy`] and the [`TimeFormat`], each the builder's default unless set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TemplateOptions {
    cef_version: CefVersion,
    length_policy: LengthPolicy,
    time_format: TimeFormat,
}

impl TemplateOptions {
    /// `CEF:0` (the default) or `CEF:1`.
    pub fn cef_version(mut self, version: CefVersion) -> Self {
        self.cef_version = version;
        self
    }

    /// What to do with values over their limit; [`LengthPolicy::Truncate`] by default.
    pub fn length_policy(mut self, policy: LengthPolicy) -> Self {
        self.length_policy = policy;
        self
    }

    /// How timestamps are written; [`TimeFormat::EpochMillis`] by default.
    pub fn time_format(mut self, format: TimeFormat) -> Self {
        self.time_format = format;
        self
    }
}

/// The part of the header a run of events shares, `CEF:0|Vendor|Product|1.0|`, cleaned, cut
/// and escaped once, and the settings its events are written with. [`HeaderTemplate::event`]
/// writes one event with it straight into a buffer: the fastest way to write CEF.
///
/// What it writes is exactly what [`EventBuilder::encode_into`](crate::EventBuilder::encode_into)
/// writes for the same fields and settings, and its errors are the builder's; a template
/// that [`LengthPolicy::Reject`] refuses is refused when it is made.
///
/// ```
/// use cef_codec::{keys, HeaderTemplate, Severity};
///
/// let template = HeaderTemplate::new("PaloAltoNetworks", "PANWIOT", "1.0")?;
/// let mut out = Vec::new();
/// for host in ["pump-1", "pump=2"] {
///     template
///         .event(&mut out, "asset", "Asset Identification", Severity::LOW)
///         .text(keys::DVCHOST, host)
///         .long(keys::CN1, 72)
///         .finish()?;
///     out.push(b'\n');
/// }
/// assert_eq!(
///     String::from_utf8(out)?,
///     "CEF:0|PaloAltoNetworks|PANWIOT|1.0|asset|Asset Identification|Low|dvchost=pump-1 cn1=72\n\
///      CEF:0|PaloAltoNetworks|PANWIOT|1.0|asset|Asset Identification|Low|dvchost=pump\\=2 cn1=72\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HeaderTemplate {
    /// `CEF:0|` and the vendor, product and device version, each closed by `|`, as CEF text.
    prefix: String,
    length_policy: LengthPolicy,
    time_format: TimeFormat,
}

impl HeaderTemplate {
    /// A template with the default [`TemplateOptions`]: `CEF:0`, long values cut, epoch
    /// millisecond timestamps. Fields are cleaned and cut as the builder does, so this only
    /// fails under [`HeaderTemplate::with_options`]'s [`LengthPolicy::Reject`].
    pub fn new(
        vendor: &str,
        product: &str,
        device_version: &str,
    ) -> Result<HeaderTemplate, BuildError> {
        HeaderTemplate::with_options(vendor, product, device_version, TemplateOptions::default())
    }

    /// A template with these options. Under [`LengthPolicy::Reject`] a field over its limit
    /// is refused with [`BuildError::TooLong`], as the builder refuses it.
    pub fn with_options(
        vendor: &str,
        product: &str,
        device_version: &str,
        options: TemplateOptions,
    ) -> Result<HeaderTemplate, BuildError> {
        let policy = options.length_policy;
        let mut prefix = Vec::from(options.cef_version.prefix());
        push_header_field(&mut prefix, "vendor", vendor, VENDOR_MAX, policy)?;
        push_header_field(&mut prefix, "product", product, PRODUCT_MAX, policy)?;
        push_header_field(
            &mut prefix,
            "device_version",
            device_version,
            DEVICE_VERSION_MAX,
            policy,
        )?;
        // Only UTF-8 was appended, so the lossy branch is never taken.
        let prefix = String::from_utf8(prefix)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        Ok(HeaderTemplate {
            prefix,
            length_policy: policy,
            time_format: options.time_format,
        })
    }

    /// The shared part of the header as CEF text, for example `CEF:0|Vendor|Product|1.0|`.
    pub fn header_text(&self) -> &str {
        &self.prefix
    }

    /// Starts an event at the end of `out`: writes the header, then each pair as its method
    /// is called. [`EventWriter::finish`] ends it; on error, or when the writer is dropped
    /// unfinished, `out` is cut back to where the event started.
    #[inline]
    pub fn event<'o>(
        &self,
        out: &'o mut Vec<u8>,
        signature_id: &str,
        name: &str,
        severity: Severity,
    ) -> EventWriter<'o> {
        let start = out.len();
        out.reserve(self.prefix.len() + signature_id.len() + name.len() + 12 + EXTENSION_CAPACITY);
        out.extend_from_slice(self.prefix.as_bytes());
        let policy = self.length_policy;
        let error = push_header_field(out, "signature_id", signature_id, SIGNATURE_ID_MAX, policy)
            .and_then(|()| push_header_field(out, "name", name, NAME_MAX, policy))
            .err()
            .map(boxed);
        let (severity, len) = severity.text_block();
        block::push_block(out, &severity, len);
        EventWriter {
            out,
            start,
            separator: b'|',
            length_policy: policy,
            time_format: self.time_format,
            error: ManuallyDrop::new(error),
            error_is_mistake: false,
            finished: false,
        }
    }
}

/// Appends a header field cleaned, cut to `max` characters (or refused, as `policy` says)
/// and escaped, then its closing `|`.
#[inline(always)]
fn push_header_field(
    out: &mut Vec<u8>,
    field: &'static str,
    text: &str,
    max: usize,
    policy: LengthPolicy,
) -> Result<(), BuildError> {
    // A string of at most `max` bytes has at most `max` characters.
    if text.len() <= max && escape::push_plain_short_header(out, text) {
        out.push(b'|');
        Ok(())
    } else {
        push_long_header_field(out, field, text, max, policy)
    }
}

/// [`push_header_field`] for a field that is long or needs a look at each byte.
#[inline(never)]
fn push_long_header_field(
    out: &mut Vec<u8>,
    field: &'static str,
    text: &str,
    max: usize,
    policy: LengthPolicy,
) -> Result<(), BuildError> {
    // A string of at most `max` bytes has at most `max` characters.
    if text.len() <= max && escape::is_plain_header(text) {
        out.extend_from_slice(text.as_bytes());
    } else if escape::is_plain_header(text) {
        let text = fit(field, Cow::Borrowed(text), max, policy)?;
        out.extend_from_slice(text.as_bytes());
    } else {
        let text = fit(field, clean_header(Cow::Borrowed(text)), max, policy)?;
        escape::push_escaped(out, &text, &escape::HEADER);
    }
    out.push(b'|');
    Ok(())
}

/// One event being written by [`HeaderTemplate::event`] into the caller's buffer: each
/// method appends its pair, cut, cleaned and escaped, with nothing allocated besides growing
/// the buffer. Methods chain like [`EventBuilder`](crate::EventBuilder)'s, and behave the
/// same: empty values are not written, and the first mistake is kept and returned by
/// [`EventWriter::finish`].
#[derive(Debug)]
#[must_use = "an EventWriter leaves nothing in the buffer unless finish() is called"]
pub struct EventWriter<'o> {
    out: &'o mut Vec<u8>,
    /// Where the event starts in `out`, which is cut back to it on error.
    start: usize,
    /// What the next pair starts with: the `|` that ends the header, written with the
    /// first pair (or by `finish` when there is none), then a space.
    separator: u8,
    length_policy: LengthPolicy,
    time_format: TimeFormat,
    /// The error `finish` returns; once set, nothing more is written. Boxed: errors are
    /// rare, and the writer moves through every method of a chain. Dropped by the writer's
    /// `drop`, out of line, rather than by the drop glue: the writer then has no field to
    /// drop, so the glue the compiler runs when a method unwinds is small enough to be
    /// inlined, and the writer is kept in registers through the chain instead of being
    /// copied in memory from method to method.
    error: ManuallyDrop<Option<Box<BuildError>>>,
    /// Whether `error` is a mistake in a method call, which the builder reports before a
    /// value its settings refuse, wherever that value came.
    error_is_mistake: bool,
    finished: bool,
}

impl Drop for EventWriter<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        if !self.finished {
            self.out.truncate(self.start);
        }
        if let Some(error) = self.error.take() {
            discard(error);
        }
    }
}

impl EventWriter<'_> {
    /// A string value, cut or refused past the key's limit.
    #[inline(always)]
    pub fn text(mut self, key: TextKey, value: &str) -> Self {
        self.add_text(key.def(), value);
        self
    }

    /// A 32-bit integer value.
    #[inline]
    pub fn int(mut self, key: IntKey, value: i32) -> Self {
        self.add_plain(key.def(), |out| digits::push_i64(out, value.into()));
        self
    }

    /// A port number.
    #[inline]
    pub fn port(mut self, key: PortKey, value: u16) -> Self {
        self.add_plain(key.def(), |out| digits::push_u64(out, value.into()));
        self
    }

    /// A 64-bit integer value.
    #[inline]
    pub fn long(mut self, key: LongKey, value: i64) -> Self {
        self.add_plain(key.def(), |out| digits::push_i64(out, value));
        self
    }

    /// A floating point value; NaN and infinities are refused.
    #[inline]
    pub fn float(mut self, key: FloatKey, value: f64) -> Self {
        if value.is_finite() {
            self.add_plain(key.def(), |out| digits::push_display(out, value));
        } else {
            self.mistake(BuildError::NotFinite(key.def().name()));
        }
        self
    }

    /// An IPv4 address.
    #[inline]
    pub fn ipv4(mut self, key: Ipv4Key, value: Ipv4Addr) -> Self {
        self.add_plain(key.def(), |out| digits::push_ipv4(out, value));
        self
    }

    /// An IPv6 address, in its canonical compressed form.
    #[inline]
    pub fn ipv6(mut self, key: Ipv6Key, value: Ipv6Addr) -> Self {
        self.add_plain(key.def(), |out| digits::push_display(out, value));
        self
    }

    /// A MAC address, as `00:0D:60:AF:1B:61`.
    #[inline]
    pub fn mac(mut self, key: MacKey, value: MacAddress) -> Self {
        self.add_plain(key.def(), |out| digits::push_mac(out, value.0));
        self
    }

    /// A timestamp, in the template's [`TimeFormat`].
    #[inline]
    pub fn time(mut self, key: TimeKey, value: OffsetDateTime) -> Self {
        self.add_time(key.def(), value);
        self
    }

    /// The label of a custom slot: `label(keys::CS1, "Firmware")` writes `cs1Label=Firmware`.
    /// Keys without a label slot are refused with [`BuildError::NoLabelSlot`].
    #[inline(always)]
    pub fn label(mut self, key: impl Key, label: &str) -> Self {
        match key.def().label() {
            Some(label_key) => self.add_text(label_key, label),
            None => self.mistake(BuildError::NoLabelSlot(key.def().name())),
        }
        self
    }

    /// A vendor key outside the dictionary, such as `PANWIoTProfile`. The key must match
    /// `[A-Za-z0-9_]+` and must not be a dictionary key; its value has no length limit.
    #[inline]
    pub fn vendor_field(mut self, key: &str, value: &str) -> Self {
        self.add_vendor_field(key, value);
        self
    }

    /// Ends the event. On error `out` is cut back to where the event started, and the error
    /// is the one [`EventBuilder::build`](crate::EventBuilder::build) returns for the same
    /// fields: the first mistake in a method call, else an overlong signature ID or name,
    /// else the first pair the template's settings refuse.
    #[inline]
    pub fn finish(mut self) -> Result<(), BuildError> {
        match self.error.take() {
            None => {
                if self.separator == b'|' {
                    self.out.push(b'|');
                }
                self.finished = true;
                Ok(())
            }
            // Dropping `self` cuts `out` back.
            Some(error) => Err(*error),
        }
    }

    /// Keeps a method-call mistake, unless one was kept already.
    #[inline(always)]
    fn mistake(&mut self, error: BuildError) {
        if !self.error_is_mistake {
            if let Some(refusal) = self.error.replace(boxed(error)) {
                discard(refusal);
            }
            self.error_is_mistake = true;
        }
    }

    /// Keeps a value the settings refuse, unless an error was kept already.
    #[inline(always)]
    fn refuse(&mut self, error: BuildError) {
        if self.error.is_none() {
            *self.error = Some(boxed(error));
        }
    }

    /// Starts a pair with the separator and a dictionary key's `key=`.
    #[inline(always)]
    fn dictionary_key(&mut self, def: &KeyDef) {
        def.push_pair_prefix_after(self.out, self.separator);
        self.separator = b' ';
    }

    /// Adds a text pair. Inlined for the common pair, a short value within its limit with
    /// nothing to escape: the key is a constant then, so its limit and text are too. The
    /// writer is only ever passed by value to what is not inlined, so it stays in registers.
    #[inline(always)]
    fn add_text(&mut self, def: &'static KeyDef, text: &str) {
        if self.error.is_some() {
            return;
        }
        let mut value = [0u8; escape::SHORT];
        if !text.is_empty()
            && text.len() <= def.max_chars()
            && escape::plain_short_value(text, &mut value)
        {
            self.dictionary_key(def);
            block::push_block(self.out, &value, text.len());
            return;
        }
        match push_text_pair(self.out, self.separator, def, text, self.length_policy) {
            Ok(true) => self.separator = b' ',
            Ok(false) => {}
            Err(error) => self.refuse(error),
        }
    }

    /// Adds a pair whose value `write` writes, with nothing to escape.
    #[inline(always)]
    fn add_plain(&mut self, def: &'static KeyDef, write: impl FnOnce(&mut Vec<u8>)) {
        if self.error.is_none() {
            self.dictionary_key(def);
            write(self.out);
        }
    }

    #[inline(always)]
    fn add_time(&mut self, def: &'static KeyDef, value: OffsetDateTime) {
        if self.error.is_some() {
            return;
        }
        match self.time_format {
            TimeFormat::EpochMillis => {
                self.dictionary_key(def);
                digits::push_i64(self.out, epoch_millis(value));
            }
            TimeFormat::Text if fits_text_form(value) => {
                self.dictionary_key(def);
                // The year fits, so the text form is written.
                let _ = write_timestamp(self.out, value, TimeFormat::Text);
            }
            TimeFormat::Text => self.refuse(BuildError::TimeOutOfRange(def.name())),
        }
    }

    #[inline(always)]
    fn add_vendor_field(&mut self, key: &str, value: &str) {
        if let Some(error) = vendor_key_error(key) {
            self.mistake(error);
        } else if !value.is_empty() && self.error.is_none() {
            push_vendor_pair(self.out, self.separator, key, value);
            self.separator = b' ';
        }
    }
}

/// Drops an error that was not returned, out of the way of the writer's `drop`.
#[cold]
#[inline(never)]
fn discard(error: Box<BuildError>) {
    drop(error);
}

/// `error` boxed, out of the way of the code that rarely makes one.
#[cold]
#[inline(never)]
fn boxed(error: BuildError) -> Box<BuildError> {
    Box::new(error)
}

/// Appends a text pair after `separator`, its value cut to the key's limit (or refused, as
/// `policy` says), cleaned and escaped; returns whether a pair was written (an empty value
/// is not).
#[inline(never)]
fn push_text_pair(
    out: &mut Vec<u8>,
    separator: u8,
    def: &'static KeyDef,
    text: &str,
    policy: LengthPolicy,
) -> Result<bool, BuildError> {
    if text.is_empty() {
        return Ok(false);
    }
    let max = def.max_chars();
    // A string of at most `max` bytes has at most `max` characters.
    let text = if text.len() > max {
        cut(def.name(), text, max, policy)?
    } else {
        text
    };
    def.push_pair_prefix_after(out, separator);
    escape::push_value(out, text);
    Ok(true)
}

/// `text` cut to `max` characters on a character boundary, or refused, as `policy` says.
fn cut<'t>(
    field: &'static str,
    text: &'t str,
    max: usize,
    policy: LengthPolicy,
) -> Result<&'t str, BuildError> {
    let Some((cut, _)) = text.char_indices().nth(max) else {
        return Ok(text);
    };
    match policy {
        LengthPolicy::Truncate => Ok(text.get(..cut).unwrap_or(text)),
        LengthPolicy::Reject => Err(BuildError::TooLong {
            field,
            chars: text.chars().count(),
            max,
        }),
    }
}

/// Why `key` cannot be a vendor key, if it cannot.
#[inline(never)]
fn vendor_key_error(key: &str) -> Option<BuildError> {
    if !crate::keys::is_valid_key_name(key) {
        Some(BuildError::InvalidVendorKey(key.to_owned()))
    } else if crate::keys::lookup(key).is_some() {
        Some(BuildError::DictionaryKeyAsVendorKey(key.to_owned()))
    } else {
        None
    }
}

/// Appends a vendor pair after `separator`: the key as it is (it was validated), the value
/// cleaned and escaped.
#[inline(never)]
fn push_vendor_pair(out: &mut Vec<u8>, separator: u8, key: &str, value: &str) {
    out.push(separator);
    out.extend_from_slice(key.as_bytes());
    out.push(b'=');
    escape::push_value(out, value);
}

/// The instant in whole milliseconds since the Unix epoch, rounded down (before the epoch
/// too: whole seconds round down and the millisecond is never negative).
#[inline]
fn epoch_millis(at: OffsetDateTime) -> i64 {
    at.unix_timestamp() * 1000 + i64::from(at.millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys;

    fn template(policy: LengthPolicy) -> HeaderTemplate {
        let options = TemplateOptions::default()
            .cef_version(CefVersion::V1)
            .length_policy(policy);
        HeaderTemplate::with_options("V|x", "P\r\nQ", "1.0", options).unwrap()
    }

    #[test]
    fn the_shared_header_is_cleaned_and_escaped_once() {
        assert_eq!(
            template(LengthPolicy::Truncate).header_text(),
            r"CEF:1|V\|x|P Q|1.0|"
        );
        assert_eq!(
            HeaderTemplate::with_options(
                "v".repeat(64).as_str(),
                "P",
                "1",
                TemplateOptions::default().length_policy(LengthPolicy::Reject)
            ),
            Err(BuildError::TooLong {
                field: "vendor",
                chars: 64,
                max: 63
            })
        );
    }

    #[test]
    fn an_unfinished_or_refused_event_leaves_the_buffer_as_it_was() {
        let mut out = b"kept".to_vec();
        drop(
            template(LengthPolicy::Truncate)
                .event(&mut out, "id", "n", Severity::LOW)
                .text(keys::MSG, "dropped"),
        );
        assert_eq!(out, b"kept");
        let refused = template(LengthPolicy::Reject)
            .event(&mut out, "id", "n", Severity::LOW)
            .text(keys::EXTERNAL_ID, &"x".repeat(41))
            .float(keys::CFP1, f64::INFINITY)
            .finish();
        // The mistake in a method call wins over the earlier value that is too long.
        assert_eq!(refused, Err(BuildError::NotFinite("cfp1")));
        assert_eq!(out, b"kept");
    }

    #[test]
    fn the_template_settings_apply_to_every_pair() {
        let mut out = Vec::new();
        let text_times = HeaderTemplate::with_options(
            "V",
            "P",
            "1",
            TemplateOptions::default().time_format(TimeFormat::Text),
        )
        .unwrap();
        text_times
            .event(&mut out, "id", "n", Severity::LOW)
            .text(keys::EXTERNAL_ID, &"é".repeat(41))
            .time(
                keys::RT,
                time::macros::datetime!(2023-11-14 22:13:20.123 UTC),
            )
            .finish()
            .unwrap();
        let expected = format!(
            "CEF:0|V|P|1|id|n|Low|externalId={} rt=Nov 14 2023 22:13:20.123 UTC",
            "é".repeat(40)
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
        let ancient = time::macros::datetime!(0000-06-01 00:00 UTC);
        let mut out = Vec::new();
        let refused = text_times
            .event(&mut out, "id", "n", Severity::LOW)
            .time(keys::END, ancient)
            .finish();
        assert_eq!(refused, Err(BuildError::TimeOutOfRange("end")));
        assert!(out.is_empty());
    }
}
