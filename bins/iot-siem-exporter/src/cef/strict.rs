//! Profile `strict`: only keys of the CEF dictionary. The fields that have a key are
//! listed in the tables below; every other non-empty field of the record goes into `msg`
//! as `name=value` pairs in the record's order, separated by `; ` (the codec cuts `msg` at
//! its 1023 characters).

use std::borrow::Cow;

use cef_codec::keys::{self, LongKey, TextKey, TimeKey};
use cef_codec::{BuildError, EventWriter, HeaderTemplate, Severity};
use iot_security_api::{Alert, Device, FieldRef, Vulnerability};
use serde_json::Value;

use super::value::{self, Leftovers};

/// Where one source field goes.
#[derive(Clone, Copy)]
enum Slot {
    Text(TextKey),
    Labelled(TextKey, &'static str),
    Number(LongKey, &'static str),
    Time(TimeKey),
    LabelledTime(TimeKey, &'static str),
    Address,
    Mac,
}

const DEVICE: &[(&str, Slot)] = &[
    ("deviceid", Slot::Text(keys::DEVICE_EXTERNAL_ID)),
    ("ip_address", Slot::Address),
    ("mac_address", Slot::Mac),
    ("hostname", Slot::Text(keys::DVCHOST)),
    ("last_activity", Slot::Time(keys::RT)),
    ("profile", Slot::Labelled(keys::CS1, "Profile")),
    ("category", Slot::Labelled(keys::CS2, "Category")),
    ("profile_type", Slot::Labelled(keys::CS3, "ProfileType")),
    ("vendor", Slot::Labelled(keys::CS4, "Vendor")),
    ("model", Slot::Labelled(keys::CS5, "Model")),
    ("os_combined", Slot::Labelled(keys::CS6, "OsCombined")),
    ("risk_score", Slot::Number(keys::CN1, "RiskScore")),
    (
        "confidence_score",
        Slot::Number(keys::CN2, "ConfidenceScore"),
    ),
    (
        "number_of_critical_alerts",
        Slot::Number(keys::CN3, "NumCriticalAlerts"),
    ),
    (
        "risk_level",
        Slot::Labelled(keys::FLEX_STRING1, "RiskLevel"),
    ),
    ("site_name", Slot::Labelled(keys::FLEX_STRING2, "Site")),
    (
        "first_seen_date",
        Slot::LabelledTime(keys::DEVICE_CUSTOM_DATE1, "FirstSeenDate"),
    ),
];

const ALERT: &[(&str, Slot)] = &[
    ("zb_ticketid", Slot::Text(keys::EXTERNAL_ID)),
    ("deviceid", Slot::Mac),
    ("date", Slot::Time(keys::RT)),
    ("description", Slot::Labelled(keys::CS1, "Description")),
    ("category", Slot::Labelled(keys::CS3, "Category")),
    ("profile", Slot::Labelled(keys::CS4, "Profile")),
    ("siteName", Slot::Labelled(keys::CS5, "Site")),
    ("resolved", Slot::Labelled(keys::CS6, "Resolved")),
    ("type", Slot::Text(keys::CAT)),
    ("hostname", Slot::Text(keys::DVCHOST)),
];

/// Fields of an alert's `msg`.
const ALERT_MSG: &[(&str, Slot)] = &[
    ("fromip", Slot::Address),
    ("toip", Slot::Address),
    ("hostname", Slot::Text(keys::SHOST)),
    ("toURL", Slot::Text(keys::DHOST)),
    ("id", Slot::Text(keys::FILE_ID)),
    (
        "generationTimestamp",
        Slot::LabelledTime(keys::DEVICE_CUSTOM_DATE1, "GenerationTime"),
    ),
    ("values", Slot::Labelled(keys::CS2, "Values")),
];

const VULNERABILITY: &[(&str, Slot)] = &[
    ("zb_ticketid", Slot::Text(keys::EXTERNAL_ID)),
    ("deviceid", Slot::Mac),
    ("ip", Slot::Address),
    ("name", Slot::Text(keys::DVCHOST)),
    ("date", Slot::Time(keys::RT)),
    ("profile", Slot::Labelled(keys::CS1, "Profile")),
    (
        "display_profile_category",
        Slot::Labelled(keys::CS2, "Category"),
    ),
    (
        "profile_vertical",
        Slot::Labelled(keys::CS3, "ProfileVertical"),
    ),
    ("vendor", Slot::Labelled(keys::CS4, "Vendor")),
    ("model", Slot::Labelled(keys::CS5, "Model")),
    (
        "remediate_instruction",
        Slot::Labelled(keys::CS6, "RemediateInstructions"),
    ),
    ("risk_score", Slot::Number(keys::CN1, "RiskScore")),
    (
        "confidence_score",
        Slot::Number(keys::CN2, "ConfidenceScore"),
    ),
    (
        "risk_level",
        Slot::Labelled(keys::FLEX_STRING1, "RiskLevel"),
    ),
    (
        "ticketState",
        Slot::Labelled(keys::FLEX_STRING2, "TicketState"),
    ),
    (
        "detected_date",
        Slot::LabelledTime(keys::DEVICE_CUSTOM_DATE1, "DetectionDate"),
    ),
    (
        "first_seen_date",
        Slot::LabelledTime(keys::DEVICE_CUSTOM_DATE2, "FirstSeenDate"),
    ),
];

/// Writes `field` into `slot`.
fn put<'a, 'o>(
    event: EventWriter<'o>,
    name: &'a str,
    slot: Slot,
    field: FieldRef<'a>,
    leftovers: &mut Leftovers<'a>,
) -> EventWriter<'o> {
    let text = value::plain(field);
    match slot {
        Slot::Text(key) => event.text(key, &text),
        Slot::Labelled(key, label) if !text.is_empty() => event.label(key, label).text(key, &text),
        Slot::Labelled(..) => event,
        Slot::Number(key, label) => match number(field) {
            Some(n) => event.label(key, label).long(key, n),
            None => {
                leftovers.push(name, text);
                event
            }
        },
        Slot::Time(key) => value::time(event, key, name, field, leftovers),
        Slot::LabelledTime(key, label) => {
            let before = leftovers.len();
            let event = value::time(event, key, name, field, leftovers);
            if leftovers.len() == before {
                event.label(key, label)
            } else {
                event
            }
        }
        Slot::Address => match text {
            Cow::Borrowed(text) => {
                let (key, label) = if name == "toip" {
                    (keys::DST, "DestinationIPv6")
                } else if name == "fromip" {
                    (keys::SRC, "SourceIPv6")
                } else {
                    (keys::DVC, "DeviceIPv6")
                };
                value::address(event, key, label, name, text, leftovers)
            }
            Cow::Owned(text) => {
                leftovers.push(name, Cow::Owned(text));
                event
            }
        },
        Slot::Mac => match text {
            Cow::Borrowed(text) => value::mac(event, keys::DVCMAC, name, text, leftovers),
            Cow::Owned(text) => {
                leftovers.push(name, Cow::Owned(text));
                event
            }
        },
    }
}

fn number(field: FieldRef<'_>) -> Option<i64> {
    if let Some(text) = value::as_text(field) {
        return text.trim().parse().ok();
    }
    match field {
        FieldRef::Int(n) => Some(n),
        FieldRef::Json(Value::Number(n)) => n.as_i64(),
        _ => None,
    }
}

/// Maps the fields of `table` and puts every other field of `fields` into `msg`.
fn map<'a, 'o>(
    mut event: EventWriter<'o>,
    table: &[(&'static str, Slot)],
    fields: impl Iterator<Item = (&'a str, FieldRef<'a>)>,
    leftovers: &mut Leftovers<'a>,
) -> EventWriter<'o> {
    for (name, field) in fields {
        if field.is_empty() || matches!(field, FieldRef::Msg(_)) {
            continue;
        }
        match table.iter().find(|(wire, _)| *wire == name) {
            Some((wire, slot)) => event = put(event, wire, *slot, field, leftovers),
            None => leftovers.push(name, value::plain(field)),
        }
    }
    event
}

pub(super) fn device(
    template: &HeaderTemplate,
    device: &Device,
    out: &mut Vec<u8>,
) -> Result<(), BuildError> {
    let mut leftovers = Leftovers::new();
    let event = template.event(
        out,
        super::DEVICE_SIGNATURE,
        super::DEVICE_NAME,
        Severity::new(1).unwrap_or(Severity::LOW),
    );
    let event = map(event, DEVICE, device.fields(), &mut leftovers);
    leftovers.into_msg(event).finish()
}

pub(super) fn alert(
    template: &HeaderTemplate,
    alert: &Alert,
    out: &mut Vec<u8>,
) -> Result<(), BuildError> {
    let mut leftovers = Leftovers::new();
    let name = alert
        .name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or(super::ALERT_FALLBACK_NAME);
    let event = template.event(
        out,
        super::ALERT_SIGNATURE,
        name,
        super::alert_severity(alert),
    );
    // The header carries name and severity; the identity and the rest follow.
    let skip_header =
        |(name, _): &(&str, FieldRef<'_>)| !matches!(*name, "name" | "severity" | "severityNumber");
    let event = map(
        event,
        ALERT,
        alert.fields().filter(skip_header),
        &mut leftovers,
    );
    let event = match alert.msg.as_ref() {
        Some(msg) => map(event, ALERT_MSG, msg.fields(), &mut leftovers),
        None => event,
    };
    leftovers.into_msg(event).finish()
}

pub(super) fn vulnerability(
    template: &HeaderTemplate,
    vulnerability: &Vulnerability,
    out: &mut Vec<u8>,
) -> Result<(), BuildError> {
    let mut leftovers = Leftovers::new();
    let name = vulnerability
        .vulnerability_name
        .as_deref()
        .filter(|name| !name.trim().is_empty())
        .unwrap_or(super::VULNERABILITY_FALLBACK_NAME);
    let event = template.event(
        out,
        super::VULNERABILITY_SIGNATURE,
        name,
        super::vulnerability_severity(vulnerability),
    );
    let skip_header = |(name, _): &(&str, FieldRef<'_>)| !matches!(*name, "vulnerability_name");
    let event = map(
        event,
        VULNERABILITY,
        vulnerability.fields().filter(skip_header),
        &mut leftovers,
    );
    leftovers.into_msg(event).finish()
}
