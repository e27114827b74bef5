//! Errors of loading a configuration file.

use std::fmt;
use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Where in the YAML document an error is: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// Why a configuration was rejected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The YAML does not parse or does not fit the model (unknown field, wrong type, bad
    /// value). `field` is the path of the offending field (`scrape_configs[2].scheme`).
    #[error("{}{}{}: {message}", file_prefix(.file), field_part(.field), position_part(.position))]
    Yaml {
        file: Option<PathBuf>,
        field: String,
        position: Option<Position>,
        message: String,
    },
    /// The configuration parses but breaks a rule Prometheus enforces.
    #[error("{}{}: {message}", file_prefix(.file), field_part(.field))]
    Invalid {
        file: Option<PathBuf>,
        field: String,
        message: String,
    },
}

fn file_prefix(file: &Option<PathBuf>) -> String {
    file.as_ref()
        .map(|f| format!("{}: ", f.display()))
        .unwrap_or_default()
}

fn field_part(field: &str) -> String {
    if field.is_empty() || field == "." {
        "configuration".to_owned()
    } else {
        field.to_owned()
    }
}

fn position_part(p: &Option<Position>) -> String {
    p.map(|p| format!(" ({p})")).unwrap_or_default()
}

impl Error {
    /// A validation error at `field`.
    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            file: None,
            field: field.into(),
            message: message.into(),
        }
    }

    /// Names the file the error comes from.
    pub(crate) fn in_file(mut self, path: PathBuf) -> Self {
        match &mut self {
            Error::Yaml { file, .. } | Error::Invalid { file, .. } => *file = Some(path),
            Error::Io { .. } => {}
        }
        self
    }

    /// The field path, for YAML and validation errors.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Yaml { field, .. } | Error::Invalid { field, .. } => Some(field),
            Error::Io { .. } => None,
        }
    }

    /// The line and column, when the YAML parser reported one.
    pub fn position(&self) -> Option<Position> {
        match self {
            Error::Yaml { position, .. } => *position,
            _ => None,
        }
    }
}
