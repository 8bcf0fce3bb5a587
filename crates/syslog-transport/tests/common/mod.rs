//! Helpers shared by the integration tests: TLS material made at test time, hostile
//! payloads, and a strict parser for what the sender writes.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)] // each test file uses a different part

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, as
/// PEM files in a temp dir.
pub struct TlsFiles {
    pub dir: tempfile::TempDir,
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// Another CA that signed nothing we use.
    pub other_ca: PathBuf,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn leaf(
    names: &[&str],
    purpose: ExtendedKeyUsagePurpose,
    issuer: &CertifiedIssuer<'static, KeyPair>,
) -> (String, String) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    params.extended_key_usages = vec![purpose];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

impl TlsFiles {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let authority = ca("siembridge test CA");
        let (server_cert, server_key) = leaf(
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &authority,
        );
        let (client_cert, client_key) = leaf(
            &["siembridge-client"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &authority,
        );
        let other = ca("some other CA");
        let p = dir.path();
        Self {
            ca: write(p, "ca.pem", &authority.pem()),
            server_cert: write(p, "server.pem", &server_cert),
            server_key: write(p, "server-key.pem", &server_key),
            client_cert: write(p, "client.pem", &client_cert),
            client_key: write(p, "client-key.pem", &client_key),
            other_ca: write(p, "other-ca.pem", &other.pem()),
            dir,
        }
    }
}

/// Payloads built to break a careless sender: line breaks, NUL, CR, frame-looking
/// prefixes, RELP-looking text, invalid UTF-8, brackets and quotes, long and empty ones.
pub fn hostile_payloads(count: usize) -> Vec<Vec<u8>> {
    let shapes: [&[u8]; 12] = [
        b"CEF:0|Vendor|Product|1.0|100|name with | pipe|5|msg=a\\=b cs1=x",
        b"12 <13>1 - - - - - - forged frame",
        b"<13>1 2026-01-01T00:00:00Z forged - - - - injected",
        b"2 syslog 5 hello",
        b"quotes \" and ] and \\ and [sd@1 a=\"b\"]",
        "unicode: \u{e9}\u{e8} \u{4e2d}\u{6587} \u{1f512}".as_bytes(),
        b"\xEF\xBB\xBFBOM first",
        b"trailing space ",
        b"  leading spaces",
        b"tab\tseparated\tvalues",
        b"%d %s {} $1 ${jndi:ldap://x}",
        b"x",
    ];
    (0..count)
        .map(|i| {
            let mut p = format!("#{i:06} ").into_bytes();
            p.extend_from_slice(shapes[i % shapes.len()]);
            if i % 7 == 0 {
                p.extend(std::iter::repeat_n(b'a', 1500));
            }
            p
        })
        .collect()
}

/// Payloads for transports that rewrite or cut line breaks: the hostile set plus
/// embedded LF, CR and NUL.
pub fn with_breaks(i: usize) -> Vec<u8> {
    format!("#{i:06} line one\nline two\r\nNUL\0end").into_bytes()
}

/// Splits an RFC 5424 message that this crate wrote (nil structured data) into
/// (header, message), strictly: PRI VERSION, TIMESTAMP, HOST, APP, PROCID, MSGID, SD.
pub fn split_rfc5424(message: &[u8]) -> (&[u8], &[u8]) {
    let mut spaces = 0;
    for (i, &b) in message.iter().enumerate() {
        if b == b' ' {
            spaces += 1;
            if spaces == 7 {
                return (&message[..i], &message[i + 1..]);
            }
        }
    }
    panic!(
        "not an RFC 5424 message: {:?}",
        String::from_utf8_lossy(message)
    );
}

/// Whether a receiver binary must be there (CI) or its absence skips the test.
pub fn require_receivers() -> bool {
    std::env::var_os("SIEMBRIDGE_REQUIRE_RECEIVERS").is_some()
}

/// A receiver process started by a test; killed (SIGKILL) by pid when dropped, so also
/// when the test fails.
pub struct Daemon {
    pub child: std::process::Child,
    pub name: &'static str,
}

impl Daemon {
    /// Kills it now (kill -9) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free TCP port on 127.0.0.1 (bound, noted, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
pub fn wait_listening(port: u16, daemon: &mut Daemon) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = daemon.child.try_wait() {
            panic!("{} exited before listening: {status}", daemon.name);
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{} does not listen on port {port} after 20 s", daemon.name);
}

/// Reads the JSON-lines file a receiver writes (`{"msg":"..."}` per message) until it
/// holds `want` lines or `within` passes; returns the messages.
pub fn read_json_lines(path: &Path, want: usize, within: std::time::Duration) -> Vec<String> {
    let deadline = std::time::Instant::now() + within;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let complete = text.matches('\n').count();
        if complete >= want || std::time::Instant::now() >= deadline {
            return text
                .lines()
                .map(|line| {
                    let value: serde_json::Value = serde_json::from_str(line)
                        .unwrap_or_else(|e| panic!("bad line {line:?}: {e}"));
                    value["msg"].as_str().unwrap().to_owned()
                })
                .collect();
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// Checks that `received` holds each of `sent` exactly (order and duplicates aside);
/// returns how many of `sent` are missing.
pub fn missing(sent: &[Vec<u8>], received: &[String]) -> usize {
    let got: std::collections::HashSet<&str> = received.iter().map(String::as_str).collect();
    sent.iter()
        .filter(|p| !got.contains(String::from_utf8_lossy(p).as_ref()))
        .count()
}
