//! Evaluates compiled nodes against one row of column values.

use std::cmp::Ordering;
use std::sync::Arc;

use regex::Regex;

use crate::compile::{self, Cmp, InItem, LambdaKind, Node, PathArg, Pattern};
use crate::functions::{self, text};
use crate::json_path::JsonPath;
use crate::value::{Object, Text, Value};

/// The working state of one event: its columns, the `"@element"` stack and an argument
/// stack reused across calls so evaluation does not allocate per call.
#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) row: Vec<Value>,
    elements: Vec<Value>,
    stack: Vec<Value>,
    /// The time `current_time()` returns, fixed per run so results are reproducible.
    pub(crate) now_us: i64,
    /// Buffers of the line reader.
    pub(crate) scratch: crate::line::Scratch,
    /// Per slot, whether its paths were prefetched into `paths` (see `prefetch.rs`).
    pub(crate) prefetched: Vec<bool>,
    /// The prefetched nodes, by result: `None` where the path leads nowhere.
    pub(crate) paths: Vec<Option<Value>>,
    /// Capture locations per regex, reused from match to match.
    captures: Vec<(Arc<Regex>, regex::CaptureLocations)>,
    /// The slots of the keys of the last lines read.
    pub(crate) keys: KeyCache,
}

/// The slot of the key at each position of the last NDJSON lines read: events of one
/// source mostly list their keys in the same order, so a key is usually found by one
/// comparison rather than by hashing it.
#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    /// The model whose slots these are.
    pub(crate) owner: u64,
    pub(crate) slots: Vec<(Box<str>, Option<usize>)>,
}

impl KeyCache {
    /// The slot of `key`, the `position`th key of its line, asking `lookup` when the
    /// cache does not hold that key there.
    pub(crate) fn slot(
        &mut self,
        position: usize,
        key: &str,
        lookup: impl FnOnce(&str) -> Option<usize>,
    ) -> Option<usize> {
        if let Some((cached, slot)) = self.slots.get(position)
            && **cached == *key
        {
            return *slot;
        }
        let slot = lookup(key);
        // Bounded: lines with very many keys cache their first ones only.
        if position < self.slots.len() {
            self.slots[position] = (Box::from(key), slot);
        } else if position == self.slots.len() && position < 256 {
            self.slots.push((Box::from(key), slot));
        }
        slot
    }
}

impl Frame {
    pub(crate) fn new(slots: usize) -> Self {
        Self {
            row: vec![Value::Null; slots],
            elements: Vec::new(),
            stack: Vec::new(),
            now_us: 0,
            scratch: crate::line::Scratch::default(),
            prefetched: vec![false; slots],
            paths: Vec::new(),
            captures: Vec::new(),
            keys: KeyCache::default(),
        }
    }

    /// Empties the frame for an event of `slots` columns and `paths` prefetched paths,
    /// keeping its buffers.
    pub(crate) fn reset(&mut self, slots: usize, paths: usize, now_us: i64) {
        self.row.clear();
        self.row.resize(slots, Value::Null);
        self.prefetched.clear();
        self.prefetched.resize(slots, false);
        self.paths.clear();
        self.paths.resize(paths, None);
        self.elements.clear();
        self.stack.clear();
        self.scratch.clear();
        self.now_us = now_us;
    }
}

