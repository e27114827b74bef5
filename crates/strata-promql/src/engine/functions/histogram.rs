//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction` over classic
//! (`le`-bucketed) and native histograms, plus `histogram_count`, `histogram_sum`,
//! `histogram_avg`, `histogram_stddev`, `histogram_stdvar` for native histograms.
//!
//! Native histograms (exponential and custom-bucket schemas) are handled by
//! [`super::native`]; `histogram_stddev`/`histogram_stdvar` use bucket midpoints.

use std::collections::HashSet;

use strata_model::Labels;
use strata_model::gofmt::go_format_g;

use super::native::{self, NativeResult};
use super::{Args, Ctx, Output, cmp_f64, float_sample, kahan_inc, metric_name};
use crate::error::{QueryError, Result};
use crate::value::{FloatHistogram, Sample, SampleValue};

/// Relative difference below which neighbouring bucket counts are treated as equal.
const SMALL_DELTA_TOLERANCE: f64 = 1e-12;

pub(super) fn call(name: &str, a: &mut Args<'_>, ctx: &mut Ctx<'_>) -> Result<Option<Output>> {
    let out = match name {
        "histogram_count" | "histogram_sum" | "histogram_avg" => {
            let v = a.vector(0)?;
            v.into_iter()
                .filter_map(|s| match &s.value {
                    SampleValue::Histogram(h) => {
                        let x = match name {
                            "histogram_count" => h.count,
                            "histogram_sum" => h.sum,
                            _ => h.sum / h.count,
                        };
                        Some(float_sample(s.metric, s.t, x, true))
                    }
                    SampleValue::Float(_) => None,
                })
                .collect()
        }
        "histogram_stddev" | "histogram_stdvar" => {
            let v = a.vector(0)?;
            v.into_iter()
                .filter_map(|s| match &s.value {
                    SampleValue::Histogram(h) => {
                        let var = native_variance(h);
                        let x = if name == "histogram_stddev" {
                            var.sqrt()
                        } else {
                            var
                        };
                        Some(float_sample(s.metric, s.t, x, true))
                    }
                    SampleValue::Float(_) => None,
                })
                .collect()
        }
        "histogram_quantile" => {
            let q = a.scalar(0)?;
            let v = a.vector(1)?;
            validate_quantile(q, ctx);
            let (groups, natives) = group_buckets(v, ctx);
            let mut out: Vec<Sample> = natives.iter().map(|n| native_quantile(q, n, ctx)).collect();
            for g in groups {
                out.push(quantile_sample(q, g.metric, g.buckets, ctx));
            }
            out
        }
        "histogram_quantiles" => {
            let v = a.vector(0)?;
            let label = a.string(1)?;
            let mut qs = Vec::new();
            for i in 2..a.len() {
                qs.push(a.scalar(i)?);
            }
            for &q in &qs {
                validate_quantile(q, ctx);
            }
            let (groups, natives) = group_buckets(v, ctx);
            let mut out = Vec::new();
            for &q in &qs {
                for n in &natives {
                    let mut s = native_quantile(q, n, ctx);
                    let mut b = s.metric.to_builder();
                    b.set(&label, &format_openmetrics_float(q));
                    s.metric = b
                        .build()
                        .map_err(|e| QueryError::Execution(e.to_string()))?;
                    out.push(s);
                }
                for g in &groups {
                    let mut s = quantile_sample(q, g.metric.clone(), g.buckets.clone(), ctx);
                    let mut b = s.metric.to_builder();
                    b.set(&label, &format_openmetrics_float(q));
                    s.metric = b
                        .build()
                        .map_err(|e| QueryError::Execution(e.to_string()))?;
                    out.push(s);
                }
            }
            check_unique(&out)?;
            out
        }
        "histogram_fraction" => {
            let lower = a.scalar(0)?;
            let upper = a.scalar(1)?;
            let v = a.vector(2)?;
            let (groups, natives) = group_buckets(v, ctx);
            let mut out = Vec::with_capacity(groups.len() + natives.len());
            for n in natives {
                let r = native::histogram_fraction(lower, upper, &n.h);
                native_infos(&r, name, &n.metric, ctx);
                out.push(float_sample(n.metric, ctx.t, r.value, true));
            }
            for g in groups {
                let f = bucket_fraction(lower, upper, g.buckets);
                out.push(float_sample(g.metric, ctx.t, f, true));
            }
            out
        }
        _ => return Ok(None),
    };
    Ok(Some(Output::Vector(out)))
}

fn validate_quantile(q: f64, ctx: &mut Ctx<'_>) {
    if q.is_nan() || !(0.0..=1.0).contains(&q) {
        ctx.warn(format!(
            "quantile value should be between 0 and 1, got {}",
            go_format_g(q)
        ));
    }
}

