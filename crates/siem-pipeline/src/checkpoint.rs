//! The file-based checkpoint store: one locked state directory, one JSON file per name.
//!
//! Each checkpoint is written atomically (temp file, fsync, rename, directory fsync), so a
//! crash at any instant leaves either the old or the new checkpoint, never a torn one. The
//! file is a versioned envelope `{ "version": 1, "state": ... }` so a later format can be
//! told apart. An exclusive lock on `DIR/.lock` keeps two processes out of one directory.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

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
        let body = encode(name, state)?;
        write_atomically(&self.dir, name, &path, &body)
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

/// The file contents of checkpoint `name`: the versioned envelope, pretty JSON.
fn encode<T: Serialize + ?Sized>(name: &str, state: &T) -> Result<Vec<u8>, CheckpointError> {
    let mut body = serde_json::to_vec_pretty(&Envelope {
        version: FORMAT_VERSION,
        state,
    })
    .map_err(|source| CheckpointError::Serialize {
        name: name.to_owned(),
        source,
    })?;
    body.push(b'\n');
    Ok(body)
}

/// Replaces `path` with `body`: temp file, fsync, rename, directory fsync.
fn write_atomically(
    dir: &Path,
    name: &str,
    path: &Path,
    body: &[u8],
) -> Result<(), CheckpointError> {
    let temp = dir.join(format!(".{name}.json.tmp"));
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckpointError::Io { path, source }
    };
    let mut file = File::create(&temp).map_err(io_error(&temp))?;
    file.write_all(body).map_err(io_error(&temp))?;
    file.sync_all().map_err(io_error(&temp))?;
    drop(file);
    std::fs::rename(&temp, path).map_err(io_error(path))?;
    // The rename is durable only once the directory entry is.
    File::open(dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error(dir))
}

/// Commits checkpoints of a [`CheckpointStore`] on a thread of its own, so that a caller
/// on an async runtime never waits for an fsync (two per commit, milliseconds each, far
/// more on a busy disk) and its other tasks keep running meanwhile.
///
/// [`CommitWorker::commit`] serializes the state at once and queues it; the worker writes
/// it exactly as [`CheckpointStore::commit`] does. A newer state of a name replaces a
/// queued older one (each state is whole, so the newest is all that needs writing).
/// [`CommitWorker::flush`] waits until everything queued is durable. Until then a crash
/// keeps the previous checkpoint: what the queued state covers is delivered again, never
/// lost. A failed write is returned by the next `commit` or `flush`.
///
/// Dropping the worker writes what is queued, then stops its thread.
#[derive(Debug)]
pub struct CommitWorker {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug)]
struct Shared {
    queue: Mutex<Queue>,
    /// Wakes the worker thread.
    work: Condvar,
    /// Wakes `flush` when the queue is empty and nothing is being written.
    idle: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct Queue {
    /// Names and bodies waiting to be written, oldest first.
    pending: Vec<(String, Vec<u8>)>,
    writing: bool,
    error: Option<CheckpointError>,
    closed: bool,
}

impl CommitWorker {
    /// Starts a worker writing into `store`, which it keeps (and so its lock) until
    /// dropped.
    pub fn start(store: Arc<CheckpointStore>) -> Result<Self, CheckpointError> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            work: Condvar::new(),
            idle: tokio::sync::Notify::new(),
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("checkpoint-commits".to_owned())
            // It only writes files: a small stack keeps its memory small.
            .stack_size(256 * 1024)
            .spawn(move || worker.run(&store))
            .map_err(|source| CheckpointError::Io {
                path: PathBuf::from("(checkpoint commit thread)"),
                source,
            })?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Queues `state` as checkpoint `name`; returns a failure of an earlier write.
    pub fn commit<T: Serialize + ?Sized>(
        &self,
        name: &str,
        state: &T,
    ) -> Result<(), CheckpointError> {
        if !valid_name(name) {
            return Err(CheckpointError::InvalidName {
                name: name.to_owned(),
            });
        }
        let body = encode(name, state)?;
        let mut queue = self.shared.lock();
        if let Some(error) = queue.error.take() {
            return Err(error);
        }
        match queue.pending.iter_mut().find(|(queued, _)| queued == name) {
            Some((_, queued)) => *queued = body,
            None => queue.pending.push((name.to_owned(), body)),
        }
        drop(queue);
        self.shared.work.notify_one();
        Ok(())
    }

    /// Waits until every queued checkpoint is written; returns the first failure.
    pub async fn flush(&self) -> Result<(), CheckpointError> {
        loop {
            let idle = self.shared.idle.notified();
            let mut idle = std::pin::pin!(idle);
            // Registered before looking, so a write finishing in between still wakes us.
            idle.as_mut().enable();
            {
                let mut queue = self.shared.lock();
                if let Some(error) = queue.error.take() {
                    return Err(error);
                }
                if queue.pending.is_empty() && !queue.writing {
                    return Ok(());
                }
            }
            idle.await;
        }
    }
}

impl Drop for CommitWorker {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_one();
        if let Some(thread) = self.thread.take() {
            // The thread never panics on its own; a panic there has nothing left to say.
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The worker thread: writes what is queued until closed and drained.
    fn run(&self, store: &CheckpointStore) {
        let mut queue = self.lock();
        loop {
            if queue.pending.is_empty() {
                queue.writing = false;
                self.idle.notify_waiters();
                if queue.closed {
                    return;
                }
                queue = self
                    .work
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            queue.writing = true;
            let (name, body) = queue.pending.remove(0);
            drop(queue);
            let path = store.dir.join(format!("{name}.json"));
            let written = write_atomically(&store.dir, &name, &path, &body);
            queue = self.lock();
            if let Err(error) = written {
                queue.error.get_or_insert(error);
            }
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

    #[tokio::test]
    async fn the_worker_writes_the_newest_state_of_each_name_and_flush_waits_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(CheckpointStore::open(dir.path()).unwrap());
        let worker = CommitWorker::start(Arc::clone(&store)).unwrap();
        for offset in 0..50u64 {
            worker.commit("bulk", &offset).unwrap();
            worker.commit("cursor-alerts", &(offset * 2)).unwrap();
        }
        worker.flush().await.unwrap();
        assert_eq!(store.load::<u64>("bulk").unwrap(), Some(49));
        assert_eq!(store.load::<u64>("cursor-alerts").unwrap(), Some(98));
        // The same envelope as a direct commit.
        store.commit("direct", &49u64).unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("bulk.json")).unwrap(),
            std::fs::read(dir.path().join("direct.json")).unwrap()
        );
        assert!(matches!(
            worker.commit("../escape", &1),
            Err(CheckpointError::InvalidName { .. })
        ));
        // Dropping writes what is still queued.
        worker.commit("bulk", &50u64).unwrap();
        drop(worker);
        assert_eq!(store.load::<u64>("bulk").unwrap(), Some(50));
    }

    #[tokio::test]
    async fn a_failed_background_write_is_returned_once() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let store = Arc::new(CheckpointStore::open(&state).unwrap());
        let worker = CommitWorker::start(Arc::clone(&store)).unwrap();
        // The directory is gone: the temp file cannot be created.
        std::fs::remove_dir_all(&state).unwrap();
        worker.commit("bulk", &1u64).unwrap();
        let error = worker.flush().await.unwrap_err();
        assert!(matches!(error, CheckpointError::Io { .. }), "{error}");
        assert!(error.to_string().contains(".bulk.json.tmp"), "{error}");
        worker.flush().await.unwrap();
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
