//! `rate`, `increase`, `delta` (with Prometheus' extrapolation to the window edges,
//! counter-reset handling and the clamp at the counter's zero point), their
//! `anchored`/`smoothed` variants, and `irate`/`idelta`.

use super::{Args, Ctx, Output, RangeSeries, float_sample, metric_name, unsupported_histograms};
use crate::error::Result;

pub(super) fn call(name: &str, a: &mut Args<'_>, ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    let (is_counter, is_rate, instant) = match name {
        "rate" => (true, true, false),
        "increase" => (true, false, false),
        "delta" => (false, false, false),
        "irate" => (true, true, true),
        "idelta" => (false, false, true),
        _ => return Ok(None),
    };
    let (anchored, smoothed) = ctx
        .matrix_selector(0)
        .map(|ms| (ms.selector.anchored, ms.selector.smoothed))
        .unwrap_or((false, false));
    let m = a.matrix(0)?;
    let mut out = Vec::with_capacity(m.len());
    for s in &m {
        if s.floats.is_empty() && s.histograms.is_empty() {
            continue;
        }
        let v = if instant {
            instant_value(s, is_rate, name, ctx)?
        } else if !s.floats.is_empty() && !s.histograms.is_empty() {
            ctx.warn(format!(
                "encountered a mix of histograms and floats for metric name {:?}",
                metric_name(s.metric)
            ));
            None
        } else if !s.histograms.is_empty() {
            if s.histograms.len() > 1 || anchored || smoothed {
                return Err(unsupported_histograms(name));
            }
            None
        } else if anchored || smoothed {
            extended_rate(s, smoothed, is_counter, is_rate)
        } else {
            extrapolated_rate(s, is_counter, is_rate)
        };
        let Some(v) = v else { continue };
        if name == "rate" || name == "increase" {
            possible_non_counter(s, ctx);
        }
        out.push(float_sample(s.metric.clone(), ctx.t, v, true));
    }
    Ok(Some(Output::Vector(out)))
}

/// The info Prometheus attaches to `rate`/`increase` of a metric whose name does not
/// look like a counter.
fn possible_non_counter(s: &RangeSeries<'_>, ctx: &mut Ctx<'_>) {
    if let Some(msg) = non_counter_info(s.metric) {
        ctx.info(msg);
    }
}

/// The text of [`possible_non_counter`]'s info for `metric`, if it gets one.
pub(super) fn non_counter_info(metric: &strata_model::Labels) -> Option<String> {
    let name = metric_name(metric);
    if name.is_empty()
        || ["_total", "_sum", "_count", "_bucket"]
            .iter()
            .any(|suffix| name.ends_with(suffix))
    {
        return None;
    }
    Some(format!(
        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {name:?}"
    ))
}

/// Window length in seconds.
fn range_seconds(s: &RangeSeries<'_>) -> f64 {
    (s.range_end as f64 - s.range_start as f64) / 1000.0
}

/// The classic `rate`/`increase`/`delta` over float samples.
#[inline]
pub(crate) fn extrapolated_rate(
    s: &RangeSeries<'_>,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let f = s.floats;
    let (&(first_t, first_v), &(last_t, last_v)) = (f.first()?, f.last()?);
    let n_minus_one = f.len() - 1;
    if n_minus_one == 0 {
        return None;
    }
    let mut result = last_v - first_v;
    // Known to hold no reset: the scan below would add nothing.
    if is_counter && s.resets != Some(0) {
        for w in f.windows(2) {
            if w[1].1 < w[0].1 {
                result += w[0].1;
            }
        }
    }
    let mut to_start = (first_t as f64 - s.range_start as f64) / 1000.0;
    let mut to_end = (s.range_end as f64 - last_t as f64) / 1000.0;
    let sampled = (last_t as f64 - first_t as f64) / 1000.0;
    let avg = sampled / n_minus_one as f64;
    let threshold = avg * 1.1;
    if to_start >= threshold {
        to_start = avg / 2.0;
    }
    if is_counter {
        // A counter cannot go below zero: do not extrapolate past the point where it
        // would have been zero.
        let mut to_zero = to_start;
        if result > 0.0 && first_v >= 0.0 {
            to_zero = sampled * (first_v / result);
        }
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = avg / 2.0;
    }
    let mut factor = if sampled != 0.0 {
        (sampled + to_start + to_end) / sampled
    } else {
        1.0
    };
    if is_rate {
        factor /= range_seconds(s);
    }
    Some(result * factor)
}

