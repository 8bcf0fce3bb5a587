//! The serializer: turns a payload into one RFC 5424 or RFC 3164 syslog message.
//!
//! Formatting knows nothing about sockets or framing; see [`crate::frame`] for that.

use std::fmt;

use serde::Deserialize;
use time::{OffsetDateTime, UtcOffset};

/// Syslog facility (RFC 5424 §6.2.1), 0 to 23.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)] // the variants are the RFC's own names
pub enum Facility {
    Kern = 0,
    #[default]
    User = 1,
    Mail = 2,
    Daemon = 3,
    Auth = 4,
    Syslog = 5,
    Lpr = 6,
    News = 7,
    Uucp = 8,
    Cron = 9,
    Authpriv = 10,
    Ftp = 11,
    Ntp = 12,
    #[serde(alias = "security")]
    Audit = 13,
    #[serde(alias = "console")]
    Alert = 14,
    Clock = 15,
    Local0 = 16,
    Local1 = 17,
    Local2 = 18,
    Local3 = 19,
    Local4 = 20,
    Local5 = 21,
    Local6 = 22,
    Local7 = 23,
}

/// Syslog severity (RFC 5424 §6.2.1), 0 (emergency) to 7 (debug).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)] // the variants are the RFC's own names
pub enum Severity {
    #[serde(alias = "emerg")]
    Emergency = 0,
    Alert = 1,
    #[serde(alias = "crit")]
    Critical = 2,
    #[serde(alias = "err")]
    Error = 3,
    #[serde(alias = "warn")]
    Warning = 4,
    Notice = 5,
    #[default]
    #[serde(alias = "info")]
    Informational = 6,
    Debug = 7,
}

/// The PRI value (`facility * 8 + severity`, 0 to 191).
pub fn priority(facility: Facility, severity: Severity) -> u8 {
    (facility as u8) * 8 + severity as u8
}

/// Which syslog message format to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyslogFormat {
    /// RFC 5424: `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    #[default]
    Rfc5424,
    /// RFC 3164 (BSD): `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`.
    Rfc3164,
}

/// What goes into each message's header. Deserializes from flat keys
/// (`format`, `facility`, `severity`, `hostname`, `app_name`, `procid`, `msgid`, `bom`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct FormatConfig {
    /// RFC 5424 (default) or RFC 3164.
    pub format: SyslogFormat,
    /// Facility of every message (default `user`).
    pub facility: Facility,
    /// Severity when a record does not bring its own (default `informational`).
    pub severity: Severity,
    /// HOSTNAME field; `None` writes the nil value `-`. The library never looks the
    /// machine's name up itself: the caller passes it.
    pub hostname: Option<String>,
    /// APP-NAME (RFC 5424) or TAG (RFC 3164); default `siembridge`.
    pub app_name: Option<String>,
    /// PROCID (the `[pid]` of RFC 3164); `None` writes `-` (RFC 5424) or nothing (RFC 3164).
    pub procid: Option<String>,
    /// MSGID (RFC 5424 only); `None` writes `-`.
    pub msgid: Option<String>,
    /// Write the UTF-8 BOM before MSG (RFC 5424 only). Off by default: many CEF parsers
    /// choke on a BOM before `CEF:`.
    pub bom: bool,
}

impl Default for FormatConfig {
    fn default() -> Self {
        Self {
            format: SyslogFormat::Rfc5424,
            facility: Facility::User,
            severity: Severity::Informational,
            hostname: None,
            app_name: Some("siembridge".to_owned()),
            procid: None,
            msgid: None,
            bom: false,
        }
    }
}

