//! Deterministic record generation, written straight to JSON (no per-record structures),
//! so a page of 1000 costs one buffer.

use std::fmt::{self, Write};

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::time_format::format_stime;

/// The instant the first record of every kind is dated.
pub(crate) const EPOCH: OffsetDateTime = datetime!(2025-01-01 00:00 UTC);

/// The record kinds a synthetic tenant serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// Devices (`device/list`).
    Devices,
    /// Alerts (`alert/list`).
    Alerts,
    /// Vulnerability instances (`vulnerability/list`).
    Vulnerabilities,
}

impl RecordKind {
    /// How many consecutive records share one timestamp, and the step between
    /// timestamps: shared timestamps exercise the cursor's boundary.
    fn clock(self) -> (u64, i64) {
        match self {
            Self::Devices => (3, 60),
            Self::Alerts => (2, 45),
            Self::Vulnerabilities => (2, 90),
        }
    }

    /// The timestamp of record `index`.
    pub fn time_of(self, index: u64) -> OffsetDateTime {
        let (group, step) = self.clock();
        let steps = i64::try_from(index / group).unwrap_or(i64::MAX);
        EPOCH + Duration::seconds(steps.saturating_mul(step))
    }

    /// The first index dated at or after `stime`.
    pub fn first_index_at(self, stime: OffsetDateTime) -> u64 {
        let (group, step) = self.clock();
        let elapsed = (stime - EPOCH).whole_nanoseconds();
        if elapsed <= 0 {
            return 0;
        }
        let step_nanos = i128::from(step) * 1_000_000_000;
        let steps = (elapsed + step_nanos - 1) / step_nanos;
        u64::try_from(steps)
            .unwrap_or(u64::MAX)
            .saturating_mul(group)
    }
}

/// splitmix64: a tiny, fast, well-mixed generator; one per record keeps generation
/// random-access (record `i` never depends on record `i - 1`).
pub(crate) struct Mix(u64);

impl Mix {
    pub(crate) fn new(seed: u64, kind: RecordKind, index: u64) -> Self {
        let salt = match kind {
            RecordKind::Devices => 0xD1u64,
            RecordKind::Alerts => 0xA1,
            RecordKind::Vulnerabilities => 0xB7,
        };
        Self(
            seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ index.wrapping_mul(0xBF58_476D_1CE4_E5B9),
        )
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items.get(index).copied().unwrap_or_default()
    }
}

/// Strings that try to break CEF headers and extensions and syslog framing.
const HOSTILE: &[&str] = &[
    "cam|lobby=east",
    "nurse\\station 4",
    "printer\r\nCEF:0|Evil|Forge|1|x|y|10|src=6.6.6.6",
    "Überwachungskamera-東京-3",
    "key=value|pipe\\back\nnew line",
];

const CATEGORIES: &[(&str, &str, &str, &str)] = &[
    ("IP Camera", "Axis Network Camera", "IoT", "Facility"),
    ("Infusion Pump", "Baxter Infusion Pump", "IoT", "Medical"),
    ("Printer", "HP Printer", "IoT", "Office"),
    ("Thermostat", "Honeywell Thermostat", "IoT", "Facility"),
    ("Badge Reader", "HID Access Control", "IoT", "Facility"),
    ("Workstation", "Dell Workstation", "Non_IoT", "IT"),
    (
        "Patient Monitor",
        "Philips Patient Monitor",
        "IoT",
        "Medical",
    ),
    ("Smart TV", "Samsung Smart TV", "IoT", "Office"),
];
const VENDORS: &[&str] = &[
    "Axis",
    "Baxter",
    "HP",
    "Honeywell",
    "HID",
    "Dell",
    "Philips",
    "Samsung",
];
const OS_GROUPS: &[(&str, &str)] = &[
    ("Linux", "4.19"),
    ("Embedded", "2.1.7"),
    ("Windows", "10.0.19045"),
    ("VxWorks", "6.9"),
];
const SITES: &[&str] = &["HQ", "Boston General", "Plant 7", "São Paulo"];
const RISK_LEVELS: &[&str] = &["low", "medium", "high", "critical"];
const ALERT_NAMES: &[&str] = &[
    "Connection to malicious domain",
    "Unusual outbound traffic|port 4444",
    "Default credentials in use",
    "Telnet session=cleartext",
];
const SEVERITIES: &[(&str, i64)] = &[("info", 1), ("low", 2), ("medium", 3), ("high", 4)];
const CVES: &[&str] = &[
    "CVE-2021-44228",
    "CVE-2019-0708",
    "CVE-2020-1472",
    "CVE-2022-22965",
    "URGENT/11",
];
const VULN_RISK: &[&str] = &["Low", "Medium", "High", "Critical"];
const TICKET_STATES: &[&str] = &["new", "investigation", "remediation", "resolved"];

