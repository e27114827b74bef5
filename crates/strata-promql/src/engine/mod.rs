//! Evaluation of PromQL queries over a [`Queryable`].
//!
//! The public surface (this file) is what the HTTP API and the promqltest runner use:
//! [`Engine::instant_query`] and [`Engine::range_query`], configured by
//! [`EngineOptions`] and per-query [`QueryOptions`].

pub mod functions;

use std::time::Duration;

use strata_model::storage::Queryable;

use crate::error::{QueryError, Result};
use crate::value::QueryResult;

/// Engine-wide settings.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (default 5 m).
    pub lookback_delta_ms: i64,
    /// Maximum samples a query may hold in memory at once (default 50,000,000).
    pub max_samples: u64,
    /// Default timeout (default 2 m).
    pub timeout: Duration,
    /// Queries evaluated at once; further queries wait (default 20).
    pub max_concurrent: usize,
    /// Enable experimental functions (Prometheus' `--enable-feature=promql-experimental-functions`).
    pub experimental_functions: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            max_concurrent: 20,
            experimental_functions: true,
        }
    }
}

/// Per-query overrides.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    pub lookback_delta_ms: Option<i64>,
    pub timeout: Option<Duration>,
}

/// The PromQL engine.
#[derive(Debug, Clone, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at `time_ms`.
    pub fn instant_query(
        &self,
        _storage: &dyn Queryable,
        _query: &str,
        _time_ms: i64,
        _opts: &QueryOptions,
    ) -> Result<QueryResult> {
        Err(QueryError::Execution(
            "the PromQL engine is being built on this branch".into(),
        ))
    }

    /// Evaluates `query` at every `step_ms` from `start_ms` to `end_ms` inclusive.
    pub fn range_query(
        &self,
        _storage: &dyn Queryable,
        _query: &str,
        _start_ms: i64,
        _end_ms: i64,
        _step_ms: i64,
        _opts: &QueryOptions,
    ) -> Result<QueryResult> {
        Err(QueryError::Execution(
            "the PromQL engine is being built on this branch".into(),
        ))
    }
}
