//! Recursive-descent parser that never gives up: it returns the tree it could build plus
//! every error it found, recovering at `,`, `|`, `;` and section headers.

use crate::ast::{
    Assign, BinOp, Expr, ExprKind, JsonAccess, Model, Pipeline, Rule, RulesFile, Section, Stage,
};
use crate::diag::{Reporter, Span};
use crate::lexer::{HeaderKind, Tok, Token};

/// Deeper nesting than this is reported instead of risking the stack.
const MAX_DEPTH: usize = 200;

/// An error already reported; the caller recovers.
struct Reported;

type PResult<T> = Result<T, Reported>;

pub(crate) struct Parser<'t, 'r, 's> {
    tokens: &'t [Token],
    pos: usize,
    depth: usize,
    reporter: &'r mut Reporter<'s>,
}

fn is_kw(tok: &Tok, kw: &str) -> bool {
    matches!(tok, Tok::Ident(s) if s.eq_ignore_ascii_case(kw))
}

impl<'t, 'r, 's> Parser<'t, 'r, 's> {
    pub(crate) fn new(tokens: &'t [Token], reporter: &'r mut Reporter<'s>) -> Self {
        Self {
            tokens,
            pos: 0,
            depth: 0,
            reporter,
        }
    }

    fn peek(&self) -> &Tok {
        &self.tokens[self.pos.min(self.tokens.len() - 1)].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.tokens[(self.pos + n).min(self.tokens.len() - 1)].tok
    }

    fn span(&self) -> Span {
        self.tokens[self.pos.min(self.tokens.len() - 1)].span
    }

    fn prev_span(&self) -> Span {
        self.tokens[self.pos.saturating_sub(1)].span
    }

    fn bump(&mut self) -> Token {
        let token = self.tokens[self.pos.min(self.tokens.len() - 1)].clone();
        if self.pos < self.tokens.len() - 1 {
            self.pos += 1;
        }
        token
    }

    fn at_section_end(&self) -> bool {
        matches!(self.peek(), Tok::Header { .. } | Tok::Eof)
    }

    fn error_here(&mut self, expected: &str) -> Reported {
        let found = self.peek().describe();
        let span = self.span();
        self.reporter
            .error(span, format!("expected {expected}, found {found}"));
        Reported
    }

    fn expect(&mut self, tok: &Tok, expected: &str) -> PResult<Span> {
        if self.peek() == tok {
            Ok(self.bump().span)
        } else {
            Err(self.error_here(expected))
        }
    }

