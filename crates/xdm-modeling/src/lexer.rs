//! Tokens of the modeling-rule language.
//!
//! The lexer never fails: a character it cannot place becomes an error diagnostic and is
//! skipped, so the parser always sees a complete token stream ending in `Eof`.

use crate::diag::{Reporter, Span};

/// Which kind of section a `[MODEL: ...]` / `[RULE: ...]` header opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderKind {
    Model,
    Rule,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A plain identifier (keywords are identifiers the parser recognises case-insensitively).
    Ident(String),
    /// A backtick-quoted identifier: never a keyword.
    QuotedIdent(String),
    /// A string literal: its body verbatim, and whether it was triple-quoted.
    Str {
        body: String,
        triple: bool,
    },
    Int(i64),
    Float(f64),
    /// A whole section header; `body` is the text between the colon and the `]`.
    Header {
        kind: HeaderKind,
        body: String,
        body_start: usize,
    },
    LBracket,
    RBracket,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Pipe,
    Semi,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Match,
    NotMatch,
    Arrow,
    Plus,
    Minus,
    Star,
    Slash,
    Eof,
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::QuotedIdent(s) => format!("`{s}`"),
            Tok::Str { .. } => "a string".to_owned(),
            Tok::Int(n) => format!("`{n}`"),
            Tok::Float(n) => format!("`{n}`"),
            Tok::Header {
                kind: HeaderKind::Model,
                ..
            } => "a `[MODEL: ...]` header".to_owned(),
            Tok::Header {
                kind: HeaderKind::Rule,
                ..
            } => "a `[RULE: ...]` header".to_owned(),
            Tok::Eof => "the end of the file".to_owned(),
            other => format!("`{}`", other.punct()),
        }
    }

    fn punct(&self) -> &'static str {
        match self {
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBrace => "{",
            Tok::RBrace => "}",
            Tok::Comma => ",",
            Tok::Pipe => "|",
            Tok::Semi => ";",
            Tok::Dot => ".",
            Tok::Eq => "=",
            Tok::Ne => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Match => "~=",
            Tok::NotMatch => "!~=",
            Tok::Arrow => "->",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            _ => "?",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) span: Span,
}

pub(crate) fn lex(source: &str, reporter: &mut Reporter<'_>) -> Vec<Token> {
    let bytes = source.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = memchr::memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                match memchr::memmem::find(&bytes[i + 2..], b"*/") {
                    Some(n) => i += n + 4,
                    None => {
                        reporter.error(Span::new(i, i + 2), "unterminated `/*` comment");
                        i = bytes.len();
                    }
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                match memchr::memmem::find(&bytes[i + 3..], b"\"\"\"") {
                    Some(n) => {
                        let body = source[i + 3..i + 3 + n].to_owned();
                        i += n + 6;
                        Tok::Str { body, triple: true }
                    }
                    None => {
                        reporter.error(Span::new(i, i + 3), "unterminated `\"\"\"` string");
                        i = bytes.len();
                        continue;
                    }
                }
            }
            b'"' => {
                // The string ends at the first quote not immediately preceded by a backslash:
                // backslashes are not paired (shipped rules rely on this).
                let mut j = i + 1;
                let mut end = None;
                while j < bytes.len() {
                    if bytes[j] == b'"' && bytes[j - 1] != b'\\' {
                        end = Some(j);
                        break;
                    }
                    j += 1;
                }
                match end {
                    Some(j) => {
                        let body = source[i + 1..j].to_owned();
                        i = j + 1;
                        Tok::Str {
                            body,
                            triple: false,
                        }
                    }
                    None => {
                        reporter.error(Span::new(i, i + 1), "unterminated string literal");
                        i = bytes.len();
                        continue;
                    }
                }
            }
            b'`' => match memchr::memchr(b'`', &bytes[i + 1..]) {
                Some(n) => {
                    let name = source[i + 1..i + 1 + n].to_owned();
                    i += n + 2;
                    Tok::QuotedIdent(name)
                }
                None => {
                    reporter.error(Span::new(i, i + 1), "unterminated backtick identifier");
                    i = bytes.len();
                    continue;
                }
            },
            b'[' => match header(source, i) {
                Some((kind, body_start, body_end, next)) => {
                    i = next;
                    Tok::Header {
                        kind,
                        body: source[body_start..body_end].to_owned(),
                        body_start,
                    }
                }
                None => {
                    i += 1;
                    Tok::LBracket
                }
            },
            b'0'..=b'9' => {
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let is_float =
                    bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if is_float {
                    i += 1;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    match source[start..i].parse::<f64>() {
                        Ok(f) => Tok::Float(f),
                        Err(_) => {
                            reporter.error(Span::new(start, i), "invalid number");
                            continue;
                        }
                    }
                } else {
                    match source[start..i].parse::<i64>() {
                        Ok(n) => Tok::Int(n),
                        Err(_) => match source[start..i].parse::<f64>() {
                            Ok(f) => Tok::Float(f),
                            Err(_) => {
                                reporter.error(Span::new(start, i), "invalid number");
                                continue;
                            }
                        },
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'@' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Ident(source[start..i].to_owned())
            }
            _ => {
                let (tok, len) = punct(&bytes[i..]);
                match tok {
                    Some(tok) => {
                        i += len;
                        tok
                    }
                    None => {
                        let ch = source[i..].chars().next().unwrap_or('?');
                        let len = ch.len_utf8();
                        reporter.error(
                            Span::new(i, i + len),
                            format!("unexpected character `{ch}`"),
                        );
                        i += len;
                        continue;
                    }
                }
            }
        };
        tokens.push(Token {
            tok,
            span: Span::new(start, i),
        });
    }
    tokens.push(Token {
        tok: Tok::Eof,
        span: Span::new(source.len(), source.len()),
    });
    tokens
}

