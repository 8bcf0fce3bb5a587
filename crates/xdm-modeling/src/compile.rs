//! Compiles a parsed model into a plan: fields resolved to slots, regexes and JSON paths
//! compiled once, constant sub-expressions folded, `call` spliced in.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;

use crate::ast::{BinOp, Expr, ExprKind, JsonAccess, Model, Pipeline, RulesFile, Section, Stage};
use crate::diag::{Reporter, Span};
use crate::functions::{self, Arith, Builtin};
use crate::json_path::{self, JsonPath};
use crate::value::{Text, Value};
use crate::xdm;

/// A compiled expression.
#[derive(Debug)]
pub(crate) enum Node {
    Lit(Value),
    Slot(usize),
    Element,
    If(Vec<(Node, Node)>, Box<Node>),
    Coalesce(Vec<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
    IsNull(Box<Node>, bool),
    Compare(Cmp, Box<Node>, Box<Node>),
    Regex(Box<Node>, Pattern, bool),
    Contains(Box<Node>, Box<Node>, bool),
    InCidr(Box<Node>, Box<Node>, bool, bool),
    In(Box<Node>, Vec<InItem>, bool),
    Json(Box<Node>, PathArg, Extract),
    Regextract(Box<Node>, Pattern),
    RegexCapture(Box<Node>, Pattern),
    Replex(Box<Node>, Pattern, Box<Node>),
    Lambda(LambdaKind, Box<Node>, Box<Node>),
    Arith(Arith, Box<Node>, Box<Node>),
    Neg(Box<Node>),
    CurrentTime,
    Call(&'static Builtin, Vec<Node>),
    /// `object_create` with distinct literal keys: built without checking for repeats.
    ObjectCreate(Vec<(Text, Node)>),
    /// `arrayconcat` / `arraymerge`: arguments that are `arraycreate` calls (or `if`s
    /// choosing between such) push their items straight into the result.
    ArrayConcat(Vec<Node>),
    /// `arrayindex(regextract(value, fixed pattern), n)` with a literal `n >= 0`: the nth
    /// match found without building the array of all matches.
    RegextractIndex(Box<Node>, Arc<Regex>, usize),
    /// A fixed path in a column the NDJSON reader prefetches (see `prefetch.rs`): the
    /// prefetched node when the frame has it, else `path` followed in the column.
    PathOf {
        slot: usize,
        result: usize,
        path: JsonPath,
        extract: Extract,
        /// The prefetched result is `json_extract_array`'s own (item JSON texts).
        texts: bool,
    },
}

/// Calls `f` on each node directly below `node`.
pub(crate) fn for_each_child(node: &Node, f: &mut dyn FnMut(&Node)) {
    match node {
        Node::Lit(_) | Node::Slot(_) | Node::Element | Node::CurrentTime | Node::PathOf { .. } => {}
        Node::If(branches, otherwise) => {
            for (c, v) in branches {
                f(c);
                f(v);
            }
            f(otherwise);
        }
        Node::Coalesce(items) | Node::Call(_, items) | Node::ArrayConcat(items) => {
            items.iter().for_each(f);
        }
        Node::RegextractIndex(a, _, _) => f(a),
        Node::ObjectCreate(entries) => entries.iter().for_each(|(_, n)| f(n)),
        Node::And(a, b)
        | Node::Or(a, b)
        | Node::Compare(_, a, b)
        | Node::Contains(a, b, _)
        | Node::InCidr(a, b, _, _)
        | Node::Arith(_, a, b)
        | Node::Lambda(_, a, b) => {
            f(a);
            f(b);
        }
        Node::Not(a) | Node::IsNull(a, _) | Node::Neg(a) => f(a),
        Node::Regex(a, p, _) | Node::Regextract(a, p) | Node::RegexCapture(a, p) => {
            f(a);
            if let Pattern::Dynamic(n) = p {
                f(n);
            }
        }
        Node::Replex(a, p, r) => {
            f(a);
            if let Pattern::Dynamic(n) = p {
                f(n);
            }
            f(r);
        }
        Node::In(a, items, _) => {
            f(a);
            for item in items {
                if let InItem::Node(n) = item {
                    f(n);
                }
            }
        }
        Node::Json(a, p, _) => {
            f(a);
            if let PathArg::Dynamic(n) = p {
                f(n);
            }
        }
    }
}

/// Calls `f` on each node directly below `node`, mutably.
pub(crate) fn for_each_child_mut(node: &mut Node, f: &mut dyn FnMut(&mut Node)) {
    match node {
        Node::Lit(_) | Node::Slot(_) | Node::Element | Node::CurrentTime | Node::PathOf { .. } => {}
        Node::If(branches, otherwise) => {
            for (c, v) in branches {
                f(c);
                f(v);
            }
            f(otherwise);
        }
        Node::Coalesce(items) | Node::Call(_, items) | Node::ArrayConcat(items) => {
            items.iter_mut().for_each(f);
        }
        Node::RegextractIndex(a, _, _) => f(a),
        Node::ObjectCreate(entries) => entries.iter_mut().for_each(|(_, n)| f(n)),
        Node::And(a, b)
        | Node::Or(a, b)
        | Node::Compare(_, a, b)
        | Node::Contains(a, b, _)
        | Node::InCidr(a, b, _, _)
        | Node::Arith(_, a, b)
        | Node::Lambda(_, a, b) => {
            f(a);
            f(b);
        }
        Node::Not(a) | Node::IsNull(a, _) | Node::Neg(a) => f(a),
        Node::Regex(a, p, _) | Node::Regextract(a, p) | Node::RegexCapture(a, p) => {
            f(a);
            if let Pattern::Dynamic(n) = p {
                f(n);
            }
        }
        Node::Replex(a, p, r) => {
            f(a);
            if let Pattern::Dynamic(n) = p {
                f(n);
            }
            f(r);
        }
        Node::In(a, items, _) => {
            f(a);
            for item in items {
                if let InItem::Node(n) = item {
                    f(n);
                }
            }
        }
        Node::Json(a, p, _) => {
            f(a);
            if let PathArg::Dynamic(n) = p {
                f(n);
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug)]
pub(crate) enum Pattern {
    Fixed(Arc<Regex>),
    Dynamic(Box<Node>),
}

#[derive(Debug)]
pub(crate) enum PathArg {
    Fixed(JsonPath),
    Dynamic(Box<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Extract {
    Scalar,
    Json,
    Array,
    ScalarArray,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LambdaKind {
    Map,
    Filter,
    IndexOf,
    Any,
    All,
}

#[derive(Debug)]
pub(crate) enum InItem {
    Null,
    Wildcard(String),
    Node(Node),
}

/// One stage of a compiled pipeline.
#[derive(Debug)]
pub(crate) enum Step {
    Assign(Vec<(usize, Node)>),
    Filter(Node),
}

/// A column the plan reads or writes.
#[derive(Debug, Clone)]
pub(crate) struct SlotInfo {
    /// The name as first written.
    pub(crate) name: String,
    /// Whether the rule assigns it.
    pub(crate) assigned: bool,
    /// Where it was first assigned (for warnings).
    pub(crate) assigned_at: Option<Span>,
    /// Whether the rule reads it.
    pub(crate) read: bool,
}

/// The compiled form of one dataset's pipelines.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) slots: Vec<SlotInfo>,
    pub(crate) by_name: HashMap<String, usize>,
    pub(crate) pipelines: Vec<Vec<Step>>,
}

struct Compiler<'r, 's> {
    reporter: &'r mut Reporter<'s>,
    slots: Vec<SlotInfo>,
    by_name: HashMap<String, usize>,
    rules: HashMap<String, &'r [Pipeline]>,
    lambda_depth: usize,
}

/// Compiles every `[MODEL]` section for `dataset` (case-insensitive) into one plan.
pub(crate) fn compile_dataset(
    file: &RulesFile,
    dataset: &str,
    reporter: &mut Reporter<'_>,
) -> Plan {
    let models: Vec<&Model> = file
        .sections
        .iter()
        .filter_map(|s| match s {
            Section::Model(m) if m.dataset.eq_ignore_ascii_case(dataset) => Some(m),
            _ => None,
        })
        .collect();
    let mut rules = HashMap::new();
    for section in &file.sections {
        if let Section::Rule(rule) = section
            && rules
                .insert(rule.name.to_ascii_lowercase(), rule.pipelines.as_slice())
                .is_some()
        {
            reporter.error(rule.span, format!("rule `{}` is defined twice", rule.name));
        }
    }
    let mut compiler = Compiler {
        reporter,
        slots: Vec::new(),
        by_name: HashMap::new(),
        rules,
        lambda_depth: 0,
    };
    // `_time` always has a slot so that it flows from the event to the record.
    compiler.slot("_time");
    let mut pipelines = Vec::new();
    for model in models {
        for pipeline in &model.pipelines {
            let mut steps = Vec::new();
            compiler.pipeline(pipeline, &mut steps, &mut Vec::new());
            pipelines.push(steps);
        }
    }
    compiler.warn_unused();
    Plan {
        slots: compiler.slots,
        by_name: compiler.by_name,
        pipelines,
    }
}

impl Compiler<'_, '_> {
    fn slot(&mut self, name: &str) -> usize {
        let key = name.to_ascii_lowercase();
        if let Some(&i) = self.by_name.get(&key) {
            return i;
        }
        let i = self.slots.len();
        self.slots.push(SlotInfo {
            name: name.to_owned(),
            assigned: false,
            assigned_at: None,
            read: false,
        });
        self.by_name.insert(key, i);
        i
    }

    fn pipeline(&mut self, pipeline: &Pipeline, steps: &mut Vec<Step>, calling: &mut Vec<String>) {
        for stage in &pipeline.stages {
            match stage {
                Stage::Alter(assigns) => {
                    let mut out = Vec::with_capacity(assigns.len());
                    for assign in assigns {
                        let node = self.expr(&assign.value);
                        let slot = self.slot(&assign.target);
                        let info = &mut self.slots[slot];
                        if !info.assigned {
                            info.assigned = true;
                            info.assigned_at = Some(assign.target_span);
                        }
                        let lower = assign.target.to_ascii_lowercase();
                        if lower.starts_with("xdm.") && !xdm::is_known_field(&lower) {
                            self.reporter.warning(
                                assign.target_span,
                                format!("`{}` is not a field of the XDM schema", assign.target),
                            );
                        }
                        out.push((slot, node));
                    }
                    steps.push(Step::Assign(out));
                }
                Stage::Filter(expr) => {
                    let node = self.expr(expr);
                    steps.push(Step::Filter(node));
                }
                Stage::Call { name, span } => {
                    let key = name.to_ascii_lowercase();
                    if calling.contains(&key) {
                        self.reporter
                            .error(*span, format!("rule `{name}` calls itself"));
                        continue;
                    }
                    match self.rules.get(&key).copied() {
                        Some(body) => {
                            calling.push(key);
                            for inner in body {
                                self.pipeline(inner, steps, calling);
                            }
                            calling.pop();
                        }
                        None => self
                            .reporter
                            .error(*span, format!("no `[RULE: {name}]` section to call")),
                    }
                }
            }
        }
    }

    fn warn_unused(&mut self) {
        let unused: Vec<(String, Span)> = self
            .slots
            .iter()
            .filter(|s| {
                s.assigned
                    && !s.read
                    && !s.name.to_ascii_lowercase().starts_with("xdm.")
                    && s.name != "_time"
            })
            .filter_map(|s| s.assigned_at.map(|at| (s.name.clone(), at)))
            .collect();
        for (name, at) in unused {
            self.reporter
                .warning(at, format!("variable `{name}` is assigned but never used"));
        }
    }

    fn boxed(&mut self, e: &Expr) -> Box<Node> {
        Box::new(self.expr(e))
    }

    /// Compiles an expression, folding it when it reads nothing from the event.
    fn expr(&mut self, e: &Expr) -> Node {
        let node = self.expr_inner(e);
        fold(node)
    }

    fn regex_arg(&mut self, e: &Expr) -> Pattern {
        match &e.kind {
            ExprKind::Str { body, triple } => {
                let text = if *triple {
                    unescape_triple(body)
                } else {
                    body.clone()
                };
                match Regex::new(&re2_to_rust(&text)) {
                    Ok(re) => Pattern::Fixed(Arc::new(re)),
                    Err(err) => {
                        let first = err
                            .to_string()
                            .lines()
                            .last()
                            .unwrap_or_default()
                            .to_owned();
                        self.reporter
                            .error(e.span, format!("invalid regular expression: {first}"));
                        Pattern::Dynamic(Box::new(Node::Lit(Value::Null)))
                    }
                }
            }
            _ => Pattern::Dynamic(Box::new(fold(self.expr_inner(e)))),
        }
    }

    fn path_arg(&mut self, e: &Expr) -> PathArg {
        match &e.kind {
            ExprKind::Str { body, .. } => match JsonPath::parse(body) {
                Some(path) => PathArg::Fixed(path),
                None => {
                    self.reporter
                        .error(e.span, format!("invalid JSON path `{body}`"));
                    PathArg::Fixed(JsonPath(vec![String::new()]))
                }
            },
            _ => PathArg::Dynamic(self.boxed(e)),
        }
    }

    fn expr_inner(&mut self, e: &Expr) -> Node {
        match &e.kind {
            ExprKind::Null => Node::Lit(Value::Null),
            ExprKind::Bool(b) => Node::Lit(Value::Bool(*b)),
            ExprKind::Int(n) => Node::Lit(Value::Int(*n)),
            ExprKind::Float(f) => Node::Lit(Value::Float(*f)),
            ExprKind::Str { body, triple } => Node::Lit(Value::Str(Text::checked(&if *triple {
                unescape_triple(body)
            } else {
                unescape_plain(body)
            }))),
            ExprKind::Element => {
                if self.lambda_depth == 0 {
                    self.reporter.warning(
                        e.span,
                        "\"@element\" outside arraymap/arrayfilter is the literal text",
                    );
                    Node::Lit(Value::str("@element"))
                } else {
                    Node::Element
                }
            }
            ExprKind::Field(name) => {
                let slot = self.slot(name);
                self.slots[slot].read = true;
                Node::Slot(slot)
            }
            ExprKind::Const(name) => match xdm::resolve_const(name) {
                Some(v) => Node::Lit(Value::Str(Text::checked(&v))),
                None => {
                    self.reporter.warning(
                        e.span,
                        format!("`XDM_CONST.{name}` belongs to no known constant group; it renders as `{name}`"),
                    );
                    Node::Lit(Value::str(name))
                }
            },
            ExprKind::Not(inner) => Node::Not(self.boxed(inner)),
            ExprKind::Neg(inner) => Node::Neg(self.boxed(inner)),
            ExprKind::Binary { op, left, right } => self.binary(*op, left, right),
            ExprKind::In {
                negated,
                value,
                list,
            } => {
                let value = self.boxed(value);
                let items = list
                    .iter()
                    .map(|item| match &item.kind {
                        ExprKind::Null => InItem::Null,
                        ExprKind::Str {
                            body,
                            triple: false,
                        } if body.contains('*') => InItem::Wildcard(unescape_plain(body)),
                        _ => InItem::Node(self.expr(item)),
                    })
                    .collect();
                Node::In(value, items, *negated)
            }
            ExprKind::Json {
                value,
                path,
                access,
            } => {
                let value = self.boxed(value);
                let extract = match access {
                    JsonAccess::Scalar => Extract::Scalar,
                    JsonAccess::Object => Extract::Json,
                    JsonAccess::Array => Extract::Array,
                };
                Node::Json(value, PathArg::Fixed(JsonPath(path.clone())), extract)
            }
            ExprKind::Call { name, args } => self.call(name, args, e.span),
        }
    }

    fn binary(&mut self, op: BinOp, left: &Expr, right: &Expr) -> Node {
        let null_test = |l: &Expr, r: &Expr| -> Option<Expr> {
            match (&l.kind, &r.kind) {
                (_, ExprKind::Null) => Some(l.clone()),
                (ExprKind::Null, _) => Some(r.clone()),
                _ => None,
            }
        };
        match op {
            BinOp::Eq | BinOp::Ne => {
                // `x = null` / `x != null` are explicit null tests, not three-valued equality.
                if let Some(tested) = null_test(left, right) {
                    return Node::IsNull(self.boxed(&tested), op == BinOp::Ne);
                }
                let c = if op == BinOp::Eq { Cmp::Eq } else { Cmp::Ne };
                Node::Compare(c, self.boxed(left), self.boxed(right))
            }
            BinOp::Lt => Node::Compare(Cmp::Lt, self.boxed(left), self.boxed(right)),
            BinOp::Le => Node::Compare(Cmp::Le, self.boxed(left), self.boxed(right)),
            BinOp::Gt => Node::Compare(Cmp::Gt, self.boxed(left), self.boxed(right)),
            BinOp::Ge => Node::Compare(Cmp::Ge, self.boxed(left), self.boxed(right)),
            BinOp::And => Node::And(self.boxed(left), self.boxed(right)),
            BinOp::Or => Node::Or(self.boxed(left), self.boxed(right)),
            BinOp::Match | BinOp::NotMatch => {
                let value = self.boxed(left);
                Node::Regex(value, self.regex_arg(right), op == BinOp::NotMatch)
            }
            BinOp::Contains | BinOp::NotContains => Node::Contains(
                self.boxed(left),
                self.boxed(right),
                op == BinOp::NotContains,
            ),
            BinOp::InCidr | BinOp::NotInCidr => Node::InCidr(
                self.boxed(left),
                self.boxed(right),
                false,
                op == BinOp::NotInCidr,
            ),
            BinOp::InCidr6 | BinOp::NotInCidr6 => Node::InCidr(
                self.boxed(left),
                self.boxed(right),
                true,
                op == BinOp::NotInCidr6,
            ),
            BinOp::Add => Node::Arith(Arith::Add, self.boxed(left), self.boxed(right)),
            BinOp::Sub => Node::Arith(Arith::Sub, self.boxed(left), self.boxed(right)),
            BinOp::Mul => Node::Arith(Arith::Mul, self.boxed(left), self.boxed(right)),
            BinOp::Div => Node::Arith(Arith::Div, self.boxed(left), self.boxed(right)),
        }
    }

    fn arity(&mut self, name: &str, args: &[Expr], span: Span, min: usize, max: usize) -> bool {
        if args.len() < min || args.len() > max {
            let expected = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            self.reporter.error(
                span,
                format!(
                    "`{name}` takes {expected} argument(s), found {}",
                    args.len()
                ),
            );
            return false;
        }
        true
    }

    fn call(&mut self, name: &str, args: &[Expr], span: Span) -> Node {
        let lower = name.to_ascii_lowercase();
        let special = match lower.as_str() {
            "if" => Some((1, usize::MAX)),
            "coalesce" => Some((1, usize::MAX)),
            "regextract" | "regexcapture" => Some((2, 2)),
            "replex" => Some((3, 3)),
            "json_extract"
            | "json_extract_scalar"
            | "json_extract_array"
            | "json_extract_scalar_array" => Some((2, 2)),
            "arraymap" | "arrayfilter" | "arrayindexof" | "array_any" | "array_all" => Some((2, 2)),
            "current_time" => Some((0, 0)),
            _ => None,
        };
        if let Some((min, max)) = special {
            if !self.arity(name, args, span, min, max) {
                return Node::Lit(Value::Null);
            }
            return match lower.as_str() {
                "if" => {
                    let mut branches = Vec::new();
                    let mut chunks = args.chunks_exact(2);
                    for pair in &mut chunks {
                        branches.push((self.expr(&pair[0]), self.expr(&pair[1])));
                    }
                    let otherwise = chunks
                        .remainder()
                        .first()
                        .map_or(Node::Lit(Value::Null), |e| self.expr(e));
                    if branches.is_empty() {
                        // `if(x)`: a lone argument is the condition with no value.
                        return Node::Lit(Value::Null);
                    }
                    Node::If(branches, Box::new(otherwise))
                }
                "coalesce" => Node::Coalesce(args.iter().map(|a| self.expr(a)).collect()),
                "regextract" => Node::Regextract(self.boxed(&args[0]), self.regex_arg(&args[1])),
                "regexcapture" => {
                    Node::RegexCapture(self.boxed(&args[0]), self.regex_arg(&args[1]))
                }
                "replex" => {
                    let value = self.boxed(&args[0]);
                    let pattern = self.regex_arg(&args[1]);
                    Node::Replex(value, pattern, self.boxed(&args[2]))
                }
                "json_extract"
                | "json_extract_scalar"
                | "json_extract_array"
                | "json_extract_scalar_array" => {
                    let extract = match lower.as_str() {
                        "json_extract" => Extract::Json,
                        "json_extract_scalar" => Extract::Scalar,
                        "json_extract_array" => Extract::Array,
                        _ => Extract::ScalarArray,
                    };
                    let value = self.boxed(&args[0]);
                    Node::Json(value, self.path_arg(&args[1]), extract)
                }
                "current_time" => Node::CurrentTime,
                _ => {
                    let kind = match lower.as_str() {
                        "arraymap" => LambdaKind::Map,
                        "arrayfilter" => LambdaKind::Filter,
                        "arrayindexof" => LambdaKind::IndexOf,
                        "array_any" => LambdaKind::Any,
                        _ => LambdaKind::All,
                    };
                    let array = self.boxed(&args[0]);
                    self.lambda_depth += 1;
                    let body = self.boxed(&args[1]);
                    self.lambda_depth -= 1;
                    Node::Lambda(kind, array, body)
                }
            };
        }
        match functions::builtin(name) {
            Some(builtin) => {
                if !self.arity(name, args, span, builtin.min, builtin.max) {
                    return Node::Lit(Value::Null);
                }
                let args: Vec<Node> = args.iter().map(|a| self.expr(a)).collect();
                match builtin.name {
                    "object_create" => {}
                    "arrayconcat" | "arraymerge" => return Node::ArrayConcat(args),
                    "arrayindex" => return regextract_index(builtin, args),
                    _ => return Node::Call(builtin, args),
                }
                match literal_key_entries(args) {
                    Ok(entries) => Node::ObjectCreate(entries),
                    Err(args) => Node::Call(builtin, args),
                }
            }
            None => {
                self.reporter
                    .error(span, format!("unknown function `{name}`"));
                Node::Lit(Value::Null)
            }
        }
    }
}

/// Ordinary strings keep backslashes, except `\"` and `\'` which mean the quote.
pub(crate) fn unescape_plain(body: &str) -> String {
    if !body.contains('\\') {
        return body.to_owned();
    }
    body.replace("\\\"", "\"").replace("\\'", "'")
}

/// RE2 reads `\<` and `\>` as the literal angle brackets; the regex crate reads them as
/// word boundaries (and rejects them in classes), so they are unescaped first.
pub(crate) fn re2_to_rust(pattern: &str) -> String {
    if !pattern.contains("\\<") && !pattern.contains("\\>") {
        return pattern.to_owned();
    }
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('<' | '>')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Triple-quoted strings interpret `\\` as one backslash.
fn unescape_triple(body: &str) -> String {
    body.replace("\\\\", "\\")
}

fn reads_event(node: &Node) -> bool {
    match node {
        Node::Lit(_) => false,
        Node::Slot(_) | Node::Element | Node::CurrentTime | Node::PathOf { .. } => true,
        other => {
            let mut reads = false;
            for_each_child(other, &mut |child| reads = reads || reads_event(child));
            reads
        }
    }
}

/// `arrayindex`'s node: fused with a `regextract` of a fixed pattern at a literal index.
fn regextract_index(builtin: &'static Builtin, mut args: Vec<Node>) -> Node {
    if let [
        Node::Regextract(_, Pattern::Fixed(_)),
        Node::Lit(Value::Int(n)),
    ] = args.as_slice()
        && let Ok(n) = usize::try_from(*n)
        && let Some(Node::Regextract(value, Pattern::Fixed(re))) = args.drain(..1).next()
    {
        return Node::RegextractIndex(value, re, n);
    }
    Node::Call(builtin, args)
}

/// `object_create`'s arguments as (key, value) pairs when they come in pairs whose keys
/// are distinct literal strings; the arguments back otherwise.
fn literal_key_entries(args: Vec<Node>) -> Result<Vec<(Text, Node)>, Vec<Node>> {
    let distinct_literals = args.len().is_multiple_of(2)
        && args.chunks_exact(2).enumerate().all(|(i, pair)| {
            matches!(&pair[0], Node::Lit(Value::Str(key))
                if !args[..2 * i].chunks_exact(2).any(|seen| matches!(&seen[0], Node::Lit(Value::Str(k)) if k == key)))
        });
    if !distinct_literals {
        return Err(args);
    }
    let mut entries = Vec::with_capacity(args.len() / 2);
    let mut items = args.into_iter();
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        if let Node::Lit(Value::Str(key)) = key {
            entries.push((key, value));
        }
    }
    Ok(entries)
}

/// Replaces an expression that reads nothing from the event by its value.
fn fold(node: Node) -> Node {
    if matches!(node, Node::Lit(_)) || reads_event(&node) {
        return node;
    }
    let mut frame = crate::eval::Frame::new(0);
    Node::Lit(crate::eval::eval(&node, &mut frame))
}

fn extractor(extract: Extract) -> fn(&Value) -> Option<Value> {
    match extract {
        Extract::Scalar => json_path::scalar_text,
        Extract::Json => json_path::json_text,
        Extract::Array => json_path::array_texts,
        Extract::ScalarArray => json_path::array_scalars,
    }
}

/// What the `Json` node gives for the node found at its path.
pub(crate) fn extract_node(node: &Value, extract: Extract) -> Value {
    extractor(extract)(node).unwrap_or_default()
}

/// Text of a JSON value at a path, for the `Json` node.
pub(crate) fn extract(value: &Value, path: &JsonPath, extract: Extract) -> Value {
    let f = extractor(extract);
    if path.0.is_empty() {
        return json_path::with_json(value, f).unwrap_or_default();
    }
    json_path::lookup(value, path, f).unwrap_or_default()
}
