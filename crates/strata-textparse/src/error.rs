//! Errors of the exposition-format parsers.

/// Result alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// A parse failure. Every variant carries the 1-based line number it was found on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The line does not follow the grammar; `reason` says what was expected and what was found.
    #[error("line {line}: {reason}")]
    Syntax { line: usize, reason: String },
    /// The input bytes are not valid UTF-8 (only from [`crate::Parser::from_bytes`]).
    #[error("line {line}: invalid UTF-8 at byte offset {offset}")]
    InvalidUtf8 { line: usize, offset: usize },
    /// OpenMetrics input ended without the mandatory `# EOF` line.
    #[error("line {line}: data does not end with \"# EOF\"")]
    MissingEof { line: usize },
    /// OpenMetrics input has something after its `# EOF` line.
    #[error("line {line}: unexpected data after \"# EOF\"")]
    DataAfterEof { line: usize },
}

impl Error {
    /// The 1-based line number the error refers to.
    pub fn line(&self) -> usize {
        match self {
            Error::Syntax { line, .. }
            | Error::InvalidUtf8 { line, .. }
            | Error::MissingEof { line }
            | Error::DataAfterEof { line } => *line,
        }
    }
}
