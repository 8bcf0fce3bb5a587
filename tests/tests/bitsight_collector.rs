//! End-to-end tests of the `bitsight-collector` binary against a synthetic Bitsight
//! portfolio served over loopback HTTP: completeness, exactly-once across runs, crashes,
//! API faults, shrinking result sets, filter changes, secrets and bad configs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use bitsight_api::Secret;
use bitsight_api::synthetic::{
    Fault, PortfolioSpec, SYNTHETIC_TOKEN, ServerHandle, SyntheticPortfolio, serve_with_token,
};
use serde_json::Value;
use siembridge_tests::{command, run_with_limit, wait_with_limit};
use time::{Date, OffsetDateTime};

const BIN: &str = "bitsight-collector";
const TOKEN_ENV: &str = "SIEMBRIDGE_TEST_BITSIGHT_TOKEN";
const LIMIT: Duration = Duration::from_secs(60);

/// What identifies one delivered finding: company, vector, evidence key, rolled-up
/// observation id, first seen, temporary id.
type Key = (String, String, String, String, String, String);

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn key_of(company: &str, finding: &Value) -> Key {
    let text = |name: &str| finding[name].as_str().unwrap_or_default().to_owned();
    (
        company.to_owned(),
        text("risk_vector"),
        text("evidence_key"),
        text("rolledup_observation_id"),
        text("first_seen"),
        text("temporary_id"),
    )
}

/// A synthetic portfolio served on its own runtime, and a state + output directory.
struct Bench {
    runtime: tokio::runtime::Runtime,
    server: Option<ServerHandle>,
    token: String,
    dir: tempfile::TempDir,
}

impl Bench {
    fn new(companies: usize, findings: usize) -> Self {
        Self::with_token(companies, findings, SYNTHETIC_TOKEN)
    }

    fn with_token(companies: usize, findings: usize, token: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let mut bench = Self {
            runtime,
            server: None,
            token: token.to_owned(),
            dir: tempfile::tempdir().unwrap(),
        };
        bench.serve(portfolio(companies, findings));
        bench
    }

    /// Replaces the server (same state directory): a new portfolio, a new port.
    fn serve(&mut self, portfolio: SyntheticPortfolio) {
        if let Some(old) = self.server.take() {
            self.runtime.block_on(old.shutdown());
        }
        let server = self
            .runtime
            .block_on(serve_with_token(portfolio, Secret::new(self.token.clone())))
            .unwrap();
        self.server = Some(server);
    }

    fn server(&self) -> &ServerHandle {
        self.server.as_ref().unwrap()
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("out.ndjson")
    }

    fn config_path(&self) -> PathBuf {
        self.dir.path().join("collector.toml")
    }

    /// Writes the config with `extra` lines in `[bitsight]`.
    fn write_config(&self, extra: &str) -> PathBuf {
        self.write_config_with(extra, "json", "warn")
    }

    fn write_config_with(&self, extra: &str, format: &str, level: &str) -> PathBuf {
        let text = format!(
            r#"[bitsight]
url = "{url}"
allow_http = true
api_key_env = "{TOKEN_ENV}"
portfolio = true
first_fetch = "30d"
page_size = 25
max_events_per_fetch = 100000
rate_limit_wait = "100ms"
backoff_base = "10ms"
backoff_max = "500ms"
{extra}

[output]
kind = "file"
format = "{format}"
path = "{out}"

[state]
dir = "{state}"

[logging]
level = "{level}"
"#,
            url = self.server().base_url(),
            out = self.output().display(),
            state = self.dir.path().join("state").display(),
        );
        // A key in `extra` replaces the base config's line for it.
        let overridden: Vec<&str> = extra
            .lines()
            .filter_map(|line| line.split_once(" = ").map(|(key, _)| key))
            .collect();
        let base_lines = text.lines().enumerate().filter(|(n, line)| {
            let own = line.split_once(" = ").map(|(key, _)| key);
            // The extra lines themselves sit at the end of [bitsight] (from line 12).
            *n > 10 || !own.is_some_and(|key| overridden.contains(&key))
        });
        let text: String = base_lines.map(|(_, line)| format!("{line}\n")).collect();
        let path = self.config_path();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = command(BIN);
        cmd.args(args).env(TOKEN_ENV, &self.token);
        cmd
    }

