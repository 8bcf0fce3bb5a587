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
    to_datetime(us)
        .and_then(|dt| dt.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Reads RFC 3339 text, a date-time without offset (UTC), or a bare date.
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    let text = text.trim();
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
    Some(match unit.to_ascii_uppercase().trim_end_matches('S') {
        "MICROSECOND" | "MICRO" => 1,
        "MILLISECOND" | "MILLI" => 1_000,
        "SECOND" => 1_000_000,
        "MINUTE" => 60_000_000,
        "HOUR" => 3_600_000_000,
        "DAY" => 86_400_000_000,
        _ => return None,
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