pub(crate) fn eval(node: &Node, f: &mut Frame) -> Value {
    match node {
        Node::Lit(v) => v.clone(),
        Node::Slot(i) => f.row[*i].clone(),
        Node::Element => f.elements.last().cloned().unwrap_or_default(),
        Node::If(branches, otherwise) => {
            for (cond, value) in branches {
                if eval(cond, f).is_true() {
                    return eval(value, f);
                }
            }
            eval(otherwise, f)
        }
        Node::Coalesce(items) => {
            for item in items {
                let v = eval(item, f);
                if !v.is_null() {
                    return v;
                }
            }
            Value::Null
        }
        Node::And(a, b) => Value::Bool(eval(a, f).is_true() && eval(b, f).is_true()),
        Node::Or(a, b) => Value::Bool(eval(a, f).is_true() || eval(b, f).is_true()),
        Node::Not(a) => match eval(a, f) {
            Value::Null => Value::Null,
            v => Value::Bool(!v.is_true()),
        },
        Node::IsNull(a, negated) => Value::Bool(eval(a, f).is_null() != *negated),
        Node::Compare(op, a, b) => {
            let (x, y) = (eval(a, f), eval(b, f));
            compare(*op, &x, &y)
        }
        Node::Regex(a, pattern, negated) => {
            let v = eval(a, f);
            let Some(s) = text(&v) else {
                return Value::Bool(false);
            };
            match regex(pattern, f) {
                Some(re) => Value::Bool(re.is_match(&s) != *negated),
                None => Value::Bool(false),
            }
        }
        Node::Contains(a, b, negated) => {
            let (x, y) = (eval(a, f), eval(b, f));
            match contains(&x, &y) {
                Some(hit) => Value::Bool(hit != *negated),
                None => Value::Bool(false),
            }
        }
        Node::InCidr(a, b, v6, negated) => {
            let (x, y) = (eval(a, f), eval(b, f));
            match functions::cidr_test(&x, &y, *v6) {
                Value::Bool(hit) => Value::Bool(hit != *negated),
                _ => Value::Bool(false),
            }
        }
        Node::In(a, items, negated) => {
            let v = eval(a, f);
            let hit = items.iter().any(|item| match item {
                InItem::Null => v.is_null(),
                InItem::Wildcard(p) => text(&v).is_some_and(|s| functions::wildcard_match(p, &s)),
                InItem::Node(n) => {
                    let candidate = eval(n, f);
                    equals(&v, &candidate).unwrap_or(false)
                }
            });
            if v.is_null() && !items.iter().any(|i| matches!(i, InItem::Null)) {
                return Value::Bool(false);
            }
            Value::Bool(hit != *negated)
        }
        Node::Json(a, path, extract) => {
            let v = eval(a, f);
            if v.is_null() {
                return Value::Null;
            }
            match path {
                PathArg::Fixed(p) => compile::extract(&v, p, *extract),
                PathArg::Dynamic(n) => {
                    let p = eval(n, f);
                    match text(&p).and_then(|t| JsonPath::parse(&t)) {
                        Some(p) => compile::extract(&v, &p, *extract),
                        None => Value::Null,
                    }
                }
            }
        }
        Node::Regextract(a, pattern) => {
            let v = eval(a, f);
            let Some(s) = text(&v) else {
                return Value::Null;
            };
            match regex(pattern, f) {
                Some(re) => regextract(&re, &s),
                None => Value::Null,
            }
        }
        Node::RegexCapture(a, pattern) => {
            let v = eval(a, f);
            let Some(s) = text(&v) else {
                return Value::Null;
            };
            let Some(re) = regex(pattern, f) else {
                return Value::Null;
            };
            let Some(caps) = re.captures(&s) else {
                return Value::Null;
            };
            let mut map = Object::new();
            for name in re.capture_names().flatten() {
                let value = caps
                    .name(name)
                    .map_or(Value::Null, |m| Value::Str(s.slice(m.as_str())));
                map.insert(Text::new(name), value);
            }
            Value::Object(Arc::new(map))
        }
        Node::Replex(a, pattern, replacement) => {
            let v = eval(a, f);
            let r = eval(replacement, f);
            let (Some(s), Some(r)) = (text(&v), text(&r)) else {
                return Value::Null;
            };
            match regex(pattern, f) {
                Some(re) => {
                    let out = re.replace_all(&s, regex::NoExpand(&r));
                    match out {
                        std::borrow::Cow::Borrowed(_) => Value::Str(s),
                        std::borrow::Cow::Owned(o) => Value::str(&o),
                    }
                }
                None => Value::Null,
            }
        }
        Node::Lambda(kind, array, body) => {
            let Value::Array(items) = eval(array, f) else {
                return Value::Null;
            };
            lambda(*kind, &items, body, f)
        }
        Node::Arith(op, a, b) => {
            let (x, y) = (eval(a, f), eval(b, f));
            functions::arith(&x, &y, *op)
        }
        Node::Neg(a) => match eval(a, f) {
            Value::Int(n) => n.checked_neg().map_or(Value::Null, Value::Int),
            Value::Float(x) => Value::Float(-x),
            other => match other.as_number() {
                Some(n) => Value::Float(-n.as_f64()),
                None => Value::Null,
            },
        },
        Node::CurrentTime => Value::Timestamp(f.now_us),
        Node::ArrayConcat(parts) => {
            // Most parts give one item or a few: room for two each saves regrowing.
            let mut out = Vec::with_capacity(parts.len() * 2);
            for part in parts {
                concat_into(part, f, &mut out);
            }
            Value::Array(Arc::new(out))
        }
        Node::RegextractIndex(a, re, n) => {
            let v = eval(a, f);
            let Some(s) = text(&v) else {
                return Value::Null;
            };
            regextract_index(re, &s, *n, f)
        }
        Node::PathOf {
            slot,
            result,
            path,
            extract,
            texts,
        } => {
            if f.prefetched.get(*slot).copied().unwrap_or(false) {
                return match f.paths.get(*result) {
                    Some(Some(texts_read)) if *texts => texts_read.clone(),
                    Some(Some(node)) => compile::extract_node(node, *extract),
                    _ => Value::Null,
                };
            }
            match f.row.get(*slot) {
                None | Some(Value::Null) => Value::Null,
                Some(v) => compile::extract(v, path, *extract),
            }
        }
        Node::ObjectCreate(entries) => {
            let mut built = Vec::with_capacity(entries.len());
            for (key, node) in entries {
                // Values are stored as JSON holds them (timestamps as text).
                built.push((key.clone(), eval(node, f).json_ready()));
            }
            Value::Object(Arc::new(Object::from_distinct_entries(built)))
        }
        Node::Call(builtin, args) => {
            let base = f.stack.len();
            for arg in args {
                let v = eval(arg, f);
                f.stack.push(v);
            }
            let out = (builtin.call)(&f.stack[base..]);
            f.stack.truncate(base);
            out
        }
    }
}

