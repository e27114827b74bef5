//! The `*_over_time` aggregations over each series' window: `avg`, `sum`, `count`,
//! `min`, `max`, `quantile`, `stddev`, `stdvar`, `mad`, `last`, `first`, `present`,
//! `ts_of_{first,last,min,max}`.
//!
//! `last_over_time` and `first_over_time` keep the metric name (they act like an
//! offset); every other function marks it for removal.

use strata_model::gofmt::go_format_g as fmt_g;

use super::{
    Args, Ctx, Output, RangeSeries, float_sample, kahan_inc, metric_name, quantile,
    unsupported_histograms,
};
use crate::error::Result;
use crate::value::{Sample, SampleValue};

pub(super) fn call(name: &str, a: &mut Args<'_>, ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    let q = match name {
        "quantile_over_time" => Some(a.scalar(0)?),
        "avg_over_time"
        | "sum_over_time"
        | "count_over_time"
        | "min_over_time"
        | "max_over_time"
        | "stddev_over_time"
        | "stdvar_over_time"
        | "mad_over_time"
        | "last_over_time"
        | "first_over_time"
        | "present_over_time"
        | "ts_of_first_over_time"
        | "ts_of_last_over_time"
        | "ts_of_min_over_time"
        | "ts_of_max_over_time" => None,
        _ => return super::trend::call(name, a, ctx),
    };
    let m = a.matrix(if q.is_some() { 1 } else { 0 })?;
    // Prometheus warns only when some series has float samples.
    if let Some(q) = q
        && !(0.0..=1.0).contains(&q)
        && m.iter().any(|s| !s.floats.is_empty())
    {
        ctx.warn(format!(
            "quantile value should be between 0 and 1, got {}",
            fmt_g(q)
        ));
    }
    let mut out = Vec::with_capacity(m.len());
    for s in &m {
        if s.floats.is_empty() && s.histograms.is_empty() {
            continue;
        }
        if let Some(sample) = one_series(name, q, s, ctx)? {
            out.push(sample);
        }
    }
    Ok(Some(Output::Vector(out)))
}

/// The output sample for one series (name marked for removal).
fn out(s: &RangeSeries<'_>, ctx: &Ctx<'_>, v: f64) -> Sample {
    float_sample(s.metric.clone(), ctx.t, v, true)
}

/// Adds the info for functions that ignore histograms in a mixed window.
pub(crate) fn ignored_histograms(s: &RangeSeries<'_>, ctx: &mut Ctx<'_>) {
    if !s.histograms.is_empty() {
        ctx.info(format!(
            "ignored histograms in a range containing both floats and histograms for metric name {:?}",
            metric_name(s.metric)
        ));
    }
}

fn one_series(
    name: &str,
    q: Option<f64>,
    s: &RangeSeries<'_>,
    ctx: &mut Ctx<'_>,
) -> Result<Option<Sample>> {
    let floats = s.floats;
    let v = match name {
        "count_over_time" => (floats.len() + s.histograms.len()) as f64,
        "present_over_time" => 1.0,
        "last_over_time" | "first_over_time" => return Ok(Some(first_or_last(name, s, ctx))),
        "ts_of_first_over_time" => {
            let tf = floats.first().map_or(i64::MAX, |p| p.0);
            let th = s.histograms.first().map_or(i64::MAX, |p| p.0);
            tf.min(th) as f64 / 1000.0
        }
        "ts_of_last_over_time" => {
            let tf = floats.last().map_or(0, |p| p.0);
            let th = s.histograms.last().map_or(0, |p| p.0);
            tf.max(th) as f64 / 1000.0
        }
        "sum_over_time" | "avg_over_time" => {
            if !floats.is_empty() && !s.histograms.is_empty() {
                ctx.warn(format!(
                    "encountered a mix of histograms and floats for metric name {:?}",
                    metric_name(s.metric)
                ));
                return Ok(None);
            }
            if floats.is_empty() {
                return Err(unsupported_histograms(name));
            }
            if name == "sum_over_time" {
                sum(floats)
            } else {
                avg(floats)
            }
        }
        _ => {
            // Float-only functions: histograms are ignored, with an info when mixed.
            if floats.is_empty() {
                return Ok(None);
            }
            ignored_histograms(s, ctx);
            match name {
                "min_over_time" => compare(floats, |cur, best| cur < best, false),
                "max_over_time" => compare(floats, |cur, best| cur > best, false),
                "ts_of_min_over_time" => compare(floats, |cur, best| cur <= best, true),
                "ts_of_max_over_time" => compare(floats, |cur, best| cur >= best, true),
                "stdvar_over_time" => variance(floats),
                "stddev_over_time" => variance(floats).sqrt(),
                "mad_over_time" => mad(floats),
                "quantile_over_time" => {
                    let mut vals: Vec<f64> = floats.iter().map(|p| p.1).collect();
                    quantile(q.unwrap_or(f64::NAN), &mut vals)
                }
                _ => return Ok(None),
            }
        }
    };
    Ok(Some(out(s, ctx, v)))
}

