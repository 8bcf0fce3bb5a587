//! Encoding and decoding a realistic 15-field IoT Security device event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::net::Ipv4Addr;

use cef_codec::{Decoder, Event, EventBuilder, HeaderTemplate, MacAddress, Severity, keys};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use time::macros::datetime;

/// A device as the IoT Security exporter writes it: 15 extension pairs, one value with `=`.
fn iot_device<'a>(profile: &'a str, site: &'a str) -> EventBuilder<'a> {
    Event::builder()
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
        .text(keys::CS1, profile)
        .label(keys::CS2, "Category")
        .text(keys::CS2, "Infusion System")
        .label(keys::CS3, "Vendor")
        .text(keys::CS3, "Becton, Dickinson and Company")
        .label(keys::CS4, "Site")
        .text(keys::CS4, site)
        .time(keys::RT, datetime!(2026-11-24 04:00:00.250 UTC))
        .label(keys::CN1, "Risk score")
        .long(keys::CN1, 72)
}

fn cef(c: &mut Criterion) {
    let event = iot_device("BD Alaris Infusion Pump", "Ward 3 = East wing")
        .build()
        .unwrap();
    let line = event.encode();
    let mut group = c.benchmark_group("cef");
    group.throughput(Throughput::Elements(1));
    let mut out = Vec::with_capacity(512);
    // What a bulk caller pays per record: typed values in, CEF bytes out (escaping happens
    // here), through the fastest path, a HeaderTemplate made once for the run writing each
    // event straight into the caller's buffer. Every value goes through black_box, as a
    // record's values come from data: literals would be checked when compiling.
    let template = HeaderTemplate::new("PaloAltoNetworks", "PANWIOT", "1.0").unwrap();
    let severity = Severity::new(1).unwrap();
    group.bench_function("encode", |b| {
        b.iter(|| {
            out.clear();
            template
                .event(
                    &mut out,
                    black_box("asset"),
                    black_box("Asset Identification"),
                    severity,
                )
                .text(keys::DEVICE_EXTERNAL_ID, black_box("a4:5e:60:c2:11:01"))
                .text(keys::DVCHOST, black_box("infusion-pump-03"))
                .ipv4(keys::SRC, black_box(Ipv4Addr::new(10, 12, 40, 7)))
                .mac(
                    keys::DVCMAC,
                    black_box(MacAddress([0xa4, 0x5e, 0x60, 0xc2, 0x11, 0x01])),
                )
                .label(keys::CS1, black_box("Profile"))
                .text(keys::CS1, black_box("BD Alaris Infusion Pump"))
                .label(keys::CS2, black_box("Category"))
                .text(keys::CS2, black_box("Infusion System"))
                .label(keys::CS3, black_box("Vendor"))
                .text(keys::CS3, black_box("Becton, Dickinson and Company"))
                .label(keys::CS4, black_box("Site"))
                .text(keys::CS4, black_box("Ward 3 = East wing"))
                .time(keys::RT, black_box(datetime!(2026-11-24 04:00:00.250 UTC)))
                .label(keys::CN1, black_box("Risk score"))
                .long(keys::CN1, black_box(72))
                .finish()
                .unwrap();
            black_box(&out);
        });
    });
    // The same record from a builder each time, written straight into the buffer
    // (EventBuilder::encode_into): the whole header is checked and escaped per event.
    group.bench_function("encode_from_builder", |b| {
        b.iter(|| {
            out.clear();
            iot_device(
                black_box("BD Alaris Infusion Pump"),
                black_box("Ward 3 = East wing"),
            )
            .encode_into(&mut out)
            .unwrap();
            black_box(&out);
        });
    });
    // The same through an Event: build() then Event::encode_into.
    group.bench_function("encode_via_event", |b| {
        b.iter(|| {
            out.clear();
            iot_device(
                black_box("BD Alaris Infusion Pump"),
                black_box("Ward 3 = East wing"),
            )
            .build()
            .unwrap()
            .encode_into(&mut out);
            black_box(&out);
        });
    });
    // Writing an event built once: a copy of its already-escaped text.
    group.bench_function("encode_prebuilt", |b| {
        b.iter(|| {
            out.clear();
            black_box(&event).encode_into(&mut out);
            black_box(&out);
        });
    });
    let strict = Decoder::strict();
    group.bench_function("decode", |b| {
        b.iter(|| strict.decode_bytes(black_box(&line)).unwrap());
    });
    let lenient = Decoder::lenient();
    group.bench_function("decode_lenient", |b| {
        b.iter(|| lenient.decode_bytes(black_box(&line)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, cef);
criterion_main!(benches);
