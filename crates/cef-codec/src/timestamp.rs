//! CEF timestamps: epoch milliseconds, or the spec's `MMM dd yyyy HH:mm:ss.SSS zzz` text.

use std::fmt::Write as _;

use crate::digits::ByteWriter;
use time::{Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// How the builder writes timestamp values (`rt`, `start`, `end`, the custom dates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeFormat {
    /// Milliseconds since the Unix epoch, for example `1700000000123`: unambiguous and free
    /// of time zones. The default.
    #[default]
    EpochMillis,
    /// The spec's `MMM dd yyyy HH:mm:ss.SSS zzz` form, for example
    /// `Nov 14 2023 22:13:20.123 UTC`; a non-zero offset is written as `GMT+02:00`. The
    /// timestamp keeps its offset. Years must lie in 1-9999.
    Text,
}

/// A timestamp that [`parse_timestamp`] cannot turn into an instant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a CEF timestamp with a known instant: {reason}")]
pub struct TimestampError {
    /// The text that was read.
    pub text: String,
    /// Why it was refused.
    pub reason: &'static str,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Whether [`TimeFormat::Text`] can write `at`: its year is in 1-9999.
pub(crate) fn fits_text_form(at: OffsetDateTime) -> bool {
    (1..=9999).contains(&at.year())
}

/// Appends `at` in `format` to `out`. Fails, writing nothing, only for [`TimeFormat::Text`]
/// with a year outside 1-9999.
pub(crate) fn write_timestamp(
    out: &mut Vec<u8>,
    at: OffsetDateTime,
    format: TimeFormat,
) -> Option<()> {
    match format {
        TimeFormat::EpochMillis => {
            // Whole seconds round down and the millisecond is never negative, so this is
            // the floor of the instant in milliseconds, before the epoch too.
            let millis = at.unix_timestamp() * 1000 + i64::from(at.millisecond());
            crate::digits::push_i64(out, millis);
        }
        TimeFormat::Text => {
            if !fits_text_form(at) {
                return None;
            }
            let year = at.year();
            let month = MONTHS.get(usize::from(u8::from(at.month())) - 1)?;
            let mut out = ByteWriter(out);
            write!(
                out,
                "{month} {:02} {year:04} {:02}:{:02}:{:02}.{:03} ",
                at.day(),
                at.hour(),
                at.minute(),
                at.second(),
                at.millisecond()
            )
            .ok()?;
            let offset = at.offset();
            if offset.is_utc() {
                out.write_str("UTC").ok()?;
            } else {
                let sign = if offset.is_negative() { '-' } else { '+' };
                let (hours, minutes, _) = offset.as_hms();
                write!(
                    out,
                    "GMT{sign}{:02}:{:02}",
                    hours.unsigned_abs(),
                    minutes.unsigned_abs()
                )
                .ok()?;
            }
        }
    }
    Some(())
}

/// The parts of a textual CEF timestamp, before a year or zone is supplied.
struct TextParts {
    month: Month,
    day: u8,
    year: Option<i32>,
    hour: u8,
    minute: u8,
    second: u8,
    millisecond: u16,
    zone: Option<UtcOffset>,
}

/// Whether `text` is a timestamp in one of the forms the spec lists: epoch milliseconds, or
/// `MMM dd [yyyy] HH:mm:ss[.SSS] [zzz]`.
pub(crate) fn is_cef_timestamp(text: &str) -> bool {
    parse_epoch_millis(text).is_some() || parse_text(text).is_some()
}

/// Reads a CEF timestamp as an instant: epoch milliseconds, or the text form with a year and
/// a zone (`UTC`, `GMT`, `Z`, `GMT+hh:mm`, `+hh:mm`). The year-less and zone-less forms the
/// spec also allows depend on the receiver's clock and zone and are refused.
///
/// ```
/// use cef_codec::parse_timestamp;
///
/// let at = parse_timestamp("Mar 09 2015 17:05:21.500 GMT+01:00")?;
/// assert_eq!(parse_timestamp("1425917121500")?, at);
/// # Ok::<(), cef_codec::TimestampError>(())
/// ```
pub fn parse_timestamp(text: &str) -> Result<OffsetDateTime, TimestampError> {
    let refuse = |reason| TimestampError {
        text: text.to_owned(),
        reason,
    };
    if let Some(millis) = parse_epoch_millis(text) {
        return OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map_err(|_| refuse("epoch milliseconds out of range"));
    }
    let parts = parse_text(text).ok_or_else(|| refuse("not a form the CEF spec lists"))?;
    let year = parts.year.ok_or_else(|| refuse("no year"))?;
    let zone = parts.zone.ok_or_else(|| refuse("no time zone"))?;
    let date = time::Date::from_calendar_date(year, parts.month, parts.day)
        .map_err(|_| refuse("no such date"))?;
    let clock =
        time::Time::from_hms_milli(parts.hour, parts.minute, parts.second, parts.millisecond)
            .map_err(|_| refuse("no such time of day"))?;
    Ok(PrimitiveDateTime::new(date, clock).assume_offset(zone))
}

fn parse_epoch_millis(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_text(text: &str) -> Option<TextParts> {
    let mut fields = text.split(' ');
    let month_name = fields.next()?;
    let month_index = MONTHS.iter().position(|m| *m == month_name)?;
    let month = Month::try_from(u8::try_from(month_index + 1).ok()?).ok()?;
    let day = fixed_digits(fields.next()?, 2)?;
    let mut next = fields.next()?;
    let year = if next.len() == 4 && !next.contains(':') {
        let year = fixed_digits(next, 4)?;
        next = fields.next()?;
        Some(i32::from(year))
    } else {
        None
    };
    let (clock, millis) = match next.split_once('.') {
        Some((clock, millis)) => (clock, Some(millis)),
        None => (next, None),
    };
    let mut hms = clock.split(':');
    let hour = u8::try_from(fixed_digits(hms.next()?, 2)?).ok()?;
    let minute = u8::try_from(fixed_digits(hms.next()?, 2)?).ok()?;
    let second = u8::try_from(fixed_digits(hms.next()?, 2)?).ok()?;
    if hms.next().is_some() {
        return None;
    }
    let millisecond = match millis {
        Some(millis) => fixed_digits(millis, 3)?,
        None => 0,
    };
    let zone = match fields.next() {
        Some(zone) => Some(parse_zone(zone)?),
        None => None,
    };
    if fields.next().is_some() || u8::try_from(day).ok()? == 0 {
        return None;
    }
    Some(TextParts {
        month,
        day: u8::try_from(day).ok()?,
        year,
        hour,
        minute,
        second,
        millisecond,
        zone,
    })
}

fn fixed_digits(text: &str, width: usize) -> Option<u16> {
    if text.len() != width || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn parse_zone(zone: &str) -> Option<UtcOffset> {
    if matches!(zone, "UTC" | "GMT" | "Z") {
        return Some(UtcOffset::UTC);
    }
    let signed = zone
        .strip_prefix("GMT")
        .or(zone.strip_prefix("UTC"))
        .unwrap_or(zone);
    let (negative, rest) = match signed.as_bytes().first()? {
        b'+' => (false, signed.get(1..)?),
        b'-' => (true, signed.get(1..)?),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    let hours = i8::try_from(fixed_digits(hours, 2)?).ok()?;
    let minutes = i8::try_from(fixed_digits(minutes, 2)?).ok()?;
    let (hours, minutes) = if negative {
        (-hours, -minutes)
    } else {
        (hours, minutes)
    };
    UtcOffset::from_hms(hours, minutes, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn format_timestamp(at: OffsetDateTime, format: TimeFormat) -> Option<String> {
        let mut text = Vec::new();
        write_timestamp(&mut text, at, format).map(|()| String::from_utf8(text).unwrap())
    }

    #[test]
    fn formats_epoch_millis_and_text() {
        let at = datetime!(2023-11-14 22:13:20.123456 UTC);
        assert_eq!(
            format_timestamp(at, TimeFormat::EpochMillis).unwrap(),
            "1700000000123"
        );
        assert_eq!(
            format_timestamp(at, TimeFormat::Text).unwrap(),
            "Nov 14 2023 22:13:20.123 UTC"
        );
        let east = datetime!(2015-03-09 17:05:21 +01:30);
        assert_eq!(
            format_timestamp(east, TimeFormat::Text).unwrap(),
            "Mar 09 2015 17:05:21.000 GMT+01:30"
        );
        let west = datetime!(2015-03-09 17:05:21 -08:00);
        assert_eq!(
            format_timestamp(west, TimeFormat::Text).unwrap(),
            "Mar 09 2015 17:05:21.000 GMT-08:00"
        );
    }

    #[test]
    fn millis_before_the_epoch_round_down() {
        let at = datetime!(1969-12-31 23:59:59.9995 UTC);
        assert_eq!(format_timestamp(at, TimeFormat::EpochMillis).unwrap(), "-1");
        assert_eq!(
            parse_timestamp("-1").unwrap(),
            datetime!(1969-12-31 23:59:59.999 UTC)
        );
    }

    #[test]
    fn text_form_refuses_years_it_cannot_write() {
        let at = datetime!(0000-01-01 00:00 UTC);
        assert_eq!(format_timestamp(at, TimeFormat::Text), None);
    }

    #[test]
    fn text_round_trips_with_offset() {
        let at = datetime!(2015-03-09 17:05:21.5 -03:30);
        let text = format_timestamp(at, TimeFormat::Text).unwrap();
        let back = parse_timestamp(&text).unwrap();
        assert_eq!(back, at);
        assert_eq!(back.offset(), at.offset());
    }

    #[test]
    fn recognises_every_listed_form() {
        for text in [
            "1700000000123",
            "Mar 09 17:05:21.123 GMT+00:00",
            "Mar 09 17:05:21.123",
            "Mar 09 17:05:21 UTC",
            "Mar 09 17:05:21",
            "Mar 09 2015 17:05:21.123 UTC",
            "Mar 09 2015 17:05:21.123",
            "Mar 09 2015 17:05:21 GMT",
            "Mar 01 2021 21:06:06",
        ] {
            assert!(is_cef_timestamp(text), "{text}");
        }
        for text in [
            "",
            "2021-03-01T21:06:06Z",
            "Mar 9 2015 17:05:21",
            "March 09 2015 17:05:21",
            "Mar 09 2015 17:05",
            "Mar 09 2015 17:05:21 PST8",
            "Mar 00 2015 17:05:21",
            "Mar 09 2015 17:05:21 UTC extra",
            "12a",
        ] {
            assert!(!is_cef_timestamp(text), "{text}");
        }
    }

    #[test]
    fn parse_refuses_what_has_no_instant() {
        let reason = |text: &str| parse_timestamp(text).unwrap_err().reason;
        assert_eq!(reason("Mar 09 17:05:21 UTC"), "no year");
        assert_eq!(reason("Mar 09 2015 17:05:21"), "no time zone");
        assert_eq!(reason("Feb 30 2015 17:05:21 UTC"), "no such date");
        assert_eq!(reason("Feb 10 2015 25:05:21 UTC"), "no such time of day");
        assert_eq!(reason("yesterday"), "not a form the CEF spec lists");
        assert_eq!(
            reason("99999999999999999"),
            "epoch milliseconds out of range"
        );
        let error = parse_timestamp("yesterday").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`yesterday` is not a CEF timestamp with a known instant: not a form the CEF spec lists"
        );
    }
}