/// A JSON object written field by field.
struct Object<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, first: true }
    }

    /// Starts a field; keys are this module's literals, which need no escaping.
    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn text(&mut self, key: &str, value: &str) {
        self.key(key);
        push_json_string(self.out, value);
    }

    /// A string value whose characters never need escaping (formatted numbers, ids).
    fn plain(&mut self, key: &str, value: fmt::Arguments<'_>) -> fmt::Result {
        self.key(key);
        self.out.push('"');
        self.out.write_fmt(value)?;
        self.out.push('"');
        Ok(())
    }

    fn raw(&mut self, key: &str, value: fmt::Arguments<'_>) -> fmt::Result {
        self.key(key);
        self.out.write_fmt(value)
    }

    fn close(self) {
        self.out.push('}');
    }
}

/// Appends `value` as a JSON string literal.
pub(crate) fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    if !value
        .bytes()
        .any(|byte| byte == b'"' || byte == b'\\' || byte < 0x20)
    {
        out.push_str(value);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (index, byte) in value.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&value[start..index]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{byte:04x}"));
        } else {
            out.push_str(escape);
        }
        start = index + 1;
    }
    out.push_str(&value[start..]);
    out.push('"');
}

/// A device's MAC address (ascending with the index, so MAC order is index order).
pub(crate) fn mac_of(index: u64) -> String {
    let value = 0x001b_4400_0000u64 + index;
    let bytes = value.to_be_bytes();
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]
    )
}

/// A device's IP address.
pub(crate) fn ip_of(index: u64) -> String {
    format!(
        "10.{}.{}.{}",
        (index >> 16) & 0xff,
        (index >> 8) & 0xff,
        index & 0xff
    )
}

/// Every 50th device has a static IP and is identified by it, as the API does.
pub(crate) fn device_id_of(index: u64) -> String {
    if index % 50 == 49 {
        ip_of(index)
    } else {
        mac_of(index)
    }
}

/// The index behind a device id, if it is one of ours.
pub(crate) fn device_index_of(id: &str) -> Option<u64> {
    if id.contains(':') {
        let hex: String = id.split(':').collect();
        let value = u64::from_str_radix(&hex, 16).ok()?;
        value.checked_sub(0x001b_4400_0000)
    } else {
        let mut parts = id.split('.');
        if parts.next()? != "10" {
            return None;
        }
        let mut index = 0u64;
        for part in parts {
            index = (index << 8) | u64::from(part.parse::<u8>().ok()?);
        }
        Some(index)
    }
}

pub(crate) fn alert_id_of(index: u64) -> String {
    format!("alert-{index:08x}")
}

pub(crate) fn vulnerability_id_of(index: u64) -> String {
    format!("vuln-{index:08x}")
}

pub(crate) fn ticket_index_of(id: &str, prefix: &str) -> Option<u64> {
    u64::from_str_radix(id.strip_prefix(prefix)?, 16).ok()
}

fn hostname(mix: &mut Mix, index: u64, category: &str) -> String {
    if index % 7 == 3 {
        mix.pick(HOSTILE).to_owned()
    } else {
        format!(
            "{}-{index:05}",
            category.to_ascii_lowercase().replace(' ', "-")
        )
    }
}

