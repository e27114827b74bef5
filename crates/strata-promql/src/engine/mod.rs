//! Evaluation of PromQL queries over a [`Queryable`].
//!
//! The public surface (this file) is what the HTTP API and the promqltest runner use:
//! [`Engine::instant_query`] and [`Engine::range_query`], configured by
//! [`EngineOptions`] and per-query [`QueryOptions`].

mod accumulate;
mod aggregate;
mod binary;
mod eval;
pub mod functions;
mod info;
mod leaf_aggregate;
mod leaf_step;
mod leaves;
pub mod limits;
mod names;
mod parallel;
mod selectors;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_model::Labels;
use strata_model::storage::Queryable;

use crate::error::{QueryError, Result};
use crate::parser::ast::{Expr, ValueType};
use crate::value::{Annotations, QueryResult, QueryStats, Sample, SampleValue, Series, Value};
use eval::{Evaluator, StepValue};
use limits::{Deadline, Gate, SampleBudget};
use names::DUPLICATE_LABELSET;
use selectors::QueryTimes;

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
    /// Threads one query may use to decode and evaluate series (default: the
    /// machine's parallelism).
    pub threads: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Duration::from_secs(120),
            max_concurrent: 20,
            experimental_functions: true,
            threads: parallel::default_threads(),
        }
    }
}

/// Per-query overrides.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    pub lookback_delta_ms: Option<i64>,
    pub timeout: Option<Duration>,
    /// Set by the caller to cancel the query (e.g. when the HTTP client went away); the
    /// evaluator checks it with the deadline and fails with `QueryError::Canceled`.
    pub cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// The PromQL engine.
