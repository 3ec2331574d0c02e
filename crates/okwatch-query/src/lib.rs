//! Okta's System Log query language: `filter` expressions and `q` keywords.
//!
//! One parser produces one AST ([`Expr`]); [`validate`] checks it against the LogEvent schema;
//! [`matches`] evaluates it against an event (the reference semantics, used for streaming
//! matches); the store crates compile the same AST to SQL. No I/O happens here.

pub mod ast;
pub mod eval;
pub mod keywords;
pub mod parser;
pub mod validate;

pub use ast::{AttrPath, CompareOp, Expr, Literal};
pub use eval::{compare, is_present, matches, resolve};
pub use keywords::{
    push_text_tokens, push_tokens, token_hashes, token_match, word_tokens, Keywords, Token,
    TOKEN_BOUNDARIES,
};
pub use parser::{parse_filter, FilterError, FilterErrorKind};
pub use validate::{validate, Dialect};

/// Parses and validates a filter in one step.
pub fn parse_and_validate(input: &str, dialect: Dialect) -> Result<Expr, FilterError> {
    validate(parse_filter(input)?, dialect)
}
