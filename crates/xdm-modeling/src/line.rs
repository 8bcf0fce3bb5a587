//! A one-pass reader of one JSON object (an NDJSON line) into values whose strings share
//! the line. It handles the common shapes only and gives up (`None`) on anything else —
//! invalid JSON, very deep nesting — so that the caller reads the line again with
//! serde_json, which then decides and words the error. It never accepts what serde_json
//! rejects, and reads every value as serde_json does: numbers other than plain integers
//! and strings with escapes are handed to serde_json itself.

use std::sync::Arc;

use crate::prefetch::Prefetch;
use crate::value::{Object, Text, Value, number_value};

/// Nesting deeper than this is left to serde_json (whose own limit is 128).
const MAX_DEPTH: usize = 100;

pub(crate) struct Reader<'a> {
    line: &'a Arc<str>,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    /// Counts what makes text differ from the compact JSON of what it holds (whitespace,
    /// escapes, numbers read by serde_json, repeated keys): an object read while it
    /// stays put is its own compact JSON text.
    irregular: usize,
    scratch: &'a mut Scratch,
}

/// The entries and items of the objects and arrays being read, innermost last: each is
/// moved into a vector of its exact size when complete, so none grows by steps. Kept
/// from line to line.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    entries: Vec<(Text, Value)>,
    items: Vec<Value>,
}

impl Scratch {
    /// Drops what a reader that gave up left behind, keeping the buffers.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.items.clear();
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(line: &'a Arc<str>, scratch: &'a mut Scratch) -> Self {
        Reader::part(line, 0, line.len(), scratch)
    }

    /// A reader of the bytes `start..end` of `buf`.
    pub(crate) fn part(
        buf: &'a Arc<str>,
        start: usize,
        end: usize,
        scratch: &'a mut Scratch,
    ) -> Self {
        scratch.clear();
        let bytes = buf.as_bytes();
        Reader {
            line: buf,
            // Reading stops at `end`: nothing past it is visible.
            bytes: bytes.get(..end).unwrap_or(bytes),
            pos: start,
            irregular: 0,
            depth: 0,
            scratch,
        }
    }

    /// Reads the top-level object, handing each key to `field` along with a reader for
    /// its value; then checks that only whitespace follows.
    pub(crate) fn object(
        &mut self,
        mut field: impl FnMut(&str, &mut Self) -> Option<()>,
    ) -> Option<()> {
        self.whitespace();
        self.expect(b'{')?;
        self.whitespace();
        if self.eat(b'}') {
            return self.end();
        }
        loop {
            self.whitespace();
            let key = self.key()?;
            self.whitespace();
            self.expect(b':')?;
            self.whitespace();
            field(&key, self)?;
            self.whitespace();
            if self.eat(b',') {
                continue;
            }
            self.expect(b'}')?;
            return self.end();
        }
    }

    /// The node at `path` in the one JSON value the text holds (`Some(None)` when there
    /// is none there), reading only that node into a value and checking the rest; `None`
    /// when the text is left to serde_json. As following the path in the whole value: a
    /// repeated key's last value wins.
    pub(crate) fn lookup(&mut self, path: &[String]) -> Option<Option<Value>> {
        self.whitespace();
        let found = self.find(path)?;
        self.end()?;
        Some(found)
    }