/// Pushes what `arrayconcat` takes from `node`: an `arraycreate`'s items (or those of the
/// branch an `if` picks) without building their array, else the value's items, the
/// value itself, or nothing for null.
fn concat_into(node: &Node, f: &mut Frame, out: &mut Vec<Value>) {
    match node {
        Node::Call(builtin, items) if builtin.name == "arraycreate" => {
            for item in items {
                let v = eval(item, f);
                out.push(v);
            }
        }
        Node::If(branches, otherwise) => {
            for (cond, value) in branches {
                if eval(cond, f).is_true() {
                    return concat_into(value, f, out);
                }
            }
            concat_into(otherwise, f, out);
        }
        other => match eval(other, f) {
            Value::Array(items) => out.extend(items.iter().cloned()),
            Value::Null => {}
            v => out.push(v),
        },
    }
}

/// `arrayindex(regextract(s, re), n)`: the first group (or the whole match) of the nth
/// match that has one, found without collecting the others.
fn regextract_index(re: &Arc<Regex>, s: &Text, n: usize, f: &mut Frame) -> Value {
    if re.captures_len() <= 1 {
        return re
            .find_iter(s)
            .nth(n)
            .map_or(Value::Null, |m| Value::Str(s.slice(m.as_str())));
    }
    if n == 0 {
        let at = match f.captures.iter().position(|(r, _)| Arc::ptr_eq(r, re)) {
            Some(at) => at,
            None => {
                if f.captures.len() >= 64 {
                    f.captures.clear();
                }
                f.captures.push((Arc::clone(re), re.capture_locations()));
                f.captures.len() - 1
            }
        };
        let locations = &mut f.captures[at].1;
        if re.captures_read(locations, s).is_none() {
            return Value::Null;
        }
        if let Some((start, end)) = locations.get(1)
            && let Some(group) = s.get(start..end)
        {
            return Value::Str(s.slice(group));
        }
        // The first match has no first group: the first match that has one is wanted.
    }
    match regextract(re, s) {
        Value::Array(items) => items.get(n).cloned().unwrap_or_default(),
        _ => Value::Null,
    }
}

