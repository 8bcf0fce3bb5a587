//! The plain XQL functions: evaluated arguments in, one value out, null for bad input.
//!
//! Functions that take a lambda (`arraymap`), a regex or a JSON path, `if`, `coalesce` and
//! `current_time` are special forms compiled in `compile.rs`; everything else is here.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::time_fmt;
use crate::value::{Number, Object, Text, Value};

/// A plain function: its name, arity range and implementation.
#[derive(Debug)]
pub(crate) struct Builtin {
    pub(crate) name: &'static str,
    pub(crate) min: usize,
    pub(crate) max: usize,
    pub(crate) call: fn(&[Value]) -> Value,
}

const MANY: usize = usize::MAX;

macro_rules! builtins {
    ($($name:literal, $min:expr, $max:expr, $f:expr;)*) => {
        &[$(Builtin { name: $name, min: $min, max: $max, call: $f },)*]
    };
}

pub(crate) static BUILTINS: &[Builtin] = builtins! {
    "to_string", 1, 1, |a| a[0].to_text().map_or(Value::Null, Value::Str);
    "to_integer", 1, 1, |a| to_integer(&a[0]);
    "to_number", 1, 1, |a| to_float(&a[0]);
    "to_float", 1, 1, |a| to_float(&a[0]);
    "to_boolean", 1, 1, to_boolean;
    "to_json_string", 1, 1, to_json_string;
    "concat", 1, MANY, concat;
    "lowercase", 1, 1, |a| change_case(&a[0], false);
    "uppercase", 1, 1, |a| change_case(&a[0], true);
    "trim", 1, 2, |a| trim(a, Side::Both);
    "ltrim", 1, 2, |a| trim(a, Side::Left);
    "rtrim", 1, 2, |a| trim(a, Side::Right);
    "replace", 3, 3, replace;
    "split", 1, 2, split;
    "len", 1, 1, |a| text(&a[0]).map_or(Value::Null, |s| Value::Int(count(s.chars().count())));
    "string_count", 2, 2, string_count;
    "format_string", 1, MANY, format_string;
    "wildcard_match", 2, 2, |a| match (text(&a[0]), text(&a[1])) {
        (Some(s), Some(p)) => Value::Bool(wildcard_match(&p, &s)),
        _ => Value::Null,
    };
    "arraycreate", 0, MANY, |a| Value::Array(Arc::new(a.to_vec()));
    "arrayindex", 2, 2, arrayindex;
    "arraystring", 2, 2, arraystring;
    "arrayconcat", 1, MANY, arrayconcat;
    "arraymerge", 1, MANY, arrayconcat;
    "arraydistinct", 1, 1, arraydistinct;
    "array_length", 1, 1, |a| match &a[0] {
        Value::Array(items) if !items.is_empty() => Value::Int(count(items.len())),
        _ => Value::Null,
    };
    "arrayrange", 3, 3, arrayrange;
    "arrayreverse", 1, 1, |a| match &a[0] {
        Value::Array(items) => Value::Array(Arc::new(items.iter().rev().cloned().collect())),
        _ => Value::Null,
    };
    "object_create", 0, MANY, object_create;
    "object_merge", 1, MANY, object_merge;
    "add", 2, 2, |a| arith(&a[0], &a[1], Arith::Add);
    "subtract", 2, 2, |a| arith(&a[0], &a[1], Arith::Sub);
    "multiply", 2, 2, |a| arith(&a[0], &a[1], Arith::Mul);
    "divide", 2, 2, |a| arith(&a[0], &a[1], Arith::Div);
    "floor", 1, 1, |a| round_with(&a[0], f64::floor);
    "ceil", 1, 1, |a| round_with(&a[0], f64::ceil);
    "round", 1, 1, |a| round_with(&a[0], f64::round);
    "pow", 2, 2, |a| match (a[0].as_number(), a[1].as_number()) {
        (Some(x), Some(y)) => Value::Float(x.as_f64().powf(y.as_f64())),
        _ => Value::Null,
    };
    "incidr", 2, 2, |a| cidr_test(&a[0], &a[1], false);
    "incidr6", 2, 2, |a| cidr_test(&a[0], &a[1], true);
    "incidrlist", 2, 2, |a| cidr_test(&a[0], &a[1], false);
    "is_ipv4", 1, 1, |a| text(&a[0]).map_or(Value::Null, |s| Value::Bool(s.parse::<Ipv4Addr>().is_ok()));
    "is_ipv6", 1, 1, |a| text(&a[0]).map_or(Value::Null, |s| Value::Bool(s.parse::<std::net::Ipv6Addr>().is_ok()));
    "is_known_private_ipv4", 1, 1, |a| text(&a[0]).map_or(Value::Null, |s| {
        Value::Bool(s.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_private() || ip.is_loopback() || ip.is_link_local()))
    });
    "is_known_private_ipv6", 1, 1, |a| text(&a[0]).map_or(Value::Null, |s| {
        Value::Bool(s.parse::<std::net::Ipv6Addr>().is_ok_and(|ip| ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00 || (ip.segments()[0] & 0xffc0) == 0xfe80))
    });
    "ip_to_int", 1, 1, |a| text(&a[0]).and_then(|s| s.parse::<Ipv4Addr>().ok()).map_or(Value::Null, |ip| Value::Int(i64::from(u32::from(ip))));
    "int_to_ip", 1, 1, |a| match a[0].as_number() {
        Some(Number::Int(n)) => u32::try_from(n).map_or(Value::Null, |n| Value::str(&Ipv4Addr::from(n).to_string())),
        _ => Value::Null,
    };
    "to_timestamp", 1, 2, to_timestamp;
    "parse_timestamp", 2, 3, parse_timestamp;
    "parse_epoch", 2, 3, |a| match parse_timestamp(a) {
        Value::Timestamp(us) => Value::Int(time_fmt::seconds(us)),
        _ => Value::Null,
    };
    "format_timestamp", 2, 3, format_timestamp;
    "to_epoch", 1, 2, to_epoch;
    "extract_time", 2, 2, |a| match (timestamp(&a[0]), text(&a[1])) {
        (Some(us), Some(part)) => time_fmt::extract(us, &part).map_or(Value::Null, Value::Int),
        _ => Value::Null,
    };
    "timestamp_diff", 3, 3, timestamp_diff;
    "timestamp_seconds", 1, 1, |a| timestamp(&a[0]).map_or(Value::Null, |us| Value::Int(time_fmt::seconds(us)));
};

