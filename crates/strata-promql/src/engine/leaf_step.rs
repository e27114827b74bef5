//! One step of a selector leaf over one chunk of series (see [`super::leaves`]): what
//! an instant selector or a per-series range function yields for the chunk's series,
//! kept compact (series index and value) instead of as samples. Range functions with a
//! [`FloatKernel`] are computed series by series without building a range vector.

use super::eval::{instant_vector, range_matrix, window_bounds};
use super::functions::{self, Arg, Ctx, FloatKernel, Output, RangeSeries};
use super::leaves::{Leaf, unwrap_parens};
use super::selectors::{LoadedSeries, QueryTimes};
use crate::error::{QueryError, Result};
use crate::parser::ast::{Call, Expr, ValueType, VectorSelector};
use crate::value::{Annotations, Sample, SampleValue};

/// One chunk's output at one step: compact while every output sample is a float of
/// one of the chunk's series, with the series' own labels.
pub enum Piece {
    /// (index of the series in the chunk, drop the name, value).
    Compact(Vec<(u32, bool, f64)>),
    Full(Vec<Sample>),
}

pub struct ChunkStep {
    pub result: Result<Piece>,
    pub held: usize,
    pub annotations: Annotations,
}

impl ChunkStep {
    fn empty() -> Self {
        ChunkStep {
            result: Ok(Piece::Compact(Vec::new())),
            held: 0,
            annotations: Annotations::default(),
        }
    }
}

/// `samples` as a compact piece when they are floats of `series`, in order, with the
/// series' own labels (what per-series range functions and selectors produce).
fn compact(series: &[LoadedSeries], samples: Vec<Sample>) -> Piece {
    let mut out = Vec::with_capacity(samples.len());
    let mut next = 0usize;
    for s in &samples {
        let SampleValue::Float(v) = s.value else {
            return Piece::Full(samples);
        };
        let id = s.metric.ptr_id();
        let Some(off) = series[next.min(series.len())..]
            .iter()
            .position(|l| l.labels.ptr_id() == id)
        else {
            return Piece::Full(samples);
        };
        let i = next + off;
        let Ok(i32) = u32::try_from(i) else {
            return Piece::Full(samples);
        };
        out.push((i32, s.drop_name, v));
        next = i + 1;
    }
    Piece::Compact(out)
}

/// The leaf's output over one chunk of series at every step, passed to `sink` in
/// step order. After a step fails, the later steps are not evaluated (the query stops
/// at the first failing step).
pub fn chunk_steps(
    leaf: &Leaf<'_>,
    series: &[LoadedSeries],
    qt: &QueryTimes,
    ts: &[i64],
    mut sink: impl FnMut(ChunkStep),
) {
    let kernel = match leaf {
        Leaf::Range { call, selector, .. }
            if call.args.len() == 1 && !selector.anchored && !selector.smoothed =>
        {
            functions::float_kernel(call.func.name)
        }
        _ => None,
    };
    let infos: Vec<Option<String>> = match &kernel {
        Some(k) if k.counter => series.iter().map(|s| k.info(&s.labels)).collect(),
        _ => Vec::new(),
    };
    let mut failed = false;
    for &t in ts {
        if failed {
            sink(ChunkStep::empty());
            continue;
        }
        let o = match leaf {
            Leaf::Instant(vs) => {
                let result = if vs.smoothed {
                    let mut v = Vec::new();
                    instant_vector(series, vs, qt, t, false, &mut v).map(|()| compact(series, v))
                } else {
                    instant_piece(series, vs, qt, t)
                };
                ChunkStep {
                    result,
                    held: 0,
                    annotations: Annotations::default(),
                }
            }
            Leaf::Range {
                selector, range, ..
            } if let Some(k) = &kernel => kernel_step(k, &infos, selector, range, series, qt, t),
            Leaf::Range {
                call,
                selector,
                range,
            } => range_step(call, selector, range, series, qt, t),
        };
        failed = o.result.is_err();
        sink(o);
    }
}

