//! The day-precision cursor: a date plus the keys already delivered on the last days.
//!
//! Bitsight dates have day precision, so a date alone cannot say where a run stopped:
//! several findings share a date, and more can arrive on it later. The cursor therefore
//! holds the newest date delivered and the key of every record delivered on that date
//! and on the `lookback` days before it. A run re-reads from `date - lookback`, drops
//! what the keys name and delivers the rest: findings that Bitsight publishes a day or
//! two after their first-seen date still arrive. See `docs/bitsight-cursor.md`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::format_description;

const ISO_DATE: &[time::format_description::FormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

/// Where a stream (one company's findings, its updates, or the alerts) resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The first date this stream covers (`first_fetch` ago at its first run): the
    /// lookback never reaches before it.
    #[serde(with = "iso_date")]
    pub since: Date,
    /// The newest date delivered (or, before any delivery, where the stream starts).
    #[serde(with = "iso_date")]
    pub date: Date,
    /// Keys delivered, per date (written `YYYY-MM-DD`), for `date` and the lookback days
    /// before it.
    #[serde(with = "iso_date_keys")]
    pub keys: BTreeMap<Date, BTreeSet<String>>,
}

/// Whether a record is new to a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Not delivered yet: deliver it.
    New,
    /// Already delivered.
    Delivered,
    /// Dated before the lookback window: an earlier run had its chance.
    Before,
}

impl Cursor {
    /// A cursor that has delivered nothing, starting at `date`.
    #[must_use]
    pub fn starting(date: Date) -> Self {
        Self {
            since: date,
            date,
            keys: BTreeMap::new(),
        }
    }

    /// The first date a run re-reads: `lookback_days` before the cursor's date, but
    /// never before `since`.
    #[must_use]
    pub fn read_from(&self, lookback_days: u16) -> Date {
        self.date
            .checked_sub(time::Duration::days(i64::from(lookback_days)))
            .unwrap_or(Date::MIN)
            .max(self.since)
    }

    /// Whether the record `key` dated `date` is new.
    #[must_use]
    pub fn check(&self, date: Date, key: &str, lookback_days: u16) -> Seen {
        if date < self.read_from(lookback_days) {
            Seen::Before
        } else if self.keys.get(&date).is_some_and(|keys| keys.contains(key)) {
            Seen::Delivered
        } else {
            Seen::New
        }
    }

    /// Records the delivery of `key` dated `date`, and forgets the keys of dates that
    /// fell out of the lookback window.
    pub fn advance(&mut self, date: Date, key: impl Into<String>, lookback_days: u16) {
        if date < self.read_from(lookback_days) {
            return;
        }
        self.keys.entry(date).or_default().insert(key.into());
        if date > self.date {
            self.date = date;
            let floor = self.read_from(lookback_days);
            self.keys.retain(|day, _| *day >= floor);
        }
    }

    /// Keys held, over all days.
    #[must_use]
    pub fn key_count(&self) -> usize {
        self.keys.values().map(BTreeSet::len).sum()
    }
}

/// The per-date key sets as a JSON object keyed by `YYYY-MM-DD`.
mod iso_date_keys {
    use std::collections::{BTreeMap, BTreeSet};

    use serde::ser::SerializeMap;
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    type Keys = BTreeMap<Date, BTreeSet<String>>;

    pub(super) fn serialize<S: Serializer>(keys: &Keys, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(keys.len()))?;
        for (date, set) in keys {
            let day = date
                .format(super::ISO_DATE)
                .map_err(serde::ser::Error::custom)?;
            map.serialize_entry(&day, set)?;
        }
        map.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Keys, D::Error> {
        BTreeMap::<String, BTreeSet<String>>::deserialize(deserializer)?
            .into_iter()
            .map(|(day, set)| {
                Date::parse(&day, super::ISO_DATE)
                    .map(|date| (date, set))
                    .map_err(|error| {
                        serde::de::Error::custom(format!("keys date {day:?}: {error}"))
                    })
            })
            .collect()
    }
}

mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;

    pub(super) fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date
            .format(super::ISO_DATE)
            .map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text, super::ISO_DATE).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn keys_accumulate_and_old_days_fall_out() {
        let mut cursor = Cursor::starting(date!(2026 - 11 - 20));
        cursor.advance(date!(2026 - 11 - 20), "a", 1);
        cursor.advance(date!(2026 - 11 - 20), "b", 1);
        assert_eq!(cursor.check(date!(2026 - 11 - 20), "a", 1), Seen::Delivered);
        assert_eq!(cursor.check(date!(2026 - 11 - 20), "c", 1), Seen::New);
        cursor.advance(date!(2026 - 11 - 21), "c", 1);
        // A late arrival inside the lookback window is still new.
        assert_eq!(cursor.check(date!(2026 - 11 - 20), "z", 1), Seen::New);
        assert_eq!(cursor.check(date!(2026 - 11 - 20), "a", 1), Seen::Delivered);
        cursor.advance(date!(2026 - 11 - 22), "d", 1);
        assert_eq!(cursor.check(date!(2026 - 11 - 20), "z", 1), Seen::Before);
        assert_eq!(cursor.key_count(), 2);
        insta::assert_json_snapshot!(cursor, @r#"
        {
          "since": "2026-11-20",
          "date": "2026-11-22",
          "keys": {
            "2026-11-21": [
              "c"
            ],
            "2026-11-22": [
              "d"
            ]
          }
        }
        "#);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Law: replaying a date-sorted list against the cursor committed after any
        /// prefix delivers exactly the rest of the list: nothing skipped, nothing twice,
        /// whatever the lookback.
        #[test]
        fn resume_after_any_prefix_delivers_exactly_the_rest(
            records in proptest::collection::btree_set((0u8..6, 0u16..40), 1..60),
            cut in 0usize..60,
            lookback in 0u16..3,
        ) {
            let start = date!(2026 - 01 - 01);
            let day = |d: u8| start + time::Duration::days(i64::from(d));
            let list: Vec<(Date, String)> = records
                .into_iter()
                .map(|(d, k)| (day(d), k.to_string()))
                .collect();
            let cut = cut.min(list.len());
            let mut cursor = Cursor::starting(start);
            for (date, key) in &list[..cut] {
                prop_assert_eq!(cursor.check(*date, key, lookback), Seen::New);
                cursor.advance(*date, key, lookback);
            }
            let from = cursor.read_from(lookback);
            let again: Vec<&(Date, String)> = list
                .iter()
                .filter(|(date, _)| *date >= from)
                .filter(|(date, key)| cursor.check(*date, key, lookback) == Seen::New)
                .collect();
            let expected: Vec<&(Date, String)> = list[cut..].iter().collect();
            prop_assert_eq!(again, expected);
        }

        /// Law: a record that shows up late, dated within the lookback window of the
        /// cursor, is new exactly once.
        #[test]
        fn late_arrivals_within_the_lookback_arrive_once(
            newest in 2u8..10, late_by in 0u8..3, lookback in 0u16..3,
        ) {
            let start = date!(2026 - 01 - 01);
            let day = |d: u8| start + time::Duration::days(i64::from(d));
            let mut cursor = Cursor::starting(start);
            cursor.advance(day(newest), "seen", lookback);
            let late = day(newest - late_by);
            let within = u16::from(late_by) <= lookback;
            let seen = cursor.check(late, "late", lookback);
            prop_assert_eq!(seen == Seen::New, within);
            cursor.advance(late, "late", lookback);
            if within {
                prop_assert_eq!(cursor.check(late, "late", lookback), Seen::Delivered);
            }
        }
    }
}
