//! Records appended to a file, one per line, fsynced per batch, rotated by size.
//!
//! A batch is confirmed once its bytes are fsynced. A batch that fails half written is cut
//! off again (the file is truncated to its size before the batch), and a torn last line
//! left by a crash is cut off when the sink opens the file, so a re-sent batch never
//! lands after a fragment.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::{Sink, SinkBuildError, SinkError, SinkFailure, reject_multiline};

/// Settings of a [`FileSink`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSinkOptions {
    /// The file to append to (created when missing).
    pub path: PathBuf,
    /// Rotate before a batch would grow the file past this many bytes; `None` never
    /// rotates. A single batch larger than this still goes into one file.
    pub rotate_bytes: Option<u64>,
    /// Rotated files kept: `PATH.1` (newest) to `PATH.N`; older ones are deleted.
    pub keep_files: u32,
}

impl FileSinkOptions {
    /// Appends to `path`, never rotating.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            rotate_bytes: None,
            keep_files: 5,
        }
    }
}

/// Appends records to a file; see the [module docs](self).
#[derive(Debug)]
pub struct FileSink {
    options: FileSinkOptions,
    file: Option<File>,
    size: u64,
    buffer: Vec<u8>,
}

impl FileSink {
    /// Opens (creating) the file for appending.
    pub async fn open(options: FileSinkOptions) -> Result<Self, SinkBuildError> {
        let (file, size) =
            open_for_append(&options.path)
                .await
                .map_err(|source| SinkBuildError::Io {
                    path: options.path.clone(),
                    source,
                })?;
        Ok(Self {
            options,
            file: Some(file),
            size,
            buffer: Vec::new(),
        })
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.options.path
    }

    fn io_failure(&self, target: &Path, source: std::io::Error) -> SinkFailure {
        SinkFailure::Io {
            target: target.display().to_string(),
            source,
        }
    }

    /// Shifts `PATH.1..N-1` up by one, `PATH` to `PATH.1`, and starts a new `PATH`.
    async fn rotate(&mut self) -> Result<(), SinkFailure> {
        if let Some(file) = self.file.take() {
            file.sync_all()
                .await
                .map_err(|source| self.io_failure(&self.options.path, source))?;
        }
        let keep = self.options.keep_files;
        let numbered = |n: u32| {
            let mut name = self.options.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if keep == 0 {
            remove_if_present(&self.options.path)
                .await
                .map_err(|source| self.io_failure(&self.options.path, source))?;
        } else {
            remove_if_present(&numbered(keep))
                .await
                .map_err(|source| self.io_failure(&numbered(keep), source))?;
            for n in (1..keep).rev() {
                rename_if_present(&numbered(n), &numbered(n + 1))
                    .await
                    .map_err(|source| self.io_failure(&numbered(n), source))?;
            }
            rename_if_present(&self.options.path, &numbered(1))
                .await
                .map_err(|source| self.io_failure(&self.options.path, source))?;
        }
        let (file, size) = open_for_append(&self.options.path)
            .await
            .map_err(|source| self.io_failure(&self.options.path, source))?;
        sync_parent(&self.options.path)
            .await
            .map_err(|source| self.io_failure(&self.options.path, source))?;
        self.file = Some(file);
        self.size = size;
        Ok(())
    }

    async fn append(&mut self) -> Result<(), std::io::Error> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("file not open"))?;
        let written = async {
            file.write_all(&self.buffer).await?;
            file.flush().await?;
            file.sync_data().await
        }
        .await;
        if let Err(error) = written {
            // Cut the fragment so that the retried batch starts on a fresh line.
            let _ = file.set_len(self.size).await;
            let _ = file.seek(std::io::SeekFrom::End(0)).await;
            return Err(error);
        }
        self.size += self.buffer.len() as u64;
        Ok(())
    }
}

async fn open_for_append(path: &Path) -> Result<(File, u64), std::io::Error> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .await?;
    let mut size = file.metadata().await?.len();
    if size > 0 {
        let keep = complete_lines_len(&mut file, size).await?;
        if keep != size {
            file.set_len(keep).await?;
            file.sync_data().await?;
            size = keep;
        }
    }
    file.seek(std::io::SeekFrom::End(0)).await?;
    Ok((file, size))
}

