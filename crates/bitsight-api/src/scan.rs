//! One validating pass over a paged answer that also yields each result's exact
//! text: the envelope's punctuation is walked here, its keys, `links`, `count` and
//! other values are read by serde_json (which reports where each ended), and each
//! element of `results` by the caller's reader, which says how long it was.

use std::borrow::Cow;

use memchr::{memchr2, memchr3};
use serde::Deserialize;
use serde::de::{Error as _, IgnoredAny};

use crate::lenient::LenientStr;
use crate::paging::Links;

/// `at` is an opening quote; returns the index just past the closing one.
fn end_of_string(text: &[u8], at: usize) -> Option<usize> {
    let mut from = at + 1;
    loop {
        let found = from + memchr2(b'"', b'\\', text.get(from..)?)?;
        if text[found] == b'\\' {
            from = found + 2;
        } else {
            return Some(found + 1);
        }
    }
}

/// A page's envelope: `links` and `count`.
pub(crate) struct Envelope {
    pub(crate) links: Option<Links>,
    pub(crate) count: Option<u64>,
}

/// Where the walk is in the page text.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn skip_whitespace(&mut self) {
        while matches!(
            self.text.as_bytes().get(self.at),
            Some(b' ' | b'\n' | b'\r' | b'\t')
        ) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.skip_whitespace();
        self.text.as_bytes().get(self.at).copied()
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), serde_json::Error> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(serde_json::Error::custom(format!(
                "expected {what} at byte {}",
                self.at
            )))
        }
    }

    /// Reads one value with serde_json; returns it with its exact text.
    fn value<T: Deserialize<'a>>(&mut self) -> Result<(T, &'a str), serde_json::Error> {
        self.skip_whitespace();
        let rest = self
            .text
            .get(self.at..)
            .ok_or_else(|| serde_json::Error::custom("a value starts inside a character"))?;
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        let value = values
            .next()
            .ok_or_else(|| serde_json::Error::custom("the page ends where a value should be"))??;
        let text = rest
            .get(..values.byte_offset())
            .ok_or_else(|| serde_json::Error::custom("a value ends inside a character"))?;
        self.at += text.len();
        Ok((value, text))
    }
}

/// Reads a page `{"links": ..., "count": ..., "results": [...]}` (keys in any order,
/// others ignored) in one validating pass: `read_element` reads each element of
/// `results` from the text that starts with it and returns the element's length.
///
/// # Errors
/// Whatever keeps the text from being such a page. A syntax error is reported at
/// its place in the whole page.
pub(crate) fn read_page<'a>(
    text: &'a str,
    read_element: impl FnMut(&'a str) -> Result<usize, serde_json::Error>,
) -> Result<Envelope, serde_json::Error> {
    walk_page(text, read_element).map_err(|error| {
        // Re-read the page only to place a syntax error in the whole text.
        match serde_json::from_str::<IgnoredAny>(text) {
            Err(syntax) => syntax,
            Ok(_) => error,
        }
    })
}

