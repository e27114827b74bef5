//! The step evaluator: evaluates an expression at one timestamp. Range queries and
//! subqueries call it once per step; selectors read the series preloaded by
//! [`super::selectors::preload`].

use std::collections::HashMap;

use strata_model::Labels;

use super::aggregate::{Param, aggregate};
use super::binary::{scalar_op, set_op, vector_scalar, vector_vector};
use super::functions::{self, Arg, Ctx, Output, RangeSeries};
use super::leaf_aggregate::AggregateStep;
use super::leaves::Leaves;
use super::limits::{Deadline, SampleBudget};
use super::names::DUPLICATE_LABELSET;
use super::selectors::{
    DEFAULT_SUBQUERY_STEP_MS, LoadedSeries, Preloaded, QueryTimes, selector_key, window,
};
use crate::error::{QueryError, Result};
use crate::parser::ast::{
    BinaryExpr, Call, Cardinality, Expr, SubqueryExpr, UnaryOp, ValueType, VectorMatching,
    VectorSelector,
};
use crate::value::{Annotations, Sample, SampleValue, Series};

/// What an expression produced at one step.
#[derive(Debug)]
pub enum StepValue {
    Scalar(f64),
    String(String),
    Vector(Vec<Sample>),
    /// A range vector: a bare range selector or a subquery.
    Matrix(Vec<Series>),
}

impl StepValue {
    fn type_name(&self) -> &'static str {
        match self {
            StepValue::Scalar(_) => "scalar",
            StepValue::String(_) => "string",
            StepValue::Vector(_) => "instant vector",
            StepValue::Matrix(_) => "range vector",
        }
    }
}

fn unexpected(what: &str, v: &StepValue) -> QueryError {
    QueryError::Execution(format!("expected {what}, got {}", v.type_name()))
}

/// Evaluation state shared by all steps of one query.
pub struct Evaluator {
    pub pre: Preloaded,
    pub qt: QueryTimes,
    pub ann: Annotations,
    pub deadline: Deadline,
    pub budget: SampleBudget,
    /// Whether the query is a range query (for the `sort` warning).
    pub range_query: bool,
    /// Grouping keys of aggregations, reused across steps.
    pub groups: super::aggregate::GroupCache,
    /// Results of selector leaves evaluated series-major, taken step by step.
    pub leaves: Leaves,
}

fn default_matching() -> VectorMatching {
    VectorMatching {
        card: Cardinality::OneToOne,
        on: false,
        labels: Vec::new(),
        include: Vec::new(),
        fill: Default::default(),
    }
}

impl Evaluator {
    pub fn add_warning(&mut self, w: String) {
        if !self.ann.warnings.contains(&w) {
            self.ann.warnings.push(w);
        }
    }

