//! The sender against the in-process loopback receiver, for every transport and
//! framing, plus the failures a connection test must name.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use common::TlsFiles;
use syslog_transport::receiver::{Keep, Receiver, ReceiverConfig, ServerTls};
use syslog_transport::{
    ConfigError, ConnectionCheck, Framing, OversizePolicy, Protocol, Sender, TransportConfig,
    TransportError,
};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn receiver(protocol: Protocol, framing: Framing, tls: Option<ServerTls>) -> Receiver {
    Receiver::start(
        ReceiverConfig {
            protocol,
            framing,
            tls,
            keep: Keep::Collect,
            max_frame: 1 << 20,
        },
        localhost(),
    )
    .await
    .unwrap()
}

fn server_tls(files: &TlsFiles, mutual: bool) -> ServerTls {
    ServerTls {
        cert_file: files.server_cert.clone(),
        key_file: files.server_key.clone(),
        client_ca_file: mutual.then(|| files.ca.clone()),
    }
}

fn config(protocol: Protocol, addr: SocketAddr) -> TransportConfig {
    let mut config = TransportConfig::new(protocol, addr.ip().to_string());
    config.port = Some(addr.port());
    config.reconnect_first_delay_ms = 20;
    config.reconnect_max_delay_ms = 200;
    config.connect_timeout_ms = 5_000;
    config.retry_timeout_ms = 5_000;
    config
}

fn tls_config(protocol: Protocol, addr: SocketAddr, files: &TlsFiles) -> TransportConfig {
    let mut config = config(protocol, addr);
    config.tls.ca_file = Some(files.ca.clone());
    config
}

/// Sends `payloads` in batches of 500 and checks the receiver got each one intact.
async fn round_trip(config: TransportConfig, receiver: &mut Receiver, payloads: Vec<Vec<u8>>) {
    let mut sender = Sender::new(config).unwrap();
    let expected = payloads.clone();
    let batches: Vec<Vec<Bytes>> = payloads
        .chunks(500)
        .map(|c| c.iter().cloned().map(Bytes::from).collect())
        .collect();
    timeout(LIMIT, async {
        for batch in batches {
            sender.send_batch(batch).await.unwrap();
        }
        for want in &expected {
            let got = receiver.next_message().await.unwrap();
            let (_, body) = common::split_rfc5424(&got);
            assert_eq!(
                String::from_utf8_lossy(body),
                String::from_utf8_lossy(want),
                "message changed on the way"
            );
        }
    })
    .await
    .expect("timed out");
    assert_eq!(sender.counters().sent, expected.len() as u64);
    timeout(LIMIT, sender.shutdown()).await.unwrap().unwrap();
}

#[tokio::test]
async fn tcp_octet_counting_carries_hostile_payloads_intact() {
    let mut rx = receiver(Protocol::Tcp, Framing::OctetCounting, None).await;
    let mut cfg = config(Protocol::Tcp, rx.local_addr());
    cfg.framing = Some(Framing::OctetCounting);
    let mut payloads = common::hostile_payloads(3000);
    payloads.extend((0..100).map(common::with_breaks));
    round_trip(cfg, &mut rx, payloads).await;
}

#[tokio::test]
async fn tcp_lf_is_the_default_and_keeps_frames_whole() {
    let mut rx = receiver(Protocol::Tcp, Framing::Lf, None).await;
    let cfg = config(Protocol::Tcp, rx.local_addr());
    assert_eq!(cfg.effective_framing(), Framing::Lf);
    round_trip(cfg, &mut rx, common::hostile_payloads(3000)).await;

    // Line breaks are escaped, never frame ends.
    let mut rx = receiver(Protocol::Tcp, Framing::Lf, None).await;
    let mut sender = Sender::new(config(Protocol::Tcp, rx.local_addr())).unwrap();
    let batch = (0..50)
        .map(|i| Bytes::from(common::with_breaks(i)))
        .collect();
    timeout(LIMIT, sender.send_batch(batch))
        .await
        .unwrap()
        .unwrap();
    for i in 0..50 {
        let got = timeout(LIMIT, rx.next_message()).await.unwrap().unwrap();
        let (_, body) = common::split_rfc5424(&got);
        assert_eq!(
            body,
            format!("#{i:06} line one\\nline two\\r\\nNUL\0end").as_bytes()
        );
    }
}

#[tokio::test]
async fn tcp_nul_framing() {
    let mut rx = receiver(Protocol::Tcp, Framing::Nul, None).await;
    let mut cfg = config(Protocol::Tcp, rx.local_addr());
    cfg.framing = Some(Framing::Nul);
    round_trip(cfg, &mut rx, common::hostile_payloads(1000)).await;
}

