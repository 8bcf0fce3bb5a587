//! A deterministic synthetic tenant served over loopback HTTP (feature `synthetic`).
//!
//! [`serve`] binds `127.0.0.1:0` and serves the v4.0 endpoints the client uses, with the
//! documented shapes: API key headers and `customerid` checked, `offset` / `pagelength`
//! paging (at most 1000), `stime` filters, MAC or date ordering. Records are generated
//! on demand from `(seed, index)`, so a tenant of any size costs nothing up front and a
//! page costs one buffer. Hostnames, descriptions and remediation texts carry hostile
//! strings (`|`, `=`, `\`, CR/LF, non-ASCII) in a fixed share of records.
//!
//! Tests can add or retire records between calls ([`ServerHandle::add`],
//! [`ServerHandle::retire`]) and inject faults ([`Fault`]).

mod render;
mod server;

pub use render::RecordKind;
pub use server::{Fault, ServerHandle, serve};

use crate::model::{Alert, Device, Vulnerability};

/// The customer id of every synthetic tenant.
pub const CUSTOMER_ID: &str = "synthetic";
/// The access key id a synthetic tenant accepts.
pub const KEY_ID: &str = "synthetic-key-id";
/// The access key a synthetic tenant accepts.
pub const ACCESS_KEY: &str = "synthetic-access-key";

/// A synthetic tenant: a seed and how many records of each kind it starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantSpec {
    /// Seed of every generated value.
    pub seed: u64,
    /// Devices at start.
    pub devices: u64,
    /// Alerts at start.
    pub alerts: u64,
    /// Vulnerability instances at start.
    pub vulnerabilities: u64,
}

impl TenantSpec {
    /// Device `index` of this tenant (with details), exactly as the server sends it.
    pub fn device(&self, index: u64) -> Device {
        let mut json = String::new();
        parse_rendered(&mut json, |out| render::device(out, self.seed, index, true))
    }

    /// Alert `index` of this tenant, exactly as the server sends it.
    pub fn alert(&self, index: u64) -> Alert {
        let mut json = String::new();
        parse_rendered(&mut json, |out| {
            render::alert(out, self.seed, index, self.devices)
        })
    }

    /// Vulnerability instance `index` of this tenant, exactly as the server sends it.
    pub fn vulnerability(&self, index: u64) -> Vulnerability {
        let mut json = String::new();
        parse_rendered(&mut json, |out| {
            render::vulnerability(out, self.seed, index, self.devices)
        })
    }
}

/// Renders one record and reads it back: the generator writes only valid JSON objects,
/// which the lenient models accept whole, so the fallbacks cannot trigger.
fn parse_rendered<R: Default + serde::de::DeserializeOwned>(
    json: &mut String,
    render: impl FnOnce(&mut String) -> std::fmt::Result,
) -> R {
    match render(json) {
        Ok(()) => serde_json::from_str(json).unwrap_or_default(),
        Err(_) => R::default(),
    }
}
