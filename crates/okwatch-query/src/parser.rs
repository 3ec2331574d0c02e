//! Lexer and recursive-descent parser for Okta's `filter` expressions.
//!
//! Grammar (precedence: attribute operators, then parentheses, then `and`, then `or`):
//! ```text
//! filter   := or
//! or       := and { "or" and }
//! and      := unary { "and" unary }
//! unary    := "not" unary | "(" or ")" | attr
//! attr     := path "pr" | path op literal
//! op       := eq | ne | co | sw | ew | gt | ge | lt | le      (any case)
//! literal  := JSON string | JSON number | true | false | null
//! ```
//! Positions in errors are 0-based character offsets, as in Okta's own messages.
//!
//! Filters arrive from the network (the API, MCP), so both their length and how deeply they
//! nest are bounded: everything that reads the AST (validation, evaluation, the SQL compilers,
//! `Display`, even dropping it) recurses once per level, and a few thousand `(` would otherwise
//! overflow a server thread's stack and abort the process.

use crate::ast::{AttrPath, CompareOp, Expr, Literal};
use std::fmt;

/// A filter that could not be parsed or is not allowed, with where and why.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterError {
    /// 0-based character offset of the problem in the filter text.
    pub position: usize,
    /// What went wrong, in words.
    pub message: String,
    /// Which kind of problem (decides the Okta error code in the compatible API).
    pub kind: FilterErrorKind,
}

/// The kinds of filter problems, mirroring how Okta's API classifies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterErrorKind {
    /// The text does not follow the grammar.
    Syntax,
    /// A word where an operator belongs is not one.
    UnknownOperator,
    /// The attribute is not a LogEvent attribute.
    UnknownField,
    /// Okta refuses this operator on this field (`co` on `debugData.url`).
    UnsupportedCombination,
    /// Too many keywords or a keyword too long in `q`.
    Keywords,
}

impl FilterError {
    fn syntax(position: usize, message: impl Into<String>) -> Self {
        FilterError {
            position,
            message: message.into(),
            kind: FilterErrorKind::Syntax,
        }
    }

    /// The error drawn under the filter text with a caret, for terminals (a caller prints
    /// `error: ` before it):
    /// ```text
    /// expected a value after `eq`
    ///   eventType eq
    ///                ^ position 13
    /// ```
    ///
    /// A filter longer than a terminal line is shown as the part around the position, with `…`
    /// where text was left out.
    pub fn render(&self, filter: &str) -> String {
        const BEFORE: usize = 60;
        const AFTER: usize = 40;
        let chars: Vec<char> = filter.chars().collect();
        let (start, end) = if chars.len() <= BEFORE + AFTER {
            (0, chars.len())
        } else {
            let start = self.position.saturating_sub(BEFORE);
            (start, (self.position + AFTER).min(chars.len()))
        };
        let mut shown = String::new();
        let mut pad = String::new();
        if start > 0 {
            shown.push('…');
            pad.push(' ');
        }
        shown.extend(&chars[start..end]);
        if end < chars.len() {
            shown.push('…');
        }
        let caret = self.position.clamp(start, end);
        pad.extend(
            chars[start..caret]
                .iter()
                .map(|&c| if c == '\t' { '\t' } else { ' ' }),
        );
        format!(
            "{}\n  {}\n  {}^ position {}",
            self.message, shown, pad, self.position
        )
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at position {})", self.message, self.position)
    }
}

impl std::error::Error for FilterError {}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Number(f64),
    LParen,
    RParen,
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("`{w}`"),
            Token::Str(s) => format!("the string {}", serde_json::Value::String(s.clone())),
            Token::Number(n) => format!("the number {n}"),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::End => "the end of the filter".into(),
        }
    }
}

struct Lexed {
    tokens: Vec<(Token, usize)>,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$'
}

