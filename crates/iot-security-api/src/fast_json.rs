//! The fast path for list pages: a checking JSON reader that fills the records' typed
//! fields straight from the text, for the common shapes (keys and strings without
//! escapes, small non-negative integers, literals); every other value is handed, as its
//! exact slice of the text, to serde_json, so the values are serde_json's.
//!
//! It never reports errors of its own: on anything it does not expect it gives up, and
//! the caller decodes the whole page with serde_json, which then either succeeds or
//! reports the error with its position. A law test holds both paths to the same result.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::json::Json;
use crate::lenient::Lenient;
use crate::small_string::{INLINE_CAPACITY, SmallString};

/// The most records reserved at once for a list (a full API page and a margin).
const MAX_RESERVED_RECORDS: usize = 1024;

/// Nesting deeper than this gives up, well inside serde_json's own limit (128).
const MAX_DEPTH: usize = 100;

/// One value read: what the typed fields take directly, and its text.
pub(crate) struct Scanned<'de> {
    /// The value, when it is of a shape read directly.
    pub(crate) token: Token<'de>,
    /// The value's exact text (checked JSON).
    pub(crate) raw: &'de str,
}

/// The shapes of value the fast path reads itself.
pub(crate) enum Token<'de> {
    /// A string without escapes.
    Str(&'de str),
    /// A non-negative integer of at most 18 digits.
    U64(u64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// Anything else (escaped strings, other numbers, lists, objects): decoded from
    /// `raw` by serde_json.
    Other,
}

/// A record type the fast path can read.
pub(crate) trait FastRecord: Default + Sized {
    /// Where a key's value goes: one of the typed fields, or `extra`.
    type Slot: Copy;

    /// The slot of a key (a wire name, an alias, or anything else for `extra`).
    fn slot_of(key: &str) -> Self::Slot;

    /// Reads one record object into `self` (a default record), or gives up. `keys`
    /// remembers the keys met at each position of the previous records of the page.
    fn read_fast<'de>(
        &mut self,
        reader: &mut Reader<'de>,
        keys: &mut KeyCache<'de, Self::Slot>,
    ) -> Option<()>;
}

/// The keys of the records read so far, by position in their object, with their slots.
/// The records of a page nearly always send the same keys in the same order, so a key
/// is most often recognised by comparing its bytes with the one remembered at its
/// position, without scanning it and without looking its name up.
pub(crate) struct KeyCache<'de, S> {
    keys: Vec<RememberedKey<'de, S>>,
}

/// A key met at one position of an object.
struct RememberedKey<'de, S> {
    /// The text from the end of the previous value (or the `{`) to the `:` after the key,
    /// both included: whitespace, the `,` and the key in its quotes. It was checked to be
    /// exactly that, so the same bytes at the same place are the same key.
    lead: &'de [u8],
    key: &'de str,
    slot: S,
}

impl<S> KeyCache<'_, S> {
    pub(crate) fn new() -> Self {
        Self { keys: Vec::new() }
    }
}

/// A list page read on the fast path, with the same fields as serde's.
pub(crate) struct FastPage<R> {
    pub(crate) devices: Option<Vec<R>>,
    pub(crate) items: Option<Vec<R>>,
    pub(crate) total: Option<Value>,
    pub(crate) device_tags: Option<HashMap<String, Json>>,
}

/// Reads a list page, or `None` when the fast path gives up.
pub(crate) fn page<R: FastRecord>(text: &str) -> Option<FastPage<R>> {
    let mut reader = Reader { text, position: 0 };
    let mut page = FastPage {
        devices: None,
        items: None,
        total: None,
        device_tags: None,
    };
    let mut seen = [false; 4];
    reader.begin_object()?;
    let mut first = true;
    while let Some(key) = reader.next_key(&mut first)? {
        // A repeated envelope key is an error for serde's decoder: leave it to it.
        let slot = match key {
            "devices" => 0,
            "items" => 1,
            "total" => 2,
            "deviceTags" => 3,
            _ => {
                reader.value()?;
                continue;
            }
        };
        if std::mem::replace(seen.get_mut(slot)?, true) {
            return None;
        }
        match slot {
            0 => page.devices = reader.list()?,
            1 => page.items = reader.list()?,
            2 => page.total = reader.delegate()?,
            _ => page.device_tags = reader.delegate()?,
        }
    }
    reader.skip_whitespace();
    (reader.position == text.len()).then_some(page)
}

