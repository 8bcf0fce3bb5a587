//! Incremental cursors that never miss a record and never deliver one twice.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::Record;

/// A record already delivered near the cursor: its identity and timestamp.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeenRecord {
    /// When the record is dated (its cursor field).
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Its identity (`deviceid` or `zb_ticketid`).
    pub id: String,
}

/// Where an incremental export stands for one record kind. The exporter persists it and
/// calls [`Cursor::advance`] only after the sink confirmed delivery.
///
/// The next query starts at `since` minus the overlap (records that share or trail the
/// boundary timestamp are fetched again), and [`Cursor::is_new`] drops the ones already
/// delivered, by identity and timestamp: a device that is active again, or a record that
/// changed its date, comes through again.
///
/// ```
/// use iot_security_api::{Alert, Cursor};
/// use time::macros::datetime;
///
/// let mut cursor = Cursor::new(Some(datetime!(2024-01-01 00:00 UTC)));
/// let alert: Alert = serde_json::from_str(
///     r#"{"zb_ticketid":"alert-1","date":"2024-01-02T00:00:00.000Z"}"#,
/// ).unwrap();
/// assert!(cursor.is_new(&alert));
/// cursor.advance(&alert); // after delivery
/// assert!(!cursor.is_new(&alert));
/// assert_eq!(cursor.since, Some(datetime!(2024-01-02 00:00 UTC)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The newest delivered timestamp (or the start of the first window); `None` reads
    /// everything.
    #[serde(with = "time::serde::rfc3339::option")]
    pub since: Option<OffsetDateTime>,
    /// How far before `since` the next query starts.
    pub overlap_seconds: u32,
    /// The records delivered within the overlap window.
    pub seen_ids_at_boundary: BTreeSet<SeenRecord>,
}

impl Cursor {
    /// The overlap a new cursor uses.
    pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(120);

    /// A cursor starting at `since` (`None`: from the beginning) with the default overlap.
    pub fn new(since: Option<OffsetDateTime>) -> Self {
        Self {
            since,
            overlap_seconds: 120,
            seen_ids_at_boundary: BTreeSet::new(),
        }
    }

    /// The `stime` for the next query: `since` minus the overlap.
    pub fn stime(&self) -> Option<OffsetDateTime> {
        self.since
            .map(|since| since - time::Duration::seconds(i64::from(self.overlap_seconds)))
    }

    /// Whether `record` still has to be delivered: not delivered before (same identity
    /// and timestamp) and not older than the window. A record without a parseable
    /// timestamp is always new (at least once, never lost).
    pub fn is_new<R: Record>(&self, record: &R) -> bool {
        let Some(at) = record.cursor_time() else {
            return true;
        };
        if self.stime().is_some_and(|start| at < start) {
            return false;
        }
        match record.id() {
            Some(id) => !self.seen_ids_at_boundary.contains(&SeenRecord {
                at,
                id: id.to_owned(),
            }),
            None => true,
        }
    }

    /// Records that `record` was delivered: moves `since` forward to its timestamp and
    /// forgets the delivered records that fell out of the overlap window.
    pub fn advance<R: Record>(&mut self, record: &R) {
        let Some(at) = record.cursor_time() else {
            return;
        };
        if let Some(id) = record.id() {
            self.seen_ids_at_boundary.insert(SeenRecord {
                at,
                id: id.to_owned(),
            });
        }
        if self.since.is_none_or(|since| at > since) {
            self.since = Some(at);
        }
        if let Some(start) = self.stime() {
            let boundary = SeenRecord {
                at: start,
                id: String::new(),
            };
            self.seen_ids_at_boundary = self.seen_ids_at_boundary.split_off(&boundary);
        }
    }
}
