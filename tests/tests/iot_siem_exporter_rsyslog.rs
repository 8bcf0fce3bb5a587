//! `iot-siem-exporter` into a real rsyslogd on loopback (imtcp, octet counting): every
//! record arrives, and each decodes strictly. Without rsyslogd the test says so and
//! passes, unless SIEMBRIDGE_REQUIRE_RECEIVERS is set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cef_codec::Decoder;
use iot_security_api::synthetic::{self, TenantSpec};
use siembridge_tests::{command, run_with_limit};

fn rsyslogd() -> Option<PathBuf> {
    let found = [
        "/usr/sbin/rsyslogd",
        "/sbin/rsyslogd",
        "/usr/local/sbin/rsyslogd",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|path| path.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("SIEMBRIDGE_REQUIRE_RECEIVERS").is_none(),
            "rsyslogd not installed (SIEMBRIDGE_REQUIRE_RECEIVERS is set)"
        );
        eprintln!("skipping: rsyslogd not installed");
    }
    found
}

/// Kills rsyslogd when the test ends, however it ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(binary: &Path, dir: &Path, port: u16) -> Daemon {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let conf = dir.join("rsyslog.conf");
    std::fs::write(
        &conf,
        format!(
            r#"global(workDirectory="{work}" parser.escapeControlCharactersOnReceive="off" maxMessageSize="64k")
module(load="imtcp")
input(type="imtcp" port="{port}" address="127.0.0.1")
template(name="msgonly" type="string" string="%msg%\n")
action(type="omfile" file="{out}" template="msgonly")
"#,
            work = work.display(),
            out = dir.join("out.log").display(),
        ),
    )
    .unwrap();
    let child = Command::new(binary)
        .arg("-n")
        .arg("-f")
        .arg(&conf)
        .arg("-i")
        .arg(dir.join("rsyslogd.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let daemon = Daemon(child);
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "rsyslogd did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    daemon
}

#[test]
fn every_record_reaches_rsyslog_and_decodes() {
    let Some(binary) = rsyslogd() else { return };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let _daemon = start(&binary, dir.path(), port);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let spec = TenantSpec {
        seed: 5,
        devices: 1200,
        alerts: 800,
        vulnerabilities: 600,
    };
    let tenant = runtime.block_on(synthetic::serve(spec)).unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            r#"[iot]
url = "{url}"
customer_id = "{customer}"
allow_http = true
requests_per_minute = 0

[siem]
host = "127.0.0.1"
port = {port}
protocol = "tcp"
framing = "octet-counting"

[export]
alert_severities = ["critical", "high", "medium", "low", "info"]
vulnerability_severities = ["critical", "high", "medium", "low", "info"]
skip_unpublished_alerts = false

[state]
dir = "{state}"
"#,
            url = tenant.base_url(),
            customer = synthetic::CUSTOMER_ID,
            state = dir.path().join("state").display(),
        ),
    )
    .unwrap();
    let output = run_with_limit(
        command("iot-siem-exporter")
            .args(["bulk", "--config"])
            .arg(&config)
            .env("IOT_KEY_ID", synthetic::KEY_ID)
            .env("IOT_ACCESS_KEY", synthetic::ACCESS_KEY),
        Duration::from_secs(120),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let mut expected = BTreeSet::new();
    for i in 0..spec.devices {
        expected.insert(spec.device(i).deviceid.unwrap().to_string());
    }
    for i in 0..spec.alerts {
        expected.insert(spec.alert(i).zb_ticketid.unwrap());
    }
    for i in 0..spec.vulnerabilities {
        expected.insert(spec.vulnerability(i).zb_ticketid.unwrap());
    }
    let total = usize::try_from(spec.devices + spec.alerts + spec.vulnerabilities).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let lines = loop {
        let text = std::fs::read_to_string(dir.path().join("out.log")).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= total || Instant::now() > deadline {
            break lines;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(lines.len(), total, "every record exactly once");
    let decoder = Decoder::strict();
    let got: BTreeSet<String> = lines
        .iter()
        .map(|line| {
            let event = decoder
                .decode(line.trim_start())
                .unwrap_or_else(|error| panic!("{error}: {line:?}"));
            event
                .get("deviceExternalId")
                .or_else(|| event.get("externalId"))
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(got, expected);
    runtime.block_on(tenant.shutdown());
}