    /// Evaluates `e` at time `t`.
    pub fn eval(&mut self, e: &Expr, t: i64) -> Result<StepValue> {
        match e {
            Expr::Number(n) => Ok(StepValue::Scalar(n.value)),
            Expr::String(s) => Ok(StepValue::String(s.clone())),
            Expr::Paren(inner) => self.eval(inner, t),
            Expr::VectorSelector(vs) => Ok(StepValue::Vector(self.select_vector(vs, t, false)?)),
            Expr::MatrixSelector(ms) => {
                let range = self.qt.resolve(&ms.range, false)?;
                let [start, end, ..] = window_bounds(&self.qt, &ms.selector, range, t);
                let loaded = self.pre.series.get(&selector_key(&ms.selector));
                let mut out = Vec::new();
                for s in loaded.map(|v| v.as_slice()).unwrap_or_default() {
                    let w = s.window(start, end);
                    if w.is_empty() {
                        continue;
                    }
                    out.push(Series {
                        metric: s.labels.clone(),
                        floats: s.floats[w].to_vec(),
                        histograms: Vec::new(),
                        drop_name: false,
                    });
                }
                Ok(StepValue::Matrix(out))
            }
            Expr::Subquery(sq) => Ok(StepValue::Matrix(self.eval_subquery(sq, t)?.0)),
            Expr::Unary(u) => {
                let v = self.eval(&u.expr, t)?;
                if u.op == UnaryOp::Pos {
                    return Ok(v);
                }
                match v {
                    StepValue::Scalar(f) => Ok(StepValue::Scalar(-f)),
                    StepValue::Vector(mut vec) => {
                        for s in &mut vec {
                            match &mut s.value {
                                SampleValue::Float(f) => *f = -*f,
                                SampleValue::Histogram(_) => {
                                    return Err(QueryError::Execution(
                                        "negating native histograms is not supported".into(),
                                    ));
                                }
                            }
                            s.drop_name = true;
                        }
                        Ok(StepValue::Vector(vec))
                    }
                    other => Err(unexpected("scalar or instant vector", &other)),
                }
            }
            Expr::Binary(b) => self.eval_binary(b, t),
            Expr::Aggregate(a) => {
                let node = std::ptr::from_ref(a) as usize;
                if let Some(done) = self.leaves.take_aggregate(node, t) {
                    return self.fused_aggregate(done);
                }
                let param = match &a.param {
                    None => Param::None,
                    Some(p) => match self.eval(p, t)? {
                        StepValue::Scalar(f) => Param::Number(f),
                        StepValue::String(s) => Param::Label(s),
                        other => return Err(unexpected("scalar or string parameter", &other)),
                    },
                };
                if let Param::Label(l) = &param
                    && strata_model::labels::validate_label_name(
                        l,
                        strata_model::labels::NameValidation::Utf8,
                    )
                    .is_err()
                {
                    return Err(QueryError::Execution(format!(
                        "invalid label name {}",
                        strata_model::gofmt::go_quote(l)
                    )));
                }
                let input = self.eval_vector(&a.expr, t)?;
                let out = aggregate(
                    a.op,
                    &a.grouping,
                    a.without,
                    param,
                    input,
                    t,
                    &mut self.ann,
                    (&mut self.groups, node),
                )?;
                Ok(StepValue::Vector(out))
            }
            Expr::Call(c) => self.eval_call(c, t),
        }
    }

    /// A step of an aggregation computed along with its leaf: the limits and
    /// annotations of the leaf's step, as [`Evaluator::select_vector`] (for an instant
    /// selector) or [`Evaluator::eval_call`] (for a range function) apply them.
    fn fused_aggregate(&mut self, done: AggregateStep) -> Result<StepValue> {
        if done.instant {
            let v = done.result?;
            self.budget.add(done.input_len)?;
            self.budget.release(done.input_len);
            return Ok(StepValue::Vector(v));
        }
        self.budget.add(done.held)?;
        self.budget.release(done.held);
        self.ann.warnings.extend(done.annotations.warnings);
        self.ann.infos.extend(done.annotations.infos);
        dedup_annotations(&mut self.ann);
        Ok(StepValue::Vector(done.result?))
    }

    /// Evaluates an expression that must yield an instant vector.
    pub fn eval_vector(&mut self, e: &Expr, t: i64) -> Result<Vec<Sample>> {
        match self.eval(e, t)? {
            StepValue::Vector(v) => Ok(v),
            other => Err(unexpected("instant vector", &other)),
        }
    }

    /// The instant vector a selector yields at `t`; with `keep_ts` samples keep their
    /// own timestamps (for `timestamp()`), otherwise they get `t`.
    pub fn select_vector(
        &mut self,
        vs: &VectorSelector,
        t: i64,
        keep_ts: bool,
    ) -> Result<Vec<Sample>> {
        let mut out = Vec::new();
        if !keep_ts && let Some(done) = self.leaves.take(selector_key(vs), t) {
            out = done.result?;
        } else if let Some(series) = self.pre.series.get(&selector_key(vs)) {
            instant_vector(series, vs, &self.qt, t, keep_ts, &mut out)?;
        }
        self.budget.add(out.len())?;
        self.budget.release(out.len());
        Ok(out)
    }