#[tokio::test]
async fn tls_with_octet_counting() {
    let files = TlsFiles::new();
    let mut rx = receiver(
        Protocol::Tls,
        Framing::OctetCounting,
        Some(server_tls(&files, false)),
    )
    .await;
    let cfg = tls_config(Protocol::Tls, rx.local_addr(), &files);
    assert_eq!(cfg.effective_framing(), Framing::OctetCounting);
    let mut payloads = common::hostile_payloads(3000);
    payloads.extend((0..100).map(common::with_breaks));
    round_trip(cfg, &mut rx, payloads).await;
}

/// The discard receiver (benchmarks) decrypts TLS in place; it must still see every
/// plaintext byte the sender framed.
#[tokio::test]
async fn tls_discard_receiver_counts_every_byte() {
    let files = TlsFiles::new();
    let rx = Receiver::start(
        ReceiverConfig {
            protocol: Protocol::Tls,
            framing: Framing::OctetCounting,
            tls: Some(server_tls(&files, false)),
            keep: Keep::Discard,
            max_frame: 1 << 20,
        },
        localhost(),
    )
    .await
    .unwrap();
    let cfg = tls_config(Protocol::Tls, rx.local_addr(), &files);
    let mut encoder = syslog_transport::Encoder::new(
        syslog_transport::Formatter::new(&cfg.format).unwrap(),
        syslog_transport::Framer::new(Framing::OctetCounting, cfg.line_breaks),
    );
    let payloads = common::hostile_payloads(20_000);
    let mut framed = Vec::new();
    for payload in &payloads {
        // RFC 5424 timestamps have a fixed width, so any instant gives the same length.
        encoder
            .encode(payload, time::OffsetDateTime::now_utc(), &mut framed)
            .unwrap();
    }
    let mut sender = Sender::new(cfg).unwrap();
    timeout(LIMIT, async {
        for chunk in payloads.chunks(5_000) {
            let batch = chunk.iter().cloned().map(Bytes::from).collect();
            sender.send_batch(batch).await.unwrap();
        }
        sender.shutdown().await.unwrap();
        while rx.bytes_received() < framed.len() as u64 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the discard receiver did not count every byte");
    assert_eq!(rx.bytes_received(), framed.len() as u64);
}

/// Offers AES-128-GCM first, and a server that follows the client's order (rustls's
/// default) picks it, in TLS 1.3 and in TLS 1.2.
#[tokio::test]
async fn tls_negotiates_aes_128_gcm_first() {
    use rustls::crypto::ring::cipher_suite as suite;
    use rustls::pki_types::pem::PemObject;

    let files = TlsFiles::new();
    for (version, expected) in [
        (&rustls::version::TLS13, suite::TLS13_AES_128_GCM_SHA256),
        (
            &rustls::version::TLS12,
            suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ),
    ] {
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(&files.server_cert)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(&files.server_key).unwrap();
        let server = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(server));
        let listener = tokio::net::TcpListener::bind(localhost()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut stream = acceptor.accept(tcp).await.unwrap();
            let negotiated = stream.get_ref().1.negotiated_cipher_suite().unwrap();
            // Stay open until the client closes, as a receiver does.
            let mut rest = Vec::new();
            let _ = tokio::io::AsyncReadExt::read_to_end(&mut stream, &mut rest).await;
            negotiated
        });
        let sender = Sender::new(tls_config(Protocol::Tls, addr, &files)).unwrap();
        timeout(LIMIT, sender.test_connection())
            .await
            .unwrap()
            .unwrap();
        let negotiated = timeout(LIMIT, server).await.unwrap().unwrap();
        assert_eq!(negotiated.suite(), expected.suite(), "{version:?}");
    }
}

#[tokio::test]
async fn mutual_tls_with_a_client_certificate() {
    let files = TlsFiles::new();
    let mut rx = receiver(
        Protocol::Tls,
        Framing::OctetCounting,
        Some(server_tls(&files, true)),
    )
    .await;
    let mut cfg = tls_config(Protocol::Tls, rx.local_addr(), &files);
    cfg.tls.client_cert_file = Some(files.client_cert.clone());
    cfg.tls.client_key_file = Some(files.client_key.clone());
    let sender = Sender::new(cfg.clone()).unwrap();
    let check = timeout(LIMIT, sender.test_connection())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(check, ConnectionCheck::Confirmed { .. }));
    round_trip(cfg, &mut rx, common::hostile_payloads(500)).await;
}

