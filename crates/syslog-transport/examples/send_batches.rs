//! Sends a fixed number of batches of 10 000 300-byte RFC 5424 CEF messages (the
//! `send` bench's workload) to the `discard_receiver` example and prints the rate: a
//! criterion-free workload to profile with callgrind, whose instruction counts stay
//! comparable from run to run.
//!
//! Usage: `send_batches tcp|tls|relp PORT CA_FILE BATCHES`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::path::PathBuf;
use std::time::Instant;

use bytes::Bytes;
use syslog_transport::{Framing, Protocol, Sender, TransportConfig};

const BATCH: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, protocol, port, ca, batches] = &args[..] else {
        panic!("usage: send_batches tcp|tls|relp PORT CA_FILE BATCHES");
    };
    let protocol = match protocol.as_str() {
        "tcp" => Protocol::Tcp,
        "tls" => Protocol::Tls,
        "relp" => Protocol::Relp,
        other => panic!("unknown protocol {other}"),
    };
    let batches: usize = batches.parse().expect("BATCHES is a number");
    let mut line = b"CEF:0|Palo Alto Networks|PANWIOT|1.0|Alert|Suspicious traffic|8|deviceExternalId=00:11:22:33:44:55 src=10.1.2.3 dst=10.9.8.7 externalId=TICKET-123456 msg=".to_vec();
    line.resize(240, b'x');
    let batch = vec![Bytes::from(line); BATCH];
    let mut config = TransportConfig::new(protocol, "127.0.0.1");
    config.port = Some(port.parse().expect("PORT is a number"));
    config.framing = Some(Framing::OctetCounting);
    config.tls.ca_file = Some(PathBuf::from(ca));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut sender = Sender::new(config).unwrap();
    // The first batch connects and handshakes; time only the steady state.
    runtime.block_on(sender.send_batch(batch.clone())).unwrap();
    let started = Instant::now();
    for _ in 0..batches {
        runtime.block_on(sender.send_batch(batch.clone())).unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    runtime.block_on(sender.shutdown()).unwrap();
    #[allow(clippy::cast_precision_loss)] // a rate for people to read
    let rate = (batches * BATCH) as f64 / elapsed;
    println!("{protocol}: {rate:.0} msg/s");
}
