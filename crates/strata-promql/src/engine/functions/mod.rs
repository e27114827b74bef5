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
//!
//! Extended range selectors: for `[…] anchored` the evaluator passes, in `floats`, the
//! samples of `(range_start - lookback, range_end]`; for `[…] smoothed` those of
//! `(range_start - lookback, range_end + lookback]`. `range_start`/`range_end` stay the
//! selector's own window. The functions read the modifier from `ctx.arg_exprs`.

mod histogram;
mod kernels;
mod labels;
mod math;
mod misc;
mod native;
mod over_time;
mod rate;
mod sort;
mod time;
mod trend;

pub use kernels::{FloatKernel, KernelVisitor, float_kernel, with_kernel};

#[cfg(test)]
mod tests_util;

use std::cmp::Ordering;

use strata_model::Labels;

use crate::error::{QueryError, Result};
use crate::parser::ast::{Expr, MatrixSelector};
use crate::parser::functions::Function;
use crate::value::{Annotations, FloatHistogram, Sample, SampleValue};

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
    /// How many counter resets (a float sample lower than the one before it) `floats`
    /// holds, when the caller knows it; lets `rate`/`increase` skip their scan.
    pub resets: Option<u32>,
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

impl Ctx<'_> {
    /// Adds `PromQL warning: <msg>` unless already present.
    pub(crate) fn warn(&mut self, msg: impl AsRef<str>) {
        let s = format!("PromQL warning: {}", msg.as_ref());
        if !self.annotations.warnings.contains(&s) {
            self.annotations.warnings.push(s);
        }
    }

    /// Adds `PromQL info: <msg>` unless already present.
    pub(crate) fn info(&mut self, msg: impl AsRef<str>) {
        let s = format!("PromQL info: {}", msg.as_ref());
        if !self.annotations.infos.contains(&s) {
            self.annotations.infos.push(s);
        }
    }

    /// The matrix selector of argument `i`, looking through parentheses.
    pub(crate) fn matrix_selector(&self, i: usize) -> Option<&MatrixSelector> {
        let mut e = self.arg_exprs.get(i)?;
        loop {
            match e {
                Expr::Paren(inner) => e = inner,
                Expr::MatrixSelector(ms) => return Some(ms),
                _ => return None,
            }
        }
    }
}

/// The evaluated arguments, taken one by one.
pub(crate) struct Args<'a> {
    args: Vec<Option<Arg<'a>>>,
    func: &'static str,
}

impl<'a> Args<'a> {
    fn new(args: Vec<Arg<'a>>, func: &'static str) -> Self {
        Args {
            args: args.into_iter().map(Some).collect(),
            func,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.args.len()
    }

    fn take(&mut self, i: usize) -> Result<Arg<'a>> {
        self.args.get_mut(i).and_then(Option::take).ok_or_else(|| {
            QueryError::Execution(format!("missing argument {} of {}()", i + 1, self.func))
        })
    }

    fn wrong(&self, i: usize, want: &str) -> QueryError {
        QueryError::Execution(format!(
            "argument {} of {}() must be {want}",
            i + 1,
            self.func
        ))
    }

    pub(crate) fn scalar(&mut self, i: usize) -> Result<f64> {
        match self.take(i)? {
            Arg::Scalar(v) => Ok(v),
            _ => Err(self.wrong(i, "a scalar")),
        }
    }

    pub(crate) fn string(&mut self, i: usize) -> Result<String> {
        match self.take(i)? {
            Arg::String(s) => Ok(s),
            _ => Err(self.wrong(i, "a string")),
        }
    }

    pub(crate) fn vector(&mut self, i: usize) -> Result<Vec<Sample>> {
        match self.take(i)? {
            Arg::Vector(v) => Ok(v),
            _ => Err(self.wrong(i, "an instant vector")),
        }
    }

    pub(crate) fn matrix(&mut self, i: usize) -> Result<Vec<RangeSeries<'a>>> {
        match self.take(i)? {
            Arg::Matrix(m) => Ok(m),
            _ => Err(self.wrong(i, "a range vector")),
        }
    }
}

/// Functions that accept `[…] anchored`.
const ANCHORED_SAFE: &[&str] = &["changes", "delta", "increase", "rate", "resets"];
/// Functions that accept `[…] smoothed`.
const SMOOTHED_SAFE: &[&str] = &["delta", "increase", "rate"];

