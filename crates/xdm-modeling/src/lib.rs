//! Cortex XSIAM modeling rules (.xif) run offline: parse, check, compile and evaluate
//! against JSON events.
//!
//! A rules source is parsed once ([`Rules::parse`], which never fails and keeps every
//! diagnostic), checked ([`Rules::check`]: errors and warnings with line and column), then
//! compiled for one dataset ([`Rules::compile`]) into a [`Model`]: field references resolved
//! to slots, regexes and JSON paths compiled, constant sub-expressions folded. The model is
//! then applied to any number of events, each giving the flat dotted XDM record, or `None`
//! when a `filter` drops the event.
//!
//! ```
//! use serde_json::json;
//! use xdm_modeling::Rules;
//!
//! let rules = Rules::parse(
//!     "demo.xif",
//!     r#"[MODEL: dataset=demo_raw]
//!        filter kind = "alert"
//!        | alter xdm.alert.severity = concat(to_string(score), " - ", level),
//!                xdm.target.port = to_integer(details -> port);"#,
//! );
//! assert!(rules.check().iter().all(|d| !d.is_error()));
//! let model = rules.compile(None, None)?;
//!
//! let event = json!({"kind": "alert", "score": 10.0, "level": "severe", "details": {"port": "443"}});
//! let record = model.apply_value(&event)?.expect("the filter keeps alerts");
//! assert_eq!(record["xdm.alert.severity"], "10.0 - severe");
//! assert_eq!(record["xdm.target.port"], 443);
//!
//! let dropped = model.apply_value(&json!({"kind": "audit"}))?;
//! assert!(dropped.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod ast;
mod compile;
mod diag;
mod eval;
mod functions;
mod json_out;
mod json_path;
mod lexer;
mod line;
mod parser;
mod prefetch;
mod schema;
mod slot_table;
pub mod testdata;
mod time_fmt;
mod value;
pub mod xdm;

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

pub use ast::RulesFile;
pub use diag::{Diagnostic, Severity, Span};
pub use schema::{Column, ColumnType, Schema, SchemaError};
pub use value::{Number, Object, Text, Value};

use compile::{Plan, Step};
use diag::Reporter;
use eval::Frame;
use xdm::XdmType;

/// siembridge's own modeling rule for the Bitsight collector's events (dataset
/// `bitsight_bitsight_raw`), as shipped in `fixtures/modeling-rules/bitsight/Bitsight.xif`.
pub const BITSIGHT_RULES: &str =
    include_str!("../../../fixtures/modeling-rules/bitsight/Bitsight.xif");

/// The raw-dataset schema that goes with [`BITSIGHT_RULES`].
pub const BITSIGHT_SCHEMA: &str =
    include_str!("../../../fixtures/modeling-rules/bitsight/Bitsight_schema.json");

/// The dataset the Bitsight collector's events belong to.
pub const BITSIGHT_DATASET: &str = "bitsight_bitsight_raw";

/// Compiles the bundled Bitsight rule with its schema.
///
/// # Errors
/// Only if the bundled files were broken, which the crate's tests rule out.
pub fn bitsight_model() -> Result<Model, CompileError> {
    let schema = Schema::from_json_str(BITSIGHT_SCHEMA).map_err(|e| CompileError::Schema {
        path: "Bitsight_schema.json".to_owned(),
        source: e,
    })?;
    Rules::parse("Bitsight.xif", BITSIGHT_RULES).compile(Some(BITSIGHT_DATASET), Some(&schema))
}

