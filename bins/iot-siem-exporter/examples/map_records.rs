//! Maps synthetic devices, alerts and vulnerabilities to CEF lines, for
//! `valgrind --tool=callgrind` (instruction counts per record, repeatable under load):
//! `cargo build --release -p iot-siem-exporter --example map_records` then
//! `valgrind --tool=callgrind target/release/examples/map_records [RECORDS] [panw|strict]`.

use std::hint::black_box;

use iot_security_api::synthetic::TenantSpec;
use iot_siem_exporter::cef::{Mapper, MappingOptions, Profile};

fn main() {
    let mut args = std::env::args().skip(1);
    let records: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let profile = match args.next().as_deref() {
        Some("strict") => Profile::Strict,
        _ => Profile::Panw,
    };
    let spec = TenantSpec {
        seed: 3,
        devices: records,
        alerts: records,
        vulnerabilities: records,
    };
    let devices: Vec<_> = (0..records).map(|i| spec.device(i)).collect();
    let alerts: Vec<_> = (0..records).map(|i| spec.alert(i)).collect();
    let vulnerabilities: Vec<_> = (0..records).map(|i| spec.vulnerability(i)).collect();
    let mapper = Mapper::new(MappingOptions {
        profile,
        legacy_prefix: false,
    });
    let mut line = Vec::with_capacity(4096);
    let mut bytes = 0;
    for device in &devices {
        line.clear();
        if mapper.device(device, &mut line).is_ok() {
            bytes += black_box(&line).len();
        }
    }
    for alert in &alerts {
        line.clear();
        if mapper.alert(alert, &mut line).is_ok() {
            bytes += black_box(&line).len();
        }
    }
    for vulnerability in &vulnerabilities {
        line.clear();
        if mapper.vulnerability(vulnerability, &mut line).is_ok() {
            bytes += black_box(&line).len();
        }
    }
    black_box(bytes);
}
