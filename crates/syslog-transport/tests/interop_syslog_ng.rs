//! The sender against a real syslog-ng (unpacked by scripts/install-receivers) on
//! loopback: its `syslog()` source (RFC 5424, octet counting) and its `network()` source
//! (LF framing, `flags(syslog-protocol)`), each over TCP and over TLS (mutual TLS
//! for both; `network()` with `peer-verify(required-trusted)` must also refuse a client
//! without a certificate, and our error must say so). syslog-ng runs with its own config, pid,
//! persist and control files in a temp dir and is killed by pid at the end.
//!
//! Without syslog-ng these tests print "skipping: syslog-ng not installed" and pass,
//! unless SIEMBRIDGE_REQUIRE_RECEIVERS is set (CI), where they fail.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use common::{Daemon, TlsFiles};
use syslog_transport::{Framing, Protocol, Sender, TransportConfig, TransportError};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(60);

fn syslog_ng_root() -> Option<PathBuf> {
    let root = std::env::var_os("SIEMBRIDGE_SYSLOG_NG_ROOT")
        .map_or_else(|| PathBuf::from("/opt/siembridge/syslog-ng"), PathBuf::from);
    if root.join("usr/sbin/syslog-ng").is_file() {
        return Some(root);
    }
    if common::require_receivers() {
        panic!(
            "skipping: syslog-ng not installed at {} (SIEMBRIDGE_REQUIRE_RECEIVERS is set; run scripts/install-receivers)",
            root.display()
        );
    }
    eprintln!("skipping: syslog-ng not installed (run scripts/install-receivers)");
    None
}

