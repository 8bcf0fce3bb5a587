//! Sender throughput to a loopback receiver that discards: batches of 10 000 300-byte
//! RFC 5424 CEF messages over TCP, TLS and RELP (window 1024), the sender on one
//! current-thread runtime (one core); and TCP through the bounded `SendQueue`
//! (`tcp_queue`), whose cost over `tcp` is the queue's.
//!
//! `SIEMBRIDGE_BENCH_RECEIVER="tcp=P tls=P relp=P ca=PATH"` points it at the
//! `discard_receiver` example (what `scripts/bench` does, so that `loggen` meets the
//! same receiver); without it the bench starts the receivers in a thread of its own.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use syslog_transport::{Protocol, SendQueue, Sender, TransportConfig};

const BATCH: usize = 10_000;

fn cef_payload() -> Bytes {
    // 240 bytes of CEF make a 300-byte RFC 5424 message with the default header.
    let mut line = b"CEF:0|Palo Alto Networks|PANWIOT|1.0|Alert|Suspicious traffic|8|deviceExternalId=00:11:22:33:44:55 src=10.1.2.3 dst=10.9.8.7 externalId=TICKET-123456 msg=".to_vec();
    line.resize(240, b'x');
    Bytes::from(line)
}

/// Ports and CA of the receiver: from the environment, or started here.
fn receiver() -> (HashMap<String, String>, Option<std::process::Child>) {
    if let Ok(spec) = std::env::var("SIEMBRIDGE_BENCH_RECEIVER") {
        let map = spec
            .split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        return (map, None);
    }
    let dir = std::env::temp_dir().join(format!("siembridge-bench-{}", std::process::id()));
    let exe = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/release/examples/discard_receiver");
    let mut child = std::process::Command::new(exe)
        .arg(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("build the receiver first: cargo build --release -p syslog-transport --example discard_receiver");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let mut map: HashMap<String, String> = line
        .split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    map.insert("ca".into(), dir.join("ca.pem").display().to_string());
    (map, Some(child))
}

fn send(c: &mut Criterion) {
    let (receiver, child) = receiver();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let payload = cef_payload();
    let batch: Vec<Bytes> = vec![payload; BATCH];
    let mut group = c.benchmark_group("send");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    for (name, protocol) in [
        ("tcp", Protocol::Tcp),
        ("tls", Protocol::Tls),
        ("relp", Protocol::Relp),
    ] {
        let mut config = TransportConfig::new(protocol, "127.0.0.1");
        config.port = Some(receiver[name].parse().unwrap());
        config.framing = Some(syslog_transport::Framing::OctetCounting);
        config.tls.ca_file = Some(PathBuf::from(&receiver["ca"]));
        config.relp_window = 1024;
        let mut sender = Sender::new(config).unwrap();
        group.bench_function(name, |b| {
            b.iter_batched(
                || batch.clone(),
                |batch| runtime.block_on(sender.send_batch(batch)).unwrap(),
                BatchSize::LargeInput,
            );
        });
        runtime.block_on(sender.shutdown()).unwrap();
    }
    let mut config = TransportConfig::new(Protocol::Tcp, "127.0.0.1");
    config.port = Some(receiver["tcp"].parse().unwrap());
    config.framing = Some(syslog_transport::Framing::OctetCounting);
    config.queue_capacity = BATCH;
    let (queue, worker) = {
        let _runtime = runtime.enter();
        SendQueue::start(Sender::new(config).unwrap())
    };
    group.bench_function("tcp_queue", |b| {
        b.iter_batched(
            || batch.clone(),
            |batch| runtime.block_on(queue.send_batch(batch)).unwrap(),
            BatchSize::LargeInput,
        );
    });
    queue.close();
    runtime.block_on(worker.join()).unwrap();
    group.finish();
    if let Some(mut child) = child {
        drop(child.stdin.take());
        let _ = child.wait();
    }
}

criterion_group!(benches, send);
criterion_main!(benches);
