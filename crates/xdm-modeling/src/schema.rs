//! `_schema.json`: the declared column types of raw datasets, applied to events before a
//! rule runs (a column typed `string` that holds an object arrives as JSON text).

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::value::Value;

/// A column type of a raw dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `string`: anything arrives as text (objects and arrays as JSON text).
    String,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `boolean`
    Boolean,
    /// `datetime`
    Datetime,
    /// `nested_json`: objects and arrays kept as they are.
    NestedJson,
}

/// One declared column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its type.
    pub kind: ColumnType,
    /// Whether it holds an array of `kind`.
    pub is_array: bool,
}

/// Why a schema file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The text is not JSON.
    #[error("schema is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON does not have the `{dataset: {column: {type, is_array}}}` shape.
    #[error("schema shape: {place}: {problem}")]
    Shape {
        /// The dataset and column concerned.
        place: String,
        /// What is wrong there.
        problem: String,
    },
}

/// The columns declared for every dataset of a schema file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schema {
    datasets: HashMap<String, HashMap<String, Column>>,
}

impl Schema {
    /// Reads a `_schema.json` text.
    ///
    /// # Errors
    /// [`SchemaError`] when the text is not JSON or not of the schema shape, naming the place.
    pub fn from_json_str(text: &str) -> Result<Schema, SchemaError> {
        let json: Json = serde_json::from_str(text)?;
        let Json::Object(datasets) = json else {
            return Err(shape("(top level)", "expected an object of datasets"));
        };
        let mut out = HashMap::new();
        for (dataset, columns) in datasets {
            let Json::Object(columns) = columns else {
                return Err(shape(&dataset, "expected an object of columns"));
            };
            let mut cols = HashMap::new();
            for (name, decl) in columns {
                let place = format!("{dataset}.{name}");
                let kind = match decl.get("type").and_then(Json::as_str) {
                    Some("string") => ColumnType::String,
                    Some("int") => ColumnType::Int,
                    Some("float") => ColumnType::Float,
                    Some("boolean") => ColumnType::Boolean,
                    Some("datetime") => ColumnType::Datetime,
                    Some("nested_json") => ColumnType::NestedJson,
                    Some(other) => return Err(shape(&place, &format!("unknown type `{other}`"))),
                    None => return Err(shape(&place, "missing string `type`")),
                };
                let is_array = decl
                    .get("is_array")
                    .and_then(Json::as_bool)
                    .unwrap_or(false);
                cols.insert(name.to_ascii_lowercase(), Column { kind, is_array });
            }
            out.insert(dataset.to_ascii_lowercase(), cols);
        }
        Ok(Schema { datasets: out })
    }

    /// The datasets the schema declares (lower-cased).
    #[must_use]
    pub fn datasets(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.datasets.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The column declared for `dataset.column`, if any (names are case-insensitive).
    #[must_use]
    pub fn column(&self, dataset: &str, column: &str) -> Option<Column> {
        self.datasets
            .get(&dataset.to_ascii_lowercase())?
            .get(&column.to_ascii_lowercase())
            .copied()
    }

    /// Whether the schema declares `dataset`.
    #[must_use]
    pub fn has_dataset(&self, dataset: &str) -> bool {
        self.datasets.contains_key(&dataset.to_ascii_lowercase())
    }
}

fn shape(place: &str, problem: &str) -> SchemaError {
    SchemaError::Shape {
        place: place.to_owned(),
        problem: problem.to_owned(),
    }
}

/// Converts a raw value to its declared column type; `Err` names the found type.
pub(crate) fn coerce(value: Value, column: Column) -> Result<Value, &'static str> {
    if column.is_array
        && let Value::Array(items) = &value
    {
        {
            let converted: Result<Vec<Value>, _> = items
                .iter()
                .map(|v| {
                    coerce(
                        v.clone(),
                        Column {
                            is_array: false,
                            ..column
                        },
                    )
                })
                .collect();
            return converted.map(|v| Value::Array(std::sync::Arc::new(v)));
        }
    }
    let found = value.type_name();
    match (column.kind, value) {
        (_, Value::Null) => Ok(Value::Null),
        (ColumnType::String, v @ Value::Str(_)) => Ok(v),
        // Arrays stay arrays: a string field that receives one stores it comma-joined
        // (AbnormalSecurity's test data shows this), which the output cast does.
        (ColumnType::String, Value::Array(items)) => Ok(Value::Array(items)),
        (ColumnType::String, v) => Ok(v.to_text().map_or(Value::Null, Value::Str)),
        (ColumnType::Int, Value::Int(n)) => Ok(Value::Int(n)),
        (ColumnType::Int, Value::Float(f)) if f.fract() == 0.0 => {
            match crate::functions::to_integer(&Value::Float(f)) {
                Value::Int(n) => Ok(Value::Int(n)),
                _ => Err(found),
            }
        }
        (ColumnType::Int, v @ Value::Str(_)) => match crate::functions::to_integer(&v) {
            Value::Int(n) => Ok(Value::Int(n)),
            _ => Err(found),
        },
        (ColumnType::Float, v @ (Value::Int(_) | Value::Float(_) | Value::Str(_))) => {
            match crate::functions::to_float(&v) {
                Value::Float(f) => Ok(Value::Float(f)),
                _ => Err(found),
            }
        }
        (ColumnType::Boolean, Value::Bool(b)) => Ok(Value::Bool(b)),
        (ColumnType::Boolean, Value::Str(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Value::Bool(true))
        }
        (ColumnType::Boolean, Value::Str(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Value::Bool(false))
        }
        (ColumnType::Datetime, v @ Value::Timestamp(_)) => Ok(v),
        (ColumnType::Datetime, Value::Str(s)) => crate::time_fmt::parse_iso(&s)
            .map(Value::Timestamp)
            .ok_or(found),
        (ColumnType::Datetime, v @ (Value::Int(_) | Value::Float(_))) => {
            epoch_guess(&v).map(Value::Timestamp).ok_or(found)
        }
        (ColumnType::NestedJson, v) => Ok(v),
        _ => Err(found),
    }
}

/// An epoch number in seconds or milliseconds (by magnitude) as microseconds.
pub(crate) fn epoch_guess(v: &Value) -> Option<i64> {
    let n = v.as_number()?.as_f64();
    let unit = if n.abs() > 1e11 { "MILLIS" } else { "SECONDS" };
    crate::time_fmt::from_epoch(n, unit)
}
