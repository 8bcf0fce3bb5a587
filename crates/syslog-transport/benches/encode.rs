//! Formatting and framing throughput, without a socket: 300-byte RFC 5424 CEF messages.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use syslog_transport::{Encoder, FormatConfig, Formatter, Framer, Framing, LineBreaks};

/// A CEF line that makes a 300-byte RFC 5424 message with the default header.
pub fn cef_payload() -> Vec<u8> {
    let mut line = b"CEF:0|Palo Alto Networks|PANWIOT|1.0|Alert|Suspicious traffic|8|deviceExternalId=00:11:22:33:44:55 src=10.1.2.3 dst=10.9.8.7 externalId=TICKET-123456 msg=".to_vec();
    while line.len() < 240 {
        line.push(b'x');
    }
    line
}

fn encode(c: &mut Criterion) {
    let payload = cef_payload();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1000));
    for (name, framing) in [
        ("rfc5424_octet_counting", Framing::OctetCounting),
        ("rfc5424_lf", Framing::Lf),
    ] {
        let formatter = Formatter::new(&FormatConfig::default()).unwrap();
        let mut encoder = Encoder::new(formatter, Framer::new(framing, LineBreaks::Escape));
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || Vec::with_capacity(400 * 1000),
                |out| {
                    for _ in 0..1000 {
                        encoder.encode_now(&payload, out).unwrap();
                    }
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
