//! CEF mapping of IoT Security records, in two profiles.
//!
//! - [`Profile::Panw`] keeps what SIEM parsers built for the old XSOAR converter match on:
//!   its header (`PaloAltoNetworks|PANWIOT|1.0`, signature ids `asset`, `vulnerability`,
//!   `PaloAltoNetworks Alert:policy_alert`), its severities, its extension keys and labels
//!   (`cs1`..`cs44`), but escapes every value, writes values as plain text, never writes a
//!   malformed header and, unless asked, leaves out the stray `INFO:siem-syslog:` prefix.
//! - [`Profile::Strict`] writes only keys of the CEF dictionary; the fields it has no key
//!   for go into `msg` as `name=value` pairs.
//!
//! Whatever the profile, a device carries its `deviceid` in `deviceExternalId` and an
//! alert or vulnerability its `zb_ticketid` in `externalId`. `docs/cef-mapping.md`
//! documents every field.

mod panw;
mod strict;
mod value;

use std::sync::LazyLock;

use cef_codec::{BuildError, EventWriter, HeaderTemplate, Severity, keys};
use iot_security_api::{Alert, Device, Vulnerability};
use serde::{Deserialize, Serialize};

/// Which CEF layout to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// The old converter's keys and labels, written correctly.
    #[default]
    Panw,
    /// Only CEF dictionary keys; the rest in `msg`.
    Strict,
}

/// How records are mapped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MappingOptions {
    /// The layout.
    pub profile: Profile,
    /// Start device and vulnerability lines with `INFO:siem-syslog:` as the old converter
    /// did (profile `panw` only), for parsers that match on it.
    pub legacy_prefix: bool,
}

/// The prefix the old converter's Python logger put before device and vulnerability lines.
pub const LEGACY_PREFIX: &str = "INFO:siem-syslog:";

/// A record could not be written as CEF (the codec refused a value).
#[derive(Debug, thiserror::Error)]
#[error("cannot write {kind} {id} as CEF: {source}")]
pub struct MappingError {
    kind: &'static str,
    id: String,
    #[source]
    source: BuildError,
}

/// Maps records to CEF lines (without line endings), appending to a buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mapper {
    options: MappingOptions,
}

impl Mapper {
    /// A mapper with `options`.
    pub fn new(options: MappingOptions) -> Self {
        Self { options }
    }

    /// Appends the CEF line of `device` to `out`.
    pub fn device(&self, device: &Device, out: &mut Vec<u8>) -> Result<(), MappingError> {
        let id = device.deviceid.as_deref();
        self.write("device", id, true, out, |template, out| {
            match self.options.profile {
                Profile::Panw => panw::device(template, device, out),
                Profile::Strict => strict::device(template, device, out),
            }
        })
    }

    /// Appends the CEF line of `alert` to `out`.
    pub fn alert(&self, alert: &Alert, out: &mut Vec<u8>) -> Result<(), MappingError> {
        let id = alert.zb_ticketid.as_deref();
        self.write("alert", id, false, out, |template, out| {
            match self.options.profile {
                Profile::Panw => panw::alert(template, alert, out),
                Profile::Strict => strict::alert(template, alert, out),
            }
        })
    }

    /// Appends the CEF line of `vulnerability` to `out`.
    pub fn vulnerability(
        &self,
        vulnerability: &Vulnerability,
        out: &mut Vec<u8>,
    ) -> Result<(), MappingError> {
        let id = vulnerability.zb_ticketid.as_deref();
        self.write("vulnerability", id, true, out, |template, out| {
            match self.options.profile {
                Profile::Panw => panw::vulnerability(template, vulnerability, out),
                Profile::Strict => strict::vulnerability(template, vulnerability, out),
            }
        })
    }

