//! Reads one finding object straight from the page text in a single validating pass:
//! the typed fields come out (as [`FindingFields`], exactly what its serde reading
//! gives) together with where the object ends, so its text is known without a
//! second scan.
//!
//! Acceptance follows serde_json's: strings may not hold control characters and
//! their escapes must be well formed; keys and typed strings with escapes are
//! decoded by serde_json itself (which also refuses lone surrogates there); numbers
//! follow JSON's grammar, and typed numbers are read by serde_json. The one
//! difference: nesting deeper than [`MAX_DEPTH`] is refused.

use std::borrow::Cow;

use serde::de::Error as _;

use crate::finding::{AssetFields, DetailsFields, FindingFields, LightFields};
use crate::lenient::{LenientBool, LenientF64, LenientObject, LenientStr, LenientVec};

/// The deepest nesting of arrays and objects read.
pub(crate) const MAX_DEPTH: u32 = 128;

/// Reads the finding object at the start of `text` (no leading whitespace); returns
/// its fields and its length in bytes.
///
/// # Errors
/// When `text` does not start with a JSON object, or a typed field is refused as
/// serde_json refuses it (a duplicate typed field, a string with a lone surrogate, a
/// number out of range).
pub(crate) fn read_finding(text: &str) -> Result<(FindingFields<'_>, usize), serde_json::Error> {
    let mut reader = Reader { text, at: 0 };
    if reader.peek() != Some(b'{') {
        return Err(reader.error("expected a JSON object"));
    }
    let fields = reader.finding()?;
    Ok((fields, reader.at))
}

/// Reads the finding object at the start of `text` (no leading whitespace) only as
/// far as its light fields (every other value is checked and skipped); returns them
/// and the object's length in bytes.
///
/// # Errors
/// When `text` does not start with a JSON object, or a light field is refused as
/// serde_json refuses it (see [`read_finding`]).
pub(crate) fn read_light_finding(
    text: &str,
) -> Result<(LightFields<'_>, usize), serde_json::Error> {
    let mut reader = Reader { text, at: 0 };
    if reader.peek() != Some(b'{') {
        return Err(reader.error("expected a JSON object"));
    }
    let fields = reader.light_finding()?;
    Ok((fields, reader.at))
}

/// The index of the first `"`, `\\` or control character in `bytes` from `at`.
#[inline(always)]
fn find_special(bytes: &[u8], mut at: usize) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    // Eight bytes at a time: a byte's high bit in `found` marks a match, and the
    // lowest marked byte is always a true one (borrows only run upwards).
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0_u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = ((quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash)
            | (word.wrapping_sub(ONES * 0x20) & !word))
            & HIGH;
        if found != 0 {
            return Some(at + usize::try_from(found.trailing_zeros() / 8).unwrap_or(0));
        }
        at += 8;
    }
    bytes
        .get(at..)?
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
        .map(|found| at + found)
}

