//! What the end-to-end tests in this package's `tests/` folder share: finding the
//! workspace's binaries and running them with a time limit.
#![deny(missing_docs)]
// Test support: a failure here is a failed test, so panicking with a message is right.
#![allow(clippy::panic)]

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The path of a workspace binary built beside this test (`target/<profile>/NAME`).
///
/// `cargo test --workspace` builds every binary before it runs any test; running this
/// package alone needs `cargo build --workspace` first, and the panic says so.
pub fn bin_path(name: &str) -> PathBuf {
    let test_exe = std::env::current_exe().unwrap_or_default();
    // target/<profile>/deps/<test-exe> -> target/<profile>/<name>
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(PathBuf::from)
        .unwrap_or_default();
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build --workspace` (or `cargo test --workspace`) first",
        path.display()
    );
    path
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
