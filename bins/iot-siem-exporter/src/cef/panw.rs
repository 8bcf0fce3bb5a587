//! Profile `panw`: the old XSOAR converter's layout (xsoar-connectors.md §2.2), correctly
//! escaped. Custom strings `cs7` and up are outside the CEF dictionary, so they are written
//! as vendor keys under the same names the old converter used.

use cef_codec::{BuildError, EventWriter, HeaderTemplate, Severity, keys};
use iot_security_api::{Alert, Device, FieldRef, Vulnerability};

use super::value::{self, Leftovers};

/// `(source field, label)` for `cs1`, `cs2`, ... of a device, in order.
pub(super) const DEVICE_CUSTOM: [(&str, &str); 44] = [
    ("profile", "Profile"),
    ("category", "Category"),
    ("profile_type", "ProfileType"),
    ("vendor", "Vendor"),
    ("model", "Model"),
    ("vlan", "Vlan"),
    ("site_name", "Site"),
    ("risk_score", "RiskScore"),
    ("risk_level", "RiskLevel"),
    ("subnet", "Subnet"),
    ("number_of_critical_alerts", "NumCriticalAlerts"),
    ("number_of_warning_alerts", "NumWarningAlerts"),
    ("number_of_caution_alerts", "NumCautionAlerts"),
    ("number_of_info_alerts", "NumInfoAlerts"),
    ("first_seen_date", "FirstSeenDate"),
    ("confidence_score", "ConfidenceScore"),
    ("os_group", "OsGroup"),
    ("os/firmware_version", "OsFirmwareVersion"),
    ("OS_Support", "OsSupport"),
    ("OS_End_of_Support", "OsEndOfSupport"),
    ("Serial_Number", "SerialNumber"),
    ("endpoint_protection", "EndpointProtection"),
    ("NetworkLocation", "NetworkLocation"),
    ("AET", "AET"),
    ("DHCP", "DHCP"),
    ("wire_or_wireless", "WireOrWireless"),
    ("SMB", "SMB"),
    ("Switch_Port", "SwitchPort"),
    ("Switch_Name", "SwitchName"),
    ("Switch_IP", "SwitchIp"),
    ("services", "Services"),
    ("is_server", "IsServer"),
    ("NAC_profile", "NAC_Profile"),
    ("NAC_profile_source", "NAC_ProfileSource"),
    ("Access_Point_IP", "AccessPointIp"),
    ("Access_Point_Name", "AccessPointName"),
    ("SSID", "SSID"),
    ("Authentication_Method", "AuthMethod"),
    ("Encryption_Cipher", "EncryptionCipher"),
    ("AD_Username", "AD_Username"),
    ("AD_Domain", "AD_Domain"),
    ("Applications", "Applications"),
    ("Tags", "Tags"),
    ("os_combined", "os_combined"),
];

/// `(source field, label)` for `cs1`, `cs2`, ... of a vulnerability, in order.
pub(super) const VULNERABILITY_CUSTOM: [(&str, &str); 43] = [
    ("profile", "Profile"),
    ("display_profile_category", "Category"),
    ("profile_vertical", "ProfileVertical"),
    ("vendor", "Vendor"),
    ("model", "Model"),
    ("vlan", "Vlan"),
    ("site_name", "Site"),
    ("risk_score", "RiskScore"),
    ("risk_level", "RiskLevel"),
    ("subnet", "Subnet"),
    ("vulnerability_name", "vulnerabilityName"),
    ("detected_date", "DetectionDate"),
    ("remediate_instruction", "RemediateInstructions"),
    ("remediate_checkbox", "RemediateCheckbox"),
    ("first_seen_date", "FirstSeenDate"),
    ("confidence_score", "ConfidenceScore"),
    ("os", "OsGroup"),
    ("os/firmware_version", "OsFirmwareVersion"),
    // The old converter labels osCombined `OsSupport`; parsers match the label, so it stays.
    ("osCombined", "OsSupport"),
    ("OS_End_of_Support", "OsEndOfSupport"),
    ("Serial_Number", "SerialNumber"),
    ("endpoint_protection", "EndpointProtection"),
    ("NetworkLocation", "NetworkLocation"),
    ("AET", "AET"),
    ("DHCP", "DHCP"),
    ("wire_or_wireless", "WireOrWireless"),
    ("SMB", "SMB"),
    ("Switch_Port", "SwitchPort"),
    ("Switch_Name", "SwitchName"),
    ("Switch_IP", "SwitchIp"),
    ("services", "Services"),
    ("is_server", "IsServer"),
    ("NAC_profile", "NAC_Profile"),
    ("NAC_profile_source", "NAC_ProfileSource"),
    ("Access_Point_IP", "AccessPointIp"),
    ("Access_Point_Name", "AccessPointName"),
    ("SSID", "SSID"),
    ("Authentication_Method", "AuthMethod"),
    ("Encryption_Cipher", "EncryptionCipher"),
    ("AD_Username", "AD_Username"),
    ("AD_Domain", "AD_Domain"),
    ("Applications", "Applications"),
    ("Tags", "Tags"),
];

/// The `csN` and `csNLabel` key names for N = 1 to 44.
const CUSTOM_KEYS: [(&str, &str); 44] = {
    macro_rules! slots {
        ($($n:literal)*) => { [$((concat!("cs", $n), concat!("cs", $n, "Label")),)*] };
    }
    slots!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30
           31 32 33 34 35 36 37 38 39 40 41 42 43 44)
};