/// Linear interpolation at `t`; for counters a reset between the points is modelled as
/// a restart from zero.
fn interpolate(p1: (i64, f64), p2: (i64, f64), t: i64, is_counter: bool) -> f64 {
    let (mut y1, y2) = (p1.1, p2.1);
    if is_counter && y2 < y1 {
        y1 = 0.0;
    }
    let span = p2.0 as f64 - p1.0 as f64;
    if span == 0.0 {
        return y2;
    }
    y1 + (y2 - y1) * (t as f64 - p1.0 as f64) / span
}

/// `rate`/`increase`/`delta` for `anchored` and `smoothed` selectors: no extrapolation;
/// the window's edges take the last sample before the window (anchored) or values
/// interpolated at the edges (smoothed).
pub(crate) fn extended_rate(
    s: &RangeSeries<'_>,
    smoothed: bool,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    let f = s.floats;
    let (start, end) = (s.range_start, s.range_end);
    let mut last = f.len().checked_sub(1)?;
    // Index of the last sample at or before the window start (or 0).
    let after_start = f[..last].partition_point(|p| p.0 <= start);
    let mut first = after_start.saturating_sub(1);
    if smoothed {
        last = f[..last].partition_point(|p| p.0 < end);
    }
    let (first_p, last_p) = (*f.get(first)?, *f.get(last)?);
    if last_p.0 <= start {
        return None;
    }
    if smoothed && first_p.0 > end {
        return None;
    }
    let left = if smoothed && first_p.0 < start {
        interpolate(first_p, *f.get(first + 1)?, start, is_counter)
    } else {
        first_p.1
    };
    let right = if smoothed && last > 0 && last_p.0 > end {
        interpolate(*f.get(last - 1)?, last_p, end, is_counter)
    } else {
        last_p.1
    };
    let mut result = right - left;
    if is_counter {
        if first_p.0 <= start {
            first += 1;
        }
        let end_idx = if last_p.0 >= end { last } else { last + 1 };
        let inner = f.get(first..end_idx).unwrap_or(&[]);
        let mut correction = 0.0;
        let mut prev = left;
        for p in inner {
            if p.1 < prev {
                correction += prev;
            }
            prev = p.1;
        }
        if right < prev {
            correction += prev;
        }
        result += correction;
    }
    if is_rate {
        result /= range_seconds(s);
    }
    Some(result)
}

/// `irate`/`idelta`: the last two samples of the window.
fn instant_value(
    s: &RangeSeries<'_>,
    is_rate: bool,
    name: &str,
    ctx: &mut Ctx<'_>,
) -> Result<Option<f64>> {
    if s.floats.len() + s.histograms.len() < 2 {
        return Ok(None);
    }
    // The two latest samples, floats (Some) or histograms (None), by time.
    let mut pts: Vec<(i64, Option<f64>)> = s
        .floats
        .iter()
        .rev()
        .take(2)
        .map(|&(t, v)| (t, Some(v)))
        .chain(s.histograms.iter().rev().take(2).map(|(t, _)| (*t, None)))
        .collect();
    pts.sort_by_key(|p| p.0);
    let (prev, cur) = match pts.as_slice() {
        [.., a, b] => (*a, *b),
        _ => return Ok(None),
    };
    let interval = cur.0.wrapping_sub(prev.0);
    if interval == 0 {
        return Ok(None);
    }
    let mut v = match (prev.1, cur.1) {
        (Some(p), Some(c)) => {
            if is_rate && c < p {
                c
            } else {
                c - p
            }
        }
        (None, None) => return Err(unsupported_histograms(name)),
        _ => {
            ctx.warn(format!(
                "encountered a mix of histograms and floats for metric name {:?}",
                metric_name(s.metric)
            ));
            return Ok(None);
        }
    };
    if is_rate {
        v /= interval as f64 / 1000.0;
    }
    Ok(Some(v))
}

#[cfg(test)]
#[path = "rate_tests.rs"]
mod tests;
