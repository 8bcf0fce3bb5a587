//! End-to-end tests of the `xif` binary.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn xif(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xif"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn bitsight_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/modeling-rules/bitsight")
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

#[test]
fn check_accepts_a_valid_rule_and_rejects_a_broken_one_with_its_place() {
    let rules = bitsight_dir().join("Bitsight.xif");
    let ok = xif(&["check", rules.to_str().unwrap()], None);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));

    let dir = tempfile::tempdir().unwrap();
    let broken = write(
        dir.path(),
        "broken.xif",
        "[MODEL: dataset=x]\nalter\n    tmp = lowercase(a),\n    xdm.event.id = tmp\n    xdm.event.type = \"t\",\n    xdm.not.a.field = 1;\n",
    );
    let out = xif(&["check", &broken], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{broken}:4:23: error: missing `,`")),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: `xdm.not.a.field` is not a field of the XDM schema"),
        "{stderr}"
    );
    assert!(stderr.contains("4 |     xdm.event.id = tmp\n"), "{stderr}");
}

#[test]
fn check_warns_without_failing() {
    let dir = tempfile::tempdir().unwrap();
    let rules = write(
        dir.path(),
        "warn.xif",
        "[MODEL: dataset=x]\nalter unused = 1, xdm.event.id = a;\n",
    );
    let out = xif(&["check", &rules], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("warning: variable `unused` is assigned but never used"));
}

#[test]
fn run_streams_records_and_counts_bad_events() {
    let rules = bitsight_dir().join("Bitsight.xif");
    let schema = bitsight_dir().join("Bitsight_schema.json");
    let input = concat!(
        r#"{"temporary_id": "t1", "evidence_key": "192.0.2.1:22", "severity": 7.0, "severity_category": "material", "event_kind": "finding"}"#,
        "\nnot json\n",
        r#"{"temporary_id": "t2", "affects_rating": {"bad": 1}}"#,
        "\n",
    );
    let out = xif(
        &[
            "run",
            rules.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--dataset",
            "bitsight_bitsight_raw",
        ],
        Some(input),
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "bad events make the exit code 1"
    );
    let stdout = text(&out.stdout);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["xdm.target.ipv4"], "192.0.2.1");
    assert_eq!(records[0]["xdm.target.port"], 22);
    assert_eq!(records[0]["xdm.alert.severity"], "7.0 - material");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("<stdin>:2: not a JSON object"), "{stderr}");
    assert!(
        stderr.contains("<stdin>:3: field `affects_rating`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 events, 1 records, 0 dropped by filters, 2 bad"),
        "{stderr}"
    );
}

#[test]
fn test_passes_the_bitsight_fixture() {
    let out = xif(&["test", bitsight_dir().to_str().unwrap()], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("7 passed, 0 failed"));
}

#[test]
fn test_prints_a_diff_and_honours_min_pass_rate() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "R.xif",
        "[MODEL: dataset=r_raw]\nalter xdm.source.port = to_number(p), xdm.event.id = id;\n",
    );
    write(
        dir.path(),
        "R_testdata.json",
        r#"{"data": [
          {"dataset": "r_raw", "event_data": {"p": 8, "id": "a"}, "expected_values": {"xdm.source.port": 8, "xdm.event.id": "a"}},
          {"dataset": "r_raw", "event_data": {"p": 8, "id": "a"}, "expected_values": {"xdm.source.port": "8"}}
        ]}"#,
    );
    let folder = dir.path().to_str().unwrap();
    let out = xif(&["test", folder], None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout.contains("xdm.source.port: expected \"8\" (string), received 8.0 (float)"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().last(), Some("1 passed, 1 failed"));
    assert_eq!(
        xif(&["test", "--min-pass-rate", "50", folder], None)
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        xif(&["test", "--min-pass-rate", "51", folder], None)
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    assert_eq!(xif(&["frobnicate"], None).status.code(), Some(2));
    let out = xif(&["check", "/nonexistent/rules.xif"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/rules.xif"));
}
