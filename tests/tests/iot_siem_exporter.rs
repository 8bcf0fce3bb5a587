//! End-to-end tests of the `iot-siem-exporter` binary: a synthetic tenant and a syslog
//! receiver in this process, the real binary in another, everything on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use cef_codec::{Decoder, split_syslog_header};
use iot_security_api::synthetic::{self, RecordKind, ServerHandle, TenantSpec};
use siembridge_tests::{command, run_with_limit, wait_with_limit};
use syslog_transport::receiver::{Keep, Receiver, ReceiverConfig};
use syslog_transport::{Framing, Protocol};
use tokio::runtime::Runtime;

const LIMIT: Duration = Duration::from_secs(120);

/// A synthetic tenant and a collecting syslog receiver, served by a runtime of their own
/// while the binary runs.
struct Harness {
    runtime: Runtime,
    tenant: Option<ServerHandle>,
    spec: TenantSpec,
    received: Arc<Mutex<Vec<String>>>,
    /// Where the receiver listens; kept across a stop, so it starts again on its port.
    receiver_addr: SocketAddr,
    receiver: Option<ReceiverThread>,
    protocol: Protocol,
    /// Where the exporter sends (the receiver, or a closed port).
    siem_port: u16,
    dir: tempfile::TempDir,
}

impl Harness {
    fn new(spec: TenantSpec) -> Self {
        Self::with_protocol(spec, Protocol::Tcp)
    }

    fn with_protocol(spec: TenantSpec, protocol: Protocol) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let tenant = runtime.block_on(synthetic::serve(spec)).unwrap();
        let mut harness = Self {
            runtime,
            tenant: Some(tenant),
            spec,
            received: Arc::default(),
            receiver_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            receiver: None,
            protocol,
            siem_port: 0,
            dir: tempfile::tempdir().unwrap(),
        };
        harness.start_receiver();
        harness
    }

    /// Starts the receiver (again on its port after a stop) on a thread of its own.
    fn start_receiver(&mut self) {
        let config = ReceiverConfig {
            protocol: self.protocol,
            framing: Framing::OctetCounting,
            tls: None,
            keep: Keep::Collect,
            max_frame: 1 << 20,
        };
        let receiver =
            ReceiverThread::start(config, self.receiver_addr, Arc::clone(&self.received));
        self.receiver_addr = receiver.addr;
        self.siem_port = receiver.addr.port();
        self.receiver = Some(receiver);
    }

    /// Stops the receiver: it stops listening and every connection is cut, and each
    /// message it took (and, over RELP, acknowledged) is kept.
    fn stop_receiver(&mut self) {
        if let Some(receiver) = self.receiver.take() {
            receiver.stop();
        }
    }

    /// Points the exporter at a port nothing listens on.
    fn siem_away(&mut self) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        self.siem_port = listener.local_addr().unwrap().port();
    }

    fn tenant(&self) -> &ServerHandle {
        self.tenant.as_ref().unwrap()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A config for this tenant and receiver; `extra` is appended (more sections).
    fn config(&self, export: &str, extra: &str) -> PathBuf {
        let protocol = match self.protocol {
            Protocol::Relp => "relp",
            _ => "tcp",
        };
        let text = format!(
            r#"[iot]
url = "{url}"
customer_id = "{customer}"
allow_http = true
requests_per_minute = 0

[siem]
host = "127.0.0.1"
port = {port}
protocol = "{protocol}"
framing = "octet-counting"
retry_timeout = "30s"

[export]
alert_severities = ["critical", "high", "medium", "low", "info"]
vulnerability_severities = ["critical", "high", "medium", "low", "info"]
skip_unpublished_alerts = false
{export}

[state]
dir = "{state}"

[logging]
level = "info"
{extra}
"#,
            url = self.tenant().base_url(),
            customer = synthetic::CUSTOMER_ID,
            port = self.siem_port,
            state = self.path("state").display(),
        );
        let path = self.path("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Waits until at least `count` messages arrived (or a few seconds passed).
    fn wait_for(&self, count: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let received = self.received.lock().unwrap().clone();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every identity the tenant holds, as `signature/id`.
    fn expected(&self) -> BTreeSet<String> {
        let tenant = self.tenant();
        let mut ids = BTreeSet::new();
        for i in tenant.live(RecordKind::Devices) {
            ids.insert(format!("asset/{}", self.spec.device(i).deviceid.unwrap()));
        }
        for i in tenant.live(RecordKind::Alerts) {
            ids.insert(format!(
                "PaloAltoNetworks Alert:policy_alert/{}",
                self.spec.alert(i).zb_ticketid.unwrap()
            ));
        }
        for i in tenant.live(RecordKind::Vulnerabilities) {
            ids.insert(format!(
                "vulnerability/{}",
                self.spec.vulnerability(i).zb_ticketid.unwrap()
            ));
        }
        ids
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop_receiver();
        if let Some(tenant) = self.tenant.take() {
            self.runtime.block_on(tenant.shutdown());
        }
    }
}

/// A collecting receiver served by a current-thread runtime on its own thread. Stopping
/// it moves every message already taken into `received` and then drops the receiver in
/// one step on that single thread, so nothing it acknowledged can slip in between.
struct ReceiverThread {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ReceiverThread {
    fn start(config: ReceiverConfig, addr: SocketAddr, received: Arc<Mutex<Vec<String>>>) -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, bound_at) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                // The port may linger for a moment after a stop: retry the bind briefly.
                let deadline = Instant::now() + Duration::from_secs(10);
                let mut receiver = loop {
                    match Receiver::start(config.clone(), addr).await {
                        Ok(receiver) => break receiver,
                        Err(error) if Instant::now() > deadline => panic!("receiver: {error}"),
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                };
                bound.send(receiver.local_addr()).unwrap();
                let keep = |message: &[u8]| {
                    received
                        .lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(message).into_owned());
                };
                let mut stopped = std::pin::pin!(stopped);
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        message = receiver.next_message() => match message {
                            Some(message) => keep(&message),
                            None => return,
                        },
                    }
                }
                // No other task runs while this one drains and drops: the last message
                // taken is the last one acknowledged.
                let mut cx = Context::from_waker(Waker::noop());
                while let Poll::Ready(Some(message)) =
                    std::pin::pin!(receiver.next_message()).poll(&mut cx)
                {
                    keep(&message);
                }
                drop(receiver);
            });
        });
        let addr = bound_at.recv_timeout(Duration::from_secs(15)).unwrap();
        Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

