//! One page of a list response, decoded.

use std::collections::HashMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::fast_json::{self, FastRecord};
use crate::json::Json;
use crate::model::{Alert, Device, Record, Vulnerability};

/// One page of `device/list`, `alert/list` or `vulnerability/list` as the API sent it:
/// what [`Client`](crate::Client) decodes for each request, also usable on saved
/// responses.
///
/// ```
/// use iot_security_api::{Alert, Page};
///
/// let page = Page::<Alert>::from_json(br#"{"total": 7, "items": [
///     {"zb_ticketid": "alert-1", "deviceid": "00:1b:44:11:3a:b7"}],
///     "deviceTags": {"00:1b:44:11:3a:b7": {"tagIdList": ["5f2a"]}}}"#).unwrap();
/// assert_eq!(page.total, Some(7));
/// assert_eq!(page.records[0].device_tags.as_ref().unwrap()["tagIdList"][0], "5f2a");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Page<R> {
    /// The records, in the order received.
    pub records: Vec<R>,
    /// The list's `total` as reported with this page (a number, or a string holding
    /// one): an estimate, the set moves while it is paged.
    pub total: Option<u64>,
}

/// Why a list page does not decode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// The body is not JSON of the documented shape (truncated, not JSON, wrong types).
    #[error("response is not valid JSON of the expected shape: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON is valid but lacks the list.
    #[error("response has no `{key}` array")]
    MissingList {
        /// The missing key (`devices` or `items`).
        key: &'static str,
    },
}

/// The record types that come in lists, and the key of their list.
pub(crate) trait ListRecord: Record + FastRecord + DeserializeOwned + Sized {
    /// The key of the list in a page (`devices` or `items`).
    const LIST_KEY: &'static str;

    /// Decodes a page of these records.
    fn decode_page(body: &[u8]) -> Result<Page<Self>, PageError>;
}

impl ListRecord for Device {
    const LIST_KEY: &'static str = "devices";

    fn decode_page(body: &[u8]) -> Result<Page<Self>, PageError> {
        let raw = raw_page::<Self>(body)?;
        raw.into_page(Self::LIST_KEY)
    }
}

impl ListRecord for Alert {
    const LIST_KEY: &'static str = "items";

    /// Also attaches each alert's entry of the page's `deviceTags` map (keyed by device
    /// id) to the alert, unless the alert carries its own.
    fn decode_page(body: &[u8]) -> Result<Page<Self>, PageError> {
        let mut raw = raw_page::<Self>(body)?;
        let device_tags = raw.device_tags.take();
        let mut page = raw.into_page(Self::LIST_KEY)?;
        if let Some(device_tags) = device_tags {
            for alert in &mut page.records {
                if alert.device_tags.is_none()
                    && let Some(tags) = alert.deviceid.as_deref().and_then(|id| device_tags.get(id))
                {
                    alert.device_tags = Some(tags.clone());
                }
            }
        }
        Ok(page)
    }
}

impl ListRecord for Vulnerability {
    const LIST_KEY: &'static str = "items";

    fn decode_page(body: &[u8]) -> Result<Page<Self>, PageError> {
        let raw = raw_page::<Self>(body)?;
        raw.into_page(Self::LIST_KEY)
    }
}

impl Page<Device> {
    /// Decodes a `device/list` response body (`{"total": n, "devices": [...]}`).
    pub fn from_json(body: &[u8]) -> Result<Self, PageError> {
        Device::decode_page(body)
    }
}

impl Page<Alert> {
    /// Decodes an `alert/list` response body (`{"total": n, "items": [...],
    /// "deviceTags": {...}}`); each alert gets its device's `deviceTags` entry in
    /// [`Alert::device_tags`], so nothing the API sent is dropped.
    pub fn from_json(body: &[u8]) -> Result<Self, PageError> {
        Alert::decode_page(body)
    }
}

impl Page<Vulnerability> {
    /// Decodes a `vulnerability/list?groupby=device` response body (`{"items": [...]}`).
    pub fn from_json(body: &[u8]) -> Result<Self, PageError> {
        Vulnerability::decode_page(body)
    }
}

/// A page as sent: the list under either key, the total, and the alert list's
/// `deviceTags`; other keys (`ver`, `api`) are envelope, not records.
#[derive(Deserialize)]
#[serde(bound = "R: DeserializeOwned")]
pub(crate) struct RawPage<R> {
    pub(crate) devices: Option<Vec<R>>,
    items: Option<Vec<R>>,
    total: Option<Value>,
    #[serde(rename = "deviceTags")]
    device_tags: Option<HashMap<String, Json>>,
}

/// The page as serde decodes it, for the fast path's law tests.
#[cfg(test)]
pub(crate) type RawPageForTests = RawPage<Device>;

impl<R> RawPage<R> {
    fn into_page(self, key: &'static str) -> Result<Page<R>, PageError> {
        let records = if key == "devices" {
            self.devices
        } else {
            self.items
        };
        Ok(Page {
            records: records.ok_or(PageError::MissingList { key })?,
            total: self.total.as_ref().and_then(total_count),
        })
    }
}

/// Decodes a page, checking UTF-8 once for the whole body instead of once per string.
/// The fast path reads it first; whatever it gives up on (and invalid UTF-8, which the
/// byte parser reports with its place) is decoded by serde_json.
fn raw_page<R: ListRecord>(body: &[u8]) -> Result<RawPage<R>, PageError> {
    match std::str::from_utf8(body) {
        Ok(text) => match fast_json::page::<R>(text) {
            Some(page) => Ok(RawPage {
                devices: page.devices,
                items: page.items,
                total: page.total,
                device_tags: page.device_tags,
            }),
            None => serde_json::from_str(text),
        },
        Err(_) => serde_json::from_slice(body),
    }
    .map_err(PageError::Json)
}

/// A list's `total`: a count, also when sent as a string; anything else is no total.
fn total_count(total: &Value) -> Option<u64> {
    match total {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}
