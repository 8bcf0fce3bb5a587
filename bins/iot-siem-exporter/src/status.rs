//! Run status: written to the tenant's state directory after every run, read back by
//! `status` (without taking the directory's lock, so it works beside a running export).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Checkpoint name of the status.
pub const STATUS_CHECKPOINT: &str = "status";

/// A tenant is Inactive when its last success is older than this.
pub const INACTIVE_AFTER: time::Duration = time::Duration::minutes(60);

/// What the last runs did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunStatus {
    /// When the last run ended.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_run: Option<OffsetDateTime>,
    /// `bulk` or `incremental`.
    pub last_mode: Option<String>,
    /// When a run last ended without error.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success: Option<OffsetDateTime>,
    /// The last run's error, when it failed.
    pub last_error: Option<String>,
    /// Records sent by the last run, per type.
    pub last_counts: BTreeMap<String, u64>,
    /// Records sent by every run so far, per type.
    pub total_counts: BTreeMap<String, u64>,
}

/// The state the old integration reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// The last run succeeded within the last 60 minutes.
    Active,
    /// The last run failed.
    Error,
    /// No successful run in the last 60 minutes.
    Inactive,
    /// The tenant is switched off in the config.
    Disabled,
}

impl State {
    /// The word shown to operators.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Error => "Error",
            Self::Inactive => "Inactive",
            Self::Disabled => "Disabled",
        }
    }
}

impl RunStatus {
    /// The state at `now`.
    pub fn state(&self, enabled: bool, now: OffsetDateTime) -> State {
        if !enabled {
            return State::Disabled;
        }
        if self.last_error.is_some() {
            return State::Error;
        }
        match self.last_success {
            Some(at) if now - at <= INACTIVE_AFTER => State::Active,
            _ => State::Inactive,
        }
    }

    /// Records a run's end.
    pub fn record(
        &mut self,
        mode: &str,
        outcome: Result<&BTreeMap<String, u64>, String>,
        now: OffsetDateTime,
    ) {
        self.last_run = Some(now);
        self.last_mode = Some(mode.to_owned());
        match outcome {
            Ok(counts) => {
                self.last_success = Some(now);
                self.last_error = None;
                self.last_counts.clone_from(counts);
                for (kind, count) in counts {
                    *self.total_counts.entry(kind.clone()).or_default() += count;
                }
            }
            Err(error) => self.last_error = Some(error),
        }
    }
}

/// Reads a tenant's status file from `dir` without locking it; `None` when no run
/// finished yet.
pub fn read(dir: &Path) -> anyhow::Result<Option<RunStatus>> {
    #[derive(Deserialize)]
    struct Envelope {
        version: u32,
        state: RunStatus,
    }
    let path = dir.join(format!("{STATUS_CHECKPOINT}.json"));
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(anyhow::anyhow!("cannot read {}: {error}", path.display())),
    };
    let envelope: Envelope = serde_json::from_slice(&bytes)
        .map_err(|error| anyhow::anyhow!("{} is corrupt: {error}", path.display()))?;
    if envelope.version != siem_pipeline::checkpoint::FORMAT_VERSION {
        anyhow::bail!(
            "{} has format version {}, this build reads {}",
            path.display(),
            envelope.version,
            siem_pipeline::checkpoint::FORMAT_VERSION
        );
    }
    Ok(Some(envelope.state))
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn states_follow_the_old_integration() {
        let now = datetime!(2026-11-24 05:00 UTC);
        let mut status = RunStatus::default();
        assert_eq!(status.state(true, now), State::Inactive);
        assert_eq!(status.state(false, now), State::Disabled);
        let counts = BTreeMap::from([("devices".to_owned(), 3)]);
        status.record("bulk", Ok(&counts), now - time::Duration::minutes(10));
        assert_eq!(status.state(true, now), State::Active);
        assert_eq!(
            status.state(true, now + time::Duration::minutes(61)),
            State::Inactive
        );
        status.record("incremental", Err("receiver refused".into()), now);
        assert_eq!(status.state(true, now), State::Error);
        assert_eq!(status.total_counts["devices"], 3);
        status.record("incremental", Ok(&counts), now);
        assert_eq!(status.state(true, now), State::Active);
        assert_eq!(status.total_counts["devices"], 6);
    }
}