    /// Evaluates a subquery at `t`: the inner expression at every multiple of the step
    /// inside the window. Returns the series and the window bounds.
    pub fn eval_subquery(&mut self, sq: &SubqueryExpr, t: i64) -> Result<(Vec<Series>, i64, i64)> {
        let range = self.qt.resolve(&sq.range, false)?;
        let step = match &sq.step {
            Some(d) => self.qt.resolve(d, false)?,
            None => DEFAULT_SUBQUERY_STEP_MS,
        };
        if step <= 0 {
            return Err(QueryError::Execution(
                "subquery step must be positive".into(),
            ));
        }
        let base = self.qt.at(&sq.at).unwrap_or(t);
        let end = base.saturating_sub(self.qt.offset(&sq.offset)?);
        let lo = end.saturating_sub(range);
        let mut ts = lo.div_euclid(step).saturating_mul(step);
        if ts <= lo {
            ts = ts.saturating_add(step);
        }
        let mut series: Vec<Series> = Vec::new();
        let mut index: HashMap<Labels, usize> = HashMap::new();
        while ts <= end {
            self.deadline.check()?;
            match self.eval(&sq.expr, ts)? {
                StepValue::Vector(v) => {
                    for s in v {
                        let f = match s.value {
                            SampleValue::Float(f) => f,
                            SampleValue::Histogram(_) => continue,
                        };
                        match index.get(&s.metric) {
                            Some(&i) => {
                                if series[i].floats.last().is_some_and(|p| p.0 == ts) {
                                    return Err(QueryError::Execution(DUPLICATE_LABELSET.into()));
                                }
                                series[i].floats.push((ts, f));
                            }
                            None => {
                                index.insert(s.metric.clone(), series.len());
                                series.push(Series {
                                    metric: s.metric,
                                    floats: vec![(ts, f)],
                                    histograms: Vec::new(),
                                    drop_name: s.drop_name,
                                });
                            }
                        }
                    }
                }
                StepValue::Scalar(f) => {
                    if series.is_empty() {
                        series.push(Series::default());
                    }
                    series[0].floats.push((ts, f));
                }
                other => return Err(unexpected("instant vector", &other)),
            }
            let Some(next) = ts.checked_add(step) else {
                break;
            };
            ts = next;
        }
        Ok((series, lo, end))
    }

    fn eval_binary(&mut self, b: &BinaryExpr, t: i64) -> Result<StepValue> {
        let l = self.eval(&b.lhs, t)?;
        let r = self.eval(&b.rhs, t)?;
        match (l, r) {
            (StepValue::Scalar(x), StepValue::Scalar(y)) => {
                Ok(StepValue::Scalar(scalar_op(b.op, x, y)))
            }
            (StepValue::Vector(v), StepValue::Scalar(y)) => Ok(StepValue::Vector(vector_scalar(
                b.op,
                v,
                y,
                false,
                b.return_bool,
            )?)),
            (StepValue::Scalar(x), StepValue::Vector(v)) => Ok(StepValue::Vector(vector_scalar(
                b.op,
                v,
                x,
                true,
                b.return_bool,
            )?)),
            (StepValue::Vector(l), StepValue::Vector(r)) => {
                let dm;
                let m = match &b.matching {
                    Some(m) => m,
                    None => {
                        dm = default_matching();
                        &dm
                    }
                };
                if b.op.is_set_operator() {
                    Ok(StepValue::Vector(set_op(b.op, l, r, m)))
                } else {
                    Ok(StepValue::Vector(vector_vector(
                        b.op,
                        l,
                        r,
                        m,
                        b.return_bool,
                    )?))
                }
            }
            (l, r) => Err(QueryError::Execution(format!(
                "binary operation between {} and {} is not allowed",
                l.type_name(),
                r.type_name()
            ))),
        }
    }