/// Recognises `[MODEL: ...]` / `[RULE: ...]` as one token, so that `-> ["a.b"]` brackets
/// are never mistaken for headers. Returns the kind, the body range and the next offset.
fn header(source: &str, at: usize) -> Option<(HeaderKind, usize, usize, usize)> {
    let rest = &source[at + 1..];
    let trimmed = rest.trim_start_matches([' ', '\t']);
    let skipped = rest.len() - trimmed.len();
    let word_len = trimmed.bytes().take_while(u8::is_ascii_alphabetic).count();
    let kind = match trimmed[..word_len].to_ascii_uppercase().as_str() {
        "MODEL" => HeaderKind::Model,
        "RULE" => HeaderKind::Rule,
        _ => return None,
    };
    let after_word = &trimmed[word_len..];
    let after_ws = after_word.trim_start_matches([' ', '\t']);
    if !after_ws.starts_with(':') {
        return None;
    }
    let body_start = at + 1 + skipped + word_len + (after_word.len() - after_ws.len()) + 1;
    let close = memchr::memchr2(b']', b'\n', &source.as_bytes()[body_start..])?;
    let body_end = body_start + close;
    if source.as_bytes()[body_end] != b']' {
        return None;
    }
    Some((kind, body_start, body_end, body_end + 1))
}

fn punct(bytes: &[u8]) -> (Option<Tok>, usize) {
    let two = |b: u8| bytes.get(1) == Some(&b);
    match bytes[0] {
        b']' => (Some(Tok::RBracket), 1),
        b'(' => (Some(Tok::LParen), 1),
        b')' => (Some(Tok::RParen), 1),
        b'{' => (Some(Tok::LBrace), 1),
        b'}' => (Some(Tok::RBrace), 1),
        b',' => (Some(Tok::Comma), 1),
        b'|' => (Some(Tok::Pipe), 1),
        b';' => (Some(Tok::Semi), 1),
        b'.' => (Some(Tok::Dot), 1),
        b'=' if two(b'=') => (Some(Tok::Eq), 2),
        b'=' => (Some(Tok::Eq), 1),
        b'<' if two(b'=') => (Some(Tok::Le), 2),
        b'<' => (Some(Tok::Lt), 1),
        b'>' if two(b'=') => (Some(Tok::Ge), 2),
        b'>' => (Some(Tok::Gt), 1),
        b'~' if two(b'=') => (Some(Tok::Match), 2),
        b'!' => {
            // `! =` with spaces is accepted by XSIAM as `!=`.
            let mut j = 1;
            while matches!(bytes.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            match (bytes.get(j), bytes.get(j + 1)) {
                (Some(b'='), _) => (Some(Tok::Ne), j + 1),
                (Some(b'~'), Some(b'=')) => (Some(Tok::NotMatch), j + 2),
                _ => (None, 1),
            }
        }
        b'-' if two(b'>') => (Some(Tok::Arrow), 2),
        b'-' => (Some(Tok::Minus), 1),
        b'+' => (Some(Tok::Plus), 1),
        b'*' => (Some(Tok::Star), 1),
        b'/' => (Some(Tok::Slash), 1),
        _ => (None, 1),
    }
}