    /// Writes one event with the shared header template straight into `out` (cef-codec's
    /// fastest path: nothing allocated but the buffer's growth); on error `out` is left
    /// as it was.
    fn write(
        &self,
        kind: &'static str,
        id: Option<&str>,
        prefixed_in_legacy: bool,
        out: &mut Vec<u8>,
        encode: impl FnOnce(&HeaderTemplate, &mut Vec<u8>) -> Result<(), BuildError>,
    ) -> Result<(), MappingError> {
        let start = out.len();
        let written = match &*HEADER {
            Ok(template) => {
                if self.options.legacy_prefix
                    && prefixed_in_legacy
                    && self.options.profile == Profile::Panw
                {
                    out.extend_from_slice(LEGACY_PREFIX.as_bytes());
                }
                encode(template, out)
            }
            Err(error) => Err(error.clone()),
        };
        written.map_err(|source| {
            out.truncate(start);
            MappingError {
                kind,
                id: id.unwrap_or("(without id)").to_owned(),
                source,
            }
        })
    }
}

/// The test event `test-connection` sends, byte for byte.
pub const TEST_CONNECTION_EVENT: &str =
    "CEF:0|PaloAltoNetworks|PANWIOT|1.0|Test Connection|Test Connection|1|";

/// Vendor, product and version of every record, checked and escaped once. Only
/// [`cef_codec::LengthPolicy::Reject`] can refuse a template, so this is always `Ok`; an
/// error would be returned for each record, never a panic.
static HEADER: LazyLock<Result<HeaderTemplate, BuildError>> =
    LazyLock::new(|| HeaderTemplate::new("PaloAltoNetworks", "PANWIOT", "1.0"));

/// Signature id of device records.
const DEVICE_SIGNATURE: &str = "asset";
/// Name of device records.
const DEVICE_NAME: &str = "Asset Identification";
/// Signature id of alert records.
const ALERT_SIGNATURE: &str = "PaloAltoNetworks Alert:policy_alert";
/// Name of an alert without a name.
const ALERT_FALLBACK_NAME: &str = "Alert";
/// Signature id of vulnerability records.
const VULNERABILITY_SIGNATURE: &str = "vulnerability";
/// Name of a vulnerability without a name.
const VULNERABILITY_FALLBACK_NAME: &str = "Vulnerability";

/// The alert's severity: `severityNumber` (0 to 10), else its `severity` word
/// (`critical` 10, `high` 8, `medium` 5, `low` 3, `info` 1), else Unknown.
fn alert_severity(alert: &Alert) -> Severity {
    if let Some(level) = alert
        .severity_number
        .and_then(|n| u8::try_from(n.clamp(0, 10)).ok())
        .and_then(|n| Severity::new(n).ok())
    {
        return level;
    }
    let level = match alert
        .severity
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("critical") => 10,
        Some("high") => 8,
        Some("medium") => 5,
        Some("low") => 3,
        Some("info") => 1,
        _ => return Severity::UNKNOWN,
    };
    Severity::new(level).unwrap_or(Severity::UNKNOWN)
}

/// The old converter's vulnerability severity: Critical 10, High 6, Medium 3, Low 1 and 1
/// for anything else (also when `risk_level` is absent, where the old one broke the header).
fn vulnerability_severity(vulnerability: &Vulnerability) -> Severity {
    let level = match vulnerability
        .risk_level
        .as_deref()
        .map(|level| level.trim().to_ascii_lowercase())
        .as_deref()
    {
        Some("critical") => 10,
        Some("high") => 6,
        Some("medium") => 3,
        _ => 1,
    };
    Severity::new(level).unwrap_or(Severity::UNKNOWN)
}

/// The identity keys every profile writes first.
fn device_identity<'o>(event: EventWriter<'o>, device: &Device) -> EventWriter<'o> {
    match device.deviceid.as_deref() {
        Some(id) => event.text(keys::DEVICE_EXTERNAL_ID, id),
        None => event,
    }
}

fn ticket_identity<'o>(event: EventWriter<'o>, ticket: Option<&str>) -> EventWriter<'o> {
    match ticket {
        Some(id) => event.text(keys::EXTERNAL_ID, id),
        None => event,
    }
}

#[cfg(test)]
mod tests;