/// One classic histogram: the series' labels without `le`, and its (upper bound,
/// cumulative count) buckets.
struct Group {
    metric: Labels,
    buckets: Vec<(f64, f64)>,
}

/// Groups float samples into classic histograms by their labels without `le`. Native
/// histogram samples that collide with a classic one are dropped with a warning; any
/// other native sample cannot be computed yet.
fn group_buckets(v: Vec<Sample>, ctx: &mut Ctx<'_>) -> (Vec<Group>, Vec<Native>) {
    let mut groups: Vec<Group> = Vec::new();
    let mut natives = Vec::new();
    for s in v {
        let x = match s.value {
            SampleValue::Float(x) => x,
            SampleValue::Histogram(h) => {
                natives.push(Native {
                    metric: s.metric,
                    h,
                });
                continue;
            }
        };
        let le = s.metric.get("le").unwrap_or("");
        let Some(upper) = parse_go_float(le) else {
            let name = metric_name(&s.metric);
            let mut msg =
                format!("bucket label \"le\" is missing or has a malformed value of {le:?}");
            if !name.is_empty() {
                msg.push_str(&format!(" for metric name {name:?}"));
            }
            ctx.warn(msg);
            continue;
        };
        let key = s.metric.without(&["le"]);
        match groups.iter_mut().find(|g| g.metric == key) {
            Some(g) => g.buckets.push((upper, x)),
            None => groups.push(Group {
                metric: key,
                buckets: vec![(upper, x)],
            }),
        }
    }
    let mut kept = Vec::with_capacity(natives.len());
    for n in natives {
        if let Some(i) = groups.iter().position(|g| g.metric == n.metric) {
            let name = metric_name(&n.metric);
            let mut msg = "vector contains a mix of classic and native histograms".to_string();
            if !name.is_empty() {
                msg.push_str(&format!(" for metric name {name:?}"));
            }
            ctx.warn(msg);
            groups.remove(i);
            continue;
        }
        kept.push(n);
    }
    (groups, kept)
}

/// A native histogram sample of the input.
struct Native {
    metric: Labels,
    h: Box<FloatHistogram>,
}

/// Adds the NaN-observation infos of a native computation.
fn native_infos(r: &NativeResult, func: &str, metric: &Labels, ctx: &mut Ctx<'_>) {
    let what = if r.nan_result {
        "result is NaN"
    } else if r.nan_skew && func == "histogram_fraction" {
        "which are excluded from all fractions"
    } else if r.nan_skew {
        "result is skewed higher"
    } else {
        return;
    };
    let mut msg = format!("input to {func} has NaN observations, {what}");
    let name = metric_name(metric);
    if !name.is_empty() {
        msg.push_str(&format!(" for metric name {name:?}"));
    }
    ctx.info(msg);
}

fn native_quantile(q: f64, n: &Native, ctx: &mut Ctx<'_>) -> Sample {
    let r = native::histogram_quantile(q, &n.h);
    native_infos(&r, "histogram_quantile", &n.metric, ctx);
    float_sample(n.metric.clone(), ctx.t, r.value, true)
}

/// Population variance of a native histogram, each bucket's observations placed at
/// its (arithmetic for custom buckets, geometric otherwise) midpoint.
fn native_variance(h: &FloatHistogram) -> f64 {
    let custom = h.schema == -53;
    let mean = h.sum / h.count;
    let (mut var, mut c) = (0.0, 0.0);
    for b in native::all_buckets(h) {
        if b.count == 0.0 {
            continue;
        }
        let val = if custom {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let g = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 { -g } else { g }
        };
        let d = val - mean;
        (var, c) = kahan_inc(b.count * d * d, var, c);
    }
    (var + c) / h.count
}

/// Go's `strconv.ParseFloat` for the decimal forms, `Inf`, `Infinity` and `NaN`
/// (hexadecimal floats are not accepted).
fn parse_go_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

fn quantile_sample(q: f64, metric: Labels, buckets: Vec<(f64, f64)>, ctx: &mut Ctx<'_>) -> Sample {
    let r = bucket_quantile(q, buckets);
    if let Some(_fix) = r.forced {
        let name = metric_name(&metric);
        let mut msg = "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)".to_string();
        if !name.is_empty() {
            msg.push_str(&format!(" for metric name {name:?}"));
        }
        ctx.info(msg);
    }
    float_sample(metric, ctx.t, r.value, true)
}

/// The result of [`bucket_quantile`].
#[derive(Debug)]
pub(crate) struct BucketQuantile {
    pub value: f64,
    /// Set when monotonicity had to be forced: (lowest bucket, highest bucket, largest
    /// decrease) among the fixed buckets.
    pub forced: Option<(f64, f64, f64)>,
}

