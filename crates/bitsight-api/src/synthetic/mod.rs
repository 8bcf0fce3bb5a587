//! A deterministic synthetic portfolio served over loopback HTTP (feature `synthetic`).
//!
//! [`SyntheticPortfolio::generate`] builds companies and findings from a
//! [`PortfolioSpec`] (same seed, same data), with hostile strings in realistic places
//! and some empty `rolledup_observation_id`s. [`serve`] answers the real endpoints on
//! `127.0.0.1:0`: Basic auth checked, limit/offset paging with `links.next`, the
//! findings filters and sorts (no `sort` gives Bitsight's unstable severity order).
//! The [`ServerHandle`] adds findings while the server runs and injects faults.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bitsight_api::synthetic::{PortfolioSpec, SyntheticPortfolio, serve};
//! use bitsight_api::{Client, FindingsQuery};
//! use futures::TryStreamExt;
//! use time::macros::date;
//!
//! let portfolio = SyntheticPortfolio::generate(PortfolioSpec {
//!     seed: 42,
//!     companies: 2,
//!     findings_per_company: 250,
//!     first_date: date!(2024 - 01 - 01),
//!     last_date: date!(2024 - 03 - 31),
//! });
//! let server = serve(portfolio).await?;
//! let client = Client::new(server.client_config())?;
//! let companies = client.companies().await?;
//! let mine = companies.my_company.expect("the first company is mine");
//! let query = FindingsQuery { page_size: 100, ..FindingsQuery::default() };
//! let findings: Vec<_> = client.findings(&mine, &query).try_collect().await?;
//! assert_eq!(findings.len(), 250);
//! assert!(findings.windows(2).all(|w| w[0].first_seen() <= w[1].first_seen()));
//! # Ok(())
//! # }
//! ```

mod generate;
mod json_writer;
mod server;

pub use generate::{HOSTILE_STRINGS, PortfolioSpec, SyntheticPortfolio};
pub use server::{Fault, SYNTHETIC_TOKEN, ServerHandle, serve, serve_with_token};
