//! `histogram_quantile`, `histogram_quantiles` and `histogram_fraction` over classic
//! (`le`-bucketed) histograms, plus `histogram_count`/`histogram_sum`/`histogram_avg`
//! for native histograms.
//!
//! Quantiles, fractions and standard deviations of native histograms are not
//! implemented yet and return an execution error when such a sample must be computed.

use std::collections::HashSet;

use strata_model::Labels;
use strata_model::gofmt::go_format_g;

use super::{Args, Ctx, Output, cmp_f64, float_sample, metric_name, unsupported_histograms};
use crate::error::{QueryError, Result};
use crate::value::{Sample, SampleValue};

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
            if v.iter()
                .any(|s| matches!(s.value, SampleValue::Histogram(_)))
            {
                return Err(unsupported_histograms(name));
            }
            Vec::new()
        }
        "histogram_quantile" => {
            let q = a.scalar(0)?;
            let v = a.vector(1)?;
            validate_quantile(q, ctx);
            let groups = group_buckets(v, ctx, name)?;
            groups
                .into_iter()
                .map(|g| quantile_sample(q, g.metric, g.buckets, ctx))
                .collect()
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
            let groups = group_buckets(v, ctx, name)?;
            let mut out = Vec::new();
            for &q in &qs {
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
            let groups = group_buckets(v, ctx, name)?;
            groups
                .into_iter()
                .map(|g| {
                    float_sample(
                        g.metric,
                        ctx.t,
                        bucket_fraction(lower, upper, g.buckets),
                        true,
                    )
                })
                .collect()
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
fn group_buckets(v: Vec<Sample>, ctx: &mut Ctx<'_>, func: &str) -> Result<Vec<Group>> {
    let mut groups: Vec<Group> = Vec::new();
    let mut natives = Vec::new();
    for s in v {
        let x = match s.value {
            SampleValue::Float(x) => x,
            SampleValue::Histogram(_) => {
                natives.push(s.metric);
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
    for metric in natives {
        if let Some(i) = groups.iter().position(|g| g.metric == metric) {
            let name = metric_name(&metric);
            let mut msg = "vector contains a mix of classic and native histograms".to_string();
            if !name.is_empty() {
                msg.push_str(&format!(" for metric name {name:?}"));
            }
            ctx.warn(msg);
            groups.remove(i);
            continue;
        }
        return Err(unsupported_histograms(func));
    }
    Ok(groups)
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
