//! Diagnostics: errors and warnings that name a place in a rules source.

use std::fmt;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The rules cannot be compiled or run.
    Error,
    /// The rules run, but probably not as the author meant.
    Warning,
}

/// A byte range in a rules source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    #[must_use]
    pub fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// The smallest span covering both.
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }
}

/// One problem found in a rules source, with the place it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where in the source.
    pub span: Span,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column (in characters) of `span.start`.
    pub column: usize,
}

impl Diagnostic {
    /// Whether this diagnostic is an error.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Renders `PATH:LINE:COL: error: message`, the source line and a caret under the place.
    #[must_use]
    pub fn render(&self, path: &str, source: &str) -> String {
        let kind = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let line_text = source
            .lines()
            .nth(self.line.saturating_sub(1))
            .unwrap_or("");
        let gutter = self.line.to_string();
        let pad = " ".repeat(gutter.len());
        // Tabs are kept so the caret lines up under the same characters in a terminal.
        let lead: String = line_text
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let width = source.get(self.span.start..self.span.end).map_or(1, |s| {
            s.lines().next().map_or(1, |l| l.chars().count().max(1))
        });
        format!(
            "{path}:{line}:{col}: {kind}: {msg}\n{pad} |\n{gutter} | {line_text}\n{pad} | {lead}{carets}",
            line = self.line,
            col = self.column,
            msg = self.message,
            carets = "^".repeat(width),
        )
    }
}

/// Maps byte offsets to 1-based line and column numbers.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(source: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', source.as_bytes()).map(|i| i + 1));
        Self { starts }
    }

    pub(crate) fn position(&self, source: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = source
            .get(start..offset.min(source.len()))
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }
}

/// Builds diagnostics with line and column filled in.
#[derive(Debug)]
pub(crate) struct Reporter<'s> {
    source: &'s str,
    index: LineIndex,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'s> Reporter<'s> {
    pub(crate) fn new(source: &'s str) -> Self {
        Self {
            source,
            index: LineIndex::new(source),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, severity: Severity, span: Span, message: impl Into<String>) {
        let (line, column) = self.index.position(self.source, span.start);
        self.diagnostics.push(Diagnostic {
            severity,
            message: message.into(),
            span,
            line,
            column,
        });
    }

    pub(crate) fn source(&self) -> &'s str {
        self.source
    }

    pub(crate) fn error(&mut self, span: Span, message: impl Into<String>) {
        self.push(Severity::Error, span, message);
    }

    pub(crate) fn warning(&mut self, span: Span, message: impl Into<String>) {
        self.push(Severity::Warning, span, message);
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}