/// The length of the file up to and including its last line feed.
async fn complete_lines_len(file: &mut File, size: u64) -> Result<u64, std::io::Error> {
    const CHUNK: u64 = 64 * 1024;
    let mut end = size;
    let mut chunk = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(CHUNK);
        // `end - start` is at most CHUNK, which fits any usize.
        let len = usize::try_from(end - start).unwrap_or(chunk.len());
        file.seek(std::io::SeekFrom::Start(start)).await?;
        file.read_exact(&mut chunk[..len]).await?;
        if let Some(last) = memchr::memrchr(b'\n', &chunk[..len]) {
            return Ok(start + last as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

async fn remove_if_present(path: &Path) -> Result<(), std::io::Error> {
    match tokio::fs::remove_file(path).await {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

async fn rename_if_present(from: &Path, to: &Path) -> Result<(), std::io::Error> {
    match tokio::fs::rename(from, to).await {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

async fn sync_parent(path: &Path) -> Result<(), std::io::Error> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    File::open(parent).await?.sync_all().await
}

#[async_trait::async_trait]
impl Sink for FileSink {
    async fn send(&mut self, batch: Vec<Bytes>) -> Result<(), SinkError> {
        let batch = reject_multiline(batch)?;
        if self.file.is_none() {
            return Err(SinkError::new(SinkFailure::Closed, batch));
        }
        self.buffer.clear();
        for record in &batch {
            self.buffer.extend_from_slice(record);
            self.buffer.push(b'\n');
        }
        if let Some(limit) = self.options.rotate_bytes
            && self.size > 0
            && self.size + self.buffer.len() as u64 > limit
            && let Err(failure) = self.rotate().await
        {
            return Err(SinkError::new(failure, batch));
        }
        let appended = self.append().await;
        self.buffer.clear();
        self.buffer.shrink_to(1 << 20);
        appended
            .map_err(|source| SinkError::new(self.io_failure(&self.options.path, source), batch))
    }

    async fn flush(&mut self) -> Result<(), SinkFailure> {
        // Every confirmed batch is already fsynced.
        if self.file.is_some() {
            Ok(())
        } else {
            Err(SinkFailure::Closed)
        }
    }

    async fn close(&mut self) -> Result<(), SinkFailure> {
        match self.file.take() {
            Some(file) => file
                .sync_all()
                .await
                .map_err(|source| self.io_failure(&self.options.path, source)),
            None => Ok(()),
        }
    }

    fn describe(&self) -> String {
        format!("file {}", self.options.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(lines: &[&str]) -> Vec<Bytes> {
        lines
            .iter()
            .map(|l| Bytes::copy_from_slice(l.as_bytes()))
            .collect()
    }

    #[tokio::test]
    async fn appends_lines_and_cuts_a_torn_tail_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        std::fs::write(&path, "kept\ntorn-by-a-cra").unwrap();
        let mut sink = FileSink::open(FileSinkOptions::new(&path)).await.unwrap();
        sink.send(batch(&["a", "b"])).await.unwrap();
        sink.send(batch(&["c"])).await.unwrap();
        sink.close().await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "kept\na\nb\nc\n");
    }

    #[tokio::test]
    async fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let mut sink = FileSink::open(FileSinkOptions {
            path: path.clone(),
            rotate_bytes: Some(8),
            keep_files: 2,
        })
        .await
        .unwrap();
        for line in ["111", "222", "333", "444", "555"] {
            sink.send(batch(&[line, line])).await.unwrap();
        }
        sink.close().await.unwrap();
        let read = |suffix: &str| {
            std::fs::read_to_string(format!("{}{suffix}", path.display())).unwrap_or_default()
        };
        assert_eq!(read(""), "555\n555\n");
        assert_eq!(read(".1"), "444\n444\n");
        assert_eq!(read(".2"), "333\n333\n");
        assert_eq!(read(".3"), "");
    }
}
