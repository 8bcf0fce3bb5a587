//! Property tests: lenient models drop nothing, cursors lose and double nothing,
//! timestamps round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};

use iot_security_api::{
    Alert, Cursor, Device, Record, Vulnerability, format_stime, parse_timestamp,
};
use proptest::prelude::*;
use serde_json::{Map, Value};
use time::OffsetDateTime;

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e9f64..1e9).prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        "[0-9]{1,6}".prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..3)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Keys mixing every known wire name and alias of the three records with random ones.
fn key() -> impl Strategy<Value = String> {
    let known: Vec<&'static str> = Device::KNOWN_FIELDS
        .iter()
        .chain(Alert::KNOWN_FIELDS)
        .chain(Vulnerability::KNOWN_FIELDS)
        .chain(&[
            "ip",
            "mac",
            "confidence",
            "trafficRestriced",
            "deviceId",
            "siteName",
            "_id",
            "osCombined",
        ])
        .copied()
        .collect();
    prop_oneof![
        prop::sample::select(known).prop_map(String::from),
        "[A-Za-z_/]{1,10}"
    ]
}

fn object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(key(), value(), 0..24).prop_map(|map| map.into_iter().collect())
}

fn law_nothing_dropped<R>(
    input: &Map<String, Value>,
    count: impl Fn(&R) -> usize,
) -> Result<(), TestCaseError>
where
    R: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(input).unwrap();
    let record: R = serde_json::from_str(&text).unwrap();
    // Every input field is somewhere: typed, or in `extra`.
    prop_assert_eq!(count(&record), input.len());
    // Writing it back and reading again changes nothing.
    let again: R = serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
    prop_assert_eq!(again, record);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn lenient_records_drop_no_field(input in object()) {
        law_nothing_dropped::<Device>(&input, |r| r.fields().count())?;
        law_nothing_dropped::<Alert>(&input, |r| r.fields().count())?;
        law_nothing_dropped::<Vulnerability>(&input, |r| r.fields().count())?;
    }

    #[test]
    fn every_input_key_is_reachable_by_name(input in object()) {
        let device: Device = serde_json::from_value(Value::Object(input.clone())).unwrap();
        for (name, value) in &input {
            let found = device.field(name);
            prop_assert!(found.is_some(), "{} not reachable", name);
            // Strings come back verbatim, whatever field they landed in.
            if let Value::String(text) = value {
                let shown = found.unwrap().to_string();
                let typed_number = text.trim().parse::<i64>().is_ok() || text.trim().parse::<f64>().is_ok();
                let typed_flag = ["true", "false", "yes", "no"].contains(&text.to_ascii_lowercase().as_str());
                prop_assert!(shown == *text || typed_number || typed_flag, "{}: {:?} became {:?}", name, text, shown);
            }
        }
    }

    #[test]
    fn stime_round_trips_at_millisecond_precision(seconds in 0i64..4_102_444_800, millis in 0u16..1000) {
        let instant = OffsetDateTime::from_unix_timestamp(seconds).unwrap() + time::Duration::milliseconds(i64::from(millis));
        prop_assert_eq!(parse_timestamp(&format_stime(instant)), Some(instant));
    }

    /// Records trickle in over several runs, some dated up to a minute before the newest
    /// delivered one (late arrivals inside the overlap) and many sharing a timestamp.
    /// Every distinct (id, timestamp) is delivered exactly once.
    #[test]
    fn incremental_cursor_loses_and_doubles_nothing(
        batches in prop::collection::vec(prop::collection::vec((0u8..6, 0i64..90), 0..12), 1..6),
    ) {
        let mut available: Vec<Alert> = Vec::new();
        let mut cursor = Cursor::new(None);
        let mut delivered: BTreeMap<(String, i64), u32> = BTreeMap::new();
        let mut expected: BTreeSet<(String, i64)> = BTreeSet::new();
        let mut newest = 0i64;
        let base = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        for batch in batches {
            let batch_start = newest;
            for (id, late) in batch {
                // Dated at most 60 s before the newest record of earlier runs.
                let at = (batch_start - 60 + late).max(0);
                newest = newest.max(at);
                let id = format!("alert-{id}");
                expected.insert((id.clone(), at));
                let date = format_stime(base + time::Duration::seconds(at));
                available.push(serde_json::from_value(serde_json::json!({"zb_ticketid": id, "date": date})).unwrap());
            }
            // The server: everything at or after stime, oldest first.
            let stime = cursor.stime();
            let mut page: Vec<&Alert> = available
                .iter()
                .filter(|a| stime.is_none_or(|s| a.cursor_time().unwrap() >= s))
                .collect();
            page.sort_by_key(|a| a.cursor_time());
            for alert in page {
                if cursor.is_new(alert) {
                    let at = (alert.cursor_time().unwrap() - base).whole_seconds();
                    *delivered.entry((alert.id().unwrap().to_owned(), at)).or_default() += 1;
                    cursor.advance(alert);
                }
            }
        }
        prop_assert!(delivered.values().all(|count| *count == 1), "doubled: {:?}", delivered);
        let delivered: BTreeSet<_> = delivered.into_keys().collect();
        prop_assert_eq!(delivered, expected);
    }
}

/// Found by the law above in CI: with two aliases of one field, the second must be
/// reachable by its own name, not shadowed by the first one's typed value.
#[test]
fn a_second_alias_is_reachable_by_its_own_name() {
    let device: Device = serde_json::from_str(r#"{"osCombined": 0, "os_combined": ""}"#).unwrap();
    assert_eq!(device.field("osCombined").unwrap().to_string(), "0");
    assert_eq!(device.field("os_combined").unwrap().to_string(), "");
}
