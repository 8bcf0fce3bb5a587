//! A streaming, rate-limited client for the Palo Alto Networks IoT Security API, with a
//! synthetic tenant.
//!
//! [`Client`] reads a tenant's devices, security alerts and vulnerabilities through the
//! v4.0 API (`X-Key-Id` / `X-Access-Key`) or Strata Cloud Manager (OAuth2 client
//! credentials, bearer tokens renewed before their 15 minutes run out). Lists come as
//! [`Stream`](futures::Stream)s of records, fetched page by page (`pagelength` up to
//! 1000), ending on a short page and never on the reported total; a record set that
//! shifts while it is paged never repeats a record. The stream ([`Records`]) also tells
//! the API's `total` ([`Records::total`]), an estimate for progress displays. Every request goes through a rate
//! limiter (60 a minute by default) and is retried with jittered backoff on 429
//! (honouring `Retry-After`, in seconds or as an HTTP-date), 5xx, timeouts and connection
//! resets; the final error names the endpoint and offset ([`ApiError`]).
//!
//! Records ([`Device`], [`Alert`], [`Vulnerability`]) type the documented fields, accept
//! the aliases and string-typed numbers seen in the wild, and keep every other field in
//! `extra`; [`Device::field`] and [`Device::fields`] (and the same on the other
//! records) give every field back by its wire name. Lists and objects inside a record
//! (tags, services, ...) are [`Json`]: the text received, decoded on first use. An alert
//! carries its device's entry of the page's `deviceTags` map ([`Alert::device_tags`]).
//! [`Page::from_json`] decodes a list response (a saved one, say) as the client does. [`Cursor`] drives incremental
//! exports without losing or doubling records at the boundary timestamp.
//!
//! Credentials are [`Secret`]s: they never appear in Debug output, errors or logs.
//!
//! ```
//! use iot_security_api::{Auth, Client, ClientConfig, Device, FieldRef, Secret};
//!
//! let mut config = ClientConfig::new(
//!     "https://acme.iot.paloaltonetworks.com",
//!     "acme",
//!     Auth::api_key(Secret::new("key-id"), Secret::new("access-key")),
//! );
//! config.page_size = 500;
//! let client = Client::new(config.clone()).unwrap();
//! assert_eq!(client.api_base().as_str(), "https://acme.iot.paloaltonetworks.com/pub/v4.0/");
//! assert!(!format!("{config:?}").contains("access-key"));
//!
//! // Plain http is refused unless explicitly allowed.
//! config.base_url = "http://127.0.0.1:8080".into();
//! assert!(Client::new(config).is_err());
//!
//! // Lenient records: numbers as strings, slashed keys, unknown fields kept.
//! let device: Device = serde_json::from_str(
//!     r#"{"deviceid":"00:1b:44:11:3a:b7","confidence_score":"90",
//!         "os/firmware_version":"4.2","Switch_Port":"Gi1/0/7"}"#,
//! ).unwrap();
//! assert_eq!(device.confidence_score, Some(90));
//! assert_eq!(device.os_firmware_version.as_deref(), Some("4.2"));
//! assert_eq!(device.field("Switch_Port").map(|v| v.to_string()).as_deref(), Some("Gi1/0/7"));
//! assert_eq!(device.fields().count(), 4);
//! # let _ = FieldRef::Int(0);
//! ```
#![cfg_attr(
    feature = "synthetic",
    doc = r#"
With the `synthetic` feature, a seeded synthetic tenant serves the real endpoints over
loopback HTTP, so the whole client path can run without a real tenant:

```
use futures::TryStreamExt;
use iot_security_api::synthetic::{serve, TenantSpec};
use iot_security_api::{Client, DeviceQuery};

# #[tokio::main(flavor = "current_thread")]
# async fn main() -> Result<(), Box<dyn std::error::Error>> {
let server = serve(TenantSpec { seed: 7, devices: 2_500, alerts: 10, vulnerabilities: 10 }).await?;
let client = Client::new(server.client_config())?;
let devices: Vec<_> = client.devices(&DeviceQuery::default()).try_collect().await?;
assert_eq!(devices.len(), 2_500);
server.shutdown().await;
# Ok(())
# }
```
"#
)]
//!
//! Against a real tenant (not run here):
//!
//! ```no_run
//! use futures::StreamExt;
//! use iot_security_api::{AlertQuery, Auth, Client, ClientConfig, Cursor, Record, Secret};
//!
//! # async fn run(key_id: String, access_key: String) -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(ClientConfig::new(
//!     "https://acme.iot.paloaltonetworks.com",
//!     "acme",
//!     Auth::api_key(Secret::new(key_id), Secret::new(access_key)),
//! ))?;
//! let mut cursor = Cursor::new(None); // the exporter loads it from its state
//! let query = AlertQuery { stime: cursor.stime(), ..AlertQuery::default() };
//! let mut alerts = std::pin::pin!(client.alerts(&query));
//! while let Some(alert) = alerts.next().await {
//!     let alert = alert?;
//!     if cursor.is_new(&alert) {
//!         // deliver it, then, once the sink confirmed:
//!         cursor.advance(&alert);
//!     }
//! }
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod client;
mod config;
mod cursor;
mod error;
mod fast_json;
mod json;
mod lenient;
mod model;
mod page;
mod query;
mod secret;
mod small_string;
#[cfg(feature = "synthetic")]
pub mod synthetic;
mod time_format;

pub use client::{Client, Records, ReportStatus, StatusReport};
pub use config::{Auth, ClientConfig, MAX_PAGE_SIZE, SCM_TOKEN_URL, ScmCredentials};
pub use cursor::{Cursor, SeenRecord};
pub use error::{ApiError, ConfigError, Place};
pub use json::Json;
pub use lenient::FieldRef;
pub use model::{Alert, AlertMsg, Device, Record, Vulnerability};
pub use page::{Page, PageError};
pub use query::{
    AlertQuery, AlertSortField, DeviceQuery, MAX_OFFSET, SortDirection, VulnerabilityQuery,
    VulnerabilitySeverity, VulnerabilityStatus,
};
pub use secret::Secret;
pub use small_string::SmallString;
pub use time_format::{format_stime, parse_timestamp};