/// A header field or structured-data name that breaks the RFC's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A header field is longer than the RFC allows.
    #[error("syslog {field} is {len} bytes long, the limit is {max}")]
    FieldTooLong {
        /// Which field (`hostname`, `app_name`, `procid`, `msgid`, `sd_id`, `sd_param_name`).
        field: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The RFC's limit.
        max: usize,
    },
    /// A header field holds a byte outside printable US-ASCII (33..=126) or a character
    /// the field may not hold.
    #[error("syslog {field} {value:?} holds {byte:?}, which that field may not contain")]
    InvalidCharacter {
        /// Which field.
        field: &'static str,
        /// The whole value, for the operator to find it.
        value: String,
        /// The offending character.
        byte: char,
    },
    /// A header field is empty (write `None` to get the nil value instead).
    #[error("syslog {field} is empty; leave it out to send the nil value")]
    EmptyField {
        /// Which field.
        field: &'static str,
    },
    /// The timestamp's year cannot be written in RFC 3339 (0000 to 9999).
    #[error("timestamp year {year} cannot be written as RFC 3339")]
    TimestampOutOfRange {
        /// The year.
        year: i32,
    },
}

fn check_field(
    field: &'static str,
    value: &str,
    max: usize,
    forbidden: &[u8],
) -> Result<(), FormatError> {
    if value.is_empty() {
        return Err(FormatError::EmptyField { field });
    }
    if value.len() > max {
        return Err(FormatError::FieldTooLong {
            field,
            len: value.len(),
            max,
        });
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !matches!(*c as u32, 33..=126) || forbidden.contains(&(*c as u8)))
    {
        return Err(FormatError::InvalidCharacter {
            field,
            value: value.to_owned(),
            byte: bad,
        });
    }
    Ok(())
}

/// An RFC 5424 SD-NAME (an SD-ID or a PARAM-NAME): 1 to 32 printable US-ASCII
/// characters except `=`, space, `]` and `"`.
fn check_sd_name(field: &'static str, name: &str) -> Result<(), FormatError> {
    check_field(field, name, 32, b"= ]\"")
}

/// One RFC 5424 SD-ELEMENT: `[id name="value" ...]`, validated when built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdElement {
    id: String,
    params: Vec<(String, String)>,
}

impl SdElement {
    /// A new element; `id` is an IANA SD-ID (`origin`, `meta`, `timeQuality`) or
    /// `name@PEN`.
    pub fn new(id: &str) -> Result<Self, FormatError> {
        check_sd_name("sd_id", id)?;
        Ok(Self {
            id: id.to_owned(),
            params: Vec::new(),
        })
    }

    /// Adds a parameter. The name is validated; the value may hold anything (it is
    /// escaped when written: `"`, `\` and `]` get a backslash).
    pub fn param(mut self, name: &str, value: &str) -> Result<Self, FormatError> {
        check_sd_name("sd_param_name", name)?;
        self.params.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(b'[');
        out.extend_from_slice(self.id.as_bytes());
        for (name, value) in &self.params {
            out.push(b' ');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"=\"");
            for &b in value.as_bytes() {
                if matches!(b, b'"' | b'\\' | b']') {
                    out.push(b'\\');
                }
                out.push(b);
            }
            out.push(b'"');
        }
        out.push(b']');
    }
}

/// RFC 5424 STRUCTURED-DATA: zero or more elements (none writes the nil value `-`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StructuredData {
    elements: Vec<SdElement>,
}

impl StructuredData {
    /// Structured data with these elements.
    pub fn new(elements: Vec<SdElement>) -> Self {
        Self { elements }
    }

    fn write(&self, out: &mut Vec<u8>) {
        if self.elements.is_empty() {
            out.push(b'-');
        }
        for element in &self.elements {
            element.write(out);
        }
    }
}

/// A validated formatter: checks the header fields once, then writes messages fast.
#[derive(Debug, Clone)]
pub struct Formatter {
    format: SyslogFormat,
    facility: Facility,
    severity: Severity,
    /// `<PRI>1 ` (RFC 5424) or `<PRI>` (RFC 3164) for the configured severity.
    prefix: Vec<u8>,
    /// RFC 5424: ` HOST APP PROCID MSGID SD ` (+ BOM); RFC 3164: ` HOST TAG[PID]: `.
    after_timestamp: Vec<u8>,
    /// Only for RFC 5424: the part after the header that precedes STRUCTURED-DATA.
    before_sd: usize,
    bom: bool,
}

