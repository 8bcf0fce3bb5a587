//! The IoT Security -> SIEM exporter, as a library behind its binary: the CEF profiles
//! ([`cef`]), the config ([`config`]), one export run ([`export`]), the syslog sink
//! ([`sink`]), run status ([`status`]), the commands ([`app`]) and the demo ([`demo`]).
//!
//! Mapping a device with the `panw` profile:
//!
//! ```
//! use iot_siem_exporter::cef::{Mapper, MappingOptions, Profile};
//! use iot_security_api::Device;
//!
//! let device: Device = serde_json::from_str(
//!     r#"{"deviceid":"00:1b:44:11:3a:b7","mac_address":"00:1b:44:11:3a:b7",
//!         "ip_address":"10.0.0.7","hostname":"pump|7","profile":"Infusion Pump",
//!         "risk_score":0}"#,
//! )?;
//! let mut line = Vec::new();
//! Mapper::new(MappingOptions { profile: Profile::Panw, legacy_prefix: false })
//!     .device(&device, &mut line)?;
//! assert_eq!(
//!     String::from_utf8(line)?,
//!     "CEF:0|PaloAltoNetworks|PANWIOT|1.0|asset|Asset Identification|1|\
//!      deviceExternalId=00:1b:44:11:3a:b7 dvc=10.0.0.7 dvcmac=00:1B:44:11:3A:B7 \
//!      dvchost=pump|7 cs1Label=Profile cs1=Infusion Pump"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod app;
pub mod cef;
pub mod config;
pub mod demo;
pub mod export;
pub mod sink;
pub mod status;
