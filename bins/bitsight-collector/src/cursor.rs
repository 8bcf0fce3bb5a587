//! The day-precision cursor: a date plus the keys already delivered on that date.
//!
//! Bitsight dates have day precision, so a date alone cannot say where a run stopped:
//! several findings share a date, and more can arrive on it later. The cursor therefore
//! holds the newest date delivered and the key of every record delivered on that date.
//! A run re-reads from the cursor's date, drops what the keys name and delivers the rest;
//! see `docs/bitsight-cursor.md`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use time::Date;

/// Where a stream (one company's findings, its updates, or the alerts) resumes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Every record dated before this was delivered; records on it are in `keys`.
    #[serde(with = "iso_date")]
    pub date: Date,
    /// Keys of the records delivered on `date`.
    pub keys: BTreeSet<String>,
}

/// Whether a record is new to a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Not delivered yet: deliver it.
    New,
    /// On the cursor's date and already delivered.
    Delivered,
    /// Dated before the cursor: delivered by an earlier run (or outside the window).
    Before,
}

impl Cursor {
    /// A cursor that has delivered nothing, starting at `date`.
    #[must_use]
    pub fn starting(date: Date) -> Self {
        Self {
            date,
            keys: BTreeSet::new(),
        }
    }

    /// Whether the record `key` dated `date` is new.
    #[must_use]
    pub fn check(&self, date: Date, key: &str) -> Seen {
        if date < self.date {
            Seen::Before
        } else if date == self.date && self.keys.contains(key) {
            Seen::Delivered
        } else {
            Seen::New
        }
    }

    /// Records the delivery of `key` dated `date`. Records arrive in date order, so a
    /// later date starts a new key set; an earlier date changes nothing.
    pub fn advance(&mut self, date: Date, key: &str) {
        if date > self.date {
            self.date = date;
            self.keys.clear();
            self.keys.insert(key.to_owned());
        } else if date == self.date {
            self.keys.insert(key.to_owned());
        }
    }
}

mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Date;
    use time::macros::format_description;

    const FORMAT: &[time::format_description::FormatItem<'static>] =
        format_description!("[year]-[month]-[day]");

    pub(super) fn serialize<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
        let text = date.format(FORMAT).map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Date, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text, FORMAT).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    #[test]
    fn same_date_keys_accumulate_later_date_resets() {
        let mut cursor = Cursor::starting(date!(2026 - 11 - 20));
        cursor.advance(date!(2026 - 11 - 20), "a");
        cursor.advance(date!(2026 - 11 - 20), "b");
        assert_eq!(cursor.check(date!(2026 - 11 - 20), "a"), Seen::Delivered);
        assert_eq!(cursor.check(date!(2026 - 11 - 20), "c"), Seen::New);
        cursor.advance(date!(2026 - 11 - 21), "c");
        assert_eq!(cursor.check(date!(2026 - 11 - 20), "z"), Seen::Before);
        assert_eq!(cursor.keys.len(), 1);
        insta::assert_json_snapshot!(cursor, @r#"
        {
          "date": "2026-11-21",
          "keys": [
            "c"
          ]
        }
        "#);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Law: replaying a date-sorted list against the cursor committed after any
        /// prefix delivers exactly the rest of the list: nothing skipped, nothing twice.
        #[test]
        fn resume_after_any_prefix_delivers_exactly_the_rest(
            mut records in proptest::collection::btree_set((0u8..6, 0u16..40), 1..60),
            cut in 0usize..60,
        ) {
            let start = date!(2026 - 01 - 01);
            let day = |d: u8| start + time::Duration::days(i64::from(d));
            let list: Vec<(Date, String)> = std::mem::take(&mut records)
                .into_iter()
                .map(|(d, k)| (day(d), k.to_string()))
                .collect();
            let cut = cut.min(list.len());
            let mut cursor = Cursor::starting(start);
            for (date, key) in &list[..cut] {
                prop_assert_eq!(cursor.check(*date, key), Seen::New);
                cursor.advance(*date, key);
            }
            // A new run re-reads everything from the cursor's date on.
            let again: Vec<&(Date, String)> = list
                .iter()
                .filter(|(date, _)| *date >= cursor.date)
                .filter(|(date, key)| cursor.check(*date, key) == Seen::New)
                .collect();
            let expected: Vec<&(Date, String)> = list[cut..].iter().collect();
            prop_assert_eq!(again, expected);
        }
    }
}
