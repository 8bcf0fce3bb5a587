//! Where records go: the [`Sink`] trait and its implementations.
//!
//! A record is one encoded line (a CEF line, a JSON object) without its line ending; each
//! sink adds the framing its destination needs. A sink confirms a batch only once the
//! destination has it as durably as the destination allows (written and flushed, fsynced,
//! HTTP 2xx, indexer acknowledgement); on failure it hands back what it did not deliver.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;

pub mod file;
pub mod hec;
mod http;
pub mod stdout;
pub mod syslog;
pub mod xsiam;

pub use file::{FileSink, FileSinkOptions};
pub use hec::{HecOptions, HecSink};
pub use http::HttpOptions;
pub use stdout::WriterSink;
pub use syslog::{SyslogSink, SyslogSinkError};
pub use xsiam::{XsiamOptions, XsiamSink};

/// A destination for batches of records. Object safe: binaries hold a `Box<dyn Sink>`
/// chosen by config.
#[async_trait::async_trait]
pub trait Sink: Send {
    /// Delivers `batch`, in order. `Ok` means every record was confirmed.
    ///
    /// On error the records not confirmed come back in [`SinkError::into_undelivered`]:
    /// always a suffix of `batch`, in order, so everything before it was confirmed.
    async fn send(&mut self, batch: Vec<Bytes>) -> Result<(), SinkError>;

    /// Pushes out anything buffered. Sinks that confirm per batch have nothing to do.
    async fn flush(&mut self) -> Result<(), SinkFailure>;

    /// Flushes and releases the destination; later sends fail with [`SinkFailure::Closed`].
    async fn close(&mut self) -> Result<(), SinkFailure>;

    /// What this sink writes to, for logs (never with secrets), e.g. `file ./out.ndjson`.
    fn describe(&self) -> String;
}

#[async_trait::async_trait]
impl<S: Sink + ?Sized> Sink for Box<S> {
    async fn send(&mut self, batch: Vec<Bytes>) -> Result<(), SinkError> {
        (**self).send(batch).await
    }
    async fn flush(&mut self) -> Result<(), SinkFailure> {
        (**self).flush().await
    }
    async fn close(&mut self) -> Result<(), SinkFailure> {
        (**self).close().await
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// A send failed; carries the records that were not delivered, as tokio's `SendError`
/// carries the value.
#[derive(thiserror::Error)]
#[error("{failure} ({} record(s) not delivered)", undelivered.len())]
pub struct SinkError {
    #[source]
    failure: SinkFailure,
    undelivered: Vec<Bytes>,
}

impl SinkError {
    /// A failure with the records not delivered (a suffix of the batch).
    pub fn new(failure: SinkFailure, undelivered: Vec<Bytes>) -> Self {
        Self {
            failure,
            undelivered,
        }
    }

    /// What went wrong.
    pub fn failure(&self) -> &SinkFailure {
        &self.failure
    }

    /// The records not delivered.
    pub fn undelivered(&self) -> &[Bytes] {
        &self.undelivered
    }

    /// Takes back the records not delivered.
    pub fn into_undelivered(self) -> Vec<Bytes> {
        self.undelivered
    }

    /// Splits into the failure and the records not delivered.
    pub fn into_parts(self) -> (SinkFailure, Vec<Bytes>) {
        (self.failure, self.undelivered)
    }
}

impl fmt::Debug for SinkError {
    // Records can be large and many; Debug shows how many, not what.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SinkError")
            .field("failure", &self.failure)
            .field("undelivered", &self.undelivered.len())
            .finish()
    }
}

/// Why a sink operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkFailure {
    /// Reading or writing a local file or stream failed.
    #[error("{target}: {source}")]
    Io {
        /// What was being written (`stdout`, a path).
        target: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The HTTP request could not be made or got no response.
    #[error("request to {url} failed: {source}")]
    Request {
        /// The endpoint (never with credentials).
        url: String,
        /// Why.
        source: reqwest::Error,
    },
    /// The server answered with a status that is not success.
    #[error("{url} answered HTTP {status}: {body}")]
    HttpStatus {
        /// The endpoint (never with credentials).
        url: String,
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
        /// The server's `Retry-After`, when given.
        retry_after: Option<Duration>,
    },
    /// The server answered 2xx with a body saying the data was not accepted, or the
    /// acknowledgement protocol failed.
    #[error("{url}: {detail}")]
    Rejected {
        /// The endpoint.
        url: String,
        /// What the server said.
        detail: String,
    },
    /// Indexer acknowledgement did not arrive in time.
    #[error("{url}: no indexer acknowledgement for ack id(s) {pending:?} within {waited:?}")]
    AckTimeout {
        /// The ack endpoint.
        url: String,
        /// Ack ids still pending.
        pending: Vec<u64>,
        /// How long the sink waited.
        waited: Duration,
    },
    /// A record can never be delivered as it is.
    #[error("record {index} of the batch cannot be sent: {reason}")]
    InvalidRecord {
        /// Its position in the batch passed to `send`.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The syslog transport failed (after its own reconnects and re-sends).
    #[error("syslog transport: {source}")]
    Transport {
        /// What the transport said.
        source: Box<syslog_transport::TransportError>,
        /// Whether the transport considers a later retry useful.
        retryable: bool,
    },
    /// The sink was closed.
    #[error("the sink is closed")]
    Closed,
}

impl SinkFailure {
    /// Whether sending the same records again may succeed (network trouble, 429, 5xx,
    /// timeouts); `false` for failures that need a person (bad credentials, bad records).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Io { .. } | Self::Request { .. } | Self::AckTimeout { .. } => true,
            Self::HttpStatus { status, .. } => {
                matches!(status, 408 | 429) || (500..=599).contains(status)
            }
            Self::Transport { retryable, .. } => *retryable,
            Self::Rejected { .. } | Self::InvalidRecord { .. } | Self::Closed => false,
        }
    }

