//! One step of a selector leaf over one chunk of series (see [`super::leaves`]): what
//! an instant selector or a per-series range function yields for the chunk's series,
//! kept compact (series index and value) instead of as samples. Range functions with a
//! [`FloatKernel`] are computed series by series without building a range vector.

use super::eval::{instant_vector, range_matrix, window_bounds};
use super::functions::{self, Arg, Ctx, FloatKernel, KernelVisitor, Output, RangeSeries};
use super::leaves::Leaf;
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
                call,
                selector,
                range,
            } if kernel.is_some() => {
                let step = KernelStep {
                    infos: &infos,
                    selector,
                    range,
                    series,
                    qt,
                    t,
                };
                functions::with_kernel(call.func.name, step)
                    .unwrap_or_else(|| range_step(call, selector, range, series, qt, t))
            }
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
                match a.unwrap_parens() {
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
struct KernelStep<'a> {
    infos: &'a [Option<String>],
    selector: &'a VectorSelector,
    range: &'a crate::parser::ast::Duration,
    series: &'a [LoadedSeries],
    qt: &'a QueryTimes,
    t: i64,
}

impl KernelVisitor for KernelStep<'_> {
    type Out = ChunkStep;

    fn visit<F: Fn(&RangeSeries<'_>) -> Option<f64>>(self, k: FloatKernel, value: F) -> ChunkStep {
        let KernelStep {
            infos,
            selector,
            range,
            series,
            qt,
            t,
        } = self;
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
                if let Some(v) = value(&rs) {
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
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use strata_model::Labels;

    /// Counters with resets and a gauge with NaN and ±Inf, some windows empty.
    fn series() -> Vec<LoadedSeries> {
        let mut out = Vec::new();
        for (k, name) in ["a_total", "b", "c"].iter().enumerate() {
            let labels = Labels::new(&[("__name__", *name)]).unwrap();
            let mut v = 0.0;
            let floats: Vec<(i64, f64)> = (0..200)
                .filter(|i| (i / 17) % 4 != 3)
                .map(|i| {
                    v += (i % 7) as f64 * 0.5;
                    if i % 50 == 0 {
                        v = 1.0;
                    }
                    let x = match (k, i % 61) {
                        (2, 5) => f64::NAN,
                        (2, 9) => f64::INFINITY,
                        (2, 13) => f64::NEG_INFINITY,
                        _ => v,
                    };
                    (i * 15_000 + k as i64 * 1_000, x)
                })
                .collect();
            out.push(LoadedSeries::new(labels, floats));
        }
        out
    }

    fn bits(step: ChunkStep) -> (Vec<(u32, bool, u64)>, usize, Annotations) {
        let Ok(Piece::Compact(v)) = step.result else {
            panic!("not a compact piece");
        };
        let v = v.into_iter().map(|(i, d, f)| (i, d, f.to_bits())).collect();
        (v, step.held, step.annotations)
    }

    #[test]
    fn kernels_agree_with_the_functions() {
        let names = [
            "rate",
            "increase",
            "delta",
            "sum_over_time",
            "avg_over_time",
            "count_over_time",
            "min_over_time",
            "max_over_time",
            "stdvar_over_time",
            "stddev_over_time",
            "present_over_time",
            "last_over_time",
        ];
        let qt = QueryTimes {
            start: 0,
            end: 3_000_000,
            step: 60_000,
            lookback: 300_000,
        };
        for name in names {
            for range in ["1m", "5m", "20m"] {
                let expr = crate::parser::parse(&format!("{name}(x[{range}])")).unwrap();
                let Expr::Call(call) = &expr else {
                    panic!("not a call");
                };
                let Expr::MatrixSelector(ms) = &call.args[0] else {
                    panic!("not a matrix selector");
                };
                assert!(functions::float_kernel(name).is_some(), "{name}");
                let infos: Vec<Option<String>> = series()
                    .iter()
                    .map(|s| functions::float_kernel(name).and_then(|k| k.info(&s.labels)))
                    .collect();
                let (a, b) = (series(), series());
                for t in (0..3_000_000).step_by(60_000) {
                    let fast = functions::with_kernel(
                        name,
                        KernelStep {
                            infos: &infos,
                            selector: &ms.selector,
                            range: &ms.range,
                            series: &a,
                            qt: &qt,
                            t,
                        },
                    )
                    .unwrap();
                    let slow = range_step(call, &ms.selector, &ms.range, &b, &qt, t);
                    assert_eq!(bits(fast), bits(slow), "{name}[{range}] at {t}");
                }
            }
        }
    }
}