fn lex(input: &str) -> Result<Lexed, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            '(' => {
                tokens.push((Token::LParen, start));
                i += 1;
            }
            ')' => {
                tokens.push((Token::RParen, start));
                i += 1;
            }
            '"' => {
                let (s, next) = lex_string(&chars, i)?;
                tokens.push((Token::Str(s), start));
                i = next;
            }
            '-' | '0'..='9' => {
                let mut j = i + 1;
                while j < chars.len()
                    && (chars[j].is_ascii_alphanumeric() || matches!(chars[j], '.' | '+' | '-'))
                {
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                let n = parse_json_number(&text).ok_or_else(|| {
                    FilterError::syntax(start, format!("`{text}` is not a number"))
                })?;
                tokens.push((Token::Number(n), start));
                i = j;
            }
            '[' | ']' => {
                return Err(FilterError::syntax(
                    start,
                    "value-path filters with `[ ]` are not supported by the System Log; \
                     a path such as `target.id` already matches any element",
                ))
            }
            '\'' => {
                return Err(FilterError::syntax(
                    start,
                    "strings take double quotes, e.g. \"user.session.start\"",
                ))
            }
            c if is_word_char(c) => {
                let mut j = i;
                while j < chars.len() && is_word_char(chars[j]) {
                    j += 1;
                }
                tokens.push((Token::Word(chars[i..j].iter().collect()), start));
                i = j;
            }
            other => {
                return Err(FilterError::syntax(
                    start,
                    format!("unexpected character `{other}`"),
                ))
            }
        }
    }
    tokens.push((Token::End, chars.len()));
    Ok(Lexed { tokens })
}

/// Reads a JSON string starting at the opening quote; returns it and the index after it.
fn lex_string(chars: &[char], open: usize) -> Result<(String, usize), FilterError> {
    let mut out = String::new();
    let mut i = open + 1;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(FilterError::syntax(
                open,
                "this string is never closed: add a `\"`",
            ));
        };
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let Some(&esc) = chars.get(i + 1) else {
                    return Err(FilterError::syntax(
                        i,
                        "a `\\` must be followed by an escape",
                    ));
                };
                let simple = match esc {
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '/' => Some('/'),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    _ => None,
                };
                if let Some(ch) = simple {
                    out.push(ch);
                    i += 2;
                } else if esc == 'u' {
                    let (ch, next) = lex_unicode_escape(chars, i)?;
                    // No stored value holds a NUL, and databases refuse one in text.
                    if ch == '\0' {
                        return Err(FilterError::syntax(
                            i,
                            "`\\u0000` (NUL) cannot be searched for: no value holds it",
                        ));
                    }
                    out.push(ch);
                    i = next;
                } else {
                    return Err(FilterError::syntax(
                        i,
                        format!("`\\{esc}` is not a JSON escape; use \\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\uXXXX"),
                    ));
                }
            }
            c if (c as u32) < 0x20 => {
                return Err(FilterError::syntax(
                    i,
                    "control characters must be escaped inside strings",
                ))
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
}

fn read_hex4(chars: &[char], at: usize) -> Option<u32> {
    let hex: String = chars.get(at..at + 4)?.iter().collect();
    if hex.len() != 4 {
        return None;
    }
    u32::from_str_radix(&hex, 16).ok()
}

/// Decodes `\uXXXX` (and a following low surrogate) at `backslash`.
fn lex_unicode_escape(chars: &[char], backslash: usize) -> Result<(char, usize), FilterError> {
    let bad = || FilterError::syntax(backslash, "`\\u` must be followed by four hex digits");
    let hi = read_hex4(chars, backslash + 2).ok_or_else(bad)?;
    if (0xD800..0xDC00).contains(&hi) {
        let lo = (chars.get(backslash + 6) == Some(&'\\')
            && chars.get(backslash + 7) == Some(&'u'))
        .then(|| read_hex4(chars, backslash + 8))
        .flatten()
        .filter(|lo| (0xDC00..0xE000).contains(lo))
        .ok_or_else(|| {
            FilterError::syntax(backslash, "a high surrogate must be followed by a low one")
        })?;
        let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        return Ok((char::from_u32(code).ok_or_else(bad)?, backslash + 12));
    }
    let ch = char::from_u32(hi)
        .ok_or_else(|| FilterError::syntax(backslash, "a lone low surrogate is not a character"))?;
    Ok((ch, backslash + 6))
}

/// JSON number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn parse_json_number(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
        }
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    (i == b.len())
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|n| n.is_finite())
}

