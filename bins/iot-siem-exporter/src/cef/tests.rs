use iot_security_api::synthetic::TenantSpec;
use proptest::prelude::*;

use super::*;

fn mapper(profile: Profile) -> Mapper {
    Mapper::new(MappingOptions {
        profile,
        legacy_prefix: false,
    })
}

fn line(result: Result<(), MappingError>, out: Vec<u8>) -> String {
    result.unwrap();
    String::from_utf8(out).unwrap()
}

fn device_line(profile: Profile, device: &Device) -> String {
    let mut out = Vec::new();
    line(mapper(profile).device(device, &mut out), out)
}

fn alert_line(profile: Profile, alert: &Alert) -> String {
    let mut out = Vec::new();
    line(mapper(profile).alert(alert, &mut out), out)
}

fn vulnerability_line(profile: Profile, vulnerability: &Vulnerability) -> String {
    let mut out = Vec::new();
    line(mapper(profile).vulnerability(vulnerability, &mut out), out)
}

const SPEC: TenantSpec = TenantSpec {
    seed: 7,
    devices: 20,
    alerts: 20,
    vulnerabilities: 20,
};

#[test]
fn synthetic_records_in_both_profiles() {
    let mut lines = Vec::new();
    for profile in [Profile::Panw, Profile::Strict] {
        for index in 0..3 {
            lines.push(device_line(profile, &SPEC.device(index)));
            lines.push(alert_line(profile, &SPEC.alert(index)));
            lines.push(vulnerability_line(profile, &SPEC.vulnerability(index)));
        }
    }
    insta::assert_snapshot!(lines.join("\n"));
}

#[test]
fn a_full_device_in_the_old_layout() {
    let device: Device = serde_json::from_value(serde_json::json!({
        "deviceid": "a4:5e:60:c2:11:01", "ip_address": "10.1.2.3",
        "mac_address": "a4:5e:60:c2:11:01", "hostname": "cam=1|lobby\\east",
        "profile": "Axis Camera", "category": "IP Camera", "profile_type": "IoT",
        "vendor": "Axis", "model": "P1435", "vlan": "12", "site_name": "HQ",
        "risk_score": 40, "risk_level": "medium", "subnet": "10.1.2.0/24",
        "number_of_critical_alerts": 0, "number_of_warning_alerts": 2,
        "first_seen_date": "2024-01-02T03:04:05Z", "confidence_score": "90",
        "os_group": "Linux", "os/firmware_version": "9.80", "Tags": ["lobby", "camera"],
        "services": {"http": 80}, "is_server": false, "os_combined": "Linux 9.80",
        "last_activity": "2026-11-20T10:00:00Z"
    }))
    .unwrap();
    insta::assert_snapshot!("full_device_panw", device_line(Profile::Panw, &device));
    insta::assert_snapshot!("full_device_strict", device_line(Profile::Strict, &device));
}

#[test]
fn headers_are_never_malformed_and_the_prefix_is_optional() {
    let empty_alert = Alert::default();
    let empty_vulnerability = Vulnerability::default();
    assert_eq!(
        alert_line(Profile::Panw, &empty_alert),
        "CEF:0|PaloAltoNetworks|PANWIOT|1.0|PaloAltoNetworks Alert:policy_alert|Alert|Unknown|"
    );
    assert_eq!(
        vulnerability_line(Profile::Panw, &empty_vulnerability),
        "CEF:0|PaloAltoNetworks|PANWIOT|1.0|vulnerability|Vulnerability|1|"
    );
    let legacy = Mapper::new(MappingOptions {
        profile: Profile::Panw,
        legacy_prefix: true,
    });
    let mut out = Vec::new();
    legacy
        .vulnerability(&empty_vulnerability, &mut out)
        .unwrap();
    assert!(out.starts_with(b"INFO:siem-syslog:CEF:0|"));
    out.clear();
    legacy.alert(&empty_alert, &mut out).unwrap();
    assert!(out.starts_with(b"CEF:0|"), "alerts never had the prefix");
}

#[test]
fn vulnerability_severities_follow_the_old_converter() {
    let levels: Vec<String> = ["Critical", "High", "Medium", "Low", "bogus"]
        .iter()
        .map(|level| {
            let vulnerability = Vulnerability {
                risk_level: Some((*level).to_owned()),
                ..Vulnerability::default()
            };
            vulnerability_severity(&vulnerability).as_str().to_owned()
        })
        .collect();
    assert_eq!(levels, ["10", "6", "3", "1", "1"]);
}

#[test]
fn strict_writes_only_dictionary_keys() {
    let decoder = cef_codec::Decoder::strict();
    for index in 0..SPEC.devices {
        for line in [
            device_line(Profile::Strict, &SPEC.device(index)),
            alert_line(Profile::Strict, &SPEC.alert(index)),
            vulnerability_line(Profile::Strict, &SPEC.vulnerability(index)),
        ] {
            let event = decoder.decode(&line).unwrap();
            for (key, _) in event.extension() {
                assert!(cef_codec::keys::lookup(key).is_some(), "{key} in {line}");
            }
        }
    }
}

fn hostile() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z|=\\\\\r\n \t\u{0}\u{7f}é☃]{0,40}").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the API sends, each record is one line the strict decoder reads back,
    /// with its identity and its values intact (up to the codec's documented
    /// normalisation of control characters).
    #[test]
    fn hostile_values_survive(
        id in "[a-z0-9:-]{1,30}",
        host in hostile(),
        name in hostile(),
        description in hostile(),
        strict in any::<bool>(),
    ) {
        let profile = if strict { Profile::Strict } else { Profile::Panw };
        let device: Device = serde_json::from_value(serde_json::json!({
            "deviceid": id, "hostname": host, "profile": description,
        })).unwrap();
        let alert: Alert = serde_json::from_value(serde_json::json!({
            "zb_ticketid": id, "name": name, "description": description,
        })).unwrap();
        let vulnerability: Vulnerability = serde_json::from_value(serde_json::json!({
            "zb_ticketid": id, "vulnerability_name": name, "name": host,
            "remediate_instruction": description,
        })).unwrap();
        let decoder = cef_codec::Decoder::strict();
        for line in [
            device_line(profile, &device),
            alert_line(profile, &alert),
            vulnerability_line(profile, &vulnerability),
        ] {
            prop_assert!(!line.contains('\n') && !line.contains('\r'), "{line:?}");
            let event = decoder.decode(&line).map_err(|e| TestCaseError::fail(format!("{e}: {line:?}")))?;
            let identity = event.get("deviceExternalId").or_else(|| event.get("externalId"));
            prop_assert_eq!(identity, Some(id.as_str()));
            prop_assert_eq!(event.vendor(), "PaloAltoNetworks");
        }
        let event_line = alert_line(profile, &alert);
        let event = decoder.decode(&event_line).unwrap();
        let clean = |text: &str| -> String {
            text.chars()
                .map(|c| if c.is_control() && c != '\t' && c != '\n' && c != '\r' { '\u{fffd}' } else { c })
                .collect()
        };
        if !description.is_empty() {
            prop_assert_eq!(event.get("cs1").map(str::to_owned), Some(clean(&description)));
        }
    }
}
