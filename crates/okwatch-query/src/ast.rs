//! The one representation of a filter: the evaluator, the store compilers and `explain` all
//! read this.

use std::fmt;

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// At least one must hold.
    Or(Vec<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `path op value`.
    Compare {
        /// The attribute.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The operand.
        value: Literal,
    },
    /// `path pr`: the attribute has a non-empty value.
    Present(AttrPath),
}

/// A dotted attribute path, e.g. `client.geographicalContext.country`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The segments between dots.
    pub segments: Vec<String>,
    /// Character offset of the path in the filter text (for error messages).
    pub position: usize,
}

impl AttrPath {
    /// Builds a path from dotted text (position 0); for code, not for user input.
    pub fn from_dotted(text: &str) -> Self {
        AttrPath {
            segments: text.split('.').map(str::to_string).collect(),
            position: 0,
        }
    }

    /// The path as written, with dots.
    pub fn dotted(&self) -> String {
        self.segments.join(".")
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.dotted())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// equals
    Eq,
    /// not equal
    Ne,
    /// contains
    Co,
    /// starts with
    Sw,
    /// ends with
    Ew,
    /// greater than
    Gt,
    /// greater than or equal to
    Ge,
    /// less than
    Lt,
    /// less than or equal to
    Le,
}

impl CompareOp {
    /// All operators, in the order Okta lists them.
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The operator's keyword (`eq`, `co`, ...).
    pub fn keyword(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator in words, as the Admin Console's advanced filters say it.
    pub fn words(self) -> &'static str {
        match self {
            CompareOp::Eq => "equals",
            CompareOp::Ne => "is not equal to",
            CompareOp::Co => "contains",
            CompareOp::Sw => "starts with",
            CompareOp::Ew => "ends with",
            CompareOp::Gt => "is greater than",
            CompareOp::Ge => "is greater than or equal to",
            CompareOp::Lt => "is less than",
            CompareOp::Le => "is less than or equal to",
        }
    }

    /// Parses an operator keyword, case-insensitively (Okta: `Eq` is `eq`).
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        CompareOp::ALL
            .into_iter()
            .find(|op| op.keyword().eq_ignore_ascii_case(word))
    }
}

/// A literal operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A JSON string.
    String(String),
    /// A JSON number.
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => {
                write!(f, "{}", serde_json::Value::String(s.clone()))
            }
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Null => f.write_str("null"),
        }
    }
}

impl fmt::Display for Expr {
    /// Prints the expression back in Okta's syntax, fully parenthesised where it matters.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn join(f: &mut fmt::Formatter<'_>, items: &[Expr], word: &str) -> fmt::Result {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " {word} ")?;
                }
                match item {
                    Expr::And(_) | Expr::Or(_) => write!(f, "({item})")?,
                    _ => write!(f, "{item}")?,
                }
            }
            Ok(())
        }
        match self {
            Expr::And(items) => join(f, items, "and"),
            Expr::Or(items) => join(f, items, "or"),
            Expr::Not(inner) => write!(f, "not ({inner})"),
            Expr::Compare { path, op, value } => write!(f, "{path} {} {value}", op.keyword()),
            Expr::Present(path) => write!(f, "{path} pr"),
        }
    }
}

impl Expr {
    /// Every attribute path the expression mentions.
    pub fn paths(&self) -> Vec<&AttrPath> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a AttrPath>) {
        match self {
            Expr::And(items) | Expr::Or(items) => items.iter().for_each(|i| i.collect_paths(out)),
            Expr::Not(inner) => inner.collect_paths(out),
            Expr::Compare { path, .. } | Expr::Present(path) => out.push(path),
        }
    }
}