/// One record with its own values for what the configuration otherwise fixes.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The message body: a CEF line, JSON, any bytes.
    pub payload: &'a [u8],
    /// When the record happened (RFC 5424 writes it as UTC with microseconds; RFC 3164
    /// writes it in the offset it carries).
    pub timestamp: OffsetDateTime,
    /// Overrides the configured severity.
    pub severity: Option<Severity>,
    /// Replaces the configured (nil) structured data (RFC 5424 only).
    pub structured_data: Option<&'a StructuredData>,
}

impl Formatter {
    /// Validates `config` (field lengths and characters per the RFC) and builds the
    /// formatter.
    pub fn new(config: &FormatConfig) -> Result<Self, FormatError> {
        Self::with_structured_data(config, &StructuredData::default())
    }

    /// Like [`Formatter::new`], with structured data written into every RFC 5424
    /// message (ignored by RFC 3164).
    pub fn with_structured_data(
        config: &FormatConfig,
        sd: &StructuredData,
    ) -> Result<Self, FormatError> {
        let mut after = Vec::with_capacity(64);
        let before_sd;
        let nil = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        match config.format {
            SyslogFormat::Rfc5424 => {
                for (field, value, max) in [
                    ("hostname", &config.hostname, 255),
                    ("app_name", &config.app_name, 48),
                    ("procid", &config.procid, 128),
                    ("msgid", &config.msgid, 32),
                ] {
                    if let Some(v) = value {
                        check_field(field, v, max, b"")?;
                    }
                }
                for part in [
                    nil(&config.hostname),
                    nil(&config.app_name),
                    nil(&config.procid),
                    nil(&config.msgid),
                ] {
                    after.push(b' ');
                    after.extend_from_slice(part.as_bytes());
                }
                after.push(b' ');
                before_sd = after.len();
                sd.write(&mut after);
                after.push(b' ');
                if config.bom {
                    after.extend_from_slice(b"\xEF\xBB\xBF");
                }
            }
            SyslogFormat::Rfc3164 => {
                if let Some(host) = &config.hostname {
                    check_field("hostname", host, 255, b"")?;
                }
                // The TAG ends at the first non-alphanumeric character for strict
                // parsers, so `[`, `:` and space may not appear inside it.
                let tag = config.app_name.as_deref().unwrap_or("siembridge");
                check_field("app_name", tag, 32, b"[]:")?;
                after.push(b' ');
                after.extend_from_slice(nil(&config.hostname).as_bytes());
                after.push(b' ');
                after.extend_from_slice(tag.as_bytes());
                if let Some(pid) = &config.procid {
                    check_field("procid", pid, 128, b"[]:")?;
                    after.push(b'[');
                    after.extend_from_slice(pid.as_bytes());
                    after.push(b']');
                }
                after.extend_from_slice(b": ");
                before_sd = after.len();
            }
        }
        let mut prefix = Vec::with_capacity(8);
        prefix.push(b'<');
        push_decimal(
            &mut prefix,
            u32::from(priority(config.facility, config.severity)),
        );
        prefix.push(b'>');
        if config.format == SyslogFormat::Rfc5424 {
            prefix.extend_from_slice(b"1 ");
        }
        Ok(Self {
            format: config.format,
            facility: config.facility,
            severity: config.severity,
            prefix,
            after_timestamp: after,
            before_sd,
            bom: config.bom,
        })
    }

    /// The format this formatter writes.
    pub fn format(&self) -> SyslogFormat {
        self.format
    }

    /// Appends one message for `payload`, stamped `timestamp`, to `out`.
    pub fn write(
        &self,
        payload: &[u8],
        timestamp: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        self.write_header(self.severity, timestamp, out)?;
        out.extend_from_slice(&self.after_timestamp);
        out.extend_from_slice(payload);
        Ok(())
    }

    /// Appends one message for `record` to `out`, honouring its overrides.
    pub fn write_record(&self, record: &Record<'_>, out: &mut Vec<u8>) -> Result<(), FormatError> {
        let severity = record.severity.unwrap_or(self.severity);
        self.write_header(severity, record.timestamp, out)?;
        match (self.format, record.structured_data) {
            (SyslogFormat::Rfc5424, Some(sd)) => {
                out.extend_from_slice(&self.after_timestamp[..self.before_sd]);
                sd.write(out);
                out.push(b' ');
                if self.bom {
                    out.extend_from_slice(b"\xEF\xBB\xBF");
                }
            }
            _ => out.extend_from_slice(&self.after_timestamp),
        }
        out.extend_from_slice(record.payload);
        Ok(())
    }

