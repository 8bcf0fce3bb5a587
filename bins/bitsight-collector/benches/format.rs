//! The per-finding hot path: formatting one finding as JSON, XDM and CEF.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use bitsight_api::Finding;
use bitsight_collector::format::{CompanyRef, EventKind, Formatter};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use siem_pipeline::config::RecordFormat;

const FINDING: &str = r#"{"temporary_id":"0f3a9c1b2d4e5f60","affects_rating":true,"assets":[{"asset":"203.0.113.7","identifier":null,"category":"high","importance":0.66,"is_ip":true}],"details":{"check_pass":"","diligence_annotations":{"transport":"tcp","Server":"nginx","Status":"HTTP/1.1 200 OK"},"grade":"BAD","remediations":[{"message":"Close the port.","help_text":"This port is reachable from the Internet.","remediation_tip":"Review firewall rules."}],"observed_ips":["203.0.113.7"],"country":"United States","geo_ip_location":"US","dest_port":8443,"rollup_start_date":"2026-11-01","rollup_end_date":"2026-11-20","searchable_details":"port open"},"evidence_key":"203.0.113.7:8443","first_seen":"2026-11-01","last_seen":"2026-11-20","related_findings":[],"risk_category":"Diligence","risk_vector":"open_ports","risk_vector_label":"Open Ports","rolledup_observation_id":"3f2a-17","severity":8.1,"severity_category":"material","tags":[],"remediation_history":{"last_requested_refresh_date":null},"asset_overrides":[],"duration":null,"comments":null,"remaining_decay":12,"impacts_risk_vector_details":"AFFECTS_RATING"}"#;

fn formats(c: &mut Criterion) {
    let finding = Finding::from_json("c1", FINDING).unwrap();
    let company = CompanyRef {
        guid: "c1",
        name: Some("Example"),
    };
    let mut group = c.benchmark_group("bitsight_collector");
    group.throughput(Throughput::Elements(1));
    let model = xdm_modeling::bitsight_model().unwrap();
    for (name, formatter) in [
        ("format_json", Formatter::new(RecordFormat::Json, None)),
        ("format_xdm", Formatter::new(RecordFormat::Xdm, Some(model))),
        ("format_cef", Formatter::new(RecordFormat::Cef, None)),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                formatter
                    .finding(&finding, company, EventKind::Finding)
                    .unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, formats);
criterion_main!(benches);
