//! PromQL as Prometheus 3 evaluates it.
//!
//! - [`parser`]: lexer, AST, parser and printer (`format_query`);
//! - [`value`]: the values a query produces (scalar, string, instant vector, range
//!   vector), with float and native-histogram samples;
//! - [`promqltest`]: the runner for Prometheus' promqltest scripts;
//! - [`engine`]: evaluation of instant and range queries over any
//!   [`strata_model::storage::Queryable`], with limits, timeouts and annotations.

pub mod engine;
pub mod error;
pub mod parser;
pub mod promqltest;
pub mod value;

pub use engine::{Engine, EngineOptions, QueryOptions};
pub use error::{QueryError, Result};
