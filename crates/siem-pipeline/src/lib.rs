//! What the siembridge daemons share: config, checkpoints, the at-least-once delivery loop,
//! sinks and metrics.
//!
//! A daemon loads its TOML config with [`config::load_config`], locks its state directory
//! with [`checkpoint::CheckpointStore`], picks a [`sink::Sink`] from `[output]`, and runs
//! its source through [`delivery::deliver`], which commits a cursor only after the sink
//! confirmed every record up to it.
//!
//! ```
//! use bytes::Bytes;
//! use siem_pipeline::checkpoint::CheckpointStore;
//! use siem_pipeline::delivery::{deliver, DeliveryOptions, Record};
//! use siem_pipeline::sink::WriterSink;
//! use tokio_util::sync::CancellationToken;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let state = tempfile::tempdir()?;
//! let store = CheckpointStore::open(state.path())?;
//! let resume_after: u64 = store.load("devices")?.unwrap_or(0);
//!
//! // A source yields records, each with the cursor that resumes right after it.
//! let source = futures::stream::iter((resume_after + 1..=3).map(|n| {
//!     Ok::<_, std::io::Error>(Record::new("devices", Bytes::from(format!("device {n}")), n))
//! }));
//! let mut sink = WriterSink::new(Vec::new(), "memory");
//! let report = deliver(
//!     source,
//!     &mut sink,
//!     |cursor: &u64| store.commit("devices", cursor),
//!     &DeliveryOptions::default(),
//!     &CancellationToken::new(),
//! )
//! .await?;
//!
//! assert_eq!(report.sent("devices"), 3);
//! assert_eq!(store.load::<u64>("devices")?, Some(3));
//! assert_eq!(sink.into_inner().unwrap_or_default(), b"device 1\ndevice 2\ndevice 3\n");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

pub mod checkpoint;
pub mod config;
pub mod delivery;
pub mod metrics;
pub mod retry;
pub mod sink;

#[cfg(feature = "cli")]
pub mod cli;