#[tokio::test]
async fn tls_failures_name_their_cause() {
    let files = TlsFiles::new();
    let rx = receiver(
        Protocol::Tls,
        Framing::OctetCounting,
        Some(server_tls(&files, true)),
    )
    .await;

    // Wrong CA.
    let mut cfg = tls_config(Protocol::Tls, rx.local_addr(), &files);
    cfg.tls.ca_file = Some(files.other_ca.clone());
    let err = timeout(LIMIT, Sender::new(cfg).unwrap().test_connection())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, TransportError::CertificateUntrusted { .. }),
        "{err}"
    );
    insta::assert_snapshot!(
        "tls_wrong_ca",
        err.to_string()
            .replace(&rx.local_addr().to_string(), "ADDR")
    );

    // Wrong name.
    let mut cfg = tls_config(Protocol::Tls, rx.local_addr(), &files);
    cfg.tls.server_name = Some("siem.example.net".into());
    let err = timeout(LIMIT, Sender::new(cfg).unwrap().test_connection())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, TransportError::NameMismatch { .. }), "{err}");
    insta::assert_snapshot!(
        "tls_wrong_name",
        err.to_string()
            .replace(&rx.local_addr().to_string(), "ADDR")
    );

    // No client certificate where the server requires one.
    let cfg = tls_config(Protocol::Tls, rx.local_addr(), &files);
    let err = timeout(LIMIT, Sender::new(cfg.clone()).unwrap().test_connection())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, TransportError::Tls { .. }), "{err}");
    insta::assert_snapshot!(
        "tls_no_client_cert",
        err.to_string()
            .replace(&rx.local_addr().to_string(), "ADDR")
    );

    // ... and a batch is handed back whole, not reported as sent.
    let mut cfg = cfg;
    cfg.retry_timeout_ms = 300;
    let mut sender = Sender::new(cfg).unwrap();
    let err = timeout(
        LIMIT,
        sender.send_batch(vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")]),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.unsent.len(), 2);
    assert_eq!(sender.counters().sent, 0);
    assert_eq!(sender.counters().dropped, 2);
}

#[tokio::test]
async fn tls_verification_off_accepts_an_unknown_ca() {
    let files = TlsFiles::new();
    let mut rx = receiver(
        Protocol::Tls,
        Framing::OctetCounting,
        Some(server_tls(&files, false)),
    )
    .await;
    let mut cfg = config(Protocol::Tls, rx.local_addr());
    cfg.tls.ca_file = Some(files.other_ca.clone());
    cfg.tls.verify = false;
    round_trip(cfg, &mut rx, common::hostile_payloads(10)).await;
}

#[tokio::test]
async fn bad_tls_files_are_configuration_errors() {
    let files = TlsFiles::new();
    let not_pem = files.dir.path().join("not.pem");
    std::fs::write(&not_pem, "this is not a certificate").unwrap();
    let mut cfg = config(Protocol::Tls, localhost());
    cfg.tls.ca_file = Some(not_pem.clone());
    let err = Sender::new(cfg.clone()).unwrap_err();
    assert!(matches!(err, ConfigError::Tls(_)), "{err}");
    insta::assert_snapshot!(
        "tls_ca_not_pem",
        err.to_string()
            .replace(files.dir.path().to_str().unwrap(), "DIR")
    );

    cfg.tls.ca_file = Some(files.dir.path().join("missing.pem"));
    let err = Sender::new(cfg.clone()).unwrap_err();
    assert!(err.to_string().contains("missing.pem"), "{err}");

    cfg.tls.ca_file = Some(files.ca.clone());
    cfg.tls.client_cert_file = Some(files.client_cert.clone());
    let err = Sender::new(cfg.clone()).unwrap_err();
    insta::assert_snapshot!("tls_cert_without_key", err.to_string());

    cfg.tls.client_key_file = Some(not_pem);
    let err = Sender::new(cfg).unwrap_err();
    insta::assert_snapshot!(
        "tls_key_not_pem",
        err.to_string()
            .replace(files.dir.path().to_str().unwrap(), "DIR")
    );
}

#[tokio::test]
async fn relp_every_message_acknowledged() {
    let mut rx = receiver(Protocol::Relp, Framing::OctetCounting, None).await;
    let mut cfg = config(Protocol::Relp, rx.local_addr());
    cfg.relp_window = 64;
    let sender = Sender::new(cfg.clone()).unwrap();
    let check = timeout(LIMIT, sender.test_connection())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(check, ConnectionCheck::Confirmed { .. }));
    let mut payloads = common::hostile_payloads(3000);
    payloads.extend((0..100).map(common::with_breaks));
    round_trip(cfg, &mut rx, payloads).await;
}