/// A position in the text of a page.
pub(crate) struct Reader<'de> {
    text: &'de str,
    position: usize,
}

/// The high bit set in each byte of `word` that is `"`, `\` or a control character
/// (exact for the lowest such byte, which is all that is used).
fn special_bytes(word: u64) -> u64 {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH_BITS: u64 = ONES << 7;
    let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGH_BITS;
    let quotes = zero_bytes(word ^ (ONES * u64::from(b'"')));
    let backslashes = zero_bytes(word ^ (ONES * u64::from(b'\\')));
    let controls = word.wrapping_sub(ONES * 0x20) & !word & HIGH_BITS;
    quotes | backslashes | controls
}

/// The 8 bytes at `at` as a little-endian word (0 past the end).
#[inline(always)]
fn word(bytes: &[u8], at: usize) -> u64 {
    bytes
        .get(at..at + 8)
        .and_then(|word| word.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// Whether two byte strings of the same length are equal, comparing them a word at a
/// time with overlapping loads (no call to `memcmp`, which costs more than the
/// comparison for the short keys of a record).
#[inline(always)]
fn same_short_bytes(left: &[u8], right: &[u8]) -> bool {
    fn half_word(bytes: &[u8], at: usize) -> u32 {
        bytes
            .get(at..at + 4)
            .and_then(|word| word.try_into().ok())
            .map_or(0, u32::from_le_bytes)
    }
    let len = left.len();
    if len != right.len() {
        return false;
    }
    match len {
        0..4 => left == right,
        4..8 => {
            half_word(left, 0) == half_word(right, 0)
                && half_word(left, len - 4) == half_word(right, len - 4)
        }
        8..=16 => word(left, 0) == word(right, 0) && word(left, len - 8) == word(right, len - 8),
        _ => {
            let mut at = 0;
            while at + 8 < len {
                if word(left, at) != word(right, at) {
                    return false;
                }
                at += 8;
            }
            word(left, len - 8) == word(right, len - 8)
        }
    }
}

impl<'de> Reader<'de> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.text.as_bytes().get(at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.byte(self.position) {
            self.position += 1;
        }
    }

    /// The next non-whitespace byte, not consumed.
    fn next_token(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.byte(self.position)
    }

    fn begin_object(&mut self) -> Option<()> {
        (self.next_token()? == b'{').then(|| self.position += 1)
    }

    /// The next key of the object being read (its `:` consumed), `Some(None)` at its end
    /// (the `}` consumed), `None` to give up (also for keys with escapes).
    pub(crate) fn next_key(&mut self, first: &mut bool) -> Option<Option<&'de str>> {
        let token = self.next_token()?;
        if token == b'}' {
            // `{}` ends at once; after an entry `}` ends too.
            self.position += 1;
            return Some(None);
        }
        if !std::mem::replace(first, false) {
            if token != b',' {
                return None;
            }
            self.position += 1;
            self.next_token()?;
        }
        if self.byte(self.position)? != b'"' {
            return None;
        }
        let key = self.plain_string()?;
        if self.next_token()? != b':' {
            return None;
        }
        self.position += 1;
        Some(Some(key))
    }

    /// Reads the record object at the current position with `read_entry` called per key
    /// with the key's slot (`slot_of`, or the slot remembered in `keys` when the key is
    /// the one met at the same position before).
    #[inline(always)]
    pub(crate) fn record<S: Copy>(
        &mut self,
        keys: &mut KeyCache<'de, S>,
        slot_of: impl Fn(&str) -> S,
        mut read_entry: impl FnMut(&mut Self, &'de str, S) -> Option<()>,
    ) -> Option<()> {
        self.begin_object()?;
        let mut index = 0;
        loop {
            let lead_start = self.position;
            let (key, slot) = match keys.keys.get(index) {
                Some(remembered) if self.at(remembered.lead) => {
                    self.position += remembered.lead.len();
                    (remembered.key, remembered.slot)
                }
                _ => {
                    let Some(key) = self.next_key(&mut (index == 0))? else {
                        return Some(());
                    };
                    let slot = slot_of(key);
                    let remembered = RememberedKey {
                        lead: self.text.as_bytes().get(lead_start..self.position)?,
                        key,
                        slot,
                    };
                    match keys.keys.get_mut(index) {
                        Some(entry) => *entry = remembered,
                        None => keys.keys.push(remembered),
                    }
                    (key, slot)
                }
            };
            read_entry(self, key, slot)?;
            index += 1;
        }
    }

    /// Whether the text at the current position starts with `bytes`.
    #[inline(always)]
    fn at(&self, bytes: &[u8]) -> bool {
        self.text
            .as_bytes()
            .get(self.position..self.position + bytes.len())
            .is_some_and(|text| same_short_bytes(text, bytes))
    }

    /// The string at the current position (after whitespace) when it has no escapes,
    /// consumed, as a [`SmallString`]: a short one is found and copied a word at a time;
    /// otherwise `None` with nothing consumed.
    #[inline(always)]
    pub(crate) fn small_string_value(&mut self) -> Option<SmallString> {
        if self.next_token()? != b'"' {
            return None;
        }
        let start = self.position + 1;
        let Some(window) = self.text.as_bytes().get(start..start + 24) else {
            return self.plain_string().map(SmallString::from);
        };
        let words = [word(window, 0), word(window, 8), word(window, 16)];
        let Some((index, special)) = words
            .iter()
            .map(|word| special_bytes(*word))
            .enumerate()
            .find(|(_, special)| *special != 0)
        else {
            return self.plain_string().map(SmallString::from);
        };
        let len = index * 8 + usize::try_from(special.trailing_zeros() / 8).ok()?;
        if window.get(len) != Some(&b'"') {
            // An escape or a control character: the general way.
            return None;
        }
        if len > INLINE_CAPACITY {
            return self.plain_string().map(SmallString::from);
        }
        self.position = start + len + 1;
        // The bytes before the quote, the rest zeroed.
        let mut inline = [0u8; 24];
        for (at, word) in words.into_iter().enumerate() {
            let kept = len.saturating_sub(at * 8).min(8);
            let mask = if kept == 8 {
                u64::MAX
            } else {
                (1u64 << (kept * 8)) - 1
            };
            if let Some(chunk) = inline.get_mut(at * 8..at * 8 + 8) {
                chunk.copy_from_slice(&(word & mask).to_le_bytes());
            }
        }
        SmallString::from_inline_bytes(&inline, len)
    }

    /// The string at the current position (after whitespace) when it is one without
    /// escapes, consumed; otherwise `None` with nothing consumed.
    #[inline(always)]
    pub(crate) fn plain_string_value(&mut self) -> Option<&'de str> {
        if self.next_token()? != b'"' {
            return None;
        }
        self.plain_string()
    }

    /// The number at the current position (after whitespace) when it is a plain
    /// non-negative integer of at most 18 digits (its digits are then also its value's
    /// canonical text), consumed; otherwise `None` with nothing consumed.
    #[inline(always)]
    pub(crate) fn plain_integer_value(&mut self) -> Option<&'de str> {
        self.skip_whitespace();
        let bytes = self.text.as_bytes();
        let start = self.position;
        let mut end = start;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let digits = end - start;
        let plain = (1..=18).contains(&digits)
            && (digits == 1 || bytes.get(start) != Some(&b'0'))
            && !matches!(bytes.get(end), Some(b'.' | b'e' | b'E'));
        if !plain {
            return None;
        }
        let text = self.text.get(start..end)?;
        self.position = end;
        Some(text)
    }

    /// `true` or `false` at the current position (after whitespace), consumed;
    /// otherwise `None` with nothing consumed.
    #[inline(always)]
    pub(crate) fn flag_value(&mut self) -> Option<bool> {
        let flag = match self.next_token()? {
            b't' => true,
            b'f' => false,
            _ => return None,
        };
        self.literal(if flag { "true" } else { "false" })?;
        Some(flag)
    }

    /// The position in the text (to go back to after a failed attempt).
    pub(crate) fn position(&self) -> usize {
        self.position
    }

    /// Goes back to a position taken with [`Self::position`].
    pub(crate) fn rewind(&mut self, position: usize) {
        self.position = position;
    }

    /// A list of records, or `null`.
    fn list<R: FastRecord>(&mut self) -> Option<Option<Vec<R>>> {
        match self.next_token()? {
            b'n' => {
                self.literal("null")?;
                Some(None)
            }
            b'[' => {
                self.position += 1;
                let mut records: Vec<R> = Vec::new();
                if self.next_token()? == b']' {
                    self.position += 1;
                    return Some(Some(records));
                }
                let mut keys = KeyCache::new();
                loop {
                    // Read in place: a record is large, and moving it costs a copy.
                    let start = self.position;
                    records.push(R::default());
                    records.last_mut()?.read_fast(self, &mut keys)?;
                    if records.len() == 1 {
                        // Room for the page at the first record's size, with a margin.
                        let size = (self.position - start).max(1);
                        // (At most a full API page: a small first record must not make
                        // a long text reserve room for records it may not hold.)
                        let remaining = self.text.len().saturating_sub(self.position);
                        let estimate = (remaining / size + 1).saturating_mul(9) / 8;
                        records.reserve(estimate.min(MAX_RESERVED_RECORDS));
                    }
                    match self.next_token()? {
                        b',' => self.position += 1,
                        b']' => {
                            self.position += 1;
                            return Some(Some(records));
                        }
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }

    fn literal(&mut self, literal: &str) -> Option<()> {
        let end = self.position + literal.len();
        (self.text.get(self.position..end)? == literal).then(|| self.position = end)
    }

    /// The string at the current `"` (consumed), when it has no escapes and no control
    /// characters; `None` leaves the position alone.
    fn plain_string(&mut self) -> Option<&'de str> {
        let bytes = self.text.as_bytes();
        let start = self.position + 1;
        let mut end = start;
        // Eight bytes at a time while eight remain, then byte by byte.
        while let Some(chunk) = bytes.get(end..end + 8) {
            let special = special_bytes(u64::from_le_bytes(chunk.try_into().ok()?));
            if special != 0 {
                end += usize::try_from(special.trailing_zeros() / 8).ok()?;
                break;
            }
            end += 8;
        }
        loop {
            match self.byte(end)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => end += 1,
            }
        }
        let text = self.text.get(start..end)?;
        self.position = end + 1;
        Some(text)
    }

    /// Checks the string at the current `"` with its escapes, and consumes it.
    fn escaped_string(&mut self) -> Option<()> {
        let mut at = self.position + 1;
        loop {
            match self.byte(at)? {
                b'"' => break,
                0..=0x1f => return None,
                b'\\' => {
                    at += 1;
                    match self.byte(at)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => at += 1,
                        b'u' => {
                            let hex = self.text.as_bytes().get(at + 1..at + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            at += 5;
                        }
                        _ => return None,
                    }
                }
                _ => at += 1,
            }
        }
        self.position = at + 1;
        Some(())
    }

    /// Checks the number at the current position against JSON's grammar and consumes
    /// it: the value when it is a plain non-negative integer of at most 18 digits.
    fn number(&mut self) -> Option<Option<u64>> {
        let digits = |reader: &Self, mut at: usize| {
            let start = at;
            while reader.byte(at).is_some_and(|byte| byte.is_ascii_digit()) {
                at += 1;
            }
            (at > start).then_some(at)
        };
        let start = self.position;
        let mut at = start;
        let negative = self.byte(at) == Some(b'-');
        if negative {
            at += 1;
        }
        let integer_start = at;
        at = digits(self, at)?;
        if self.byte(integer_start) == Some(b'0') && at - integer_start > 1 {
            return None;
        }
        let integer_end = at;
        if self.byte(at) == Some(b'.') {
            at = digits(self, at + 1)?;
        }
        if let Some(b'e' | b'E') = self.byte(at) {
            at += 1;
            if let Some(b'+' | b'-') = self.byte(at) {
                at += 1;
            }
            at = digits(self, at)?;
        }
        self.position = at;
        let plain = !negative && at == integer_end && integer_end - integer_start <= 18;
        if !plain {
            return Some(None);
        }
        let mut number = 0u64;
        for digit in self.text.as_bytes().get(integer_start..integer_end)? {
            number = number * 10 + u64::from(digit - b'0');
        }
        Some(Some(number))
    }

    /// Decodes the next value with serde_json, checking and consuming it.
    fn delegate<T: serde::de::DeserializeOwned>(&mut self) -> Option<T> {
        serde_json::from_str(self.value()?.raw).ok()
    }

    /// Reads and checks the next value.
    pub(crate) fn value(&mut self) -> Option<Scanned<'de>> {
        self.skip_whitespace();
        let start = self.position;
        let token = match self.byte(start)? {
            b'"' => match self.plain_string() {
                Some(text) => Token::Str(text),
                None => {
                    self.escaped_string()?;
                    Token::Other
                }
            },
            b'-' | b'0'..=b'9' => match self.number()? {
                Some(number) => Token::U64(number),
                None => Token::Other,
            },
            b't' => {
                self.literal("true")?;
                Token::Bool(true)
            }
            b'f' => {
                self.literal("false")?;
                Token::Bool(false)
            }
            b'n' => {
                self.literal("null")?;
                Token::Null
            }
            b'[' | b'{' => {
                self.skip_value(0)?;
                Token::Other
            }
            _ => return None,
        };
        let raw = self.text.get(start..self.position)?;
        Some(Scanned { token, raw })
    }

    /// Checks and consumes the value at the current position (after whitespace), at
    /// nesting `depth`.
    fn skip_value(&mut self, depth: usize) -> Option<()> {
        match self.next_token()? {
            b'"' => {
                if self.plain_string().is_none() {
                    self.escaped_string()?;
                }
            }
            b'-' | b'0'..=b'9' => {
                self.number()?;
            }
            b't' => self.literal("true")?,
            b'f' => self.literal("false")?,
            b'n' => self.literal("null")?,
            b'[' => self.composite(depth, b']', Self::skip_value)?,
            b'{' => self.composite(depth, b'}', |reader, depth| {
                if reader.next_token()? != b'"' {
                    return None;
                }
                reader.skip_value(depth)?;
                if reader.next_token()? != b':' {
                    return None;
                }
                reader.position += 1;
                reader.skip_value(depth)
            })?,
            _ => return None,
        }
        Some(())
    }

    /// Checks a list or an object at the current bracket, each entry with `entry`.
    fn composite(
        &mut self,
        depth: usize,
        close: u8,
        mut entry: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        self.position += 1;
        if self.next_token()? == close {
            self.position += 1;
            return Some(());
        }
        loop {
            entry(self, depth + 1)?;
            match self.next_token()? {
                b',' => self.position += 1,
                byte if byte == close => {
                    self.position += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

/// Reads the value of a typed field as serde's decoder does ([`crate::lenient::put`]):
/// into its slot when it fits and the slot is free, otherwise under its own key in
/// `extra`. (The types' [`Lenient::read_fast`] read their common shapes first.)
pub(crate) fn read_field<T: Lenient>(
    reader: &mut Reader<'_>,
    slot: &mut Option<T>,
    extra: &mut Map<String, Value>,
    key: &str,
) -> Option<()> {
    let scanned = reader.value()?;
    let outcome = if slot.is_some() {
        Err(serde_json::from_str(scanned.raw).ok()?)
    } else {
        match T::from_token(&scanned) {
            Some(outcome) => outcome,
            None => {
                let mut json = serde_json::Deserializer::from_str(scanned.raw);
                let outcome = T::deserialize_lenient(&mut json).ok()?;
                json.end().ok()?;
                outcome
            }
        }
    };
    match outcome {
        Ok(typed) => *slot = Some(typed),
        Err(value) => {
            extra.insert(key.to_owned(), value);
        }
    }
    Some(())
}

/// Reads the value of a field the record does not type, into `extra`.
pub(crate) fn read_extra(
    reader: &mut Reader<'_>,
    extra: &mut Map<String, Value>,
    key: &str,
) -> Option<()> {
    let scanned = reader.value()?;
    let value = match scanned.token {
        Token::Str(text) => Value::String(text.to_owned()),
        Token::U64(number) => Value::from(number),
        Token::Bool(flag) => Value::Bool(flag),
        Token::Null => Value::Null,
        Token::Other => serde_json::from_str(scanned.raw).ok()?,
    };
    extra.insert(key.to_owned(), value);
    Some(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::page;
    use crate::{Alert, Device};

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,12}",
            "\\PC{0,8}",
            // Escapes and control characters, which serde_json decodes for the fast path.
            "[a\"\\\\/\u{1}\u{1f}\n\t\u{2028}é東]{0,6}",
        ]
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (0u64..1000).prop_map(Value::from),
            // Numbers as strings (read as integers by integer fields).
            "[ 0-9]{1,4}|-?[0-9]{1,20}".prop_map(Value::from),
            (-1e12f64..1e12).prop_map(Value::from),
            text().prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(3, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(text(), inner, 0..3)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    fn record() -> impl Strategy<Value = Map<String, Value>> {
        let known: Vec<&'static str> = Device::KNOWN_FIELDS
            .iter()
            .chain(Alert::KNOWN_FIELDS)
            .chain(&["ip", "confidence", "trafficRestriced", "deviceId", "msg"])
            .copied()
            .collect();
        let key = prop_oneof![
            prop::sample::select(known).prop_map(String::from),
            "[A-Za-z_/]{1,10}",
        ];
        prop::collection::vec((key, value()), 0..20).prop_map(|entries| {
            // A typed field twice (an alias, a repeated key) must land as serde puts it.
            let mut map = Map::new();
            for (key, value) in entries {
                map.insert(key, value);
            }
            map
        })
    }

    /// A device page with the records written compactly or pretty-printed.
    fn page_text(records: &[Map<String, Value>], pretty: bool) -> (String, String) {
        let list = if pretty {
            serde_json::to_string_pretty(records).unwrap()
        } else {
            serde_json::to_string(records).unwrap()
        };
        let page = format!(
            "{{\"ver\": \"v4.0\", \"total\": {}, \"devices\": {list} }}\n",
            records.len()
        );
        (page, list)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The fast path reads every valid page itself, and reads it as serde does.
        #[test]
        fn the_fast_path_reads_pages_as_serde_does(
            distinct in prop::collection::vec(record(), 1..4),
            repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
            pretty in any::<bool>(),
        ) {
            // Records sent again in the page: their keys come in a remembered order.
            let records: Vec<_> = distinct
                .iter()
                .cloned()
                .chain(repeats.iter().map(|pick| pick.get(&distinct).clone()))
                .collect();
            let (text, list) = page_text(&records, pretty);
            let fast = page::<Device>(&text).expect("a valid page stays on the fast path");
            let serde: Vec<Device> = serde_json::from_str(&list).unwrap();
            prop_assert_eq!(fast.devices, Some(serde));
            prop_assert_eq!(fast.total, Some(Value::from(records.len())));
            let alerts = page::<Alert>(&text).expect("a valid page stays on the fast path");
            let serde: Vec<Alert> = serde_json::from_str(&list).unwrap();
            prop_assert_eq!(alerts.devices, Some(serde));
        }

        /// A damaged page is never read by the fast path when serde refuses it.
        #[test]
        fn the_fast_path_gives_up_on_what_serde_refuses(
            records in prop::collection::vec(record(), 1..3),
            cut in any::<prop::sample::Index>(),
            byte in prop::sample::select(&[b'"', b',', b'{', b'}', b'[', b']', b':', b'\\', b'0', b'-', b'.', b'e', b'n', b' ', 1][..]),
            replace in any::<bool>(),
        ) {
            let (text, _) = page_text(&records, false);
            let mut damaged = text.into_bytes();
            let at = cut.index(damaged.len());
            if replace {
                damaged[at] = byte;
            } else {
                damaged.insert(at, byte);
            }
            let Ok(damaged) = String::from_utf8(damaged) else { return Ok(()) };
            let serde = serde_json::from_str::<crate::page::RawPageForTests>(&damaged);
            match (page::<Device>(&damaged), serde) {
                (Some(_), Err(error)) => prop_assert!(false, "fast path read what serde refuses ({error}): {damaged}"),
                (Some(fast), Ok(serde)) => prop_assert_eq!(fast.devices, serde.devices),
                (None, _) => {}
            }
        }
    }

    /// Values the fast path checks itself, without serde_json: in a list field (kept as
    /// raw text) and in an unknown field.
    #[test]
    fn the_fast_path_refuses_what_json_refuses() {
        let invalid = [
            "\"a\u{1}\\n\"",
            "\"\\x\"",
            "\"\\u12G4\"",
            "\"\\u12\"",
            "01",
            "1.",
            "-",
            "1e",
            "1e+",
            "+1",
            ".5",
            "-01",
            "[1,]",
            "[,1]",
            "[1 2]",
            "{\"a\" 1}",
            "{a: 1}",
            "{\"a\": 1,}",
            "tru",
            "nul",
            "[",
            "{\"a\": [}",
            "\"open",
        ];
        for value in invalid {
            for field in ["tagIdList", "unknown"] {
                let text = format!("{{\"devices\": [{{\"{field}\": [{value}]}}]}}");
                assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
                assert!(page::<Device>(&text).is_none(), "{text}");
            }
        }
        let valid = [
            "\"a\\n\\u00e9\\/\"",
            "0",
            "-0",
            "1.5e-3",
            "-12E+2",
            "[]",
            "{}",
            "[[],{}]",
            "{\"a\":{\"b\":[null,true]}}",
        ];
        for value in valid {
            let text =
                format!("{{\"devices\": [{{\"tagIdList\": [{value}], \"unknown\": {value}}}]}}");
            let fast = page::<Device>(&text).expect(&text).devices.unwrap();
            let serde: Value = serde_json::from_str(&text).unwrap();
            let serde: Vec<Device> = serde_json::from_value(serde["devices"].clone()).unwrap();
            assert_eq!(fast, serde, "{text}");
        }
    }

    /// A key remembered at a position is a prefix of, or longer than, the key met there
    /// in the next record; an alias follows its field's wire name; a key turns up at
    /// another position.
    #[test]
    fn remembered_keys_are_matched_whole() {
        let list = r#"[{"ip":"1","x":1,"vlan":7},{"ip_address":"2","x":"a","vlan":"8"},
            {"i":3,"ip":"4"},{"ip":5,"x":[1],"ip_address":"6"},{"vlan":9,"ip":"7","x":{}}]"#;
        let text = format!("{{\"devices\":{list}}}");
        let fast = page::<Device>(&text).unwrap().devices.unwrap();
        let serde: Vec<Device> = serde_json::from_str(list).unwrap();
        assert_eq!(fast, serde);
        assert_eq!(fast[3].field("ip_address").unwrap().to_string(), "6");
    }

    /// Texts of every length around the inline limit and the 24-byte window, ASCII and
    /// not, with escapes, at the end of the page or followed by more.
    #[test]
    fn texts_are_read_whole_at_every_length() {
        for len in 0..=30 {
            for text in [
                "x".repeat(len),
                "é".repeat(len / 2) + &"y".repeat(len % 2),
                "a".repeat(len) + "\\n",
                "\\\"".to_owned() + &"b".repeat(len),
            ] {
                for tail in ["", r#","unknown":"0123456789012345678901234567890""#] {
                    let list = format!(r#"[{{"hostname":"{text}","vlan":"{text}"{tail}}}]"#);
                    let page_text = format!(r#"{{"devices":{list}}}"#);
                    let fast = page::<Device>(&page_text).expect(&page_text).devices;
                    let serde: Vec<Device> = serde_json::from_str(&list).unwrap();
                    assert_eq!(fast, Some(serde), "{page_text}");
                }
            }
        }
    }

    #[test]
    fn escaped_keys_repeated_envelope_keys_and_deep_nesting_go_to_serde() {
        assert!(page::<Device>(r#"{"devices": [{"host\u006eame": "a"}]}"#).is_none());
        assert!(page::<Device>(r#"{"devices": [], "devices": []}"#).is_none());
        let deep = format!(
            "{{\"devices\": [{{\"x\": {}{}}}]}}",
            "[".repeat(120),
            "]".repeat(120)
        );
        assert!(page::<Device>(&deep).is_none());
        assert!(page::<Device>(r#"{"devices": [{"x": [[1]]}]}"#).is_some());
    }
}