fn start(root: &Path, dir: &Path, source: &str, port: u16) -> Daemon {
    let conf = dir.join("syslog-ng.conf");
    let text = format!(
        r#"@version: 3.38
options {{ log-msg-size(65536); stats-freq(0); }};
source s_test {{ {source} }};
destination d_test {{ file("{out}" template("$(format-json msg=$MSG)\n")); }};
log {{ source(s_test); destination(d_test); }};
"#,
        source = source.replace("PORT", &port.to_string()),
        out = dir.join("out.jsonl").display(),
    );
    std::fs::write(&conf, text).unwrap();
    let child = Command::new(root.join("usr/sbin/syslog-ng"))
        .env("LD_LIBRARY_PATH", root.join("usr/lib/syslog-ng"))
        .arg("-F")
        .arg("-f")
        .arg(&conf)
        .arg(format!(
            "--module-path={}",
            root.join("usr/lib/syslog-ng/3.38").display()
        ))
        .arg("-p")
        .arg(dir.join("syslog-ng.pid"))
        .arg("-R")
        .arg(dir.join("syslog-ng.persist"))
        .arg("-c")
        .arg(dir.join("syslog-ng.ctl"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut daemon = Daemon {
        child,
        name: "syslog-ng",
    };
    common::wait_listening(port, &mut daemon);
    daemon
}

async fn send_and_check(source: &str, framing: Framing) {
    send_and_check_with(source, |config| {
        config.framing = Some(framing);
    })
    .await;
}

async fn send_and_check_with(source: &str, adjust: impl FnOnce(&mut TransportConfig)) {
    let Some(root) = syslog_ng_root() else { return };
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let _daemon = start(&root, dir.path(), source, port);
    let payloads = common::hostile_payloads(5000);
    let mut config = TransportConfig::new(Protocol::Tcp, "127.0.0.1");
    config.port = Some(port);
    adjust(&mut config);
    let mut sender = Sender::new(config).unwrap();
    timeout(LIMIT, async {
        for chunk in payloads.chunks(500) {
            sender
                .send_batch(chunk.iter().cloned().map(Bytes::from).collect())
                .await
                .unwrap();
        }
        sender.shutdown().await.unwrap();
    })
    .await
    .expect("sending timed out");
    let received = common::read_json_lines(
        &dir.path().join("out.jsonl"),
        payloads.len(),
        Duration::from_secs(30),
    );
    assert_eq!(
        common::missing(&payloads, &received),
        0,
        "messages lost or changed"
    );
    assert_eq!(received.len(), payloads.len());
}

#[tokio::test]
async fn syslog_source_with_octet_counting() {
    send_and_check(
        r#"syslog(ip("127.0.0.1") port(PORT) transport("tcp"));"#,
        Framing::OctetCounting,
    )
    .await;
}

#[tokio::test]
async fn network_source_with_lf_framing() {
    send_and_check(
        r#"network(ip("127.0.0.1") port(PORT) transport("tcp") flags(syslog-protocol));"#,
        Framing::Lf,
    )
    .await;
}

fn tls_options(files: &TlsFiles, peer_verify: &str) -> String {
    format!(
        r#"tls(key-file("{key}") cert-file("{cert}") ca-file("{ca}") peer-verify({peer_verify}))"#,
        key = files.server_key.display(),
        cert = files.server_cert.display(),
        ca = files.ca.display(),
    )
}

#[tokio::test]
async fn syslog_source_over_tls_with_client_certificate() {
    let files = TlsFiles::new();
    let source = format!(
        r#"syslog(ip("127.0.0.1") port(PORT) transport("tls") {});"#,
        tls_options(&files, "required-trusted")
    );
    send_and_check_with(&source, |config| {
        config.protocol = Protocol::Tls;
        config.tls.ca_file = Some(files.ca.clone());
        config.tls.client_cert_file = Some(files.client_cert.clone());
        config.tls.client_key_file = Some(files.client_key.clone());
    })
    .await;
}

#[tokio::test]
async fn network_source_over_tls_with_lf_framing() {
    let files = TlsFiles::new();
    let source = format!(
        r#"network(ip("127.0.0.1") port(PORT) transport("tls") flags(syslog-protocol) {});"#,
        tls_options(&files, "optional-untrusted")
    );
    send_and_check_with(&source, |config| {
        config.protocol = Protocol::Tls;
        config.framing = Some(Framing::Lf);
        config.tls.ca_file = Some(files.ca.clone());
    })
    .await;
}

fn network_tls_source(files: &TlsFiles, peer_verify: &str) -> String {
    format!(
        r#"network(ip("127.0.0.1") port(PORT) transport("tls") flags(syslog-protocol) {});"#,
        tls_options(files, peer_verify)
    )
}

#[tokio::test]
async fn network_source_over_tls_with_client_certificate() {
    let files = TlsFiles::new();
    send_and_check_with(&network_tls_source(&files, "required-trusted"), |config| {
        config.protocol = Protocol::Tls;
        config.framing = Some(Framing::Lf);
        config.tls.ca_file = Some(files.ca.clone());
        config.tls.client_cert_file = Some(files.client_cert.clone());
        config.tls.client_key_file = Some(files.client_key.clone());
    })
    .await;
}

/// `peer-verify(required-trusted)` without a client certificate: syslog-ng ends the
/// handshake; the connection test and a batch both fail with an error that names the
/// missing certificate, and the batch comes back whole. Nothing reaches the output.
#[tokio::test]
async fn network_source_over_tls_refuses_a_client_without_certificate() {
    let Some(root) = syslog_ng_root() else { return };
    let files = TlsFiles::new();
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let _daemon = start(
        &root,
        dir.path(),
        &network_tls_source(&files, "required-trusted"),
        port,
    );
    let mut config = TransportConfig::new(Protocol::Tls, "127.0.0.1");
    config.port = Some(port);
    config.framing = Some(Framing::Lf);
    config.tls.ca_file = Some(files.ca.clone());
    config.reconnect_first_delay_ms = 50;
    config.reconnect_max_delay_ms = 200;
    config.retry_timeout_ms = 1_000;
    let says_certificate_required = |err: &TransportError| {
        matches!(err, TransportError::Tls { .. })
            && err.to_string().contains(
                "the receiver requires a client certificate: set client_cert_file and client_key_file",
            )
    };

    let sender = Sender::new(config.clone()).unwrap();
    let err = timeout(LIMIT, sender.test_connection())
        .await
        .expect("connection test timed out")
        .expect_err("syslog-ng accepted a client without a certificate");
    assert!(says_certificate_required(&err), "unclear error: {err}");

    let mut sender = Sender::new(config).unwrap();
    let payloads: Vec<Bytes> = common::hostile_payloads(100)
        .into_iter()
        .map(Bytes::from)
        .collect();
    let err = timeout(LIMIT, sender.send_batch(payloads.clone()))
        .await
        .expect("send timed out")
        .expect_err("syslog-ng accepted a batch from a client without a certificate");
    assert!(
        says_certificate_required(&err.cause),
        "unclear error: {err}"
    );
    assert_eq!(err.unsent, payloads, "the whole batch must come back");
    assert_eq!(sender.counters().sent, 0);
    let out = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap_or_default();
    assert!(out.is_empty(), "syslog-ng stored messages: {out}");
}