/// The CEF part of a syslog message, decoded strictly; panics with the line otherwise.
fn identity(message: &str) -> String {
    let (_, cef) = split_syslog_header(message);
    let event = Decoder::strict()
        .decode(cef)
        .unwrap_or_else(|error| panic!("{error}: {message:?}"));
    let id = event
        .get("deviceExternalId")
        .or_else(|| event.get("externalId"))
        .unwrap_or_else(|| panic!("no identity in {message:?}"));
    format!("{}/{id}", event.signature_id())
}

fn exporter(config: &Path, args: &[&str]) -> Command {
    let mut cmd = command("iot-siem-exporter");
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env("IOT_KEY_ID", synthetic::KEY_ID)
        .env("IOT_ACCESS_KEY", synthetic::ACCESS_KEY);
    cmd
}

fn run(config: &Path, args: &[&str]) -> Output {
    run_with_limit(&mut exporter(config, args), LIMIT)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}\nstderr:\n{}",
        output.status.code(),
        stderr(output)
    );
}

fn spec(devices: u64, alerts: u64, vulnerabilities: u64) -> TenantSpec {
    TenantSpec {
        seed: 11,
        devices,
        alerts,
        vulnerabilities,
    }
}

#[test]
fn bulk_delivers_every_record_exactly_once_and_hostile_values_decode() {
    let harness = Harness::new(spec(1500, 1200, 1100));
    let config = harness.config("", "");
    let output = run(&config, &["bulk"]);
    assert_ok(&output);
    let expected = harness.expected();
    let received = harness.wait_for(expected.len());
    assert_eq!(received.len(), expected.len(), "exactly once");
    let got: BTreeSet<String> = received.iter().map(|m| identity(m)).collect();
    assert_eq!(got, expected);
    // The synthetic tenant puts `|`, `=`, `\` and line breaks into some values: every
    // line above decoded strictly, and none of them split a message.
    assert!(received.iter().any(|m| m.contains("\\=")));

    // A second bulk run starts over (the first one finished) and sends everything again.
    let output = run(&config, &["bulk", "--types", "alerts"]);
    assert_ok(&output);
    assert_eq!(
        harness.wait_for(expected.len() + 1200).len(),
        expected.len() + 1200
    );
}

