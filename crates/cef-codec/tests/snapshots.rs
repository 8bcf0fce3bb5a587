//! Snapshots of the four kinds of record siembridge writes as CEF.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, Ipv6Addr};

use cef_codec::{Decoder, Event, MacAddress, Severity, TimeFormat, keys};
use time::macros::datetime;

/// Checks that the line decodes back to the event, then returns it for the snapshot.
fn line(event: &Event<'_>) -> String {
    let text = event.to_string();
    assert_eq!(Decoder::strict().decode(&text).unwrap(), *event);
    assert_eq!(event.encoded_len(), text.len());
    text
}

#[test]
fn iot_device() {
    let event = Event::builder()
        .vendor("PaloAltoNetworks")
        .product("PANWIOT")
        .device_version("1.0")
        .signature_id("asset")
        .name("Asset Identification")
        .severity(Severity::new(1).unwrap())
        .text(keys::DEVICE_EXTERNAL_ID, "a4:5e:60:c2:11:01")
        .text(keys::DVCHOST, "infusion-pump-03")
        .ipv4(keys::SRC, Ipv4Addr::new(10, 12, 40, 7))
        .mac(
            keys::DVCMAC,
            MacAddress([0xa4, 0x5e, 0x60, 0xc2, 0x11, 0x01]),
        )
        .label(keys::CS1, "Profile")
        .text(keys::CS1, "BD Alaris Infusion Pump")
        .label(keys::CS2, "Category")
        .text(keys::CS2, "Infusion System")
        .label(keys::CS3, "Vendor")
        .text(keys::CS3, "Becton, Dickinson and Company")
        .label(keys::CS4, "Site")
        .text(keys::CS4, "Ward 3 = East wing")
        .time(keys::RT, datetime!(2026-11-24 04:00:00.250 UTC))
        .label(keys::CN1, "Risk score")
        .long(keys::CN1, 72)
        .vendor_field("PANWIoTProfileType", "IoT")
        .build()
        .unwrap();
    insta::assert_snapshot!(line(&event));
}

#[test]
fn iot_alert() {
    let event = Event::builder()
        .vendor("PaloAltoNetworks")
        .product("PANWIOT")
        .device_version("1.0")
        .signature_id("PaloAltoNetworks Alert:policy_alert")
        .name("Outbound connection to a | known C2 host")
        .severity(Severity::new(4).unwrap())
        .text(keys::EXTERNAL_ID, "alert-hNMleG1nW")
        .text(keys::DEVICE_EXTERNAL_ID, "a4:5e:60:c2:11:01")
        .mac(keys::DVCMAC, "a4:5e:60:c2:11:01".parse().unwrap())
        .ipv4(keys::SRC, Ipv4Addr::new(10, 12, 40, 7))
        .ipv4(keys::DST, Ipv4Addr::new(203, 0, 113, 50))
        .text(keys::SHOST, "infusion-pump-03")
        .text(keys::DHOST, "http://c2.example.net/beacon?id=42&x=1")
        .time(keys::RT, datetime!(2026-11-23 22:14:05.120 UTC))
        .label(keys::CS1, "Description")
        .text(
            keys::CS1,
            "The device contacted a host on a threat list.\nSeen 3 times; path C:\\temp",
        )
        .label(keys::CS2, "Values")
        .text(keys::CS2, "port=443, proto=tcp")
        .build()
        .unwrap();
    insta::assert_snapshot!(line(&event));
}

#[test]
fn iot_vulnerability() {
    let event = Event::builder()
        .vendor("PaloAltoNetworks")
        .product("PANWIOT")
        .device_version("1.0")
        .signature_id("vulnerability")
        .name("CVE-2019-10959")
        .severity(Severity::new(10).unwrap())
        .time_format(TimeFormat::Text)
        .text(keys::EXTERNAL_ID, "vuln-52f40a58")
        .text(keys::DEVICE_EXTERNAL_ID, "10.12.40.9")
        .text(keys::DVCHOST, "ct-scanner-1")
        .ipv4(keys::SRC, Ipv4Addr::new(10, 12, 40, 9))
        .label(keys::C6A1, "Device IPv6")
        .ipv6(keys::C6A1, "2001:db8::40:9".parse::<Ipv6Addr>().unwrap())
        .label(keys::CS1, "Ticket state")
        .text(keys::CS1, "remediation")
        .label(keys::CFP1, "CVSS")
        .float(keys::CFP1, 9.8)
        .label(keys::DEVICE_CUSTOM_DATE1, "Detected")
        .time(
            keys::DEVICE_CUSTOM_DATE1,
            datetime!(2026-11-02 08:30:00 -05:00),
        )
        .label(keys::FLEX_STRING1, "Risk level")
        .text(keys::FLEX_STRING1, "Critical")
        .build()
        .unwrap();
    insta::assert_snapshot!(line(&event));
}

#[test]
fn bitsight_finding() {
    let event = Event::builder()
        .vendor("Bitsight")
        .product("Security Performance Management")
        .device_version("1.0")
        .signature_id("open_ports")
        .name("Open Ports: Insecure service exposed")
        .severity(Severity::new(9).unwrap())
        .text(keys::EXTERNAL_ID, "A9Jq47BBje45efb")
        .text(keys::DHOST, "203.0.113.10:23")
        .ipv4(keys::DST, Ipv4Addr::new(203, 0, 113, 10))
        .port(keys::DPT, 23)
        .text(keys::CAT, "Diligence")
        .time(keys::START, datetime!(2026-11-01 00:00 UTC))
        .time(keys::END, datetime!(2026-11-22 00:00 UTC))
        .label(keys::CS1, "Company")
        .text(keys::CS1, "Saperix, Inc.")
        .label(keys::CS2, "Grade")
        .text(keys::CS2, "BAD")
        .label(keys::CS3, "Remediation")
        .text(
            keys::CS3,
            "Close port 23 (telnet) or restrict it with a firewall rule: deny tcp/23 from any",
        )
        .label(keys::CN1, "Affects rating")
        .long(keys::CN1, 1)
        .build()
        .unwrap();
    insta::assert_snapshot!(line(&event));
}