/// The dictionary's typed `cs1`..`cs6`.
const DICTIONARY_CUSTOM: [keys::TextKey; 6] = [
    keys::CS1,
    keys::CS2,
    keys::CS3,
    keys::CS4,
    keys::CS5,
    keys::CS6,
];

/// Writes custom string `index` (0-based) with its label.
fn custom<'o>(event: EventWriter<'o>, index: usize, label: &str, value: &str) -> EventWriter<'o> {
    if value.is_empty() {
        return event;
    }
    if let Some(key) = DICTIONARY_CUSTOM.get(index) {
        return event.label(*key, label).text(*key, value);
    }
    match CUSTOM_KEYS.get(index) {
        Some((key, label_key)) => event
            .vendor_field(label_key, label)
            .vendor_field(key, value),
        None => event,
    }
}

/// Every truthy field of `table`, as `cs1`.. in order.
fn customs<'a, 'o>(
    mut event: EventWriter<'o>,
    table: &[(&str, &str)],
    field: impl Fn(&str) -> Option<FieldRef<'a>>,
) -> EventWriter<'o> {
    for (index, (name, label)) in table.iter().enumerate() {
        if let Some(value) = field(name).filter(|value| value::truthy(*value)) {
            event = custom(event, index, label, &value::plain(value));
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
    let mut event = template.event(
        out,
        super::DEVICE_SIGNATURE,
        super::DEVICE_NAME,
        Severity::new(1).unwrap_or(Severity::LOW),
    );
    event = super::device_identity(event, device);
    if let Some(ip) = device.ip_address.as_deref().filter(|ip| !ip.is_empty()) {
        event = value::address(
            event,
            keys::DVC,
            "DeviceIPv6",
            "ip_address",
            ip,
            &mut leftovers,
        );
    }
    if let Some(mac) = device.mac_address.as_deref().filter(|mac| !mac.is_empty()) {
        event = value::mac(event, keys::DVCMAC, "mac_address", mac, &mut leftovers);
    }
    if let Some(host) = device.hostname.as_deref() {
        event = event.text(keys::DVCHOST, host);
    }
    event = customs(event, &DEVICE_CUSTOM, |name| device.field(name));
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
    let mut event = template.event(
        out,
        super::ALERT_SIGNATURE,
        name,
        super::alert_severity(alert),
    );
    event = super::ticket_identity(event, alert.zb_ticketid.as_deref());
    if let Some(deviceid) = alert.deviceid.as_deref().filter(|id| !id.is_empty()) {
        event = value::mac(event, keys::DVCMAC, "deviceid", deviceid, &mut leftovers);
    }
    let msg = alert.msg.as_ref();
    if let Some(ip) = msg
        .and_then(|m| m.fromip.as_deref())
        .filter(|ip| !ip.is_empty())
    {
        event = value::address(event, keys::SRC, "SourceIPv6", "fromip", ip, &mut leftovers);
    }
    if let Some(ip) = msg
        .and_then(|m| m.toip.as_deref())
        .filter(|ip| !ip.is_empty())
    {
        event = value::address(
            event,
            keys::DST,
            "DestinationIPv6",
            "toip",
            ip,
            &mut leftovers,
        );
    }
    if let Some(host) = msg.and_then(|m| m.hostname.as_deref()) {
        event = event.text(keys::SHOST, host);
    }
    if let Some(url) = msg.and_then(|m| m.to_url.as_deref()) {
        event = event.text(keys::DHOST, url);
    }
    if let Some(id) = msg.and_then(|m| m.id.as_deref()) {
        event = event.text(keys::FILE_ID, id).text(keys::FILE_TYPE, "alert");
    }
    if let Some(date) = alert.field("date") {
        event = value::time(event, keys::RT, "date", date, &mut leftovers);
    }
    if let Some(generated) = alert.msg_field("generationTimestamp") {
        event = value::time(
            event,
            keys::DEVICE_CUSTOM_DATE1,
            "generationTimestamp",
            generated,
            &mut leftovers,
        );
    }
    if let Some(description) = alert.description.as_deref() {
        event = custom(event, 0, "Description", description);
    }
    if let Some(values) = alert.msg_field("values").filter(|v| !v.is_empty()) {
        event = custom(event, 1, "Values", &value::plain(values));
    }
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
    let mut event = template.event(
        out,
        super::VULNERABILITY_SIGNATURE,
        name,
        super::vulnerability_severity(vulnerability),
    );
    event = super::ticket_identity(event, vulnerability.zb_ticketid.as_deref());
    if let Some(ip) = vulnerability.ip.as_deref().filter(|ip| !ip.is_empty()) {
        event = value::address(event, keys::DVC, "DeviceIPv6", "ip", ip, &mut leftovers);
    }
    if let Some(mac) = vulnerability.deviceid.as_deref().filter(|m| !m.is_empty()) {
        event = value::mac(event, keys::DVCMAC, "deviceid", mac, &mut leftovers);
    }
    if let Some(host) = vulnerability.name.as_deref() {
        event = event.text(keys::DVCHOST, host);
    }
    event = customs(event, &VULNERABILITY_CUSTOM, |name| {
        vulnerability.field(name)
    });
    leftovers.into_msg(event).finish()
}