    fn find(&mut self, path: &[String]) -> Option<Option<Value>> {
        let Some((segment, rest)) = path.split_first() else {
            return self.value(true).map(Some);
        };
        match *self.bytes.get(self.pos)? {
            b'{' => {
                self.enter()?;
                self.pos += 1;
                let mut found = None;
                self.whitespace();
                if !self.eat(b'}') {
                    loop {
                        self.whitespace();
                        let key = self.key()?;
                        self.whitespace();
                        self.expect(b':')?;
                        self.whitespace();
                        if *key == **segment {
                            found = self.find(rest)?;
                        } else {
                            self.value(false)?;
                        }
                        self.whitespace();
                        if self.eat(b',') {
                            continue;
                        }
                        self.expect(b'}')?;
                        break;
                    }
                }
                self.depth -= 1;
                Some(found)
            }
            b'[' => {
                self.enter()?;
                self.pos += 1;
                let wanted = segment.parse::<usize>().ok();
                let mut found = None;
                self.whitespace();
                if !self.eat(b']') {
                    let mut index = 0;
                    loop {
                        self.whitespace();
                        if Some(index) == wanted {
                            found = self.find(rest)?;
                        } else {
                            self.value(false)?;
                        }
                        index += 1;
                        self.whitespace();
                        if self.eat(b',') {
                            continue;
                        }
                        self.expect(b']')?;
                        break;
                    }
                }
                self.depth -= 1;
                Some(found)
            }
            _ => {
                self.value(false)?;
                Some(None)
            }
        }
    }

    /// Whether the value at the current position is a JSON object or array.
    pub(crate) fn at_container(&self) -> bool {
        matches!(self.bytes.get(self.pos), Some(b'{' | b'['))
    }

    /// Reads the value at the current position, keeping only the nodes at the paths of
    /// `trie` below `node` (each into `results` at its number, `None` where the path
    /// leads nowhere) and checking the rest, as [`Reader::find`] does for one path. The
    /// results of `node`'s paths must be `None` on entry.
    pub(crate) fn prefetch(
        &mut self,
        trie: &Prefetch,
        node: usize,
        results: &mut [Option<Value>],
    ) -> Option<()> {
        let here = &trie.nodes[node];
        if here.texts {
            // What `json_extract_array` gives: the array's item texts, or nothing.
            *results.get_mut(here.results.start)? = self.item_texts()?;
            return Some(());
        }
        if here.ends || here.children.is_empty() {
            // A path ends here: read the node, and follow any longer paths inside it.
            let value = self.value(true)?;
            for result in here.results.clone() {
                let below = trie.paths.get(result)?.get(here.depth..)?;
                *results.get_mut(result)? = crate::json_path::get_in(&value, below).cloned();
            }
            return Some(());
        }
        match *self.bytes.get(self.pos)? {
            b'{' => {
                self.enter()?;
                self.pos += 1;
                self.whitespace();
                if !self.eat(b'}') {
                    loop {
                        self.whitespace();
                        let key = self.key()?;
                        self.whitespace();
                        self.expect(b':')?;
                        self.whitespace();
                        let child = here
                            .children
                            .iter()
                            .copied()
                            .find(|&c| trie.nodes[c].segment == *key);
                        match child {
                            Some(child) => {
                                // A repeated key: its last value wins.
                                results
                                    .get_mut(trie.nodes[child].results.clone())?
                                    .fill(None);
                                self.prefetch(trie, child, results)?;
                            }
                            None => {
                                self.value(false)?;
                            }
                        }
                        self.whitespace();
                        if self.eat(b',') {
                            continue;
                        }
                        self.expect(b'}')?;
                        break;
                    }
                }
                self.depth -= 1;
            }
            b'[' => {
                self.enter()?;
                self.pos += 1;
                self.whitespace();
                if !self.eat(b']') {
                    let mut index = 0usize;
                    loop {
                        self.whitespace();
                        let child = here
                            .children
                            .iter()
                            .copied()
                            .find(|&c| trie.nodes[c].index == Some(index));
                        match child {
                            Some(child) => self.prefetch(trie, child, results)?,
                            None => {
                                self.value(false)?;
                            }
                        }
                        index += 1;
                        self.whitespace();
                        if self.eat(b',') {
                            continue;
                        }
                        self.expect(b']')?;
                        break;
                    }
                }
                self.depth -= 1;
            }
            _ => {
                self.value(false)?;
            }
        }
        Some(())
    }