#[tokio::test]
async fn relp_over_tls() {
    let files = TlsFiles::new();
    let mut rx = receiver(
        Protocol::RelpTls,
        Framing::OctetCounting,
        Some(server_tls(&files, false)),
    )
    .await;
    let cfg = tls_config(Protocol::RelpTls, rx.local_addr(), &files);
    round_trip(cfg, &mut rx, common::hostile_payloads(2000)).await;
}

#[tokio::test]
async fn udp_ipv4_and_ipv6() {
    for bind in ["127.0.0.1:0", "[::1]:0"] {
        let Ok(mut rx) = Receiver::start(
            ReceiverConfig {
                protocol: Protocol::Udp,
                framing: Framing::None,
                tls: None,
                keep: Keep::Collect,
                max_frame: 65_536,
            },
            bind.parse().unwrap(),
        )
        .await
        else {
            eprintln!("skipping {bind}: cannot bind (no IPv6 on loopback?)");
            continue;
        };
        let cfg = config(Protocol::Udp, rx.local_addr());
        let sender = Sender::new(cfg.clone()).unwrap();
        let check = timeout(LIMIT, sender.test_connection())
            .await
            .unwrap()
            .unwrap();
        assert!(
            matches!(check, ConnectionCheck::Unconfirmable { .. }),
            "{check:?}"
        );
        // Few enough that the kernel's receive buffer cannot overflow on loopback.
        round_trip(cfg, &mut rx, common::hostile_payloads(200)).await;
    }
}

#[tokio::test]
async fn udp_size_limit_truncates_or_rejects() {
    let mut rx = Receiver::start(
        ReceiverConfig {
            protocol: Protocol::Udp,
            framing: Framing::None,
            tls: None,
            keep: Keep::Collect,
            max_frame: 65_536,
        },
        localhost(),
    )
    .await
    .unwrap();
    let mut cfg = config(Protocol::Udp, rx.local_addr());
    cfg.udp_max_message = 480;
    let mut sender = Sender::new(cfg.clone()).unwrap();
    let long = Bytes::from(vec![b'z'; 2000]);
    timeout(
        LIMIT,
        sender.send_batch(vec![long.clone(), Bytes::from_static(b"short")]),
    )
    .await
    .unwrap()
    .unwrap();
    let first = timeout(LIMIT, rx.next_message()).await.unwrap().unwrap();
    assert_eq!(first.len(), 480);
    assert_eq!(sender.counters().truncated, 1);

    cfg.oversize = OversizePolicy::Reject;
    let mut sender = Sender::new(cfg).unwrap();
    let err = timeout(
        LIMIT,
        sender.send_batch(vec![Bytes::from_static(b"fine"), long]),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(!err.cause.is_retryable());
    assert_eq!(err.unsent.len(), 2, "nothing of the batch is sent");
    insta::assert_snapshot!("udp_reject", err.to_string());
}

#[tokio::test]
async fn unix_datagram_and_stream() {
    let dir = tempfile::tempdir().unwrap();
    let dgram_path = dir.path().join("log.sock");
    let server = tokio::net::UnixDatagram::bind(&dgram_path).unwrap();
    let mut cfg = TransportConfig::new(Protocol::UnixDatagram, "");
    cfg.path = Some(dgram_path);
    let mut sender = Sender::new(cfg).unwrap();
    assert!(matches!(
        timeout(LIMIT, sender.test_connection())
            .await
            .unwrap()
            .unwrap(),
        ConnectionCheck::Confirmed { .. }
    ));
    timeout(
        LIMIT,
        sender.send_batch(vec![Bytes::from_static(b"to /dev/log")]),
    )
    .await
    .unwrap()
    .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = timeout(LIMIT, server.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(buf[..n].ends_with(b" siembridge - - - to /dev/log"));

    let stream_path = dir.path().join("stream.sock");
    let listener = tokio::net::UnixListener::bind(&stream_path).unwrap();
    let mut cfg = TransportConfig::new(Protocol::UnixStream, "");
    cfg.path = Some(stream_path);
    let mut sender = Sender::new(cfg).unwrap();
    let reader = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let (mut s, _) = listener.accept().await.unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).await.unwrap();
        text
    });
    timeout(
        LIMIT,
        sender.send_batch(vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")]),
    )
    .await
    .unwrap()
    .unwrap();
    sender.shutdown().await.unwrap();
    let text = timeout(LIMIT, reader).await.unwrap().unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[1].ends_with(" - - - two"));
}

