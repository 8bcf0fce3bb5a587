//! Finds the byte spans of a page's `results` elements in JSON that serde_json has
//! already validated, so findings keep their exact received text without a second
//! validating parse.

use std::borrow::Cow;
use std::ops::Range;

use memchr::{memchr2, memchr3};

fn skip_whitespace(text: &[u8], mut at: usize) -> usize {
    while matches!(text.get(at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        at += 1;
    }
    at
}

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

/// `at` starts a value; returns the index just past it.
fn end_of_value(text: &[u8], at: usize) -> Option<usize> {
    match text.get(at)? {
        b'"' => end_of_string(text, at),
        b'{' | b'[' => {
            let mut depth = 0_usize;
            let mut cursor = at;
            loop {
                match text.get(cursor)? {
                    b'"' => {
                        cursor = end_of_string(text, cursor)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(cursor + 1);
                        }
                    }
                    _ => {}
                }
                cursor += 1;
            }
        }
        _ => {
            let mut cursor = at;
            while let Some(byte) = text.get(cursor) {
                if matches!(byte, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                    break;
                }
                cursor += 1;
            }
            Some(cursor)
        }
    }
}

fn element_spans(text: &[u8], at: usize) -> Option<Vec<Range<usize>>> {
    if text.get(at)? != &b'[' {
        return None;
    }
    let mut spans = Vec::new();
    let mut cursor = skip_whitespace(text, at + 1);
    if text.get(cursor)? == &b']' {
        return Some(spans);
    }
    loop {
        let end = end_of_value(text, cursor)?;
        spans.push(cursor..end);
        cursor = skip_whitespace(text, end);
        match text.get(cursor)? {
            b',' => cursor = skip_whitespace(text, cursor + 1),
            b']' => return Some(spans),
            _ => return None,
        }
    }
}

/// The spans of the elements of the top-level object's `"results"` array, or `None`
/// when the text is not such an object (or spells the key with escapes).
pub(crate) fn results_spans(text: &[u8]) -> Option<Vec<Range<usize>>> {
    let mut cursor = skip_whitespace(text, 0);
    if text.get(cursor)? != &b'{' {
        return None;
    }
    cursor += 1;
    loop {
        cursor = skip_whitespace(text, cursor);
        match text.get(cursor)? {
            b',' => {
                cursor += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = end_of_string(text, cursor)?;
        let key = text.get(cursor + 1..key_end - 1)?;
        cursor = skip_whitespace(text, key_end);
        if text.get(cursor)? != &b':' {
            return None;
        }
        cursor = skip_whitespace(text, cursor + 1);
        if key == b"results" {
            return element_spans(text, cursor);
        }
        cursor = end_of_value(text, cursor)?;
    }
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
    use super::{results_spans, single_line};
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn elements(page: &str) -> Vec<&str> {
        results_spans(page.as_bytes())
            .unwrap()
            .into_iter()
            .map(|span| &page[span])
            .collect()
    }

    #[test]
    fn finds_elements_verbatim() {
        let page = r#" { "links" : {"next": "x\"]}"}, "count": 3, "results" : [ {"a": "b\\", "c": [1, {"d": "}"}]} , 10.50,"s\"," ] } "#;
        assert_eq!(
            elements(page),
            [
                r#"{"a": "b\\", "c": [1, {"d": "}"}]}"#,
                "10.50",
                r#""s\",""#
            ]
        );
        assert_eq!(elements(r#"{"results":[]}"#), Vec::<&str>::new());
        assert!(results_spans(b"[1]").is_none());
        assert!(results_spans(br#"{"count":1}"#).is_none());
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
        fn spans_reparse_to_the_elements(items in prop::collection::vec(json_value(), 0..6), pretty in any::<bool>()) {
            let page = json!({"links": {"next": null}, "count": items.len(), "results": items});
            let text = if pretty { serde_json::to_string_pretty(&page).unwrap() } else { page.to_string() };
            let found: Vec<Value> = elements(&text).into_iter().map(|t| serde_json::from_str(t).unwrap()).collect();
            prop_assert_eq!(&found, page["results"].as_array().unwrap());
            for element in elements(&text) {
                let line = single_line(element);
                prop_assert!(!line.contains('\n'));
                prop_assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), serde_json::from_str::<Value>(element).unwrap());
            }
        }
    }
}