    /// The value at the current position as `json_extract_array` turns it: for an array,
    /// each item's compact JSON text — the item's own text when it is already that (no
    /// whitespace, escapes, repeated keys or numbers of other forms), so the item is only
    /// checked, not built — and `None` for anything else.
    fn item_texts(&mut self) -> Option<Option<Value>> {
        if self.bytes.get(self.pos) != Some(&b'[') {
            self.value(false)?;
            return Some(None);
        }
        self.enter()?;
        self.pos += 1;
        let mut texts = Vec::new();
        self.whitespace();
        if !self.eat(b']') {
            loop {
                self.whitespace();
                let start = self.pos;
                let text = if self.skip_compact()? {
                    Text::at(self.line, start, self.pos, false)
                } else {
                    self.pos = start;
                    self.value(true)?.json_text()
                };
                texts.push(Value::Str(text));
                self.whitespace();
                if self.eat(b',') {
                    continue;
                }
                self.expect(b']')?;
                break;
            }
        }
        self.depth -= 1;
        Some(Some(Value::Array(Arc::new(texts))))
    }

    /// Skips the value at the current position, checking it as `value(false)` does, and
    /// tells whether its text is exactly the compact JSON of what it holds.
    fn skip_compact(&mut self) -> Option<bool> {
        let irregular = self.irregular;
        let line: &'a str = self.line;
        let compact = match *self.bytes.get(self.pos)? {
            b'"' => {
                let (open, close, escaped) = self.string_span()?;
                if escaped {
                    serde_json::from_str::<serde::de::IgnoredAny>(line.get(open..=close)?).ok()?;
                }
                !escaped
            }
            b'{' => {
                self.enter()?;
                self.pos += 1;
                // Keys seen, to tell a repeated key (which reading would drop).
                let mut keys: [&str; 16] = [""; 16];
                let mut count = 0;
                let mut compact = true;
                self.whitespace();
                if !self.eat(b'}') {
                    loop {
                        self.whitespace();
                        let (open, close, escaped) = self.string_span()?;
                        if escaped {
                            serde_json::from_str::<serde::de::IgnoredAny>(line.get(open..=close)?)
                                .ok()?;
                            compact = false;
                        } else if count < keys.len() {
                            let key = line.get(open + 1..close)?;
                            compact &= !keys[..count].contains(&key);
                            keys[count] = key;
                            count += 1;
                        } else {
                            compact = false;
                        }
                        self.whitespace();
                        self.expect(b':')?;
                        self.whitespace();
                        compact &= self.skip_compact()?;
                        self.whitespace();
                        if self.eat(b',') {
                            continue;
                        }
                        self.expect(b'}')?;
                        break;
                    }
                }
                self.depth -= 1;
                compact
            }
            b'[' => {
                self.enter()?;
                self.pos += 1;
                let mut compact = true;
                self.whitespace();
                if !self.eat(b']') {
                    loop {
                        self.whitespace();
                        compact &= self.skip_compact()?;
                        self.whitespace();
                        if self.eat(b',') {
                            continue;
                        }
                        self.expect(b']')?;
                        break;
                    }
                }
                self.depth -= 1;
                compact
            }
            _ => {
                // Literals, and numbers (those not read as plain integers count as
                // irregular).
                self.value(false)?;
                true
            }
        };
        Some(compact && self.irregular == irregular)
    }

    fn end(&mut self) -> Option<()> {
        self.whitespace();
        (self.pos == self.bytes.len()).then_some(())
    }

    fn whitespace(&mut self) {
        let start = self.pos;
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        if self.pos != start {
            self.irregular += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.eat(byte).then_some(())
    }

    /// A string at the current position (its opening quote), as text sharing the line.
    fn string(&mut self) -> Option<Text> {
        let (open, close, escaped) = self.string_span()?;
        if !escaped {
            return Some(Text::at(self.line, open + 1, close, true));
        }
        // Let serde_json decode (and judge) the escapes.
        self.irregular += 1;
        let decoded: String = serde_json::from_str(self.line.get(open..=close)?).ok()?;
        Some(Text::from(decoded))
    }

    /// An object key: borrowed from the line unless it holds escapes.
    fn key(&mut self) -> Option<std::borrow::Cow<'a, str>> {
        let (open, close, escaped) = self.string_span()?;
        let line: &'a str = self.line;
        if !escaped {
            return line.get(open + 1..close).map(std::borrow::Cow::Borrowed);
        }
        self.irregular += 1;
        let decoded: String = serde_json::from_str(line.get(open..=close)?).ok()?;
        Some(std::borrow::Cow::Owned(decoded))
    }