    /// How long the server asked us to wait before retrying, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::HttpStatus { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A sink could not be built from its options.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkBuildError {
    /// The URL cannot be used.
    #[error("invalid URL {url}: {reason}")]
    Url {
        /// The URL as configured.
        url: String,
        /// Why.
        reason: String,
    },
    /// A file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The HTTP client could not be built (bad CA file, TLS setup).
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// A setting cannot go into a request (a credential with characters no HTTP header
    /// may hold).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which setting.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// What [`open_sink`] needs besides `[output]`.
pub struct SinkContext<'a> {
    /// `[siem]`, needed by `kind = "syslog"`.
    pub siem: Option<&'a crate::config::SiemConfig>,
    /// The binary's record format, deciding JSON or text for the HTTP sinks when
    /// `[output] format` is absent.
    pub default_format: crate::config::RecordFormat,
    /// APP-NAME of syslog messages unless `[siem] app_name` says otherwise.
    pub app_name: &'a str,
    /// The binary's environment lookup, for secrets named by `*_env` keys.
    pub lookup_env: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

/// Opens the sink `[output]` describes, resolving its secret.
pub async fn open_sink(
    output: &crate::config::OutputConfig,
    context: &SinkContext<'_>,
) -> Result<Box<dyn Sink>, OpenSinkError> {
    use crate::config::OutputConfig;
    Ok(match output {
        OutputConfig::Stdout { .. } => Box::new(WriterSink::stdout()),
        OutputConfig::File {
            path,
            rotate_size,
            keep_files,
            ..
        } => Box::new(
            FileSink::open(FileSinkOptions {
                path: path.clone(),
                rotate_bytes: rotate_size.map(|size| size.0),
                keep_files: *keep_files,
            })
            .await?,
        ),
        OutputConfig::Syslog { .. } => {
            let siem = context.siem.ok_or(OpenSinkError::MissingSiem)?;
            Box::new(SyslogSink::from_config(siem, context.app_name)?)
        }
        OutputConfig::Xsiam(xsiam) => {
            let key = xsiam
                .api_key_source()
                .resolve("output.api_key", context.lookup_env)?;
            let options = XsiamOptions::from_config(xsiam, key, context.default_format);
            Box::new(XsiamSink::new(&options)?)
        }
        OutputConfig::SplunkHec(hec) => {
            let token = hec
                .token_source()
                .resolve("output.token", context.lookup_env)?;
            Box::new(HecSink::new(HecOptions::from_config(
                hec,
                token,
                context.default_format,
            ))?)
        }
    })
}

/// The sink `[output]` describes could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenSinkError {
    /// `kind = "syslog"` without a `[siem]` section.
    #[error("[output] kind = \"syslog\" needs a [siem] section naming the receiver")]
    MissingSiem,
    /// The API key or token could not be resolved.
    #[error(transparent)]
    Secret(#[from] crate::config::SecretError),
    /// A file or HTTP sink could not be built.
    #[error(transparent)]
    Build(#[from] SinkBuildError),
    /// The syslog sink could not be built.
    #[error(transparent)]
    Syslog(#[from] syslog::SyslogSinkError),
}

/// The index of the first record holding a line feed, which would split it in two on a
/// line-delimited destination.
fn first_multiline(records: &[Bytes]) -> Option<usize> {
    records
        .iter()
        .position(|record| memchr::memchr(b'\n', record).is_some())
}

/// Fails a whole batch when one record would break line framing.
fn reject_multiline(batch: Vec<Bytes>) -> Result<Vec<Bytes>, SinkError> {
    match first_multiline(&batch) {
        None => Ok(batch),
        Some(index) => Err(SinkError::new(
            SinkFailure::InvalidRecord {
                index,
                reason: "it contains a line feed, which would split it into two records".to_owned(),
            },
            batch,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{OutputConfig, RecordFormat, parse_config};

    fn output(text: &str) -> OutputConfig {
        #[derive(serde::Deserialize)]
        struct Doc {
            output: OutputConfig,
        }
        let doc: Doc = parse_config(text, std::path::Path::new("t.toml")).unwrap();
        doc.output
    }

    fn context<'a>(lookup_env: &'a (dyn Fn(&str) -> Option<String> + Sync)) -> SinkContext<'a> {
        SinkContext {
            siem: None,
            default_format: RecordFormat::Cef,
            app_name: "test",
            lookup_env,
        }
    }

    #[tokio::test]
    async fn opens_the_sink_the_config_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        let no_env = |_: &str| None;
        let file = output(&format!(
            "[output]\nkind = \"file\"\npath = {:?}\nrotate_size = \"1MiB\"\n",
            path.display().to_string()
        ));
        let mut sink = open_sink(&file, &context(&no_env)).await.unwrap();
        assert_eq!(sink.describe(), format!("file {}", path.display()));
        sink.send(vec![Bytes::from_static(b"x")]).await.unwrap();
        sink.close().await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x\n");

        let xsiam = output(
            "[output]\nkind = \"xsiam\"\nurl = \"https://api-t.example\"\napi_key_env = \"XSIAM_KEY\"\n",
        );
        let missing = open_sink(&xsiam, &context(&no_env)).await.err().unwrap();
        assert_eq!(
            missing.to_string(),
            "output.api_key: environment variable XSIAM_KEY is not set"
        );
        let with_key = |name: &str| (name == "XSIAM_KEY").then(|| "secret-key".to_owned());
        let sink = open_sink(&xsiam, &context(&with_key)).await.unwrap();
        assert_eq!(sink.describe(), "xsiam https://api-t.example/logs/v1/event");

        let syslog = output("[output]\nkind = \"syslog\"\n");
        assert!(matches!(
            open_sink(&syslog, &context(&no_env)).await,
            Err(OpenSinkError::MissingSiem)
        ));
    }
}
