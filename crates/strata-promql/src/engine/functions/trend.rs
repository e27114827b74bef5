//! Functions about how a series moves inside its window: `changes`, `resets`, `deriv`,
//! `predict_linear`, `double_exponential_smoothing`.

use super::native::histograms_equal;
use super::over_time::ignored_histograms;
use super::{Args, Ctx, Output, RangeSeries, float_sample, kahan_inc, unsupported_histograms};
use crate::error::{QueryError, Result};
use crate::value::FloatHistogram;

pub(super) fn call(name: &str, a: &mut Args<'_>, ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    let (m, params) = match name {
        "changes" | "resets" | "deriv" => (a.matrix(0)?, Vec::new()),
        "predict_linear" => {
            let m = a.matrix(0)?;
            (m, vec![a.scalar(1)?])
        }
        "double_exponential_smoothing" => {
            let m = a.matrix(0)?;
            let (sf, tf) = (a.scalar(1)?, a.scalar(2)?);
            if sf <= 0.0 || sf >= 1.0 {
                return Err(QueryError::Execution(format!(
                    "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
                )));
            }
            if tf <= 0.0 || tf >= 1.0 {
                return Err(QueryError::Execution(format!(
                    "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
                )));
            }
            (m, vec![sf, tf])
        }
        _ => return Ok(None),
    };
    let anchored = ctx
        .matrix_selector(0)
        .is_some_and(|ms| ms.selector.anchored);
    let mut out = Vec::with_capacity(m.len());
    for s in &m {
        if s.floats.is_empty() && s.histograms.is_empty() {
            continue;
        }
        let v = match name {
            "changes" | "resets" => count_transitions(name, s, anchored)?,
            "deriv" => float_trend(s, ctx, |f| linear_regression(f, f[0].0).0),
            "predict_linear" => {
                let (duration, t) = (params[0], ctx.t);
                float_trend(s, ctx, |f| {
                    let (slope, intercept) = linear_regression(f, t);
                    slope * duration + intercept
                })
            }
            _ => float_trend(s, ctx, |f| smooth(f, params[0], params[1])),
        };
        if let Some(v) = v {
            out.push(float_sample(s.metric.clone(), ctx.t, v, true));
        }
    }
    Ok(Some(Output::Vector(out)))
}

/// Runs `f` on the float samples when there are at least two; histograms are ignored
/// with an info.
fn float_trend(
    s: &RangeSeries<'_>,
    ctx: &mut Ctx<'_>,
    f: impl FnOnce(&[(i64, f64)]) -> f64,
) -> Option<f64> {
    if s.floats.len() < 2 {
        if s.floats.len() == 1 {
            ignored_histograms(s, ctx);
        }
        return None;
    }
    let v = f(s.floats);
    ignored_histograms(s, ctx);
    Some(v)
}

/// Least-squares fit with x in seconds relative to `intercept_t`; returns
/// (slope, value at `intercept_t`).
pub(crate) fn linear_regression(samples: &[(i64, f64)], intercept_t: i64) -> (f64, f64) {
    let Some(&(_, init_y)) = samples.first() else {
        return (f64::NAN, f64::NAN);
    };
    let mut const_y = true;
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    for (i, &(t, y)) in samples.iter().enumerate() {
        if const_y && i > 0 && y != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (t as f64 - intercept_t as f64) / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(y, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * y, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// Double exponential smoothing (Holt's linear method) with smoothing factor `sf` and
/// trend factor `tf`.
fn smooth(f: &[(i64, f64)], sf: f64, tf: f64) -> f64 {
    let (Some(a), Some(b0)) = (f.first(), f.get(1)) else {
        return f64::NAN;
    };
    let (mut s0, mut s1, mut b) = (0.0, a.1, b0.1 - a.1);
    for (i, p) in f.iter().enumerate().skip(1) {
        let x = sf * p.1;
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    s1
}

/// One sample of the merged float/histogram sequence.
#[derive(Clone, Copy)]
enum Point<'a> {
    F(f64),
    H(&'a FloatHistogram),
}

/// `changes`/`resets` over floats and histograms in time order. With `anchored`, the
/// count starts at the last sample at or before the window start.
fn count_transitions(name: &str, s: &RangeSeries<'_>, anchored: bool) -> Result<Option<f64>> {
    let (fl, hs) = (s.floats, s.histograms);
    let (mut i, mut j) = (0usize, 0usize);
    if anchored {
        let lf = fl.partition_point(|p| p.0 <= s.range_start);
        let lh = hs.partition_point(|p| p.0 <= s.range_start);
        if lf >= fl.len() && lh >= hs.len() {
            return Ok(None);
        }
        match (lf.checked_sub(1), lh.checked_sub(1)) {
            (None, None) => {}
            (Some(f), None) => (i, j) = (f, lh),
            (Some(f), Some(h)) if fl[f].0 >= hs[h].0 => (i, j) = (f, lh),
            (f, Some(h)) => (i, j) = (f.map_or(0, |f| f + 1), h),
        }
    }
    let mut prev: Option<Point<'_>> = None;
    let mut count = 0u64;
    while i < fl.len() || j < hs.len() {
        let cur = match (fl.get(i), hs.get(j)) {
            (Some(f), Some(h)) if f.0 < h.0 => {
                i += 1;
                Point::F(f.1)
            }
            (Some(f), Some(h)) if f.0 > h.0 => {
                j += 1;
                Point::H(&h.1)
            }
            // Same timestamp for a float and a histogram cannot come from storage;
            // take both in turn.
            (Some(f), Some(_)) => {
                i += 1;
                Point::F(f.1)
            }
            (Some(f), None) => {
                i += 1;
                Point::F(f.1)
            }
            (None, Some(h)) => {
                j += 1;
                Point::H(&h.1)
            }
            (None, None) => break,
        };
        if let Some(p) = prev {
            let hit = match (p, cur) {
                (Point::F(a), Point::F(b)) => {
                    if name == "changes" {
                        a != b && !(a.is_nan() && b.is_nan())
                    } else {
                        b < a
                    }
                }
                (Point::H(a), Point::H(b)) => {
                    if name == "changes" {
                        !histograms_equal(a, b)
                    } else {
                        return Err(unsupported_histograms(name));
                    }
                }
                _ => true,
            };
            if hit {
                count += 1;
            }
        }
        prev = Some(cur);
    }
    Ok(Some(count as f64))
}

#[cfg(test)]
#[path = "trend_tests.rs"]
mod tests;
