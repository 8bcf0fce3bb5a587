//! Every example config in `fixtures/iot-siem-exporter/` is one the binary accepts: its
//! `--print-config` succeeds, and the effective config it prints reads back to itself.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use siembridge_tests::{command, run_with_limit};

const LIMIT: Duration = Duration::from_secs(60);

fn print_config(config: &Path) -> Output {
    run_with_limit(
        command("iot-siem-exporter")
            .args(["bulk", "--print-config", "--config"])
            .arg(config),
        LIMIT,
    )
}

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/iot-siem-exporter");
    let mut configs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    configs.sort();
    configs
}

#[test]
fn every_example_config_parses_and_prints_a_fixed_point() {
    let configs = fixtures();
    assert!(
        configs.len() >= 3,
        "expected the example configs, found {configs:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    for config in &configs {
        let first = print_config(config);
        assert!(
            first.status.success(),
            "{} was refused: {}",
            config.display(),
            String::from_utf8_lossy(&first.stderr)
        );
        assert!(
            !first.stdout.is_empty(),
            "{} printed nothing",
            config.display()
        );

        // The printed effective config is itself a valid config with the same meaning.
        let printed = dir.path().join(config.file_name().unwrap());
        std::fs::write(&printed, &first.stdout).unwrap();
        let second = print_config(&printed);
        assert!(
            second.status.success(),
            "the effective config of {} was refused: {}",
            config.display(),
            String::from_utf8_lossy(&second.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&first.stdout),
            String::from_utf8_lossy(&second.stdout),
            "the effective config of {} does not read back to itself",
            config.display()
        );
    }
}
