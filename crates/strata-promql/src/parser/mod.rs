//! The PromQL parser: lexer, AST, precedence-climbing parser, type checker and printer.
//!
//! [`parse`] accepts Prometheus 3.14 syntax with every optional feature enabled
//! (experimental functions, duration expressions, `anchored`/`smoothed`, `fill`
//! modifiers). `Display` on [`Expr`] renders Prometheus' canonical formatting.

pub mod ast;
mod durations;
pub mod functions;
pub mod json;
pub mod lexer;
mod nodes;
#[allow(clippy::module_inception)]
mod parser;
pub mod printer;
pub mod strings;

#[cfg(test)]
mod testfiles;
#[cfg(test)]
mod tests;

pub use ast::*;
pub use functions::{FUNCTIONS, Function};

use std::fmt;

/// A syntax or type error, rendered as Prometheus does: `1:5: parse error: <msg>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the error in the query.
    pub pos: usize,
    /// 1-based line and column (column counted in bytes).
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl ParseError {
    fn new(input: &str, pos: usize, msg: String) -> Self {
        let pos = pos.min(input.len());
        let before = input.get(..pos).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let col = pos - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        ParseError {
            pos,
            line,
            col,
            msg,
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: parse error: {}", self.line, self.col, self.msg)
    }
}

impl std::error::Error for ParseError {}

impl From<ParseError> for crate::error::QueryError {
    fn from(e: ParseError) -> Self {
        crate::error::QueryError::BadData(e.to_string())
    }
}

/// Parses and type-checks a PromQL expression.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    parser::parse(input)
}