/// The longest filter accepted, in characters. Okta's own limit is the URL's (about 8 KB);
/// a filter this long already names hundreds of values.
pub const MAX_FILTER_CHARS: usize = 10_000;

/// How deeply parentheses and `not` may nest. Real filters use two or three levels.
pub const MAX_FILTER_DEPTH: usize = 64;

struct Parser {
    tokens: Vec<(Token, usize)>,
    at: usize,
    /// Parentheses and `not`s open at the current token.
    depth: usize,
}

const OPERATORS_EXPECTED: &str = "an operator: eq, ne, co, sw, ew, pr, gt, ge, lt or le";

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at].0
    }

    fn position(&self) -> usize {
        self.tokens[self.at].1
    }

    fn bump(&mut self) -> (Token, usize) {
        let t = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        t
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }

    /// Enters one more level of `(` or `not` at `position`, refusing to go past the bound.
    fn descend(&mut self, position: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(FilterError::syntax(
                position,
                format!(
                    "the filter nests parentheses or `not` more than {MAX_FILTER_DEPTH} deep; \
                     write it with fewer levels"
                ),
            ));
        }
        Ok(())
    }

    fn parse_or(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.parse_and()?];
        while self.peek_keyword("or") {
            self.bump();
            items.push(self.parse_and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::Or(items)
        })
    }

    fn parse_and(&mut self) -> Result<Expr, FilterError> {
        let mut items = vec![self.parse_unary()?];
        while self.peek_keyword("and") {
            self.bump();
            items.push(self.parse_unary()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap()
        } else {
            Expr::And(items)
        })
    }

    fn parse_unary(&mut self) -> Result<Expr, FilterError> {
        if self.peek_keyword("not") {
            // `not` is also a legal attribute name in principle; treat it as the operator only
            // when what follows can start an expression.
            let next = self.tokens.get(self.at + 1).map(|t| &t.0);
            if matches!(next, Some(Token::LParen) | Some(Token::Word(_))) {
                let (_, at) = self.bump();
                self.descend(at)?;
                let inner = self.parse_unary()?;
                self.depth -= 1;
                return Ok(Expr::Not(Box::new(inner)));
            }
        }
        match self.peek().clone() {
            Token::LParen => {
                let (_, open) = self.bump();
                self.descend(open)?;
                let inner = self.parse_or()?;
                match self.peek() {
                    Token::RParen => {
                        self.bump();
                        self.depth -= 1;
                        Ok(inner)
                    }
                    other => Err(FilterError::syntax(
                        self.position(),
                        format!(
                            "expected `)` to close the `(` at position {open}, found {}",
                            other.describe()
                        ),
                    )),
                }
            }
            Token::Word(word) => {
                if ["and", "or"].iter().any(|k| word.eq_ignore_ascii_case(k)) {
                    return Err(FilterError::syntax(
                        self.position(),
                        format!("expected an attribute before `{word}`"),
                    ));
                }
                self.parse_attr()
            }
            other => Err(FilterError::syntax(
                self.position(),
                format!(
                    "expected an attribute such as eventType, found {}",
                    other.describe()
                ),
            )),
        }
    }

    fn parse_attr(&mut self) -> Result<Expr, FilterError> {
        let (token, position) = self.bump();
        let Token::Word(text) = token else {
            unreachable!("checked by the caller")
        };
        let path = parse_path(&text, position)?;
        let op_position = self.position();
        let op = match self.bump().0 {
            Token::Word(w) if w.eq_ignore_ascii_case("pr") => return Ok(Expr::Present(path)),
            Token::Word(w) => match CompareOp::from_keyword(&w) {
                Some(op) => op,
                None => {
                    return Err(FilterError {
                        position: op_position,
                        message: format!(
                            "unrecognized attribute operator `{w}`; expected {OPERATORS_EXPECTED}"
                        ),
                        kind: FilterErrorKind::UnknownOperator,
                    })
                }
            },
            other => {
                return Err(FilterError::syntax(
                    op_position,
                    format!(
                        "expected {OPERATORS_EXPECTED} after `{text}`, found {}",
                        other.describe()
                    ),
                ))
            }
        };
        let value_position = self.position();
        let value = match self.bump().0 {
            Token::Str(s) => Literal::String(s),
            Token::Number(n) => Literal::Number(n),
            Token::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Token::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Token::Word(w) if w.eq_ignore_ascii_case("null") => Literal::Null,
            Token::Word(w) => {
                return Err(FilterError::syntax(
                    value_position,
                    format!(
                        "expected a value after `{}`: strings take double quotes, e.g. \"{w}\"",
                        op.keyword()
                    ),
                ))
            }
            _ => {
                return Err(FilterError::syntax(
                    value_position,
                    format!("expected a value after `{}`", op.keyword()),
                ))
            }
        };
        Ok(Expr::Compare { path, op, value })
    }
}

