//! `demo`: the whole path with nothing to set up. A synthetic tenant on loopback HTTP, the
//! real client, CEF, the real TLS transport (a CA and server certificate made at run time)
//! and an embedded loopback receiver that decodes and counts what arrives.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cef_codec::{Decoder, split_syslog_header};
use iot_security_api::synthetic::{self, TenantSpec};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use siem_pipeline::config::{Duration as ConfigDuration, LoggingConfig, SiemConfig, StateConfig};
use syslog_transport::receiver::{Keep, Receiver, ReceiverConfig, ServerTls};
use syslog_transport::{Framing, Protocol};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::{ExportRequest, Output};
use crate::cef::Profile;
use crate::config::{AlertSeverity, Config, ExportConfig, IotConfig};
use crate::export::{Kind, Mode};

/// The demo's size and layout.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Synthetic devices.
    pub devices: u64,
    /// Synthetic alerts.
    pub alerts: u64,
    /// Synthetic vulnerability instances.
    pub vulnerabilities: u64,
    /// Seed of the synthetic tenant.
    pub seed: u64,
    /// CEF profile.
    pub profile: Profile,
}

/// What the demo saw.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Records the exporter confirmed, per type.
    pub sent: BTreeMap<Kind, u64>,
    /// What the receiver got (absent with `--output stdout`).
    pub received: Option<Received>,
    /// Wall time of the export.
    pub elapsed: Duration,
}

/// What the embedded receiver counted.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// Messages per CEF signature id.
    pub per_signature: BTreeMap<String, u64>,
    /// Messages in all.
    pub messages: u64,
    /// Messages the strict CEF decoder refused.
    pub malformed: u64,
    /// Messages whose identity arrived before.
    pub duplicates: u64,
    /// The first CEF line of each record type.
    pub samples: Vec<String>,
}

/// TLS material made at run time, as PEM files.
pub struct TlsFiles {
    /// The CA certificate (trust anchor).
    pub ca: PathBuf,
    /// The server certificate, for `localhost` and `127.0.0.1`.
    pub server_cert: PathBuf,
    /// The server key.
    pub server_key: PathBuf,
}

impl TlsFiles {
    /// Makes a CA and a server certificate in `dir`.
    pub fn create(dir: &Path) -> anyhow::Result<Self> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "iot-siem-exporter demo CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let authority = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &authority)?;
        let write = |name: &str, text: &str| -> anyhow::Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(path)
        };
        Ok(Self {
            ca: write("ca.pem", &authority.pem())?,
            server_cert: write("server.pem", &cert.pem())?,
            server_key: write("server-key.pem", &key.serialize_pem())?,
        })
    }
}

