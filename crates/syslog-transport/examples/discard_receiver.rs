//! A loopback receiver that discards: TCP, TLS (with a certificate made at start) and
//! RELP (it acks every message), for benchmarks of our sender and of `loggen`.
//!
//! Usage: `discard_receiver DIR` writes `DIR/ca.pem`, `DIR/server.pem` and
//! `DIR/server-key.pem`, prints `tcp=PORT tls=PORT relp=PORT` on one line, and serves
//! until its standard input closes; then it prints the bytes it read on stderr.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::io::Write;
use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use syslog_transport::Framing;
use syslog_transport::Protocol;
use syslog_transport::receiver::{Keep, Receiver, ReceiverConfig, ServerTls};

fn make_certificates(dir: &std::path::Path) -> ServerTls {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "bench CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server-key.pem"), key.serialize_pem()).unwrap();
    ServerTls {
        cert_file: dir.join("server.pem"),
        key_file: dir.join("server-key.pem"),
        client_ca_file: None,
    }
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: discard_receiver DIR"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let tls = make_certificates(&dir);
    // One thread: the receiver must not steal the sender's core on a 2-core machine.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let start = |protocol, tls: Option<ServerTls>| {
            Receiver::start(
                ReceiverConfig {
                    protocol,
                    framing: Framing::OctetCounting,
                    tls,
                    keep: Keep::Discard,
                    max_frame: 1 << 20,
                },
                "127.0.0.1:0".parse().unwrap(),
            )
        };
        let tcp = start(Protocol::Tcp, None).await.unwrap();
        let tls = start(Protocol::Tls, Some(tls)).await.unwrap();
        let relp = start(Protocol::Relp, None).await.unwrap();
        println!(
            "tcp={} tls={} relp={}",
            tcp.local_addr().port(),
            tls.local_addr().port(),
            relp.local_addr().port()
        );
        std::io::stdout().flush().unwrap();
        let _ = tokio::task::spawn_blocking(|| {
            std::io::copy(&mut std::io::stdin(), &mut std::io::sink())
        })
        .await;
        eprintln!(
            "discard_receiver: tcp {} bytes, tls {} bytes, relp {} messages",
            tcp.bytes_received(),
            tls.bytes_received(),
            relp.messages_received()
        );
    });
}
