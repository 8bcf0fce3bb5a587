//! Timestamp parsing and formatting (microseconds since the epoch, UTC).

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const MICROS: i64 = 1_000_000;

fn to_datetime(us: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000).ok()
}

fn to_micros(dt: OffsetDateTime) -> Option<i64> {
    i64::try_from(dt.unix_timestamp_nanos() / 1000).ok()
}

/// RFC 3339 text in UTC, with milliseconds only when they are not zero.
pub(crate) fn rfc3339(us: i64) -> String {
    if let Some(text) = whole_second_text(us) {
        // ASCII digits and separators only.
        return String::from_utf8_lossy(&text).into_owned();
    }
    to_datetime(us)
        .and_then(|dt| dt.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Writes [`rfc3339`]'s text into `out`.
pub(crate) fn write_rfc3339(out: &mut Vec<u8>, us: i64) {
    match whole_second_text(us) {
        Some(text) => out.extend_from_slice(&text),
        None => out.extend_from_slice(rfc3339(us).as_bytes()),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a whole second of the years 0 to 9999 (the common case,
/// written without the general formatter); `None` otherwise.
fn whole_second_text(us: i64) -> Option<[u8; 20]> {
    if us % MICROS != 0 {
        return None;
    }
    let secs = us / MICROS;
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut text = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, width: usize, mut n: i64| {
        for i in (at..at + width).rev() {
            // n % 10 is a single digit.
            text[i] = b'0' + u8::try_from(n % 10).unwrap_or(0);
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, day_secs / 3600);
    put(14, 2, day_secs / 60 % 60);
    put(17, 2, day_secs % 60);
    Some(text)
}

/// The proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day count from 1970-01-01 of a proleptic Gregorian date (`days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ` read without the general parser; `None` for any other shape
/// or an invalid date, which the general parser then judges.
fn parse_whole_second_utc(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let month_days = days_in_month(year, month)?;
    if day < 1 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(secs * MICROS)
}

/// `YYYY-MM-DD` (exactly) at midnight in `offset`, read without the general parser;
/// `None` for any other text, which the general parser then reads or rejects.
fn parse_plain_date(text: &str, offset: UtcOffset) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        b[from..to].iter().try_fold(0i64, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if day < 1 || day > days_in_month(year, month)? {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 - i64::from(offset.whole_seconds());
    Some(secs * MICROS)
}

fn days_in_month(year: i64, month: i64) -> Option<i64> {
    Some(match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return None,
    })
}

/// Reads RFC 3339 text, a date-time without offset (UTC), or a bare date.
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(us) = parse_whole_second_utc(text) {
        return Some(us);
    }
    if let Ok(dt) = OffsetDateTime::parse(text, &Rfc3339) {
        return to_micros(dt);
    }
    let fmt = |f: &str| parse_with(f, text, UtcOffset::UTC);
    fmt("%Y-%m-%dT%H:%M:%S")
        .or_else(|| fmt("%Y-%m-%d %H:%M:%S"))
        .or_else(|| fmt("%Y-%m-%d"))
}

/// Epoch number in `unit` ("SECONDS", "MILLIS", "MICROS") to microseconds.
pub(crate) fn from_epoch(n: f64, unit: &str) -> Option<i64> {
    let factor = match unit.to_ascii_uppercase().as_str() {
        "SECONDS" | "SECOND" | "S" => 1_000_000.0,
        "MILLIS" | "MILLISECONDS" | "MS" => 1_000.0,
        "MICROS" | "MICROSECONDS" | "US" => 1.0,
        _ => return None,
    };
    let us = (n * factor).round();
    #[allow(clippy::cast_possible_truncation)] // range-checked just above.
    (us.is_finite() && us.abs() < 9.0e18).then_some(us as i64)
}

/// Microseconds per `unit` for `timestamp_diff` and `to_epoch`.
pub(crate) fn unit_micros(unit: &str) -> Option<i64> {
    let unit = unit.trim_end_matches(['S', 's']);
    let is = |name: &str| unit.eq_ignore_ascii_case(name);
    Some(if is("MICROSECOND") || is("MICRO") {
        1
    } else if is("MILLISECOND") || is("MILLI") {
        1_000
    } else if is("SECOND") {
        1_000_000
    } else if is("MINUTE") {
        60_000_000
    } else if is("HOUR") {
        3_600_000_000
    } else if is("DAY") {
        86_400_000_000
    } else {
        return None;
    })
}

/// A time zone given as `UTC`, `Z`, `+HH:MM`, `-HHMM` or `UTC+H`.
pub(crate) fn parse_offset(tz: &str) -> Option<UtcOffset> {
    let tz = tz.trim();
    let rest = tz
        .strip_prefix("UTC")
        .or_else(|| tz.strip_prefix("GMT"))
        .unwrap_or(tz);
    if rest.is_empty() || rest == "Z" {
        return Some(UtcOffset::UTC);
    }
    let (sign, digits) = match rest.as_bytes().first()? {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    let (h, m) = match digits.len() {
        1 | 2 => (digits.parse::<i8>().ok()?, 0),
        4 => (
            digits[..2].parse::<i8>().ok()?,
            digits[2..].parse::<i8>().ok()?,
        ),
        _ => return None,
    };
    UtcOffset::from_hms(sign * h, sign * m, 0).ok()
}

/// demisto-sdk's rendering of `_time`: `Oct 21st 2023 03:42:05`, plus `.ffffff` on request.
pub(crate) fn sdk_time(us: i64, offset: UtcOffset, with_fraction: bool) -> Option<String> {
    let dt = to_datetime(us)?.to_offset(offset);
    let day = dt.day();
    let suffix = match (day % 10, day) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    let mut out = format!(
        "{} {day}{suffix} {} {:02}:{:02}:{:02}",
        month_abbr(dt.month()),
        dt.year(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if with_fraction {
        out.push_str(&format!(".{:06}", dt.microsecond()));
    }
    Some(out)
}

fn month_abbr(m: Month) -> &'static str {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    NAMES[usize::from(u8::from(m) - 1)]
}

fn month_from_name(name: &str) -> Option<Month> {
    let lower = name.to_ascii_lowercase();
    let idx = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| lower.starts_with(m))?;
    Month::try_from(u8::try_from(idx + 1).ok()?).ok()
}

/// strftime subset: `%Y %m %d %e %H %M %S %f %b %B %y %j %Z %z %s %F %T %p %I %%`.
pub(crate) fn format_with(fmt: &str, us: i64, offset: UtcOffset) -> Option<String> {
    let dt = to_datetime(us)?.to_offset(offset);
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'Y' => out.push_str(&dt.year().to_string()),
            'y' => out.push_str(&format!("{:02}", dt.year().rem_euclid(100))),
            'm' => out.push_str(&format!("{:02}", u8::from(dt.month()))),
            'd' => out.push_str(&format!("{:02}", dt.day())),
            'e' => out.push_str(&format!("{:>2}", dt.day())),
            'H' => out.push_str(&format!("{:02}", dt.hour())),
            'I' => out.push_str(&format!("{:02}", (dt.hour() + 11) % 12 + 1)),
            'p' => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
            'M' => out.push_str(&format!("{:02}", dt.minute())),
            'S' => out.push_str(&format!("{:02}", dt.second())),
            'f' => out.push_str(&format!("{:06}", dt.microsecond())),
            'b' => out.push_str(month_abbr(dt.month())),
            'B' => out.push_str(&format!("{}", dt.month())),
            'j' => out.push_str(&format!("{:03}", dt.ordinal())),
            'F' => out.push_str(&format!(
                "{}-{:02}-{:02}",
                dt.year(),
                u8::from(dt.month()),
                dt.day()
            )),
            'T' => out.push_str(&format!(
                "{:02}:{:02}:{:02}",
                dt.hour(),
                dt.minute(),
                dt.second()
            )),
            's' => out.push_str(&dt.unix_timestamp().to_string()),
            'Z' => out.push_str("UTC"),
            'z' => {
                let (h, m, _) = dt.offset().as_hms();
                let sign = if h < 0 || m < 0 { '-' } else { '+' };
                out.push_str(&format!(
                    "{sign}{:02}{:02}",
                    h.unsigned_abs(),
                    m.unsigned_abs()
                ));
            }
            '%' => out.push('%'),
            _ => return None,
        }
    }
    Some(out)
}

/// strptime subset (the directives of [`format_with`]); fields not given default to
/// 1970-01-01 00:00:00 in `offset`.
pub(crate) fn parse_with(fmt: &str, text: &str, offset: UtcOffset) -> Option<i64> {
    if fmt == "%Y-%m-%d"
        && let Some(us) = parse_plain_date(text, offset)
    {
        return Some(us);
    }
    let mut year = 1970i32;
    let mut month = Month::January;
    let mut day = 1u8;
    let (mut hour, mut minute, mut second, mut micro) = (0u8, 0u8, 0u8, 0u32);
    let mut pm: Option<bool> = None;
    let mut offset = offset;
    let mut epoch: Option<i64> = None;
    let mut rest = text;
    let mut chars = fmt.chars().peekable();
    fn take_num(rest: &mut &str, max: usize) -> Option<i64> {
        let trimmed = rest.trim_start();
        let sign = usize::from(trimmed.starts_with('-'));
        let len = trimmed[sign..]
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len == 0 {
            return None;
        }
        let n = trimmed[..sign + len].parse().ok()?;
        *rest = &trimmed[sign + len..];
        Some(n)
    }
    while let Some(c) = chars.next() {
        if c.is_whitespace() {
            rest = rest.trim_start();
            continue;
        }
        if c != '%' {
            rest = rest.strip_prefix(c)?;
            continue;
        }
        let directive = chars.next()?;
        match directive {
            'Y' => year = i32::try_from(take_num(&mut rest, 4)?).ok()?,
            'y' => year = 2000 + i32::try_from(take_num(&mut rest, 2)?).ok()?,
            'm' => month = Month::try_from(u8::try_from(take_num(&mut rest, 2)?).ok()?).ok()?,
            'd' | 'e' => day = u8::try_from(take_num(&mut rest, 2)?).ok()?,
            'H' | 'I' => hour = u8::try_from(take_num(&mut rest, 2)?).ok()?,
            'M' => minute = u8::try_from(take_num(&mut rest, 2)?).ok()?,
            'S' => second = u8::try_from(take_num(&mut rest, 2)?).ok()?,
            'f' => {
                let digits: String = rest
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .take(9)
                    .collect();
                rest = &rest[digits.len()..];
                let padded = format!("{digits:0<6}");
                micro = padded[..6].parse().ok()?;
            }
            'b' | 'B' | 'h' => {
                let word: String = rest.chars().take_while(char::is_ascii_alphabetic).collect();
                month = month_from_name(&word)?;
                rest = &rest[word.len()..];
            }
            'p' => {
                let word: String = rest.chars().take(2).collect();
                pm = Some(word.eq_ignore_ascii_case("pm"));
                rest = &rest[word.len()..];
            }
            's' => epoch = Some(take_num(&mut rest, 12)?),
            'z' | 'Z' => {
                let word: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                offset = parse_offset(&word)?;
                rest = &rest[word.len()..];
            }
            'T' => {
                hour = u8::try_from(take_num(&mut rest, 2)?).ok()?;
                rest = rest.strip_prefix(':')?;
                minute = u8::try_from(take_num(&mut rest, 2)?).ok()?;
                rest = rest.strip_prefix(':')?;
                second = u8::try_from(take_num(&mut rest, 2)?).ok()?;
            }
            '%' => rest = rest.strip_prefix('%')?,
            _ => return None,
        }
    }
    if let Some(secs) = epoch {
        return secs.checked_mul(1_000_000);
    }
    if let Some(pm) = pm {
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms_micro(hour, minute, second, micro).ok()?;
    to_micros(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// The whole-unit parts of a timestamp for `extract_time`.
pub(crate) fn extract(us: i64, part: &str) -> Option<i64> {
    let dt = to_datetime(us)?;
    Some(match part.to_ascii_uppercase().as_str() {
        "YEAR" => i64::from(dt.year()),
        "MONTH" => i64::from(u8::from(dt.month())),
        "DAY" => i64::from(dt.day()),
        "HOUR" => i64::from(dt.hour()),
        "MINUTE" => i64::from(dt.minute()),
        "SECOND" => i64::from(dt.second()),
        "MILLISECOND" => i64::from(dt.millisecond()),
        "MICROSECOND" => i64::from(dt.microsecond()),
        "DAYOFWEEK" => i64::from(dt.weekday().number_days_from_sunday()),
        "DAYOFYEAR" => i64::from(dt.ordinal()),
        _ => return None,
    })
}

/// Whole seconds since the epoch.
pub(crate) fn seconds(us: i64) -> i64 {
    us.div_euclid(MICROS)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whole seconds are written as the general formatter writes them.
        #[test]
        fn whole_seconds_are_formatted_as_time_does(secs in -62_167_219_200i64..253_402_300_799) {
            let us = secs * super::MICROS;
            let general = super::to_datetime(us).and_then(|dt| dt.format(&Rfc3339).ok()).unwrap();
            prop_assert_eq!(super::rfc3339(us), general);
        }

        /// Plain dates are read as the general parser reads them, in any offset.
        #[test]
        fn plain_dates_are_read_as_the_general_parser_does(y in 0i64..10000, mo in 0i64..14, d in 0i64..33, offset_minutes in -900i32..900) {
            let text = format!("{y:04}-{mo:02}-{d:02}");
            let offset = time::UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let general = super::parse_with("%Y-%m-%d %H", &format!("{text} 00"), offset);
            prop_assert_eq!(super::parse_with("%Y-%m-%d", &text, offset), general, "{}", text);
        }

        /// The fast reader agrees with the general parser wherever it answers.
        #[test]
        fn whole_seconds_are_read_as_time_does(y in 0i64..10000, mo in 0i64..14, d in 0i64..33, h in 0i64..25, mi in 0i64..61, s in 0i64..61) {
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z");
            let general = OffsetDateTime::parse(&text, &Rfc3339).ok().and_then(super::to_micros);
            let fast = super::parse_whole_second_utc(&text);
            if fast.is_some() {
                prop_assert_eq!(fast, general, "{}", text);
            } else {
                // Left to the general parser: only for what it also rejects or reads as
                // a leap second.
                prop_assert!(general.is_none() || s == 60, "{}", text);
            }
        }
    }
}