/// Writes device `index` of tenant `seed`.
pub(crate) fn device(out: &mut String, seed: u64, index: u64, detail: bool) -> fmt::Result {
    let mut mix = Mix::new(seed, RecordKind::Devices, index);
    let category_index = usize::try_from(mix.below(CATEGORIES.len() as u64)).unwrap_or(0);
    let (category, profile, profile_type, vertical) = CATEGORIES
        .get(category_index)
        .copied()
        .unwrap_or(CATEGORIES[0]);
    let risk_score = mix.below(100);
    let risk_level = RISK_LEVELS
        .get(usize::try_from(risk_score / 25).unwrap_or(0))
        .copied()
        .unwrap_or("low");
    let host = hostname(&mut mix, index, category);
    let id = device_id_of(index);
    let mut object = Object::open(out);
    object.text("deviceid", &id);
    object.text("hostname", &host);
    object.plain("ip_address", format_args!("{}", ip_of(index)))?;
    if index % 50 != 49 {
        object.text("mac_address", &id);
    }
    object.text("category", category);
    object.text("profile", profile);
    object.text("profile_type", profile_type);
    object.text("profile_vertical", vertical);
    object.raw("risk_score", format_args!("{risk_score}"))?;
    object.text("risk_level", risk_level);
    object.text(
        "last_activity",
        &format_stime(RecordKind::Devices.time_of(index)),
    );
    object.plain("confidence_score", format_args!("{}", 60 + mix.below(40)))?;
    object.plain(
        "subnet",
        format_args!("10.{}.{}.0/24", (index >> 16) & 0xff, (index >> 8) & 0xff),
    )?;
    object.raw(
        "number_of_critical_alerts",
        format_args!("{}", mix.below(2)),
    )?;
    object.raw("number_of_warning_alerts", format_args!("{}", mix.below(4)))?;
    object.raw("number_of_caution_alerts", format_args!("{}", mix.below(6)))?;
    object.raw("number_of_info_alerts", format_args!("{}", mix.below(10)))?;
    object.raw("trafficRestricted", format_args!("{}", mix.below(10) == 0))?;
    object.raw("tagIdList", format_args!("[]"))?;
    if !detail {
        object.close();
        return Ok(());
    }
    let (os_group, os_version) = OS_GROUPS
        .get(usize::try_from(mix.below(OS_GROUPS.len() as u64)).unwrap_or(0))
        .copied()
        .unwrap_or(OS_GROUPS[0]);
    object.text(
        "vendor",
        VENDORS.get(category_index).copied().unwrap_or("Generic"),
    );
    object.plain("model", format_args!("M{}", 100 + mix.below(900)))?;
    object.raw("vlan", format_args!("{}", 100 + mix.below(20)))?;
    object.text("site_name", mix.pick(SITES));
    object.text(
        "first_seen_date",
        &format_stime(EPOCH - Duration::days(i64::try_from(1 + mix.below(700)).unwrap_or(1))),
    );
    object.text("os_group", os_group);
    object.text("os/firmware_version", os_version);
    object.plain("os_combined", format_args!("{os_group} {os_version}"))?;
    object.text(
        "OS_Support",
        if os_group == "Windows" {
            "Supported"
        } else {
            "Unknown"
        },
    );
    object.plain(
        "Serial_Number",
        format_args!("SN{:010}", mix.below(10_000_000_000)),
    )?;
    object.text(
        "wire_or_wireless",
        if index.is_multiple_of(3) {
            "Wireless"
        } else {
            "Wired"
        },
    );
    object.plain("Switch_Port", format_args!("Gi1/0/{}", 1 + mix.below(48)))?;
    object.plain("Switch_Name", format_args!("sw-{:02}", mix.below(30)))?;
    object.text("NAC_profile", profile);
    object.text("AD_Domain", "CORP");
    object.text(
        "endpoint_protection",
        if profile_type == "Non_IoT" {
            "installed"
        } else {
            "n/a"
        },
    );
    object.text("DHCP", if index % 50 == 49 { "No" } else { "Yes" });
    object.text("is_server", "no");
    object.raw("services", format_args!("[\"http\",\"https\"]"))?;
    object.key("allTags");
    object
        .out
        .push_str("[{\"tagType\":\"system\",\"tagValue\":");
    push_json_string(object.out, category);
    object.out.push_str(",\"tagId\":\"t1\"}]");
    object.close();
    Ok(())
}