    /// The header before the timestamp, for the configured severity.
    pub(crate) fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    /// The header after the timestamp, up to the payload.
    pub(crate) fn after_timestamp(&self) -> &[u8] {
        &self.after_timestamp
    }

    /// Writes just the timestamp, in this format's shape.
    pub(crate) fn write_timestamp(
        &self,
        timestamp: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        match self.format {
            SyslogFormat::Rfc5424 => write_rfc3339_micros(timestamp, out),
            SyslogFormat::Rfc3164 => {
                write_bsd_timestamp(timestamp, out);
                Ok(())
            }
        }
    }

    fn write_header(
        &self,
        severity: Severity,
        timestamp: OffsetDateTime,
        out: &mut Vec<u8>,
    ) -> Result<(), FormatError> {
        out.push(b'<');
        push_decimal(out, u32::from(priority(self.facility, severity)));
        out.push(b'>');
        match self.format {
            SyslogFormat::Rfc5424 => {
                out.extend_from_slice(b"1 ");
                write_rfc3339_micros(timestamp, out)
            }
            SyslogFormat::Rfc3164 => {
                write_bsd_timestamp(timestamp, out);
                Ok(())
            }
        }
    }
}

impl fmt::Display for SyslogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rfc5424 => "rfc5424",
            Self::Rfc3164 => "rfc3164",
        })
    }
}

/// Appends `value` in decimal without allocating.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut value: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        // `value % 10` is below 10, so it always fits a u8.
        digits[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_two(out: &mut Vec<u8>, value: u8) {
    out.push(b'0' + value / 10);
    out.push(b'0' + value % 10);
}

/// `YYYY-MM-DDThh:mm:ss.ffffffZ`, always in UTC.
fn write_rfc3339_micros(timestamp: OffsetDateTime, out: &mut Vec<u8>) -> Result<(), FormatError> {
    let utc = timestamp.to_offset(UtcOffset::UTC);
    let year = utc.year();
    let Ok(year4) = u32::try_from(year) else {
        return Err(FormatError::TimestampOutOfRange { year });
    };
    if year4 > 9999 {
        return Err(FormatError::TimestampOutOfRange { year });
    }
    let start = out.len();
    out.extend_from_slice(b"0000");
    let mut y = year4;
    for slot in out[start..start + 4].iter_mut().rev() {
        // `y % 10` is below 10.
        *slot = b'0' + (y % 10) as u8;
        y /= 10;
    }
    out.push(b'-');
    push_two(out, u8::from(utc.month()));
    out.push(b'-');
    push_two(out, utc.day());
    out.push(b'T');
    push_two(out, utc.hour());
    out.push(b':');
    push_two(out, utc.minute());
    out.push(b':');
    push_two(out, utc.second());
    out.push(b'.');
    let micros = utc.microsecond();
    let start = out.len();
    out.extend_from_slice(b"000000");
    let mut m = micros;
    for slot in out[start..].iter_mut().rev() {
        // `m % 10` is below 10.
        *slot = b'0' + (m % 10) as u8;
        m /= 10;
    }
    out.push(b'Z');
    Ok(())
}

/// `Mmm dd hh:mm:ss` with a space-padded day, in the timestamp's own offset.
fn write_bsd_timestamp(timestamp: OffsetDateTime, out: &mut Vec<u8>) {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let month = MONTHS[usize::from(u8::from(timestamp.month()) - 1)];
    out.extend_from_slice(month);
    out.push(b' ');
    let day = timestamp.day();
    if day < 10 {
        out.push(b' ');
        out.push(b'0' + day);
    } else {
        push_two(out, day);
    }
    out.push(b' ');
    push_two(out, timestamp.hour());
    out.push(b':');
    push_two(out, timestamp.minute());
    out.push(b':');
    push_two(out, timestamp.second());
}