/// What a (not `smoothed`) instant selector yields over a chunk of series at `t`, as
/// [`instant_vector`] without building the samples.
fn instant_piece(
    series: &[LoadedSeries],
    vs: &VectorSelector,
    qt: &QueryTimes,
    t: i64,
) -> Result<Piece> {
    let base = qt.at(&vs.at).unwrap_or(t);
    let ref_t = base.saturating_sub(qt.offset(&vs.offset)?);
    let mut out = Vec::new();
    for (i, s) in (0u32..).zip(series) {
        if let Some((_, v)) = s.instant(ref_t, qt.lookback) {
            out.push((i, false, v));
        }
    }
    Ok(Piece::Compact(out))
}

/// One step of a range leaf over a chunk of series, as the evaluator's `eval_call`.
fn range_step(
    call: &Call,
    selector: &VectorSelector,
    range: &crate::parser::ast::Duration,
    series: &[LoadedSeries],
    qt: &QueryTimes,
    t: i64,
) -> ChunkStep {
    let mut annotations = Annotations::default();
    let mut held = 0;
    let result = (|| {
        let range = qt.resolve(range, false)?;
        let bounds = window_bounds(qt, selector, range, t);
        let matrix = range_matrix(series, call.func.name, bounds);
        held = matrix.iter().map(|m| m.floats.len()).sum();
        let mut matrix = Some(matrix);
        let mut args = Vec::with_capacity(call.args.len());
        for a in &call.args {
            if a.value_type() == ValueType::Matrix {
                args.push(Arg::Matrix(matrix.take().unwrap_or_default()));
            } else {
                match unwrap_parens(a) {
                    Expr::Number(n) => args.push(Arg::Scalar(n.value)),
                    _ => {
                        return Err(QueryError::Execution(format!(
                            "unexpected argument to {}",
                            call.func.name
                        )));
                    }
                }
            }
        }
        let mut ctx = Ctx {
            t,
            annotations: &mut annotations,
            arg_exprs: &call.args,
        };
        match functions::call(call.func, args, &mut ctx)? {
            Output::Vector(v) => Ok(compact(series, v)),
            Output::Scalar(_) => Err(QueryError::Execution(format!(
                "{}() returned a scalar",
                call.func.name
            ))),
        }
    })();
    ChunkStep {
        result,
        held,
        annotations,
    }
}

/// One step of a range leaf whose function has a [`FloatKernel`], as [`range_step`]
/// without building the range vector or the output samples. `infos[i]`: the info the
/// function attaches to an output of series `i`.
fn kernel_step(
    k: &FloatKernel,
    infos: &[Option<String>],
    selector: &VectorSelector,
    range: &crate::parser::ast::Duration,
    series: &[LoadedSeries],
    qt: &QueryTimes,
    t: i64,
) -> ChunkStep {
    let mut annotations = Annotations::default();
    let mut held = 0;
    let result = (|| {
        let range = qt.resolve(range, false)?;
        let [start, end, lo, hi] = window_bounds(qt, selector, range, t);
        let mut ctx = Ctx {
            t,
            annotations: &mut annotations,
            arg_exprs: &[],
        };
        let mut out = Vec::with_capacity(series.len());
        for (i, s) in (0u32..).zip(series) {
            let w = s.window(lo, hi);
            if w.is_empty() {
                continue;
            }
            held += w.len();
            let rs = RangeSeries {
                metric: &s.labels,
                floats: &s.floats[w.clone()],
                histograms: &[],
                range_start: start,
                range_end: end,
                drop_name: false,
                resets: k.counter.then(|| s.resets_in(w)),
            };
            if let Some(v) = (k.value)(&rs) {
                out.push((i, k.drop_name, v));
                if let Some(Some(msg)) = infos.get(i as usize) {
                    ctx.info(msg);
                }
            }
        }
        Ok(Piece::Compact(out))
    })();
    ChunkStep {
        result,
        held,
        annotations,
    }
}