/// Finds a plain function by name, case-insensitively.
pub(crate) fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name.eq_ignore_ascii_case(name))
}

/// Text of a value (`to_string` semantics); `None` for null.
pub(crate) fn text(v: &Value) -> Option<Text> {
    v.to_text()
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `lowercase` / `uppercase`: text already in the wanted case is returned as it is.
fn change_case(v: &Value, upper: bool) -> Value {
    let Some(s) = text(v) else {
        return Value::Null;
    };
    let unchanged = s.is_ascii()
        && !s.bytes().any(|b| {
            if upper {
                b.is_ascii_lowercase()
            } else {
                b.is_ascii_uppercase()
            }
        });
    if unchanged {
        return Value::Str(s);
    }
    Value::str(&if upper {
        s.to_uppercase()
    } else {
        s.to_lowercase()
    })
}

pub(crate) fn to_integer(v: &Value) -> Value {
    match v {
        Value::Int(n) => Value::Int(*n),
        Value::Bool(b) => Value::Int(i64::from(*b)),
        Value::Float(f) => float_to_int(f.trunc()),
        Value::Str(s) => {
            let t = s.trim();
            match t.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => match t.parse::<f64>() {
                    Ok(f) if f.fract() == 0.0 => float_to_int(f),
                    _ => Value::Null,
                },
            }
        }
        Value::Timestamp(us) => Value::Int(*us),
        _ => Value::Null,
    }
}

fn float_to_int(f: f64) -> Value {
    if f.is_finite() && f.abs() < 9.2e18 {
        #[allow(clippy::cast_possible_truncation)] // range-checked above.
        Value::Int(f as i64)
    } else {
        Value::Null
    }
}

pub(crate) fn to_float(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Float(if *b { 1.0 } else { 0.0 }),
        other => other
            .as_number()
            .map_or(Value::Null, |n| Value::Float(n.as_f64())),
    }
}