/// Writes alert `index` of tenant `seed` (its device is a device of the same tenant).
pub(crate) fn alert(out: &mut String, seed: u64, index: u64, device_count: u64) -> fmt::Result {
    let mut mix = Mix::new(seed, RecordKind::Alerts, index);
    let device = mix.below(device_count.max(1));
    let (severity, severity_number) = SEVERITIES
        .get(usize::try_from(mix.below(SEVERITIES.len() as u64)).unwrap_or(0))
        .copied()
        .unwrap_or(SEVERITIES[0]);
    let name = mix.pick(ALERT_NAMES);
    let id = alert_id_of(index);
    let date = format_stime(RecordKind::Alerts.time_of(index));
    let description = if index % 5 == 2 {
        mix.pick(HOSTILE).to_owned()
    } else {
        format!("{name} observed from device {}", device_id_of(device))
    };
    let mut object = Object::open(out);
    object.plain(
        "id",
        format_args!("{:024x}", index.wrapping_mul(0x9E37_79B9) ^ seed),
    )?;
    object.text("zb_ticketid", &id);
    object.text("name", name);
    object.text("description", &description);
    object.text("date", &date);
    object.text("deviceid", &device_id_of(device));
    object.text("severity", severity);
    object.raw("severityNumber", format_args!("{severity_number}"))?;
    object.text("type", "policy_alert");
    object.text(
        "resolved",
        if index.is_multiple_of(9) { "yes" } else { "no" },
    );
    object.text("tenantid", "synthetic");
    object.text("siteName", mix.pick(SITES));
    object.text(
        "trafficDirection",
        if index.is_multiple_of(2) {
            "outbound"
        } else {
            "inbound"
        },
    );
    object.text("hostname", &hostname(&mut mix, device, "device"));
    object.text("serviceLevel", "Enterprise");
    object.key("msg");
    let mut msg = Object::open(object.out);
    msg.text("severity", severity);
    msg.text("name", name);
    msg.text("description", &description);
    msg.plain("id", format_args!("{index}"))?;
    msg.text("zb_ticketid", &id);
    msg.text("status", "publish");
    msg.text("fromip", &ip_of(device));
    msg.plain("toip", format_args!("203.0.113.{}", 1 + mix.below(254)))?;
    msg.plain(
        "toURL",
        format_args!("http://c2-{}.example.net/a?x=1&y=2", mix.below(100)),
    )?;
    msg.raw(
        "generationTimestamp",
        format_args!(
            "{}",
            RecordKind::Alerts.time_of(index).unix_timestamp() * 1000
        ),
    )?;
    msg.raw("values", format_args!("[\"port=4444\",\"proto=tcp\"]"))?;
    msg.close();
    object.close();
    Ok(())
}

/// Writes vulnerability instance `index` of tenant `seed`.
pub(crate) fn vulnerability(
    out: &mut String,
    seed: u64,
    index: u64,
    device_count: u64,
) -> fmt::Result {
    let mut mix = Mix::new(seed, RecordKind::Vulnerabilities, index);
    let device = mix.below(device_count.max(1));
    let risk = mix.pick(VULN_RISK);
    let cve = mix.pick(CVES);
    let date = RecordKind::Vulnerabilities.time_of(index);
    let mut object = Object::open(out);
    object.text("zb_ticketid", &vulnerability_id_of(index));
    object.text("name", &hostname(&mut mix, device, "device"));
    object.text("ip", &ip_of(device));
    object.text("deviceid", &device_id_of(device));
    object.text("profile", "Axis Network Camera");
    object.text("profile_vertical", "Facility");
    object.text("display_profile_category", "IP Camera");
    object.text("vendor", "Axis");
    object.plain("model", format_args!("M{}", 100 + mix.below(900)))?;
    object.text("os", "Linux");
    object.text("osCombined", "Linux 4.19");
    object.text("siteid", "0");
    object.text("date", &format_stime(date));
    object.text("detected_date", &format_stime(date - Duration::hours(1)));
    object.raw("risk_score", format_args!("{}", mix.below(100)))?;
    object.text("risk_level", risk);
    object.text("ticketState", mix.pick(TICKET_STATES));
    object.raw("ticketAssignees", format_args!("[]"))?;
    object.text("vulnerability_name", cve);
    let instruction = if index % 4 == 1 {
        mix.pick(HOSTILE).to_owned()
    } else {
        format!("Update firmware to fix {cve}")
    };
    object.text("remediate_instruction", &instruction);
    object.raw("remediate_checkbox", format_args!("false"))?;
    object.close();
    Ok(())
}