fn parse_path(text: &str, position: usize) -> Result<AttrPath, FilterError> {
    let segments: Vec<String> = text.split('.').map(str::to_string).collect();
    let mut offset = position;
    for segment in &segments {
        let first = segment.chars().next();
        if segment.is_empty() || first.is_some_and(|c| c.is_ascii_digit()) {
            return Err(FilterError::syntax(
                offset,
                format!("`{text}` is not an attribute path: each part between dots must be a name"),
            ));
        }
        offset += segment.chars().count() + 1;
    }
    Ok(AttrPath { segments, position })
}

/// Parses a filter expression into its AST.
pub fn parse_filter(input: &str) -> Result<Expr, FilterError> {
    if input.chars().nth(MAX_FILTER_CHARS).is_some() {
        return Err(FilterError::syntax(
            MAX_FILTER_CHARS,
            format!("the filter is longer than {MAX_FILTER_CHARS} characters"),
        ));
    }
    let Lexed { tokens } = lex(input)?;
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    if parser.peek() == &Token::End {
        return Err(FilterError::syntax(0, "the filter is empty; expected an expression such as eventType eq \"user.session.start\""));
    }
    let expr = parser.parse_or()?;
    match parser.peek() {
        Token::End => Ok(expr),
        Token::RParen => Err(FilterError::syntax(
            parser.position(),
            "this `)` closes nothing",
        )),
        other => Err(FilterError::syntax(
            parser.position(),
            format!(
                "expected `and`, `or` or the end of the filter, found {}",
                other.describe()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(path: &str, op: CompareOp, value: Literal) -> Expr {
        Expr::Compare {
            path: AttrPath::from_dotted(path),
            op,
            value,
        }
    }

    fn strip_positions(expr: Expr) -> Expr {
        match expr {
            Expr::And(v) => Expr::And(v.into_iter().map(strip_positions).collect()),
            Expr::Or(v) => Expr::Or(v.into_iter().map(strip_positions).collect()),
            Expr::Not(e) => Expr::Not(Box::new(strip_positions(*e))),
            Expr::Compare {
                mut path,
                op,
                value,
            } => {
                path.position = 0;
                Expr::Compare { path, op, value }
            }
            Expr::Present(mut path) => {
                path.position = 0;
                Expr::Present(path)
            }
        }
    }

    fn parse(text: &str) -> Expr {
        strip_positions(parse_filter(text).unwrap_or_else(|e| panic!("{}", e.render(text))))
    }

    #[test]
    fn every_documented_example_parses() {
        for example in [
            r#"eventType eq "user.session.start" and outcome.result eq "FAILURE""#,
            r#"actor.id ne "00uxc78lMKUMVIHLTAXY""#,
            r#"client.ipAddress eq "184.73.186.14""#,
            r#"eventType sw "event_hook""#,
            r#"eventType co "session""#,
            r#"eventType ew "token""#,
            r#"transaction.detail.requestApiTokenId eq "00T94e3cn9kSEO3c51s5""#,
            r#"displayMessage eq "Rate limit violation""#,
            r#"outcome.reason eq "Authentication failed: bad username or password""#,
            r#"target.id eq "00uxc78lMKUMVIHLTAXY" and target.id eq "0oabe82gnXOFVCDUMVAK""#,
            r#"(client.userAgent.os lt "iOS" or client.userAgent.os gt "iOS")"#,
            r#"event_type eq "user.lifecycle.create""#,
        ] {
            parse_filter(example).unwrap_or_else(|e| panic!("{}", e.render(example)));
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let e = parse(r#"a eq "1" or b eq "2" and c eq "3""#);
        assert_eq!(
            e,
            Expr::Or(vec![
                cmp("a", CompareOp::Eq, Literal::String("1".into())),
                Expr::And(vec![
                    cmp("b", CompareOp::Eq, Literal::String("2".into())),
                    cmp("c", CompareOp::Eq, Literal::String("3".into())),
                ]),
            ])
        );
    }

    #[test]
    fn parentheses_group_and_not_negates() {
        let e = parse(r#"not (a eq "1" or b pr) and c gt 5"#);
        assert_eq!(
            e,
            Expr::And(vec![
                Expr::Not(Box::new(Expr::Or(vec![
                    cmp("a", CompareOp::Eq, Literal::String("1".into())),
                    Expr::Present(AttrPath::from_dotted("b")),
                ]))),
                cmp("c", CompareOp::Gt, Literal::Number(5.0)),
            ])
        );
    }

    #[test]
    fn operators_and_keywords_are_case_insensitive() {
        assert_eq!(
            parse(r#"eventType EQ "x" AND outcome.result Ne "SUCCESS" Or actor.id PR"#),
            parse(r#"eventType eq "x" and outcome.result ne "SUCCESS" or actor.id pr"#)
        );
        assert_eq!(
            parse("securityContext.isProxy eq TRUE"),
            parse("securityContext.isProxy eq true")
        );
    }

    #[test]
    fn json_string_escapes_are_decoded() {
        let nul = parse_filter(r#"actor.id eq "a\u0000b""#).unwrap_err();
        assert_eq!(nul.position, 14, "{nul:?}");
        let e = parse(r#"displayMessage eq "say \"hi\"\\ \u00e9\n \ud83d\ude00""#);
        assert_eq!(
            e,
            cmp(
                "displayMessage",
                CompareOp::Eq,
                Literal::String("say \"hi\"\\ é\n 😀".into())
            )
        );
    }

    #[test]
    fn numbers_follow_json_grammar() {
        assert_eq!(
            parse("a eq -1.5e3"),
            cmp("a", CompareOp::Eq, Literal::Number(-1500.0))
        );
        let err = parse_filter("a eq 01").unwrap_err();
        assert_eq!(err.position, 5);
        assert!(parse_filter("a eq 1.").is_err());
    }

    #[test]
    fn unknown_operator_names_its_position_and_the_alternatives() {
        let text = r#"display_message eqq "Create okta user""#;
        let err = parse_filter(text).unwrap_err();
        assert_eq!(err.position, 16);
        assert_eq!(err.kind, FilterErrorKind::UnknownOperator);
        assert!(err.message.contains("`eqq`"), "{}", err.message);
        assert!(err.message.contains("eq, ne, co"), "{}", err.message);
    }

    #[test]
    fn missing_value_points_past_the_operator() {
        let text = "eventType eq";
        let err = parse_filter(text).unwrap_err();
        assert_eq!(err.position, 12);
        assert_eq!(
            err.render(text),
            "expected a value after `eq`\n  eventType eq\n              ^ position 12"
        );
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        let cases = [
            ("", 0, "empty"),
            (r#"eventType eq "x" and"#, 20, "expected an attribute"),
            (
                r#"(eventType eq "x""#,
                17,
                "expected `)` to close the `(` at position 0",
            ),
            (r#"eventType eq "x")"#, 16, "closes nothing"),
            (r#"eventType eq "x" eventType"#, 17, "expected `and`, `or`"),
            (r#"eventType eq "unclosed"#, 13, "never closed"),
            (r#"eventType eq 'single'"#, 13, "double quotes"),
            (r#"eventType eq user"#, 13, "double quotes"),
            (r#"target[type eq "User"]"#, 6, "not supported"),
            (r#"eventType eq "\x""#, 14, "not a JSON escape"),
            (r#"a..b eq "x""#, 2, "not an attribute path"),
            (r#"and eq "x""#, 0, "expected an attribute before `and`"),
            (r#"eventType = "x""#, 10, "unexpected character `=`"),
        ];
        for (text, position, fragment) in cases {
            let err = parse_filter(text).expect_err(text);
            assert!(err.message.contains(fragment), "{text}: {}", err.message);
            assert_eq!(err.position, position, "{text}: {}", err.message);
        }
    }

    #[test]
    fn nesting_is_bounded_and_the_error_points_at_the_first_level_too_deep() {
        let nested = |levels: usize, not: bool| {
            let open = if not { "not (" } else { "(" };
            format!(
                "{}eventType eq \"a\"{}",
                open.repeat(levels),
                ")".repeat(levels)
            )
        };
        // At the bound: accepted, and the AST is the plain comparison.
        assert!(matches!(
            parse_filter(&nested(MAX_FILTER_DEPTH, false)).unwrap(),
            Expr::Compare { .. }
        ));
        let err = parse_filter(&nested(MAX_FILTER_DEPTH + 1, false)).unwrap_err();
        assert_eq!(err.kind, FilterErrorKind::Syntax);
        assert_eq!(
            err.position, MAX_FILTER_DEPTH,
            "the first `(` past the bound"
        );
        assert!(err.message.contains("deep"), "{}", err.message);
        // `not` counts as a level: 33 × `not (` is 66 levels.
        let err = parse_filter(&nested(MAX_FILTER_DEPTH / 2 + 1, true)).unwrap_err();
        assert!(err.message.contains("deep"), "{}", err.message);
        // What used to abort a server: thousands of levels, refused without recursing into them.
        let err = parse_filter(&nested(3_000, false)).unwrap_err();
        assert_eq!(err.position, MAX_FILTER_DEPTH);
        let err = parse_filter(&format!("{}x pr", "not ".repeat(100_000))).unwrap_err();
        assert!(err.message.contains("longer than"), "{}", err.message);
    }

    #[test]
    fn a_long_filter_is_rendered_around_the_mistake() {
        let filter = format!(
            "{} and eventType eqq \"x\" and {}",
            "actor.id eq \"a\" and "
                .repeat(20)
                .trim_end_matches(" and "),
            "target.id eq \"b\" and "
                .repeat(20)
                .trim_end_matches(" and ")
        );
        let err = parse_filter(&filter).unwrap_err();
        let rendered = err.render(&filter);
        let lines: Vec<&str> = rendered.lines().collect();
        assert!(
            lines[1].starts_with("  …") && lines[1].ends_with('…'),
            "{rendered}"
        );
        assert!(lines[1].chars().count() < 110, "{rendered}");
        // The caret stands under the wrong operator.
        let caret = lines[2].find('^').unwrap();
        let under: String = lines[1].chars().skip(caret).take(3).collect();
        assert_eq!(under, "eqq", "{rendered}");
        assert!(lines[2].ends_with(&format!("position {}", err.position)));
        // A short filter is shown whole.
        let short = "eventType eqq \"x\"";
        let rendered = parse_filter(short).unwrap_err().render(short);
        assert_eq!(rendered.lines().nth(1), Some("  eventType eqq \"x\""));
    }

    #[test]
    fn length_is_bounded() {
        let clause = "actor.alternateId eq \"someone@example.com\"";
        let mut filter = clause.to_string();
        while filter.chars().count() + clause.len() + 4 <= MAX_FILTER_CHARS {
            filter.push_str(" or ");
            filter.push_str(clause);
        }
        assert!(
            parse_filter(&filter).is_ok(),
            "a long flat `or` within the bound"
        );
        filter.push_str(&" ".repeat(MAX_FILTER_CHARS + 1 - filter.chars().count()));
        let err = parse_filter(&filter).unwrap_err();
        assert_eq!(err.position, MAX_FILTER_CHARS);
        assert!(err.message.contains("longer than"), "{}", err.message);
    }

    #[test]
    fn display_prints_an_equivalent_filter() {
        let text = r#"not (a eq "x\"y" or b pr) and (c ge 2 or d eq false) and e eq null"#;
        let once = parse(text);
        assert_eq!(parse(&once.to_string()), once);
    }
}