/// Starts a TLS receiver on loopback that decodes, checks and counts every message,
/// keeping one sample line per record type.
pub async fn start_receiver(tls: &TlsFiles) -> anyhow::Result<(SocketAddr, Counting)> {
    let mut receiver = Receiver::start(
        ReceiverConfig {
            protocol: Protocol::Tls,
            framing: Framing::OctetCounting,
            tls: Some(ServerTls {
                cert_file: tls.server_cert.clone(),
                key_file: tls.server_key.clone(),
                client_ca_file: None,
            }),
            keep: Keep::Collect,
            max_frame: 1 << 20,
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    let address = receiver.local_addr();
    let shared = Arc::new(Mutex::new(Received::default()));
    let received = Arc::clone(&shared);
    let task = tokio::spawn(async move {
        let decoder = Decoder::strict();
        let mut identities: HashSet<String> = HashSet::new();
        while let Some(message) = receiver.next_message().await {
            let text = String::from_utf8_lossy(&message);
            let (_, cef) = split_syslog_header(&text);
            let mut received = received.lock().unwrap_or_else(PoisonError::into_inner);
            received.messages += 1;
            match decoder.decode(cef) {
                Ok(event) => {
                    let signature = event.signature_id();
                    let count = received
                        .per_signature
                        .entry(signature.to_owned())
                        .or_default();
                    *count += 1;
                    if *count == 1 {
                        received.samples.push(cef.to_owned());
                    }
                    let identity = event
                        .get("deviceExternalId")
                        .or_else(|| event.get("externalId"))
                        .map(|id| format!("{signature}/{id}"));
                    if let Some(identity) = identity
                        && !identities.insert(identity)
                    {
                        received.duplicates += 1;
                    }
                }
                Err(_) => received.malformed += 1,
            }
        }
    });
    Ok((address, Counting { shared, task }))
}

/// A running counting receiver.
pub struct Counting {
    shared: Arc<Mutex<Received>>,
    task: JoinHandle<()>,
}

impl Counting {
    /// Waits until `expected` messages arrived, or `limit` passed; returns what arrived.
    pub async fn wait_for(self, expected: u64, limit: Duration) -> Received {
        let deadline = Instant::now() + limit;
        loop {
            let now = self
                .shared
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if now.messages >= expected || Instant::now() >= deadline {
                self.task.abort();
                return now;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Runs the demo.
pub async fn run(
    options: DemoOptions,
    output: Output,
    shutdown: &CancellationToken,
) -> anyhow::Result<DemoReport> {
    let dir = tempfile::tempdir().context("cannot create a temp dir")?;
    let spec = TenantSpec {
        seed: options.seed,
        devices: options.devices,
        alerts: options.alerts,
        vulnerabilities: options.vulnerabilities,
    };
    let tenant = synthetic::serve(spec)
        .await
        .context("cannot serve the synthetic tenant")?;
    let key_id = dir.path().join("key-id");
    let access_key = dir.path().join("access-key");
    std::fs::write(&key_id, synthetic::KEY_ID)?;
    std::fs::write(&access_key, synthetic::ACCESS_KEY)?;

    let (siem, counting) = match output {
        Output::Siem => {
            let tls = TlsFiles::create(dir.path())?;
            let (address, counting) = start_receiver(&tls).await?;
            let siem: SiemConfig = toml::from_str(&format!(
                "host = \"127.0.0.1\"\nport = {}\nprotocol = \"tls\"\nhostname = \"demo\"\nca_file = {:?}\n",
                address.port(),
                tls.ca.display().to_string(),
            ))
            .context("demo [siem] settings")?;
            (Some(siem), Some(counting))
        }
        Output::Stdout => (None, None),
    };
    let config = Config {
        iot: IotConfig {
            url: Some(tenant.base_url()),
            customer_id: Some(synthetic::CUSTOMER_ID.to_owned()),
            allow_http: Some(true),
            key_id_env: None,
            key_id_file: Some(key_id),
            access_key_env: None,
            access_key_file: Some(access_key),
            page_size: Some(1000),
            requests_per_minute: Some(0),
            tenants: Vec::new(),
        },
        siem,
        export: ExportConfig {
            alert_severities: [
                AlertSeverity::Critical,
                AlertSeverity::High,
                AlertSeverity::Medium,
                AlertSeverity::Low,
                AlertSeverity::Info,
            ]
            .into(),
            vulnerability_severities: [
                AlertSeverity::Critical,
                AlertSeverity::High,
                AlertSeverity::Medium,
                AlertSeverity::Low,
                AlertSeverity::Info,
            ]
            .into(),
            cef_profile: options.profile,
            skip_unpublished_alerts: false,
            poll_interval: ConfigDuration::from_secs(900),
            ..ExportConfig::default()
        },
        state: StateConfig {
            dir: dir.path().join("state"),
        },
        logging: LoggingConfig::default(),
        metrics: None,
    };
    let request = ExportRequest {
        mode: Mode::Bulk { throttle: None },
        kinds: Kind::ALL.to_vec(),
        once: true,
        output,
    };
    let started = Instant::now();
    let summaries = crate::app::export(&config, Path::new("(demo)"), &request, shutdown).await?;
    let sent: BTreeMap<Kind, u64> = summaries
        .into_values()
        .flat_map(|summary| summary.sent)
        .collect();
    let total: u64 = sent.values().sum();
    let received = match counting {
        Some(counting) => Some(counting.wait_for(total, Duration::from_secs(10)).await),
        None => None,
    };
    let elapsed = started.elapsed();
    tenant.shutdown().await;
    Ok(DemoReport {
        sent,
        received,
        elapsed,
    })
}

impl DemoReport {
    /// Whether the receiver got every record exactly once, each well-formed.
    pub fn verified(&self) -> bool {
        let total: u64 = self.sent.values().sum();
        self.received.as_ref().is_none_or(|received| {
            received.messages == total && received.malformed == 0 && received.duplicates == 0
        })
    }

    /// The summary shown to the user.
    pub fn render(&self) -> String {
        let total: u64 = self.sent.values().sum();
        let seconds = self.elapsed.as_secs_f64();
        // Precision loss past 2^53 records is irrelevant for a rate.
        #[allow(clippy::cast_precision_loss)]
        let rate = if seconds > 0.0 {
            total as f64 / seconds
        } else {
            0.0
        };
        let mut text = String::from(
            "iot-siem-exporter demo: synthetic tenant -> CEF -> syslog over TLS -> loopback receiver\n",
        );
        for (kind, count) in &self.sent {
            text.push_str(&format!("  {:<16} {count:>8} sent\n", kind.name()));
        }
        text.push_str(&format!(
            "  {:<16} {total:>8} records in {seconds:.2} s ({rate:.0} records/s)\n",
            "total"
        ));
        if let Some(received) = &self.received {
            text.push_str(&format!(
                "  receiver: {} messages, {} malformed, {} duplicates{}\n",
                received.messages,
                received.malformed,
                received.duplicates,
                if self.verified() {
                    " - every record arrived exactly once and decodes"
                } else {
                    " - MISMATCH"
                }
            ));
            if !received.samples.is_empty() {
                text.push_str("sample lines:\n");
                for sample in &received.samples {
                    text.push_str("  ");
                    text.push_str(sample);
                    text.push('\n');
                }
            }
        }
        text
    }
}

/// What the bench receivers counted, per exporter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BenchCounts {
    /// Messages that reached the receiver in `DIR/config.toml` (this exporter's).
    pub exporter: u64,
    /// Messages that reached the receiver in `DIR/endpoints.json` (a peer's).
    pub peer: u64,
}

/// Serves a synthetic tenant and two counting TLS receivers for benchmarks and peers:
/// writes `DIR/config.toml` (the exporter's config, with its own receiver) and
/// `DIR/endpoints.json` (URL, credentials, the other receiver's port and the CA, for
/// another exporter), says `ready` on stdout, and serves until stdin closes. Then it waits
/// until both counts stop moving (messages still in flight) and returns them.
///
/// A closed stdout does not stop it: it serves until stdin closes all the same.
pub async fn serve_for_bench(spec: TenantSpec, dir: &Path) -> anyhow::Result<BenchCounts> {
    std::fs::create_dir_all(dir)?;
    let tenant = synthetic::serve(spec).await?;
    let tls = TlsFiles::create(dir)?;
    let (exporter_port, exporter) = start_counting_receiver(&tls).await?;
    let (peer_port, peer) = start_counting_receiver(&tls).await?;
    let key_id = dir.join("key-id");
    let access_key = dir.join("access-key");
    std::fs::write(&key_id, synthetic::KEY_ID)?;
    std::fs::write(&access_key, synthetic::ACCESS_KEY)?;
    let config = format!(
        "[iot]\nurl = {url:?}\ncustomer_id = {customer:?}\nallow_http = true\nkey_id_file = {key_id:?}\naccess_key_file = {access_key:?}\nrequests_per_minute = 0\n\n\
         [siem]\nhost = \"127.0.0.1\"\nport = {port}\nprotocol = \"tls\"\nca_file = {ca:?}\n\n\
         [export]\nalert_severities = [\"critical\", \"high\", \"medium\", \"low\", \"info\"]\n\
         vulnerability_severities = [\"critical\", \"high\", \"medium\", \"low\", \"info\"]\n\
         skip_unpublished_alerts = false\n\n[state]\ndir = {state:?}\n\n[logging]\nlevel = \"warn\"\n",
        url = tenant.base_url(),
        customer = synthetic::CUSTOMER_ID,
        key_id = key_id.display().to_string(),
        access_key = access_key.display().to_string(),
        port = exporter_port,
        ca = tls.ca.display().to_string(),
        state = dir.join("state").display().to_string(),
    );
    std::fs::write(dir.join("config.toml"), config)?;
    let endpoints = serde_json::json!({
        "url": tenant.base_url(),
        "customer_id": synthetic::CUSTOMER_ID,
        "key_id": synthetic::KEY_ID,
        "access_key": synthetic::ACCESS_KEY,
        "syslog_port": peer_port,
        "ca_file": tls.ca.display().to_string(),
    });
    std::fs::write(dir.join("endpoints.json"), endpoints.to_string())?;
    if let Err(error) = crate::app::announce("ready\n") {
        tracing::warn!(%error, "Cannot say ready on stdout; serving until stdin closes.");
    }
    // Serve until stdin closes.
    let mut stdin = tokio::io::stdin();
    let mut sink = Vec::new();
    let _ = tokio::io::AsyncReadExt::read_to_end(&mut stdin, &mut sink).await;
    // Messages written before the exporters finished may still be decrypted and framed:
    // wait until neither count moved for a while (bounded).
    let settled = async {
        let mut last = (exporter.get(), peer.get());
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = (exporter.get(), peer.get());
            if now == last {
                return now;
            }
            last = now;
        }
    };
    let (exporter_count, peer_count) = tokio::time::timeout(Duration::from_secs(30), settled)
        .await
        .unwrap_or_else(|_| (exporter.get(), peer.get()));
    exporter.task.abort();
    peer.task.abort();
    tenant.shutdown().await;
    Ok(BenchCounts {
        exporter: exporter_count,
        peer: peer_count,
    })
}

/// A TLS receiver on loopback counting the messages it frames.
struct MessageCount {
    count: Arc<std::sync::atomic::AtomicU64>,
    task: JoinHandle<()>,
}

impl MessageCount {
    fn get(&self) -> u64 {
        self.count.load(std::sync::atomic::Ordering::Relaxed)
    }
}

async fn start_counting_receiver(tls: &TlsFiles) -> anyhow::Result<(u16, MessageCount)> {
    let mut receiver = Receiver::start(
        ReceiverConfig {
            protocol: Protocol::Tls,
            framing: Framing::OctetCounting,
            tls: Some(ServerTls {
                cert_file: tls.server_cert.clone(),
                key_file: tls.server_key.clone(),
                client_ca_file: None,
            }),
            keep: Keep::Collect,
            max_frame: 1 << 20,
        },
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    let port = receiver.local_addr().port();
    let count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = Arc::clone(&count);
    let task = tokio::spawn(async move {
        while receiver.next_message().await.is_some() {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    });
    Ok((port, MessageCount { count, task }))
}