/// Why rules could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The rules have errors; `rendered` shows each with its line and a caret.
    #[error("{path}: {} error(s)\n{rendered}", diagnostics.len())]
    Invalid {
        /// The rules' path, as given to [`Rules::parse`].
        path: String,
        /// The errors.
        diagnostics: Vec<Diagnostic>,
        /// The errors rendered with source lines and carets.
        rendered: String,
    },
    /// No `[MODEL]` section for the dataset asked for.
    #[error("{path}: no [MODEL] section for dataset `{dataset}` (the rules model: {found})")]
    NoSuchDataset {
        /// The rules' path.
        path: String,
        /// The dataset asked for.
        dataset: String,
        /// The datasets the rules do model.
        found: String,
    },
    /// The rules model several datasets and none was named.
    #[error("{path}: the rules model several datasets ({found}); name one")]
    DatasetNeeded {
        /// The rules' path.
        path: String,
        /// The datasets the rules model.
        found: String,
    },
    /// The bundled schema could not be read.
    #[error("{path}: {source}")]
    Schema {
        /// The schema's name.
        path: String,
        /// What is wrong with it.
        source: SchemaError,
    },
}

/// Why one event could not be modeled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// The event is not a JSON object.
    #[error("the event is a JSON {found}, not an object")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A column does not hold what the schema declares.
    #[error("field `{field}`: the schema declares {expected:?}, the event holds a {found}")]
    SchemaMismatch {
        /// The column.
        field: String,
        /// The declared type.
        expected: ColumnType,
        /// The type found in the event.
        found: &'static str,
    },
}

/// A parsed rules source with its parse diagnostics.
#[derive(Debug, Clone)]
pub struct Rules {
    path: String,
    source: String,
    file: RulesFile,
    parse_diagnostics: Vec<Diagnostic>,
}

impl Rules {
    /// Parses a rules source. Never fails: errors are kept and reported by [`Rules::check`].
    /// `path` only names the source in diagnostics.
    #[must_use]
    pub fn parse(path: impl Into<String>, source: impl Into<String>) -> Rules {
        let source = source.into();
        let mut reporter = Reporter::new(&source);
        let tokens = lexer::lex(&source, &mut reporter);
        let file = parser::Parser::new(&tokens, &mut reporter).parse_file();
        let parse_diagnostics = reporter.diagnostics;
        Rules {
            path: path.into(),
            source,
            file,
            parse_diagnostics,
        }
    }

    /// The path given to [`Rules::parse`].
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The rules text.
    #[must_use]
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The syntax tree.
    #[must_use]
    pub fn file(&self) -> &RulesFile {
        &self.file
    }

    /// The datasets of the `[MODEL]` sections, in order of first appearance.
    #[must_use]
    pub fn datasets(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for section in &self.file.sections {
            if let ast::Section::Model(m) = section
                && !m.dataset.is_empty()
                && !out.iter().any(|d| d.eq_ignore_ascii_case(&m.dataset))
            {
                out.push(m.dataset.clone());
            }
        }
        out
    }

    /// Every error and warning: syntax, unknown functions and rules, wrong argument
    /// counts, invalid regexes, unused variables, targets outside the XDM field list.
    /// Sorted by place.
    #[must_use]
    pub fn check(&self) -> Vec<Diagnostic> {
        let mut reporter = Reporter::new(&self.source);
        for dataset in self.datasets() {
            compile::compile_dataset(&self.file, &dataset, &mut reporter);
        }
        let mut all = self.parse_diagnostics.clone();
        for d in reporter.diagnostics {
            if !all.contains(&d) {
                all.push(d);
            }
        }
        all.sort_by_key(|d| (d.span.start, d.severity));
        all
    }