fn to_boolean(a: &[Value]) -> Value {
    match &a[0] {
        Value::Bool(b) => Value::Bool(*b),
        Value::Int(n) => Value::Bool(*n != 0),
        Value::Float(f) => Value::Bool(*f != 0.0),
        Value::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

fn to_json_string(a: &[Value]) -> Value {
    match &a[0] {
        Value::Null => Value::Null,
        Value::Str(s) => Value::Str(s.clone()),
        other => Value::Str(other.json_text()),
    }
}

fn concat(a: &[Value]) -> Value {
    // A null argument voids the whole result.
    if a.iter().any(Value::is_null) {
        return Value::Null;
    }
    Value::Str(Text::build(|out| {
        let mut plain = true;
        for v in a {
            match v {
                Value::Str(s) => {
                    plain &= s.is_plain();
                    out.push_str(s);
                }
                other => {
                    // Rendered numbers and booleans need no escapes; JSON text may.
                    plain &= !matches!(other, Value::Array(_) | Value::Object(_));
                    other.render_into(out);
                }
            }
        }
        plain
    }))
}

#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
    Both,
}

fn trim(a: &[Value], side: Side) -> Value {
    let Some(s) = text(&a[0]) else {
        return Value::Null;
    };
    let set: Option<Text> = match a.get(1) {
        None => None,
        Some(v) => match text(v) {
            Some(chars) => Some(chars),
            None => return Value::Null,
        },
    };
    let matches = |c: char| {
        set.as_ref()
            .map_or(c.is_whitespace(), |set| set.contains(c))
    };
    let out = match side {
        Side::Left => s.trim_start_matches(matches),
        Side::Right => s.trim_end_matches(matches),
        Side::Both => s.trim_matches(matches),
    };
    if out.len() == s.len() {
        Value::Str(s)
    } else {
        Value::Str(s.slice(out))
    }
}

fn replace(a: &[Value]) -> Value {
    match (text(&a[0]), text(&a[1]), text(&a[2])) {
        (Some(s), Some(old), Some(new)) if !old.is_empty() => Value::str(&s.replace(&*old, &new)),
        (Some(s), Some(_), Some(_)) => Value::Str(s),
        _ => Value::Null,
    }
}

fn split(a: &[Value]) -> Value {
    let Some(s) = text(&a[0]) else {
        return Value::Null;
    };
    let delim = match a.get(1) {
        Some(d) => match text(d) {
            Some(d) => d,
            None => return Value::Null,
        },
        None => Text::new(" "),
    };
    let parts: Vec<Value> = if delim.is_empty() {
        s.chars()
            .map(|c| Value::str(c.encode_utf8(&mut [0; 4])))
            .collect()
    } else {
        s.split(&*delim)
            .map(|part| Value::Str(s.slice(part)))
            .collect()
    };
    Value::Array(Arc::new(parts))
}

fn string_count(a: &[Value]) -> Value {
    match (text(&a[0]), text(&a[1])) {
        (Some(s), Some(sub)) if !sub.is_empty() => Value::Int(count(s.matches(&*sub).count())),
        (Some(_), Some(_)) => Value::Int(0),
        _ => Value::Null,
    }
}

fn format_string(a: &[Value]) -> Value {
    let Some(fmt) = text(&a[0]) else {
        return Value::Null;
    };
    let mut args = a[1..].iter();
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Skip flags and width, then take the conversion.
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || matches!(d, '-' | '.' | '+' | '0') {
                spec.push(d);
                chars.next();
            } else {
                break;
            }
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(conv) => {
                let arg = args.next().cloned().unwrap_or_default();
                let rendered = match conv {
                    'd' | 'i' => match to_integer(&arg) {
                        Value::Int(n) => n.to_string(),
                        _ => String::new(),
                    },
                    'f' => match (arg.as_number(), spec.split_once('.')) {
                        (Some(n), Some((_, p))) => {
                            format!("{:.*}", p.parse::<usize>().unwrap_or(6), n.as_f64())
                        }
                        (Some(n), None) => format!("{:.6}", n.as_f64()),
                        _ => String::new(),
                    },
                    _ => text(&arg).map(|s| s.to_string()).unwrap_or_default(),
                };
                let width = spec
                    .trim_start_matches(['-', '0', '+'])
                    .split('.')
                    .next()
                    .and_then(|w| w.parse::<usize>().ok());
                match width {
                    Some(w) if spec.starts_with('-') => out.push_str(&format!("{rendered:<w$}")),
                    Some(w) if spec.starts_with('0') => out.push_str(&format!("{rendered:0>w$}")),
                    Some(w) => out.push_str(&format!("{rendered:>w$}")),
                    None => out.push_str(&rendered),
                }
            }
            None => out.push('%'),
        }
    }
    Value::str(&out)
}