/// Exact powers of ten (every one up to 1e22 is a double), as serde_json divides by.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A number token (valid JSON) of the common forms, `7`, `7.4`, `-0.25`,
/// `0.3333333333333333`, read without serde_json, or `None` for any other. serde_json
/// reads such a number as its digits (an integer) over a power of ten; below 2^53 the
/// digits are an exact double, so the one division here gives the same double.
fn short_decimal(token: &str) -> Option<f64> {
    const EXACT: u64 = 1 << 53;
    let (negative, unsigned) = match token.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, token),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let fraction_digits = fraction.unwrap_or_default();
    // A negative integer is read by serde_json as an i64 (`-0` as 0): left to it. At
    // most 19 digits cannot overflow a u64.
    if (negative && fraction.is_none()) || whole.len() + fraction_digits.len() > 19 {
        return None;
    }
    let mut digits: u64 = 0;
    for byte in whole.bytes().chain(fraction_digits.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        digits = digits * 10 + u64::from(byte - b'0');
    }
    if digits >= EXACT {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // below 2^53: exact
    let value = digits as f64 / POWERS_OF_TEN.get(fraction_digits.len())?;
    Some(if negative { -value } else { value })
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

/// Bit flags of typed fields already read, to refuse duplicates as serde does.
struct Seen(u32);

impl Seen {
    fn mark(&mut self, bit: u32, name: &'static str) -> Result<(), serde_json::Error> {
        if self.0 & (1 << bit) != 0 {
            return Err(serde_json::Error::duplicate_field(name));
        }
        self.0 |= 1 << bit;
        Ok(())
    }
}

impl<'a> Reader<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[cold]
    #[inline(never)]
    fn error(&self, what: &str) -> serde_json::Error {
        serde_json::Error::custom(format!("{what} at byte {}", self.at))
    }

    /// The next byte after whitespace, not consumed.
    #[inline(always)]
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        match bytes.get(self.at) {
            // Every token starts above the space: one test in compact JSON.
            Some(&byte) if byte > b' ' => Some(byte),
            _ => {
                while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(self.at) {
                    self.at += 1;
                }
                bytes.get(self.at).copied()
            }
        }
    }

    fn eat(&mut self, byte: u8, what: &str) -> Result<(), serde_json::Error> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    /// At a `"`: reads the string token; returns the index of its closing quote and
    /// whether it holds escapes.
    #[inline(always)]
    fn string_token(&mut self) -> Result<(usize, bool), serde_json::Error> {
        // Most strings hold no escape: their first special byte is the closing quote.
        let bytes = self.bytes();
        if let Some(end) = find_special(bytes, self.at + 1)
            && bytes.get(end) == Some(&b'"')
        {
            self.at = end + 1;
            return Ok((end, false));
        }
        self.escaped_string_token()
    }

    /// [`Reader::string_token`] for a string with escapes (or a bad one).
    #[inline(never)]
    fn escaped_string_token(&mut self) -> Result<(usize, bool), serde_json::Error> {
        let bytes = self.bytes();
        let mut from = self.at + 1;
        let mut escaped = false;
        loop {
            let Some(end) = find_special(bytes, from) else {
                self.at = bytes.len();
                return Err(self.error("EOF while parsing a string"));
            };
            match bytes.get(end) {
                Some(b'"') => {
                    self.at = end + 1;
                    return Ok((end, escaped));
                }
                Some(b'\\') => {}
                _ => {
                    self.at = end;
                    return Err(self.error("control character while parsing a string"));
                }
            }
            escaped = true;
            from = match bytes.get(end + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => end + 2,
                Some(b'u') => {
                    let hex = bytes.get(end + 2..end + 6).unwrap_or_default();
                    if hex.len() != 4 || !hex.iter().all(u8::is_ascii_hexdigit) {
                        self.at = end;
                        return Err(self.error("invalid \\u escape"));
                    }
                    end + 6
                }
                _ => {
                    self.at = end;
                    return Err(self.error("invalid escape"));
                }
            };
        }
    }

    /// At a `"`: the string's value, borrowed from the text unless it has escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, serde_json::Error> {
        let start = self.at;
        let (end, escaped) = self.string_token()?;
        if escaped {
            let token = self.text.get(start..=end).unwrap_or_default();
            serde_json::from_str::<String>(token).map(Cow::Owned)
        } else {
            Ok(Cow::Borrowed(
                self.text.get(start + 1..end).unwrap_or_default(),
            ))
        }
    }

    /// At a `"`: a key's bytes, borrowed from the text unless it has escapes (compared
    /// as bytes, which spares the UTF-8 boundary checks of a `str`).
    #[inline(always)]
    fn key(&mut self) -> Result<Cow<'a, [u8]>, serde_json::Error> {
        let start = self.at;
        let (end, escaped) = self.string_token()?;
        let text = self.bytes();
        if escaped {
            let token = self.text.get(start..=end).unwrap_or_default();
            serde_json::from_str::<String>(token).map(|key| Cow::Owned(key.into_bytes()))
        } else {
            Ok(Cow::Borrowed(text.get(start + 1..end).unwrap_or_default()))
        }
    }

    fn digits(&mut self) -> usize {
        let bytes = self.bytes();
        let start = self.at;
        while bytes.get(self.at).is_some_and(u8::is_ascii_digit) {
            self.at += 1;
        }
        self.at - start
    }

    /// At `-` or a digit: reads a number token by JSON's grammar.
    fn number_token(&mut self) -> Result<&'a str, serde_json::Error> {
        let bytes = self.bytes();
        let start = self.at;
        if bytes.get(self.at) == Some(&b'-') {
            self.at += 1;
        }
        match bytes.get(self.at) {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        if bytes.get(self.at) == Some(&b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        if let Some(b'e' | b'E') = bytes.get(self.at) {
            self.at += 1;
            if let Some(b'+' | b'-') = bytes.get(self.at) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number"));
            }
        }
        Ok(self.text.get(start..self.at).unwrap_or_default())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), serde_json::Error> {
        if self.bytes().get(self.at..self.at + word.len()) == Some(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.error("expected a value"))
        }
    }

    /// Skips one value, checking it; nesting is tracked in a bit stack (1: object).
    fn skip_value(&mut self) -> Result<(), serde_json::Error> {
        let mut kinds: u128 = 0;
        let mut depth: u32 = 0;
        loop {
            // A value.
            match self.peek() {
                Some(b'"') => {
                    self.string_token()?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.number_token()?;
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(open @ (b'{' | b'[')) => {
                    if depth >= MAX_DEPTH {
                        return Err(self.error("recursion limit exceeded"));
                    }
                    self.at += 1;
                    let object = open == b'{';
                    let close = if object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.at += 1;
                    } else {
                        kinds = (kinds << 1) | u128::from(object);
                        depth += 1;
                        if object {
                            self.key_colon()?;
                        }
                        continue;
                    }
                }
                _ => return Err(self.error("expected a value")),
            }
            // After a value: the next one in its container, or the container's end.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let object = kinds & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        if object {
                            self.key_colon()?;
                        }
                        break;
                    }
                    Some(b'}') if object => {}
                    Some(b']') if !object => {}
                    _ => return Err(self.error("expected `,` or the container's end")),
                }
                self.at += 1;
                kinds >>= 1;
                depth -= 1;
            }
        }
    }

    /// Reads an ignored key and its colon.
    fn key_colon(&mut self) -> Result<(), serde_json::Error> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a key"));
        }
        self.string_token()?;
        self.eat(b':', "expected `:`")
    }

    /// Visits the keys of the object at the cursor (a `{`): `field` reads each value.
    fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &[u8]) -> Result<(), serde_json::Error>,
    ) -> Result<(), serde_json::Error> {
        self.eat(b'{', "expected an object")?;
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key"));
            }
            let key = self.key()?;
            self.eat(b':', "expected `:`")?;
            self.peek();
            field(self, &key)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    /// Visits the elements of the array at the cursor (a `[`).
    fn array(
        &mut self,
        mut element: impl FnMut(&mut Self) -> Result<(), serde_json::Error>,
    ) -> Result<(), serde_json::Error> {
        self.eat(b'[', "expected an array")?;
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.peek();
            element(self)?;
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    /// Skips a value of another type than a typed field wants. serde_json reads such a
    /// value whole (`deserialize_any`), so a number it cannot hold (`1e400`) fails the
    /// record there, as it does here; deeper down it only checks syntax, as
    /// [`Reader::skip_value`] does.
    fn skip_other(&mut self) -> Result<(), serde_json::Error> {
        if let Some(b'-' | b'0'..=b'9') = self.peek() {
            let token = self.number_token()?;
            return serde_json::from_str::<LenientF64>(token).map(|_| ());
        }
        self.skip_value()
    }

    fn lenient_str(&mut self) -> Result<LenientStr<'a>, serde_json::Error> {
        if self.peek() == Some(b'"') {
            return self.string().map(|text| LenientStr(Some(text)));
        }
        self.skip_other().map(|()| LenientStr(None))
    }

    fn lenient_bool(&mut self) -> Result<LenientBool, serde_json::Error> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| LenientBool(Some(true))),
            Some(b'f') => self.literal(b"false").map(|()| LenientBool(Some(false))),
            Some(b'"') => self.string().map(|text| {
                LenientBool(match text.as_ref() {
                    "true" => Some(true),
                    "false" => Some(false),
                    _ => None,
                })
            }),
            _ => self.skip_other().map(|()| LenientBool(None)),
        }
    }

    fn lenient_f64(&mut self) -> Result<LenientF64, serde_json::Error> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => {
                let token = self.number_token()?;
                match short_decimal(token) {
                    Some(value) => Ok(LenientF64(Some(value))),
                    // serde_json reads the others, so they come out as it reads them.
                    None => serde_json::from_str(token),
                }
            }
            Some(b'"') => self
                .string()
                .map(|text| LenientF64(text.trim().parse().ok())),
            _ => self.skip_value().map(|()| LenientF64(None)),
        }
    }

    fn lenient_object<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Result<T, serde_json::Error>,
    ) -> Result<LenientObject<T>, serde_json::Error> {
        if self.peek() == Some(b'{') {
            return read(self).map(|value| LenientObject(Some(value)));
        }
        self.skip_other().map(|()| LenientObject(None))
    }

    fn lenient_vec<T>(
        &mut self,
        mut read: impl FnMut(&mut Self) -> Result<T, serde_json::Error>,
    ) -> Result<LenientVec<T>, serde_json::Error> {
        if self.peek() != Some(b'[') {
            return self.skip_other().map(|()| LenientVec::default());
        }
        let mut items = Vec::new();
        self.array(|reader| {
            items.push(read(reader)?);
            Ok(())
        })?;
        Ok(LenientVec(items))
    }

    fn finding(&mut self) -> Result<FindingFields<'a>, serde_json::Error> {
        let mut fields = FindingFields::default();
        let mut seen = Seen(0);
        self.object(|reader, key| {
            match key {
                b"temporary_id" => {
                    seen.mark(0, "temporary_id")?;
                    fields.temporary_id = reader.lenient_str()?;
                }
                b"affects_rating" => {
                    seen.mark(1, "affects_rating")?;
                    fields.affects_rating = reader.lenient_bool()?;
                }
                b"assets" => {
                    seen.mark(2, "assets")?;
                    fields.assets =
                        reader.lenient_vec(|reader| reader.lenient_object(Self::asset))?;
                }
                b"details" => {
                    seen.mark(3, "details")?;
                    fields.details = reader.lenient_object(Self::details)?;
                }
                b"evidence_key" => {
                    seen.mark(4, "evidence_key")?;
                    fields.evidence_key = reader.lenient_str()?;
                }
                b"first_seen" => {
                    seen.mark(5, "first_seen")?;
                    fields.first_seen = reader.lenient_str()?;
                }
                b"last_seen" => {
                    seen.mark(6, "last_seen")?;
                    fields.last_seen = reader.lenient_str()?;
                }
                b"risk_category" => {
                    seen.mark(7, "risk_category")?;
                    fields.risk_category = reader.lenient_str()?;
                }
                b"risk_vector" => {
                    seen.mark(8, "risk_vector")?;
                    fields.risk_vector = reader.lenient_str()?;
                }
                b"risk_vector_label" => {
                    seen.mark(9, "risk_vector_label")?;
                    fields.risk_vector_label = reader.lenient_str()?;
                }
                b"rolledup_observation_id" => {
                    seen.mark(10, "rolledup_observation_id")?;
                    fields.rolledup_observation_id = reader.lenient_str()?;
                }
                b"severity" => {
                    seen.mark(11, "severity")?;
                    fields.severity = reader.lenient_f64()?;
                }
                b"severity_category" => {
                    seen.mark(12, "severity_category")?;
                    fields.severity_category = reader.lenient_str()?;
                }
                b"tags" => {
                    seen.mark(13, "tags")?;
                    fields.tags = reader.lenient_vec(Self::lenient_str)?;
                }
                _ => reader.skip_value()?,
            }
            Ok(())
        })?;
        Ok(fields)
    }

    fn light_finding(&mut self) -> Result<LightFields<'a>, serde_json::Error> {
        let mut fields = LightFields::default();
        let mut seen = Seen(0);
        self.object(|reader, key| {
            let (bit, name, slot) = match key {
                b"temporary_id" => (0, "temporary_id", &mut fields.temporary_id),
                b"evidence_key" => (1, "evidence_key", &mut fields.evidence_key),
                b"first_seen" => (2, "first_seen", &mut fields.first_seen),
                b"last_seen" => (3, "last_seen", &mut fields.last_seen),
                b"risk_vector" => (4, "risk_vector", &mut fields.risk_vector),
                b"rolledup_observation_id" => (
                    5,
                    "rolledup_observation_id",
                    &mut fields.rolledup_observation_id,
                ),
                _ => return reader.skip_value(),
            };
            seen.mark(bit, name)?;
            *slot = reader.lenient_str()?;
            Ok(())
        })?;
        Ok(fields)
    }

    fn details(&mut self) -> Result<DetailsFields<'a>, serde_json::Error> {
        let mut details = DetailsFields::default();
        let mut seen = Seen(0);
        self.object(|reader, key| {
            if key == b"grade" {
                seen.mark(0, "grade")?;
                details.grade = reader.lenient_str()?;
                Ok(())
            } else {
                reader.skip_value()
            }
        })?;
        Ok(details)
    }

    fn asset(&mut self) -> Result<AssetFields<'a>, serde_json::Error> {
        let mut asset = AssetFields::default();
        let mut seen = Seen(0);
        self.object(|reader, key| {
            match key {
                b"asset" => {
                    seen.mark(0, "asset")?;
                    asset.asset = reader.lenient_str()?;
                }
                b"identifier" => {
                    seen.mark(1, "identifier")?;
                    asset.identifier = reader.lenient_str()?;
                }
                b"category" => {
                    seen.mark(2, "category")?;
                    asset.category = reader.lenient_str()?;
                }
                b"importance" => {
                    seen.mark(3, "importance")?;
                    asset.importance = reader.lenient_f64()?;
                }
                b"is_ip" => {
                    seen.mark(4, "is_ip")?;
                    asset.is_ip = reader.lenient_bool()?;
                }
                _ => reader.skip_value()?,
            }
            Ok(())
        })?;
        Ok(asset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lenient::{LenientF64, ObjectOnly};
    use proptest::prelude::*;
    use serde_json::{Map, Value, json};

    /// Serde_json's reading of a whole finding text: the reference.
    fn serde_finding(text: &str) -> Result<FindingFields<'_>, serde_json::Error> {
        serde_json::from_str::<ObjectOnly<FindingFields<'_>>>(text).map(|ObjectOnly(f)| f)
    }

    /// This reader over a whole finding text, refusing trailing characters as
    /// serde_json does.
    fn fast_finding(text: &str) -> Option<FindingFields<'_>> {
        let start = text.len() - text.trim_start_matches([' ', '\n', '\r', '\t']).len();
        let (fields, len) = read_finding(&text[start..]).ok()?;
        let rest = &text[start + len..];
        rest.trim_start_matches([' ', '\n', '\r', '\t'])
            .is_empty()
            .then_some(fields)
    }

    fn assert_same(text: &str) {
        let reference = serde_finding(text).ok();
        let fast = fast_finding(text);
        assert_eq!(fast, reference, "{text:?}");
    }

    #[cfg(feature = "synthetic")]
    #[test]
    fn reads_synthetic_findings_as_serde_does() {
        use crate::synthetic::{PortfolioSpec, SyntheticPortfolio};
        let portfolio = SyntheticPortfolio::generate(PortfolioSpec {
            seed: 3,
            companies: 1,
            findings_per_company: 500,
            first_date: time::macros::date!(2024 - 01 - 01),
            last_date: time::macros::date!(2024 - 12 - 31),
        });
        for text in portfolio.findings_json(0) {
            let (fields, len) = read_finding(&text).unwrap();
            assert_eq!(len, text.len());
            assert_eq!(Some(fields), serde_finding(&text).ok());
        }
    }

    #[test]
    fn odd_shapes_read_as_serde_reads_them() {
        for text in [
            "{}",
            " { } ",
            "[]",
            "{\"severity\":\"7.5\",\"affects_rating\":\"true\",\"tags\":[\"a\",1,null,{\"x\":[]}]}",
            "{\"severity\":1e400}",
            "{\"severity\":-0,\"assets\":{\"asset\":\"x\"}}",
            "{\"assets\":[{\"asset\":\"a\\u00e9\\n\",\"is_ip\":true},[],\"x\",{\"importance\":3}]}",
            "{\"details\":{\"grade\":\"BAD\",\"grade\":\"GOOD\"}}",
            "{\"risk_vector\":\"a\",\"risk_vector\":\"b\"}",
            "{\"other\":1,\"other\":2}",
            "{\"evidence_key\":\"\\ud800\"}",
            "{\"ignored\":\"\\ud800\"}",
            "{\"\\u0073everity\":9}",
            "{\"x\":\"\\q\"}",
            "{\"x\":\"\\u12G4\"}",
            "{\"x\":\"tab\there\"}",
            "{\"x\":01}",
            "{\"x\":1.}",
            "{\"x\":-}",
            "{\"x\":1e+}",
            "{\"x\":tru}",
            "{\"x\":[1,]}",
            "{\"x\":{\"a\" 1}}",
            "{\"x\":{1:2}}",
            "{\"x\":[[[[{\"a\":[{}]}]]]]}",
            "{\"x\":1,}",
            "{\"x\":1} trailing",
            "{\"tags\":[-64302e7233206954036]}",
            "{\"temporary_id\":1e400,\"assets\":[2e999],\"details\":-1e309}",
            "{\"tags\":[[1e400]],\"x\":1e400}",
            "{\"x\":1",
            "{\"x\":\"unterminated",
        ] {
            assert_same(text);
        }
    }

    #[test]
    fn short_decimals_read_as_serde_reads_them() {
        for token in [
            "0",
            "7",
            "10",
            "7.4",
            "0.3333333333333333",
            "0.1",
            "-0.0",
            "-0.25",
            "9.50",
            "123456789012345",
            "12345678901234.5",
            "-1",
            "-0",
            "1e3",
            "1.5E-2",
            "0.12345678901234567",
            "1234567890123456",
        ] {
            let reference = serde_json::from_str::<LenientF64>(token)
                .unwrap()
                .0
                .unwrap();
            if let Some(fast) = short_decimal(token) {
                assert_eq!(fast.to_bits(), reference.to_bits(), "{token}");
            }
        }
        assert_eq!(short_decimal("-0"), None);
        assert_eq!(short_decimal("1e3"), None);
        assert_eq!(short_decimal("9007199254740992"), None);
        assert_eq!(short_decimal("0.3333333333333333"), Some(1.0 / 3.0));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn short_decimals_agree_with_serde(whole in "-?(0|[1-9][0-9]{0,9})", fraction in prop::option::of("[0-9]{1,14}")) {
            let token = match fraction { Some(fraction) => format!("{whole}.{fraction}"), None => whole };
            let reference = serde_json::from_str::<LenientF64>(&token).unwrap().0.unwrap();
            if let Some(fast) = short_decimal(&token) {
                prop_assert_eq!(fast.to_bits(), reference.to_bits(), "{}", token);
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(read_finding(&deep).is_err());
        let fine = format!("{{\"x\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert_same(&fine);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(Value::from),
            "(.|[\\x00-\\x1f\"\\\\])*".prop_map(Value::from),
            Just(Value::from("2024-02-29")),
            Just(Value::from(" 7.25 ")),
            Just(Value::from("true")),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("grade".to_owned()),
                            Just("asset".to_owned()),
                            Just("importance".to_owned()),
                            Just("is_ip".to_owned()),
                            ".{0,6}"
                        ],
                        inner
                    ),
                    0..4
                )
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    fn finding_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            prop::sample::select(crate::TYPED_FINDING_FIELDS).prop_map(str::to_owned),
            ".{0,8}",
        ];
        prop::collection::vec((key, json_value()), 0..12)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn reads_what_serde_reads(finding in finding_value(), pretty in any::<bool>()) {
            let text = if pretty { serde_json::to_string_pretty(&finding).unwrap() } else { finding.to_string() };
            let (fields, len) = read_finding(&text).unwrap();
            prop_assert_eq!(len, text.len());
            prop_assert_eq!(Some(fields), serde_finding(&text).ok());
        }

        #[test]
        fn refuses_what_serde_refuses(
            finding in finding_value(),
            cuts in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(&[
                "", "\"", "\\", "{", "}", "[", "]", ",", ":", "0", "-", ".", "e", "t", "n", " ", "\u{1}", "\\u", "é",
            ][..])), 1..3),
        ) {
            let mut text = json!(finding).to_string();
            for (at, insert) in cuts {
                let mut at = at.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                // Replace the character at `at` (or the end) with `insert`.
                let end = text[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                text.replace_range(at..end, insert);
            }
            assert_same(&text);
        }
    }
}