    /// Skips a string, checking it.
    fn skip_string(&mut self) -> Option<()> {
        let (open, close, escaped) = self.string_span()?;
        if escaped {
            serde_json::from_str::<serde::de::IgnoredAny>(self.line.get(open..=close)?).ok()?;
        }
        Some(())
    }

    /// Finds the string at the current position: where its quotes are and whether it
    /// holds escapes (raw control bytes make it the caller's to leave to serde_json).
    fn string_span(&mut self) -> Option<(usize, usize, bool)> {
        let open = self.pos;
        self.expect(b'"')?;
        // Eight bytes at a time to the first quote, backslash or control byte.
        let mut i = self.pos;
        while let Some(chunk) = self.bytes.get(i..i + 8)
            && let Ok(word) = <[u8; 8]>::try_from(chunk)
        {
            let mask = crate::json_out::escape_mask(u64::from_le_bytes(word));
            if mask != 0 {
                i += (mask.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        let mut escaped = false;
        loop {
            match *self.bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    i += 2;
                }
                // serde_json rejects raw control characters in strings.
                0..0x20 => return None,
                _ => i += 1,
            }
        }
        self.pos = i + 1;
        Some((open, i, escaped))
    }

    /// Reads one value; with `keep` false, only checks it and returns `Null`.
    pub(crate) fn value(&mut self, keep: bool) -> Option<Value> {
        match *self.bytes.get(self.pos)? {
            b'"' if keep => Some(Value::Str(self.string()?)),
            b'"' => {
                self.skip_string()?;
                Some(Value::Null)
            }
            b'{' => self.nested_object(keep),
            b'[' => self.array(keep),
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// Reads one value as [`Reader::value`] does, except that an array's items that are
    /// objects keep only the entries under `keys` (the others are checked and skipped).
    /// For a column the rule reads only as `arraymap(column, "@element" -> key...)`.
    pub(crate) fn projected_value(&mut self, keys: &[String]) -> Option<Value> {
        if self.bytes.get(self.pos) != Some(&b'[') {
            return self.value(true);
        }
        self.enter()?;
        self.pos += 1;
        let first = self.scratch.items.len();
        self.whitespace();
        if !self.eat(b']') {
            loop {
                self.whitespace();
                let value = if self.bytes.get(self.pos) == Some(&b'{') {
                    self.projected_object(keys)?
                } else {
                    self.value(true)?
                };
                self.scratch.items.push(value);
                self.whitespace();
                if self.eat(b',') {
                    continue;
                }
                self.expect(b']')?;
                break;
            }
        }
        self.depth -= 1;
        Some(Value::Array(Arc::new(
            self.scratch.items.drain(first..).collect(),
        )))
    }

    /// An object holding only its entries under `keys`: it is not the object's whole
    /// text, so it gets no raw text.
    fn projected_object(&mut self, keys: &[String]) -> Option<Value> {
        self.enter()?;
        self.pos += 1;
        let first = self.scratch.entries.len();
        self.whitespace();
        if !self.eat(b'}') {
            loop {
                self.whitespace();
                let key = self.string()?;
                self.whitespace();
                self.expect(b':')?;
                self.whitespace();
                if keys.iter().any(|k| k.as_str() == key.as_str()) {
                    let value = self.value(true)?;
                    self.scratch.entries.push((key, value));
                } else {
                    self.value(false)?;
                }
                self.whitespace();
                if self.eat(b',') {
                    continue;
                }
                self.expect(b'}')?;
                break;
            }
        }
        self.depth -= 1;
        let entries: Vec<(Text, Value)> = self.scratch.entries.drain(first..).collect();
        Some(Value::Object(Arc::new(Object::from_entries(entries))))
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Option<Value> {
        if self.bytes.get(self.pos..self.pos + word.len())? == word {
            self.pos += word.len();
            Some(value)
        } else {
            None
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    fn nested_object(&mut self, keep: bool) -> Option<Value> {
        self.enter()?;
        let (open, irregular) = (self.pos, self.irregular);
        self.pos += 1;
        let first = self.scratch.entries.len();
        self.whitespace();
        if !self.eat(b'}') {
            loop {
                self.whitespace();
                if !keep {
                    self.skip_string()?;
                    self.whitespace();
                    self.expect(b':')?;
                    self.whitespace();
                    self.value(false)?;
                } else {
                    let key = self.string()?;
                    self.whitespace();
                    self.expect(b':')?;
                    self.whitespace();
                    let value = self.value(true)?;
                    self.scratch.entries.push((key, value));
                }
                self.whitespace();
                if self.eat(b',') {
                    continue;
                }
                self.expect(b'}')?;
                break;
            }
        }
        self.depth -= 1;
        Some(if keep {
            let entries: Vec<(Text, Value)> = self.scratch.entries.drain(first..).collect();
            let count = entries.len();
            let object = Object::from_entries(entries);
            if object.len() != count {
                self.irregular += 1;
            }
            Value::Object(Arc::new(if self.irregular == irregular {
                object.with_raw(Text::at(self.line, open, self.pos, false))
            } else {
                object
            }))
        } else {
            Value::Null
        })
    }

    fn array(&mut self, keep: bool) -> Option<Value> {
        self.enter()?;
        self.pos += 1;
        let first = self.scratch.items.len();
        self.whitespace();
        if !self.eat(b']') {
            loop {
                self.whitespace();
                let value = self.value(keep)?;
                if keep {
                    self.scratch.items.push(value);
                }
                self.whitespace();
                if self.eat(b',') {
                    continue;
                }
                self.expect(b']')?;
                break;
            }
        }
        self.depth -= 1;
        Some(if keep {
            Value::Array(Arc::new(self.scratch.items.drain(first..).collect()))
        } else {
            Value::Null
        })
    }

    /// A number, checked against JSON's grammar. Integers of up to 18 digits are read
    /// here; any other number by serde_json, so that every value is the one it reads.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let negative = self.eat(b'-');
        let digits_start = self.pos;
        match self.bytes.get(self.pos)? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
                    self.pos += 1;
                }
            }
            _ => return None,
        }
        let digits_end = self.pos;
        let mut integral = true;
        if self.eat(b'.') {
            integral = false;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            integral = false;
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            self.digits()?;
        }
        // A digit straight after a leading zero ("01") is invalid JSON.
        if let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            return None;
        }
        let digits = self.bytes.get(digits_start..digits_end)?;
        if integral && digits.len() <= 18 {
            let magnitude = digits
                .iter()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            // serde_json reads "-0" as the float -0.0.
            if !(negative && magnitude == 0) {
                return Some(Value::Int(if negative { -magnitude } else { magnitude }));
            }
        }
        self.irregular += 1;
        let text = self.line.get(start..self.pos)?;
        let number: serde_json::Number = serde_json::from_str(text).ok()?;
        Some(number_value(&number))
    }

    fn digits(&mut self) -> Option<()> {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
        (self.pos > start).then_some(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;
    use serde::de::DeserializeSeed;

    use super::Reader;
    use crate::value::{Object, Text, Value, ValueSeed};

    /// The object as this reader reads it: (key, value) pairs in order, or `None`.
    fn read(line: &str) -> Option<Vec<(String, Value)>> {
        let shared: Arc<str> = Arc::from(line);
        let mut fields = Vec::new();
        let mut scratch = super::Scratch::default();
        Reader::new(&shared, &mut scratch).object(|key, r| {
            fields.push((key.to_owned(), r.value(true)?));
            Some(())
        })?;
        Some(fields)
    }

    /// The object as serde_json reads it, or `None` when it rejects the text.
    fn serde_read(line: &str) -> Option<Vec<(String, Value)>> {
        let shared: Arc<str> = Arc::from(line);
        let mut de = serde_json::Deserializer::from_str(line);
        let value = ValueSeed {
            shared: Some(&shared),
        }
        .deserialize(&mut de)
        .ok()?;
        de.end().ok()?;
        let Value::Object(object) = value else {
            return None;
        };
        Some(
            object
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    /// Every object that carries its raw text carries exactly its compact JSON.
    fn check_raw(value: &Value) -> Result<(), TestCaseError> {
        match value {
            Value::Object(object) => {
                let entries: Vec<(Text, Value)> =
                    object.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                if let Some(raw) = object.raw() {
                    let rebuilt = Value::Object(Arc::new(Object::from_entries(entries)));
                    let compact = rebuilt.json_text();
                    prop_assert_eq!(raw.as_str(), compact.as_str());
                }
                object.iter().try_for_each(|(_, v)| check_raw(v))
            }
            Value::Array(items) => items.iter().try_for_each(check_raw),
            _ => Ok(()),
        }
    }

    fn dedup(fields: Vec<(String, Value)>) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = Vec::new();
        for (k, v) in fields {
            match out.iter_mut().find(|(seen, _)| *seen == k) {
                Some(entry) => entry.1 = v,
                None => out.push((k, v)),
            }
        }
        out
    }

    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\"k\"".to_owned()),
            Just("\"a\\\"b\\u00e9\\n\"".to_owned()),
            Just("\"\\ud800\"".to_owned()),
            Just("\"\u{1}\"".to_owned()),
            Just("0".to_owned()),
            Just("-0".to_owned()),
            Just("01".to_owned()),
            Just("-".to_owned()),
            Just("1.".to_owned()),
            Just("1.5e3".to_owned()),
            Just("1E-2".to_owned()),
            Just("123456789012345678".to_owned()),
            Just("-9223372036854775808".to_owned()),
            Just("18446744073709551615".to_owned()),
            Just("1e400".to_owned()),
            Just("99999999999999999999999".to_owned()),
            Just("true".to_owned()),
            Just("nul".to_owned()),
            Just("null".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just(",".to_owned()),
            Just(":".to_owned()),
            Just(" ".to_owned()),
            Just("\t\r\n".to_owned()),
            Just("{\"a\":1,\"b\":[true,{\"c\":\"d\"}]}".to_owned()),
            Just("{\"a\":1,\"a\":2}".to_owned()),
            Just("{\"a\": 1}".to_owned()),
            Just("{\"e\":\"\\u0041\"}".to_owned()),
            Just("{\"f\":1.0}".to_owned()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the text, this reader either gives up or reads what serde_json reads;
        /// and it never accepts text serde_json rejects.
        #[test]
        fn agrees_with_serde_json(parts in proptest::collection::vec(fragment(), 0..14)) {
            let line = format!("{{\"x\":{}}}", parts.concat());
            if let Some(fields) = read(&line) {
                for (_, v) in &fields {
                    check_raw(v)?;
                }
                let expected = serde_read(&line);
                prop_assert!(expected.is_some(), "accepted what serde_json rejects: {}", line);
                prop_assert_eq!(Some(dedup(fields)), expected, "line {}", line);
            }
        }

        /// Well-formed objects are read, not left to serde_json.
        #[test]
        fn reads_well_formed_objects(v in proptest::collection::btree_map("[a-z\"\\\\é]{0,4}", proptest::option::of(("[ -~é]{0,8}", any::<i64>(), any::<f64>(), any::<bool>())), 0..6)) {
            let json = serde_json::json!(v);
            let line = json.to_string();
            let fields = read(&line);
            prop_assert!(fields.is_some(), "gave up on {}", line);
            prop_assert_eq!(fields.map(dedup), serde_read(&line));
        }
    }
}
