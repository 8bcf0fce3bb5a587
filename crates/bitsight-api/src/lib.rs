//! A streaming, polite client for the Bitsight Security Performance Management API.
//!
//! - [`Client`] reads companies ([`Client::companies`], with `my_company`), company
//!   details, the portfolio, findings with every filter ([`FindingsQuery`]), findings
//!   summary and statistics, and alerts ([`AlertsQuery`]).
//! - Listings are [`Stream`](futures::Stream)s, fetched a page at a time (memory stays
//!   bounded), following `links.next` only to the configured scheme, host and port.
//!   Findings always carry a `sort` (Bitsight's default order is unstable, and offset
//!   paging over it skips findings).
//! - Politeness: at most [`ClientConfig::max_in_flight`] requests at once (3 by default,
//!   shared by clones); a 429 waits `Retry-After` (or a minute), then backs off
//!   exponentially with jitter; 5xx, timeouts and resets are retried up to a maximum,
//!   after which [`ApiError::RetriesExhausted`] names the endpoint, company and offset.
//! - [`Finding`] gives typed, lenient accessors and keeps the record whole:
//!   serialising it reproduces the JSON as received. [`Finding::identity_ref`] (or the
//!   owned [`Finding::identity`]) is the stable key for deduplication.
//! - The light path, [`Client::findings_pages`]: whole pages ([`FindingsPage`]) whose
//!   findings ([`LightFinding`]) are decoded only as far as their exact text, identity,
//!   `temporary_id` and dates, without a copy; the typed fields on demand. With
//!   [`Client::findings_pages_with_overlap`] each page re-reads the tail of the one
//!   before, and the next page is still requested ahead.
//! - The token is a [`Secret`]: never in Debug, Display, errors or logs.
//! - With the `synthetic` feature, `synthetic` serves a deterministic, seeded
//!   portfolio over loopback HTTP (demo, end-to-end tests, benchmarks).
//!
//! ```
//! use bitsight_api::{Client, ClientConfig, FindingsQuery, RiskVector, Secret, SeverityCategory};
//!
//! let config = ClientConfig::new(Secret::new("my-api-token"));
//! let client = Client::new(config)?;
//! let query = FindingsQuery {
//!     risk_vectors: vec![RiskVector::Spf, RiskVector::OpenPorts],
//!     ..FindingsQuery::default()
//! }
//! .min_severity(&SeverityCategory::Material);
//! let pairs = query.query_pairs();
//! assert!(pairs.contains(&("risk_vector", "SPF,open_ports".to_owned())));
//! assert!(pairs.contains(&("severity_gte", "7".to_owned())));
//! assert!(pairs.contains(&("sort", "first_seen".to_owned())));
//! // `client.findings("company-guid", &query)` streams the findings.
//! assert_eq!(format!("{:?}", client.config().token), "***");
//! # Ok::<(), bitsight_api::ConfigError>(())
//! ```
#![deny(missing_docs)]

mod client;
mod config;
mod error;
mod finding;
mod lenient;
mod models;
mod page;
mod paging;
mod query;
mod reader;
mod scan;
mod secret;
mod vocab;

pub use client::Client;
pub use config::{ClientConfig, DEFAULT_BASE_URL, USER_AGENT};
pub use error::{ApiError, ConfigError, Endpoint};
pub use finding::{Asset, Finding, FindingIdentity, FindingIdentityRef, TYPED_FINDING_FIELDS};
pub use models::{
    Alert, Companies, Company, CompanyDetails, FindingsStatistics, FindingsSummary,
    PortfolioCompany,
};
pub use page::{FindingsPage, LightFinding};
pub use query::{
    AlertsQuery, AlertsSort, FindingsExpand, FindingsQuery, FindingsSort, MAX_PAGE_SIZE,
};
pub use secret::Secret;
pub use vocab::{
    AffectsRatingReason, AssetCategory, Grade, RiskCategory, RiskVector, SeverityCategory,
};

#[cfg(feature = "synthetic")]
pub mod synthetic;
