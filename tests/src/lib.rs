//! What the end-to-end tests in this package's `tests/` folder share: finding the
//! workspace's binaries and running them with a time limit.
#![deny(missing_docs)]
// Test support: a failure here is a failed test, so panicking with a message is right.
#![allow(clippy::panic)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The path of a workspace binary, built (or found up to date) in this test's own
/// target directory and profile.
///
/// `cargo test` builds a binary only for its own package's integration tests, so this
/// package asks cargo for the binary once per test process; that also keeps a stale
/// binary from being tested.
pub fn bin_path(name: &str) -> PathBuf {
    static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let test_exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test-exe> -> target/<profile>/<name>
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut built = BUILT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !built.iter().any(|done| done == name) {
        build(name, &profile_dir);
        built.push(name.to_owned());
    }
    profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

fn build(name: &str, profile_dir: &std::path::Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.toml");
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "--quiet",
        "--manifest-path",
        workspace,
        "--bin",
        name,
    ]);
    if let Some(target_dir) = profile_dir.parent() {
        command.arg("--target-dir").arg(target_dir);
    }
    if profile_dir
        .file_name()
        .is_some_and(|profile| profile == "release")
    {
        command.arg("--release");
    }
    let status = command
        .status()
        .unwrap_or_else(|error| panic!("cannot run cargo to build {name}: {error}"));
    assert!(status.success(), "cargo build --bin {name} failed");
}

/// A command for the named workspace binary.
pub fn command(name: &str) -> Command {
    Command::new(bin_path(name))
}

/// Runs `command` to completion with piped output, killing it after `limit`; panics on
/// a time-out so a hung binary fails its test instead of hanging the suite.
pub fn run_with_limit(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {command:?}: {error}"));
    wait_with_limit(child, limit)
}

/// Waits for `child` for at most `limit`, collecting whatever it pipes to stdout and
/// stderr; kills it and panics when the limit passes.
pub fn wait_with_limit(mut child: Child, limit: Duration) -> Output {
    // Drain both pipes while waiting, so a chatty child never blocks on a full pipe.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = wait_status(&mut child, limit);
    let stdout = join(stdout);
    let stderr = join(stderr);
    match status {
        Some(status) => Output {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "timed out after {limit:?}; stderr:\n{}",
            String::from_utf8_lossy(&stderr)
        ),
    }
}

fn wait_status(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> Option<JoinHandle<Vec<u8>>> {
    pipe.map(|mut pipe| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    })
}

fn join(reader: Option<JoinHandle<Vec<u8>>>) -> Vec<u8> {
    reader
        .and_then(|handle| handle.join().ok())
        .unwrap_or_default()
}