/// `first_over_time`/`last_over_time`: the earliest/latest sample, float or histogram;
/// the name is kept unless the input already dropped it.
fn first_or_last(name: &str, s: &RangeSeries<'_>, ctx: &Ctx<'_>) -> Sample {
    let last = name == "last_over_time";
    let f = if last {
        s.floats.last()
    } else {
        s.floats.first()
    };
    let h = if last {
        s.histograms.last()
    } else {
        s.histograms.first()
    };
    let value = match (f, h) {
        (Some(f), Some(h)) => {
            let float_wins = if last { h.0 < f.0 } else { f.0 < h.0 };
            if float_wins {
                SampleValue::Float(f.1)
            } else {
                SampleValue::Histogram(Box::new(h.1.clone()))
            }
        }
        (Some(f), None) => SampleValue::Float(f.1),
        (None, Some(h)) => SampleValue::Histogram(Box::new(h.1.clone())),
        (None, None) => SampleValue::Float(0.0),
    };
    Sample {
        metric: s.metric.clone(),
        t: ctx.t,
        value,
        drop_name: s.drop_name,
    }
}

/// Kahan-compensated sum.
pub(super) fn sum(floats: &[(i64, f64)]) -> f64 {
    let (mut sum, mut c) = (0.0, 0.0);
    for p in floats {
        (sum, c) = kahan_inc(p.1, sum, c);
    }
    if sum.is_infinite() { sum } else { sum + c }
}

/// Mean: a compensated sum divided by the count, switching to an incremental mean if
/// the sum would overflow.
pub(super) fn avg(floats: &[(i64, f64)]) -> f64 {
    let Some(first) = floats.first() else {
        return f64::NAN;
    };
    let (mut sum, mut c, mut count) = (first.1, 0.0, 1.0);
    let (mut mean, mut incremental) = (0.0, false);
    for (i, p) in floats.iter().enumerate().skip(1) {
        count = (i + 1) as f64;
        if !incremental {
            let (ns, nc) = kahan_inc(p.1, sum, c);
            if !ns.is_infinite() {
                (sum, c) = (ns, nc);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(p.1 / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// Min/max (or their timestamps) with Prometheus' NaN rule: a NaN best is replaced by
/// any later value.
pub(super) fn compare(floats: &[(i64, f64)], better: fn(f64, f64) -> bool, ts: bool) -> f64 {
    let Some(&(mut best_t, mut best)) = floats.first() else {
        return f64::NAN;
    };
    for &(t, v) in floats {
        if better(v, best) || best.is_nan() {
            best = v;
            best_t = t;
        }
    }
    if ts { best_t as f64 / 1000.0 } else { best }
}

/// Population variance (Welford, compensated).
pub(super) fn variance(floats: &[(i64, f64)]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(_, v) in floats {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

/// Median absolute deviation.
fn mad(floats: &[(i64, f64)]) -> f64 {
    if floats.iter().any(|p| p.1.is_nan()) {
        return f64::NAN;
    }
    let mut vals: Vec<f64> = floats.iter().map(|p| p.1).collect();
    let median = quantile(0.5, &mut vals);
    for v in &mut vals {
        *v = (*v - median).abs();
    }
    quantile(0.5, &mut vals)
}

#[cfg(test)]
#[path = "over_time_tests.rs"]
mod tests;