    /// Renders diagnostics as `PATH:LINE:COL: kind: message` with the source line and a caret.
    #[must_use]
    pub fn render(&self, diagnostics: &[Diagnostic]) -> String {
        diagnostics
            .iter()
            .map(|d| d.render(&self.path, &self.source))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Compiles the model of `dataset` (or of the only dataset when `None`), applying
    /// `schema`'s column types to events when given.
    ///
    /// # Errors
    /// [`CompileError`] when the rules have errors or the dataset is not modeled.
    pub fn compile(
        &self,
        dataset: Option<&str>,
        schema: Option<&Schema>,
    ) -> Result<Model, CompileError> {
        let datasets = self.datasets();
        let dataset = match dataset {
            Some(d) => match datasets.iter().find(|x| x.eq_ignore_ascii_case(d)) {
                Some(found) => found.clone(),
                None => {
                    return Err(CompileError::NoSuchDataset {
                        path: self.path.clone(),
                        dataset: d.to_owned(),
                        found: datasets.join(", "),
                    });
                }
            },
            None => match datasets.as_slice() {
                [only] => only.clone(),
                [] => {
                    return Err(CompileError::NoSuchDataset {
                        path: self.path.clone(),
                        dataset: String::new(),
                        found: "none".to_owned(),
                    });
                }
                _ => {
                    return Err(CompileError::DatasetNeeded {
                        path: self.path.clone(),
                        found: datasets.join(", "),
                    });
                }
            },
        };
        let mut reporter = Reporter::new(&self.source);
        let plan = compile::compile_dataset(&self.file, &dataset, &mut reporter);
        let errors: Vec<Diagnostic> = self
            .parse_diagnostics
            .iter()
            .chain(&reporter.diagnostics)
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        if !errors.is_empty() {
            return Err(CompileError::Invalid {
                path: self.path.clone(),
                rendered: self.render(&errors),
                diagnostics: errors,
            });
        }
        Ok(Model::new(dataset, plan, schema))
    }
}

/// A compiled model: apply it to any number of events.
#[derive(Debug)]
pub struct Model {
    dataset: String,
    plan: Plan,
    columns: Vec<Option<Column>>,
    outputs: Vec<(String, usize, XdmType)>,
    /// Per output, `,"name":` as JSON text, built once so records are written by copying.
    output_prefixes: Vec<Vec<u8>>,
    /// Lower-cased column names and their slots.
    lookup: slot_table::SlotTable,
    /// The JSON paths the NDJSON reader takes out of path-only columns.
    prefetch: prefetch::Prefetch,
    /// Per slot, the keys kept in its item objects (see `prefetch::projections`).
    projections: Vec<Option<Box<[String]>>>,
    time_slot: usize,
    now_us: i64,
    /// Tells this model's key cache (in the per-thread frame) from other models'.
    id: u64,
}

impl Model {
    fn new(dataset: String, mut plan: Plan, schema: Option<&Schema>) -> Model {
        let columns: Vec<Option<Column>> = plan
            .slots
            .iter()
            .map(|s| schema.and_then(|sc| sc.column(&dataset, &s.name)))
            .collect();
        let outputs: Vec<(String, usize, XdmType)> = plan
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.assigned && s.name.to_ascii_lowercase().starts_with("xdm."))
            .map(|(i, s)| (s.name.clone(), i, xdm::field_type(&s.name)))
            .collect();
        let output_prefixes = outputs
            .iter()
            .map(|(name, _, _)| {
                let mut prefix = vec![b','];
                json_out::string(&mut prefix, name);
                prefix.push(b':');
                prefix
            })
            .collect();
        let time_slot = plan.by_name.get("_time").copied().unwrap_or(0);
        let lookup = slot_table::SlotTable::new(&plan.by_name);
        let prefetch = prefetch::Prefetch::build(&mut plan, &columns, time_slot);
        let projections = prefetch::projections(&plan, &columns, time_slot);
        Model {
            dataset,
            plan,
            columns,
            outputs,
            output_prefixes,
            lookup,
            prefetch,
            projections,
            time_slot,
            now_us: 0,
            id: NEXT_MODEL_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// The dataset this model applies to.
    #[must_use]
    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    /// Fixes the time `current_time()` returns (microseconds since the epoch); the library
    /// never reads the clock itself.
    pub fn set_current_time(&mut self, micros: i64) {
        self.now_us = micros;
    }

    /// The XDM field names this model can write, in order of first assignment.
    #[must_use]
    pub fn output_fields(&self) -> Vec<&str> {
        self.outputs.iter().map(|(n, _, _)| n.as_str()).collect()
    }

    /// Models one event: the record of the first pipeline that keeps it, or `None` when
    /// every pipeline's filter drops it.
    ///
    /// # Errors
    /// [`ApplyError::SchemaMismatch`] when a column does not hold its declared type.
    pub fn apply(
        &self,
        event: &Map<String, Json>,
    ) -> Result<Option<Map<String, Json>>, ApplyError> {
        let frame = self.load(event.iter().map(|(k, v)| (k.as_str(), Value::from_json(v))))?;
        Ok(self.run(frame, true).into_iter().next())
    }

    /// As [`Model::apply`], taking the event by value so nested objects are moved, not copied.
    ///
    /// # Errors
    /// As [`Model::apply`].
    pub fn apply_owned(
        &self,
        event: Map<String, Json>,
    ) -> Result<Option<Map<String, Json>>, ApplyError> {
        let mut frame = Frame::new(self.plan.slots.len());
        for (key, value) in event {
            if let Some(slot) = self.slot_of(&key) {
                frame.row[slot] = self.column_value(slot, Value::from_json_owned(value))?;
            }
        }
        frame.now_us = self.now_us;
        Ok(self.run(frame, true).into_iter().next())
    }

    /// As [`Model::apply`] for any JSON value.
    ///
    /// # Errors
    /// [`ApplyError::NotAnObject`] when `event` is not an object, else as [`Model::apply`].
    pub fn apply_value(&self, event: &Json) -> Result<Option<Map<String, Json>>, ApplyError> {
        match event {
            Json::Object(map) => self.apply(map),
            other => Err(ApplyError::NotAnObject {
                found: json_type(other),
            }),
        }
    }

    /// Every record the model's pipelines produce for one event (several when more than
    /// one pipeline keeps it; XSIAM rules are written so that at most one does).
    ///
    /// # Errors
    /// As [`Model::apply`].
    pub fn apply_all(
        &self,
        event: &Map<String, Json>,
    ) -> Result<Vec<Map<String, Json>>, ApplyError> {
        let frame = self.load(event.iter().map(|(k, v)| (k.as_str(), Value::from_json(v))))?;
        Ok(self.run(frame, false))
    }

    /// The slot of a column name (any case), `None` for columns the rule does not use.
    fn slot_of(&self, key: &str) -> Option<usize> {
        // The table holds lower-cased names: a key found as it is needs no lowering.
        self.lookup.get(key).or_else(|| {
            key.bytes()
                .any(|b| b.is_ascii_uppercase())
                .then(|| self.lookup.get(&key.to_ascii_lowercase()))
                .flatten()
        })
    }

    /// The NDJSON fast path: reads one JSON object, models it and appends the record's
    /// JSON (no newline) to `out`. Returns whether a record was written (`false` when a
    /// filter dropped the event). The line is copied once and every string read from it
    /// shares that copy; columns the rule never reads are checked but not built, and
    /// text read unescaped is written out again without being scanned for escapes.
    ///
    /// # Errors
    /// [`LineError::Json`] when the text is not one JSON object, [`LineError::Apply`] as
    /// [`Model::apply`]. Nothing is appended on error.
    pub fn apply_json_line(&self, line: &str, out: &mut Vec<u8>) -> Result<bool, LineError> {
        // One copy of the line, shared by every string read from it.
        let shared: std::sync::Arc<str> = std::sync::Arc::from(line);
        FRAME.with(|cell| {
            let mut frame = cell.borrow_mut();
            frame.reset(self.plan.slots.len(), self.prefetch.len(), self.now_us);
            if frame.keys.owner != self.id {
                frame.keys.owner = self.id;
                frame.keys.slots.clear();
            }
            let result = self.apply_shared_line(&shared, &mut frame, out);
            // Dropped now, not at the next event: the values share the line.
            frame.reset(0, 0, 0);
            result
        })
    }

    fn apply_shared_line(
        &self,
        shared: &std::sync::Arc<str>,
        frame: &mut Frame,
        out: &mut Vec<u8>,
    ) -> Result<bool, LineError> {
        match self.read_row(shared, frame) {
            Some(None) => {}
            Some(Some(e)) => return Err(LineError::Apply(e)),
            // Not one well-formed object, or one of a shape the reader leaves to serde_json.
            None => {
                frame.reset(self.plan.slots.len(), self.prefetch.len(), self.now_us);
                self.read_row_with_serde(shared, frame)?;
            }
        }
        if self.run_first(frame) {
            self.write_record(frame, out);
            return Ok(true);
        }
        Ok(false)
    }

    /// Reads the line's columns into `frame` in one pass; `None` when the line is left to
    /// [`Model::read_row_with_serde`], else the first column that does not fit the schema.
    fn read_row(
        &self,
        shared: &std::sync::Arc<str>,
        frame: &mut Frame,
    ) -> Option<Option<ApplyError>> {
        let mut failure = None;
        let Frame {
            row,
            scratch,
            prefetched,
            paths,
            keys,
            ..
        } = frame;
        let mut position = 0;
        line::Reader::new(shared, scratch).object(|key, reader| {
            let slot = keys.slot(position, key, |key| self.slot_of(key));
            position += 1;
            if let Some(slot) = slot
                && let Some(root) = self.prefetch.root(slot)
            {
                // A repeated key: its last value wins, prefetched or not.
                let results = self.prefetch.nodes.get(root)?.results.clone();
                paths.get_mut(results)?.fill(None);
                let container = reader.at_container();
                *prefetched.get_mut(slot)? = container;
                if container {
                    row[slot] = Value::Null;
                    return reader.prefetch(&self.prefetch, root, paths);
                }
            }
            match slot {
                Some(slot) => match self.column_value(
                    slot,
                    match self.projections.get(slot) {
                        Some(Some(keys)) => reader.projected_value(keys)?,
                        _ => reader.value(true)?,
                    },
                ) {
                    Ok(v) => row[slot] = v,
                    Err(e) => {
                        failure.get_or_insert(e);
                    }
                },
                None => {
                    reader.value(false)?;
                }
            }
            Some(())
        })?;
        Some(failure)
    }

    fn read_row_with_serde(
        &self,
        shared: &std::sync::Arc<str>,
        frame: &mut Frame,
    ) -> Result<(), LineError> {
        let mut de = serde_json::Deserializer::from_str(shared);
        let mut failure = None;
        serde::de::DeserializeSeed::deserialize(
            row::RowSeed {
                model: self,
                frame,
                failure: &mut failure,
                shared,
            },
            &mut de,
        )
        .map_err(LineError::Json)?;
        de.end().map_err(LineError::Json)?;
        match failure {
            Some(e) => Err(LineError::Apply(e)),
            None => Ok(()),
        }
    }

    fn column_value(&self, slot: usize, value: Value) -> Result<Value, ApplyError> {
        // The common cases, which coercion leaves as they are.
        if slot != self.time_slot
            && matches!(
                (self.columns[slot], &value),
                (None, _)
                    | (
                        Some(Column {
                            kind: ColumnType::String,
                            ..
                        }),
                        Value::Str(_)
                    )
            )
        {
            return Ok(value);
        }
        let value = match self.columns[slot] {
            Some(column) => {
                schema::coerce(value, column).map_err(|found| ApplyError::SchemaMismatch {
                    field: self.plan.slots[slot].name.clone(),
                    expected: column.kind,
                    found,
                })?
            }
            None => value,
        };
        if slot == self.time_slot {
            return Ok(match value {
                Value::Str(s) => time_fmt::parse_iso(&s).map_or(Value::Str(s), Value::Timestamp),
                v @ (Value::Int(_) | Value::Float(_)) => {
                    schema::epoch_guess(&v).map_or(Value::Null, Value::Timestamp)
                }
                other => other,
            });
        }
        Ok(value)
    }

    fn load<'a>(
        &self,
        fields: impl Iterator<Item = (&'a str, Value)>,
    ) -> Result<Frame, ApplyError> {
        let mut frame = Frame::new(self.plan.slots.len());
        for (key, value) in fields {
            if let Some(slot) = self.slot_of(key) {
                frame.row[slot] = self.column_value(slot, value)?;
            }
        }
        frame.now_us = self.now_us;
        Ok(frame)
    }

    fn run(&self, mut frame: Frame, first_only: bool) -> Vec<Map<String, Json>> {
        if first_only {
            return if self.run_first(&mut frame) {
                vec![self.record(&frame)]
            } else {
                Vec::new()
            };
        }
        let mut records = Vec::new();
        let initial = frame.row.clone();
        for (i, steps) in self.plan.pipelines.iter().enumerate() {
            if i > 0 {
                frame.row.clone_from(&initial);
            }
            if run_steps(steps, &mut frame) {
                records.push(self.record(&frame));
            }
        }
        records
    }

    /// Runs the pipelines until one keeps the event, leaving its record in `frame`;
    /// `false` when every pipeline drops it. The loaded row is copied aside only before a
    /// pipeline that can drop the event after changing the row, since only then does the
    /// next pipeline need it back.
    fn run_first(&self, frame: &mut Frame) -> bool {
        let last = self.plan.pipelines.len().saturating_sub(1);
        let mut initial: Option<Vec<Value>> = None;
        for (i, steps) in self.plan.pipelines.iter().enumerate() {
            let restore = i < last && drops_after_assigning(steps);
            if restore && initial.is_none() {
                initial = Some(frame.row.clone());
            }
            if run_steps(steps, frame) {
                return true;
            }
            if restore && let Some(initial) = &initial {
                frame.row.clone_from(initial);
            }
        }
        false
    }

    fn record(&self, frame: &Frame) -> Map<String, Json> {
        let mut out = Map::with_capacity(self.outputs.len() + 1);
        let time = &frame.row[self.time_slot];
        if !time.is_null() {
            out.insert("_time".to_owned(), time.to_json());
        }
        for (name, slot, kind) in &self.outputs {
            let value = &frame.row[*slot];
            if value.is_null() {
                continue;
            }
            out.insert(name.clone(), coerce_output(value, *kind));
        }
        out
    }

    fn write_record(&self, frame: &Frame, out: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        let time = &frame.row[self.time_slot];
        if !time.is_null() {
            out.extend_from_slice(b"\"_time\":");
            json_out::value(out, time);
            first = false;
        }
        for ((_, slot, kind), prefix) in self.outputs.iter().zip(&self.output_prefixes) {
            let value = &frame.row[*slot];
            if value.is_null() {
                continue;
            }
            if first {
                // The prefix starts with the comma that separates fields; the first has none.
                out.extend_from_slice(&prefix[1..]);
                first = false;
            } else {
                out.extend_from_slice(prefix);
            }
            write_output(out, value, *kind);
        }
        out.push(b'}');
    }
}

/// The id of the next model built.
static NEXT_MODEL_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    /// The working frame of [`Model::apply_json_line`], kept so that its buffers are
    /// allocated once per thread rather than once per event.
    static FRAME: std::cell::RefCell<Frame> = std::cell::RefCell::new(Frame::new(0));
}

/// Whether a `filter` follows an `alter` in `steps`: the pipeline can then drop an event
/// after changing its row.
fn drops_after_assigning(steps: &[Step]) -> bool {
    steps
        .iter()
        .skip_while(|s| !matches!(s, Step::Assign(_)))
        .any(|s| matches!(s, Step::Filter(_)))
}

fn run_steps(steps: &[Step], frame: &mut Frame) -> bool {
    for step in steps {
        match step {
            Step::Assign(assigns) => {
                for (slot, node) in assigns {
                    let v = eval::eval(node, frame);
                    frame.row[*slot] = v;
                }
            }
            Step::Filter(cond) => {
                if !eval::eval(cond, frame).is_true() {
                    return false;
                }
            }
        }
    }
    true
}

/// Casts a value to its XDM field's type: a string field receives arrays comma-joined and
/// objects as JSON text (as XSIAM stores them).
fn coerce_output(value: &Value, kind: XdmType) -> Json {
    match (kind, value) {
        (XdmType::String, Value::Array(items)) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(Value::to_text)
                .map(|s| s.to_string())
                .collect();
            Json::String(parts.join(","))
        }
        (XdmType::String, Value::Object(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {
            value
                .to_text()
                .map_or(Json::Null, |s| Json::String(s.to_string()))
        }
        (XdmType::Int, Value::Str(_)) => match functions::to_integer(value) {
            Value::Int(n) => Json::from(n),
            _ => value.to_json(),
        },
        _ => value.to_json(),
    }
}

/// Writes the JSON of [`coerce_output`]'s result straight into `out`.
fn write_output(out: &mut Vec<u8>, value: &Value, kind: XdmType) {
    match (kind, value) {
        (XdmType::String, Value::Array(items)) => {
            out.push(b'"');
            let mut first = true;
            for item in items.iter() {
                let Some(text) = item.to_text() else {
                    continue;
                };
                if !first {
                    out.push(b',');
                }
                first = false;
                json_out::text_content(out, &text);
            }
            out.push(b'"');
        }
        (XdmType::String, Value::Object(_)) => {
            out.push(b'"');
            json_out::value_in_string(out, value);
            out.push(b'"');
        }
        (XdmType::String, Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {
            match value.to_text() {
                Some(text) => json_out::text(out, &text),
                None => out.extend_from_slice(b"null"),
            }
        }
        (XdmType::Int, Value::Str(_)) => match functions::to_integer(value) {
            Value::Int(n) => json_out::value(out, &Value::Int(n)),
            _ => json_out::value(out, value),
        },
        _ => json_out::value(out, value),
    }
}

/// Why one NDJSON line could not be modeled.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The line is not one JSON object.
    #[error("not a JSON object: {0}")]
    Json(serde_json::Error),
    /// The event does not fit the schema.
    #[error(transparent)]
    Apply(ApplyError),
}

mod row {
    //! Deserialises an event's top-level object straight into the model's slots.

    use std::fmt;

    use std::sync::Arc;

    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

    use crate::eval::Frame;
    use crate::value::ValueSeed;
    use crate::{ApplyError, Model};

    pub(crate) struct RowSeed<'a> {
        pub(crate) model: &'a Model,
        pub(crate) frame: &'a mut Frame,
        pub(crate) failure: &'a mut Option<ApplyError>,
        /// The line being read, shared by the strings read from it.
        pub(crate) shared: &'a Arc<str>,
    }

    struct KeySeed<'a>(&'a Model);

    impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
        type Value = Option<usize>;

        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(self)
        }
    }

    impl Visitor<'_> for KeySeed<'_> {
        type Value = Option<usize>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a field name")
        }

        fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Self::Value, E> {
            Ok(self.0.slot_of(key))
        }
    }

    impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
        type Value = ();

        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }

    impl<'de> Visitor<'de> for RowSeed<'_> {
        type Value = ();

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object (one event)")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(slot) = map.next_key_seed(KeySeed(self.model))? {
                match slot {
                    Some(slot) => {
                        let value = map.next_value_seed(ValueSeed {
                            shared: Some(self.shared),
                        })?;
                        match self.model.column_value(slot, value) {
                            Ok(v) => self.frame.row[slot] = v,
                            Err(e) => {
                                if self.failure.is_none() {
                                    *self.failure = Some(e);
                                }
                            }
                        }
                    }
                    None => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(())
        }
    }
}

fn json_type(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Compiles the model of every dataset the rules declare, keyed by lower-cased dataset.
///
/// # Errors
/// The first [`CompileError`].
pub fn compile_all(
    rules: &Rules,
    schema: Option<&Schema>,
) -> Result<HashMap<String, Model>, CompileError> {
    let mut out = HashMap::new();
    for dataset in rules.datasets() {
        let model = rules.compile(Some(&dataset), schema)?;
        out.insert(dataset.to_ascii_lowercase(), model);
    }
    Ok(out)
}
