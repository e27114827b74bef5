//! PromQL functions, evaluated one step at a time.
//!
//! Contract with the evaluator (`engine/eval*.rs`): for each evaluation step the
//! evaluator evaluates a call's arguments at that step and calls [`call`] with them.
//! Range-vector arguments arrive as [`RangeSeries`]: borrowed slices of the samples that
//! fall in the selector's window for this step (Prometheus 3 windows are left-open:
//! `(range_start, range_end]`, already shifted by `offset`/`@`). Instant-vector arguments
//! arrive as owned samples. A function returns an instant vector or a scalar for the
//! step; the evaluator assembles steps into the query's result.
//!
//! Metric names: functions that Prometheus 3 says drop the metric name set
//! `Sample::drop_name` on their output instead of removing `__name__` (delayed name
//! removal); the evaluator removes flagged names when the whole expression is done, or
//! earlier where Prometheus does (e.g. before aggregations and label matching).

use strata_model::Labels;

use crate::error::Result;
use crate::parser::ast::Expr;
use crate::parser::functions::Function;
use crate::value::{Annotations, FloatHistogram, Sample};

/// The samples of one series inside a range selector's window for one step.
#[derive(Debug, Clone, Copy)]
pub struct RangeSeries<'a> {
    pub metric: &'a Labels,
    /// Float samples with `range_start < t <= range_end`, in time order.
    pub floats: &'a [(i64, f64)],
    /// Native-histogram samples in the same window.
    pub histograms: &'a [(i64, FloatHistogram)],
    /// Exclusive start of the window (ms), after offset and `@`.
    pub range_start: i64,
    /// Inclusive end of the window (ms).
    pub range_end: i64,
    /// The series' name is already marked for removal by an inner function.
    pub drop_name: bool,
}

/// One evaluated argument.
#[derive(Debug)]
pub enum Arg<'a> {
    Scalar(f64),
    String(String),
    Vector(Vec<Sample>),
    Matrix(Vec<RangeSeries<'a>>),
}

/// What a function produced for one step.
#[derive(Debug)]
pub enum Output {
    Vector(Vec<Sample>),
    Scalar(f64),
}

/// Per-step context.
pub struct Ctx<'a> {
    /// Evaluation timestamp of this step (ms).
    pub t: i64,
    /// Where warnings and infos go (deduplicated by the evaluator).
    pub annotations: &'a mut Annotations,
    /// The call's argument expressions, for functions that inspect them
    /// (`absent`, `absent_over_time` build labels from equality matchers; annotations
    /// name the metric).
    pub arg_exprs: &'a [Expr],
}

/// Evaluates `func` for one step.
pub fn call(func: &Function, args: Vec<Arg<'_>>, ctx: &mut Ctx<'_>) -> Result<Output> {
    Err(crate::error::QueryError::Execution(format!(
        "function {:?} is not implemented yet (args: {}, t: {})",
        func.name,
        args.len(),
        ctx.t
    )))
}
