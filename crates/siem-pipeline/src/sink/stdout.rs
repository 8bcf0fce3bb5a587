//! Records to a byte stream (stdout, a pipe), one per line, flushed per batch.

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::{Sink, SinkError, SinkFailure, reject_multiline};

/// Writes records to any async writer, one per line, flushing after each batch; a batch
/// is confirmed once the flush returns.
#[derive(Debug)]
pub struct WriterSink<W> {
    writer: Option<W>,
    name: String,
    line: Vec<u8>,
}

impl WriterSink<tokio::io::Stdout> {
    /// Records on the process's stdout (which then carries records only).
    pub fn stdout() -> Self {
        Self::new(tokio::io::stdout(), "stdout")
    }
}

impl<W: AsyncWrite + Unpin + Send> WriterSink<W> {
    /// Records on `writer`; `name` names it in errors and logs.
    pub fn new(writer: W, name: impl Into<String>) -> Self {
        Self {
            writer: Some(writer),
            name: name.into(),
            line: Vec::new(),
        }
    }

    /// Gives back the writer (None once closed).
    pub fn into_inner(self) -> Option<W> {
        self.writer
    }

    fn io_failure(&self, source: std::io::Error) -> SinkFailure {
        SinkFailure::Io {
            target: self.name.clone(),
            source,
        }
    }
}

#[async_trait::async_trait]
impl<W: AsyncWrite + Unpin + Send> Sink for WriterSink<W> {
    async fn send(&mut self, batch: Vec<Bytes>) -> Result<(), SinkError> {
        let batch = reject_multiline(batch)?;
        let Some(writer) = self.writer.as_mut() else {
            return Err(SinkError::new(SinkFailure::Closed, batch));
        };
        // One buffer and one write per batch: a partial failure then re-sends the batch
        // (at least once) instead of guessing which lines got out.
        self.line.clear();
        for record in &batch {
            self.line.extend_from_slice(record);
            self.line.push(b'\n');
        }
        let written = match writer.write_all(&self.line).await {
            Ok(()) => writer.flush().await,
            Err(error) => Err(error),
        };
        self.line.clear();
        self.line.shrink_to(1 << 20);
        written.map_err(|source| SinkError::new(self.io_failure(source), batch))
    }

    async fn flush(&mut self) -> Result<(), SinkFailure> {
        match self.writer.as_mut() {
            Some(writer) => writer.flush().await.map_err(|source| SinkFailure::Io {
                target: self.name.clone(),
                source,
            }),
            None => Err(SinkFailure::Closed),
        }
    }

    async fn close(&mut self) -> Result<(), SinkFailure> {
        match self.writer.take() {
            Some(mut writer) => writer
                .shutdown()
                .await
                .map_err(|source| self.io_failure(source)),
            None => Ok(()),
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_one_record_per_line_and_rejects_line_feeds() {
        let mut sink = WriterSink::new(Vec::new(), "memory");
        sink.send(vec![
            Bytes::from_static(b"{\"a\":1}"),
            Bytes::from_static(b"CEF:0|x"),
        ])
        .await
        .unwrap();
        let error = sink
            .send(vec![
                Bytes::from_static(b"ok"),
                Bytes::from_static(b"two\nlines"),
            ])
            .await
            .unwrap_err();
        assert!(!error.failure().is_retryable());
        assert_eq!(error.undelivered().len(), 2);
        insta::assert_snapshot!(error.to_string(), @"record 1 of the batch cannot be sent: it contains a line feed, which would split it into two records (2 record(s) not delivered)");
        sink.close().await.unwrap();
        let closed = sink
            .send(vec![Bytes::from_static(b"late")])
            .await
            .unwrap_err();
        assert!(matches!(closed.failure(), SinkFailure::Closed));
    }

    #[tokio::test]
    async fn the_bytes_are_exactly_the_records() {
        let (client, mut server) = tokio::io::duplex(1 << 16);
        let mut sink = WriterSink::new(client, "pipe");
        sink.send(vec![Bytes::from_static(b"one"), Bytes::from_static(b"two")])
            .await
            .unwrap();
        sink.close().await.unwrap();
        drop(sink);
        let mut out = Vec::new();
        tokio::io::AsyncReadExt::read_to_end(&mut server, &mut out)
            .await
            .unwrap();
        assert_eq!(out, b"one\ntwo\n");
    }
}
