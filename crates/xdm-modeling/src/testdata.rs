//! Emulation of `demisto-sdk modeling-rules test`: run each test event through its model and
//! compare the expected values by value and type, as the SDK does.
//!
//! The SDK skips falsy expected values (`null`, `""`, `0`, `false`, `[]`, `{}`), accepts an
//! integral float where an int is expected, and renders `_time` as `Oct 21st 2023 03:42:05`
//! in the event's `tenant_timezone` before comparing.

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::{Model, time_fmt};

/// A `_testdata.json` file.
#[derive(Debug, Clone, Deserialize)]
pub struct TestData {
    /// The test events.
    pub data: Vec<TestEvent>,
    /// Validations the SDK is told to skip.
    #[serde(default)]
    pub ignored_validations: Vec<String>,
}

/// One test event.
#[derive(Debug, Clone, Deserialize)]
pub struct TestEvent {
    /// The SDK's event id.
    #[serde(default)]
    pub test_data_event_id: Option<String>,
    /// The dataset the event is pushed to.
    pub dataset: String,
    /// The tenant's time zone, for rendering `_time` (default UTC).
    #[serde(default)]
    pub tenant_timezone: Option<String>,
    /// The raw event.
    pub event_data: Map<String, Json>,
    /// The expected XDM values.
    #[serde(default)]
    pub expected_values: Map<String, Json>,
}

/// Why a test-data file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("test data is not of the demisto-sdk shape: {0}")]
pub struct TestDataError(#[from] serde_json::Error);

impl TestData {
    /// Reads a `_testdata.json` text.
    ///
    /// # Errors
    /// [`TestDataError`] naming the line and column where the text is not of the shape.
    pub fn from_json_str(text: &str) -> Result<TestData, TestDataError> {
        Ok(serde_json::from_str(text)?)
    }
}

/// One field whose received value differs from the expected one.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDiff {
    /// The XDM field.
    pub field: String,
    /// What the test data expects.
    pub expected: Json,
    /// What the model produced (`Null` when nothing).
    pub received: Json,
}

impl FieldDiff {
    /// `field: expected X (type), received Y (type)`.
    #[must_use]
    pub fn describe(&self) -> String {
        format!(
            "{}: expected {} ({}), received {} ({})",
            self.field,
            self.expected,
            py_type(&self.expected),
            self.received,
            py_type(&self.received)
        )
    }
}

/// The result of one test event.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every checked field matched.
    Passed {
        /// How many expected values were compared (falsy ones are skipped).
        checked: usize,
    },
    /// Some fields differ.
    Failed(Vec<FieldDiff>),
    /// The rule's filters dropped the event: no record to compare.
    Dropped,
    /// The event could not be modeled or compared at all.
    Error(String),
}

/// The SDK's type names: `null, list, dict, string, int, float, boolean`.
#[must_use]
pub fn py_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_f64() => "float",
        Json::Number(_) => "int",
        Json::String(_) => "string",
        Json::Array(_) => "list",
        Json::Object(_) => "dict",
    }
}

/// Python truthiness: the SDK skips expected values that are falsy.
#[must_use]
pub fn is_falsy(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
    }
}

/// Runs one test event through `model` and compares as the SDK does.
#[must_use]
pub fn run_event(model: &Model, event: &TestEvent) -> Outcome {
    let records = match model.apply_all(&event.event_data) {
        Ok(r) => r,
        Err(e) => return Outcome::Error(e.to_string()),
    };
    let record = match records.as_slice() {
        [] => return Outcome::Dropped,
        [one] => one,
        _ => {
            return Outcome::Error(format!(
                "{} pipelines kept the event; the SDK expects exactly one row",
                records.len()
            ));
        }
    };
    compare(record, event)
}

/// Compares a record with a test event's expected values.
#[must_use]
pub fn compare(record: &Map<String, Json>, event: &TestEvent) -> Outcome {
    let tz = event.tenant_timezone.as_deref().unwrap_or("UTC");
    let mut diffs = Vec::new();
    let mut checked = 0;
    for (field, expected) in &event.expected_values {
        if is_falsy(expected) {
            continue;
        }
        checked += 1;
        let received = record
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(field))
            .map_or(Json::Null, |(_, v)| v.clone());
        if field == "_time" && received.is_null() {
            // Neither the rule nor the event sets `_time`: XSIAM stamps it at ingestion
            // (or a parsing rule does), which an offline run cannot know.
            checked -= 1;
            continue;
        }
        let received = if field == "_time" {
            match render_time(&received, expected, tz) {
                Ok(r) => r,
                Err(message) => return Outcome::Error(message),
            }
        } else {
            relax_int(&received, expected)
        };
        if !same(&received, expected) {
            diffs.push(FieldDiff {
                field: field.clone(),
                expected: expected.clone(),
                received,
            });
        }
    }
    if diffs.is_empty() {
        Outcome::Passed { checked }
    } else {
        Outcome::Failed(diffs)
    }
}

/// The SDK turns an integral float into an int when an int is expected.
fn relax_int(received: &Json, expected: &Json) -> Json {
    match (received, expected) {
        (Json::Number(r), Json::Number(e)) if r.is_f64() && !e.is_f64() => match r.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
                #[allow(clippy::cast_possible_truncation)] // integral and in range.
                Json::from(f as i64)
            }
            _ => received.clone(),
        },
        _ => received.clone(),
    }
}

/// Python equality plus equal type names.
fn same(received: &Json, expected: &Json) -> bool {
    py_type(received) == py_type(expected)
        && match (received, expected) {
            (Json::Number(a), Json::Number(b)) => a.as_f64() == b.as_f64(),
            (Json::Array(a), Json::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
            }
            _ => received == expected,
        }
}

fn render_time(received: &Json, expected: &Json, tz: &str) -> Result<Json, String> {
    let Some(text) = received.as_str() else {
        return Ok(received.clone());
    };
    let Some(us) = time_fmt::parse_iso(text) else {
        return Ok(received.clone());
    };
    let offset = time_fmt::parse_offset(tz).ok_or_else(|| {
        format!("tenant_timezone `{tz}`: only UTC and fixed offsets (+HH:MM) are supported")
    })?;
    let with_fraction = expected.as_str().is_some_and(|s| s.contains('.'));
    Ok(time_fmt::sdk_time(us, offset, with_fraction).map_or(Json::Null, Json::String))
}
