//! Hot paths: parsing + compiling a rule, and applying the bundled Bitsight model.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value};
use std::hint::black_box;
use xdm_modeling::testdata::TestData;
use xdm_modeling::{BITSIGHT_RULES, Rules, bitsight_model};

const TESTDATA: &str =
    include_str!("../../../fixtures/modeling-rules/bitsight/Bitsight_testdata.json");

fn events() -> Vec<Map<String, Value>> {
    TestData::from_json_str(TESTDATA)
        .unwrap()
        .data
        .into_iter()
        .map(|e| e.event_data)
        .collect()
}

fn bench(c: &mut Criterion) {
    let model = bitsight_model().unwrap();
    let events = events();
    let lines: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();

    let mut group = c.benchmark_group("bitsight");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("apply", |b| {
        b.iter(|| {
            for event in &events {
                black_box(model.apply(black_box(event)).unwrap());
            }
        });
    });
    group.bench_function("ndjson_line_to_line", |b| {
        let mut out = Vec::with_capacity(4096);
        b.iter(|| {
            out.clear();
            for line in &lines {
                if model.apply_json_line(black_box(line), &mut out).unwrap() {
                    out.push(b'\n');
                }
            }
            black_box(&out);
        });
    });
    group.finish();

    c.bench_function("bitsight/parse_and_compile", |b| {
        b.iter(|| {
            let rules = Rules::parse("Bitsight.xif", black_box(BITSIGHT_RULES));
            black_box(rules.compile(None, None).unwrap());
        });
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