/// The `key=value` fields of a human log line.
fn log_fields(line: &str) -> BTreeMap<&str, &str> {
    line.split_whitespace()
        .filter_map(|field| field.split_once('='))
        .collect()
}

/// Without a terminal, progress is an `info` line per type every `progress_interval`:
/// records read, the API's total when it sends one, the rate and the ETA, and a last
/// line when the type is done.
#[test]
fn progress_is_logged_per_type_with_counts_totals_and_eta() {
    let harness = Harness::new(spec(20000, 2000, 1500));
    let config = harness.config("progress_interval = \"50ms\"", "");
    let output = run(&config, &["bulk"]);
    assert_ok(&output);
    let log = stderr(&output);
    let lines: Vec<BTreeMap<&str, &str>> = log
        .lines()
        .filter(|line| line.contains("Progress."))
        .map(log_fields)
        .collect();
    let of = |kind: &str| -> Vec<&BTreeMap<&str, &str>> {
        let task = format!("{}/{kind}", synthetic::CUSTOMER_ID);
        lines
            .iter()
            .filter(|fields| fields["task"] == task)
            .collect()
    };
    // The synthetic tenant reports totals for devices and alerts, not vulnerabilities.
    for (kind, count) in [("devices", "20000"), ("alerts", "2000")] {
        let last = *of(kind)
            .last()
            .unwrap_or_else(|| panic!("no {kind} progress:\n{log}"));
        assert_eq!(last["done"], count, "{log}");
        assert_eq!(last["total"], count, "{log}");
        assert_eq!(last["eta_seconds"], "0", "{log}");
    }
    let vulnerabilities = of("vulnerabilities");
    let last = vulnerabilities.last().expect("no vulnerabilities progress");
    assert_eq!(last["done"], "1500", "{log}");
    assert!(!last.contains_key("total"), "{log}");
    // Lines while the export ran: counts below the total, with an ETA.
    assert!(
        of("devices")
            .iter()
            .any(|fields| fields["done"] != "20000" && fields.contains_key("eta_seconds")),
        "no progress line while devices were exported:\n{log}"
    );
}

#[test]
fn stdout_carries_records_only() {
    let harness = Harness::new(spec(300, 200, 100));
    let config = harness.config("cef_profile = \"strict\"", "");
    let output = run(&config, &["--output", "stdout", "bulk"]);
    assert_ok(&output);
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 600);
    let ids: BTreeSet<String> = lines.iter().map(|line| identity(line)).collect();
    assert_eq!(ids, harness.expected());
    assert!(stderr(&output).contains("Run finished"));
    assert!(harness.received.lock().unwrap().is_empty());
}