fn walk_page<'a>(
    text: &'a str,
    mut read_element: impl FnMut(&'a str) -> Result<usize, serde_json::Error>,
) -> Result<Envelope, serde_json::Error> {
    let mut cursor = Cursor { text, at: 0 };
    let mut envelope = Envelope {
        links: None,
        count: None,
    };
    let (mut seen_links, mut seen_count, mut seen_results) = (false, false, false);
    cursor.expect(b'{', "a JSON object")?;
    let mut first = true;
    loop {
        if first && cursor.peek() == Some(b'}') {
            cursor.at += 1;
            break;
        }
        first = false;
        if cursor.peek() != Some(b'"') {
            return Err(serde_json::Error::custom(format!(
                "expected a key at byte {}",
                cursor.at
            )));
        }
        let (LenientStr(key), _) = cursor.value::<LenientStr<'a>>()?;
        cursor.expect(b':', "`:`")?;
        let duplicate = |name: &str| serde_json::Error::custom(format!("duplicate field `{name}`"));
        match key.as_deref().unwrap_or_default() {
            "links" if seen_links => return Err(duplicate("links")),
            "links" => {
                seen_links = true;
                envelope.links = cursor.value::<Option<Links>>()?.0;
            }
            "count" if seen_count => return Err(duplicate("count")),
            "count" => {
                seen_count = true;
                envelope.count = cursor.value::<Option<u64>>()?.0;
            }
            "results" if seen_results => return Err(duplicate("results")),
            "results" => {
                seen_results = true;
                read_results(&mut cursor, &mut read_element)?;
            }
            _ => {
                cursor.value::<IgnoredAny>()?;
            }
        }
        match cursor.peek() {
            Some(b',') => cursor.at += 1,
            Some(b'}') => {
                cursor.at += 1;
                break;
            }
            _ => {
                return Err(serde_json::Error::custom(format!(
                    "expected `,` or `}}` at byte {}",
                    cursor.at
                )));
            }
        }
    }
    if cursor.peek().is_some() {
        return Err(serde_json::Error::custom(format!(
            "trailing characters at byte {}",
            cursor.at
        )));
    }
    if !seen_results {
        return Err(serde_json::Error::missing_field("results"));
    }
    Ok(envelope)
}

fn read_results<'a>(
    cursor: &mut Cursor<'a>,
    read_element: &mut impl FnMut(&'a str) -> Result<usize, serde_json::Error>,
) -> Result<(), serde_json::Error> {
    cursor.expect(b'[', "`results` to be an array")?;
    if cursor.peek() == Some(b']') {
        cursor.at += 1;
        return Ok(());
    }
    for index in 0_usize.. {
        cursor.skip_whitespace();
        let rest = cursor.text.get(cursor.at..).unwrap_or_default();
        let len = read_element(rest)
            .map_err(|error| serde_json::Error::custom(format!("`results[{index}]`: {error}")))?;
        cursor.at += len;
        match cursor.peek() {
            Some(b',') => cursor.at += 1,
            Some(b']') => {
                cursor.at += 1;
                break;
            }
            _ => {
                return Err(serde_json::Error::custom(format!(
                    "expected `,` or `]` at byte {}",
                    cursor.at
                )));
            }
        }
    }
    Ok(())
}

/// Whether `text` holds a line break (checked once per page, so that the findings of a
/// page without any skip [`single_line`]'s look).
pub(crate) fn has_line_breaks(text: &str) -> bool {
    memchr2(b'\n', b'\r', text.as_bytes()).is_some()
}