    /// Skips to the next token in `stops` at bracket depth 0 (or a section end).
    fn recover(&mut self, stop_at_comma: bool) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                Tok::Header { .. } | Tok::Eof => return,
                Tok::Pipe | Tok::Semi if depth == 0 => return,
                Tok::Comma if depth == 0 && stop_at_comma => return,
                Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
                Tok::RParen | Tok::RBracket | Tok::RBrace => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    pub(crate) fn parse_file(&mut self) -> RulesFile {
        let mut sections = Vec::new();
        loop {
            match self.peek().clone() {
                Tok::Eof => break,
                Tok::Header {
                    kind,
                    body,
                    body_start,
                } => {
                    let span = self.bump().span;
                    let pipelines = self.parse_pipelines();
                    match kind {
                        HeaderKind::Model => {
                            let params = self.header_params(&body, body_start);
                            let dataset = params
                                .iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case("dataset"))
                                .map(|(_, v)| v.clone());
                            if dataset.is_none() {
                                self.reporter
                                    .error(span, "`[MODEL: ...]` needs a `dataset=` parameter");
                            }
                            sections.push(Section::Model(Model {
                                dataset: dataset.unwrap_or_default(),
                                params,
                                pipelines,
                                span,
                            }));
                        }
                        HeaderKind::Rule => {
                            let name = body.trim().to_owned();
                            if name.is_empty() {
                                self.reporter.error(span, "`[RULE: ...]` needs a name");
                            }
                            sections.push(Section::Rule(Rule {
                                name,
                                pipelines,
                                span,
                            }));
                        }
                    }
                }
                _ => {
                    self.error_here("a `[MODEL: dataset=...]` or `[RULE: name]` header");
                    while !self.at_section_end() {
                        self.bump();
                    }
                }
            }
        }
        RulesFile { sections }
    }

    fn header_params(&mut self, body: &str, body_start: usize) -> Vec<(String, String)> {
        let mut params = Vec::new();
        let mut offset = body_start;
        for part in body.split(',') {
            let span = Span::new(offset, offset + part.len());
            offset += part.len() + 1;
            if part.trim().is_empty() {
                continue;
            }
            match part.split_once('=') {
                Some((key, value)) => {
                    let value = value.trim().trim_matches('"').to_owned();
                    params.push((key.trim().to_owned(), value));
                }
                None => self.reporter.error(
                    span,
                    format!(
                        "expected `name=value` in the header, found `{}`",
                        part.trim()
                    ),
                ),
            }
        }
        params
    }

    fn parse_pipelines(&mut self) -> Vec<Pipeline> {
        let mut pipelines = Vec::new();
        while !self.at_section_end() {
            if self.peek() == &Tok::Semi {
                self.bump();
                continue;
            }
            let before = self.pos;
            pipelines.push(self.parse_pipeline());
            if self.pos == before {
                // Nothing consumed: skip one token so the loop always advances.
                self.bump();
            }
        }
        pipelines
    }

    fn parse_pipeline(&mut self) -> Pipeline {
        let mut stages = Vec::new();
        if self.peek() == &Tok::Pipe {
            self.bump();
        }
        loop {
            match self.parse_stage() {
                Ok(stage) => stages.push(stage),
                Err(Reported) => self.recover(false),
            }
            match self.peek() {
                Tok::Pipe => {
                    self.bump();
                }
                Tok::Semi => {
                    self.bump();
                    break;
                }
                // Legacy files may omit the last `;` before the next header.
                Tok::Header { .. } | Tok::Eof => break,
                _ => {
                    self.error_here("`|` or `;` after the stage");
                    self.recover(false);
                    if self.peek() == &Tok::Pipe {
                        self.bump();
                    } else {
                        if self.peek() == &Tok::Semi {
                            self.bump();
                        }
                        break;
                    }
                }
            }
        }
        Pipeline { stages }
    }

    fn parse_stage(&mut self) -> PResult<Stage> {
        let tok = self.peek().clone();
        if is_kw(&tok, "alter") {
            self.bump();
            Ok(Stage::Alter(self.parse_assignments()))
        } else if is_kw(&tok, "filter") {
            self.bump();
            Ok(Stage::Filter(self.parse_expr()?))
        } else if is_kw(&tok, "call") {
            self.bump();
            match self.peek().clone() {
                Tok::Ident(name) | Tok::QuotedIdent(name) => {
                    let span = self.bump().span;
                    Ok(Stage::Call { name, span })
                }
                _ => Err(self.error_here("a rule name after `call`")),
            }
        } else {
            Err(self.error_here("`alter`, `filter` or `call`"))
        }
    }

    fn parse_assignments(&mut self) -> Vec<Assign> {
        let mut assigns = Vec::new();
        loop {
            match self.parse_assign() {
                Ok(assign) => assigns.push(assign),
                Err(Reported) => self.recover(true),
            }
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::Ident(_) | Tok::QuotedIdent(_) if self.starts_assignment() => {
                    let span = self.prev_span();
                    let end = Span::new(span.end, span.end);
                    self.reporter
                        .error(end, "missing `,` between assignments in `alter`");
                }
                _ => return assigns,
            }
        }
    }

    /// Whether the next tokens read `name[.name...] =`.
    fn starts_assignment(&self) -> bool {
        let mut n = 0;
        loop {
            match self.peek_at(n) {
                Tok::Ident(_) | Tok::QuotedIdent(_) => n += 1,
                _ => return false,
            }
            match self.peek_at(n) {
                Tok::Dot => n += 1,
                Tok::Eq => return true,
                _ => return false,
            }
        }
    }

    fn parse_assign(&mut self) -> PResult<Assign> {
        let start = self.span();
        let target = self.parse_dotted_name("a target field")?;
        let target_span = start.to(self.prev_span());
        self.expect(&Tok::Eq, "`=` after the target field")?;
        let value = self.parse_expr()?;
        Ok(Assign {
            target,
            target_span,
            value,
        })
    }

    fn parse_dotted_name(&mut self, what: &str) -> PResult<String> {
        let mut name = match self.peek().clone() {
            Tok::Ident(s) | Tok::QuotedIdent(s) => {
                self.bump();
                s
            }
            _ => return Err(self.error_here(what)),
        };
        while self.peek() == &Tok::Dot {
            self.bump();
            match self.peek().clone() {
                Tok::Ident(s) | Tok::QuotedIdent(s) => {
                    self.bump();
                    name.push('.');
                    name.push_str(&s);
                }
                Tok::Int(n) => {
                    self.bump();
                    name.push('.');
                    name.push_str(&n.to_string());
                }
                _ => return Err(self.error_here("a name after `.`")),
            }
        }
        Ok(name)
    }

    fn parse_expr(&mut self) -> PResult<Expr> {
        self.depth += 1;
        let result = if self.depth > MAX_DEPTH {
            let span = self.span();
            self.reporter.error(
                span,
                format!("expression nested deeper than {MAX_DEPTH} levels"),
            );
            Err(Reported)
        } else {
            self.parse_or()
        };
        self.depth -= 1;
        result
    }

    fn parse_or(&mut self) -> PResult<Expr> {
        let mut left = self.parse_and()?;
        while is_kw(self.peek(), "or") {
            self.bump();
            let right = self.parse_and()?;
            left = binary(BinOp::Or, left, right);
        }
        Ok(left)
    }

    fn parse_and(&mut self) -> PResult<Expr> {
        let mut left = self.parse_not()?;
        while is_kw(self.peek(), "and") {
            self.bump();
            let right = self.parse_not()?;
            left = binary(BinOp::And, left, right);
        }
        Ok(left)
    }

    fn parse_not(&mut self) -> PResult<Expr> {
        if is_kw(self.peek(), "not") {
            let start = self.bump().span;
            self.depth += 1;
            let inner = if self.depth > MAX_DEPTH {
                Err(self.error_here("a shallower expression"))
            } else {
                self.parse_not()
            };
            self.depth -= 1;
            let inner = inner?;
            let span = start.to(inner.span);
            return Ok(Expr {
                kind: ExprKind::Not(Box::new(inner)),
                span,
            });
        }
        self.parse_cmp()
    }

    fn parse_cmp(&mut self) -> PResult<Expr> {
        let left = self.parse_additive()?;
        let op = match self.peek() {
            Tok::Eq => Some(BinOp::Eq),
            Tok::Ne => Some(BinOp::Ne),
            Tok::Lt => Some(BinOp::Lt),
            Tok::Le => Some(BinOp::Le),
            Tok::Gt => Some(BinOp::Gt),
            Tok::Ge => Some(BinOp::Ge),
            Tok::Match => Some(BinOp::Match),
            Tok::NotMatch => Some(BinOp::NotMatch),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let right = self.parse_additive()?;
            return Ok(binary(op, left, right));
        }
        let negated = is_kw(self.peek(), "not")
            && ["in", "contains", "incidr", "incidr6"]
                .iter()
                .any(|kw| is_kw(self.peek_at(1), kw));
        if negated {
            self.bump();
        }
        let tok = self.peek().clone();
        if is_kw(&tok, "in") {
            self.bump();
            let list = self.parse_paren_list()?;
            let span = left.span.to(self.prev_span());
            return Ok(Expr {
                kind: ExprKind::In {
                    negated,
                    value: Box::new(left),
                    list,
                },
                span,
            });
        }
        let op = if is_kw(&tok, "contains") {
            Some(if negated {
                BinOp::NotContains
            } else {
                BinOp::Contains
            })
        } else if is_kw(&tok, "incidr") {
            Some(if negated {
                BinOp::NotInCidr
            } else {
                BinOp::InCidr
            })
        } else if is_kw(&tok, "incidr6") {
            Some(if negated {
                BinOp::NotInCidr6
            } else {
                BinOp::InCidr6
            })
        } else {
            None
        };
        match op {
            Some(op) => {
                self.bump();
                let right = self.parse_additive()?;
                Ok(binary(op, left, right))
            }
            None => Ok(left),
        }
    }

    fn parse_paren_list(&mut self) -> PResult<Vec<Expr>> {
        self.expect(&Tok::LParen, "`(`")?;
        let mut items = Vec::new();
        if self.peek() == &Tok::RParen {
            self.bump();
            return Ok(items);
        }
        loop {
            items.push(self.parse_expr()?);
            match self.peek() {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    return Ok(items);
                }
                _ => return Err(self.error_here("`,` or `)`")),
            }
        }
    }

    fn parse_additive(&mut self) -> PResult<Expr> {
        let mut left = self.parse_multiplicative()?;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.parse_multiplicative()?;
            left = binary(op, left, right);
        }
    }

    fn parse_multiplicative(&mut self) -> PResult<Expr> {
        let mut left = self.parse_unary()?;
        loop {
            let op = match self.peek() {
                Tok::Star => BinOp::Mul,
                Tok::Slash => BinOp::Div,
                _ => return Ok(left),
            };
            self.bump();
            let right = self.parse_unary()?;
            left = binary(op, left, right);
        }
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        if self.peek() == &Tok::Minus {
            let start = self.bump().span;
            let inner = self.parse_postfix()?;
            let span = start.to(inner.span);
            let kind = match inner.kind {
                ExprKind::Int(n) => ExprKind::Int(n.wrapping_neg()),
                ExprKind::Float(f) => ExprKind::Float(-f),
                other => ExprKind::Neg(Box::new(Expr {
                    kind: other,
                    span: inner.span,
                })),
            };
            return Ok(Expr { kind, span });
        }
        self.parse_postfix()
    }

    fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.parse_primary()?;
        while self.peek() == &Tok::Arrow {
            self.bump();
            let (path, access) = self.parse_json_sugar()?;
            let span = expr.span.to(self.prev_span());
            expr = Expr {
                kind: ExprKind::Json {
                    value: Box::new(expr),
                    path,
                    access,
                },
                span,
            };
        }
        Ok(expr)
    }

    fn parse_json_sugar(&mut self) -> PResult<(Vec<String>, JsonAccess)> {
        let mut path = Vec::new();
        if self.peek() == &Tok::LBracket {
            self.bump();
            if self.peek() == &Tok::RBracket {
                self.bump();
                return Ok((path, JsonAccess::Array));
            }
            match self.peek().clone() {
                Tok::Str { body, .. } => {
                    self.bump();
                    path.push(body);
                }
                _ => return Err(self.error_here("a quoted key or `]` after `-> [`")),
            }
            self.expect(&Tok::RBracket, "`]`")?;
        } else {
            loop {
                match self.peek().clone() {
                    Tok::Ident(s) | Tok::QuotedIdent(s) => path.push(s),
                    Tok::Int(n) => path.push(n.to_string()),
                    Tok::Float(_) => {
                        // `-> 0.1` lexes as a decimal: take its text as two segments.
                        let span = self.span();
                        let text = &self.reporter_source()[span.start..span.end];
                        path.extend(text.split('.').map(str::to_owned));
                    }
                    _ => return Err(self.error_here("a JSON path after `->`")),
                }
                self.bump();
                if self.peek() == &Tok::Dot {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let access = match (self.peek(), self.peek_at(1)) {
            (Tok::LBracket, Tok::RBracket) => {
                self.bump();
                self.bump();
                JsonAccess::Array
            }
            (Tok::LBrace, Tok::RBrace) => {
                self.bump();
                self.bump();
                JsonAccess::Object
            }
            _ => JsonAccess::Scalar,
        };
        Ok((path, access))
    }

    fn reporter_source(&self) -> &'s str {
        self.reporter.source()
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let token = self.peek().clone();
        let start = self.span();
        let kind = match token {
            Tok::Str { body, triple } => {
                self.bump();
                if !triple && body == "@element" {
                    ExprKind::Element
                } else {
                    ExprKind::Str { body, triple }
                }
            }
            Tok::Int(n) => {
                self.bump();
                ExprKind::Int(n)
            }
            Tok::Float(f) => {
                self.bump();
                ExprKind::Float(f)
            }
            Tok::LParen => {
                self.bump();
                let inner = self.parse_expr()?;
                self.expect(&Tok::RParen, "`)`")?;
                return Ok(Expr {
                    kind: inner.kind,
                    span: start.to(self.prev_span()),
                });
            }
            Tok::QuotedIdent(_) => ExprKind::Field(self.parse_dotted_name("a field")?),
            Tok::Ident(word) => {
                if self.peek_at(1) == &Tok::LParen {
                    self.bump();
                    let args = self.parse_paren_list()?;
                    ExprKind::Call { name: word, args }
                } else if word.eq_ignore_ascii_case("null") {
                    self.bump();
                    ExprKind::Null
                } else if word.eq_ignore_ascii_case("true") {
                    self.bump();
                    ExprKind::Bool(true)
                } else if word.eq_ignore_ascii_case("false") {
                    self.bump();
                    ExprKind::Bool(false)
                } else if [
                    "and", "or", "not", "in", "contains", "alter", "filter", "call",
                ]
                .iter()
                .any(|kw| word.eq_ignore_ascii_case(kw))
                {
                    return Err(self.error_here("an expression"));
                } else if word == "XDM_CONST" && self.peek_at(1) == &Tok::Dot {
                    self.bump();
                    self.bump();
                    match self.peek().clone() {
                        Tok::Ident(name) => {
                            self.bump();
                            ExprKind::Const(name)
                        }
                        _ => return Err(self.error_here("a constant name after `XDM_CONST.`")),
                    }
                } else {
                    ExprKind::Field(self.parse_dotted_name("a field")?)
                }
            }
            _ => return Err(self.error_here("an expression")),
        };
        Ok(Expr {
            kind,
            span: start.to(self.prev_span()),
        })
    }
}

fn binary(op: BinOp, left: Expr, right: Expr) -> Expr {
    let span = left.span.to(right.span);
    Expr {
        kind: ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        span,
    }
}