#[test]
fn kill_9_at_random_points_then_resume_loses_nothing() {
    let harness = Harness::new(spec(12_000, 6_000, 6_000));
    let config = harness.config("batch_records = 500", "");
    let mut seed = u64::from(std::process::id()) ^ 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = Duration::from_millis(150 + (seed >> 33) % 600);
        let mut child = exporter(&config, &["bulk"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let output = run(&config, &["bulk"]);
    assert_ok(&output);
    let expected = harness.expected();
    let received = harness.wait_for(expected.len());
    let got: BTreeSet<String> = received.iter().map(|m| identity(m)).collect();
    let missing: Vec<&String> = expected.difference(&got).take(5).collect();
    assert!(missing.is_empty(), "lost records, e.g. {missing:?}");
    // At least once, and not much more than once: each kill repeats at most the
    // batches in flight.
    assert!(
        received.len() < expected.len() + 3 * 4 * 500,
        "{}",
        received.len()
    );
}

/// A bulk run stopped after 2500 confirmed devices resumes at the API offset of the page
/// holding the next one (2000, pages of 1000), not at 0: it passes over only the 500
/// confirmed records of that page, delivers each remaining device once, and counts its
/// progress from there.
#[test]
fn a_resumed_bulk_run_asks_the_api_for_the_committed_page() {
    let harness = Harness::new(spec(3_500, 0, 0));
    let config = harness.config("batch_records = 500\nprogress_interval = \"50ms\"", "");
    // Throttled to 2500 records then a long pause, during which SIGTERM stops the run
    // cleanly: everything delivered is confirmed and committed.
    let child = exporter(
        &config,
        &[
            "bulk", "--types", "devices", "--batch", "2500", "--every", "1h",
        ],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    assert_eq!(harness.wait_for(2_500).len(), 2_500);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let output = wait_with_limit(child, LIMIT);
    assert_ok(&output);
    let first_run = harness.tenant().list_offsets(RecordKind::Devices);
    assert_eq!(first_run.first(), Some(&0));

    let output = run(&config, &["bulk", "--types", "devices"]);
    assert_ok(&output);
    let resumed = harness.tenant().list_offsets(RecordKind::Devices)[first_run.len()..].to_vec();
    assert_eq!(resumed.first(), Some(&2_000), "{resumed:?}");
    assert!(resumed.iter().all(|offset| *offset >= 2_000), "{resumed:?}");

    // Exactly once over both runs: nothing before the committed count came again.
    let expected = harness.expected();
    let received = harness.wait_for(expected.len());
    assert_eq!(received.len(), 3_500);
    let got: BTreeSet<String> = received.iter().map(|m| identity(m)).collect();
    assert_eq!(got, expected);

    // Progress counts the list's position, from the resumed page on.
    let log = stderr(&output);
    let done: Vec<u64> = log
        .lines()
        .filter(|line| line.contains("Progress."))
        .map(log_fields)
        .filter(|fields| fields["task"].ends_with("/devices"))
        .map(|fields| fields["done"].parse().unwrap())
        .collect();
    assert!(done.iter().all(|done| *done > 2_000), "{log}");
    assert_eq!(done.last(), Some(&3_500), "{log}");
}

#[test]
fn severity_filters_and_unpublished_alerts() {
    let harness = Harness::new(spec(50, 400, 400));
    let config = harness.config("", "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "alert_severities = [\"critical\", \"high\", \"medium\", \"low\", \"info\"]",
            "alert_severities = [\"high\"]",
        )
        .replace(
            "vulnerability_severities = [\"critical\", \"high\", \"medium\", \"low\", \"info\"]",
            "vulnerability_severities = [\"critical\", \"low\"]",
        )
        .replace("skip_unpublished_alerts = false", "");
    std::fs::write(&config, text).unwrap();
    let output = run(&config, &["bulk", "--types", "alerts,vulnerabilities"]);
    assert_ok(&output);
    let high_alerts = (0..400)
        .filter(|i| {
            let alert = harness.spec.alert(*i);
            alert
                .severity
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
                == Some("high")
                && alert.msg.as_ref().and_then(|m| m.status.as_deref()) == Some("publish")
        })
        .count();
    let wanted_vulnerabilities = (0..400)
        .filter(|i| {
            let level = harness
                .spec
                .vulnerability(*i)
                .risk_level
                .unwrap_or_default();
            matches!(level.to_ascii_lowercase().as_str(), "critical" | "low")
        })
        .count();
    assert!(high_alerts > 0 && high_alerts < 400);
    let received = harness.wait_for(high_alerts + wanted_vulnerabilities);
    let mut per_type: BTreeMap<String, usize> = BTreeMap::new();
    for message in &received {
        let id = identity(message);
        *per_type
            .entry(id.split('/').next().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        per_type.get("PaloAltoNetworks Alert:policy_alert"),
        Some(&high_alerts)
    );
    assert_eq!(per_type.get("vulnerability"), Some(&wanted_vulnerabilities));
    assert_eq!(per_type.get("asset"), None);
}

#[test]
fn incremental_cursors_are_per_type() {
    let harness = Harness::new(spec(200, 300, 100));
    let config = harness.config("", "");
    assert_ok(&run(&config, &["incremental", "--once"]));
    assert_eq!(harness.wait_for(600).len(), 600);
    harness.tenant().add(RecordKind::Alerts, 25);
    assert_ok(&run(&config, &["incremental", "--once"]));
    let received = harness.wait_for(625);
    std::thread::sleep(Duration::from_millis(300));
    let received_after = harness.received.lock().unwrap().clone();
    assert_eq!(
        received_after.len(),
        received.len(),
        "nothing beyond the new alerts"
    );
    let new: Vec<String> = received[600..].iter().map(|m| identity(m)).collect();
    assert_eq!(new.len(), 25, "{new:?}");
    assert!(
        new.iter()
            .all(|id| id.starts_with("PaloAltoNetworks Alert"))
    );
    for state in ["cursor-devices", "cursor-alerts", "cursor-vulnerabilities"] {
        let path = harness
            .path("state")
            .join(synthetic::CUSTOMER_ID)
            .join(format!("{state}.json"));
        assert!(path.is_file(), "{}", path.display());
    }
}

#[test]
fn two_tenants_one_failing_the_other_completes() {
    let harness = Harness::new(spec(100, 100, 100));
    let config = harness.config("", "");
    let url = harness.tenant().base_url();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        &format!(
            "[iot]\nurl = \"{url}\"\ncustomer_id = \"{}\"\nallow_http = true\nrequests_per_minute = 0\n",
            synthetic::CUSTOMER_ID
        ),
        &format!(
            r#"[[iot.tenants]]
name = "good"
url = "{url}"
customer_id = "{customer}"
allow_http = true
requests_per_minute = 0

[[iot.tenants]]
name = "wrong-key"
url = "{url}"
customer_id = "{customer}"
allow_http = true
requests_per_minute = 0
access_key_env = "WRONG_ACCESS_KEY"

[[iot.tenants]]
name = "off"
enabled = false
url = "{url}"
customer_id = "{customer}"
"#,
            customer = synthetic::CUSTOMER_ID
        ),
    );
    std::fs::write(&config, text).unwrap();
    let output = run_with_limit(
        exporter(&config, &["bulk"]).env("WRONG_ACCESS_KEY", "not-the-key"),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("wrong-key"), "{}", stderr(&output));
    let received = harness.wait_for(300);
    let ids: BTreeSet<String> = received.iter().map(|m| identity(m)).collect();
    assert_eq!(ids, harness.expected());

    let status = run(&config, &["status"]);
    assert_ok(&status);
    let text = String::from_utf8(status.stdout.clone()).unwrap();
    assert!(text.contains("good: Active"), "{text}");
    assert!(text.contains("wrong-key: Error"), "{text}");
    assert!(text.contains("off: Disabled"), "{text}");
}

#[test]
fn bad_configs_name_the_mistake() {
    let harness = Harness::new(spec(1, 1, 1));
    let cases: [(&str, &str, &str); 6] = [
        ("colour = \"red\"", "", "colour"),
        ("cef_profile = \"fancy\"", "", "export.cef_profile"),
        ("poll_interval = \"soon\"", "", "export.poll_interval"),
        (
            "",
            "[metrics]\nlisten = \"not an address\"\n",
            "metrics.listen",
        ),
        ("", "[output]\nkind = \"stdout\"\n", "output"),
        ("first_fetch = \"yesterday\"", "", "export.first_fetch"),
    ];
    for (export, extra, needle) in cases {
        let config = harness.config(export, extra);
        let output = run(&config, &["bulk"]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{needle}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(needle),
            "{needle}: {}",
            stderr(&output)
        );
    }
    // A severity that does not exist, a value out of range, a missing key, a secret
    // that is not set.
    let config = harness.config("", "");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "alert_severities = [\"critical\",",
            "alert_severities = [\"urgent\",",
        ),
    )
    .unwrap();
    let output = run(&config, &["bulk"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("export.alert_severities"),
        "{}",
        stderr(&output)
    );

    let config = harness.config("", "");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("requests_per_minute = 0", "page_size = 5000"),
    )
    .unwrap();
    let output = run(&config, &["bulk"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("iot.page_size"),
        "{}",
        stderr(&output)
    );

    let config = harness.config("", "");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("customer_id", "customer")).unwrap();
    let output = run(&config, &["bulk"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("customer"), "{}", stderr(&output));

    let config = harness.config("", "");
    let output = run_with_limit(
        command("iot-siem-exporter")
            .args(["bulk", "--config"])
            .arg(&config)
            .env_remove("IOT_KEY_ID")
            .env_remove("IOT_ACCESS_KEY"),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("IOT_KEY_ID"),
        "{}",
        stderr(&output)
    );

    let missing = run(Path::new("/nonexistent/config.toml"), &["bulk"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/config.toml"));
}

#[test]
fn print_config_shows_the_effective_config() {
    let harness = Harness::new(spec(1, 1, 1));
    let config = harness.config("", "");
    let output = run(&config, &["bulk", "--print-config"]);
    assert_ok(&output);
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(text.contains("poll_interval = \"15m\""), "{text}");
    assert!(text.contains("cef_profile = \"panw\""), "{text}");
    assert!(!text.contains(synthetic::ACCESS_KEY));
    assert!(harness.received.lock().unwrap().is_empty());
}

#[test]
fn test_connection_sends_the_test_event_and_says_what_it_confirmed() {
    let harness = Harness::new(spec(1, 1, 1));
    let config = harness.config("", "");
    let output = run(&config, &["test-connection"]);
    assert_ok(&output);
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(text.contains("Test event delivered"), "{text}");
    let received = harness.wait_for(1);
    assert_eq!(received.len(), 1);
    let (_, cef) = split_syslog_header(&received[0]);
    assert_eq!(
        cef,
        "CEF:0|PaloAltoNetworks|PANWIOT|1.0|Test Connection|Test Connection|1|"
    );

    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("protocol = \"tcp\"", "protocol = \"udp\"")
        .replace("framing = \"octet-counting\"\n", "");
    std::fs::write(&config, text).unwrap();
    let output = run(&config, &["test-connection"]);
    assert_ok(&output);
    assert!(
        String::from_utf8(output.stdout.clone())
            .unwrap()
            .contains("cannot confirm"),
        "{}",
        stderr(&output)
    );

    // A receiver that is not there fails the test (exit 1), naming the receiver.
    let mut harness = harness;
    harness.siem_away();
    let config = harness.config("", "");
    let output = run(&config, &["test-connection"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
}

#[test]
fn relp_receiver_outage_mid_run_loses_nothing() {
    let mut harness = Harness::with_protocol(spec(20_000, 5_000, 5_000), Protocol::Relp);
    let config = harness.config("batch_records = 500", "");
    let child = exporter(&config, &["bulk"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let some records through, then take the receiver away for a while.
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness.received.lock().unwrap().len() < 2_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.stop_receiver();
    std::thread::sleep(Duration::from_millis(700));
    harness.start_receiver();
    let output = wait_with_limit(child, LIMIT);
    assert_ok(&output);
    let expected = harness.expected();
    let received = harness.wait_for(expected.len());
    let got: BTreeSet<String> = received.iter().map(|m| identity(m)).collect();
    let missing: Vec<&String> = expected.difference(&got).take(5).collect();
    assert!(missing.is_empty(), "lost over RELP, e.g. {missing:?}");
}

/// Every identity the tenant holds, with its signature and its place in the API's order.
fn ordinals(harness: &Harness) -> BTreeMap<String, (&'static str, usize)> {
    let tenant = harness.tenant();
    let mut ordinals = BTreeMap::new();
    for (n, i) in tenant.live(RecordKind::Devices).enumerate() {
        let id = harness.spec.device(i).deviceid.unwrap();
        ordinals.insert(format!("asset/{id}"), ("asset", n));
    }
    for (n, i) in tenant.live(RecordKind::Alerts).enumerate() {
        let id = harness.spec.alert(i).zb_ticketid.unwrap();
        ordinals.insert(
            format!("PaloAltoNetworks Alert:policy_alert/{id}"),
            ("alert", n),
        );
    }
    for (n, i) in tenant.live(RecordKind::Vulnerabilities).enumerate() {
        let id = harness.spec.vulnerability(i).zb_ticketid.unwrap();
        ordinals.insert(format!("vulnerability/{id}"), ("vulnerability", n));
    }
    ordinals
}

/// Over TCP nothing confirms what the receiver read, so an outage may lose what was
/// written before it (syslog-transport's documented window), but the exporter reconnects,
/// re-sends the failed batch whole and finishes: nothing written after the reconnect is
/// lost, and every record of a type from its first post-reconnect record on arrives.
#[test]
fn tcp_receiver_outage_mid_run_loses_only_the_documented_window() {
    let mut harness = Harness::new(spec(20_000, 5_000, 5_000));
    let config = harness.config("batch_records = 500", "");
    let child = exporter(&config, &["bulk"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness.received.lock().unwrap().len() < 2_000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    harness.stop_receiver();
    std::thread::sleep(Duration::from_millis(700));
    let before_restart = harness.received.lock().unwrap().len();
    assert!(before_restart >= 2_000, "the run never got going");
    harness.start_receiver();
    let output = wait_with_limit(child, LIMIT);
    assert_ok(&output);

    let ordinals = ordinals(&harness);
    let received = harness.wait_for(ordinals.len());
    let after: Vec<&String> = received[before_restart..].iter().collect();
    assert!(!after.is_empty(), "nothing arrived after the restart");
    // The first ordinal of each type that arrived after the restart.
    let mut resumed_at: BTreeMap<&str, usize> = BTreeMap::new();
    for message in after {
        let (kind, n) = ordinals[&identity(message)];
        let first = resumed_at.entry(kind).or_insert(n);
        *first = (*first).min(n);
    }
    let got: BTreeSet<String> = received.iter().map(|m| identity(m)).collect();
    let lost: Vec<(&String, &(&str, usize))> = ordinals
        .iter()
        .filter(|(id, _)| !got.contains(*id))
        .collect();
    for (id, (kind, n)) in &lost {
        // A type that sent nothing after the restart had finished before it.
        let resumed = resumed_at.get(kind).copied().unwrap_or(usize::MAX);
        assert!(
            *n < resumed,
            "{id} ({kind} #{n}) was lost although it was sent after the reconnect (from #{resumed})"
        );
    }
}

#[test]
fn demo_needs_nothing() {
    let output = run_with_limit(
        command("iot-siem-exporter").args([
            "demo",
            "--devices",
            "500",
            "--alerts",
            "500",
            "--vulnerabilities",
            "500",
        ]),
        LIMIT,
    );
    assert_ok(&output);
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(text.contains("every record arrived exactly once"), "{text}");
    assert!(text.contains("1500 records"), "{text}");
}

/// Starts `serve-synthetic` (the bench's tenant and receivers) with 10 records of each
/// type; returns it once its config is written.
fn serve_synthetic(dir: &Path, stdout: Stdio) -> std::process::Child {
    let child = command("iot-siem-exporter")
        .args(["serve-synthetic", "--dir"])
        .arg(dir)
        .args([
            "--devices",
            "10",
            "--alerts",
            "10",
            "--vulnerabilities",
            "10",
        ])
        .stdin(Stdio::piped())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // endpoints.json is written last, right before `ready`.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.join("endpoints.json").exists() {
        assert!(Instant::now() < deadline, "serve-synthetic never got ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The bench's receivers count each exporter apart: this one's (config.toml) and a
/// peer's (endpoints.json), so the bench prints what the exporter delivered.
#[test]
fn serve_synthetic_counts_this_exporter_apart_from_the_peer() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve_synthetic(dir.path(), Stdio::piped());
    let output = run_with_limit(
        command("iot-siem-exporter")
            .args(["bulk", "--config"])
            .arg(dir.path().join("config.toml")),
        LIMIT,
    );
    assert_ok(&output);
    drop(server.stdin.take());
    let output = wait_with_limit(server, LIMIT);
    assert_ok(&output);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(stdout, "ready\nreceived 30 peer 0\n");
}

/// With its stdout closed, `serve-synthetic` keeps serving (an export against it gets
/// through) and exits cleanly when stdin closes: no panic on the failed writes.
#[test]
fn serve_synthetic_keeps_serving_when_its_stdout_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve_synthetic(dir.path(), Stdio::piped());
    // Close the read end: each write to its stdout now fails (EPIPE).
    drop(server.stdout.take());
    let output = run_with_limit(
        command("iot-siem-exporter")
            .args(["bulk", "--config"])
            .arg(dir.path().join("config.toml")),
        LIMIT,
    );
    assert_ok(&output);
    drop(server.stdin.take());
    let output = wait_with_limit(server, LIMIT);
    assert_ok(&output);
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}