/// `*` matches any run of characters; comparison ignores ASCII case, as XQL's defaults do.
pub(crate) fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().map(|c| c.to_ascii_lowercase()).collect();
    let t: Vec<char> = text.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] != '*' && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn arrayindex(a: &[Value]) -> Value {
    let Value::Array(items) = &a[0] else {
        return Value::Null;
    };
    let Some(Number::Int(i)) = a[1].as_number() else {
        return Value::Null;
    };
    let len = count(items.len());
    let idx = if i < 0 { len + i } else { i };
    usize::try_from(idx)
        .ok()
        .and_then(|i| items.get(i))
        .cloned()
        .unwrap_or_default()
}

fn arraystring(a: &[Value]) -> Value {
    let (Value::Array(items), Some(delim)) = (&a[0], text(&a[1])) else {
        return Value::Null;
    };
    Value::Str(Text::build(|out| {
        let mut plain = delim.is_plain();
        let mut first = true;
        for item in items.iter() {
            let Some(part) = text(item) else {
                continue;
            };
            if !first {
                out.push_str(&delim);
            }
            first = false;
            plain &= part.is_plain();
            out.push_str(&part);
        }
        plain
    }))
}

fn arrayconcat(a: &[Value]) -> Value {
    let mut out = Vec::new();
    for v in a {
        match v {
            Value::Array(items) => out.extend(items.iter().cloned()),
            Value::Null => {}
            other => out.push(other.clone()),
        }
    }
    Value::Array(Arc::new(out))
}

fn arraydistinct(a: &[Value]) -> Value {
    let Value::Array(items) = &a[0] else {
        return Value::Null;
    };
    let mut seen = HashSet::new();
    let out: Vec<Value> = items
        .iter()
        .filter(|v| seen.insert(v.json_text()))
        .cloned()
        .collect();
    Value::Array(Arc::new(out))
}

fn arrayrange(a: &[Value]) -> Value {
    let Value::Array(items) = &a[0] else {
        return Value::Null;
    };
    let (Some(Number::Int(start)), Some(Number::Int(end))) = (a[1].as_number(), a[2].as_number())
    else {
        return Value::Null;
    };
    let len = items.len();
    let start = usize::try_from(start.max(0)).unwrap_or(0).min(len);
    let end = usize::try_from(end.max(0)).unwrap_or(0).min(len).max(start);
    Value::Array(Arc::new(items[start..end].to_vec()))
}

fn object_create(a: &[Value]) -> Value {
    let mut map = Object::new();
    for pair in a.chunks(2) {
        let Some(key) = text(&pair[0]) else {
            continue;
        };
        // Values are stored as JSON holds them (timestamps as text).
        let value = pair.get(1).map_or(Value::Null, Value::json_ready);
        map.insert(key, value);
    }
    Value::Object(Arc::new(map))
}

fn object_merge(a: &[Value]) -> Value {
    let mut map = Object::new();
    for v in a {
        let parsed;
        let object = match v {
            Value::Object(o) => o,
            Value::Str(s) => match crate::json_path::parse_text(s) {
                Some(Value::Object(o)) => {
                    parsed = o;
                    &parsed
                }
                _ => continue,
            },
            _ => continue,
        };
        for (k, v) in object.iter() {
            map.insert(k.clone(), v.clone());
        }
    }
    Value::Object(Arc::new(map))
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
    Div,
}

/// Integer arithmetic stays integral (division excepted); anything else is float.
pub(crate) fn arith(x: &Value, y: &Value, op: Arith) -> Value {
    let (Some(x), Some(y)) = (x.as_number(), y.as_number()) else {
        return Value::Null;
    };
    if let (Number::Int(x), Number::Int(y), false) = (x, y, matches!(op, Arith::Div)) {
        let r = match op {
            Arith::Add => x.checked_add(y),
            Arith::Sub => x.checked_sub(y),
            Arith::Mul => x.checked_mul(y),
            Arith::Div => None,
        };
        return r.map_or(Value::Null, Value::Int);
    }
    let (x, y) = (x.as_f64(), y.as_f64());
    let r = match op {
        Arith::Add => x + y,
        Arith::Sub => x - y,
        Arith::Mul => x * y,
        Arith::Div if y == 0.0 => return Value::Null,
        Arith::Div => x / y,
    };
    Value::Float(r)
}