/// `value` (valid JSON) on one line: when it holds a line break (which valid JSON only
/// has between tokens), the whitespace between tokens is dropped; otherwise unchanged.
pub(crate) fn single_line(value: &str) -> Cow<'_, str> {
    let bytes = value.as_bytes();
    if memchr2(b'\n', b'\r', bytes).is_none() {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut cursor = 0;
    while cursor < bytes.len() {
        // Copy up to the next string whole; drop whitespace outside strings.
        let Some(quote) = memchr3(b'"', b'\n', b'\r', &bytes[cursor..]).map(|at| cursor + at)
        else {
            out.extend(value[cursor..].chars().filter(|c| !c.is_ascii_whitespace()));
            break;
        };
        out.extend(
            value[cursor..quote]
                .chars()
                .filter(|c| !c.is_ascii_whitespace()),
        );
        if bytes[quote] == b'"' {
            let end = end_of_string(bytes, quote).unwrap_or(bytes.len());
            out.push_str(&value[quote..end]);
            cursor = end;
        } else {
            cursor = quote + 1;
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::{read_page, single_line};
    use proptest::prelude::*;
    use serde::Deserialize;
    use serde::de::IgnoredAny;
    use serde_json::{Value, json};

    /// Reads one element with serde_json as `T`; returns it and its length.
    fn serde_element<'a, T: Deserialize<'a>>(
        rest: &'a str,
    ) -> Result<(T, usize), serde_json::Error> {
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        let value = values.next().unwrap()?;
        Ok((value, values.byte_offset()))
    }

    /// The elements' texts, or the error's message.
    fn elements(page: &str) -> Result<Vec<&str>, String> {
        let mut found = Vec::new();
        read_page(page, |rest| {
            let (IgnoredAny, len) = serde_element(rest)?;
            found.push(&rest[..len]);
            Ok(len)
        })
        .map(|_| found)
        .map_err(|error| error.to_string())
    }

    #[test]
    fn finds_elements_verbatim() {
        let page = r#" { "links" : {"next": "x\"]}"}, "count": 3, "results" : [ {"a": "b\\", "c": [1, {"d": "}"}]} , 10.50,"s\"," ] } "#;
        assert_eq!(
            elements(page).unwrap(),
            [
                r#"{"a": "b\\", "c": [1, {"d": "}"}]}"#,
                "10.50",
                r#""s\",""#
            ]
        );
        let mut next = None;
        let envelope = read_page(page, |rest| {
            serde_element::<IgnoredAny>(rest).map(|(_, len)| len)
        })
        .unwrap();
        if let Some(links) = envelope.links {
            next = links.next;
        }
        assert_eq!(next.as_deref(), Some("x\"]}"));
        assert_eq!(envelope.count, Some(3));
        assert_eq!(elements(r#"{"results":[]}"#).unwrap(), Vec::<&str>::new());
        // An escaped key is still the key.
        assert_eq!(elements(r#"{"res\u0075lts":[7]}"#).unwrap(), ["7"]);
    }

    #[test]
    fn refuses_what_is_not_a_page() {
        for (page, message) in [
            ("[1]", "expected a JSON object"),
            (r#"{"count":1}"#, "missing field `results`"),
            (
                r#"{"results":[1],"results":[2]}"#,
                "duplicate field `results`",
            ),
            (r#"{"results":{}}"#, "`results` to be an array"),
            (r#"{"results":[1 2]}"#, "expected `,` or `]`"),
            (r#"{"results":[1]} {}"#, "trailing characters"),
            (r#"{"count":"x","results":[]}"#, "invalid type"),
        ] {
            let error = elements(page).unwrap_err();
            assert!(error.contains(message), "{page}: {error}");
        }
        // A syntax error is placed in the whole page.
        let error = elements(r#"{"results":[{"a":1},{"b":tru}]}"#).unwrap_err();
        assert!(error.contains("column 29"), "{error}");
        let error = elements(r#"{"results":[{"a":1"#).unwrap_err();
        assert!(error.contains("EOF"), "{error}");
    }

    #[test]
    fn line_breaks_between_tokens_are_dropped() {
        let text = "{\n  \"a b\": \"x\\ny z\",\r\n  \"n\": [1, 2.50]\n}";
        assert_eq!(single_line(text), r#"{"a b":"x\ny z","n":[1,2.50]}"#);
        assert_eq!(single_line(r#"{"a": 1}"#), r#"{"a": 1}"#);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            // Eighths parse back exactly (arbitrary floats need serde_json's float_roundtrip).
            (-10_000_i32..10_000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
            ".{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(".{0,6}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn element_texts_reparse_to_the_elements(items in prop::collection::vec(json_value(), 0..6), pretty in any::<bool>(), extra in json_value()) {
            let page = json!({"links": {"next": null}, "extra": extra, "count": items.len(), "results": items});
            let text = if pretty { serde_json::to_string_pretty(&page).unwrap() } else { page.to_string() };
            let mut parsed = Vec::new();
            let mut texts = Vec::new();
            let envelope = read_page(&text, |rest| {
                let (value, len) = serde_element::<Value>(rest)?;
                parsed.push(value);
                texts.push(&rest[..len]);
                Ok(len)
            }).unwrap();
            prop_assert_eq!(envelope.count, Some(items.len() as u64));
            prop_assert_eq!(&parsed, &items);
            for (element, item) in texts.into_iter().zip(&items) {
                prop_assert_eq!(&serde_json::from_str::<Value>(element).unwrap(), item);
                let line = single_line(element);
                prop_assert!(!line.contains('\n'));
                prop_assert_eq!(&serde_json::from_str::<Value>(&line).unwrap(), item);
            }
        }
    }
}
