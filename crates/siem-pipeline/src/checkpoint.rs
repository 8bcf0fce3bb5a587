//! The file-based checkpoint store: one locked state directory, one JSON file per name.
//!
//! Each checkpoint is written atomically (temp file, fsync, rename, directory fsync), so a
//! crash at any instant leaves either the old or the new checkpoint, never a torn one. The
//! file is a versioned envelope `{ "version": 1, "state": ... }` so a later format can be
//! told apart. An exclusive lock on `DIR/.lock` keeps two processes out of one directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The envelope version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

const LOCK_FILE: &str = ".lock";

/// A state directory held exclusively by this process until dropped.
#[derive(Debug)]
pub struct CheckpointStore {
    dir: PathBuf,
    // Held for its lock; the OS releases the lock when the file closes (also on kill -9).
    _lock: File,
}

impl CheckpointStore {
    /// Opens (creating when missing) and locks the state directory `dir`.
    ///
    /// A second opener, in this process or another, gets [`CheckpointError::InUse`] naming
    /// the holder's pid.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, CheckpointError> {
        let dir = dir.as_ref().to_path_buf();
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CheckpointError::Io { path, source }
        };
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_error(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                // The pid is a courtesy for the message; an unreadable one still refuses.
                let _ = lock.read_to_string(&mut holder);
                return Err(CheckpointError::InUse {
                    dir,
                    pid: holder.trim().parse().ok(),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io_error(&lock_path)(source)),
        }
        lock.set_len(0).map_err(io_error(&lock_path))?;
        lock.rewind().map_err(io_error(&lock_path))?;
        writeln!(lock, "{}", std::process::id()).map_err(io_error(&lock_path))?;
        Ok(Self { dir, _lock: lock })
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Loads checkpoint `name`, or `None` when it was never committed.
    pub fn load<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, CheckpointError> {
        let path = self.path_of(name)?;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(CheckpointError::Io { path, source }),
        };
        let envelope: Envelope<serde_json::Value> =
            serde_json::from_slice(&bytes).map_err(|source| CheckpointError::Corrupt {
                path: path.clone(),
                source,
            })?;
        if envelope.version != FORMAT_VERSION {
            return Err(CheckpointError::UnsupportedVersion {
                path,
                found: envelope.version,
            });
        }
        T::deserialize(envelope.state)
            .map(Some)
            .map_err(|source| CheckpointError::Corrupt { path, source })
    }

    /// Commits `state` as checkpoint `name`, atomically and durably.
    pub fn commit<T: Serialize + ?Sized>(
        &self,
        name: &str,
        state: &T,
    ) -> Result<(), CheckpointError> {
        let path = self.path_of(name)?;
        let mut body = serde_json::to_vec_pretty(&Envelope {
            version: FORMAT_VERSION,
            state,
        })
        .map_err(|source| CheckpointError::Serialize {
            name: name.to_owned(),
            source,
        })?;
        body.push(b'\n');
        let temp = self.dir.join(format!(".{name}.json.tmp"));
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CheckpointError::Io { path, source }
        };
        let mut file = File::create(&temp).map_err(io_error(&temp))?;
        file.write_all(&body).map_err(io_error(&temp))?;
        file.sync_all().map_err(io_error(&temp))?;
        drop(file);
        std::fs::rename(&temp, &path).map_err(io_error(&path))?;
        // The rename is durable only once the directory entry is.
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io_error(&self.dir))
    }

    /// Names of the committed checkpoints, sorted.
    pub fn names(&self) -> Result<Vec<String>, CheckpointError> {
        let entries = std::fs::read_dir(&self.dir).map_err(|source| CheckpointError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| CheckpointError::Io {
                path: self.dir.clone(),
                source,
            })?;
            let file_name = entry.file_name();
            let Some(name) = file_name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if valid_name(name) {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn path_of(&self, name: &str) -> Result<PathBuf, CheckpointError> {
        if valid_name(name) {
            Ok(self.dir.join(format!("{name}.json")))
        } else {
            Err(CheckpointError::InvalidName {
                name: name.to_owned(),
            })
        }
    }
}

/// Names are file stems: letters, digits, `-`, `_` and `.`, not starting with `.`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    version: u32,
    state: T,
}

/// A checkpoint operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Another process (or another store in this one) holds the state directory.
    #[error("state dir {} in use by {}", dir.display(), pid.map_or_else(|| "another process".to_owned(), |pid| format!("pid {pid}")))]
    InUse {
        /// The state directory.
        dir: PathBuf,
        /// The holder's pid, when its lock file says.
        pid: Option<u32>,
    },
    /// A file system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// A checkpoint file is not the JSON this build expects.
    #[error("checkpoint {} is corrupt: {source}", path.display())]
    Corrupt {
        /// The checkpoint file.
        path: PathBuf,
        /// Where and why parsing failed.
        source: serde_json::Error,
    },
    /// A checkpoint file was written by a newer (or unknown) format.
    #[error("checkpoint {} has format version {found}; this build reads version {FORMAT_VERSION}", path.display())]
    UnsupportedVersion {
        /// The checkpoint file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
    /// A state value could not be serialized.
    #[error("cannot serialize checkpoint {name}: {source}")]
    Serialize {
        /// The checkpoint name.
        name: String,
        /// Why.
        source: serde_json::Error,
    },
    /// The name cannot be a file stem.
    #[error(
        "invalid checkpoint name {name:?}: use letters, digits, '-', '_' and '.', not starting with '.'"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Cursor {
        since: String,
        offset: u64,
    }

    #[test]
    fn commit_then_load_round_trips_in_a_versioned_envelope() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        assert_eq!(store.load::<Cursor>("alerts").unwrap(), None);
        let cursor = Cursor {
            since: "2026-11-24T04:00:00Z".into(),
            offset: 3000,
        };
        store.commit("alerts", &cursor).unwrap();
        assert_eq!(store.load::<Cursor>("alerts").unwrap(), Some(cursor));
        let text = std::fs::read_to_string(dir.path().join("alerts.json")).unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(store.names().unwrap(), vec!["alerts".to_owned()]);
        // No temp file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn a_second_opener_is_told_who_holds_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        let first = CheckpointStore::open(dir.path()).unwrap();
        let error = CheckpointStore::open(dir.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "state dir {} in use by pid {}",
                dir.path().display(),
                std::process::id()
            )
        );
        drop(first);
        CheckpointStore::open(dir.path()).unwrap();
    }

    #[test]
    fn bad_files_and_names_get_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("torn.json"), "{\"version\": 1, \"sta").unwrap();
        assert!(matches!(
            store.load::<Cursor>("torn"),
            Err(CheckpointError::Corrupt { .. })
        ));
        std::fs::write(
            dir.path().join("future.json"),
            "{\"version\": 2, \"state\": {}}",
        )
        .unwrap();
        assert!(matches!(
            store.load::<Cursor>("future"),
            Err(CheckpointError::UnsupportedVersion { found: 2, .. })
        ));
        for name in ["", "../escape", ".lock", "a/b"] {
            assert!(matches!(
                store.commit(name, &1),
                Err(CheckpointError::InvalidName { .. })
            ));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn the_last_commit_wins(values in proptest::collection::vec(proptest::num::u64::ANY, 1..8)) {
            let dir = tempfile::tempdir().unwrap();
            let store = CheckpointStore::open(dir.path()).unwrap();
            for value in &values {
                store.commit("cursor", value).unwrap();
            }
            proptest::prop_assert_eq!(store.load::<u64>("cursor").unwrap(), values.last().copied());
        }
    }
}
