//! The syntax tree of a rules file, as written (before compilation).

use crate::diag::Span;

/// A parsed rules file: every section in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesFile {
    /// `[MODEL: ...]` and `[RULE: ...]` sections in source order.
    pub sections: Vec<Section>,
}

/// One section of a rules file.
#[derive(Debug, Clone, PartialEq)]
pub enum Section {
    /// `[MODEL: dataset=..., ...]`: pipelines applied to one dataset.
    Model(Model),
    /// `[RULE: name]`: stages spliced in wherever `call name` appears.
    Rule(Rule),
}

/// A `[MODEL: ...]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The `dataset=` parameter (quotes removed); empty when missing (an error is reported).
    pub dataset: String,
    /// Every `name=value` parameter of the header, in order.
    pub params: Vec<(String, String)>,
    /// The `;`-terminated pipelines of the section.
    pub pipelines: Vec<Pipeline>,
    /// The header's place.
    pub span: Span,
}

/// A `[RULE: name]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule's name, as written.
    pub name: String,
    /// Its stages (a rule body is usually one pipeline).
    pub pipelines: Vec<Pipeline>,
    /// The header's place.
    pub span: Span,
}

/// Stages joined by `|` and ended by `;`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The stages, in order.
    pub stages: Vec<Stage>,
}

/// One stage of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// `alter target = expr, ...`
    Alter(Vec<Assign>),
    /// `filter expr`
    Filter(Expr),
    /// `call rule_name`
    Call {
        /// The called rule.
        name: String,
        /// Where the call is written.
        span: Span,
    },
}

/// `target = expr` inside an `alter`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    /// The assigned field (`xdm.*`, a temporary or a raw field).
    pub target: String,
    /// Where the target is written.
    pub target_span: Span,
    /// The value.
    pub value: Expr,
}

/// An expression with its place.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// Binary operators, comparison and arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `~=` (regex search)
    Match,
    /// `!~=`
    NotMatch,
    /// `contains`
    Contains,
    /// `not contains`
    NotContains,
    /// `incidr`
    InCidr,
    /// `not incidr`
    NotInCidr,
    /// `incidr6`
    InCidr6,
    /// `not incidr6`
    NotInCidr6,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// What `->` extracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonAccess {
    /// `x -> a.b`: a scalar as text.
    Scalar,
    /// `x -> a{}`: a sub-object as JSON text.
    Object,
    /// `x -> a[]`: an array of JSON texts.
    Array,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// An integer literal.
    Int(i64),
    /// A decimal literal.
    Float(f64),
    /// A string literal, body verbatim; triple-quoted strings interpret `\\`.
    Str {
        /// The text between the quotes.
        body: String,
        /// Written `"""..."""`.
        triple: bool,
    },
    /// `"@element"`: the current element inside `arraymap` / `arrayfilter`.
    Element,
    /// A field reference (dotted names joined).
    Field(String),
    /// `XDM_CONST.NAME`
    Const(String),
    /// `name(args...)`
    Call {
        /// Function name as written.
        name: String,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `not x`
    Not(Box<Expr>),
    /// `-x`
    Neg(Box<Expr>),
    /// `l op r`
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `x in (a, b)` / `x not in (...)`
    In {
        /// Whether `not in`.
        negated: bool,
        /// The tested value.
        value: Box<Expr>,
        /// The candidates.
        list: Vec<Expr>,
    },
    /// `x -> path`
    Json {
        /// The JSON value or text.
        value: Box<Expr>,
        /// Path segments (keys, or numeric indexes as text).
        path: Vec<String>,
        /// What is extracted.
        access: JsonAccess,
    },
}