#[derive(Debug, Clone)]
pub struct Engine {
    opts: EngineOptions,
    gate: Arc<Gate>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new(EngineOptions::default())
    }
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        let gate = Gate::new(opts.max_concurrent);
        Engine { opts, gate }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at `time_ms`.
    pub fn instant_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        time_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult> {
        let expr = crate::parser::parse(query)?;
        self.check_experimental(&expr)?;
        let began = Instant::now();
        let (timeout, _slot) = self.admit(opts)?;
        let qt = QueryTimes {
            start: time_ms,
            end: time_ms,
            step: 0,
            lookback: self.lookback(opts),
        };
        let mut ev = self.evaluator(storage, &expr, qt, timeout, false, opts.cancel.clone())?;
        let value = match ev.eval(&expr, time_ms)? {
            StepValue::Scalar(v) => Value::Scalar { t: time_ms, v },
            StepValue::String(s) => Value::String { t: time_ms, s },
            StepValue::Vector(v) => {
                let mut v = names::finish_vector(v)?;
                for s in &mut v {
                    s.t = time_ms;
                }
                Value::Vector(v)
            }
            StepValue::Matrix(m) => Value::Matrix(names::finish_matrix(m)?),
        };
        Ok(finish(value, ev, began))
    }

    /// Evaluates `query` at every `step_ms` from `start_ms` to `end_ms` inclusive.
    pub fn range_query(
        &self,
        storage: &dyn Queryable,
        query: &str,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        opts: &QueryOptions,
    ) -> Result<QueryResult> {
        let expr = crate::parser::parse(query)?;
        self.check_experimental(&expr)?;
        match expr.value_type() {
            ValueType::Scalar | ValueType::Vector => {}
            other => {
                return Err(QueryError::BadData(format!(
                    "invalid expression type {:?} for range query, must be Scalar or instant Vector",
                    other.documented()
                )));
            }
        }
        if step_ms <= 0 {
            return Err(QueryError::BadData(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        if end_ms < start_ms {
            return Err(QueryError::BadData(
                "end timestamp must not be before start time".into(),
            ));
        }
        let began = Instant::now();
        let (timeout, _slot) = self.admit(opts)?;
        let qt = QueryTimes {
            start: start_ms,
            end: end_ms,
            step: step_ms,
            lookback: self.lookback(opts),
        };
        let mut ev = self.evaluator(
            storage,
            &expr,
            qt,
            timeout,
            start_ms != end_ms,
            opts.cancel.clone(),
        )?;
        let mut series: Vec<Series> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        let mut t = start_ms;
        loop {
            ev.deadline.check()?;
            let points = match ev.eval(&expr, t)? {
                StepValue::Scalar(v) => vec![Sample {
                    metric: Labels::empty(),
                    t,
                    value: SampleValue::Float(v),
                    drop_name: false,
                }],
                StepValue::Vector(v) => v,
                other => {
                    return Err(QueryError::Execution(format!(
                        "range query step produced a {}",
                        match other {
                            StepValue::String(_) => "string",
                            _ => "range vector",
                        }
                    )));
                }
            };
            ev.budget.add(points.len())?;
            for s in points {
                let i = *index.entry(s.metric.clone()).or_insert_with(|| {
                    series.push(Series {
                        metric: s.metric.clone(),
                        drop_name: s.drop_name,
                        ..Series::default()
                    });
                    series.len() - 1
                });
                let target = &mut series[i];
                let dup = target.floats.last().is_some_and(|p| p.0 == t)
                    || target.histograms.last().is_some_and(|p| p.0 == t);
                if dup {
                    return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
                }
                match s.value {
                    SampleValue::Float(f) => target.floats.push((t, f)),
                    SampleValue::Histogram(h) => target.histograms.push((t, *h)),
                }
            }
            match t.checked_add(step_ms) {
                Some(n) if n <= end_ms => t = n,
                _ => break,
            }
        }
        let value = Value::Matrix(names::finish_matrix(series)?);
        Ok(finish(value, ev, began))
    }

    fn lookback(&self, opts: &QueryOptions) -> i64 {
        opts.lookback_delta_ms
            .filter(|l| *l > 0)
            .unwrap_or(self.opts.lookback_delta_ms)
    }

    /// Waits for a concurrency slot; returns the query's timeout and the slot.
    fn admit(&self, opts: &QueryOptions) -> Result<(Duration, limits::Slot)> {
        let timeout = opts.timeout.unwrap_or(self.opts.timeout);
        let slot = self.gate.acquire(timeout)?;
        Ok((timeout, slot))
    }

    fn check_experimental(&self, expr: &Expr) -> Result<()> {
        if self.opts.experimental_functions {
            return Ok(());
        }
        let mut bad = None;
        visit(expr, &mut |e| {
            if let Expr::Call(c) = e
                && c.func.experimental
                && bad.is_none()
            {
                bad = Some(c.func.name);
            }
        });
        match bad {
            Some(name) => Err(QueryError::BadData(format!(
                "function {name:?} is not enabled (experimental functions are disabled)"
            ))),
            None => Ok(()),
        }
    }

    fn evaluator(
        &self,
        storage: &dyn Queryable,
        expr: &Expr,
        qt: QueryTimes,
        timeout: Duration,
        range_query: bool,
        cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    ) -> Result<Evaluator> {
        let deadline = Deadline::after(timeout).with_cancel(cancel);
        let t0 = Instant::now();
        let mut found = Vec::new();
        leaves::find(expr, &mut found);
        let threads = self.opts.threads.max(1);
        let mut pre =
            selectors::preload(storage, expr, &qt, &leaves::selector_keys(&found), threads)?;
        deadline.check()?;
        let t1 = Instant::now();
        let leaves = leaves::evaluate(&found, &mut pre.lazy, &qt, &deadline, threads)?;
        tracing::debug!(
            preload_ms = (t1 - t0).as_secs_f64() * 1e3,
            leaves_ms = t1.elapsed().as_secs_f64() * 1e3,
            leaves = found.len(),
            "query series loaded"
        );
        deadline.check()?;
        Ok(Evaluator {
            pre,
            qt,
            ann: Annotations::default(),
            deadline,
            budget: SampleBudget::new(self.opts.max_samples),
            range_query,
            groups: Default::default(),
            leaves,
        })
    }
}

fn finish(value: Value, ev: Evaluator, began: Instant) -> QueryResult {
    let mut annotations = ev.ann;
    eval::dedup_annotations(&mut annotations);
    QueryResult {
        value,
        annotations,
        stats: QueryStats {
            total_queryable_samples: ev.budget.total,
            peak_samples: ev.budget.peak,
            eval_total_time_s: began.elapsed().as_secs_f64(),
        },
    }
}

/// Calls `f` on every node of `e`.
pub(crate) fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Number(_) | Expr::String(_) | Expr::VectorSelector(_) | Expr::MatrixSelector(_) => {}
        Expr::Subquery(s) => visit(&s.expr, f),
        Expr::Paren(x) => visit(x, f),
        Expr::Unary(u) => visit(&u.expr, f),
        Expr::Binary(b) => {
            visit(&b.lhs, f);
            visit(&b.rhs, f);
        }
        Expr::Aggregate(a) => {
            if let Some(p) = &a.param {
                visit(p, f);
            }
            visit(&a.expr, f);
        }
        Expr::Call(c) => c.args.iter().for_each(|a| visit(a, f)),
    }
}