    fn eval_call(&mut self, c: &Call, t: i64) -> Result<StepValue> {
        let name = c.func.name;
        match name {
            "timestamp" => return self.eval_timestamp(c, t),
            "start" => return Ok(StepValue::Scalar(self.qt.start as f64 / 1000.0)),
            "end" => return Ok(StepValue::Scalar(self.qt.end as f64 / 1000.0)),
            "range" => {
                return Ok(StepValue::Scalar(
                    (self.qt.end - self.qt.start) as f64 / 1000.0,
                ));
            }
            "step" => return Ok(StepValue::Scalar(self.qt.step as f64 / 1000.0)),
            "info" => return super::info::eval_info(self, c, t),
            "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" if self.range_query => {
                self.add_warning(
                    "PromQL warning: sort is ineffective for range queries since results are always ordered by labels".into(),
                );
            }
            _ => {}
        }
        if let Some(done) = self.leaves.take(std::ptr::from_ref(c) as usize, t) {
            self.budget.add(done.held)?;
            self.budget.release(done.held);
            self.ann.warnings.extend(done.annotations.warnings);
            self.ann.infos.extend(done.annotations.infos);
            dedup_annotations(&mut self.ann);
            let mut v = done.result?;
            for s in &mut v {
                s.t = t;
            }
            return Ok(StepValue::Vector(v));
        }
        // Evaluate every argument except a range-vector one.
        let mut vals: Vec<Option<StepValue>> = Vec::with_capacity(c.args.len());
        let mut matrix_idx = None;
        for (i, a) in c.args.iter().enumerate() {
            if a.value_type() == ValueType::Matrix {
                matrix_idx = Some(i);
                vals.push(None);
            } else {
                vals.push(Some(self.eval(a, t)?));
            }
        }
        // A subquery argument is evaluated into owned series.
        let mut owned: Option<(Vec<Series>, i64, i64)> = None;
        let mut sel: Option<(&VectorSelector, [i64; 4])> = None;
        if let Some(i) = matrix_idx {
            match c.args[i].unwrap_parens() {
                Expr::MatrixSelector(ms) => {
                    let range = self.qt.resolve(&ms.range, false)?;
                    let b = window_bounds(&self.qt, &ms.selector, range, t);
                    sel = Some((&ms.selector, b));
                }
                Expr::Subquery(sq) => owned = Some(self.eval_subquery(sq, t)?),
                other => {
                    let v = self.eval(other, t)?;
                    match v {
                        StepValue::Matrix(m) => owned = Some((m, i64::MIN, t)),
                        other => return Err(unexpected("range vector", &other)),
                    }
                }
            }
        }
        let Evaluator {
            pre, ann, budget, ..
        } = self;
        let mut matrix: Vec<RangeSeries<'_>> = Vec::new();
        if let Some((vs, bounds)) = sel
            && let Some(series) = pre.series.get(&selector_key(vs))
        {
            matrix = range_matrix(series, name, bounds);
        }
        if let Some((series, start, end)) = &owned {
            for s in series {
                let w = window(&s.floats, *start, *end);
                if w.is_empty() {
                    continue;
                }
                matrix.push(RangeSeries {
                    metric: &s.metric,
                    floats: &s.floats[w],
                    histograms: &[],
                    range_start: *start,
                    range_end: *end,
                    drop_name: s.drop_name,
                    resets: None,
                });
            }
        }
        let held: usize = matrix.iter().map(|m| m.floats.len()).sum();
        budget.add(held)?;
        let mut matrix = Some(matrix);
        let mut args = Vec::with_capacity(vals.len());
        for v in vals {
            args.push(match v {
                None => Arg::Matrix(matrix.take().unwrap_or_default()),
                Some(StepValue::Scalar(f)) => Arg::Scalar(f),
                Some(StepValue::String(s)) => Arg::String(s),
                Some(StepValue::Vector(v)) => Arg::Vector(v),
                Some(StepValue::Matrix(_)) => {
                    return Err(QueryError::Execution(format!(
                        "unexpected range vector argument to {name}"
                    )));
                }
            });
        }
        let mut ctx = Ctx {
            t,
            annotations: ann,
            arg_exprs: &c.args,
        };
        let out = functions::call(c.func, args, &mut ctx);
        budget.release(held);
        dedup_annotations(ann);
        match out? {
            Output::Scalar(f) => Ok(StepValue::Scalar(f)),
            Output::Vector(mut v) => {
                for s in &mut v {
                    s.t = t;
                }
                Ok(StepValue::Vector(v))
            }
        }
    }

    /// `timestamp(v)`: the samples' own timestamps for a plain selector argument,
    /// otherwise the evaluation time.
    fn eval_timestamp(&mut self, c: &Call, t: i64) -> Result<StepValue> {
        let arg = c
            .args
            .first()
            .ok_or_else(|| QueryError::Execution("timestamp() needs an argument".into()))?;
        let v = match arg.unwrap_parens() {
            Expr::VectorSelector(vs) => self.select_vector(vs, t, true)?,
            other => self.eval_vector(other, t)?,
        };
        let out = v
            .into_iter()
            .map(|s| Sample {
                value: SampleValue::Float(s.t as f64 / 1000.0),
                metric: s.metric,
                t,
                drop_name: true,
            })
            .collect();
        Ok(StepValue::Vector(out))
    }
}