fn lambda(kind: LambdaKind, items: &[Value], body: &Node, f: &mut Frame) -> Value {
    let mut out = Vec::with_capacity(match kind {
        LambdaKind::Map | LambdaKind::Filter => items.len(),
        _ => 0,
    });
    let mut result = match kind {
        LambdaKind::Any => Value::Bool(false),
        LambdaKind::All => Value::Bool(true),
        LambdaKind::IndexOf => Value::Int(-1),
        LambdaKind::Map | LambdaKind::Filter => Value::Null,
    };
    for (i, item) in items.iter().enumerate() {
        f.elements.push(item.clone());
        let v = eval(body, f);
        f.elements.pop();
        match kind {
            LambdaKind::Map => out.push(v),
            LambdaKind::Filter => {
                if v.is_true() {
                    out.push(item.clone());
                }
            }
            LambdaKind::IndexOf => {
                if v.is_true() {
                    result = Value::Int(i64::try_from(i).unwrap_or(-1));
                    break;
                }
            }
            LambdaKind::Any => {
                if v.is_true() {
                    result = Value::Bool(true);
                    break;
                }
            }
            LambdaKind::All => {
                if !v.is_true() {
                    result = Value::Bool(false);
                    break;
                }
            }
        }
    }
    match kind {
        LambdaKind::Map | LambdaKind::Filter => Value::Array(Arc::new(out)),
        _ => result,
    }
}

fn regex(pattern: &Pattern, f: &mut Frame) -> Option<Arc<Regex>> {
    match pattern {
        Pattern::Fixed(re) => Some(re.clone()),
        Pattern::Dynamic(n) => {
            let p = eval(n, f);
            Regex::new(&compile::re2_to_rust(&text(&p)?))
                .ok()
                .map(Arc::new)
        }
    }
}

/// All matches; with capture groups, the first group of each match.
fn regextract(re: &Regex, s: &Text) -> Value {
    let out: Vec<Value> = if re.captures_len() > 1 {
        re.captures_iter(s)
            .filter_map(|c| c.get(1).map(|m| Value::Str(s.slice(m.as_str()))))
            .collect()
    } else {
        re.find_iter(s)
            .map(|m| Value::Str(s.slice(m.as_str())))
            .collect()
    };
    Value::Array(Arc::new(out))
}

fn contains(x: &Value, y: &Value) -> Option<bool> {
    match x {
        Value::Null => None,
        Value::Array(items) => Some(items.iter().any(|i| equals(i, y).unwrap_or(false))),
        other => {
            let (hay, needle) = (text(other)?, text(y)?);
            Some(hay.to_lowercase().contains(&needle.to_lowercase()))
        }
    }
}

/// XQL equality: numbers by value, text ignoring case, booleans against "true"/"false";
/// `None` when either side is null.
pub(crate) fn equals(x: &Value, y: &Value) -> Option<bool> {
    match (x, y) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::Str(a), Value::Str(b)) => Some(
            a.eq_ignore_ascii_case(b) || (!a.is_ascii() && a.to_lowercase() == b.to_lowercase()),
        ),
        (Value::Bool(a), Value::Bool(b)) => Some(a == b),
        (Value::Bool(a), Value::Str(s)) | (Value::Str(s), Value::Bool(a)) => {
            Some(s.eq_ignore_ascii_case(if *a { "true" } else { "false" }))
        }
        (Value::Array(a), Value::Array(b)) => Some(a == b),
        (Value::Object(a), Value::Object(b)) => Some(a == b),
        _ => match (x.as_number(), y.as_number()) {
            (Some(a), Some(b)) => Some(a.as_f64() == b.as_f64()),
            _ => Some(text(x)? == text(y)?),
        },
    }
}

fn compare(op: Cmp, x: &Value, y: &Value) -> Value {
    if x.is_null() || y.is_null() {
        return Value::Bool(false);
    }
    match op {
        Cmp::Eq => Value::Bool(equals(x, y).unwrap_or(false)),
        Cmp::Ne => Value::Bool(!equals(x, y).unwrap_or(true)),
        _ => {
            let ordering = match (x.as_number(), y.as_number()) {
                (Some(a), Some(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                _ => match (text(x), text(y)) {
                    (Some(a), Some(b)) => Some(a.cmp(&b)),
                    _ => None,
                },
            };
            let Some(ordering) = ordering else {
                return Value::Bool(false);
            };
            Value::Bool(match op {
                Cmp::Lt => ordering == Ordering::Less,
                Cmp::Le => ordering != Ordering::Greater,
                Cmp::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            })
        }
    }
}
