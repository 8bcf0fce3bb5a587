//! The timestamps the API sends and the `stime` it takes.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Formats an instant as the API's `stime`: ISO-8601 in UTC with milliseconds,
/// `2024-01-15T12:00:00.123Z`.
///
/// ```
/// use time::macros::datetime;
/// let t = datetime!(2024-01-15 13:00:00.1234 +01:00);
/// assert_eq!(iot_security_api::format_stime(t), "2024-01-15T12:00:00.123Z");
/// ```
pub fn format_stime(instant: OffsetDateTime) -> String {
    let utc = instant.to_offset(UtcOffset::UTC);
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    // Formatting a valid UTC instant with a static description only fails for years
    // beyond 9999, which the API cannot hold either; fall back to RFC 3339 then.
    utc.format(format)
        .or_else(|_| utc.format(&Rfc3339))
        .unwrap_or_default()
}

/// Parses the timestamps seen in API records: RFC 3339 (`2024-01-15T12:00:00.123Z`),
/// and the looser ISO-8601 forms the documentation shows (`2021-10-6T07:00Z`, a space
/// instead of `T`, no seconds, `+0100`, or no zone, read as UTC).
///
/// ```
/// use iot_security_api::parse_timestamp;
/// use time::macros::datetime;
/// assert_eq!(parse_timestamp("2021-10-6T07:00Z"), Some(datetime!(2021-10-06 07:00 UTC)));
/// assert_eq!(parse_timestamp("yesterday"), None);
/// ```
pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(instant) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(instant);
    }
    let split = text.find(['T', ' '])?;
    let (date_part, rest) = (&text[..split], &text[split + 1..]);
    let date = parse_date(date_part)?;
    let zone_start = rest.rfind(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (time_part, zone) = rest.split_at(zone_start);
    let clock = parse_clock(time_part)?;
    let offset = parse_zone(zone)?;
    Some(PrimitiveDateTime::new(date, clock).assume_offset(offset))
}

fn parse_date(text: &str) -> Option<Date> {
    let mut parts = text.split('-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    Date::from_calendar_date(year, Month::try_from(month).ok()?, day).ok()
}

/// Parses an HTTP-date (RFC 9110 §5.6.7) in any of its three forms: IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form (`Sunday, 06-Nov-94
/// 08:49:37 GMT`, two-digit years before 70 read as 20xx) and asctime (`Sun Nov  6
/// 08:49:37 1994`).
pub(crate) fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    let (day, month, year, clock) = match tokens.as_slice() {
        [weekday, day, month, year, clock, "GMT"] if weekday.ends_with(',') => {
            (*day, *month, year.parse().ok()?, *clock)
        }
        [weekday, date, clock, "GMT"] if weekday.ends_with(',') => {
            let mut parts = date.split('-');
            let (day, month, year) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || year.len() != 2 {
                return None;
            }
            let year: i32 = year.parse().ok()?;
            (
                day,
                month,
                if year < 70 { 2000 + year } else { 1900 + year },
                *clock,
            )
        }
        [_weekday, month, day, clock, year] => (*day, *month, year.parse().ok()?, *clock),
        _ => return None,
    };
    let month = match month {
        "Jan" => Month::January,
        "Feb" => Month::February,
        "Mar" => Month::March,
        "Apr" => Month::April,
        "May" => Month::May,
        "Jun" => Month::June,
        "Jul" => Month::July,
        "Aug" => Month::August,
        "Sep" => Month::September,
        "Oct" => Month::October,
        "Nov" => Month::November,
        "Dec" => Month::December,
        _ => return None,
    };
    if clock.len() != 8 {
        return None;
    }
    let date = Date::from_calendar_date(year, month, day.parse().ok()?).ok()?;
    Some(PrimitiveDateTime::new(date, parse_clock(clock)?).assume_utc())
}

fn parse_clock(text: &str) -> Option<Time> {
    let (hms, fraction) = match text.split_once(['.', ',']) {
        Some((hms, fraction)) => (hms, fraction),
        None => (text, ""),
    };
    let mut parts = hms.split(':');
    let hour: u8 = parts.next()?.parse().ok()?;
    let minute: u8 = parts.next()?.parse().ok()?;
    let second: u8 = match parts.next() {
        Some(second) => second.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut nanos: u32 = 0;
    for (index, digit) in fraction.bytes().take(9).enumerate() {
        let place = 10u32.pow(8 - u32::try_from(index).ok()?);
        nanos += u32::from(digit - b'0') * place;
    }
    Time::from_hms_nano(hour, minute, second, nanos).ok()
}

fn parse_zone(zone: &str) -> Option<UtcOffset> {
    match zone {
        "" | "Z" | "z" => Some(UtcOffset::UTC),
        _ => {
            let (sign, digits) = zone.split_at(1);
            let digits: String = digits.chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let hours: i8 = digits[..2].parse().ok()?;
            let minutes: i8 = digits[2..].parse().ok()?;
            let signed = if sign == "-" { -1 } else { 1 };
            UtcOffset::from_hms(signed * hours, signed * minutes, 0).ok()
        }
    }
}
