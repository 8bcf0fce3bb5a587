//! `bitsight-collector`: every Bitsight finding, once, as raw JSON, XDM or CEF, to any
//! siembridge sink. The binary is thin; this library holds its parts so that they can be
//! tested and benchmarked:
//!
//! - [`config`]: the TOML config (`[bitsight]`, `[output]`, `[modeling]`, `[state]`, ...).
//! - [`cursor`]: the day-precision cursor (a date plus the keys delivered on it).
//! - [`collect`]: one cycle, from the API through the delivery loop to committed cursors.
//! - [`format`]: the three record formats and the CEF mapping.
//! - [`app`]: the commands; [`demo`]: the synthetic demo (also the benchmark's path).
//!
//! ```
//! use bitsight_api::Finding;
//! use bitsight_collector::format::{CompanyRef, EventKind, finding_json};
//!
//! let finding = Finding::from_json("c1", r#"{"risk_vector":"spf","first_seen":"2026-11-20"}"#)?;
//! let company = CompanyRef { guid: "c1", name: Some("Example") };
//! let line = finding_json(&finding, company, EventKind::Finding)?;
//! assert_eq!(
//!     line,
//!     r#"{"risk_vector":"spf","first_seen":"2026-11-20","_time":"2026-11-20T00:00:00Z","_vendor":"Bitsight","_product":"Bitsight","company_guid":"c1","company_name":"Example","event_kind":"finding"}"#
//! );
//! # Ok::<(), serde_json::Error>(())
//! ```
#![deny(missing_docs)]

pub mod app;
pub mod collect;
pub mod config;
pub mod cursor;
pub mod demo;
pub mod format;