/// The instant vector `series` yield for selector `vs` at `t` (appended to `out`);
/// with `keep_ts` samples keep their own timestamps, otherwise they get `t`.
pub fn instant_vector(
    series: &[LoadedSeries],
    vs: &VectorSelector,
    qt: &QueryTimes,
    t: i64,
    keep_ts: bool,
    out: &mut Vec<Sample>,
) -> Result<()> {
    let base = qt.at(&vs.at).unwrap_or(t);
    let ref_t = base.saturating_sub(qt.offset(&vs.offset)?);
    let lookback = qt.lookback;
    for s in series {
        let found = if vs.smoothed {
            smoothed_sample(&s.floats, ref_t, lookback).map(|v| (t, v))
        } else {
            s.instant(ref_t, lookback)
        };
        if let Some((st, v)) = found {
            out.push(Sample {
                metric: s.labels.clone(),
                t: if keep_ts { st } else { t },
                value: SampleValue::Float(v),
                drop_name: false,
            });
        }
    }
    Ok(())
}

/// A `smoothed` instant selector: the value at the reference time, linearly
/// interpolated between the neighbouring samples within the lookback delta.
fn smoothed_sample(floats: &[(i64, f64)], ref_t: i64, lb: i64) -> Option<f64> {
    let w = window(floats, ref_t.saturating_sub(lb), ref_t.saturating_add(lb));
    let pts = &floats[w];
    let i = pts.partition_point(|p| p.0 < ref_t);
    match (i.checked_sub(1).and_then(|j| pts.get(j)), pts.get(i)) {
        (_, Some(n)) if n.0 == ref_t => Some(n.1),
        (Some(p), Some(n)) => Some(p.1 + (n.1 - p.1) * (ref_t - p.0) as f64 / (n.0 - p.0) as f64),
        (Some(p), None) => Some(p.1),
        _ => None,
    }
}

/// The left-open window `(start, end]` of a range selector at `t`, and the wider
/// `(lo, hi]` whose samples are passed for `anchored`/`smoothed` selectors.
pub fn window_bounds(qt: &QueryTimes, vs: &VectorSelector, range: i64, t: i64) -> [i64; 4] {
    let base = qt.at(&vs.at).unwrap_or(t);
    // An offset that does not resolve already failed when the selector was loaded.
    let end = base.saturating_sub(qt.offset(&vs.offset).unwrap_or(0));
    let start = end.saturating_sub(range);
    let lb = qt.lookback;
    let lo = if vs.anchored || vs.smoothed {
        start.saturating_sub(lb)
    } else {
        start
    };
    let hi = if vs.smoothed {
        end.saturating_add(lb)
    } else {
        end
    };
    [start, end, lo, hi]
}

/// The range-vector argument of function `name` over `series` for the window
/// `[start, end, lo, hi]` of [`window_bounds`]: the series with samples in it.
pub fn range_matrix<'a>(
    series: &'a [LoadedSeries],
    name: &str,
    [start, end, lo, hi]: [i64; 4],
) -> Vec<RangeSeries<'a>> {
    let counts_resets = matches!(name, "rate" | "increase");
    let mut matrix = Vec::new();
    for s in series {
        let w = s.window(lo, hi);
        if w.is_empty() {
            continue;
        }
        let resets = counts_resets.then(|| s.resets_in(w.clone()));
        matrix.push(RangeSeries {
            metric: &s.labels,
            floats: &s.floats[w],
            histograms: &[],
            range_start: start,
            range_end: end,
            drop_name: false,
            resets,
        });
    }
    matrix
}

/// Removes repeated annotations (functions may add the same one at every step).
pub fn dedup_annotations(a: &mut Annotations) {
    fn dedup(v: &mut Vec<String>) {
        let mut seen = std::collections::HashSet::new();
        v.retain(|s| seen.insert(s.clone()));
    }
    dedup(&mut a.warnings);
    dedup(&mut a.infos);
}