#[tokio::test]
async fn refused_unresolvable_and_timeout_are_named() {
    // A port nobody listens on: bind, note the port, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = timeout(
        LIMIT,
        Sender::new(config(Protocol::Tcp, addr))
            .unwrap()
            .test_connection(),
    )
    .await
    .unwrap()
    .unwrap_err();
    assert!(matches!(err, TransportError::Refused { .. }), "{err}");

    let mut cfg = config(Protocol::Tcp, addr);
    cfg.host = "no-such-host.invalid".into();
    let err = timeout(LIMIT, Sender::new(cfg).unwrap().test_connection())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, TransportError::Resolve { .. }), "{err}");
    assert!(err.to_string().contains("no-such-host.invalid"));

    // A RELP peer that accepts but never answers `open`.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut cfg = config(Protocol::Relp, silent.local_addr().unwrap());
    cfg.connect_timeout_ms = 200;
    let err = timeout(LIMIT, Sender::new(cfg).unwrap().test_connection())
        .await
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, TransportError::ConnectTimeout { .. }),
        "{err}"
    );
    drop(silent);
}

#[tokio::test]
async fn tcp_reconnects_after_the_receiver_restarts() {
    let mut rx = receiver(Protocol::Tcp, Framing::Lf, None).await;
    let addr = rx.local_addr();
    let mut sender = Sender::new(config(Protocol::Tcp, addr)).unwrap();
    timeout(
        LIMIT,
        sender.send_batch(vec![Bytes::from_static(b"before")]),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(timeout(LIMIT, rx.next_message()).await.unwrap().is_some());
    drop(rx);
    // Let the kernel deliver the FIN before the next batch checks the connection.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut rx = Receiver::start(
        ReceiverConfig {
            protocol: Protocol::Tcp,
            framing: Framing::Lf,
            tls: None,
            keep: Keep::Collect,
            max_frame: 1 << 20,
        },
        addr,
    )
    .await
    .unwrap();
    timeout(LIMIT, sender.send_batch(vec![Bytes::from_static(b"after")]))
        .await
        .unwrap()
        .unwrap();
    let got = timeout(LIMIT, rx.next_message()).await.unwrap().unwrap();
    assert!(got.ends_with(b" after"));
    assert_eq!(sender.counters().reconnects, 1);
    assert_eq!(sender.counters().resent, 1);
}

#[tokio::test]
async fn relp_resends_unacknowledged_messages_after_restart() {
    let rx = receiver(Protocol::Relp, Framing::OctetCounting, None).await;
    let addr = rx.local_addr();
    let mut sender = Sender::new(config(Protocol::Relp, addr)).unwrap();
    timeout(LIMIT, sender.send_batch(vec![Bytes::from_static(b"first")]))
        .await
        .unwrap()
        .unwrap();
    drop(rx);
    let restarted = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Receiver::start(
            ReceiverConfig {
                protocol: Protocol::Relp,
                framing: Framing::OctetCounting,
                tls: None,
                keep: Keep::Collect,
                max_frame: 1 << 20,
            },
            addr,
        )
        .await
        .unwrap()
    });
    let batch: Vec<Bytes> = (0..100).map(|i| Bytes::from(format!("m{i}"))).collect();
    timeout(LIMIT, sender.send_batch(batch))
        .await
        .unwrap()
        .unwrap();
    let mut rx = restarted.await.unwrap();
    for i in 0..100 {
        let got = timeout(LIMIT, rx.next_message()).await.unwrap().unwrap();
        assert!(got.ends_with(format!(" m{i}").as_bytes()));
    }
    assert!(sender.counters().reconnects >= 1);
}

#[test]
fn config_deserializes_from_a_flat_toml_section() {
    let cfg: TransportConfig = toml::from_str(
        r#"
        host = "127.0.0.1"
        port = 6514
        protocol = "relp-tls"
        framing = "octet-counting"
        format = "rfc3164"
        facility = "local4"
        severity = "warning"
        app_name = "iot-siem-exporter"
        ca_file = "/etc/ssl/ca.pem"
        verify = true
        oversize = "reject"
        relp_window = 128
        "#,
    )
    .unwrap();
    insta::assert_debug_snapshot!("config_toml", cfg);
    let bad = toml::from_str::<TransportConfig>("host = \"h\"\nprotocol = \"smtp\"").unwrap_err();
    assert!(bad.to_string().contains("smtp"), "{bad}");
    let mut cfg = TransportConfig::new(Protocol::Udp, "h");
    cfg.framing = Some(Framing::Lf);
    insta::assert_snapshot!("config_udp_lf", cfg.validate().unwrap_err().to_string());
}