fn round_with(v: &Value, f: fn(f64) -> f64) -> Value {
    match v.as_number() {
        Some(Number::Int(n)) => Value::Int(n),
        Some(Number::Float(x)) => float_to_int(f(x)),
        None => Value::Null,
    }
}

/// `ip` against a comma-separated list of CIDRs (or an array of them).
pub(crate) fn cidr_test(ip: &Value, cidrs: &Value, v6_only: bool) -> Value {
    let Some(ip_text) = text(ip) else {
        return Value::Null;
    };
    let Ok(addr) = ip_text.trim().parse::<IpAddr>() else {
        return Value::Bool(false);
    };
    if v6_only && addr.is_ipv4() {
        return Value::Bool(false);
    }
    let list: Vec<Text> = match cidrs {
        Value::Array(items) => items.iter().filter_map(text).collect(),
        other => match text(other) {
            Some(s) => vec![s],
            None => return Value::Null,
        },
    };
    let hit = list
        .iter()
        .flat_map(|s| s.split(',').map(str::to_owned).collect::<Vec<_>>())
        .any(|cidr| in_cidr(addr, cidr.trim()));
    Value::Bool(hit)
}

fn in_cidr(addr: IpAddr, cidr: &str) -> bool {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    match (addr, net.parse::<IpAddr>()) {
        (IpAddr::V4(a), Ok(IpAddr::V4(n))) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), Ok(IpAddr::V6(n))) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

pub(crate) fn timestamp(v: &Value) -> Option<i64> {
    match v {
        Value::Timestamp(us) => Some(*us),
        Value::Str(s) => time_fmt::parse_iso(s),
        _ => None,
    }
}

fn to_timestamp(a: &[Value]) -> Value {
    let unit = match a.get(1) {
        Some(u) => match text(u) {
            Some(u) => u,
            None => return Value::Null,
        },
        None => Text::new("SECONDS"),
    };
    match &a[0] {
        Value::Timestamp(us) => Value::Timestamp(*us),
        other => other
            .as_number()
            .and_then(|n| time_fmt::from_epoch(n.as_f64(), &unit))
            .map_or(Value::Null, Value::Timestamp),
    }
}

fn offset_arg(a: &[Value], i: usize) -> Option<time::UtcOffset> {
    match a.get(i) {
        None => Some(time::UtcOffset::UTC),
        Some(v) => time_fmt::parse_offset(&text(v)?),
    }
}

fn parse_timestamp(a: &[Value]) -> Value {
    let (Some(fmt), Some(offset)) = (text(&a[0]), offset_arg(a, 2)) else {
        return Value::Null;
    };
    match &a[1] {
        Value::Timestamp(us) => Value::Timestamp(*us),
        other => text(other)
            .and_then(|s| time_fmt::parse_with(&fmt, &s, offset))
            .map_or(Value::Null, Value::Timestamp),
    }
}

fn format_timestamp(a: &[Value]) -> Value {
    match (text(&a[0]), timestamp(&a[1]), offset_arg(a, 2)) {
        (Some(fmt), Some(us), Some(offset)) => {
            time_fmt::format_with(&fmt, us, offset).map_or(Value::Null, |s| Value::str(&s))
        }
        _ => Value::Null,
    }
}

fn to_epoch(a: &[Value]) -> Value {
    let unit = a
        .get(1)
        .and_then(text)
        .map_or(Some(1_000_000), |u| time_fmt::unit_micros(&u));
    match (timestamp(&a[0]), unit) {
        (Some(us), Some(per)) => Value::Int(us.div_euclid(per)),
        _ => Value::Null,
    }
}

fn timestamp_diff(a: &[Value]) -> Value {
    match (
        timestamp(&a[0]),
        timestamp(&a[1]),
        text(&a[2]).and_then(|u| time_fmt::unit_micros(&u)),
    ) {
        (Some(t1), Some(t2), Some(per)) => Value::Int((t1 - t2) / per),
        _ => Value::Null,
    }
}