/// Evaluates `func` for one step.
pub fn call(func: &Function, args: Vec<Arg<'_>>, ctx: &mut Ctx<'_>) -> Result<Output> {
    check_extended_modifiers(func.name, ctx)?;
    let mut a = Args::new(args, func.name);
    let name = func.name;
    if let Some(out) = math::call(name, &mut a, ctx)? {
        return Ok(out);
    }
    if let Some(out) = time::call(name, &mut a, ctx)? {
        return Ok(out);
    }
    if let Some(out) = rate::call(name, &mut a, ctx)? {
        return Ok(out);
    }
    if let Some(out) = over_time::call(name, &mut a, ctx)? {
        return Ok(out);
    }
    if let Some(out) = labels::call(name, &mut a, ctx)? {
        return Ok(out);
    }
    if let Some(out) = sort::call(name, &mut a, ctx)? {
        return Ok(out);
    }
    if let Some(out) = histogram::call(name, &mut a, ctx)? {
        return Ok(out);
    }
    if let Some(out) = misc::call(name, &mut a, ctx)? {
        return Ok(out);
    }
    Err(QueryError::Execution(format!("unknown function {name}()")))
}

/// Prometheus rejects `anchored`/`smoothed` selectors for functions that cannot use
/// samples outside the window.
fn check_extended_modifiers(name: &str, ctx: &Ctx<'_>) -> Result<()> {
    let Some(ms) = (0..ctx.arg_exprs.len()).find_map(|i| ctx.matrix_selector(i)) else {
        return Ok(());
    };
    let (kind, safe) = if ms.selector.anchored {
        ("anchored", ANCHORED_SAFE)
    } else if ms.selector.smoothed {
        ("smoothed", SMOOTHED_SAFE)
    } else {
        return Ok(());
    };
    if safe.contains(&name) {
        return Ok(());
    }
    Err(QueryError::Execution(format!(
        "{kind} modifier can only be used with: {} - not with {name}",
        safe.join(", ")
    )))
}

/// The value of `__name__`, or "".
pub(crate) fn metric_name(l: &Labels) -> &str {
    l.metric_name().unwrap_or("")
}

/// A float output sample at the step time.
pub(crate) fn float_sample(metric: Labels, t: i64, v: f64, drop_name: bool) -> Sample {
    Sample {
        metric,
        t,
        value: SampleValue::Float(v),
        drop_name,
    }
}

/// The float value of a sample, `None` for histograms.
pub(crate) fn as_float(s: &Sample) -> Option<f64> {
    match s.value {
        SampleValue::Float(v) => Some(v),
        SampleValue::Histogram(_) => None,
    }
}

/// A total order on floats with NaN above everything (never panics in sorts).
pub(crate) fn cmp_f64(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b)
        .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
}

/// Go's `math.Max`: NaN wins, +0 beats -0.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { b } else { a };
    }
    if a > b { a } else { b }
}

/// Go's `math.Min`: NaN wins, -0 beats +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        return f64::NAN;
    }
    if a == 0.0 && b == 0.0 {
        return if a.is_sign_negative() { a } else { b };
    }
    if a < b { a } else { b }
}

/// Kahan–Neumaier compensated addition (Prometheus' `kahansum.Inc`): the new sum and
/// compensation.
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// A stable merge sort that tolerates comparators that are not total orders (Rust's
/// standard sorts may panic on those).
pub(crate) fn merge_sort_by<T, F>(v: Vec<T>, cmp: &mut F) -> Vec<T>
where
    F: FnMut(&T, &T) -> Ordering,
{
    if v.len() <= 1 {
        return v;
    }
    let mut left = v;
    let right = left.split_off(left.len() / 2);
    let left = merge_sort_by(left, cmp);
    let right = merge_sort_by(right, cmp);
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut l = left.into_iter().peekable();
    let mut r = right.into_iter().peekable();
    loop {
        let take_right = match (l.peek(), r.peek()) {
            (Some(a), Some(b)) => cmp(b, a) == Ordering::Less,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (None, None) => break,
        };
        let next = if take_right { r.next() } else { l.next() };
        if let Some(x) = next {
            out.push(x);
        }
    }
    out
}

/// `quantile` as Prometheus computes it over a set of floats (sorts `values`).
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaN sorts first, as Prometheus' value heap does.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        _ => cmp_f64(*a, *b),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    let lo = values.get(lower as usize).copied().unwrap_or(f64::NAN);
    let hi = values.get(upper as usize).copied().unwrap_or(f64::NAN);
    lo * (1.0 - weight) + hi * weight
}

/// The "unsupported" error for native-histogram inputs not implemented yet.
pub(crate) fn unsupported_histograms(func: &str) -> QueryError {
    QueryError::Execution(format!(
        "{func}() over native histograms is not supported yet"
    ))
}