/// Sorts, merges buckets with equal bounds, and requires a `+Inf` bucket.
fn prepare(mut buckets: Vec<(f64, f64)>) -> Option<Vec<(f64, f64)>> {
    buckets.sort_by(|a, b| cmp_f64(a.0, b.0));
    if buckets.last().is_none_or(|b| b.0 != f64::INFINITY) {
        return None;
    }
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(buckets.len());
    for b in buckets {
        match out.last_mut() {
            Some(last) if last.0 == b.0 => last.1 += b.1,
            _ => out.push(b),
        }
    }
    Some(out)
}

/// The quantile `q` of a classic histogram, interpolating linearly inside the bucket
/// (from 0 for the first bucket when its bound is positive).
pub(crate) fn bucket_quantile(q: f64, buckets: Vec<(f64, f64)>) -> BucketQuantile {
    let value = |v| BucketQuantile {
        value: v,
        forced: None,
    };
    if q.is_nan() {
        return value(f64::NAN);
    }
    if q < 0.0 {
        return value(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return value(f64::INFINITY);
    }
    let Some(mut b) = prepare(buckets) else {
        return value(f64::NAN);
    };
    let forced = ensure_monotonic(&mut b);
    let result = |v| BucketQuantile { value: v, forced };
    if b.len() < 2 {
        return result(f64::NAN);
    }
    let n = b.len();
    let observations = b[n - 1].1;
    if observations == 0.0 {
        return result(f64::NAN);
    }
    let mut rank = q * observations;
    let idx = b[..n - 1].partition_point(|x| x.1 < rank);
    if idx == n - 1 {
        return result(b[n - 2].0);
    }
    if idx == 0 && b[0].0 <= 0.0 {
        return result(b[0].0);
    }
    let (mut start, end, mut count) = (0.0, b[idx].0, b[idx].1);
    if idx > 0 {
        start = b[idx - 1].0;
        count -= b[idx - 1].1;
        rank -= b[idx - 1].1;
    }
    result(start + (end - start) * (rank / count))
}

/// Go's `almost.Equal` with relative tolerance `eps`.
fn almost_equal(a: f64, b: f64, eps: f64) -> bool {
    if a.is_nan() && b.is_nan() || a == b {
        return true;
    }
    let sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || sum < f64::MIN_POSITIVE {
        return diff < eps * f64::MIN_POSITIVE;
    }
    diff / sum.min(f64::MAX) < eps
}

/// Ignores numerically insignificant differences between neighbouring buckets and
/// removes decreases; reports the forced fixes.
fn ensure_monotonic(b: &mut [(f64, f64)]) -> Option<(f64, f64, f64)> {
    let &(_, mut prev) = b.first()?;
    let (mut forced, mut lo, mut hi, mut max_diff) =
        (false, f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for x in b.iter_mut().skip(1) {
        let cur = x.1;
        if cur == prev {
            continue;
        }
        if almost_equal(prev, cur, SMALL_DELTA_TOLERANCE) {
            x.1 = prev;
            continue;
        }
        if cur < prev {
            x.1 = prev;
            forced = true;
            lo = lo.min(x.0);
            hi = hi.max(x.0);
            max_diff = max_diff.max(prev - cur);
            continue;
        }
        prev = cur;
    }
    forced.then_some((lo, hi, max_diff))
}

/// The fraction of observations between `lower` and `upper` in a classic histogram,
/// interpolating linearly inside buckets.
pub(crate) fn bucket_fraction(lower: f64, upper: f64, buckets: Vec<(f64, f64)>) -> f64 {
    let Some(b) = prepare(buckets) else {
        return f64::NAN;
    };
    let count = b.last().map_or(0.0, |x| x.1);
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if b[0].0 <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, &(upper_bound, bcount)) in b.iter().enumerate() {
        if i > 0 {
            lower_bound = b[i - 1].0;
        }
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                return bcount;
            }
            rank + (bcount - rank) * (v - lower_bound) / (upper_bound - lower_bound)
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = bcount;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

/// OpenMetrics float formatting: like `%g`, with `.0` added to integral values.
fn format_openmetrics_float(f: f64) -> String {
    if f == 0.0 {
        return "0.0".into();
    }
    let s = go_format_g(f);
    if s.contains(['e', '.']) || s.ends_with("Inf") || s == "NaN" {
        s
    } else {
        s + ".0"
    }
}

fn check_unique(v: &[Sample]) -> Result<()> {
    let mut seen = HashSet::with_capacity(v.len());
    for s in v {
        if !seen.insert(&s.metric) {
            return Err(QueryError::Execution(
                "vector cannot contain metrics with the same labelset".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "histogram_tests.rs"]
mod tests;