    fn run_once(&self) -> Output {
        let config = self.config_path();
        let output = run_with_limit(
            &mut self.command(&["run", "--once", "--config", config.to_str().unwrap()]),
            LIMIT,
        );
        assert!(
            output.status.success(),
            "run --once failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Every finding the server holds now, first seen on or after `since`.
    fn expected_since(&self, since: Date) -> BTreeSet<Key> {
        self.server().with_portfolio(|portfolio| {
            let guids = portfolio.company_guids();
            let mut keys = BTreeSet::new();
            for (index, guid) in guids.iter().enumerate() {
                for json in portfolio.findings_json(index) {
                    let finding: Value = serde_json::from_str(&json).unwrap();
                    let first = finding["first_seen"].as_str().unwrap_or_default();
                    if first >= since.to_string().as_str() {
                        keys.insert(key_of(guid, &finding));
                    }
                }
            }
            keys
        })
    }

    /// Every delivered finding, with how often it was delivered.
    fn delivered(&self) -> BTreeMap<Key, usize> {
        let text = std::fs::read_to_string(self.output()).unwrap_or_default();
        let mut counts = BTreeMap::new();
        for line in text.lines() {
            let event: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
            let company = event["company_guid"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            *counts.entry(key_of(&company, &event)).or_insert(0) += 1;
        }
        counts
    }

    fn lines(&self) -> usize {
        std::fs::read_to_string(self.output())
            .map(|text| text.lines().count())
            .unwrap_or(0)
    }
}

fn portfolio(companies: usize, findings: usize) -> SyntheticPortfolio {
    SyntheticPortfolio::generate(PortfolioSpec {
        seed: 7,
        companies,
        findings_per_company: findings,
        first_date: today() - time::Duration::days(45),
        last_date: today() - time::Duration::days(1),
    })
}

fn window_start() -> Date {
    today() - time::Duration::days(30)
}

fn assert_exactly(delivered: &BTreeMap<Key, usize>, expected: &BTreeSet<Key>) {
    let got: BTreeSet<Key> = delivered.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&got).take(3).collect();
    let extra: Vec<_> = got.difference(expected).take(3).collect();
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).take(3).collect();
    assert!(
        missing.is_empty(),
        "missing {} e.g. {missing:?}",
        expected.difference(&got).count()
    );
    assert!(extra.is_empty(), "unexpected e.g. {extra:?}");
    assert!(twice.is_empty(), "delivered more than once e.g. {twice:?}");
}

#[test]
fn first_run_collects_the_lookback_window_exactly_once() {
    let bench = Bench::new(3, 400);
    bench.write_config("");
    bench.run_once();
    let expected = bench.expected_since(window_start());
    let all = bench.expected_since(Date::MIN);
    assert!(
        expected.len() < all.len(),
        "the window must leave older findings out"
    );
    assert!(!expected.is_empty());
    assert_exactly(&bench.delivered(), &expected);
    // Findings with an empty rolledup_observation_id are delivered like any other.
    let empty_rollup = expected.iter().filter(|k| k.3.is_empty()).count();
    assert!(
        empty_rollup > 0,
        "the portfolio must hold empty rolled-up ids"
    );
    let text = std::fs::read_to_string(bench.output()).unwrap();
    let event: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(event["_vendor"], "Bitsight");
    assert_eq!(event["_product"], "Bitsight");
    assert_eq!(event["event_kind"], "finding");
    assert!(event["_time"].as_str().unwrap().ends_with("T00:00:00Z"));
    assert!(event["company_name"].is_string());
}

#[test]
fn ten_runs_with_findings_added_between_them_deliver_each_once() {
    let bench = Bench::new(2, 150);
    bench.write_config("");
    for run in 0..10 {
        if run > 0 {
            // New findings today, and a few on an older day still in the window's tail.
            bench.server().add_findings(run % 2, 7, today());
            bench
                .server()
                .add_findings(0, 2, today() - time::Duration::days(1));
        }
        bench.run_once();
    }
    assert_exactly(&bench.delivered(), &bench.expected_since(window_start()));
}

/// Starts `run --once` slowed down by faults, and returns once it has delivered some.
fn start_slow_run(bench: &Bench) -> std::process::Child {
    // One 503 for the first page request at every offset: each costs a backoff.
    for offset in 0..1100 {
        bench.server().inject(Fault::ServerError {
            status: 503,
            at_offset: offset,
            times: 1,
        });
    }
    let config = bench.config_path();
    let mut child = bench
        .command(&["run", "--once", "--config", config.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    while bench.lines() == 0 {
        if child.try_wait().unwrap().is_some() {
            let output = wait_with_limit(child, LIMIT);
            panic!(
                "the run ended early: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(Instant::now() < deadline, "nothing was delivered");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn kill_9_mid_run_then_run_again_loses_nothing() {
    let bench = Bench::new(2, 1500);
    bench.write_config(
        "backoff_base = \"150ms\"\nmax_in_flight = 1\ncompany_concurrency = 1\nbatch_size = 10",
    );
    let mut child = start_slow_run(&bench);
    // Let several batches be confirmed first, so that a commit lagging behind them shows.
    let deadline = Instant::now() + LIMIT;
    while bench.lines() < 100 && child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the run stalled");
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = bench.lines();
    // Findings added during the interrupted run arrive in the next one.
    bench.server().add_findings(1, 5, today());
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run must have been killed mid-way");
    let expected = bench.expected_since(window_start());
    assert!(before < expected.len(), "killed too late to mean anything");
    bench.run_once();
    let delivered = bench.delivered();
    let got: BTreeSet<Key> = delivered.keys().cloned().collect();
    let missing: Vec<_> = expected.difference(&got).collect();
    let extra: Vec<_> = got.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "after the crash: {} missing, e.g. {:?}; {} unexpected, e.g. {:?}",
        missing.len(),
        missing.first(),
        extra.len(),
        extra.first()
    );
    // Cursors are committed after every confirmed batch, so at most the batch in flight
    // (batch_size = 10) is delivered again; the run delivers far more than 10 findings
    // per second, so a commit made less often than per batch would show here.
    let repeated: usize = delivered.values().map(|n| n - 1).sum();
    assert!(repeated <= 10, "{repeated} findings delivered again");
}

#[test]
fn sigterm_finishes_the_batch_in_flight_and_commits() {
    let bench = Bench::new(2, 1500);
    bench.write_config("backoff_base = \"150ms\"\nmax_in_flight = 1\ncompany_concurrency = 1");
    let child = start_slow_run(&bench);
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let output = wait_with_limit(child, LIMIT);
    assert!(
        output.status.success(),
        "SIGTERM is a clean stop: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    bench.run_once();
    assert_exactly(&bench.delivered(), &bench.expected_since(window_start()));
}

#[test]
fn rate_limit_storms_and_server_errors_lose_nothing() {
    let bench = Bench::new(3, 300);
    bench.write_config("max_retries = 10");
    bench.server().inject(Fault::RateLimit {
        retry_after: Some(0),
        times: 4,
    });
    bench.server().inject(Fault::RateLimit {
        retry_after: None,
        times: 3,
    });
    for offset in [0, 17, 34] {
        bench.server().inject(Fault::ServerError {
            status: 500,
            at_offset: offset,
            times: 2,
        });
    }
    bench.server().inject(Fault::EmptyPage {
        at_offset: 51,
        times: 1,
    });
    bench.run_once();
    assert_exactly(&bench.delivered(), &bench.expected_since(window_start()));
}

#[test]
fn exhausted_retries_fail_the_run_and_the_next_run_catches_up() {
    let bench = Bench::new(1, 200);
    bench.write_config("max_retries = 2");
    bench.server().inject(Fault::ServerError {
        status: 500,
        at_offset: 0,
        times: 3,
    });
    let config = bench.config_path();
    let output = run_with_limit(
        &mut bench.command(&["run", "--once", "--config", config.to_str().unwrap()]),
        LIMIT,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("gave up after"), "{stderr}");
    assert!(bench.delivered().is_empty());
    // The fault is used up: the next run delivers everything.
    bench.run_once();
    assert_exactly(&bench.delivered(), &bench.expected_since(window_start()));
}

#[test]
fn a_shrinking_result_set_skips_nothing() {
    let mut bench = Bench::new(1, 300);
    bench.write_config("");
    bench.run_once();
    let first = bench.expected_since(window_start());
    // Findings age out: the same company now holds the first 200 of them only (an
    // offset cursor would now point past the end), and then new ones arrive.
    bench.serve(portfolio(1, 200));
    bench.server().add_findings(0, 30, today());
    bench.write_config("");
    bench.run_once();
    let mut expected = first;
    expected.extend(bench.expected_since(today()));
    assert_exactly(&bench.delivered(), &expected);
}

#[test]
fn a_filter_change_keeps_the_cursor_meaningful() {
    let bench = Bench::new(2, 300);
    bench.write_config("min_severity = \"material\"");
    bench.run_once();
    let delivered = bench.delivered();
    assert!(!delivered.is_empty());
    let text = std::fs::read_to_string(bench.output()).unwrap();
    let mut newest = String::new();
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        assert!(
            event["severity"].as_f64().unwrap() >= 7.0,
            "the filter applies"
        );
        newest = newest.max(event["first_seen"].as_str().unwrap().to_owned());
    }
    // Widen the filter; new findings arrive. Nothing delivered is repeated, and
    // everything the new filter admits from the cursor's date on arrives.
    bench.write_config("");
    bench.server().add_findings(0, 10, today());
    let output = bench.run_once();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("filters changed"), "{stderr}");
    let delivered = bench.delivered();
    assert!(delivered.values().all(|n| *n == 1), "nothing twice");
    let got: BTreeSet<Key> = delivered.keys().cloned().collect();
    let newest = Date::parse(
        &newest,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    let since_cursor = bench.expected_since(newest);
    assert!(
        since_cursor.is_subset(&got),
        "everything from the cursor date on"
    );
}

#[test]
fn the_token_never_appears_in_logs_output_or_state() {
    let token = "tok-Very-Secret-4242";
    let bench = Bench::with_token(1, 60, token);
    let config = bench.write_config_with("", "json", "debug");
    let output = bench.run_once();
    let printed = run_with_limit(
        &mut bench.command(&[
            "run",
            "--config",
            config.to_str().unwrap(),
            "--print-config",
        ]),
        LIMIT,
    );
    assert!(printed.status.success());
    // A refused token: the error names the endpoint, not the token.
    let mut refused = bench.command(&["run", "--once", "--config", config.to_str().unwrap()]);
    refused.env(TOKEN_ENV, "tok-Wrong-Secret-777");
    let refused = run_with_limit(&mut refused, LIMIT);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("401"));
    let mut everything = Vec::new();
    for out in [&output, &printed, &refused] {
        everything.extend_from_slice(&out.stdout);
        everything.extend_from_slice(&out.stderr);
    }
    for entry in walk(bench.dir.path()) {
        everything.extend(std::fs::read(entry).unwrap_or_default());
    }
    let text = String::from_utf8_lossy(&everything);
    assert!(!text.contains(token));
    assert!(!text.contains("tok-Wrong-Secret-777"));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[test]
fn each_kind_of_bad_config_is_a_usage_error_naming_the_place() {
    let bench = Bench::new(1, 10);
    let cases: &[(&str, &str, &str)] = &[
        ("syntax", "[bitsight\n", "collector.toml:1"),
        ("unknown key", "[bitsight]\nurl_typo = \"x\"\n", "url_typo"),
        (
            "bad severity",
            "[bitsight]\nmin_severity = \"catastrophic\"\n",
            "min_severity",
        ),
        (
            "bad vector",
            "[bitsight]\nrisk_vectors = [\"nope\"]\n",
            "risk_vectors",
        ),
        ("bad grade", "[bitsight]\ngrades = [\"Z\"]\n", "grades"),
        (
            "http without allow_http",
            "[bitsight]\nurl = \"http://127.0.0.1:9\"\n",
            "allow_http",
        ),
        (
            "portfolio and companies",
            "[bitsight]\nportfolio = true\ncompanies = [\"a\"]\n",
            "portfolio",
        ),
        (
            "syslog without siem",
            "[bitsight]\n[output]\nkind = \"syslog\"\n",
            "[siem]",
        ),
        (
            "file without path",
            "[bitsight]\n[output]\nkind = \"file\"\n",
            "path",
        ),
        (
            "bad duration",
            "[bitsight]\nfetch_interval = \"soon\"\n",
            "fetch_interval",
        ),
        (
            "token env unset",
            "[bitsight]\napi_key_env = \"SIEMBRIDGE_TEST_SURELY_UNSET\"\n",
            "SIEMBRIDGE_TEST_SURELY_UNSET",
        ),
        (
            "token file missing",
            "[bitsight]\napi_key_file = \"/nonexistent/token\"\n",
            "/nonexistent/token",
        ),
        (
            "bad modeling rule",
            "[bitsight]\n[output]\nkind = \"stdout\"\nformat = \"xdm\"\n[modeling]\nrules = \"/nonexistent/rule.xif\"\n",
            "rule.xif",
        ),
    ];
    let path = bench.config_path();
    for (name, text, needle) in cases {
        std::fs::write(&path, text).unwrap();
        let output = run_with_limit(
            &mut bench.command(&["run", "--once", "--config", path.to_str().unwrap()]),
            LIMIT,
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(needle), "{name}: {stderr}");
    }
    let missing = run_with_limit(
        &mut bench.command(&["run", "--config", "/nonexistent/collector.toml"]),
        LIMIT,
    );
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/collector.toml"));
}

#[test]
fn test_connection_names_companies_outside_the_portfolio() {
    let bench = Bench::new(2, 5);
    let guids = bench
        .server()
        .with_portfolio(SyntheticPortfolio::company_guids);
    bench.write_config(&format!(
        "portfolio = false\ncompanies = [\"{}\", \"not-a-company\"]",
        guids[1]
    ));
    let config = bench.config_path();
    let output = run_with_limit(
        &mut bench.command(&["test-connection", "--config", config.to_str().unwrap()]),
        LIMIT,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("token accepted"), "{stdout}");
    assert!(stdout.contains(guids[1].as_str()), "{stdout}");
    assert!(
        stdout.contains("not-a-company: NOT in the portfolio"),
        "{stdout}"
    );
}

#[test]
fn status_shows_cursors_after_a_run() {
    let bench = Bench::new(1, 40);
    let config = bench.write_config("");
    bench.run_once();
    let output = run_with_limit(
        &mut bench.command(&["status", "--config", config.to_str().unwrap()]),
        LIMIT,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("cursor findings."), "{stdout}");
    assert!(stdout.contains("last success: 20"), "{stdout}");
}

#[test]
fn xdm_and_cef_formats_and_alerts() {
    let bench = Bench::new(1, 30);
    bench.write_config_with("alerts = true", "cef", "warn");
    bench.run_once();
    let text = std::fs::read_to_string(bench.output()).unwrap();
    let findings = text
        .lines()
        .filter(|l| !l.contains("bitsightEventKind=alert"))
        .count();
    assert_eq!(findings, bench.expected_since(window_start()).len());
    for line in text.lines() {
        let event = cef_codec::Decoder::strict()
            .decode_bytes(line.as_bytes())
            .unwrap();
        assert_eq!(event.vendor(), "Bitsight");
        assert_eq!(event.product(), "Security Performance Management");
    }
    assert!(
        text.contains("bitsightEventKind=alert"),
        "alerts are collected"
    );
    std::fs::remove_file(bench.output()).unwrap();
    std::fs::remove_dir_all(bench.dir.path().join("state")).unwrap();
    bench.write_config_with("", "xdm", "warn");
    bench.run_once();
    let text = std::fs::read_to_string(bench.output()).unwrap();
    assert_eq!(
        text.lines().count(),
        bench.expected_since(window_start()).len()
    );
    for line in text.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        assert!(record["xdm.alert.severity"].is_string(), "{line}");
    }
}

#[test]
fn demo_needs_nothing() {
    let output = run_with_limit(command(BIN).args(["demo"]), LIMIT);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("each exactly once"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("CEF:0|Bitsight|")));
    assert!(stdout.lines().any(|l| l.contains("\"xdm.alert.severity\"")));
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("\"event_kind\":\"finding\""))
    );
}

/// Every delivered event of `kind` (`finding`, `finding_update`), with how often.
fn delivered_of_kind(bench: &Bench, kind: &str) -> BTreeMap<Key, usize> {
    let text = std::fs::read_to_string(bench.output()).unwrap_or_default();
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        if event["event_kind"] == kind {
            let company = event["company_guid"].as_str().unwrap_or_default();
            *counts.entry(key_of(company, &event)).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn track_updates_emits_a_moved_finding_again_exactly_once() {
    let bench = Bench::new(2, 100);
    bench.write_config("track_updates = true");
    bench.run_once();
    let before = delivered_of_kind(&bench, "finding_update");
    // Five findings of the first company are seen again today.
    assert_eq!(bench.server().touch_findings(0, 5, today()), 5);
    let guid = bench
        .server()
        .with_portfolio(|p| p.company_guids()[0].clone());
    let moved: BTreeSet<Key> = bench.server().with_portfolio(|p| {
        p.findings_json(0)
            .iter()
            .take(5)
            .map(|json| key_of(&guid, &serde_json::from_str(json).unwrap()))
            .collect()
    });
    bench.run_once();
    bench.run_once();
    let after = delivered_of_kind(&bench, "finding_update");
    let new_updates: BTreeMap<Key, usize> = after
        .iter()
        .filter(|(key, n)| before.get(*key) != Some(*n))
        .map(|(key, n)| (key.clone(), n - before.get(key).copied().unwrap_or(0)))
        .collect();
    let expected: BTreeMap<Key, usize> = moved.into_iter().map(|key| (key, 1)).collect();
    assert_eq!(
        new_updates, expected,
        "each moved finding once, as an update"
    );
    // The findings themselves were delivered once, as findings, in the first run.
    assert_exactly(
        &delivered_of_kind(&bench, "finding"),
        &bench.expected_since(window_start()),
    );
}

#[test]
fn a_result_set_shrinking_during_a_run_loses_and_repeats_nothing() {
    let bench = Bench::new(1, 300);
    bench.write_config("");
    let child = start_slow_run(&bench);
    // Findings age out mid-run: every later finding's offset shifts down by 40.
    assert_eq!(bench.server().remove_findings(0, 40), 40);
    let output = wait_with_limit(child, LIMIT);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    bench.run_once();
    let delivered = bench.delivered();
    let twice: Vec<_> = delivered.iter().filter(|(_, n)| **n > 1).take(3).collect();
    assert!(twice.is_empty(), "delivered more than once e.g. {twice:?}");
    // Everything still there was delivered; the removed ones may or may not have been.
    let got: BTreeSet<Key> = delivered.keys().cloned().collect();
    let still_there = bench.expected_since(window_start());
    let missing: Vec<_> = still_there.difference(&got).take(3).collect();
    assert!(
        missing.is_empty(),
        "missing {} e.g. {missing:?}",
        still_there.difference(&got).count()
    );
}
