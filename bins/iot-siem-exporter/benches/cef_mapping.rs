//! CEF mapping throughput: synthetic records to CEF lines, per profile.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use iot_security_api::synthetic::TenantSpec;
use iot_siem_exporter::cef::{Mapper, MappingOptions, Profile};

const RECORDS: u64 = 1000;

fn mapping(c: &mut Criterion) {
    let spec = TenantSpec {
        seed: 3,
        devices: RECORDS,
        alerts: RECORDS,
        vulnerabilities: RECORDS,
    };
    let devices: Vec<_> = (0..RECORDS).map(|i| spec.device(i)).collect();
    let alerts: Vec<_> = (0..RECORDS).map(|i| spec.alert(i)).collect();
    let vulnerabilities: Vec<_> = (0..RECORDS).map(|i| spec.vulnerability(i)).collect();
    let mut group = c.benchmark_group("cef_mapping");
    group.throughput(Throughput::Elements(RECORDS * 3));
    for (name, profile) in [("panw", Profile::Panw), ("strict", Profile::Strict)] {
        let mapper = Mapper::new(MappingOptions {
            profile,
            legacy_prefix: false,
        });
        let mut line = Vec::with_capacity(4096);
        group.bench_function(name, |b| {
            b.iter(|| {
                for device in &devices {
                    line.clear();
                    let _ = mapper.device(device, &mut line);
                    black_box(&line);
                }
                for alert in &alerts {
                    line.clear();
                    let _ = mapper.alert(alert, &mut line);
                    black_box(&line);
                }
                for vulnerability in &vulnerabilities {
                    line.clear();
                    let _ = mapper.vulnerability(vulnerability, &mut line);
                    black_box(&line);
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, mapping);
criterion_main!(benches);
